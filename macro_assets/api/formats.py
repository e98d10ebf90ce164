"""Answers as JSON (the default), CSV, Arrow IPC or Parquet, chosen by `?format=` or the Accept header."""

from __future__ import annotations

import json

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from macro_assets.cli.main import as_csv, exact_pandas
from macro_assets.errors import InvalidInput

MEDIA_TYPES = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "arrow": "application/vnd.apache.arrow.stream",
    "parquet": "application/vnd.apache.parquet",
}
# Media types clients send for each format, the registered ones first.
ACCEPTED = {
    "application/json": "json",
    "text/csv": "csv",
    "application/vnd.apache.arrow.stream": "arrow",
    "application/vnd.apache.arrow.file": "arrow",
    "application/vnd.apache.parquet": "parquet",
    "application/x-parquet": "parquet",
    "application/parquet": "parquet",
}


def negotiate(format: str | None, accept: str | None) -> str:
    """`?format=` when given, else the first Accept media type this API writes, else JSON."""
    if format is not None:
        if format not in MEDIA_TYPES:
            raise InvalidInput(f"format: {format!r} is not one of {sorted(MEDIA_TYPES)}")
        return format
    for part in (accept or "").split(","):
        media_type = part.split(";")[0].strip().lower()
        if media_type in ACCEPTED:
            return ACCEPTED[media_type]
    return "json"


def render(table: pa.Table, format: str, meta: dict) -> bytes:
    """A page of rows; JSON wraps them with `meta` (the paging links among them), the other formats carry the
    rows alone (the links go in headers)."""
    if format == "json":
        rows = pl.from_arrow(table).write_json() if table.num_rows else "[]"
        # The rows are already JSON (polars writes dates and instants as ISO 8601): spliced in, not parsed again.
        return (json.dumps(meta)[:-1] + ', "rows": ' + rows + "}").encode()
    if format == "csv":
        return as_csv(exact_pandas(table)).to_csv(index=False).encode()
    sink = pa.BufferOutputStream()
    if format == "arrow":
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
    else:
        pq.write_table(table, sink)
    return sink.getvalue().to_pybytes()
