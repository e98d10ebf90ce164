"""The database handle shared by the readers and the pipeline, and the SQL spelling of a shape's columns."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import polars as pl
import sqlalchemy as sa

from macro_assets.shapes import Shape


@dataclass
class Database:
    """An engine plus what a connect found out: whether TimescaleDB runs, and which ids the caller knows."""

    engine: sa.Engine
    timescale: bool = False
    known_ids: Callable[[], Iterable[str]] | None = None
    # The days a dataset's calendar is closed between two dates (a curve's business days to maturity count them).
    holidays_for: Callable[[str, dt.date, dt.date], Iterable[dt.date]] | None = None
    _known: frozenset[str] | None = field(default=None, repr=False)

    def known(self) -> frozenset[str]:
        """The caller's ids, asked for once: a catalog does not change under a running process."""
        if self._known is None:
            self._known = frozenset(self.known_ids() if self.known_ids else ())
        return self._known

    @contextmanager
    def cursor(self) -> Iterator:
        """A DBAPI cursor on a pooled connection; the pool rolls back whatever the caller left open."""
        connection = self.engine.raw_connection()
        try:
            with connection.cursor() as cursor:
                yield cursor
        finally:
            connection.close()

    @contextmanager
    def transaction(self) -> Iterator:
        """A DBAPI cursor whose work is committed on success and rolled back on any error."""
        connection = self.engine.raw_connection()
        try:
            with connection.cursor() as cursor:
                yield cursor
            connection.commit()
        except BaseException:
            connection.rollback()
            raise
        finally:
            connection.close()


def sql_type(dtype: pl.DataType) -> str:
    if dtype == pl.String:
        return "text"
    if dtype == pl.Date:
        return "date"
    if dtype == pl.Float64:
        return "double precision"
    if dtype == pl.Int64:
        return "bigint"
    if isinstance(dtype, pl.Datetime):
        return "timestamptz"
    raise TypeError(f"no SQL type for {dtype}")


def joined(columns: Iterable[str], prefix: str = "") -> str:
    return ", ".join(f"{prefix}{c}" for c in columns)


def first_key(shape: Shape) -> str:
    """The key column reads and appends bound by range (and a hypertable partitions by)."""
    return shape.key_columns[0]


def distinct_ids_sql(shape: Shape) -> str:
    """The ids stored in a shape's table, sorted, by a loose index scan: one primary-key probe per distinct id
    instead of reading every row."""
    table, ident = shape.table, shape.id_column
    return f"""
        WITH RECURSIVE ids AS (
            (SELECT {ident} AS id FROM {table} ORDER BY {ident} LIMIT 1)
            UNION ALL
            SELECT (SELECT {ident} FROM {table} WHERE {ident} > ids.id ORDER BY {ident} LIMIT 1)
            FROM ids WHERE ids.id IS NOT NULL
        )
        SELECT id FROM ids WHERE id IS NOT NULL"""
