"""Reads particular to a shape (curve maturities, bar resampling, observation revisions), the output libraries,
and the reader vocabulary beyond as_of (vintage_dates, info, list, search), on both servers."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

from macro_assets.errors import InvalidInput
from macro_assets.shapes import SHAPES
from macro_assets.warehouse import connect, readers

from .cases import CASES

T1, T2, T3 = (pd.Timestamp(t, tz="UTC") for t in ("2024-01-02 21:00", "2024-01-03 21:00", "2024-01-04 21:00"))
UTC = dt.UTC


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


# ------------------------------------------------------------------------------------------- curves
@pytest.fixture
def curves(shared_url):
    """A bond curve and a par curve for 2024-01-02 (a Tuesday), the bond's rate corrected at T2, and the next
    day's curve."""
    case = CASES["curve_points"]
    curve_id = unique("tesouro_direto.ntnb")
    empty = dict.fromkeys(case.shape.value_columns)

    def point(day, name, release, **values):
        return {
            "curve_id": curve_id,
            "curve_date": pd.Timestamp(day),
            "point": name,
            "release_time": release,
            **empty,
            **values,
        }

    frame = pd.DataFrame(
        [
            point(
                "2024-01-02",
                "NTN-B 2025-01-02",
                T1,
                maturity_date=pd.Timestamp("2025-01-02"),
                rate=5.5,
                buy_rate=5.5,
                sell_rate=5.6,
                buy_price=4100.0,
                sell_price=4095.0,
                base_price=4096.0,
            ),
            point(
                "2024-01-02",
                "NTN-B 2025-01-02",
                T2,
                maturity_date=pd.Timestamp("2025-01-02"),
                rate=5.25,
                buy_rate=5.25,
                sell_rate=5.6,
                buy_price=4100.0,
                sell_price=4095.0,
                base_price=4096.0,
            ),
            point("2024-01-02", "10Y", T1, tenor_years=10.0, rate=3.95),
            point("2024-01-03", "10Y", T3, tenor_years=10.0, rate=3.91),
        ]
    )
    for column in case.shape.value_columns:
        if column != "maturity_date":
            frame[column] = frame[column].astype("float64")
    with connect(shared_url, migrate=False) as wh:
        wh.pipeline.append("curve_points", frame)
        yield wh, curve_id


def test_a_curve_as_of_an_instant_adds_days_business_days_and_tenor(curves):
    wh, curve_id = curves

    frame = wh.curves.as_of(curve_id, as_of=T1, start="2024-01-02", end="2024-01-02")

    assert frame["point"].tolist() == ["10Y", "NTN-B 2025-01-02"]
    bond = frame.iloc[1]
    # 2024-01-02 to 2025-01-02 is 366 days (a leap year): 52 weeks (260 weekdays) plus Tue 2024-12-31 and
    # Wed 2025-01-01, so 262 weekdays in [curve_date, maturity_date).
    assert (bond["rate"], bond["days_to_maturity"], bond["business_days_to_maturity"]) == (5.5, 366, 262)
    assert bond["tenor_years"] == pytest.approx(366 / 365.25)
    par = frame.iloc[0]
    assert par["tenor_years"] == 10.0 and pd.isna(par["days_to_maturity"]) and pd.isna(par["business_days_to_maturity"])


def test_a_curve_read_later_sees_the_corrected_rate_and_the_next_day(curves):
    wh, curve_id = curves

    frame = wh.curves.as_of(curve_id, as_of=T3)

    assert frame[["curve_date", "point", "rate"]].values.tolist() == [
        [pd.Timestamp("2024-01-02"), "10Y", 3.95],
        [pd.Timestamp("2024-01-02"), "NTN-B 2025-01-02", 5.25],
        [pd.Timestamp("2024-01-03"), "10Y", 3.91],
    ]


def test_business_days_to_maturity_skip_the_holidays_given(curves):
    wh, curve_id = curves
    # Two weekday holidays inside the window; a Saturday and a day past maturity change nothing.
    holidays = [dt.date(2024, 1, 25), "2024-12-25", dt.date(2024, 1, 6), dt.date(2025, 6, 1)]

    frame = wh.curves.as_of(curve_id, as_of=T1, holidays=holidays)

    assert frame.loc[frame["point"] == "NTN-B 2025-01-02", "business_days_to_maturity"].tolist() == [260]


def test_latest_curve_carries_the_maturity_columns_too(curves):
    wh, curve_id = curves

    frame = wh.curves.latest(curve_id, start="2024-01-02", end="2024-01-02", output="polars")

    assert frame.columns[-2:] == ["days_to_maturity", "business_days_to_maturity"]
    assert frame["days_to_maturity"].to_list() == [None, 366]
    assert frame.schema["business_days_to_maturity"] == pl.Int64


# --------------------------------------------------------------------------------------------- bars
BAR_DAY = pd.Timestamp("2024-01-02 14:00", tz="UTC")


@pytest.fixture
def bars(shared_url):
    """24 five-minute bars from 14:00 UTC, bar i with open i, high i+1, low i-1, close i+0.5, volume 10; a
    dividend of 0.5 on bars 3 and 15, a 2:1 split on bar 20; bar 5's close revised at T2."""
    dataset = unique("yahoo.USDBRL_5m")
    rows = []
    for i in range(24):
        rows.append(
            {
                "dataset_id": dataset,
                "bar_time": BAR_DAY + pd.Timedelta(minutes=5 * i),
                "release_time": T1,
                "open": float(i),
                "high": i + 1.0,
                "low": i - 1.0,
                "close": i + 0.5,
                "adj_close": i + 0.5,
                "volume": 10.0,
                "dividend": 0.5 if i in (3, 15) else None,
                "split_ratio": 2.0 if i == 20 else None,
            }
        )
    rows.append({**rows[5], "release_time": T2, "close": 99.0, "high": 99.0})
    with connect(shared_url, migrate=False) as wh:
        wh.pipeline.append("bars", pd.DataFrame(rows).astype({"dividend": "float64", "split_ratio": "float64"}))
        yield wh, dataset


def test_bars_resampled_to_hours_aggregate_each_column(bars):
    wh, dataset = bars

    hourly = wh.bars.as_of(dataset, as_of=T1, resample="1h")

    assert hourly["bar_time"].tolist() == [BAR_DAY, BAR_DAY + pd.Timedelta(hours=1)]
    assert hourly[["open", "high", "low", "close", "adj_close", "volume"]].values.tolist() == [
        [0.0, 12.0, -1.0, 11.5, 11.5, 120.0],
        [12.0, 24.0, 11.0, 23.5, 23.5, 120.0],
    ]
    assert hourly["dividend"].tolist() == [0.5, 0.5]
    assert hourly["split_ratio"].isna().tolist() == [True, False] and hourly["split_ratio"].iloc[1] == 2.0
    assert hourly["release_time"].tolist() == [T1, T1]


def test_bars_resampled_to_a_day_read_the_revision_known_at_the_instant(bars):
    wh, dataset = bars

    before, after = (wh.bars.as_of(dataset, as_of=t, resample="1d") for t in (T1, T2))

    assert before[["open", "high", "low", "close", "volume", "dividend"]].values.tolist() == [
        [0.0, 24.0, -1.0, 23.5, 240.0, 1.0]
    ]
    assert after["high"].tolist() == [99.0] and after["release_time"].tolist() == [T2]


def test_bar_bounds_take_dates_as_whole_utc_days_and_instants_as_instants(bars):
    wh, dataset = bars

    whole_day = wh.bars.as_of(dataset, start="2024-01-02", end="2024-01-02")
    half_hour = wh.bars.as_of(dataset, start="2024-01-02 14:30", end=dt.datetime(2024, 1, 2, 15, 0))
    next_day = wh.bars.as_of(dataset, start=dt.date(2024, 1, 3))

    assert len(whole_day) == 24
    assert half_hour["bar_time"].tolist() == [BAR_DAY + pd.Timedelta(minutes=m) for m in range(30, 65, 5)]
    assert next_day.empty


@pytest.mark.parametrize("resample", ["1w", "hour", "0h", "1mo"])
def test_a_bad_resample_is_refused(bars, resample):
    wh, dataset = bars

    with pytest.raises(InvalidInput, match="resample"):
        wh.bars.as_of(dataset, resample=resample)


# ------------------------------------------------------------------------------------- observations
def test_revisions_list_every_vintage_of_one_date_up_to_as_of(shared_url):
    case = dataclasses.replace(CASES["observations"], dataset=unique("fred.GDP"))
    day = case.first_key(0)
    with connect(shared_url, migrate=False) as wh:
        wh.pipeline.append("observations", case.frame([(0, T1, 1.0), (0, T2, 2.0), (0, T3, None), (1, T1, 9.0)]))

        every = wh.observations.revisions(case.dataset, day)
        until_t2 = wh.observations.revisions(case.dataset, day.date(), as_of=T2)

        assert every["release_time"].tolist() == [T1, T2, T3]
        assert every["value"].tolist()[:2] == [1.0, 2.0] and pd.isna(every["value"].iloc[2])
        assert until_t2["value"].tolist() == [1.0, 2.0]
        with pytest.raises(InvalidInput, match="obs_date"):
            wh.observations.revisions(case.dataset, None)


# ---------------------------------------------------------------------------------- output libraries
def test_every_output_library_gets_the_same_rows_and_types(warehouse, case):
    warehouse.pipeline.append(case.shape, case.frame([(0, T1, 1.0), (2, T2, 2.0)]))
    read = case.read(warehouse)

    pandas_frame = read.as_of(case.dataset)
    polars_frame = read.as_of(case.dataset, output="polars")
    arrow_table = read.vintages(case.dataset, output="arrow")

    first = case.shape.key_columns[0]
    assert isinstance(polars_frame, pl.DataFrame) and isinstance(arrow_table, pa.Table)
    assert polars_frame[case.level_column].to_list() == pandas_frame[case.level_column].tolist() == [1.0, 2.0]
    assert arrow_table.column(case.level_column).to_pylist() == [1.0, 2.0]
    assert polars_frame.schema["release_time"] == pl.Datetime("us", "UTC")
    assert arrow_table.schema.field("release_time").type == pa.timestamp("us", tz="UTC")
    date_keyed = case.shape.key_schema[first] == pl.Date
    assert polars_frame.schema[first] == (pl.Date if date_keyed else pl.Datetime("us", "UTC"))
    assert arrow_table.schema.field(first).type == (pa.date32() if date_keyed else pa.timestamp("us", tz="UTC"))
    assert str(pandas_frame.dtypes[first]) == ("datetime64[us]" if date_keyed else "datetime64[us, UTC]")


# ------------------------------------------------------------------------------ the rest of the vocabulary
def test_vintage_dates_are_the_distinct_release_instants_up_to_as_of(warehouse, case):
    warehouse.pipeline.append(case.shape, case.frame([(0, T1, 1.0), (1, T1, 1.0), (0, T2, 2.0), (1, T3, 3.0)]))
    read = case.read(warehouse)

    every, until_t2 = read.vintage_dates(case.dataset), read.vintage_dates(case.dataset, as_of=T2)

    assert every == [t.to_pydatetime() for t in (T1, T2, T3)]
    assert until_t2 == [T1.to_pydatetime(), T2.to_pydatetime()]
    assert all(moment.utcoffset() == dt.timedelta(0) for moment in every)


def test_info_reports_what_is_stored(warehouse, case):
    warehouse.pipeline.append(case.shape, case.frame([(0, T1, 1.0), (0, T2, 2.0), (3, T1, 5.0), (3, T3, None)]))

    info = case.read(warehouse).info(case.dataset)

    def as_stored(key):
        return key.date() if case.shape.key_schema[case.shape.key_columns[0]] == pl.Date else key.to_pydatetime()

    assert info == {
        "id": case.dataset,
        "shape": case.shape.name,
        "start": as_stored(case.first_key(0)),
        "end": as_stored(case.first_key(3)),
        "keys": 2,
        "vintages": 4,
        "withdrawals": 1,
        "first_release_time": T1.to_pydatetime(),
        "last_release_time": T3.to_pydatetime(),
    }


def test_info_of_a_known_id_without_data_is_empty(warehouse, case):
    info = case.read(warehouse).info(case.dataset)

    assert (info["keys"], info["vintages"], info["start"], info["last_release_time"]) == (0, 0, None, None)


def test_list_and_search_name_the_ids_stored_in_that_shape_only(warehouse, case):
    for dataset in (case.dataset, case.other):
        warehouse.pipeline.append(case.shape, case.frame([(0, T1, 1.0)], dataset=dataset))
    elsewhere = next(c for c in CASES.values() if c.shape is not case.shape)
    warehouse.pipeline.append(elsewhere.shape, elsewhere.frame([(0, T1, 1.0)], dataset=f"{case.dataset}.elsewhere"))
    read = case.read(warehouse)

    listed = read.list()

    assert {case.dataset, case.other} <= set(listed) and f"{case.dataset}.elsewhere" not in listed
    assert listed == sorted(listed)
    assert read.search(case.other.upper()) == [case.other]
    assert read.search(case.dataset.split(".")[1].lower()) == [case.dataset]


def test_counts_give_rows_and_ids_per_table_payloads_and_quarantine(warehouse_url):
    with connect(warehouse_url) as wh:
        for name, case in CASES.items():
            wh.pipeline.append(name, case.frame([(0, T1, 1.0), (1, T1, 2.0), (0, T2, 1.0)]))
        wh.pipeline.append("bars", CASES["bars"].frame([(0, T1, 7.0)]))  # a conflict, quarantined
        wh.pipeline.append("bars", CASES["bars"].frame([(0, T1, 1.0)], dataset="yahoo.OTHER_1h"))

        counts = wh.pipeline.counts()

    assert counts == {
        **{shape: {"rows": 0, "ids": 0} for shape in SHAPES},
        **{name: {"rows": 2, "ids": 1} for name in CASES},
        "bars": {"rows": 3, "ids": 2},
        "payloads": 0,
        "quarantined": 1,
    }


def test_the_url_hides_the_password(system_warehouse_url):
    # The machine's server trusts loopback connections, so any password is accepted and must not be shown.
    with connect(system_warehouse_url.replace("postgres@", "postgres:s3cret@", 1)) as wh:
        assert wh.observations.list() == []
        assert "s3cret" not in wh.url and "postgres:***@" in wh.url


def test_many_ids_read_on_several_connections_come_back_whole_and_in_id_order(shared_url, monkeypatch):
    """Enough ids for the read to be split across connections, with ids that have no rows among them."""
    chunks = []
    copy = readers.Reader._copy

    def spy(self, query, params, reverse):
        chunks.append(len(params["ids"]))
        return copy(self, query, params, reverse)

    monkeypatch.setattr(readers.Reader, "_copy", spy)
    case = CASES["bars"]
    stored = [unique(f"yahoo.MANY{i:02d}") for i in range(40)]
    empty = [unique("yahoo.EMPTY") for _ in range(5)]
    with connect(shared_url, migrate=False, known_ids=lambda: empty) as wh:
        for n, dataset in enumerate(stored):
            wh.pipeline.append("bars", case.frame([(i, T1, n + i / 10) for i in range(n % 4 + 1)], dataset=dataset))
        wanted = sorted([*stored, *empty], reverse=True)

        together = wh.bars.vintages(wanted)
        latest = wh.bars.as_of(wanted, as_of=T2)
        assert chunks == [22, 23, 22, 23]  # two reads, each on two connections
        one_by_one = pd.concat([wh.bars.vintages(d) for d in sorted(stored)], ignore_index=True)

    assert together["dataset_id"].tolist() == sorted(together["dataset_id"].tolist())
    pd.testing.assert_frame_equal(together, one_by_one)
    pd.testing.assert_frame_equal(latest, one_by_one)
    assert len(together) == sum(n % 4 + 1 for n in range(40))


def test_a_catalog_curve_counts_business_days_on_its_own_calendar(system_warehouse_url):
    """connect() knows the catalog: Tesouro Direto's du skip B3's Carnival without being told."""
    from macro_assets.catalog.calendars import business_days

    point = pd.DataFrame(
        {
            "curve_id": ["tesouro_direto.br_nominal"],
            "curve_date": [dt.date(2018, 2, 9)],
            "point": ["LTN 2018-02-16"],
            "maturity_date": [dt.date(2018, 2, 16)],
            "tenor_years": [None],
            "rate": [6.7],
            "buy_rate": [6.7],
            "sell_rate": [6.8],
            "buy_price": [998.7],
            "sell_price": [998.6],
            "base_price": [998.6],
            "release_time": [pd.Timestamp("2018-02-09 20:00", tz="UTC")],
            "release_basis": ["estimated"],
        }
    )
    with connect(system_warehouse_url) as wh:
        wh.pipeline.append("curve_points", point)
        frame = wh.curves.as_of("tesouro_direto.br_nominal")
        weekdays_only = wh.curves.as_of("tesouro_direto.br_nominal", holidays=[])
    expected = len(business_days("BR", dt.date(2018, 2, 9), dt.date(2018, 2, 15)))
    assert frame["business_days_to_maturity"].tolist() == [expected] and expected < 5
    assert weekdays_only["business_days_to_maturity"].tolist() == [5]


def test_reader_gives_the_reader_of_a_shape_by_shape_or_name(system_warehouse_url):
    from macro_assets.shapes import BARS, CURVE_POINTS, OBSERVATIONS

    with connect(system_warehouse_url) as wh:
        assert wh.reader(OBSERVATIONS) is wh.observations and wh.reader("curve_points") is wh.curves
        assert wh.reader(BARS) is wh.bars and wh.reader(CURVE_POINTS) is wh.curves
        with pytest.raises(InvalidInput, match="shape 'ticks'"):
            wh.reader("ticks")
