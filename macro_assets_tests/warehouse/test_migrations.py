"""The schema: migrations applied once each and recorded with their digest (a retired digest accepted, any other
edit refused), the tables and guards they create, and the TimescaleDB decision taken at connect (plain here: the
machine's and the embedded server have no TimescaleDB, and the SQL for a hypertable is checked as text)."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import shutil

import psycopg2
import pytest
import sqlalchemy as sa

from macro_assets.errors import MigrationError
from macro_assets.shapes import SHAPES
from macro_assets.warehouse import connect, timescale
from macro_assets.warehouse.engine import VintageEngine
from macro_assets.warehouse.migrations import RETIRED_DIGESTS, SQL_DIR, apply_migrations, digest, migration_files

from .conftest import cursor_on, table_rows


@pytest.fixture
def engine(warehouse_url):
    connect(warehouse_url).close()
    engine = sa.create_engine(warehouse_url)
    yield engine
    engine.dispose()


# ------------------------------------------------------------------------------------------- migrations
def test_every_migration_is_recorded_with_its_digest(engine, warehouse_url):
    recorded = {name: sha for name, sha, _applied_at in table_rows(warehouse_url, "schema_migrations")}

    assert recorded == {
        p.name: hashlib.sha256(p.read_text(encoding="utf-8").encode()).hexdigest() for p in migration_files()
    }
    assert [p.name for p in migration_files()][:5] == [
        "001_observations.sql",
        "002_timescaledb.sql",
        "003_payload_refusals.sql",
        "004_curve_points_and_bars.sql",
        "005_payloads_dataset_id.sql",
    ]


def test_reapplying_migrations_applies_nothing(engine):
    assert apply_migrations(engine) == []


def test_a_new_migration_is_applied_once(engine, tmp_path):
    sql_dir = shutil.copytree(SQL_DIR, tmp_path / "sql")
    (sql_dir / "900_probe.sql").write_text("CREATE TABLE probe (x integer);\n", encoding="utf-8")

    assert apply_migrations(engine, sql_dir=sql_dir) == ["900_probe.sql"]
    assert apply_migrations(engine, sql_dir=sql_dir) == []


def test_an_edited_migration_is_refused(engine, warehouse_url, tmp_path):
    sql_dir = shutil.copytree(SQL_DIR, tmp_path / "sql")
    edited = migration_files(sql_dir)[0]
    edited.write_text(edited.read_text(encoding="utf-8") + "\n-- edited after it was applied\n", encoding="utf-8")
    before = table_rows(warehouse_url, "schema_migrations")

    with pytest.raises(MigrationError, match=edited.name):
        apply_migrations(engine, sql_dir=sql_dir)
    assert table_rows(warehouse_url, "schema_migrations") == before


def test_a_migration_whose_sql_fails_is_refused_and_recorded_nowhere(engine, warehouse_url, tmp_path):
    sql_dir = shutil.copytree(SQL_DIR, tmp_path / "sql")
    (sql_dir / "900_broken.sql").write_text("CREATE TABLE probe (x integer);\nSELECT no_such_function();\n")

    with pytest.raises(MigrationError, match="900_broken.sql failed"):
        apply_migrations(engine, sql_dir=sql_dir)
    with cursor_on(warehouse_url) as cursor:
        cursor.execute("SELECT to_regclass('probe'), (SELECT count(*) FROM schema_migrations WHERE name LIKE '900%')")
        assert cursor.fetchone() == (None, 0)


def test_a_deployment_that_ran_the_old_002_is_accepted_as_it_is(engine, warehouse_url):
    """002 used to run CREATE EXTENSION timescaledb; databases that applied it recorded the old digest."""
    old = next(iter(RETIRED_DIGESTS["002_timescaledb.sql"]))
    with engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE schema_migrations SET sha256 = :old WHERE name = '002_timescaledb.sql'"), {"old": old}
        )

    assert apply_migrations(engine) == []
    with engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE schema_migrations SET sha256 = :other WHERE name = '002_timescaledb.sql'"),
            {"other": "0" * 64},
        )
    with pytest.raises(MigrationError, match="002_timescaledb.sql changed"):
        apply_migrations(engine)


def test_the_retired_002_no_longer_creates_any_extension():
    text = (SQL_DIR / "002_timescaledb.sql").read_text(encoding="utf-8")
    statements = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("--")]

    assert statements == ["SELECT 1;"]
    assert digest(SQL_DIR / "002_timescaledb.sql") not in RETIRED_DIGESTS["002_timescaledb.sql"]


# ------------------------------------------------------------------------------------------- the schema
def test_every_shape_has_its_table_with_the_vintage_key_as_primary_key(engine, warehouse_url):
    with cursor_on(warehouse_url) as cursor:
        for shape in SHAPES.values():
            cursor.execute(
                "SELECT array_agg(a.attname ORDER BY k.n) FROM pg_index i"
                " CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)"
                " JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum"
                " WHERE i.indrelid = %s::regclass AND i.indisprimary",
                (shape.table,),
            )
            assert cursor.fetchone()[0] == shape.vintage_key
            cursor.execute(
                "SELECT array_agg(attname ORDER BY attnum) FROM pg_attribute"
                " WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
                (shape.table,),
            )
            assert cursor.fetchone()[0] == [*shape.write_schema, "ingested_at"]


def test_every_table_has_a_statement_and_a_row_level_guard(engine, warehouse_url):
    with cursor_on(warehouse_url) as cursor:
        cursor.execute(
            "SELECT tgrelid::regclass::text, tgname, (tgtype & 1) = 1, pg_get_triggerdef(oid)"
            " FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1, 2"
        )
        triggers = cursor.fetchall()

    expected = []
    for table in sorted(shape.table for shape in SHAPES.values()):
        expected += [(table, f"{table}_append_only", False), (table, f"{table}_append_only_rows", True)]
    assert [row[:3] for row in triggers] == expected
    for table, _name, row_level, definition in triggers:
        operations = "DELETE OR UPDATE" if row_level else "DELETE OR UPDATE OR TRUNCATE"
        assert f"BEFORE {operations} ON public.{table}" in definition
        assert definition.endswith(f"vintages_are_append_only('{table}')")


def test_payloads_and_quarantine_name_the_dataset_not_the_series(engine, warehouse_url):
    with cursor_on(warehouse_url) as cursor:
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_name IN ('payloads', 'quarantine') AND column_name LIKE '%%_id'"
        )
        id_columns = sorted(cursor.fetchall())
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN ('payloads', 'quarantine')"
            " AND indexname <> 'payloads_pkey' ORDER BY 1"
        )
        indexes = cursor.fetchall()

    assert id_columns == [("payloads", "dataset_id"), ("quarantine", "dataset_id")]
    assert [name for name, _ in indexes] == ["payloads_dataset_fetched", "quarantine_identity"]
    assert "(dataset_id, fetched_at)" in indexes[0][1] and "(dataset_id, payload_sha256" in indexes[1][1]


def test_a_non_finite_number_is_refused_by_the_table_itself(engine, warehouse_url):
    with cursor_on(warehouse_url) as cursor, pytest.raises(psycopg2.errors.CheckViolation, match="volume"):
        cursor.execute(
            "INSERT INTO bars (dataset_id, bar_time, release_time, volume, release_basis, payload_sha256)"
            " VALUES ('x.y', now(), now(), 'NaN', 'observed', repeat('a', 64))"
        )


# ------------------------------------------------------------------------------------------- TimescaleDB
@pytest.mark.parametrize(
    "installed, preload, disable_load, expected",
    [
        (False, None, None, False),  # no TimescaleDB, or shared_preload_libraries hidden
        (False, "", None, False),  # files may be there, the library is not preloaded
        (False, "pg_stat_statements", None, False),
        (False, "pg_stat_statements, timescaledb", "off", True),  # preloaded: the loader's setting exists
        (False, '"$libdir/timescaledb"', None, True),  # SHOW quotes a path
        (False, None, "off", True),  # preloaded, seen by a role that cannot see the list
        (False, "timescaledb", "on", False),  # told not to load
        (True, None, None, True),  # created in this database already
        (True, "timescaledb", "on", False),
    ],
    ids=[
        "nothing",
        "files_only",
        "other_library",
        "preloaded",
        "quoted_path",
        "loader_setting_only",
        "disable_load",
        "installed",
        "installed_but_disabled",
    ],
)
def test_timescaledb_is_used_only_when_the_session_can_load_it(installed, preload, disable_load, expected):
    assert timescale.usable(installed, preload, disable_load) is expected


def test_the_servers_here_are_detected_as_plain_and_stay_plain_tables(engine, warehouse_url):
    assert timescale.prepare(engine, list(SHAPES.values()), convert=True) is False
    assert timescale.prepare(engine, list(SHAPES.values()), convert=False) is False
    with cursor_on(warehouse_url) as cursor:
        cursor.execute(timescale.PROBE_SQL)
        installed, _preload, disable_load = cursor.fetchone()
        cursor.execute("SELECT relname, relkind FROM pg_class WHERE relname = ANY(%s) ORDER BY 1", (list(SHAPES),))
        kinds = cursor.fetchall()
    assert (installed, disable_load) == (False, None)
    assert kinds == [(shape.table, "r") for shape in sorted(SHAPES.values(), key=lambda shape: shape.table)]


@pytest.mark.parametrize("name", list(SHAPES))
def test_the_hypertable_conversion_keeps_the_guard_and_chooses_the_layout(name):
    shape = SHAPES[name]
    statements = timescale.conversion_sql(shape)
    days, after = timescale.LAYOUTS[name].chunk_days, timescale.LAYOUTS[name].compress_after_days

    assert statements[0] == f"DROP TRIGGER {name}_append_only ON {name}"
    assert statements[1] == (
        f"SELECT create_hypertable('{name}', by_range('{shape.key_columns[0]}',"
        f" INTERVAL '{days} days'), migrate_data => TRUE)"
    )
    assert statements[2] == (
        f"CREATE TRIGGER {name}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON {name}"
        f" FOR EACH STATEMENT EXECUTE FUNCTION vintages_are_append_only('{name}')"
    )
    assert statements[3] == (
        f"ALTER TABLE {name} SET (timescaledb.compress, timescaledb.compress_segmentby ="
        f" '{shape.id_column}', timescaledb.compress_orderby ="
        f" '{', '.join(shape.key_columns)}, release_time')"
    )
    assert statements[4] == (
        f"SELECT add_compression_policy('{name}', compress_after => INTERVAL '{after} days', if_not_exists => TRUE)"
    )
    assert len(statements) == 5
    assert not any("year" in s or "month" in s for s in statements)  # TimescaleDB counts a month as 30 days


def test_the_chunk_intervals_are_chosen_per_shape():
    assert {n: (layout.chunk_days, layout.compress_after_days) for n, layout in timescale.LAYOUTS.items()} == {
        "observations": (3652, 1095),
        "curve_points": (365, 90),
        "bars": (30, 30),
        "expectations": (365, 90),
        "index_components": (3652, 365),
        "positions": (3652, 365),
        "trades": (1, 7),
        "tbbo": (1, 7),
        "instrument_statistics": (7, 30),
        "instrument_definitions": (90, 90),
    }


@pytest.mark.parametrize(
    "state, expected",
    [
        ({"hypertable": False, "compressed": False, "chunk_interval": None}, "conversion"),
        ({"hypertable": True, "compressed": True, "chunk_interval": dt.timedelta(days=3652)}, "nothing"),
        ({"hypertable": True, "compressed": True, "chunk_interval": dt.timedelta(days=360)}, "interval"),
        ({"hypertable": True, "compressed": False, "chunk_interval": dt.timedelta(days=3652)}, "compression"),
    ],
    ids=["plain_table", "in_layout", "old_002_interval", "uncompressed"],
)
def test_an_existing_hypertable_is_brought_to_its_layout(state, expected):
    shape = SHAPES["observations"]
    wanted = {
        "conversion": timescale.conversion_sql(shape),
        "interval": [timescale.interval_sql(shape)],
        "compression": timescale.compression_sql(shape),
        "nothing": [],
    }[expected]

    assert timescale.plan(shape, **state) == wanted
    assert timescale.interval_sql(shape) == ("SELECT set_chunk_time_interval('observations', INTERVAL '3652 days')")


@pytest.mark.parametrize("name", list(SHAPES))
def test_the_chunk_guard_is_valid_plpgsql_that_guards_truncate(engine, warehouse_url, name):
    sql = timescale.chunk_guard_sql(SHAPES[name])
    body = re.search(r"DO \$\$(.*)\$\$", sql, re.S).group(1)

    assert f"hypertable_name = '{name}'" in sql and f"t.tgname = '{name}_append_only'" in sql
    assert f"CREATE TRIGGER {name}_append_only BEFORE TRUNCATE ON %s FOR EACH STATEMENT" in sql
    # PL/pgSQL checks a body's syntax, its SQL included, when the function is created (not the tables it names,
    # which exist only with TimescaleDB).
    with cursor_on(warehouse_url) as cursor:
        cursor.execute(f"CREATE FUNCTION guard_probe() RETURNS void LANGUAGE plpgsql AS $body${body}$body$")


def test_the_conversion_lets_migrate_data_truncate_and_leaves_the_table_guarded(engine, warehouse_url):
    """A stand-in for TimescaleDB's create_hypertable does what migrate_data does to the table (moves the rows, then
    TRUNCATE ONLY): inside the conversion's transaction that passes, and afterwards the guard refuses again."""
    shape = SHAPES["observations"]
    stand_in = """
        CREATE FUNCTION by_range(column_name name, partition_interval interval) RETURNS text
            LANGUAGE sql AS $$ SELECT column_name || ' ' || partition_interval $$;
        CREATE FUNCTION create_hypertable(relation regclass, dimension text, migrate_data boolean) RETURNS void
            LANGUAGE plpgsql AS $$ BEGIN
                CREATE TABLE moved AS SELECT * FROM observations;
                EXECUTE format('TRUNCATE ONLY %s', relation);
            END $$"""
    statements = [s for s in timescale.conversion_sql(shape) if "compress" not in s]
    with cursor_on(warehouse_url) as cursor:
        cursor.execute(stand_in)
        cursor.execute(
            "INSERT INTO observations (series_id, obs_date, release_time, value, release_basis,"
            " payload_sha256) VALUES ('fred.GDP', '2020-01-01', now(), 1, 'observed', repeat('a', 64))"
        )
        for statement in statements:
            cursor.execute(statement)
        cursor.execute("SELECT (SELECT count(*) FROM moved), (SELECT count(*) FROM observations)")
        assert cursor.fetchone() == (1, 0)
        with pytest.raises(psycopg2.Error, match="observations are append-only: TRUNCATE"):
            cursor.execute("TRUNCATE observations")


def test_the_session_setting_survives_the_pool_rolling_back(warehouse_url):
    # Without TimescaleDB the setting is a placeholder: enough to see that the listener's SET is committed, since
    # a pooled connection is rolled back at every check-in and a rolled-back SET is undone.
    engine = sa.create_engine(warehouse_url, pool_size=1)
    sa.event.listen(engine, "connect", timescale.disable_skipscan)
    try:
        for _ in range(2):
            with engine.connect() as connection:
                assert connection.execute(sa.text("SHOW timescaledb.enable_skipscan")).scalar() == "off"
                connection.rollback()
    finally:
        engine.dispose()


@pytest.mark.parametrize("name", list(SHAPES))
def test_the_merge_reaches_stored_rows_only_through_constant_bounds(engine, warehouse_url, name):
    """Every statement of the staging path that reads the table names the ids and the first key's range as
    constants (what TimescaleDB needs to exclude chunks at plan time instead of decompressing every one)."""
    shape = SHAPES[name]
    vintage_engine = VintageEngine(shape)
    first = shape.key_columns[0]
    bound = f"o.{shape.id_column} = ANY(%(ids)s) AND o.{first} BETWEEN %(first)s AND %(last)s"
    statements = [vintage_engine._overlap_sql, vintage_engine._settle_sql, vintage_engine._merge_sql]
    assert all(bound in statement for statement in statements)
    # The table is read once per statement, under the alias the bounds name.
    readers = [re.findall(rf"\b(?:FROM|USING|JOIN) {name}\b\s*\w*", statement) for statement in statements]
    assert readers == [[f"FROM {name} o"], [f"USING {name} o"], [f"FROM {name} o"]]

    low, high = (
        (dt.date(2020, 1, 1), dt.date(2020, 3, 1))
        if first != "bar_time"
        else (dt.datetime(2020, 1, 1, tzinfo=dt.UTC), dt.datetime(2020, 3, 1, tzinfo=dt.UTC))
    )
    with cursor_on(warehouse_url) as cursor:
        sent = cursor.mogrify(vintage_engine._merge_sql, {"ids": ["a.b", "c.d"], "first": low, "last": high}).decode()
    kind = "date" if first != "bar_time" else "timestamptz"
    assert f"= ANY(ARRAY['a.b','c.d']) AND o.{first} BETWEEN '{low.isoformat()}'::{kind}" in sent
