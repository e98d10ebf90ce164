import datetime as dt

import pytest

from macro_assets.catalog import CatalogError, UnknownSeries, load_catalog, parse_catalog

BASE = """
sources:
  fred: {title: FRED, owners: ["team:us"], requests_per_second: 2}
series:
"""
ENTRY = """
  - id: fred.X
    name: X
    country: US
    frequency: {frequency}
    unit: "%"
    release: {{lag_days: 7, clock: "08:30", timezone: America/New_York}}
    calendar: US
    plausible_range: [0, 10]
"""


def test_every_series_of_the_slice_is_catalogued():
    catalog = load_catalog()
    assert set(catalog.series) == {
        "bcb_sgs.432", "bcb_sgs.12", "bcb_sgs.433", "bcb_sgs.24363", "bcb_sgs.1",
        "fred.GDP", "fred.CPIAUCSL", "fred.PAYEMS", "fred.UNRATE", "fred.DGS10",
    }
    assert {s.partitioning for s in catalog.of_source("fred")} == {"daily", "monthly"}


def test_adding_a_series_is_one_entry():
    catalog = parse_catalog(BASE + ENTRY.format(frequency="monthly"))
    spec = catalog.get("fred.X")
    assert (spec.source, spec.code, spec.partitioning) == ("fred", "X", "monthly")


def test_period_end_and_estimated_release_apply_lag_and_clock_in_the_source_time_zone():
    catalog = load_catalog()
    ipca = catalog.get("bcb_sgs.433")  # 10 days after month end, 09:00 São Paulo (UTC-3)
    assert ipca.period_end(dt.date(2018, 2, 1)) == dt.date(2018, 2, 28)
    assert ipca.estimated_release(dt.date(2018, 2, 1)) == dt.datetime(2018, 3, 10, 12, 0, tzinfo=dt.UTC)
    gdp = catalog.get("fred.GDP")  # quarterly: dated on the quarter's first month
    assert gdp.period_end(dt.date(2018, 7, 1)) == dt.date(2018, 9, 30)
    # 08:30 New York is 12:30 UTC in summer (EDT) and 13:30 UTC in winter (EST).
    assert gdp.release.at_clock(dt.date(2018, 7, 27)).hour == 12
    assert gdp.release.at_clock(dt.date(2018, 12, 21)).hour == 13


def test_expected_dates_follow_each_calendar():
    catalog = load_catalog()
    cdi = catalog.get("bcb_sgs.12")
    days = cdi.expected_dates(dt.date(2018, 2, 9), dt.date(2018, 2, 16))
    assert dt.date(2018, 2, 12) not in days and dt.date(2018, 2, 13) not in days  # B3 closes for Carnival
    assert days == [dt.date(2018, 2, 9), dt.date(2018, 2, 14), dt.date(2018, 2, 15), dt.date(2018, 2, 16)]
    treasury = catalog.get("fred.DGS10")
    assert dt.date(2018, 7, 4) not in treasury.expected_dates(dt.date(2018, 7, 2), dt.date(2018, 7, 6))
    gdp = catalog.get("fred.GDP")
    assert gdp.expected_dates(dt.date(2015, 2, 1), dt.date(2015, 12, 31)) == [
        dt.date(2015, 4, 1), dt.date(2015, 7, 1), dt.date(2015, 10, 1)]
    assert catalog.get("bcb_sgs.433").next_period(dt.date(2018, 12, 1)) == dt.date(2019, 1, 1)


def test_unknown_series_names_the_known_ones():
    with pytest.raises(UnknownSeries, match="unknown series 'fred.NOPE'.*fred.GDP"):
        load_catalog().get("fred.NOPE")


@pytest.mark.parametrize("text, message", [
    (BASE + ENTRY.format(frequency="hourly"), "fred.X: field 'frequency'"),
    (BASE + ENTRY.format(frequency="daily").replace("calendar: US", "calendar: XX"), "fred.X: field 'calendar'"),
    (BASE + ENTRY.format(frequency="monthly").replace("[0, 10]", "[10, 0]"), "fred.X: field 'plausible_range'"),
    (BASE + ENTRY.format(frequency="monthly").replace("America/New_York", "Mars/Olympus"), "fred.X: field 'release'"),
    (BASE + ENTRY.format(frequency="monthly").replace("    unit: \"%\"\n", ""), "fred.X: missing field 'unit'"),
    (BASE + ENTRY.format(frequency="monthly").replace("fred.X", "yahoo.X"), "id must be '<source>.<code>'"),
    (BASE + ENTRY.format(frequency="monthly") * 2, "fred.X: duplicate id"),
])
def test_catalog_errors_name_the_series_and_the_field(text, message):
    with pytest.raises(CatalogError, match=message):
        parse_catalog(text)
