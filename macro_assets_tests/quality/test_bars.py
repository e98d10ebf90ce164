"""Quality rules of bar datasets over the stored vintages (a polars frame as the warehouse reads it): OHLC
consistency, volume, duplicates, missing bars (intraday sessions and daily business days), bars outside the
session, plausible prices; each rule passes on clean data and fails naming the offending bars."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from macro_assets.catalog import load_catalog
from macro_assets.quality import Judged
from macro_assets.quality.bars import RULES, due_bars, latest_bars
from macro_assets.shapes import BARS
from macro_assets.sources.yahoo import daily_bar_time

CATALOG = load_catalog()
USDCOP = CATALOG.get("twelvedata.USDCOP_5min")  # 60 bars 08:00-12:55 Bogota, CO calendar, plausible [500, 10000]
SPX = CATALOG.get("yahoo.SPX_1d")  # NYSE calendar, released 17:00 New York
DEC_12 = dt.date(2018, 12, 12)
AFTER = dt.datetime(2019, 1, 2, 12, tzinfo=dt.UTC)
RULE = {rule.name: rule for rule in RULES}


def bogota(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=USDCOP.instrument.timezone).astimezone(dt.UTC)


def frame(rows: list[dict], dataset=USDCOP) -> pl.DataFrame:
    """Vintages as the warehouse reads them: every column of the bars table, from partial rows (a bar at 3200)."""
    full = [
        {
            "dataset_id": str(dataset.id),
            "open": 3200.0,
            "high": 3201.0,
            "low": 3199.0,
            "close": 3200.5,
            "adj_close": None,
            "volume": None,
            "dividend": None,
            "split_ratio": None,
            "release_basis": "estimated",
            "payload_sha256": "0" * 64,
            **row,
        }
        for row in rows
    ]
    for row in full:
        row.setdefault("release_time", row["bar_time"] + dt.timedelta(minutes=5))
    return pl.DataFrame(full, schema=BARS.write_schema)


def session(day: dt.date = DEC_12, **values) -> list[dict]:
    return [{"bar_time": bar, **values} for bar in USDCOP.instrument.bar_times(day, "5min")]


def judge(name: str, vintages: pl.DataFrame, dataset=USDCOP, start=DEC_12, end=DEC_12, judged_at=AFTER):
    return RULE[name].judge(Judged(dataset, vintages, start, end, judged_at))


def test_every_rule_is_there_with_its_severity():
    assert {rule.name: rule.severity for rule in RULES} == {
        "ohlc_consistent": "ERROR",
        "volume_non_negative": "ERROR",
        "no_duplicate_bars": "ERROR",
        "no_missing_bars": "WARN",
        "no_bars_outside_session": "ERROR",
        "prices_in_plausible_range": "ERROR",
    }


@pytest.mark.parametrize("name", [rule.name for rule in RULES])
def test_a_clean_session_passes_every_rule(name):
    assert judge(name, frame(session(volume=0.0))).passed


# ------------------------------------------------------------------------------------------ prices and volume
@pytest.mark.parametrize(
    "values, named",
    [
        ({"open": 3205.0, "low": 3210.0, "high": 3212.0, "close": 3211.0}, "low=3210.0"),
        ({"close": 3190.0}, "close=3190.0"),
        ({"open": 3202.5}, "open=3202.5"),
        ({"high": 3195.0, "low": 3196.0, "open": 3195.5, "close": 3195.5}, "high=3195.0"),
    ],
    ids=["low-above-open", "close-below-low", "open-above-high", "low-above-high"],
)
def test_ohlc_inconsistency_fails_naming_the_bar(values, named):
    rows = session()
    rows[15] = {**rows[15], **values}
    outcome = judge("ohlc_consistent", frame(rows))
    assert not outcome.passed and outcome.metadata["inconsistent_vintages"] == 1
    [bad] = outcome.metadata["sample"]
    assert bad.startswith("2018-12-12T14:15:00+00:00 ") and named in bad


def test_a_withdrawn_bar_is_not_judged_for_consistency():
    rows = session()
    rows.append(
        {"bar_time": rows[0]["bar_time"], "release_time": AFTER, "open": None, "high": None, "low": None, "close": None}
    )
    assert judge("ohlc_consistent", frame(rows)).passed


def test_a_negative_volume_fails_and_zero_passes():
    rows = session(volume=0.0)
    assert judge("volume_non_negative", frame(rows)).passed
    rows[3] = {**rows[3], "volume": -12.0}
    outcome = judge("volume_non_negative", frame(rows))
    assert not outcome.passed and outcome.metadata["sample"] == ["2018-12-12T13:15:00+00:00 volume=-12.0"]


@pytest.mark.parametrize(
    "price, shown", [(320.0, "open=320.0"), (float("nan"), "close=nan"), (float("inf"), "high=inf")]
)
def test_a_price_outside_the_plausible_range_fails(price, shown):
    rows = session()
    column = shown.split("=")[0]
    rows[7] = {**rows[7], column: price}
    outcome = judge("prices_in_plausible_range", frame(rows))
    assert not outcome.passed and outcome.metadata["plausible_range"] == "[500.0, 10000.0]"
    assert (
        outcome.metadata["sample"][0].startswith("2018-12-12T13:35:00+00:00") and shown in outcome.metadata["sample"][0]
    )


# ------------------------------------------------------------------------------------------ duplicates
def test_a_revision_is_a_new_vintage_not_a_duplicate():
    rows = session()
    rows.append({**rows[0], "close": 3200.75, "release_time": AFTER})
    vintages = frame(rows)
    assert judge("no_duplicate_bars", vintages).passed
    assert latest_bars(vintages).filter(pl.col("bar_time") == rows[0]["bar_time"])["close"].item() == 3200.75


def test_two_vintages_at_the_same_release_time_fail_naming_the_bar():
    rows = session()
    rows.append({**rows[4], "close": 3200.75})
    outcome = judge("no_duplicate_bars", frame(rows))
    assert not outcome.passed and outcome.metadata["duplicate_rows"] == 2
    assert outcome.metadata["sample_bars"] == ["2018-12-12T13:20:00+00:00"]


# ------------------------------------------------------------------------------------------ missing bars
def test_missing_intraday_bars_fail_naming_each_timestamp():
    rows = [
        row for row in session() if not bogota(2018, 12, 12, 10, 15) <= row["bar_time"] < bogota(2018, 12, 12, 10, 40)
    ]
    outcome = judge("no_missing_bars", frame(rows))
    assert not outcome.passed
    assert (outcome.metadata["expected_bars"], outcome.metadata["missing_bars"]) == (60, 5)
    assert outcome.metadata["sample_missing"] == [f"2018-12-12T15:{m}:00+00:00" for m in ("15", "20", "25", "30", "35")]


def test_a_bar_withdrawn_in_its_latest_vintage_is_missing():
    rows = session()
    rows.append(
        {
            "bar_time": rows[-1]["bar_time"],
            "release_time": AFTER,
            "open": None,
            "high": None,
            "low": None,
            "close": None,
        }
    )
    outcome = judge("no_missing_bars", frame(rows))
    assert not outcome.passed and outcome.metadata["sample_missing"] == ["2018-12-12T17:55:00+00:00"]


def test_only_bars_closed_by_judged_at_are_due():
    rows = session()[:24]  # up to the 09:55 bar
    at_10 = bogota(2018, 12, 12, 10)
    assert judge("no_missing_bars", frame(rows), judged_at=at_10).passed
    assert len(due_bars(Judged(USDCOP, frame(rows), DEC_12, DEC_12, at_10))) == 24
    assert not judge("no_missing_bars", frame(rows), judged_at=at_10 + dt.timedelta(minutes=5)).passed


def test_holidays_and_weekends_expect_no_bars():
    # Saturday 22 to Tuesday 25 December 2018: only Monday the 24th has a session (Christmas is a CO holiday).
    outcome = judge(
        "no_missing_bars", frame(session(dt.date(2018, 12, 24))), start=dt.date(2018, 12, 22), end=dt.date(2018, 12, 25)
    )
    assert outcome.passed and outcome.metadata["expected_bars"] == 60
    christmas = judge("no_missing_bars", frame([]), start=dt.date(2018, 12, 25), end=dt.date(2018, 12, 25))
    assert christmas.passed and christmas.metadata["expected_bars"] == 0


def test_daily_bars_expect_every_business_day_released_by_judged_at():
    days = [d for d in SPX.expected_dates(dt.date(2018, 12, 1), dt.date(2018, 12, 31)) if d != dt.date(2018, 12, 24)]
    rows = [
        {
            "bar_time": daily_bar_time(SPX.instrument, d),
            "release_time": SPX.estimated_release(d),
            "open": 2500.0,
            "high": 2510.0,
            "low": 2490.0,
            "close": 2505.0,
        }
        for d in days
    ]
    judged = Judged(SPX, frame(rows, SPX), dt.date(2018, 12, 1), dt.date(2018, 12, 31), AFTER)
    outcome = RULE["no_missing_bars"].judge(judged)
    assert not outcome.passed and outcome.metadata["sample_missing"] == ["2018-12-24"]
    assert outcome.metadata["expected_bars"] == 19  # 5 December 2018 (the national day of mourning) is not due
    before_close = SPX.estimated_release(dt.date(2018, 12, 24)) - dt.timedelta(seconds=1)
    assert (
        RULE["no_missing_bars"]
        .judge(Judged(SPX, frame(rows, SPX), dt.date(2018, 12, 1), dt.date(2018, 12, 24), before_close))
        .passed
    )


# ------------------------------------------------------------------------------------------ outside the session
@pytest.mark.parametrize(
    "bar, shown",
    [
        (bogota(2018, 12, 12, 13), "2018-12-12T18:00:00+00:00"),
        (bogota(2018, 12, 12, 7, 55), "2018-12-12T12:55:00+00:00"),
        (bogota(2018, 12, 12, 9, 2), "2018-12-12T14:02:00+00:00"),
        (bogota(2018, 12, 25, 9), "2018-12-25T14:00:00+00:00"),
    ],
    ids=["13:00", "07:55", "off-grid", "holiday"],
)
def test_an_intraday_bar_outside_the_session_fails_naming_it(bar, shown):
    outcome = judge("no_bars_outside_session", frame([*session(), {"bar_time": bar}]), end=dt.date(2018, 12, 25))
    assert not outcome.passed and outcome.metadata["bars_outside"] == 1
    assert outcome.metadata["sample_outside"] == [shown]
    assert outcome.metadata["session"] == "08:00-13:00 America/Bogota, CO business days"


def test_a_daily_bar_on_a_closed_day_fails():
    rows = [
        {"bar_time": daily_bar_time(SPX.instrument, d), "open": 2500.0, "high": 2510.0, "low": 2490.0, "close": 2505.0}
        for d in (dt.date(2018, 12, 4), dt.date(2018, 12, 5))
    ]
    outcome = RULE["no_bars_outside_session"].judge(
        Judged(SPX, frame(rows, SPX), dt.date(2018, 12, 4), dt.date(2018, 12, 5), AFTER)
    )
    assert not outcome.passed and outcome.metadata["sample_outside"] == ["2018-12-05T05:00:00+00:00"]
