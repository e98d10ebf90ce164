"""The warehouse: append-only vintages in PostgreSQL and point-in-time reads over them."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.csv as pacsv
import sqlalchemy as sa

from macro_assets.catalog import UnknownSeries, load_catalog
from macro_assets.warehouse import frames
from macro_assets.warehouse.migrations import apply_migrations

SeriesArg = str | Sequence[str]
DateArg = str | dt.date | dt.datetime | pd.Timestamp | None


@dataclass(frozen=True)
class AppendResult:
    """What one append did: rows added, rows already known (same value at that release time) and rows that
    conflict with a stored vintage of the same release time (quarantined, never overwritten)."""

    added: int
    unchanged: int
    conflicts: int = 0


@dataclass(frozen=True)
class PayloadRecord:
    """One archived payload: where its verbatim bytes are and which request and window produced them."""

    object_key: str
    payload_sha256: str
    source: str
    series_id: str
    request: str
    http_status: int
    bytes: int
    window_start: dt.date
    window_end: dt.date
    fetched_at: dt.datetime
    refused: str | None = None  # why nothing of this payload was stored; None for a payload whose rows were


@dataclass(frozen=True)
class QuarantineRecord:
    source: str
    series_id: str
    payload_sha256: str
    record_index: int
    field: str
    raw_record: str
    reason: str


_OBS_COLUMNS = ", ".join(frames.WRITE_COLUMNS)
_STAGING = "observations_staging"
_READ_TYPES = pacsv.ConvertOptions(column_types={
    "series_id": pa.string(), "obs_date": pa.timestamp("us"), "value": pa.float64(),
    "release_time": pa.timestamp("us", tz="UTC"), "release_basis": pa.string(),
})


class Warehouse:
    """Read and write observations. Create it with `macro_assets.warehouse.connect()`."""

    def __init__(self, engine: sa.Engine):
        self.engine = engine

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    def migrate(self) -> list[str]:
        return apply_migrations(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def _raw_connection(self) -> Iterator:
        connection = self.engine.raw_connection()
        try:
            yield connection
        finally:
            connection.close()

    # ----------------------------------------------------------------------------------------------- reads
    def as_of(self, series: SeriesArg, as_of: DateArg = None, start: DateArg = None, end: DateArg = None) -> pd.DataFrame:
        """For each date in [start, end], the latest vintage released at or before `as_of` (now by default).

        Dates not yet released at that instant are absent, and so are dates whose latest vintage then was a
        withdrawal.
        """
        instant = frames.to_utc_timestamp(as_of, field="as_of")
        return self._latest_vintages(series, start, end, instant)

    def latest(self, series: SeriesArg, start: DateArg = None, end: DateArg = None) -> pd.DataFrame:
        """The newest vintage of every date (what the source says today)."""
        return self._latest_vintages(series, start, end, None)

    def first_release(self, series: SeriesArg, start: DateArg = None, end: DateArg = None) -> pd.DataFrame:
        """The first published value of every date: what a real-time observer saw at release."""
        ids, first, last = self._window(series, start, end)
        query = f"""
            SELECT DISTINCT ON (series_id, obs_date) {', '.join(frames.READ_COLUMNS)}
            FROM observations
            WHERE series_id = ANY(%(ids)s) AND obs_date BETWEEN %(first)s AND %(last)s AND value IS NOT NULL
            ORDER BY series_id, obs_date, release_time"""
        return self._read(query, {"ids": ids, "first": first, "last": last}, ids)

    def revisions(self, series: str, obs_date: DateArg) -> pd.DataFrame:
        """Every vintage of one observation, oldest first; a withdrawal shows as a missing value."""
        day = frames.to_date(obs_date, field="obs_date")
        if day is None:
            raise ValueError("obs_date: a date is required")
        query = f"""
            SELECT {', '.join(frames.READ_COLUMNS)} FROM observations
            WHERE series_id = ANY(%(ids)s) AND obs_date = %(day)s ORDER BY release_time"""
        return self._read(query, {"ids": [series], "day": day}, [series])

    def vintages(self, series: str, start: DateArg, end: DateArg) -> pd.DataFrame:
        """All stored vintages of a window, withdrawals included: what the data-quality checks look at."""
        ids, first, last = self._window(series, start, end)
        query = f"""
            SELECT {', '.join(frames.READ_COLUMNS)} FROM observations
            WHERE series_id = ANY(%(ids)s) AND obs_date BETWEEN %(first)s AND %(last)s
            ORDER BY series_id, obs_date, release_time"""
        return self._read(query, {"ids": ids, "first": first, "last": last}, ids, check_known=False)

    def fetch_coverage(self, series_id: str, before: dt.datetime) -> list[tuple[dt.date, dt.date]]:
        """Windows of the payloads of a series fetched strictly before `before` whose rows were stored."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT DISTINCT window_start, window_end FROM payloads"
                        " WHERE series_id = :series AND fetched_at < :before AND refused IS NULL ORDER BY 1, 2"),
                {"series": series_id, "before": before},
            ).all()
        return [(row[0], row[1]) for row in rows]

    def quarantined(self, series_id: str | None = None) -> pd.DataFrame:
        query = "SELECT * FROM quarantine" + (" WHERE series_id = %(series)s" if series_id else "") + \
            " ORDER BY quarantined_at, series_id, record_index"
        with self._raw_connection() as connection, connection.cursor() as cursor:
            cursor.execute(query, {"series": series_id})
            columns = [c.name for c in cursor.description]
            return pd.DataFrame(cursor.fetchall(), columns=columns)

    def payloads(self, series_id: str) -> pd.DataFrame:
        with self._raw_connection() as connection, connection.cursor() as cursor:
            cursor.execute("SELECT * FROM payloads WHERE series_id = %s ORDER BY fetched_at, object_key", (series_id,))
            columns = [c.name for c in cursor.description]
            return pd.DataFrame(cursor.fetchall(), columns=columns)

    def _latest_vintages(self, series: SeriesArg, start: DateArg, end: DateArg,
                         instant: dt.datetime | None) -> pd.DataFrame:
        ids, first, last = self._window(series, start, end)
        released = "AND release_time <= %(instant)s" if instant is not None else ""
        # One backward scan of the primary key per series hands DISTINCT ON the newest vintage of each date first,
        # so nothing is sorted; sorting every vintage (what a single DISTINCT ON over all the series gets planned
        # as) was most of the time of a read. Rows come newest first, last series id first; _read turns them round.
        query = f"""
            SELECT {', '.join(frames.READ_COLUMNS)} FROM unnest(%(ids)s::text[]) AS wanted(id), LATERAL (
                SELECT DISTINCT ON (obs_date) {', '.join(frames.READ_COLUMNS)}
                FROM observations
                WHERE series_id = wanted.id AND obs_date BETWEEN %(first)s AND %(last)s {released}
                ORDER BY obs_date DESC, release_time DESC
            ) latest
            WHERE value IS NOT NULL"""
        newest_first = sorted(set(ids), reverse=True)
        return self._read(query, {"ids": newest_first, "first": first, "last": last, "instant": instant}, ids,
                          reverse=True)

    @staticmethod
    def _window(series: SeriesArg, start: DateArg, end: DateArg) -> tuple[list[str], dt.date, dt.date]:
        ids = [series] if isinstance(series, str) else list(series)
        if not ids:
            raise ValueError("series: give at least one series id")
        first = frames.to_date(start, field="start") or dt.date(1, 1, 1)
        last = frames.to_date(end, field="end") or dt.date(9999, 12, 31)
        if first > last:
            raise ValueError(f"start {first} is after end {last}")
        return ids, first, last

    def _read(self, query: str, params: dict, ids: list[str], check_known: bool = True,
              reverse: bool = False) -> pd.DataFrame:
        """The rows of `query` as a read frame, in the query's order (or its reverse)."""
        # COPY ... TO STDOUT and a columnar CSV parse: several times faster than building Python row tuples.
        buffer = io.BytesIO()
        with self._raw_connection() as connection, connection.cursor() as cursor:
            statement = cursor.mogrify(query, params).decode()
            cursor.copy_expert(f"COPY ({statement}) TO STDOUT WITH (FORMAT csv)", buffer)
        if buffer.tell() == 0:
            if check_known:
                self._require_known(ids)
            return frames.empty_read_frame()
        buffer.seek(0)
        # Arrow parses the timestamps with their UTC offsets while reading: a third of the time of a read through
        # polars and a second pass over release_time.
        table = pacsv.read_csv(buffer, read_options=pacsv.ReadOptions(column_names=frames.READ_COLUMNS),
                               convert_options=_READ_TYPES)
        if reverse:
            table = table.take(np.arange(table.num_rows - 1, -1, -1))
        return table.to_pandas()

    def _require_known(self, ids: list[str]) -> None:
        catalog = load_catalog()
        unknown = [i for i in ids if i not in catalog.series]
        if not unknown:
            return
        with self.engine.connect() as connection:
            stored = set(connection.execute(
                sa.text("SELECT DISTINCT series_id FROM observations WHERE series_id = ANY(:ids)"), {"ids": unknown}
            ).scalars())
        missing = [i for i in unknown if i not in stored]
        if missing:
            raise UnknownSeries(
                f"unknown series {', '.join(map(repr, missing))}: not in the catalog and never stored "
                f"(catalog: {', '.join(sorted(catalog.series))})"
            )

    # ----------------------------------------------------------------------------------------------- writes
    def append(self, frame: pd.DataFrame | pl.DataFrame, *, payloads: Iterable[PayloadRecord] = (),
               quarantine: Iterable[QuarantineRecord] = ()) -> AppendResult:
        """Add the vintages of `frame` that change what is known; one transaction for rows, payload records
        and quarantined rows, so a crash leaves the warehouse exactly as it was."""
        table = frames.normalize_for_write(frame)
        with self.transaction() as connection:
            return self.write(connection, table, list(payloads), list(quarantine))

    @contextmanager
    def transaction(self) -> Iterator:
        with self._raw_connection() as connection:
            try:
                yield connection
                connection.commit()
            except BaseException:
                connection.rollback()
                raise

    def write(self, connection, table: pl.DataFrame, payloads: list[PayloadRecord],
              quarantine: list[QuarantineRecord]) -> AppendResult:
        """The append path inside an open transaction (see `append`)."""
        table, conflicting = frames.split_conflicting_duplicates(table)
        quarantine = quarantine + _conflict_records(conflicting, "two rows of the batch give one vintage different values")
        with connection.cursor() as cursor:
            series_ids = sorted(table["series_id"].unique())
            # Writers of one series take turns: the check of what is stored and the insert see the same state,
            # so two concurrent writers of one partition never both add a vintage.
            for series_id in series_ids:
                cursor.execute("SELECT pg_advisory_xact_lock(hashtext('observations:' || %s))", (series_id,))
            if table.is_empty():
                result = AppendResult(0, 0)
            elif self._stores_nothing_for(cursor, table):
                result = self._copy_new(cursor, table)
            else:
                result, conflicts = self._merge_through_staging(cursor, table)
                quarantine = quarantine + conflicts
            _insert_payloads(cursor, payloads)
            _insert_quarantine(cursor, quarantine)
        return AppendResult(result.added, result.unchanged, result.conflicts + len(conflicting))

    @staticmethod
    def _stores_nothing_for(cursor, table: pl.DataFrame) -> bool:
        bounds = table.group_by("series_id").agg(pl.col("obs_date").min().alias("lo"), pl.col("obs_date").max().alias("hi"))
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM observations o JOIN unnest(%s::text[], %s::date[], %s::date[]) AS b(s, lo, hi)"
            " ON o.series_id = b.s AND o.obs_date BETWEEN b.lo AND b.hi)",
            (bounds["series_id"].to_list(), bounds["lo"].to_list(), bounds["hi"].to_list()),
        )
        return not cursor.fetchone()[0]

    @staticmethod
    def _copy_new(cursor, table: pl.DataFrame) -> AppendResult:
        """Nothing stored overlaps the batch: the append rule reduces to the batch itself, so COPY straight in."""
        kept = frames.collapse_unchanged_vintages(table)
        _copy_in(cursor, "observations", kept)
        return AppendResult(added=kept.height, unchanged=table.height - kept.height)

    @staticmethod
    def _merge_through_staging(cursor, table: pl.DataFrame) -> tuple[AppendResult, list[QuarantineRecord]]:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {_STAGING} (LIKE observations INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
        )
        cursor.execute(f"TRUNCATE {_STAGING}")
        _copy_in(cursor, _STAGING, table)
        cursor.execute(f"""
            SELECT s.series_id, s.obs_date, s.release_time, s.value, s.payload_sha256
            FROM {_STAGING} s JOIN observations o USING (series_id, obs_date, release_time)
            WHERE o.value IS DISTINCT FROM s.value""")
        conflicts = cursor.fetchall()
        # Each staged row is compared with the vintage just before it, stored or staged: it is added only when
        # it changes the value known at its release time. Stored rows sort first on a tie of release time.
        cursor.execute(f"""
            WITH keys AS (SELECT DISTINCT series_id, obs_date FROM {_STAGING}),
            combined AS (
                SELECT o.series_id, o.obs_date, o.release_time, o.value, o.release_basis, o.payload_sha256,
                       false AS staged
                FROM observations o JOIN keys USING (series_id, obs_date)
                UNION ALL
                SELECT series_id, obs_date, release_time, value, release_basis, payload_sha256, true FROM {_STAGING}
            ),
            ordered AS (
                SELECT *, lag(value) OVER w AS previous_value, row_number() OVER w = 1 AS is_first,
                       bool_or(NOT staged) OVER (PARTITION BY series_id, obs_date, release_time) AS stored_at_time
                FROM combined
                WINDOW w AS (PARTITION BY series_id, obs_date ORDER BY release_time, staged)
            )
            INSERT INTO observations ({_OBS_COLUMNS})
            SELECT {_OBS_COLUMNS} FROM ordered
            WHERE staged AND NOT stored_at_time
              AND CASE WHEN is_first THEN value IS NOT NULL ELSE value IS DISTINCT FROM previous_value END
            ON CONFLICT DO NOTHING""")
        added = cursor.rowcount
        records = [
            QuarantineRecord(source=series_id.partition(".")[0], series_id=series_id, payload_sha256=sha,
                             record_index=-1, field="value",
                             raw_record=f"{obs_date},{release_time.isoformat()},{value}",
                             reason=f"{obs_date}: conflicts with the stored vintage released at {release_time.isoformat()}")
            for series_id, obs_date, release_time, value, sha in conflicts
        ]
        return AppendResult(added, table.height - added - len(conflicts), len(conflicts)), records


class _CsvStream:
    """The rows as CSV for COPY ... FROM STDIN, written one slice at a time as the server asks for more: the server
    parses a slice while the next is being written, instead of waiting for the CSV of the whole batch."""

    def __init__(self, table: pl.DataFrame, rows_per_slice: int = 50_000):
        self._table = table.select(frames.WRITE_COLUMNS)
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


def _copy_in(cursor, target: str, table: pl.DataFrame) -> None:
    cursor.copy_expert(f"COPY {target} ({_OBS_COLUMNS}) FROM STDIN WITH (FORMAT csv)", _CsvStream(table), size=65536)


def _conflict_records(table: pl.DataFrame, reason: str) -> list[QuarantineRecord]:
    return [
        QuarantineRecord(source=row["series_id"].partition(".")[0], series_id=row["series_id"],
                         payload_sha256=row["payload_sha256"], record_index=-1, field="value",
                         raw_record=f"{row['obs_date']},{row['release_time'].isoformat()},{row['value']}", reason=reason)
        for row in table.iter_rows(named=True)
    ]


def _insert_payloads(cursor, payloads: list[PayloadRecord]) -> None:
    for p in payloads:
        cursor.execute(
            "INSERT INTO payloads (object_key, payload_sha256, source, series_id, request, http_status, bytes,"
            " window_start, window_end, fetched_at, refused) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (object_key) DO NOTHING",
            (p.object_key, p.payload_sha256, p.source, p.series_id, p.request, p.http_status, p.bytes,
             p.window_start, p.window_end, p.fetched_at, p.refused),
        )


def _insert_quarantine(cursor, records: list[QuarantineRecord]) -> None:
    for r in records:
        cursor.execute(
            "INSERT INTO quarantine (source, series_id, payload_sha256, record_index, field, raw_record, reason)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
            (r.source, r.series_id, r.payload_sha256, r.record_index, r.field, r.raw_record, r.reason),
        )
