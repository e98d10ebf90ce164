"""TimescaleDB when the server can run it, plain tables otherwise: decided again at every connect.

Detection never runs CREATE EXTENSION on a server that merely has the extension's files: without the preloaded
library that statement is FATAL and ends the session. A plain warehouse that later finds TimescaleDB usable is
converted at its next connect. Every statement sent to the server is built here as a string, so it can be read
and tested without a TimescaleDB server.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

import psycopg2
import sqlalchemy as sa

from macro_assets.shapes import Shape
from macro_assets.warehouse.db import first_key
from macro_assets.warehouse.migrations import MIGRATION_LOCK

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Layout:
    """A hypertable's chunking and compression. Intervals are in days: TimescaleDB counts a month as 30 days,
    so INTERVAL '1 year' would be 360-day chunks."""

    chunk_days: int
    compress_after_days: int  # counted from a chunk's end


LAYOUTS = {
    # A daily series holds ~2,500-3,650 dates in ten years, so one chunk fills compressed batches of 1,000 rows per
    # series; yearly chunks would hold a handful of rows of each monthly series. Compressed three years after the
    # chunk ends: revisions (annual benchmarks included) mostly land before.
    "observations": Layout(chunk_days=3652, compress_after_days=3 * 365),
    # A daily curve of 10-100 points gives 3,650-36,500 rows per curve per year; curves are rarely revised.
    "curve_points": Layout(chunk_days=365, compress_after_days=90),
    # Intraday bars carry the volume: a month of 5-minute bars is ~8,600 rows per instrument (1-minute: ~43,000).
    "bars": Layout(chunk_days=30, compress_after_days=30),
    # Focus: ~20 references x 2 bases per survey day for an indicator; never revised once published.
    "expectations": Layout(chunk_days=365, compress_after_days=90),
    # IPCA: ~460 components a month per dataset; a revision is rare and lands within weeks.
    "index_components": Layout(chunk_days=3652, compress_after_days=365),
    # COT: a handful of categories per weekly report and market; CFTC corrects past reports now and then.
    "positions": Layout(chunk_days=3652, compress_after_days=365),
    # Tick-level Databento records: a liquid future trades 10^5-10^6 times a day.
    "trades": Layout(chunk_days=1, compress_after_days=7),
    "tbbo": Layout(chunk_days=1, compress_after_days=7),
    "instrument_statistics": Layout(chunk_days=7, compress_after_days=30),
    "instrument_definitions": Layout(chunk_days=90, compress_after_days=90),
}

PROBE_SQL = """
    SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'),
           (SELECT setting FROM pg_settings WHERE name = 'shared_preload_libraries'),
           (SELECT setting FROM pg_settings WHERE name = 'timescaledb.disable_load')"""
# Reads are DISTINCT ON over the primary key; on uncompressed chunks TimescaleDB plans them as a SkipScan, 4-15x
# slower than the backward index scan they get without it. Appends plan no DISTINCT over a hypertable (only over the
# temporary staging table), so the setting is made once per session instead of once per read.
SESSION_SQL = "SET timescaledb.enable_skipscan = off"


def usable(installed: bool, preload_libraries: str | None, disable_load: str | None) -> bool:
    """Whether this session can use TimescaleDB: the extension is created in the database already, or the library
    is preloaded (its loader's own setting exists only then; shared_preload_libraries is hidden from
    non-superusers) and not told to stay unloaded."""
    if disable_load == "on":
        return False
    libraries = [name.strip().strip('"').rsplit("/", 1)[-1] for name in (preload_libraries or "").split(",")]
    return installed or "timescaledb" in libraries or disable_load is not None


def statement_guard_sql(table: str) -> str:
    return (
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON {table}"
        f" FOR EACH STATEMENT EXECUTE FUNCTION vintages_are_append_only('{table}')"
    )


def compression_sql(shape: Shape) -> list[str]:
    layout, table = LAYOUTS[shape.name], shape.table
    order = ", ".join([*shape.key_columns, "release_time"])
    return [
        f"ALTER TABLE {table} SET (timescaledb.compress, timescaledb.compress_segmentby = '{shape.id_column}',"
        f" timescaledb.compress_orderby = '{order}')",
        f"SELECT add_compression_policy('{table}', compress_after => INTERVAL '{layout.compress_after_days} days',"
        " if_not_exists => TRUE)",
    ]


def conversion_sql(shape: Shape) -> list[str]:
    """A plain table into a compressed hypertable, run in one transaction.

    migrate_data moves the rows into chunks and then truncates the table, which its statement-level guard refuses:
    the guard is dropped and recreated inside the transaction, so no other session ever sees the table unguarded
    (DROP TRIGGER locks out writers until the commit). The row-level guard stays: TRUNCATE does not fire it, and
    TimescaleDB copies it to every chunk it creates. The guard is back before compression is enabled: TimescaleDB
    has refused some trigger DDL on hypertables with compression enabled (timescale/timescaledb#10121).
    """
    table, days = shape.table, LAYOUTS[shape.name].chunk_days
    return [
        f"DROP TRIGGER {table}_append_only ON {table}",
        f"SELECT create_hypertable('{table}', by_range('{first_key(shape)}', INTERVAL '{days} days'),"
        " migrate_data => TRUE)",
        statement_guard_sql(table),
        *compression_sql(shape),
    ]


def interval_sql(shape: Shape) -> str:
    """For a hypertable made with another interval (the retired migration 002 used '1 year'): new chunks only."""
    return f"SELECT set_chunk_time_interval('{shape.table}', INTERVAL '{LAYOUTS[shape.name].chunk_days} days')"


def chunk_guard_sql(shape: Shape) -> str:
    """Statement-level TRUNCATE guards on the chunks that lack one: TimescaleDB copies only row-level triggers to
    its chunks, and TRUNCATE has no row-level trigger. Compression truncates a chunk without firing triggers."""
    table = shape.table
    return f"""
        DO $$
        DECLARE chunk regclass;
        BEGIN
            FOR chunk IN
                SELECT format('%I.%I', c.chunk_schema, c.chunk_name)::regclass
                FROM timescaledb_information.chunks c
                WHERE c.hypertable_schema = current_schema() AND c.hypertable_name = '{table}'
                  AND NOT EXISTS (SELECT 1 FROM pg_trigger t
                                  WHERE t.tgrelid = format('%I.%I', c.chunk_schema, c.chunk_name)::regclass
                                    AND t.tgname = '{table}_append_only')
            LOOP
                EXECUTE format('CREATE TRIGGER {table}_append_only BEFORE TRUNCATE ON %s FOR EACH STATEMENT'
                               ' EXECUTE FUNCTION vintages_are_append_only(%L)', chunk, '{table}');
            END LOOP;
        END $$"""


def plan(shape: Shape, *, hypertable: bool, compressed: bool, chunk_interval: dt.timedelta | None) -> list[str]:
    """The statements that bring one table to its layout, given what the catalog says about it now."""
    if not hypertable:
        return conversion_sql(shape)
    statements = []
    if chunk_interval != dt.timedelta(days=LAYOUTS[shape.name].chunk_days):
        statements.append(interval_sql(shape))
    if not compressed:
        statements += compression_sql(shape)
    return statements


def prepare(engine: sa.Engine, shapes: list[Shape], *, convert: bool) -> bool:
    """Detect TimescaleDB and, with `convert`, bring every shape's table to its hypertable layout; return whether
    the tables may be hypertables (the extension is in the database)."""
    connection = engine.raw_connection()
    try:
        with connection.cursor() as cursor:
            cursor.execute(PROBE_SQL)
            installed, preload_libraries, disable_load = cursor.fetchone()
            if not usable(installed, preload_libraries, disable_load) or not (convert or installed):
                return False
            if convert:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
                if not installed and not _create_extension(cursor):
                    connection.rollback()
                    return False
                for shape in shapes:
                    for statement in plan(shape, **_catalog_state(cursor, shape)):
                        cursor.execute(statement)
                    cursor.execute(chunk_guard_sql(shape))
        connection.commit()
        return True
    finally:
        connection.close()


def _create_extension(cursor) -> bool:
    cursor.execute("SAVEPOINT timescaledb")
    try:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
    except psycopg2.Error as exc:  # e.g. a role that may not create it: the warehouse stays plain, and works
        cursor.execute("ROLLBACK TO SAVEPOINT timescaledb")
        log.warning("TimescaleDB is preloaded but CREATE EXTENSION failed (%s); using plain tables", exc)
        return False
    return True


def _catalog_state(cursor, shape: Shape) -> dict:
    cursor.execute(
        "SELECT h.compression_enabled, d.time_interval FROM timescaledb_information.hypertables h"
        " LEFT JOIN timescaledb_information.dimensions d ON d.hypertable_schema = h.hypertable_schema"
        "  AND d.hypertable_name = h.hypertable_name AND d.column_name = %s"
        " WHERE h.hypertable_schema = current_schema() AND h.hypertable_name = %s",
        (first_key(shape), shape.table),
    )
    row = cursor.fetchone()
    if row is None:
        return {"hypertable": False, "compressed": False, "chunk_interval": None}
    return {"hypertable": True, "compressed": bool(row[0]), "chunk_interval": row[1]}


def guard_new_chunks(engine: sa.Engine, shape: Shape) -> None:
    """After an append: guard the chunks it may have created, in a transaction of its own so the append never
    waits on it. Best effort: if a writer holds a chunk, the next append or connect guards it."""
    connection = engine.raw_connection()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = '1s'")
            cursor.execute(chunk_guard_sql(shape))
        connection.commit()
    except psycopg2.errors.LockNotAvailable:
        connection.rollback()
    finally:
        connection.close()


def disable_skipscan(dbapi_connection, _connection_record) -> None:
    """SQLAlchemy 'connect' listener: the session setting, committed (a rolled-back SET is undone)."""
    with dbapi_connection.cursor() as cursor:
        cursor.execute(SESSION_SQL)
    dbapi_connection.commit()
