"""The append-only vintage contract, proved for every shape (observations, curve points, bars) on both PostgreSQL
servers (the machine's 15 and the embedded 18).

Every test gets a fresh, migrated database through the `warehouse` fixture; nothing here mocks the database. The
`case` fixture builds each shape's rows from a level (see conftest.py), so one rule is one test for all tables.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import polars as pl
import psycopg2
import pytest

from macro_assets.errors import FrameError, InvalidInput, UnknownDataset
from macro_assets.provenance import PayloadRecord, QuarantineRecord
from macro_assets.warehouse import connect, frames

from .cases import CASES
from .conftest import cursor_on, table_rows

# Three vintages of one key: advance, second and third estimates.
T1, T2, T3 = (pd.Timestamp(t, tz="UTC") for t in ("2020-04-29 12:30", "2020-05-28 12:30", "2020-06-25 12:30"))
V1, V2, V3 = 100.0, 101.5, 102.0
SECOND = pd.Timedelta(seconds=1)


@pytest.fixture
def revised(warehouse, case):
    """Key 0 with three vintages, appended in one batch."""
    warehouse.pipeline.append(case.shape, case.frame([(0, T1, V1), (0, T2, V2), (0, T3, V3)]))
    return warehouse


def stored(url: str, case) -> int:
    """Rows of the case's datasets in its table."""
    with cursor_on(url) as cursor:
        cursor.execute(
            f"SELECT count(*) FROM {case.shape.table} WHERE {case.id_column} IN (%s, %s)", (case.dataset, case.other)
        )
        return cursor.fetchone()[0]


# ------------------------------------------------------------------------------------------- appends
def test_reappending_the_same_frame_adds_nothing(warehouse, shared_url, case):
    frame = case.frame([(0, T1, V1), (0, T2, V2), (1, T3, 99.0)])

    first = warehouse.pipeline.append(case.shape.name, frame)
    again = warehouse.pipeline.append(case.shape.name, frame)

    assert (first.added, first.unchanged, first.conflicts) == (3, 0, 0)
    assert (again.added, again.unchanged, again.conflicts) == (0, 3, 0)
    assert stored(shared_url, case) == 3


def test_a_polars_frame_is_appended_like_a_pandas_one(warehouse, case):
    result = warehouse.pipeline.append(case.shape, pl.from_pandas(case.frame([(0, T1, V1), (1, T1, V2)])))

    assert result.added == 2
    assert case.level(warehouse, T1, 1) == V2


def test_a_vintage_equal_to_the_known_one_adds_nothing(warehouse, case):
    warehouse.pipeline.append(case.shape, case.frame([(0, T1, V1)]))

    result = warehouse.pipeline.append(case.shape, case.frame([(0, T2, V1)]))

    assert (result.added, result.unchanged) == (0, 1)
    assert case.history(warehouse)["release_time"].tolist() == [T1]


def _one_column_changed(base: pd.DataFrame, column: str, release: pd.Timestamp) -> pd.DataFrame:
    revision = base.assign(release_time=release)
    value = revision[column].iloc[0]
    if pd.isna(value):
        revision[column] = pd.Timestamp("2031-01-01") if column == "maturity_date" else 7.0
    elif isinstance(value, str):
        revision[column] = value + "'"
    else:
        revision[column] = value + (pd.Timedelta(days=1) if column == "maturity_date" else 1)
    return revision


@pytest.mark.parametrize("path", ["_copy_new", "_merge_through_staging"])
def test_a_change_in_any_one_value_column_is_a_new_vintage(warehouse, write_paths, case, path):
    base = case.frame([(0, T1, V1)])
    revisions = []
    for k, column in enumerate(case.shape.value_columns, start=1):
        revisions.append(_one_column_changed(base, column, T1 + pd.Timedelta(days=k)))
        revisions.append(base.assign(release_time=T1 + pd.Timedelta(days=k, hours=12)))  # changing back is a change
    if path == "_copy_new":
        added = warehouse.pipeline.append(case.shape, pd.concat([base, *revisions])).added
    else:
        added = sum(warehouse.pipeline.append(case.shape, frame).added for frame in [base, *revisions])

    assert set(write_paths) == ({"_copy_new"} if path == "_copy_new" else {"_copy_new", "_merge_through_staging"})
    assert added == 1 + 2 * len(case.shape.value_columns)
    assert len(case.history(warehouse)) == added


def test_an_unchanged_vintage_within_one_batch_is_not_stored(warehouse, write_paths, case):
    result = warehouse.pipeline.append(case.shape, case.frame([(0, T1, V1), (0, T2, V1), (0, T3, V3)]))

    assert write_paths == ["_copy_new"]
    assert (result.added, result.unchanged) == (2, 1)
    assert case.history(warehouse)["release_time"].tolist() == [T1, T3]


def test_an_out_of_order_older_vintage_is_inserted_before_the_stored_one(warehouse, write_paths, case):
    warehouse.pipeline.append(case.shape, case.frame([(0, T3, V3)]))

    result = warehouse.pipeline.append(case.shape, case.frame([(0, T1, V1)]))

    assert write_paths == ["_copy_new", "_merge_through_staging"]
    assert result.added == 1
    assert case.history(warehouse)[case.level_column].tolist() == [V1, V3]
    assert case.level(warehouse, T2) == V1
    assert case.level(warehouse, T3) == V3


def test_an_out_of_order_vintage_equal_to_its_predecessor_adds_nothing(warehouse, write_paths, case):
    warehouse.pipeline.append(case.shape, case.frame([(0, T1, V1), (0, T3, V3)]))

    result = warehouse.pipeline.append(case.shape, case.frame([(0, T2, V1)]))

    assert write_paths[-1] == "_merge_through_staging"
    assert (result.added, result.unchanged) == (0, 1)
    assert case.history(warehouse)["release_time"].tolist() == [T1, T3]


RELEASES = pd.date_range("2019-02-15 13:30", periods=6, freq="MS", tz="UTC") + pd.Timedelta(days=14)


def _history() -> list[tuple]:
    """Twelve keys with up to six vintages each: repeated values (dropped by the append rule), a withdrawal
    restored one release later, a leading withdrawal, and keys first published at later releases."""
    rows = []
    for i in range(12):
        first_release = i // 4
        for k, release in enumerate(RELEASES[first_release:], start=first_release):
            level = 100.0 + i + 0.5 * ((k + i) // 2)
            if i % 5 == 2 and k == 3:
                level = None
            if i % 7 == 6 and k == first_release:
                level = None
            rows.append((i, release, level))
    return rows


def _changes(rows: list[tuple]) -> list[tuple]:
    """The append rule worked out independently of the warehouse: the vintages that change their key's level."""
    kept, last = [], {}
    for i, release, level in sorted(rows, key=lambda r: (r[0], r[1])):
        if (i in last and level != last[i]) or (i not in last and level is not None):
            kept.append((i, release, level))
        last[i] = level
    return kept


def test_the_staging_path_stores_what_the_copy_path_stores(warehouse, write_paths, case):
    history, read = _history(), case.read(warehouse)
    cutoff, restart = RELEASES[3], RELEASES[2]
    one, two = case.dataset, case.other
    warehouse.pipeline.append(case.shape, case.frame(history, dataset=one))
    # A first fetch up to a release, then a re-fetch overlapping it by two releases and bringing new keys.
    warehouse.pipeline.append(case.shape, case.frame([r for r in history if r[1] <= cutoff], dataset=two))
    warehouse.pipeline.append(case.shape, case.frame([r for r in history if r[1] >= restart], dataset=two))

    assert write_paths == ["_copy_new", "_copy_new", "_merge_through_staging"]

    def without_id(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.drop(columns=case.id_column).reset_index(drop=True)

    stored_vintages = without_id(read.vintages(one))
    assert len(stored_vintages) == len(_changes(history))
    pd.testing.assert_frame_equal(stored_vintages, without_id(read.vintages(two)))
    for instant in [*RELEASES, *(RELEASES + pd.Timedelta(days=1)), *(RELEASES - SECOND)]:
        pd.testing.assert_frame_equal(
            without_id(read.as_of(one, as_of=instant)), without_id(read.as_of(two, as_of=instant))
        )
        pd.testing.assert_frame_equal(
            without_id(read.first_release(one, as_of=instant)), without_id(read.first_release(two, as_of=instant))
        )


# ------------------------------------------------------------------------------ point-in-time reads
@pytest.mark.parametrize(
    "instant, level",
    [
        (T1 - pd.Timedelta(days=1), None),
        (T1 - SECOND, None),
        (T1, V1),
        (T1 + pd.Timedelta(days=1), V1),
        (T2 - SECOND, V1),
        (T2, V2),
        (T3 - SECOND, V2),
        (T3, V3),
        (T3 + pd.Timedelta(days=400), V3),
    ],
    ids=[
        "day_before",
        "second_before",
        "at_first",
        "after_first",
        "before_second",
        "at_second",
        "before_third",
        "at_third",
        "long_after",
    ],
)
def test_as_of_returns_the_vintage_known_at_each_instant(revised, case, instant, level):
    assert case.level(revised, instant) == level


def test_as_of_defaults_to_now(warehouse, case):
    now = pd.Timestamp.now(tz="UTC")
    warehouse.pipeline.append(
        case.shape, case.frame([(0, now - pd.Timedelta(hours=1), V1), (0, now + pd.Timedelta(days=1), V2)])
    )

    assert case.level(warehouse, None) == V1
    assert case.read(warehouse).latest(case.dataset)[case.level_column].tolist() == [V1]


def test_latest_first_release_and_vintages_read_the_three_vintages(revised, case):
    read = case.read(revised)

    assert read.latest(case.dataset)[[case.level_column, "release_time"]].values.tolist() == [[V3, T3]]
    assert read.first_release(case.dataset)[[case.level_column, "release_time"]].values.tolist() == [[V1, T1]]
    vintages = read.vintages(case.dataset)
    assert vintages[case.level_column].tolist() == [V1, V2, V3]
    assert vintages["release_time"].tolist() == [T1, T2, T3]
    assert vintages["release_basis"].tolist() == ["vintage"] * 3


def test_first_release_and_vintages_honour_as_of(revised, case):
    read = case.read(revised)

    assert read.first_release(case.dataset, as_of=T1 - SECOND).empty
    assert read.first_release(case.dataset, as_of=T2)[case.level_column].tolist() == [V1]
    assert read.vintages(case.dataset, as_of=T2 - SECOND)[case.level_column].tolist() == [V1]
    assert read.vintages(case.dataset, as_of=T2)[case.level_column].tolist() == [V1, V2]


def test_reads_return_one_frame_shape_with_or_without_rows(revised, case):
    read = case.read(revised)
    rows, no_rows = read.as_of(case.dataset), read.as_of(case.dataset, as_of=T1 - SECOND)

    extra = ["days_to_maturity", "business_days_to_maturity"] if case.shape.name == "curve_points" else []
    assert no_rows.empty and not rows.empty
    assert (
        rows.columns.tolist()
        == no_rows.columns.tolist()
        == [case.id_column, *case.shape.key_columns, *case.shape.value_columns, "release_time", "release_basis", *extra]
    )
    assert rows.dtypes.to_dict() == no_rows.dtypes.to_dict()
    assert str(rows.dtypes[case.level_column]) == "float64"
    assert str(rows.dtypes["release_time"]) == "datetime64[us, UTC]"


# --------------------------------------------------------------------------------------- withdrawals
@pytest.fixture
def withdrawn(warehouse, case):
    """V1 at T1, withdrawn at T2 (every value null), restored as V3 at T3."""
    warehouse.pipeline.append(case.shape, case.frame([(0, T1, V1), (0, T2, None), (0, T3, V3)]))
    return warehouse


def test_a_withdrawal_hides_the_key_until_a_later_vintage_restores_it(withdrawn, case):
    assert case.level(withdrawn, T2 - SECOND) == V1
    assert case.level(withdrawn, T2) is None
    assert case.level(withdrawn, T3 - SECOND) is None
    assert case.level(withdrawn, T3) == V3


def test_vintages_show_a_withdrawal_as_nulls_in_every_value_column(withdrawn, case):
    history = case.history(withdrawn)

    assert history[case.level_column].iloc[0] == V1 and history[case.level_column].iloc[2] == V3
    assert history.loc[1, case.shape.value_columns].isna().all()


def test_a_withdrawal_as_the_latest_vintage_hides_the_key_from_latest(warehouse, case):
    warehouse.pipeline.append(case.shape, case.frame([(0, T1, V1), (0, T2, None)]))

    assert case.read(warehouse).latest(case.dataset).empty
    assert case.read(warehouse).first_release(case.dataset)[case.level_column].tolist() == [V1]


@pytest.mark.parametrize("path", ["_copy_new", "_merge_through_staging"])
def test_a_leading_withdrawal_is_not_stored(warehouse, write_paths, case, path):
    if path == "_merge_through_staging":  # a stored row of the same dataset inside the batch's key range
        warehouse.pipeline.append(case.shape, case.frame([(4, T1, 1.0)]))
        warehouse.pipeline.append(case.shape, case.frame([(8, T1, 1.0), (0, T2, None)]))
    else:
        warehouse.pipeline.append(case.shape, case.frame([(0, T2, None)]))

    assert write_paths[-1] == path
    assert case.history(warehouse).empty


# ------------------------------------------------------------------------------------------ conflicts
def test_different_values_at_a_stored_release_time_are_quarantined_not_stored(warehouse, case):
    warehouse.pipeline.append(case.shape, case.frame([(0, T1, V1)]))

    result = warehouse.pipeline.append(case.shape, case.frame([(0, T1, 555.0)]))

    assert (result.added, result.unchanged, result.conflicts) == (0, 0, 1)
    assert case.history(warehouse)[case.level_column].tolist() == [V1]
    quarantined = warehouse.pipeline.quarantined(case.dataset)
    assert len(quarantined) == 1
    record = quarantined.iloc[0]
    assert json.loads(record["raw_record"])[case.level_column] == 555.0
    assert record["reason"].endswith(f"conflicts with the stored vintage released at {T1.isoformat()}")
    before, after = case.values(0, V1), case.values(0, 555.0)
    differing = [c for c in case.shape.value_columns if before[c] != after[c]]
    assert record["field"].split(",") == differing
    assert (record["source"], record["record_index"]) == (case.dataset.split(".")[0], -1)


def test_two_rows_of_one_batch_with_one_key_and_different_values_are_quarantined_not_stored(warehouse, case):
    result = warehouse.pipeline.append(case.shape, case.frame([(0, T1, V1), (0, T1, 555.0), (1, T1, 7.0)]))

    assert (result.added, result.conflicts) == (1, 2)
    assert case.history(warehouse).empty
    assert case.history(warehouse, 1)[case.level_column].tolist() == [7.0]
    quarantined = warehouse.pipeline.quarantined(case.dataset)
    assert sorted(json.loads(raw)[case.level_column] for raw in quarantined["raw_record"]) == [V1, 555.0]
    reasons = set(quarantined["reason"].str.split(": ").str[-1])
    assert reasons == {"two rows of the batch give one vintage different values"}


def test_a_conflicting_row_is_not_the_predecessor_of_later_rows_of_its_batch(warehouse, write_paths, case):
    """Stored V1 at T1; a batch brings 555 at T1 (a conflict) and 555 at T2: T2 revises V1, so it is stored."""
    warehouse.pipeline.append(case.shape, case.frame([(0, T1, V1)]))

    result = warehouse.pipeline.append(case.shape, case.frame([(0, T1, 555.0), (0, T2, 555.0), (0, T3, V1)]))

    assert write_paths[-1] == "_merge_through_staging"
    assert (result.added, result.unchanged, result.conflicts) == (2, 0, 1)
    assert case.history(warehouse)[case.level_column].tolist() == [V1, 555.0, V1]


# --------------------------------------------------------------------------------- instants and windows
def test_naive_instants_mean_utc(warehouse, case):
    warehouse.pipeline.append(case.shape, case.frame([(0, dt.datetime(2020, 4, 29, 12, 30), V1)]))

    assert case.history(warehouse)["release_time"].tolist() == [T1]
    assert case.level(warehouse, dt.datetime(2020, 4, 29, 12, 30)) == V1
    assert case.level(warehouse, "2020-04-29 12:29:59") is None


def test_aware_instants_are_converted_to_utc(warehouse, case):
    sao_paulo = ZoneInfo("America/Sao_Paulo")  # UTC-3 in 2020
    warehouse.pipeline.append(case.shape, case.frame([(0, pd.Timestamp("2020-04-29 09:30", tz=sao_paulo), V1)]))

    assert case.history(warehouse)["release_time"].tolist() == [T1]
    assert case.level(warehouse, dt.datetime(2020, 4, 29, 9, 30, tzinfo=sao_paulo)) == V1
    assert case.level(warehouse, pd.Timestamp("2020-04-29 09:29:59", tz=sao_paulo)) is None


def test_as_of_reads_a_list_of_ids_in_id_order(warehouse, case):
    warehouse.pipeline.append(case.shape, case.frame([(0, T1, 3.8), (2, T1, 3.5)], dataset=case.other))
    warehouse.pipeline.append(case.shape, case.frame([(0, T1, V1)]))
    ids = sorted([case.dataset, case.other])

    frame = case.read(warehouse).as_of(ids[::-1], as_of=T2)

    expected = {case.dataset: [V1], case.other: [3.8, 3.5]}
    assert frame[case.id_column].tolist() == [i for i in ids for _ in expected[i]]
    assert frame[case.level_column].tolist() == [v for i in ids for v in expected[i]]


def test_an_id_listed_twice_is_read_once(warehouse, case):
    warehouse.pipeline.append(case.shape, case.frame([(0, T1, V1)]))

    assert case.read(warehouse).as_of([case.dataset, case.dataset])[case.level_column].tolist() == [V1]


def test_start_and_end_are_inclusive_bounds_of_the_first_key(warehouse, case):
    warehouse.pipeline.append(case.shape, case.frame([(i, T1, float(i)) for i in range(12)]))
    read = case.read(warehouse)
    start, end = case.first_key(2), case.first_key(7)
    in_key_order = sorted(range(12), key=lambda i: tuple(case.key(i).values()))
    inside = [float(i) for i in in_key_order if start <= case.first_key(i) <= end]

    for frame in (
        read.as_of(case.dataset, start=start, end=end),
        read.latest(case.dataset, start=start, end=end),
        read.first_release(case.dataset, start=start, end=end),
        read.vintages(case.dataset, start=start, end=end),
    ):
        assert frame[case.level_column].tolist() == inside
    assert len(inside) == 6


@pytest.mark.parametrize("verb", ["as_of", "latest", "first_release", "vintages", "vintage_dates", "info", "list_of"])
def test_an_unknown_id_is_refused(warehouse, case, verb):
    read = case.read(warehouse)
    call = {
        "list_of": lambda: read.as_of([case.dataset, "nope.NOPE"]),
        "vintage_dates": lambda: read.vintage_dates("nope.NOPE"),
        "info": lambda: read.info("nope.NOPE"),
    }.get(verb, lambda: getattr(read, verb)("nope.NOPE"))
    warehouse.pipeline.append(case.shape, case.frame([(0, T1, V1)]))  # a stored id beside it does not help

    with pytest.raises(UnknownDataset, match="nope.NOPE"):
        call()


def test_an_id_known_to_the_caller_but_never_stored_reads_empty(shared_url, case):
    with connect(shared_url, migrate=False, known_ids=lambda: [case.dataset]) as wh:
        assert case.read(wh).as_of(case.dataset).empty
        assert case.read(wh).vintage_dates(case.dataset) == []
        with pytest.raises(UnknownDataset):
            case.read(wh).as_of(case.other)


def test_an_id_stored_in_another_shape_is_unknown_here(warehouse, case):
    elsewhere = next(c for c in CASES.values() if c.shape is not case.shape)
    shared_id = f"{case.dataset}.shared"
    warehouse.pipeline.append(elsewhere.shape, elsewhere.frame([(0, T1, V1)], dataset=shared_id))

    with pytest.raises(UnknownDataset, match=shared_id):
        case.read(warehouse).as_of(shared_id)


@pytest.mark.parametrize(
    "arguments",
    [
        {"as_of": "not-a-date"},
        {"start": "2020-02-30"},
        {"start": "2020-06-01", "end": "2020-01-01"},
        {"end": object()},
        {"output": "excel"},
    ],
    ids=["as_of", "impossible_start", "start_after_end", "end_not_a_date", "output"],
)
def test_a_bad_argument_is_refused_as_invalid_input(revised, case, arguments):
    with pytest.raises(InvalidInput):
        case.read(revised).as_of(case.dataset, **arguments)


def test_an_empty_list_of_ids_is_refused(warehouse, case):
    with pytest.raises(InvalidInput, match="at least one id"):
        case.read(warehouse).as_of([])


# ------------------------------------------------------------------------------------ append-only tables
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE {table} SET release_basis = 'observed'",
        "DELETE FROM {table}",
        "DELETE FROM {table} WHERE ctid = (SELECT min(ctid) FROM {table})",
        "TRUNCATE {table}",
    ],
    ids=["update", "delete", "delete_one_row", "truncate"],
)
def test_stored_vintages_cannot_be_changed(revised, shared_url, case, statement):
    with cursor_on(shared_url) as cursor, pytest.raises(psycopg2.Error, match=f"{case.shape.table} are append-only"):
        cursor.execute(statement.format(table=case.shape.table))

    assert case.history(revised)[case.level_column].tolist() == [V1, V2, V3]


@pytest.mark.parametrize("statement", ["UPDATE {table} SET release_basis = 'observed'", "DELETE FROM {table}"])
def test_the_row_level_guard_refuses_changes_on_its_own(revised, shared_url, case, statement):
    """What a TimescaleDB chunk gets (row-level triggers only): it must refuse UPDATE and DELETE by itself."""
    table = case.shape.table
    with cursor_on(shared_url) as cursor:
        cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only")
        with pytest.raises(psycopg2.Error, match=f"{table} are append-only: (UPDATE|DELETE)"):
            cursor.execute(statement.format(table=table))

    assert case.history(revised)[case.level_column].tolist() == [V1, V2, V3]


# --------------------------------------------------------------------------- payloads and quarantine
def payload_record(case, name: str = "2020-07-01.json", window_start=dt.date(2020, 1, 1)):
    object_key = f"{case.dataset}/{name}"
    return PayloadRecord(
        object_key=object_key,
        payload_sha256=hashlib.sha256(object_key.encode()).hexdigest(),
        source=case.dataset.split(".")[0],
        dataset_id=case.dataset,
        request="GET https://example.test/?api_key=REDACTED",
        http_status=200,
        bytes=1234,
        window_start=window_start,
        window_end=dt.date(2020, 12, 31),
        fetched_at=dt.datetime(2020, 7, 1, tzinfo=dt.UTC),
    )


def quarantine_record(case, raw_record: str = "2020-01-01,.x") -> QuarantineRecord:
    return QuarantineRecord(
        source=case.dataset.split(".")[0],
        dataset_id=case.dataset,
        payload_sha256="a" * 64,
        record_index=3,
        field="value",
        raw_record=raw_record,
        reason="not a number",
    )


def test_payload_and_quarantine_records_are_stored_with_the_rows(warehouse, shared_url, case):
    records = [quarantine_record(case), quarantine_record(case, "second"), quarantine_record(case)]
    warehouse.pipeline.append(
        case.shape, case.frame([(0, T1, V1)]), payloads=[payload_record(case)] * 2, quarantine=records
    )

    payloads = warehouse.pipeline.payloads(case.dataset)
    quarantined = warehouse.pipeline.quarantined(case.dataset)
    assert payloads[["object_key", "dataset_id", "http_status", "bytes"]].values.tolist() == [
        [f"{case.dataset}/2020-07-01.json", case.dataset, 200, 1234]
    ]
    assert sorted(quarantined[["record_index", "field", "raw_record"]].values.tolist()) == [
        [3, "value", "2020-01-01,.x"],
        [3, "value", "second"],
    ]
    assert stored(shared_url, case) == 1


def test_fetch_coverage_lists_the_windows_of_offered_payloads_fetched_before(warehouse, case):
    fetched = [payload_record(case, f"k{i}", window_start=dt.date(2020, i, 1)) for i in (1, 2, 3)]
    refused = dataclasses.replace(payload_record(case, "k4"), refused="an HTML page")
    later = dataclasses.replace(payload_record(case, "k5"), fetched_at=dt.datetime(2021, 1, 1, tzinfo=dt.UTC))
    warehouse.pipeline.append(case.shape, case.shape.empty(), payloads=[*fetched, refused, later])

    coverage = warehouse.pipeline.fetch_coverage(case.dataset, before=dt.datetime(2020, 12, 1, tzinfo=dt.UTC))

    assert coverage == [(dt.date(2020, i, 1), dt.date(2020, 12, 31)) for i in (1, 2, 3)]


@pytest.mark.parametrize("path", ["_copy_new", "_merge_through_staging"])
def test_a_failing_append_leaves_every_table_as_it_was(warehouse, shared_url, write_paths, case, path):
    warehouse.pipeline.append(
        case.shape, case.frame([(0, T1, V1)]), payloads=[payload_record(case)], quarantine=[quarantine_record(case)]
    )
    tables = (case.shape.table, "payloads", "quarantine")
    before = {t: table_rows(shared_url, t) for t in tables}
    dataset = case.dataset if path == "_merge_through_staging" else case.other

    with pytest.raises(psycopg2.IntegrityError, match="window_start"):
        warehouse.pipeline.append(
            case.shape,
            case.frame([(0, T2, V2), (1, T2, 9.0)], dataset=dataset),
            payloads=[payload_record(case, "broken.json", window_start=None)],
            quarantine=[quarantine_record(case, "another bad record")],
        )

    assert write_paths[-1] == path
    assert {t: table_rows(shared_url, t) for t in tables} == before


# --------------------------------------------------------------------------------------- frame errors
def _frame(case) -> pd.DataFrame:
    return case.frame([(0, T1, V1), (2, T1, 2.0)])


def _bad_first_key(case) -> pd.DataFrame:
    first = case.shape.key_columns[0]
    return _frame(case).assign(**{first: ["2020-01-01", "not-a-date"]})


@pytest.mark.parametrize(
    "bad_frame, column",
    [
        (lambda c: _frame(c).assign(**{c.level_column: [V1, np.inf]}), "level"),
        (lambda c: _frame(c).assign(**{c.level_column: [-np.inf, 2.0]}), "level"),
        (lambda c: pl.from_pandas(_frame(c)).with_columns(pl.lit(float("nan")).alias(c.level_column)), "level"),
        (lambda c: _frame(c).drop(columns="release_time"), "release_time"),
        (lambda c: _frame(c).drop(columns=c.id_column), "id"),
        (lambda c: _frame(c).drop(columns=c.shape.value_columns[-1]), "last_value"),
        (lambda c: _frame(c).assign(release_basis=["vintage", "guessed"]), "release_basis"),
        (_bad_first_key, "first_key"),
        (lambda c: _frame(c).assign(release_time=[T1, None]), "release_time"),
        (lambda c: _frame(c).assign(**{c.shape.key_columns[-1]: [None, None]}), "last_key"),
    ],
    ids=[
        "inf",
        "minus_inf",
        "polars_nan",
        "no_release_time",
        "no_id",
        "no_value_column",
        "bad_release_basis",
        "bad_first_key",
        "empty_release_time",
        "empty_key",
    ],
)
def test_a_malformed_frame_is_refused_naming_the_column(warehouse, shared_url, case, bad_frame, column):
    name = {
        "level": case.level_column,
        "id": case.id_column,
        "last_value": case.shape.value_columns[-1],
        "first_key": case.shape.key_columns[0],
        "last_key": case.shape.key_columns[-1],
    }.get(column, column)

    with pytest.raises(FrameError, match=name):
        warehouse.pipeline.append(case.shape, bad_frame(case))

    assert stored(shared_url, case) == 0


def test_an_unknown_shape_is_refused(warehouse, case):
    with pytest.raises(InvalidInput, match="curves"):
        warehouse.pipeline.append("curves", case.frame([(0, T1, V1)]))


def test_a_frame_without_payload_sha256_is_traced_by_the_digest_of_its_typed_rows(warehouse, shared_url, case):
    frame = case.frame([(0, T1, V1)])
    from_pandas, from_polars = (frames.normalize_for_write(case.shape, f) for f in (frame, pl.from_pandas(frame)))
    other = frames.normalize_for_write(case.shape, case.frame([(0, T1, V2)]))

    warehouse.pipeline.append(case.shape, frame)

    digest = from_pandas["payload_sha256"][0]
    assert from_polars["payload_sha256"][0] == digest != other["payload_sha256"][0]
    with cursor_on(shared_url) as cursor:
        cursor.execute(f"SELECT payload_sha256 FROM {case.shape.table} WHERE {case.id_column} = %s", (case.dataset,))
        assert cursor.fetchall() == [(digest,)]
