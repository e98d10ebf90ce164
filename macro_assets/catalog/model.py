"""The catalog's types: sources, instruments and datasets of a kind, and the one mapping between a dataset id,
its source, its code and its asset key."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from macro_assets.catalog import calendars
from macro_assets.errors import CatalogError, UnknownDataset
from macro_assets.shapes import (
    BARS,
    CURVE_POINTS,
    EXPECTATIONS,
    INDEX_COMPONENTS,
    INSTRUMENT_DEFINITIONS,
    INSTRUMENT_STATISTICS,
    OBSERVATIONS,
    POSITIONS,
    TBBO,
    TRADES,
    Shape,
)

# A dataset's kind names the shape of its rows.
KINDS = {
    "observations": OBSERVATIONS,
    "curve": CURVE_POINTS,
    "bars": BARS,
    "expectations": EXPECTATIONS,
    "index_components": INDEX_COMPONENTS,
    "positions": POSITIONS,
    "trades": TRADES,
    "tbbo": TBBO,
    "statistics": INSTRUMENT_STATISTICS,
    "definitions": INSTRUMENT_DEFINITIONS,
}
INTERVALS = {
    "1m": dt.timedelta(minutes=1),
    "5min": dt.timedelta(minutes=5),
    "1h": dt.timedelta(hours=1),
    "1d": dt.timedelta(days=1),
}
# Dagster asset key parts must match this, and every dataset code becomes one.
_CODE = re.compile(r"^[A-Za-z0-9_]+$")


@dataclass(frozen=True, order=True)
class DatasetId:
    """`<source>.<code>`: the id in the warehouse, and the asset key [source, code] in Dagster."""

    source: str
    code: str

    @classmethod
    def parse(cls, text: str) -> DatasetId:
        source, dot, code = str(text).partition(".")
        if not dot or not _CODE.match(source) or not _CODE.match(code):
            raise CatalogError(f"dataset id {text!r} must be '<source>.<code>' of letters, digits and underscores")
        return cls(source, code)

    @classmethod
    def from_asset_path(cls, path: tuple[str, ...] | list[str]) -> DatasetId:
        source, code = path
        return cls(source, code)

    @property
    def asset_path(self) -> list[str]:
        return [self.source, self.code]

    def __str__(self) -> str:
        return f"{self.source}.{self.code}"


@dataclass(frozen=True)
class SourceSpec:
    name: str
    title: str
    owners: tuple[str, ...]
    requests_per_second: float
    max_concurrent_requests: int = 1


@dataclass(frozen=True)
class ReleaseRule:
    """When a value becomes public: `lag_days` after the end of its period, at `clock` in `timezone`."""

    lag_days: int
    clock: dt.time
    timezone: ZoneInfo

    def at_clock(self, day: dt.date) -> dt.datetime:
        """The release clock time on `day` in the source's time zone, as an aware UTC datetime."""
        return dt.datetime.combine(day, self.clock, tzinfo=self.timezone).astimezone(dt.UTC)


@dataclass(frozen=True)
class Instrument:
    """A traded thing whose bars the platform stores, with the session it trades in."""

    symbol: str
    name: str
    asset_class: str
    exchange: str
    currency: str
    timezone: ZoneInfo
    session_open: dt.time
    session_close: dt.time  # the end of the last bar
    calendar: str
    active: bool = True

    def bar_times(self, day: dt.date, interval: str) -> list[dt.datetime]:
        """Start instants (UTC) of every bar of the session on `day`; none on a day the calendar is closed."""
        if not calendars.is_business_day(self.calendar, day):
            return []
        step = INTERVALS[interval]
        opening = dt.datetime.combine(day, self.session_open, tzinfo=self.timezone)
        closing = dt.datetime.combine(day, self.session_close, tzinfo=self.timezone)
        count = int((closing - opening) / step)
        return [(opening + i * step).astimezone(dt.UTC) for i in range(count)]


@dataclass(frozen=True)
class DatasetSpec:
    """One dataset of the catalog: a series, a curve or a bar set, with the rules that judge it."""

    id: DatasetId
    kind: str
    name: str
    country: str
    frequency: str
    unit: str
    release: ReleaseRule
    calendar: str | None
    plausible_range: tuple[float, float]
    instrument: Instrument | None = None
    interval: str | None = None  # bars only
    weekday: int | None = None  # weekly only: the weekday an observation is dated on
    params: Mapping[str, object] = field(default_factory=dict)  # what the source needs to fetch it
    first_date: dt.date | None = None  # the first date the series exists (SOFR from 2018-04-02): none expected before

    @property
    def source(self) -> str:
        return self.id.source

    @property
    def code(self) -> str:
        return self.id.code

    @property
    def shape(self) -> Shape:
        return KINDS[self.kind]

    @property
    def partitioning(self) -> str:
        """Intraday and daily datasets live on daily partitions (one session each); weekly on weekly; monthly
        and quarterly on monthly ones."""
        return {"intraday": "daily", "quarterly": "monthly"}.get(self.frequency, self.frequency)

    def period_end(self, obs_date: dt.date) -> dt.date:
        return calendars.period_end(self.frequency, obs_date)

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
        start = max(start, self.first_date) if self.first_date else start
        return calendars.expected_dates(self.frequency, self.calendar, start, end, self.weekday)

    def next_period(self, obs_date: dt.date) -> dt.date:
        return calendars.next_period(self.frequency, self.calendar, obs_date)


@dataclass(frozen=True)
class Catalog:
    sources: dict[str, SourceSpec]
    instruments: dict[str, Instrument]
    datasets: dict[str, DatasetSpec]

    def get(self, dataset_id: str | DatasetId) -> DatasetSpec:
        try:
            return self.datasets[str(dataset_id)]
        except KeyError:
            raise UnknownDataset(
                f"unknown dataset {str(dataset_id)!r}: the catalog has {', '.join(sorted(self.datasets))}"
            ) from None

    def of_kind(self, kind: str) -> list[DatasetSpec]:
        return [spec for spec in self.datasets.values() if spec.kind == kind]
