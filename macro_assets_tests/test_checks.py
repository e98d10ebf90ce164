import datetime as dt

import pandas as pd
import pytest

from macro_assets import checks
from macro_assets.catalog import load_catalog

IPCA = load_catalog().get("bcb_sgs.433")  # monthly, lag 10 days, 09:00 São Paulo, plausible [-5, 10]
CDI = load_catalog().get("bcb_sgs.12")  # daily on B3's calendar
JUDGED_AT = dt.datetime(2019, 1, 20, tzinfo=dt.UTC)


def vintages(rows):
    frame = pd.DataFrame(rows, columns=["obs_date", "value", "release_time"])
    frame["obs_date"] = pd.to_datetime(frame["obs_date"])
    frame["release_time"] = pd.to_datetime(frame["release_time"], utc=True)
    frame["series_id"] = "bcb_sgs.433"
    frame["release_basis"] = "estimated"
    return frame


def monthly_history(last_month=12):
    return [(f"2018-{m:02d}-01", 0.3, IPCA.estimated_release(dt.date(2018, m, 1))) for m in range(1, last_month + 1)]


def outcomes(spec, frame, start=dt.date(2018, 1, 1), end=dt.date(2018, 12, 31), at=JUDGED_AT):
    return {o.rule.name: o for o in checks.evaluate(spec, frame, start, end, at)}


def test_a_clean_window_passes_every_rule():
    result = outcomes(IPCA, vintages(monthly_history()))
    assert all(o.passed for o in result.values()), {k: o.metadata for k, o in result.items() if not o.passed}
    assert set(result) == {rule.name for rule in checks.RULES}


def test_duplicate_vintage_keys_fail():
    rows = monthly_history()
    result = outcomes(IPCA, vintages(rows + rows[:1]))
    assert not result["no_duplicate_vintages"].passed
    assert result["no_duplicate_vintages"].metadata["sample_dates"] == ["2018-01-01"]


def test_values_outside_the_plausible_range_fail():
    rows = monthly_history()
    rows[3] = ("2018-04-01", 42.0, rows[3][2])
    result = outcomes(IPCA, vintages(rows))
    assert not result["values_in_plausible_range"].passed
    assert result["values_in_plausible_range"].metadata["sample"] == ["2018-04-01=42.0"]


def test_a_missing_month_is_a_gap_but_a_withdrawal_counts_as_missing_too():
    rows = monthly_history()
    del rows[5]
    rows.append(("2018-03-01", None, "2018-12-01T00:00:00Z"))  # withdrawn later
    result = outcomes(IPCA, vintages(rows))
    gap = result["no_calendar_gaps"]
    assert not gap.passed and gap.metadata["sample_missing"] == ["2018-03-01", "2018-06-01"]
    assert gap.rule.severity == "WARN"


def test_business_day_gaps_ignore_b3_holidays():
    days = CDI.expected_dates(dt.date(2018, 2, 1), dt.date(2018, 2, 28))
    frame = vintages([(d.isoformat(), 0.026, CDI.estimated_release(d)) for d in days])
    result = outcomes(CDI, frame, dt.date(2018, 2, 1), dt.date(2018, 2, 28))
    assert result["no_calendar_gaps"].passed  # Carnival (12-13 Feb) is not expected
    frame = frame[frame["obs_date"] != "2018-02-14"]
    assert outcomes(CDI, frame, dt.date(2018, 2, 1), dt.date(2018, 2, 28))["no_calendar_gaps"].metadata[
        "sample_missing"] == ["2018-02-14"]


def test_a_release_before_the_period_ends_is_look_ahead():
    rows = monthly_history()
    rows[0] = ("2018-01-01", 0.3, "2018-01-15T12:00:00Z")  # mid-January: before the month's last day began
    result = outcomes(IPCA, vintages(rows))
    assert not result["no_look_ahead"].passed and result["no_look_ahead"].rule.severity == "ERROR"


def test_a_release_during_the_last_day_of_the_period_is_not_look_ahead():
    ptax = load_catalog().get("bcb_sgs.1")  # published at 13:10 on its own day
    frame = vintages([("2018-03-01", 3.25, ptax.estimated_release(dt.date(2018, 3, 1)))])
    assert outcomes(ptax, frame, dt.date(2018, 3, 1), dt.date(2018, 3, 1))["no_look_ahead"].passed


@pytest.mark.parametrize("judged_at, stale", [
    (dt.datetime(2019, 1, 10, tzinfo=dt.UTC), False),  # December's IPCA not due yet (10 Jan + grace)
    (dt.datetime(2019, 1, 20, tzinfo=dt.UTC), True),   # due by then, and missing
])
def test_staleness_is_judged_at_the_fetch_against_the_release_schedule(judged_at, stale):
    result = outcomes(IPCA, vintages(monthly_history(last_month=11)), at=judged_at)
    assert result["not_stale"].passed is not stale
    assert result["not_stale"].metadata["latest_observation"] == "2018-11-01"


def test_an_empty_window_is_stale_once_something_was_due():
    empty = vintages([])
    assert not outcomes(IPCA, empty)["not_stale"].passed
    assert outcomes(IPCA, empty, at=dt.datetime(2018, 1, 2, tzinfo=dt.UTC))["not_stale"].passed
