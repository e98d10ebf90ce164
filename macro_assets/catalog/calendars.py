"""Business calendars and period arithmetic: holidays from the maintained `holidays` package, expected dates per
frequency, and the bar times of an intraday session. Pure functions."""

from __future__ import annotations

import datetime as dt
from functools import cache

import holidays as holiday_package

from macro_assets.errors import CatalogError

CALENDARS = ("BR", "US", "NYSE", "CO", "US_FEDERAL")
FREQUENCIES = ("intraday", "daily", "weekly", "monthly", "quarterly")
_MONTHS_PER_PERIOD = {"monthly": 1, "quarterly": 3}


@cache
def holidays(calendar: str, first_year: int, last_year: int) -> frozenset[dt.date]:
    """Days the calendar is closed on (weekdays and weekends alike), in [first_year, last_year]."""
    years = range(first_year, last_year + 1)
    if calendar == "BR":
        # B3's calendar: national holidays plus Carnival, Corpus Christi and the year-end closures, on which BCB
        # daily series (CDI, PTAX) and Tesouro Direto have no value.
        return frozenset(holiday_package.financial_holidays("BVMF", years=years))
    if calendar == "US":
        # The Federal Reserve's holidays: the days US Treasury yields and most US daily releases skip.
        return frozenset(holiday_package.financial_holidays("FED", years=years))
    if calendar == "NYSE":
        # US equity, ETF and index sessions (Good Friday closed, Columbus and Veterans Day open).
        return frozenset(holiday_package.financial_holidays("XNYS", years=years))
    if calendar == "CO":
        # The Colombian FX market (SET-FX) closes on the national bank holidays, Monday-shifted ones included.
        return frozenset(holiday_package.country_holidays("CO", years=years))
    if calendar == "US_FEDERAL":
        # The federal government's holidays (OPM): a Saturday holiday is observed on the Friday before, as the Fed
        # does not; federal agencies (the CFTC) close then.
        return frozenset(holiday_package.country_holidays("US", years=years))
    raise CatalogError(f"unknown calendar {calendar!r}; expected one of {CALENDARS}")


def is_business_day(calendar: str, day: dt.date) -> bool:
    return day.weekday() < 5 and day not in holidays(calendar, day.year, day.year)


def business_days(calendar: str, start: dt.date, end: dt.date) -> list[dt.date]:
    """The calendar's business days in [start, end]."""
    if end < start:
        return []
    closed = holidays(calendar, start.year, end.year)
    days = (start + dt.timedelta(days=i) for i in range((end - start).days + 1))
    return [d for d in days if d.weekday() < 5 and d not in closed]


def add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return day.replace(year=index // 12, month=index % 12 + 1)


def period_end(frequency: str, obs_date: dt.date) -> dt.date:
    """Last calendar day of the period an observation date stands for (sources date periods by their start;
    a weekly observation is dated on the day it describes)."""
    if frequency in _MONTHS_PER_PERIOD:
        return add_months(obs_date.replace(day=1), _MONTHS_PER_PERIOD[frequency]) - dt.timedelta(days=1)
    return obs_date


def expected_dates(
    frequency: str, calendar: str | None, start: dt.date, end: dt.date, weekday: int | None = None
) -> list[dt.date]:
    """Observation dates a dataset should have in [start, end] (inclusive).

    Daily and intraday datasets: the business days of their calendar. Weekly: the given weekday of each week
    (a holiday does not remove it: the source reports the week anyway). Monthly and quarterly: the first day of
    each period."""
    if frequency in ("daily", "intraday"):
        if calendar is None:
            raise CatalogError(f"a {frequency} dataset needs a calendar; expected one of {CALENDARS}")
        return business_days(calendar, start, end)
    if frequency == "weekly":
        target = 0 if weekday is None else weekday
        first = start + dt.timedelta(days=(target - start.weekday()) % 7)
        return [first + dt.timedelta(weeks=i) for i in range((end - first).days // 7 + 1)] if first <= end else []
    months = _MONTHS_PER_PERIOD[frequency]
    first = start.replace(day=1)
    while (first.month - 1) % months:
        first = add_months(first, 1)
    if first < start:
        first = add_months(first, months)
    dates = []
    while first <= end:
        dates.append(first)
        first = add_months(first, months)
    return dates


def next_period(frequency: str, calendar: str | None, obs_date: dt.date) -> dt.date:
    """The observation date after `obs_date`."""
    if frequency in ("daily", "intraday"):
        return expected_dates(frequency, calendar, obs_date + dt.timedelta(days=1), obs_date + dt.timedelta(days=15))[0]
    if frequency == "weekly":
        return obs_date + dt.timedelta(weeks=1)
    return add_months(obs_date.replace(day=1), _MONTHS_PER_PERIOD[frequency])
