"""The declarative series catalog (catalog.yaml) and the calendar rules derived from it.

Everything here is pure: loading the catalog reads one packaged file, nothing touches the network or a database.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo

import holidays
import yaml

FREQUENCIES = ("daily", "monthly", "quarterly")
CALENDARS = ("BR", "US")


class CatalogError(ValueError):
    """The catalog file is inconsistent; the message names the series and the field."""


class UnknownSeries(KeyError):
    def __str__(self) -> str:  # KeyError would quote the message
        return self.args[0]


@dataclass(frozen=True)
class SourceSpec:
    name: str
    title: str
    owners: tuple[str, ...]
    requests_per_second: float


@dataclass(frozen=True)
class ReleaseRule:
    lag_days: int
    clock: dt.time
    timezone: ZoneInfo

    def at_clock(self, day: dt.date) -> dt.datetime:
        """The release clock time on `day` in the source's time zone, as an aware UTC datetime."""
        return dt.datetime.combine(day, self.clock, tzinfo=self.timezone).astimezone(dt.UTC)


@dataclass(frozen=True)
class SeriesSpec:
    id: str
    source: str
    code: str
    name: str
    country: str
    frequency: str
    unit: str
    release: ReleaseRule
    calendar: str | None
    plausible_range: tuple[float, float]

    @property
    def partitioning(self) -> str:
        """Daily series live on the daily partitions; monthly and quarterly ones on the monthly partitions."""
        return "daily" if self.frequency == "daily" else "monthly"

    def period_end(self, obs_date: dt.date) -> dt.date:
        """Last calendar day of the period an observation date stands for (sources date periods by their start)."""
        if self.frequency == "daily":
            return obs_date
        months = 1 if self.frequency == "monthly" else 3
        first_of_next = _add_months(obs_date.replace(day=1), months)
        return first_of_next - dt.timedelta(days=1)

    def estimated_release(self, obs_date: dt.date) -> dt.datetime:
        """Period end + release lag, at the release clock in the source's time zone (UTC)."""
        return self.release.at_clock(self.period_end(obs_date) + dt.timedelta(days=self.release.lag_days))

    def earliest_possible_release(self, obs_date: dt.date) -> dt.datetime:
        """Start of the last day of the period (local): a release before it would be look-ahead.

        The start of the last day rather than its end because intraday fixings (PTAX at 13:10) and policy rates
        are published during their own day.
        """
        day = self.period_end(obs_date)
        return dt.datetime.combine(day, dt.time(0), tzinfo=self.release.timezone).astimezone(dt.UTC)

    def expected_dates(self, start: dt.date, end: dt.date) -> list[dt.date]:
        """Observation dates the series should have in [start, end] (inclusive) on its calendar."""
        if self.frequency == "daily":
            closed = _holidays(self.calendar, start.year, end.year)
            days = (start + dt.timedelta(days=i) for i in range((end - start).days + 1))
            return [d for d in days if d.weekday() < 5 and d not in closed]
        months = 1 if self.frequency == "monthly" else 3
        first = start.replace(day=1)
        while (first.month - 1) % months:
            first = _add_months(first, 1)
        if first < start:
            first = _add_months(first, months)
        dates = []
        while first <= end:
            dates.append(first)
            first = _add_months(first, months)
        return dates

    def next_period(self, obs_date: dt.date) -> dt.date:
        if self.frequency == "daily":
            following = self.expected_dates(obs_date + dt.timedelta(days=1), obs_date + dt.timedelta(days=10))
            return following[0]
        return _add_months(obs_date.replace(day=1), 1 if self.frequency == "monthly" else 3)


@dataclass(frozen=True)
class Catalog:
    sources: dict[str, SourceSpec]
    series: dict[str, SeriesSpec]

    def get(self, series_id: str) -> SeriesSpec:
        try:
            return self.series[series_id]
        except KeyError:
            raise UnknownSeries(
                f"unknown series {series_id!r}: the catalog has {', '.join(sorted(self.series))}"
            ) from None

    def of_source(self, source: str) -> list[SeriesSpec]:
        return [s for s in self.series.values() if s.source == source]


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return day.replace(year=index // 12, month=index % 12 + 1)


@cache
def _holidays(calendar: str | None, first_year: int, last_year: int) -> frozenset[dt.date]:
    years = range(first_year, last_year + 1)
    if calendar == "BR":
        # B3's calendar: national holidays plus Carnival, Corpus Christi and the year-end closures, on which BCB
        # daily series (CDI, PTAX) have no value; a day B3 closes is never a gap.
        return frozenset(holidays.financial_holidays("BVMF", years=years))
    if calendar == "US":
        # The Fed's holidays are the days US Treasury yields and most US daily releases skip.
        return frozenset(holidays.financial_holidays("FED", years=years))
    raise CatalogError(f"unknown calendar {calendar!r}; expected one of {CALENDARS}")


def _series_from_entry(entry: dict, sources: dict[str, SourceSpec]) -> SeriesSpec:
    series_id = entry.get("id", "<missing id>")

    def field(name: str):
        if name not in entry:
            raise CatalogError(f"catalog series {series_id}: missing field {name!r}")
        return entry[name]

    source, _, code = str(field("id")).partition(".")
    if source not in sources or not code:
        raise CatalogError(f"catalog series {series_id}: id must be '<source>.<code>' with a source in {sorted(sources)}")
    frequency = field("frequency")
    if frequency not in FREQUENCIES:
        raise CatalogError(f"catalog series {series_id}: field 'frequency' is {frequency!r}, expected one of {FREQUENCIES}")
    calendar = entry.get("calendar")
    if frequency == "daily" and calendar not in CALENDARS:
        raise CatalogError(f"catalog series {series_id}: field 'calendar' must be one of {CALENDARS} for a daily series")
    release = field("release")
    try:
        rule = ReleaseRule(
            lag_days=int(release["lag_days"]),
            clock=dt.time.fromisoformat(release["clock"]),
            timezone=ZoneInfo(release["timezone"]),
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise CatalogError(f"catalog series {series_id}: field 'release' is invalid ({exc})") from None
    low, high = (float(v) for v in field("plausible_range"))
    if not low < high:
        raise CatalogError(f"catalog series {series_id}: field 'plausible_range' must be [min, max] with min < max")
    return SeriesSpec(
        id=series_id, source=source, code=code, name=field("name"), country=field("country"),
        frequency=frequency, unit=str(field("unit")), release=rule, calendar=calendar, plausible_range=(low, high),
    )


def parse_catalog(text: str) -> Catalog:
    document = yaml.safe_load(text)
    sources = {
        name: SourceSpec(name=name, title=body["title"], owners=tuple(body.get("owners", ())),
                         requests_per_second=float(body.get("requests_per_second", 2)))
        for name, body in document["sources"].items()
    }
    series: dict[str, SeriesSpec] = {}
    for entry in document["series"]:
        spec = _series_from_entry(entry, sources)
        if spec.id in series:
            raise CatalogError(f"catalog series {spec.id}: duplicate id")
        series[spec.id] = spec
    return Catalog(sources=sources, series=series)


@cache
def load_catalog() -> Catalog:
    return parse_catalog(resources.files("macro_assets").joinpath("catalog.yaml").read_text(encoding="utf-8"))
