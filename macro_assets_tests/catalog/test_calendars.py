"""Business calendars (BR = B3, US = Federal Reserve, NYSE, CO) and period arithmetic: expected dates per
frequency, period ends and the next period."""

from __future__ import annotations

import datetime as dt

import pytest

from macro_assets.catalog import calendars, load_catalog, parse_catalog
from macro_assets.errors import CatalogError

CATALOG = load_catalog()


def days(*pairs: tuple[int, int], year: int = 2024) -> list[dt.date]:
    return [dt.date(year, month, day) for month, day in pairs]


# ------------------------------------------------------------------------------------------ holidays
def test_colombian_holidays_include_the_monday_shifted_ones():
    closed = calendars.holidays("CO", 2024, 2024)
    # San José (19 March) is observed on Monday 25 March 2024; Holy Thursday and Good Friday follow.
    assert dt.date(2024, 3, 25) in closed and dt.date(2024, 3, 19) not in closed
    assert {dt.date(2024, 3, 28), dt.date(2024, 3, 29)} <= closed
    assert calendars.business_days("CO", dt.date(2024, 3, 18), dt.date(2024, 3, 29)) == days(
        (3, 18), (3, 19), (3, 20), (3, 21), (3, 22), (3, 26), (3, 27)
    )


def test_nyse_closes_on_good_friday_and_the_federal_reserve_on_columbus_day():
    good_friday, columbus_day = dt.date(2024, 3, 29), dt.date(2024, 10, 14)
    assert not calendars.is_business_day("NYSE", good_friday)
    assert calendars.is_business_day("US", good_friday)  # Treasury yields are published that day
    assert calendars.is_business_day("NYSE", columbus_day)
    assert not calendars.is_business_day("US", columbus_day)


def test_b3_closes_for_carnival():
    assert calendars.business_days("BR", dt.date(2018, 2, 9), dt.date(2018, 2, 16)) == days(
        (2, 9), (2, 14), (2, 15), (2, 16), year=2018
    )


def test_weekends_are_never_business_days_and_an_inverted_range_is_empty():
    assert not calendars.is_business_day("US", dt.date(2024, 3, 23))
    assert calendars.business_days("US", dt.date(2024, 3, 23), dt.date(2024, 3, 24)) == []
    assert calendars.business_days("US", dt.date(2024, 3, 25), dt.date(2024, 3, 24)) == []


def test_an_unknown_calendar_is_a_catalog_error():
    expected = r"unknown calendar 'XX'; expected one of \('BR', 'US', 'NYSE', 'CO', 'US_FEDERAL'\)"
    with pytest.raises(CatalogError, match=expected):
        calendars.holidays("XX", 2024, 2024)


# ------------------------------------------------------------------------------------------ expected dates
def test_expected_dates_follow_each_datasets_calendar():
    cdi = CATALOG.get("bcb_sgs.12")
    assert cdi.expected_dates(dt.date(2018, 2, 9), dt.date(2018, 2, 16)) == days(
        (2, 9), (2, 14), (2, 15), (2, 16), year=2018
    )
    treasury = CATALOG.get("fred.DGS10")
    assert treasury.expected_dates(dt.date(2018, 7, 2), dt.date(2018, 7, 6)) == days(
        (7, 2), (7, 3), (7, 5), (7, 6), year=2018
    )  # 4 July closed
    gdp = CATALOG.get("fred.GDP")
    assert gdp.expected_dates(dt.date(2015, 2, 1), dt.date(2015, 12, 31)) == days((4, 1), (7, 1), (10, 1), year=2015)
    ipca = CATALOG.get("bcb_sgs.433")
    assert ipca.expected_dates(dt.date(2018, 1, 15), dt.date(2018, 4, 1)) == days((2, 1), (3, 1), (4, 1), year=2018)


def test_weekly_expected_dates_fall_on_the_given_weekday():
    wednesdays = calendars.expected_dates("weekly", None, dt.date(2024, 3, 1), dt.date(2024, 3, 31), weekday=2)
    assert wednesdays == days((3, 6), (3, 13), (3, 20), (3, 27))
    # A holiday does not remove the week: the source reports it anyway.
    mondays = calendars.expected_dates("weekly", "CO", dt.date(2024, 3, 1), dt.date(2024, 3, 31), weekday=0)
    assert mondays == days((3, 4), (3, 11), (3, 18), (3, 25))
    # The window's own weekday counts; a window too short for the weekday has none.
    assert calendars.expected_dates("weekly", None, dt.date(2024, 3, 6), dt.date(2024, 3, 6), weekday=2) == days((3, 6))
    assert calendars.expected_dates("weekly", None, dt.date(2024, 3, 7), dt.date(2024, 3, 12), weekday=2) == []


def test_a_weekly_dataset_names_its_weekday_in_the_catalog():
    entry = """
source: {name: cftc, title: CFTC, owners: ["team:markets"]}
datasets:
- code: COT_BRL
  kind: observations
  name: BRL net positions
  country: US
  frequency: weekly
  weekday: tuesday
  unit: contracts
  release: {lag_days: 3, clock: "15:30", timezone: America/New_York}
  plausible_range: [-1000000, 1000000]
"""
    spec = parse_catalog({"cftc.yaml": entry}).get("cftc.COT_BRL")
    assert (spec.weekday, spec.partitioning) == (1, "weekly")
    assert spec.expected_dates(dt.date(2024, 3, 1), dt.date(2024, 3, 31)) == days((3, 5), (3, 12), (3, 19), (3, 26))
    assert spec.next_period(dt.date(2024, 3, 26)) == dt.date(2024, 4, 2)
    # Dated on the day it describes, released 3 days later at 15:30 New York (EDT, UTC-4).
    assert spec.estimated_release(dt.date(2024, 3, 26)) == dt.datetime(2024, 3, 29, 19, 30, tzinfo=dt.UTC)


def test_a_daily_frequency_needs_a_calendar():
    with pytest.raises(CatalogError, match="a daily dataset needs a calendar"):
        calendars.expected_dates("daily", None, dt.date(2024, 3, 1), dt.date(2024, 3, 31))


# ------------------------------------------------------------------------------------------ period arithmetic
@pytest.mark.parametrize(
    "frequency, obs_date, end",
    [
        ("monthly", dt.date(2018, 2, 1), dt.date(2018, 2, 28)),
        ("monthly", dt.date(2020, 2, 1), dt.date(2020, 2, 29)),
        ("quarterly", dt.date(2018, 10, 1), dt.date(2018, 12, 31)),
        ("daily", dt.date(2018, 7, 4), dt.date(2018, 7, 4)),
        ("weekly", dt.date(2024, 3, 26), dt.date(2024, 3, 26)),
    ],
)
def test_period_end(frequency, obs_date, end):
    assert calendars.period_end(frequency, obs_date) == end


def test_add_months_crosses_years_both_ways():
    assert calendars.add_months(dt.date(2018, 11, 1), 3) == dt.date(2019, 2, 1)
    assert calendars.add_months(dt.date(2019, 1, 1), -1) == dt.date(2018, 12, 1)
    assert calendars.add_months(dt.date(2019, 1, 1), 0) == dt.date(2019, 1, 1)


def test_next_period_skips_closed_days_and_rolls_over_months():
    assert CATALOG.get("bcb_sgs.433").next_period(dt.date(2018, 12, 1)) == dt.date(2019, 1, 1)
    assert CATALOG.get("fred.GDP").next_period(dt.date(2018, 10, 1)) == dt.date(2019, 1, 1)
    assert CATALOG.get("bcb_sgs.12").next_period(dt.date(2018, 2, 9)) == dt.date(2018, 2, 14)  # over Carnival
    assert calendars.next_period("daily", "CO", dt.date(2024, 3, 22)) == dt.date(2024, 3, 26)  # over San José
