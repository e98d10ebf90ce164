"""Reading a payload's records, shared by every connector: JSON and CSV decoding that says what came instead of
the expected format, CSV columns found by header name, decimal parsing, and a reader that turns each record into
a row, a missing value or a quarantined record with its reason (none is dropped silently)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass

import polars as pl

from macro_assets.catalog import DatasetSpec
from macro_assets.errors import SourcePayloadError
from macro_assets.provenance import Fetched, QuarantineRecord, quarantine_record
from macro_assets.sources.base import Parsed, parsed_schema

_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_COMMA_NUMBER = re.compile(r"^[+-]?\d+(,\d*)?$")


def payload_error(fetched: Fetched, field: str, problem: str) -> SourcePayloadError:
    return SourcePayloadError(fetched.source, fetched.dataset_id, field, problem)


def refuse_html(fetched: Fetched, expected: str) -> None:
    """An HTML page (a portal's error or login page) where `expected` was due refuses the payload."""
    body = fetched.body.lstrip()
    if not body:
        raise payload_error(fetched, "<body>", f"empty response body (HTTP {fetched.status})")
    if body[:1] == b"<" and body[:5].lower() != b"<?xml":
        title = _TITLE.search(body)
        what = (
            f"an HTML page (title: {title.group(1).decode(errors='replace').strip()!r})"
            if title
            else "an HTML document"
        )
        raise payload_error(fetched, "<body>", f"expected {expected}, got {what} (HTTP {fetched.status})")


def decode_json(fetched: Fetched):
    """The payload as JSON, or a SourcePayloadError saying what came instead (HTML page, truncated body...)."""
    refuse_html(fetched, "JSON")
    if fetched.body.lstrip()[:1] == b"<":
        raise payload_error(fetched, "<body>", f"expected JSON, got an XML document (HTTP {fetched.status})")
    try:
        return json.loads(fetched.body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise payload_error(
            fetched,
            "<body>",
            f"not valid JSON, the body may be truncated ({len(fetched.body)} bytes, {exc.msg} at char {exc.pos})"
            if isinstance(exc, json.JSONDecodeError)
            else f"not UTF-8 ({exc})",
        ) from None


def decode_text(fetched: Fetched, expected: str, encodings: tuple[str, ...] = ("utf-8-sig",)) -> str:
    """The payload as text in the first encoding that decodes it (a source whose files vary in encoding lists
    several), refusing HTML pages."""
    refuse_html(fetched, expected)
    for encoding in encodings:
        try:
            return fetched.body.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise payload_error(fetched, "<body>", f"not decodable as {' or '.join(encodings)}")


def parse_decimal(text: object, *, decimal_comma: bool = False) -> float | str:
    """A decimal string as a float, or the reason it is not one. `decimal_comma` is for sources that write
    `5,43` (Brazilian files); a source that writes dot decimals gets a comma decimal refused with that reason."""
    if not isinstance(text, str):
        if isinstance(text, int | float) and not isinstance(text, bool):
            return float(text) if math.isfinite(text) else f"non-finite number {text!r}"
        return f"expected a decimal string, got {type(text).__name__} {text!r}"
    stripped = text.strip()
    if decimal_comma:
        if not _COMMA_NUMBER.match(stripped):
            return f"not a comma-decimal number: {text!r}"
        return float(stripped.replace(",", "."))
    if _NUMBER.match(stripped):
        number = float(stripped)
        return number if math.isfinite(number) else f"non-finite number {text!r}"
    if _COMMA_NUMBER.match(stripped) and "," in stripped:
        return f"comma decimal separator in {text!r} (the API sends dot decimals)"
    return f"not a number: {text!r}"


class RecordReader:
    """Walks the records of a payload for a connector: each record becomes rows, a missing value or a
    quarantined record with its reason.

    A required field absent from every record is a renamed field: the whole payload is refused.
    """

    def __init__(self, dataset: DatasetSpec, fetched: Fetched, records: list, required: tuple[str, ...]):
        self.dataset, self.fetched, self.records, self.required = dataset, fetched, records, required
        mappings = [r for r in records if isinstance(r, dict)]
        for name in required:
            if records and not any(name in r for r in mappings):
                keys = sorted({k for r in mappings for k in r})
                raise payload_error(fetched, name, f"missing from every record (records have {keys})")
        self.quarantine: list[QuarantineRecord] = []
        self.missing = 0
        self._schema = parsed_schema(dataset.shape)
        self._rows: list[dict] = []

    def __iter__(self) -> Iterator[tuple[int, dict]]:
        """(index, record) of every record that has the required fields; the others are quarantined."""
        for index, record in enumerate(self.records):
            if isinstance(record, dict) and all(name in record for name in self.required):
                yield index, record
            else:
                self.reject(index, "/".join(self.required), record, f"record lacks one of the fields {self.required}")

    def reject(self, index: int, field: str, record: object, reason: str) -> None:
        self.quarantine.append(quarantine_record(self.fetched, index, field, record, reason))

    def date(self, index: int, record: dict, field: str, date_format: str) -> dt.date | None:
        try:
            return dt.datetime.strptime(str(record[field]), date_format).date()
        except ValueError:
            self.reject(index, field, record, f"{field} {record[field]!r} does not match {date_format}")
            return None

    def decimal(self, index: int, record: dict, field: str, *, decimal_comma: bool = False) -> float | None:
        value = parse_decimal(record[field], decimal_comma=decimal_comma)
        if isinstance(value, str):
            self.reject(index, field, record, value)
            return None
        return value

    def decimals(
        self, index: int, record: dict, required: tuple[str, ...], optional: tuple[str, ...] = ()
    ) -> dict[str, float] | None:
        """The `required` fields of `record` and the `optional` ones present and not null, as floats; None when one
        is not a number (a null required field included), the record then quarantined once, naming every such
        field (a bar's prices are read together)."""
        values = {name: parse_decimal(record.get(name)) for name in required}
        values.update({name: parse_decimal(record[name]) for name in optional if record.get(name) is not None})
        if bad := [name for name, value in values.items() if isinstance(value, str)]:
            self.reject(index, "/".join(bad), record, "; ".join(f"{name}: {values[name]}" for name in bad))
            return None
        return values

    def add(self, **row) -> None:
        """One row: the shape's keys and values (absent values are null), release_time and release_basis."""
        self._rows.append(row)

    def parsed(self) -> Parsed:
        rows = pl.DataFrame(self._rows, schema=self._schema) if self._rows else pl.DataFrame(schema=self._schema)
        return Parsed(rows=rows, quarantine=self.quarantine, records=len(self.records), missing=self.missing)


@dataclass(frozen=True)
class CsvTable:
    """A delimited payload read by column name: its header, and one record per data line (column name -> cell,
    whitespace stripped) or, for a line whose cell count differs from the header's, that line's text."""

    header: tuple[str, ...]
    records: list[dict[str, str] | str]

    def well_formed(self, reader: RecordReader) -> Iterator[tuple[int, dict[str, str]]]:
        """(index, record) of every line with one cell per column; the reader quarantines the others."""
        for index, record in enumerate(self.records):
            if isinstance(record, dict):
                yield index, record
            else:
                reader.reject(
                    index,
                    "<line>",
                    record,
                    f"the line does not have the header's {len(self.header)} cells {list(self.header)}",
                )


def read_csv(fetched: Fetched, text: str, required: tuple[str, ...] = (), *, delimiter: str = ",") -> CsvTable:
    """The header (first line) and records of a delimited payload, for readers that find columns by name.

    Refuses the payload when the header lacks a `required` column (a renamed column: the field is named), names a
    column twice (a record could not say which cell is meant), or when the last line has fewer cells than the
    header (a body cut short in transfer)."""
    lines = [cells for cells in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter) if cells]
    if not lines:
        raise payload_error(fetched, "<header>", "no header line (the body has no CSV lines)")
    header = tuple(cell.strip() for cell in lines[0])
    for name in required:
        if name not in header:
            raise payload_error(fetched, name, f"missing from the header (the header is {list(header)})")
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise payload_error(fetched, repeated[0], f"named more than once in the header {list(header)}")
    if len(lines) > 1 and len(lines[-1]) < len(header):
        raise payload_error(
            fetched,
            "<body>",
            f"the last line has {len(lines[-1])} of the header's {len(header)} "
            f"cells: the body looks truncated ({len(fetched.body)} bytes)",
        )
    records: list[dict[str, str] | str] = [
        dict(zip(header, (cell.strip() for cell in cells), strict=True))
        if len(cells) == len(header)
        else delimiter.join(cells)
        for cells in lines[1:]
    ]
    return CsvTable(header=header, records=records)
