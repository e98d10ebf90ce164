"""What the release calendars say is out at an instant, the cron of a group's releases, and which dates a source's
answer changed against what is stored."""

import datetime as dt

import polars as pl
import pytest

from macro_assets.catalog import load_catalog
from macro_assets.errors import CatalogError
from macro_assets.releases import changed_dates, last_dates, latest_due, release_days, released_between

CATALOG = load_catalog()
UTC = dt.UTC


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_a_daily_series_releases_its_business_days_only_and_a_holiday_releases_nothing():
    cdi = CATALOG.get("bcb_sgs.12")  # the day's CDI the next morning at 09:00 Sao Paulo
    # Thursday 2018-11-15 is a BR holiday: no CDI dated on it, so Friday morning releases nothing.
    assert released_between(cdi, at("2018-11-14T00:00"), at("2018-11-17T00:00")) == [
        dt.date(2018, 11, 13),
        dt.date(2018, 11, 14),
    ]
    assert released_between(cdi, at("2018-11-16T00:00"), at("2018-11-16T23:59")) == []
    assert released_between(cdi, at("2018-11-17T00:00"), at("2018-11-14T00:00")) == []


def test_the_latest_date_due_follows_the_lag_and_the_grace_and_none_before_a_series_starts():
    ibcbr = CATALOG.get("bcb_sgs.24363")  # month end + 48 days at 09:00 Sao Paulo
    assert latest_due(ibcbr, at("2019-01-10T00:00")) == dt.date(2018, 10, 1)
    assert latest_due(ibcbr, at("2019-02-21T00:00")) == dt.date(2018, 12, 1)
    assert latest_due(ibcbr, at("2019-02-21T00:00"), grace=dt.timedelta(days=5)) == dt.date(2018, 11, 1)
    assert latest_due(CATALOG.get("fred.SOFR"), at("2018-03-01T00:00")) is None


def test_the_last_dates_are_the_calendar_s_expected_ones():
    ibcbr = CATALOG.get("bcb_sgs.24363")
    months = last_dates(ibcbr, dt.date(2018, 12, 1), 20)
    assert (len(months), months[0], months[-1]) == (20, dt.date(2017, 5, 1), dt.date(2018, 12, 1))
    ptax = last_dates(CATALOG.get("bcb_sgs.1"), dt.date(2018, 11, 16), 3)
    assert ptax == [dt.date(2018, 11, 13), dt.date(2018, 11, 14), dt.date(2018, 11, 16)]
    with pytest.raises(CatalogError, match="bcb_sgs.1: count of dates must be at least 1"):
        last_dates(CATALOG.get("bcb_sgs.1"), dt.date(2018, 11, 16), 0)


def test_a_cron_ticks_on_the_release_days_of_its_group():
    cot = [spec for spec in CATALOG.datasets.values() if spec.source == "cftc_cot"]
    assert release_days(cot).cron == "30 15 * * 5"  # Tuesday's positions on Friday at 15:30 New York
    focus = [spec for spec in CATALOG.datasets.values() if spec.source == "bcb_focus"]
    assert release_days(focus).cron == "25 8 * * 1"  # Friday's survey on Monday at 08:25 Sao Paulo
    assert release_days([CATALOG.get("fred.GDP")]).cron == "30 8 30 1,4,7,10 *"  # quarter end + 30 days
    assert release_days([CATALOG.get("bcb_sgs.1")]).cron == "10 13 * * 1,2,3,4,5"
    # The tick before: the clock on the group's last release day before it (IBC-Br and the 09:00 SGS monthlies).
    monthly = release_days([CATALOG.get("bcb_sgs.24363")])
    assert monthly.cron == "0 9 17,18,19,20 * *"
    assert monthly.previous_tick(at("2019-02-17T12:00")) == at("2019-01-20T11:00")  # 09:00 Sao Paulo (summer time)
    assert release_days(cot).previous_tick(at("2018-11-23T20:30")) == at("2018-11-16T20:30")
    with pytest.raises(CatalogError, match="one release clock per group"):
        release_days([CATALOG.get("fred.GDP"), CATALOG.get("bcb_sgs.1")])


def observations(rows: list[tuple[str, float | None, str]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "obs_date": [dt.date.fromisoformat(day) for day, _, _ in rows],
            "value": [value for _, value, _ in rows],
            "release_time": [at(released) for _, _, released in rows],
        },
        schema={"obs_date": pl.Date, "value": pl.Float64, "release_time": pl.Datetime("us", "UTC")},
    )


def test_the_changed_dates_are_revisions_withdrawals_and_new_values_by_their_newest_vintage():
    unrate = CATALOG.get("fred.UNRATE")
    answer = observations(
        [
            ("2018-08-01", 3.9, "2018-09-07T12:30"),  # as stored
            ("2018-09-01", 3.7, "2018-10-05T12:30"),
            ("2018-09-01", 3.8, "2019-01-04T13:30"),  # revised later: changed
            ("2018-10-01", 3.7, "2018-10-05T12:30"),
            ("2018-10-01", None, "2019-01-04T13:30"),  # withdrawn: changed
            ("2018-11-01", 3.7, "2018-12-07T13:30"),  # nothing stored yet: new
            ("2018-12-01", None, "2019-01-04T13:30"),  # missing and not stored: nothing to request
        ]
    )
    stored = observations(
        [("2018-07-01", 3.9, "2018-08-03T12:30"), ("2018-08-01", 3.9, "2018-09-07T12:30")]
        + [("2018-09-01", 3.7, "2018-10-05T12:30"), ("2018-10-01", 3.7, "2018-10-05T12:30")]
    )
    assert changed_dates(unrate, answer, stored, pl.col("obs_date")) == [
        dt.date(2018, 9, 1),
        dt.date(2018, 10, 1),
        dt.date(2018, 11, 1),
    ]
    assert changed_dates(unrate, stored, stored, pl.col("obs_date")) == []
