"""The append-only vintage engine: one implementation of the append rule for every shape.

A vintage is stored only when its values differ from the vintage just before it (stored or in the same batch); a
vintage whose values are all null is a withdrawal, and a leading withdrawal is no vintage at all. A row whose key
and release time are already stored with other values is quarantined, never written over.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass

import polars as pl

from macro_assets.provenance import PayloadRecord, QuarantineRecord
from macro_assets.shapes import Shape
from macro_assets.warehouse import frames
from macro_assets.warehouse.db import first_key, joined, sql_type

IN_BATCH_CONFLICT = "two rows of the batch give one vintage different values"


@dataclass(frozen=True)
class AppendResult:
    """What one append did: rows added, rows already known (same values at that release time, or unchanged from
    the vintage before) and rows that conflict with another vintage of the same release time (quarantined)."""

    added: int
    unchanged: int
    conflicts: int = 0


class VintageEngine:
    """Appends the vintages of one shape inside the caller's transaction (a DBAPI cursor)."""

    def __init__(self, shape: Shape):
        self.shape = shape
        self._columns = list(shape.write_schema)
        self._staging = f"{shape.table}_staging"
        self._values = shape.value_columns
        self._partition = [shape.id_column, *shape.key_columns]
        self._first = first_key(shape)
        table, ident, first, kind = shape.table, shape.id_column, self._first, sql_type(shape.key_schema[self._first])
        # Constant bounds on the id and the first key let TimescaleDB exclude chunks at plan time (and let a plain
        # table use its primary key) instead of joining, and decompressing, every chunk of the table.
        bounded = f"o.{ident} = ANY(%(ids)s) AND o.{first} BETWEEN %(first)s AND %(last)s"
        self._overlap_sql = f"""
            SELECT EXISTS (
                SELECT 1 FROM {table} o
                JOIN unnest(%(ids)s::text[], %(los)s::{kind}[], %(his)s::{kind}[]) AS b(id, lo, hi)
                  ON o.{ident} = b.id AND o.{first} BETWEEN b.lo AND b.hi
                WHERE {bounded})"""
        same_vintage = " AND ".join(f"o.{c} = s.{c}" for c in shape.vintage_key)
        differing = ", ".join(f"CASE WHEN o.{v} IS DISTINCT FROM s.{v} THEN '{v}' END" for v in self._values)
        stored_values, staged_values = joined(self._values, "o."), joined(self._values, "s.")
        # A staged row whose vintage is already stored is either unchanged or a conflict; removing it from the
        # staging table before the merge keeps a conflicting row from becoming the predecessor of later ones.
        self._settle_sql = f"""
            WITH settled AS (
                DELETE FROM {self._staging} s USING {table} o
                WHERE {same_vintage} AND {bounded}
                RETURNING {joined(self._columns, "s.")},
                          ROW({stored_values}) IS DISTINCT FROM ROW({staged_values}) AS conflict,
                          concat_ws(',', {differing}) AS differing
            )
            SELECT {joined(self._columns)}, differing FROM settled WHERE conflict"""
        previous = ", ".join(f"lag({v}) OVER w AS previous_{v}" for v in self._values)
        self._merge_sql = f"""
            WITH keys AS (SELECT DISTINCT {joined(self._partition)} FROM {self._staging}),
            combined AS (
                SELECT {joined(self._columns, "o.")}, false AS staged
                FROM {table} o JOIN keys USING ({joined(self._partition)})
                WHERE {bounded}
                UNION ALL
                SELECT {joined(self._columns)}, true FROM {self._staging}
            ),
            ordered AS (
                SELECT *, {previous}, row_number() OVER w = 1 AS is_first
                FROM combined
                WINDOW w AS (PARTITION BY {joined(self._partition)} ORDER BY release_time)
            )
            INSERT INTO {table} ({joined(self._columns)})
            SELECT {joined(self._columns)} FROM ordered
            WHERE staged AND CASE WHEN is_first THEN num_nonnulls({joined(self._values)}) > 0
                                  ELSE ROW({joined(self._values)})
                                       IS DISTINCT FROM ROW({joined(f"previous_{v}" for v in self._values)}) END
            ON CONFLICT DO NOTHING"""

    def write(self, cursor, table: pl.DataFrame) -> tuple[AppendResult, list[QuarantineRecord]]:
        """Append a frame typed by frames.normalize_for_write; return the result and the conflicts to quarantine."""
        table, conflicting = frames.split_conflicting_duplicates(self.shape, table)
        records = self._records(
            conflicting.to_dicts(), frames.differing_columns(self.shape, conflicting), lambda row: IN_BATCH_CONFLICT
        )
        if table.is_empty():
            return AppendResult(0, 0, conflicting.height), records
        self._lock(cursor, table)
        if self._stores_nothing_for(cursor, table):
            result = self._copy_new(cursor, table)
        else:
            result, stored_conflicts = self._merge_through_staging(cursor, table)
            records += stored_conflicts
        return AppendResult(result.added, result.unchanged, result.conflicts + conflicting.height), records

    def _lock(self, cursor, table: pl.DataFrame) -> None:
        # Writers of one dataset take turns: the check of what is stored and the insert see the same state, so two
        # concurrent writers of one partition never both add a vintage. Sorted, so two writers never deadlock.
        ids = sorted(table[self.shape.id_column].unique())
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtext(%s || ':' || id)) FROM unnest(%s::text[]) AS id",
            (self.shape.table, ids),
        )

    def _bounds(self, table: pl.DataFrame) -> dict:
        column = table[self._first]
        return {"ids": sorted(table[self.shape.id_column].unique()), "first": column.min(), "last": column.max()}

    def _stores_nothing_for(self, cursor, table: pl.DataFrame) -> bool:
        ident = self.shape.id_column
        per_id = table.group_by(ident).agg(lo=pl.col(self._first).min(), hi=pl.col(self._first).max())
        los, his = per_id["lo"], per_id["hi"]
        params = {"ids": per_id[ident].to_list(), "los": los.to_list(), "his": his.to_list()}
        cursor.execute(self._overlap_sql, {**params, "first": los.min(), "last": his.max()})
        return not cursor.fetchone()[0]

    def _copy_new(self, cursor, table: pl.DataFrame) -> AppendResult:
        """Nothing stored overlaps the batch: the append rule reduces to the batch itself, so COPY straight in."""
        kept = frames.collapse_unchanged_vintages(self.shape, table)
        self._copy_in(cursor, self.shape.table, kept)
        return AppendResult(added=kept.height, unchanged=table.height - kept.height)

    def _merge_through_staging(self, cursor, table: pl.DataFrame) -> tuple[AppendResult, list[QuarantineRecord]]:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {self._staging}"
            f" (LIKE {self.shape.table} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
        )
        cursor.execute(f"TRUNCATE {self._staging}")
        self._copy_in(cursor, self._staging, table)
        bounds = self._bounds(table)
        cursor.execute(self._settle_sql, bounds)
        conflicts = [dict(zip([*self._columns, "differing"], row, strict=True)) for row in cursor.fetchall()]
        # Each staged row is compared with the vintage just before it, stored or staged: it is added only when it
        # changes the values known at its release time.
        cursor.execute(self._merge_sql, bounds)
        added = cursor.rowcount
        records = self._records(
            conflicts,
            [row["differing"] for row in conflicts],
            lambda row: f"conflicts with the stored vintage released at {row['release_time'].isoformat()}",
        )
        return AppendResult(added, table.height - added - len(conflicts), len(conflicts)), records

    def _copy_in(self, cursor, target: str, table: pl.DataFrame) -> None:
        cursor.copy_expert(
            f"COPY {target} ({joined(self._columns)}) FROM STDIN WITH (FORMAT csv)",
            _CsvStream(table.select(self._columns)),
            size=65536,
        )

    def _records(self, rows: list[dict], fields: list[str], reason) -> list[QuarantineRecord]:
        shape = self.shape
        shown = [*shape.key_columns, "release_time", *shape.value_columns]
        return [
            QuarantineRecord(
                source=row[shape.id_column].partition(".")[0],
                dataset_id=row[shape.id_column],
                payload_sha256=row["payload_sha256"],
                record_index=-1,
                field=field,
                raw_record=json.dumps({c: row[c] for c in shown}, default=_iso),
                reason=f"{', '.join(_iso(row[k]) for k in shape.key_columns)}: {reason(row)}",
            )
            for row, field in zip(rows, fields, strict=True)
        ]


def _iso(value) -> str:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    return value.isoformat() if isinstance(value, dt.date) else str(value)


class _CsvStream:
    """The rows as CSV for COPY ... FROM STDIN, written one slice at a time as the server asks for more: the server
    parses a slice while the next is being written, instead of waiting for the CSV of the whole batch."""

    def __init__(self, table: pl.DataFrame, rows_per_slice: int = 50_000):
        self._table = table
        self._rows_per_slice = rows_per_slice
        self._written = 0
        self._slice = io.BytesIO()

    def read(self, size: int = -1) -> bytes:
        data = self._slice.read(size)
        while not data and self._written < self._table.height:
            self._slice = io.BytesIO()
            self._table.slice(self._written, self._rows_per_slice).write_csv(self._slice, include_header=False)
            self._written += self._rows_per_slice
            self._slice.seek(0)
            data = self._slice.read(size)
        return data


def insert_payloads(cursor, payloads: Iterable[PayloadRecord]) -> None:
    rows = [
        (
            p.object_key,
            p.payload_sha256,
            p.source,
            p.dataset_id,
            p.request,
            p.http_status,
            p.bytes,
            p.window_start,
            p.window_end,
            p.fetched_at,
            p.refused,
        )
        for p in payloads
    ]
    if rows:
        cursor.execute(
            "INSERT INTO payloads (object_key, payload_sha256, source, dataset_id, request, http_status, bytes,"
            " window_start, window_end, fetched_at, refused)"
            " SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::integer[],"
            " %s::bigint[], %s::date[], %s::date[], %s::timestamptz[], %s::text[])"
            " ON CONFLICT (object_key) DO NOTHING",
            [list(column) for column in zip(*rows, strict=True)],
        )


def insert_quarantine(cursor, records: Iterable[QuarantineRecord]) -> None:
    rows = [
        (r.source, r.dataset_id, r.payload_sha256, r.record_index, r.field, r.raw_record, r.reason) for r in records
    ]
    if rows:
        cursor.execute(
            "INSERT INTO quarantine (source, dataset_id, payload_sha256, record_index, field, raw_record, reason)"
            " SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::integer[], %s::text[], %s::text[],"
            " %s::text[]) ON CONFLICT DO NOTHING",
            [list(column) for column in zip(*rows, strict=True)],
        )
