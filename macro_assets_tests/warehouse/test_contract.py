"""The warehouse contract, proved on both PostgreSQL servers (the machine's 15 and the embedded 18).

Every test gets a fresh, migrated database through the `warehouse` fixture; nothing here mocks the database.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import multiprocessing
import queue
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import polars as pl
import psycopg2
import pytest

from macro_assets.catalog import UnknownSeries
from macro_assets.warehouse import PayloadRecord, QuarantineRecord, Warehouse, connect
from macro_assets.warehouse.frames import FrameError
from macro_assets.warehouse.migrations import SQL_DIR, MigrationError, apply_migrations, migration_files

REPO_ROOT = SQL_DIR.parent
SERIES = "fred.GDP"
QUARTER = pd.Timestamp("2020-01-01")
# Three vintages of the 2020Q1 GDP observation: advance, second and third estimates.
T1, T2, T3 = (pd.Timestamp(t, tz="UTC") for t in ("2020-04-29 12:30", "2020-05-28 12:30", "2020-06-25 12:30"))
V1, V2, V3 = 100.0, 101.5, 102.0
SECOND = pd.Timedelta(seconds=1)


def vintage_frame(rows, series: str = SERIES, basis: str = "vintage") -> pd.DataFrame:
    """A write frame from (obs_date, release_time, value) rows; a value of None is a withdrawal."""
    return pd.DataFrame({
        "series_id": series,
        "obs_date": pd.to_datetime([r[0] for r in rows]),
        "value": pd.Series([r[2] for r in rows], dtype="float64"),
        "release_time": [r[1] for r in rows],
        "release_basis": basis,
    })


def known_value(wh: Warehouse, as_of, series: str = SERIES, day=QUARTER) -> float | None:
    """The value as_of reports for one date, None when the date is absent."""
    frame = wh.as_of(series, as_of=as_of)
    match = frame.loc[frame["obs_date"] == pd.Timestamp(day), "value"]
    assert len(match) <= 1
    return None if match.empty else float(match.iloc[0])


def table_rows(wh: Warehouse, table: str) -> list[tuple]:
    with wh.engine.raw_connection() as connection, connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table} AS row ORDER BY row")
        return cursor.fetchall()


def stored_count(wh: Warehouse) -> int:
    return len(table_rows(wh, "observations"))


@pytest.fixture
def write_paths(monkeypatch) -> list[str]:
    """The write path each append took, in order: proves a test exercises the path it claims to."""
    taken: list[str] = []
    for name in ("_copy_new", "_merge_through_staging"):
        original = getattr(Warehouse, name)

        def spy(*args, _original=original, _name=name):
            taken.append(_name)
            return _original(*args)

        monkeypatch.setattr(Warehouse, name, staticmethod(spy))
    return taken


@pytest.fixture
def revised(warehouse) -> Warehouse:
    """2020Q1 GDP with three vintages, appended in one batch."""
    warehouse.append(vintage_frame([(QUARTER, T1, V1), (QUARTER, T2, V2), (QUARTER, T3, V3)]))
    return warehouse


# ------------------------------------------------------------------------------------------- appends
def test_reappending_the_same_frame_adds_nothing(warehouse):
    frame = vintage_frame([(QUARTER, T1, V1), (QUARTER, T2, V2), ("2020-04-01", T3, 99.0)])

    first = warehouse.append(frame)
    again = warehouse.append(frame)

    assert (first.added, first.unchanged, first.conflicts) == (3, 0, 0)
    assert (again.added, again.unchanged, again.conflicts) == (0, 3, 0)
    assert stored_count(warehouse) == 3


def test_a_vintage_equal_to_the_known_one_adds_nothing(warehouse):
    warehouse.append(vintage_frame([(QUARTER, T1, V1)]))

    result = warehouse.append(vintage_frame([(QUARTER, T2, V1)]))

    assert (result.added, result.unchanged) == (0, 1)
    assert warehouse.revisions(SERIES, QUARTER)["release_time"].tolist() == [T1]


def test_an_unchanged_vintage_within_one_batch_is_not_stored(warehouse, write_paths):
    result = warehouse.append(vintage_frame([(QUARTER, T1, V1), (QUARTER, T2, V1), (QUARTER, T3, V3)]))

    assert write_paths == ["_copy_new"]
    assert (result.added, result.unchanged) == (2, 1)
    assert warehouse.revisions(SERIES, QUARTER)["release_time"].tolist() == [T1, T3]


def test_an_out_of_order_older_vintage_is_inserted_before_the_stored_one(warehouse, write_paths):
    warehouse.append(vintage_frame([(QUARTER, T3, V3)]))

    result = warehouse.append(vintage_frame([(QUARTER, T1, V1)]))

    assert write_paths == ["_copy_new", "_merge_through_staging"]
    assert result.added == 1
    assert warehouse.revisions(SERIES, QUARTER)["value"].tolist() == [V1, V3]
    assert known_value(warehouse, T2) == V1
    assert known_value(warehouse, T3) == V3


def test_an_out_of_order_vintage_equal_to_its_predecessor_adds_nothing(warehouse, write_paths):
    warehouse.append(vintage_frame([(QUARTER, T1, V1), (QUARTER, T3, V3)]))

    result = warehouse.append(vintage_frame([(QUARTER, T2, V1)]))

    assert write_paths[-1] == "_merge_through_staging"
    assert (result.added, result.unchanged) == (0, 1)
    assert warehouse.revisions(SERIES, QUARTER)["release_time"].tolist() == [T1, T3]


RELEASES = pd.date_range("2019-02-15 13:30", periods=6, freq="MS", tz="UTC") + pd.Timedelta(days=14)


def _history() -> list[tuple]:
    """Twelve monthly dates with up to six vintages each: repeated values (dropped by the append rule), a
    withdrawal restored one release later, a leading withdrawal, and dates first published at later releases."""
    rows = []
    for i, day in enumerate(pd.date_range("2019-01-01", periods=12, freq="MS")):
        first_release = i // 4
        for k, release in enumerate(RELEASES[first_release:], start=first_release):
            value = 100.0 + i + 0.5 * ((k + i) // 2)
            if i % 5 == 2 and k == 3:
                value = None
            if i % 7 == 6 and k == first_release:
                value = None
            rows.append((day, release, value))
    return rows


def test_the_staging_path_stores_what_the_copy_path_stores(warehouse, write_paths):
    history = _history()
    cutoff, restart = RELEASES[3], RELEASES[2]
    warehouse.append(vintage_frame(history, series="test.one_batch"))
    # A first fetch up to a release, then a re-fetch overlapping it by two releases and bringing new dates.
    warehouse.append(vintage_frame([r for r in history if r[1] <= cutoff], series="test.two_batches"))
    warehouse.append(vintage_frame([r for r in history if r[1] >= restart], series="test.two_batches"))

    assert write_paths == ["_copy_new", "_copy_new", "_merge_through_staging"]

    def without_series(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.drop(columns="series_id").reset_index(drop=True)

    one, two = "test.one_batch", "test.two_batches"
    pd.testing.assert_frame_equal(without_series(warehouse.vintages(one, None, None)),
                                  without_series(warehouse.vintages(two, None, None)))
    for day in sorted({r[0] for r in history}):
        pd.testing.assert_frame_equal(without_series(warehouse.revisions(one, day)),
                                      without_series(warehouse.revisions(two, day)))
    for instant in [*RELEASES, *(RELEASES + pd.Timedelta(days=1)), *(RELEASES - SECOND)]:
        pd.testing.assert_frame_equal(without_series(warehouse.as_of(one, as_of=instant)),
                                      without_series(warehouse.as_of(two, as_of=instant)))
    pd.testing.assert_frame_equal(without_series(warehouse.first_release(one)),
                                  without_series(warehouse.first_release(two)))


# ------------------------------------------------------------------------------ point-in-time reads
def test_as_of_returns_the_vintage_known_at_each_instant(revised):
    assert known_value(revised, T1 - pd.Timedelta(days=1)) is None
    assert known_value(revised, T1 + pd.Timedelta(days=1)) == V1
    assert known_value(revised, T2 + pd.Timedelta(days=1)) == V2
    assert known_value(revised, T3 + pd.Timedelta(days=1)) == V3


def test_as_of_at_a_release_instant_includes_that_vintage(revised):
    assert known_value(revised, T1) == V1
    assert known_value(revised, T2) == V2
    assert known_value(revised, T2 - SECOND) == V1


def test_as_of_defaults_to_now(warehouse):
    now = pd.Timestamp.now(tz="UTC")
    warehouse.append(vintage_frame([(QUARTER, now - pd.Timedelta(hours=1), V1),
                                    (QUARTER, now + pd.Timedelta(days=1), V2)]))

    assert known_value(warehouse, None) == V1


def test_first_release_returns_the_first_vintage(revised):
    first = revised.first_release(SERIES)

    assert first[["value", "release_time"]].values.tolist() == [[V1, T1]]


def test_latest_returns_the_newest_vintage(revised):
    latest = revised.latest(SERIES)

    assert latest[["value", "release_time"]].values.tolist() == [[V3, T3]]


def test_revisions_list_every_vintage_oldest_first(revised):
    history = revised.revisions(SERIES, QUARTER)

    assert history["value"].tolist() == [V1, V2, V3]
    assert history["release_time"].tolist() == [T1, T2, T3]
    assert history["release_basis"].tolist() == ["vintage"] * 3


def test_reads_return_one_frame_shape_with_or_without_rows(revised):
    rows, no_rows = revised.as_of(SERIES), revised.as_of(SERIES, as_of=T1 - SECOND)

    assert no_rows.empty and not rows.empty
    assert rows.columns.tolist() == no_rows.columns.tolist() == ["series_id", "obs_date", "value", "release_time",
                                                                 "release_basis"]
    assert rows.dtypes.to_dict() == no_rows.dtypes.to_dict()
    assert rows.dtypes.astype(str)[["obs_date", "value", "release_time"]].tolist() == [
        "datetime64[us]", "float64", "datetime64[us, UTC]"]


# --------------------------------------------------------------------------------------- withdrawals
@pytest.fixture
def withdrawn(warehouse) -> Warehouse:
    """V1 at T1, withdrawn at T2, restored as V3 at T3."""
    warehouse.append(vintage_frame([(QUARTER, T1, V1), (QUARTER, T2, None), (QUARTER, T3, V3)]))
    return warehouse


def test_a_withdrawal_hides_the_date_until_a_later_vintage_restores_it(withdrawn):
    assert known_value(withdrawn, T2 - SECOND) == V1
    assert known_value(withdrawn, T2) is None
    assert known_value(withdrawn, T3 - SECOND) is None
    assert known_value(withdrawn, T3) == V3


def test_revisions_show_a_withdrawal_as_nan(withdrawn):
    values = withdrawn.revisions(SERIES, QUARTER)["value"]

    assert values.iloc[0] == V1 and np.isnan(values.iloc[1]) and values.iloc[2] == V3


def test_a_withdrawal_as_the_latest_vintage_hides_the_date_from_latest(warehouse):
    warehouse.append(vintage_frame([(QUARTER, T1, V1), (QUARTER, T2, None)]))

    assert warehouse.latest(SERIES).empty
    assert warehouse.first_release(SERIES)["value"].tolist() == [V1]


@pytest.mark.parametrize("path", ["_copy_new", "_merge_through_staging"])
def test_a_leading_withdrawal_is_not_stored(warehouse, write_paths, path):
    if path == "_merge_through_staging":  # a stored row of the same series inside the batch's dates
        warehouse.append(vintage_frame([("2019-12-01", T1, 1.0)]))
        warehouse.append(vintage_frame([("2019-10-01", T1, 1.0), (QUARTER, T2, None)]))
    else:
        warehouse.append(vintage_frame([(QUARTER, T2, None)]))

    assert write_paths[-1] == path
    assert warehouse.revisions(SERIES, QUARTER).empty


# ------------------------------------------------------------------------------------------ conflicts
def test_a_different_value_at_a_stored_release_time_is_quarantined_not_stored(warehouse):
    warehouse.append(vintage_frame([(QUARTER, T1, V1)]))

    result = warehouse.append(vintage_frame([(QUARTER, T1, 555.0)]))

    assert (result.added, result.unchanged, result.conflicts) == (0, 0, 1)
    assert warehouse.revisions(SERIES, QUARTER)["value"].tolist() == [V1]
    quarantined = warehouse.quarantined(SERIES)
    assert len(quarantined) == 1
    assert "555.0" in quarantined["raw_record"].iloc[0]
    assert "conflicts with the stored vintage" in quarantined["reason"].iloc[0]


def test_two_rows_of_one_batch_with_one_key_and_different_values_are_quarantined_not_stored(warehouse):
    result = warehouse.append(vintage_frame([(QUARTER, T1, V1), (QUARTER, T1, 555.0), ("2020-04-01", T1, 7.0)]))

    assert (result.added, result.conflicts) == (1, 2)
    assert warehouse.revisions(SERIES, QUARTER).empty
    assert warehouse.revisions(SERIES, "2020-04-01")["value"].tolist() == [7.0]
    assert sorted(warehouse.quarantined(SERIES)["raw_record"].str.split(",").str[-1]) == ["100.0", "555.0"]


# --------------------------------------------------------------------------------- instants and windows
def test_naive_instants_mean_utc(warehouse):
    warehouse.append(vintage_frame([(QUARTER, dt.datetime(2020, 4, 29, 12, 30), V1)]))

    assert warehouse.revisions(SERIES, QUARTER)["release_time"].tolist() == [T1]
    assert known_value(warehouse, dt.datetime(2020, 4, 29, 12, 30)) == V1
    assert known_value(warehouse, "2020-04-29 12:29:59") is None


def test_aware_instants_are_converted_to_utc(warehouse):
    sao_paulo = ZoneInfo("America/Sao_Paulo")  # UTC-3 in 2020
    warehouse.append(vintage_frame([(QUARTER, pd.Timestamp("2020-04-29 09:30", tz=sao_paulo), V1)]))

    assert warehouse.revisions(SERIES, QUARTER)["release_time"].tolist() == [T1]
    assert known_value(warehouse, dt.datetime(2020, 4, 29, 9, 30, tzinfo=sao_paulo)) == V1
    assert known_value(warehouse, pd.Timestamp("2020-04-29 09:29:59", tz=sao_paulo)) is None


def test_as_of_reads_a_list_of_series(warehouse):
    warehouse.append(vintage_frame([(QUARTER, T1, V1)]))
    warehouse.append(vintage_frame([(QUARTER, T1, 3.8), ("2020-02-01", T1, 3.5)], series="fred.UNRATE"))

    frame = warehouse.as_of([SERIES, "fred.UNRATE"], as_of=T2)

    assert frame[["series_id", "value"]].values.tolist() == [[SERIES, V1], ["fred.UNRATE", 3.8], ["fred.UNRATE", 3.5]]


def test_a_series_listed_twice_is_read_once(warehouse):
    warehouse.append(vintage_frame([(QUARTER, T1, V1)]))

    assert warehouse.as_of([SERIES, SERIES])["value"].tolist() == [V1]


def test_start_and_end_are_inclusive(warehouse):
    months = pd.date_range("2020-01-01", periods=6, freq="MS")
    warehouse.append(vintage_frame([(m, T1, float(i)) for i, m in enumerate(months)]))

    for read in (warehouse.as_of, warehouse.latest, warehouse.first_release):
        frame = read(SERIES, start="2020-02-01", end="2020-04-01")
        assert frame["obs_date"].tolist() == list(months[1:4])


@pytest.mark.parametrize("read", [
    lambda wh: wh.as_of("fred.NOPE"),
    lambda wh: wh.as_of([SERIES, "fred.NOPE"]),
    lambda wh: wh.latest("fred.NOPE"),
    lambda wh: wh.first_release("fred.NOPE"),
    lambda wh: wh.revisions("fred.NOPE", QUARTER),
], ids=["as_of", "as_of_list", "latest", "first_release", "revisions"])
def test_an_unknown_series_is_refused(warehouse, read):
    with pytest.raises(UnknownSeries, match="fred.NOPE"):
        read(warehouse)


def test_a_catalog_series_without_data_reads_empty(warehouse):
    assert warehouse.as_of(SERIES).empty


@pytest.mark.parametrize("read", [
    lambda wh: wh.as_of(SERIES, as_of="not-a-date"),
    lambda wh: wh.as_of(SERIES, start="2020-02-30"),
    lambda wh: wh.as_of(SERIES, start="2020-06-01", end="2020-01-01"),
    lambda wh: wh.revisions(SERIES, "not-a-date"),
], ids=["as_of", "impossible_start", "start_after_end", "revisions_date"])
def test_a_bad_date_is_refused(warehouse, read):
    with pytest.raises(ValueError):
        read(warehouse)


# ------------------------------------------------------------------------------------ append-only table
@pytest.mark.parametrize("statement", [
    "UPDATE observations SET value = 0",
    "DELETE FROM observations",
    "TRUNCATE observations",
])
def test_stored_vintages_cannot_be_changed(revised, statement):
    with revised.engine.raw_connection() as connection:
        with connection.cursor() as cursor, pytest.raises(psycopg2.Error, match="append-only"):
            cursor.execute(statement)
        connection.rollback()

    assert revised.revisions(SERIES, QUARTER)["value"].tolist() == [V1, V2, V3]


# ------------------------------------------------------------------------------------------- migrations
def test_every_migration_is_recorded_with_its_digest(warehouse):
    recorded = {name: digest for name, digest, _applied_at in table_rows(warehouse, "schema_migrations")}

    assert recorded == {p.name: hashlib.sha256(p.read_text(encoding="utf-8").encode()).hexdigest()
                        for p in migration_files()}


def test_reapplying_migrations_applies_nothing(warehouse):
    assert warehouse.migrate() == []
    assert apply_migrations(warehouse.engine) == []


def test_a_new_migration_is_applied_once(warehouse, tmp_path):
    sql_dir = shutil.copytree(SQL_DIR, tmp_path / "sql")
    (sql_dir / "900_probe.sql").write_text("CREATE TABLE probe (x integer);\n", encoding="utf-8")

    assert apply_migrations(warehouse.engine, sql_dir=sql_dir) == ["900_probe.sql"]
    assert apply_migrations(warehouse.engine, sql_dir=sql_dir) == []


def test_an_edited_migration_is_refused(warehouse, tmp_path):
    sql_dir = shutil.copytree(SQL_DIR, tmp_path / "sql")
    edited = migration_files(sql_dir)[0]
    edited.write_text(edited.read_text(encoding="utf-8") + "\n-- edited after it was applied\n", encoding="utf-8")
    before = table_rows(warehouse, "schema_migrations")

    with pytest.raises(MigrationError, match=edited.name):
        apply_migrations(warehouse.engine, sql_dir=sql_dir)
    assert table_rows(warehouse, "schema_migrations") == before


# --------------------------------------------------------------------------- payloads and quarantine
def payload_record(object_key: str = "fred/GDP/2020-07-01.json", window_start=dt.date(2020, 1, 1)) -> PayloadRecord:
    return PayloadRecord(
        object_key=object_key, payload_sha256=hashlib.sha256(object_key.encode()).hexdigest(), source="fred",
        series_id=SERIES, request="GET https://api.stlouisfed.org/fred/series/observations?api_key=REDACTED",
        http_status=200, bytes=1234, window_start=window_start, window_end=dt.date(2020, 12, 31),
        fetched_at=dt.datetime(2020, 7, 1, tzinfo=dt.UTC),
    )


def quarantine_record(raw_record: str = "2020-01-01,.x") -> QuarantineRecord:
    return QuarantineRecord(source="fred", series_id=SERIES, payload_sha256="a" * 64, record_index=3,
                            field="value", raw_record=raw_record, reason="not a number")


def test_payload_and_quarantine_records_are_stored_with_the_rows(warehouse):
    warehouse.append(vintage_frame([(QUARTER, T1, V1)]), payloads=[payload_record()], quarantine=[quarantine_record()])

    payloads = warehouse.payloads(SERIES)
    quarantined = warehouse.quarantined(SERIES)
    assert payloads[["object_key", "http_status", "bytes"]].values.tolist() == [["fred/GDP/2020-07-01.json", 200, 1234]]
    assert quarantined[["record_index", "field", "raw_record"]].values.tolist() == [[3, "value", "2020-01-01,.x"]]
    assert stored_count(warehouse) == 1


@pytest.mark.parametrize("path", ["_copy_new", "_merge_through_staging"])
def test_a_failing_append_leaves_every_table_as_it_was(warehouse, write_paths, path):
    warehouse.append(vintage_frame([(QUARTER, T1, V1)]), payloads=[payload_record()], quarantine=[quarantine_record()])
    tables = ("observations", "payloads", "quarantine")
    before = {t: table_rows(warehouse, t) for t in tables}
    series = SERIES if path == "_merge_through_staging" else "fred.UNRATE"

    with pytest.raises(psycopg2.IntegrityError, match="window_start"):
        warehouse.append(vintage_frame([(QUARTER, T2, V2), ("2020-04-01", T2, 9.0)], series=series),
                         payloads=[payload_record("fred/GDP/broken.json", window_start=None)],
                         quarantine=[quarantine_record("another bad record")])

    assert write_paths[-1] == path
    assert {t: table_rows(warehouse, t) for t in tables} == before


def payrolls_frame() -> pd.DataFrame:
    return pd.DataFrame({"series_id": "fred.PAYEMS", "obs_date": pd.date_range("2000-01-01", periods=300, freq="MS"),
                         "value": 1.0, "release_time": pd.Timestamp("2021-01-08 13:30", tz="UTC")})


KILLED_WRITER = textwrap.dedent("""
    import sys, time
    from macro_assets.warehouse import connect
    from macro_assets.warehouse.frames import normalize_for_write
    from macro_assets_tests.warehouse.test_contract import payrolls_frame

    wh = connect(sys.argv[1])
    with wh.transaction() as connection:
        wh.write(connection, normalize_for_write(payrolls_frame()), [], [])
        print("written", flush=True)
        time.sleep(60)
""")


@pytest.mark.timeout(60)
def test_a_writer_killed_mid_transaction_leaves_nothing_and_blocks_nobody(warehouse, warehouse_url):
    writer = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, warehouse_url], cwd=REPO_ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "written"
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        writer.stdout.close()
        writer.stderr.close()

    assert stored_count(warehouse) == 0
    # The same rows again: the dead writer's advisory lock and uncommitted rows must not be in the way.
    assert warehouse.append(payrolls_frame()).added == 300


# ---------------------------------------------------------------------------------- concurrent writers
CONCURRENT_SERIES = ("fred.DGS10", "fred.UNRATE")
DAY_ZERO = pd.Timestamp("2000-01-01")
# Per round: the two writers' windows of days, overlapping by half, and how many vintages each day has by then.
# A first load of days nothing is stored for races on the COPY path; the re-fetch after it races on the staging path.
WRITER_ROUNDS = [
    ((0, 1000), (500, 1500), 1),
    ((0, 1000), (500, 1500), 2),
    ((2000, 3000), (2500, 3500), 1),
    ((2000, 3000), (2500, 3500), 3),
]


def concurrent_frame(window: tuple[int, int], vintages: int) -> pd.DataFrame:
    """Every vintage so far of a window of days: even days are revised at every release, odd days never, so a
    re-fetch brings both new vintages and vintages the append rule must drop."""
    rows = [
        (series, DAY_ZERO + pd.Timedelta(days=day), pd.Timestamp("2024-06-01", tz="UTC") + pd.Timedelta(days=k),
         day + (0.25 * k if day % 2 == 0 else 0.0))
        for series in CONCURRENT_SERIES for day in range(*window) for k in range(vintages)
    ]
    return pd.DataFrame(rows, columns=["series_id", "obs_date", "release_time", "value"])


def distinct_changes(frame: pd.DataFrame) -> set[tuple]:
    """The vintages that change the known value of their date, worked out independently of the warehouse."""
    ordered = frame.drop_duplicates().sort_values(["series_id", "obs_date", "release_time"])
    previous = ordered.groupby(["series_id", "obs_date"])["value"].shift()
    changes = ordered[previous.isna() | (ordered["value"] != previous)]
    return set(changes[["series_id", "obs_date", "release_time", "value"]].itertuples(index=False, name=None))


def _append_in_rounds(url: str, frames: list[pd.DataFrame], barrier, results) -> None:
    with connect(url) as wh:
        for round_number, frame in enumerate(frames):
            barrier.wait(timeout=60)
            results.put((round_number, wh.append(frame)))


def collect_outcomes(results, writers, count: int) -> list[tuple]:
    """The writers' results; fails as soon as a writer dies instead of waiting for results that never come."""
    outcomes = []
    deadline = time.monotonic() + 90
    while len(outcomes) < count:
        try:
            outcomes.append(results.get(timeout=0.5))
        except queue.Empty:
            failed = [w.exitcode for w in writers if w.exitcode not in (None, 0)]
            assert not failed, f"a writer failed (exit codes {failed}); its traceback is on stderr"
            assert time.monotonic() < deadline, f"writers gave {len(outcomes)} of {count} results"
    return outcomes


@pytest.mark.timeout(120)
def test_concurrent_writers_of_one_partition_add_each_change_once(warehouse, warehouse_url):
    frames = [[concurrent_frame(windows[writer], vintages) for *windows, vintages in WRITER_ROUNDS]
              for writer in range(2)]
    context = multiprocessing.get_context("spawn")  # fork is unsafe once polars' thread pool is running
    barrier, results = context.Barrier(len(frames)), context.Queue()
    writers = [context.Process(target=_append_in_rounds, args=(warehouse_url, f, barrier, results)) for f in frames]
    for writer in writers:
        writer.start()
    try:
        outcomes = collect_outcomes(results, writers, len(writers) * len(WRITER_ROUNDS))
    finally:
        for writer in writers:
            writer.join(timeout=10)
            if writer.is_alive():
                writer.kill()

    expected_so_far: set[tuple] = set()
    for r in range(len(WRITER_ROUNDS)):
        round_results = [result for number, result in outcomes if number == r]
        assert [result.conflicts for result in round_results] == [0, 0]
        assert sorted(result.added + result.unchanged for result in round_results) == sorted(
            len(writer_frames[r]) for writer_frames in frames)
        known_before = len(expected_so_far)
        expected_so_far |= distinct_changes(pd.concat([frames[0][r], frames[1][r]]))
        assert sum(result.added for result in round_results) == len(expected_so_far) - known_before
    stored = {(s, pd.Timestamp(d), pd.Timestamp(t), v) for s, d, t, v, *_ in table_rows(warehouse, "observations")}
    assert stored == expected_so_far


# --------------------------------------------------------------------------------------- frame errors
def _frame() -> pd.DataFrame:
    return vintage_frame([(QUARTER, T1, V1), ("2020-04-01", T1, 2.0)])


@pytest.mark.parametrize("bad_frame, column", [
    (lambda: _frame().assign(value=[V1, np.inf]), "value"),
    (lambda: _frame().assign(value=[-np.inf, 2.0]), "value"),
    (lambda: pl.from_pandas(_frame()).with_columns(value=pl.lit(float("nan"))), "value"),
    (lambda: _frame().drop(columns="release_time"), "release_time"),
    (lambda: _frame().drop(columns="series_id"), "series_id"),
    (lambda: _frame().assign(release_basis=["vintage", "guessed"]), "release_basis"),
    (lambda: _frame().assign(obs_date=["2020-01-01", "not-a-date"]), "obs_date"),
    (lambda: _frame().assign(release_time=[T1, None]), "release_time"),
], ids=["inf", "minus_inf", "polars_nan", "no_release_time", "no_series_id", "bad_release_basis", "bad_obs_date",
        "empty_release_time"])
def test_a_malformed_frame_is_refused_naming_the_column(warehouse, bad_frame, column):
    with pytest.raises(FrameError, match=column):
        warehouse.append(bad_frame())

    assert stored_count(warehouse) == 0
