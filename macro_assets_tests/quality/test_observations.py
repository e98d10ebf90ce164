"""Quality rules of observation datasets over the stored vintages (a polars frame as the warehouse reads it):
duplicates, plausibility, calendar gaps, look-ahead and staleness, judged at the fetch."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from macro_assets.catalog import load_catalog
from macro_assets.quality import SAMPLE, CheckOutcome, Judged
from macro_assets.quality.observations import RULES, STALENESS_GRACE, latest_values, released_expected_dates
from macro_assets.shapes import UTC_DATETIME
from macro_assets.timeutil import parse_instant

CATALOG = load_catalog()
IPCA = CATALOG.get("bcb_sgs.433")  # monthly, lag 10 days, 09:00 São Paulo, plausible [-5, 10]
CDI = CATALOG.get("bcb_sgs.12")  # daily on B3's calendar
PTAX = CATALOG.get("bcb_sgs.1")  # published at 13:10 on its own day
JUDGED_AT = dt.datetime(2019, 1, 20, tzinfo=dt.UTC)
YEAR_2018 = (dt.date(2018, 1, 1), dt.date(2018, 12, 31))
READ_SCHEMA = {
    "series_id": pl.String,
    "obs_date": pl.Date,
    "value": pl.Float64,
    "release_time": UTC_DATETIME,
    "release_basis": pl.String,
}
RULE_NAMES = ("no_duplicate_vintages", "values_in_plausible_range", "no_calendar_gaps", "no_look_ahead", "not_stale")


def vintages(rows, dataset=IPCA) -> pl.DataFrame:
    """A frame as `wh.observations.vintages(..., output="polars")` returns it, from (date, value, release) rows."""
    return pl.DataFrame(
        {
            "series_id": [str(dataset.id)] * len(rows),
            "obs_date": [dt.date.fromisoformat(day) if isinstance(day, str) else day for day, _, _ in rows],
            "value": [value for _, value, _ in rows],
            "release_time": [parse_instant(released, field="release_time") for _, _, released in rows],
            "release_basis": ["estimated"] * len(rows),
        },
        schema=READ_SCHEMA,
    )


def monthly_history(last_month=12):
    return [(f"2018-{m:02d}-01", 0.3, IPCA.estimated_release(dt.date(2018, m, 1))) for m in range(1, last_month + 1)]


def outcomes(dataset, frame, start=YEAR_2018[0], end=YEAR_2018[1], at=JUDGED_AT) -> dict[str, CheckOutcome]:
    judged = Judged(dataset=dataset, vintages=frame, start=start, end=end, judged_at=at)
    return {rule.name: rule.judge(judged) for rule in RULES}


def severity(name: str) -> str:
    return next(rule.severity for rule in RULES if rule.name == name)


def test_the_rules_and_their_severities():
    assert tuple(rule.name for rule in RULES) == RULE_NAMES
    assert {rule.name: rule.severity for rule in RULES} == {
        "no_duplicate_vintages": "ERROR",
        "values_in_plausible_range": "ERROR",
        "no_calendar_gaps": "WARN",
        "no_look_ahead": "ERROR",
        "not_stale": "WARN",
    }
    assert all(rule.description for rule in RULES)


def test_a_clean_window_passes_every_rule():
    result = outcomes(IPCA, vintages(monthly_history()))
    assert all(o.passed for o in result.values()), {k: o.metadata for k, o in result.items() if not o.passed}
    assert set(result) == set(RULE_NAMES)
    assert result["no_calendar_gaps"].metadata == {
        "calendar": "monthly",
        "expected_dates": 12,
        "missing_dates": 0,
        "sample_missing": [],
    }
    assert result["not_stale"].metadata == {
        "latest_observation": "2018-12-01",
        "latest_due_by_fetch": "2018-12-01",
        # January 2019 + 10 days = 10 Feb 2019, 09:00 Brazilian summer time (UTC-2).
        "next_expected_release": "2019-02-10T11:00:00+00:00",
        "judged_at": "2019-01-20T00:00:00+00:00",
    }


def test_duplicate_vintage_keys_fail():
    rows = monthly_history()
    result = outcomes(IPCA, vintages(rows + rows[:1]))
    assert not result["no_duplicate_vintages"].passed
    assert result["no_duplicate_vintages"].metadata == {"duplicate_rows": 2, "sample_dates": ["2018-01-01"]}


def test_values_outside_the_plausible_range_fail():
    rows = monthly_history()
    rows[3] = ("2018-04-01", 42.0, rows[3][2])
    result = outcomes(IPCA, vintages(rows))
    assert not result["values_in_plausible_range"].passed
    assert result["values_in_plausible_range"].metadata == {
        "plausible_range": "[-5.0, 10.0]",
        "out_of_range": 1,
        "sample": ["2018-04-01=42.0"],
    }


def test_a_non_finite_value_fails_plausibility_but_a_withdrawal_does_not():
    rows = monthly_history()
    rows[1] = ("2018-02-01", float("nan"), rows[1][2])
    rows.append(("2018-05-01", None, "2018-12-01T00:00:00Z"))
    result = outcomes(IPCA, vintages(rows))["values_in_plausible_range"]
    assert not result.passed
    assert result.metadata["out_of_range"] == 1 and result.metadata["sample"] == ["2018-02-01=nan"]


def test_a_missing_month_is_a_gap_but_a_withdrawal_counts_as_missing_too():
    rows = monthly_history()
    del rows[5]
    rows.append(("2018-03-01", None, "2018-12-01T00:00:00Z"))  # withdrawn later
    result = outcomes(IPCA, vintages(rows))
    gap = result["no_calendar_gaps"]
    assert not gap.passed and gap.metadata["sample_missing"] == ["2018-03-01", "2018-06-01"]
    assert gap.metadata["missing_dates"] == 2
    assert severity("no_calendar_gaps") == "WARN"
    assert sorted(latest_values(vintages(rows))["obs_date"].to_list()) == [
        dt.date(2018, m, 1) for m in (1, 2, 4, 5, 7, 8, 9, 10, 11, 12)
    ]


def test_business_day_gaps_ignore_b3_holidays():
    february = (dt.date(2018, 2, 1), dt.date(2018, 2, 28))
    days = CDI.expected_dates(*february)
    frame = vintages([(d, 0.026, CDI.estimated_release(d)) for d in days], CDI)
    result = outcomes(CDI, frame, *february)
    assert result["no_calendar_gaps"].passed  # Carnival (12-13 Feb) is not expected
    assert result["no_calendar_gaps"].metadata["expected_dates"] == 18
    frame = frame.filter(pl.col("obs_date") != dt.date(2018, 2, 14))
    gap = outcomes(CDI, frame, *february)["no_calendar_gaps"]
    assert gap.metadata == {
        "calendar": "BR",
        "expected_dates": 18,
        "missing_dates": 1,
        "sample_missing": ["2018-02-14"],
    }


def test_a_gap_sample_lists_at_most_the_first_few_dates():
    result = outcomes(IPCA, vintages(monthly_history()[:2]))["no_calendar_gaps"]
    assert result.metadata["missing_dates"] == 10
    assert result.metadata["sample_missing"] == [f"2018-{m:02d}-01" for m in range(3, 3 + SAMPLE)]


def test_a_release_before_the_period_ends_is_look_ahead():
    rows = monthly_history()
    rows[0] = ("2018-01-01", 0.3, "2018-01-15T12:00:00Z")  # mid-January: before the month's last day began
    result = outcomes(IPCA, vintages(rows))
    assert not result["no_look_ahead"].passed and severity("no_look_ahead") == "ERROR"
    assert result["no_look_ahead"].metadata == {"early_vintages": 1, "sample_dates": ["2018-01-01"]}


def test_a_release_during_the_last_day_of_the_period_is_not_look_ahead():
    frame = vintages([("2018-03-01", 3.25, PTAX.estimated_release(dt.date(2018, 3, 1)))], PTAX)
    assert outcomes(PTAX, frame, dt.date(2018, 3, 1), dt.date(2018, 3, 1))["no_look_ahead"].passed
    # One microsecond before that day began in São Paulo (03:00 UTC) is look-ahead.
    early = vintages([("2018-03-01", 3.25, dt.datetime(2018, 3, 1, 2, 59, 59, 999999, tzinfo=dt.UTC))], PTAX)
    assert not outcomes(PTAX, early, dt.date(2018, 3, 1), dt.date(2018, 3, 1))["no_look_ahead"].passed


@pytest.mark.parametrize(
    "judged_at, stale",
    [
        (dt.datetime(2019, 1, 10, tzinfo=dt.UTC), False),  # December's IPCA not due yet (10 Jan + grace)
        (dt.datetime(2019, 1, 20, tzinfo=dt.UTC), True),  # due by then, and missing
    ],
)
def test_staleness_is_judged_at_the_fetch_against_the_release_schedule(judged_at, stale):
    result = outcomes(IPCA, vintages(monthly_history(last_month=11)), at=judged_at)
    assert result["not_stale"].passed is not stale
    assert result["not_stale"].metadata["latest_observation"] == "2018-11-01"
    assert result["not_stale"].metadata["latest_due_by_fetch"] == ("2018-12-01" if stale else "2018-11-01")


def test_a_date_is_due_only_once_its_release_and_the_grace_have_passed():
    december = IPCA.estimated_release(dt.date(2018, 12, 1))
    just_before = Judged(IPCA, vintages([]), *YEAR_2018, judged_at=december + STALENESS_GRACE - dt.timedelta(seconds=1))
    assert released_expected_dates(just_before)[-1] == dt.date(2018, 11, 1)
    at_grace = Judged(IPCA, vintages([]), *YEAR_2018, judged_at=december + STALENESS_GRACE)
    assert released_expected_dates(at_grace)[-1] == dt.date(2018, 12, 1)


def test_an_empty_window_is_stale_once_something_was_due():
    empty = vintages([])
    stale = outcomes(IPCA, empty)["not_stale"]
    assert not stale.passed
    assert stale.metadata["latest_observation"] == "none" and stale.metadata["next_expected_release"] == "unknown"
    early = outcomes(IPCA, empty, at=dt.datetime(2018, 1, 2, tzinfo=dt.UTC))
    assert early["not_stale"].passed and early["not_stale"].metadata["latest_due_by_fetch"] == "none in window"
    assert early["no_duplicate_vintages"].passed and early["no_look_ahead"].passed
    assert early["values_in_plausible_range"].passed and early["no_calendar_gaps"].passed
