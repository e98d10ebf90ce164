"""What the automation asks of the catalog and of a source, as pure functions: which observation dates a dataset's
release calendar says are public at an instant (the schedules and the freshness checks), when a group of datasets
releases (a schedule's cron and its ticks), and which dates a source's fresh answer changed against what is
stored (the release sensors). No Dagster, no network, no database."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import polars as pl

from macro_assets.catalog import DatasetSpec
from macro_assets.errors import CatalogError

# A period is at most a quarter long: an observation dated this long before its release's lag is always older.
_LONGEST_PERIOD = dt.timedelta(days=92)
# Four years with a leap year: every weekday and day of month a release rule can fall on occurs in them.
_CRON_SAMPLE = (dt.date(2024, 1, 1), dt.date(2027, 12, 31))
_BY_WEEKDAY = ("intraday", "daily", "weekly")
_DAY = dt.timedelta(days=1)
# Every frequency releases at least once a year.
_YEAR = dt.timedelta(days=366)


def released_between(spec: DatasetSpec, since: dt.datetime, until: dt.datetime) -> list[dt.date]:
    """The observation dates whose estimated release falls in (since, until], oldest first."""
    if until <= since:
        return []
    first = since.date() - dt.timedelta(days=spec.release.lag_days) - _LONGEST_PERIOD
    return [d for d in spec.expected_dates(first, until.date()) if since < spec.estimated_release(d) <= until]


def latest_due(spec: DatasetSpec, instant: dt.datetime, grace: dt.timedelta = dt.timedelta(0)) -> dt.date | None:
    """The newest observation date released by `instant` per the catalog (late by up to `grace`): what a source
    should hold by then. None when none is due (the series has not started)."""
    due = released_between(spec, instant - grace - _YEAR, instant - grace)
    return due[-1] if due else None


def last_dates(spec: DatasetSpec, end: dt.date, count: int) -> list[dt.date]:
    """The last `count` expected observation dates at or before `end` (fewer when the series starts later)."""
    if count < 1:
        raise CatalogError(f"dataset {spec.id}: count of dates must be at least 1, got {count}")
    span = count * (dt.timedelta(weeks=1) if spec.frequency in _BY_WEEKDAY else _LONGEST_PERIOD)
    return spec.expected_dates(end - span, end)[-count:]


@dataclass(frozen=True)
class ReleaseDays:
    """The local clock and the days a group of datasets releases on: `weekdays` (cron's, Sunday 0) for daily and
    weekly series, else `days` of month in `months`."""

    clock: dt.time
    timezone: ZoneInfo
    weekdays: frozenset[int] | None
    days: frozenset[int]
    months: frozenset[int]

    def ticks_on(self, day: dt.date) -> bool:
        if self.weekdays is not None:
            return day.isoweekday() % 7 in self.weekdays
        return day.day in self.days and day.month in self.months

    @property
    def cron(self) -> str:
        minute, hour = self.clock.minute, self.clock.hour
        if self.weekdays is not None:
            return f"{minute} {hour} * * {_cron_list(self.weekdays)}"
        months = "*" if len(self.months) == 12 else _cron_list(self.months)
        return f"{minute} {hour} {_cron_list(self.days)} {months} *"

    def previous_tick(self, tick: dt.datetime) -> dt.datetime:
        """The tick before `tick` (aware): the clock on the last release day before it."""
        local = tick.astimezone(self.timezone)
        day = local.date() if local.time() > self.clock else local.date() - _DAY
        while not self.ticks_on(day):
            day -= _DAY
        return dt.datetime.combine(day, self.clock, tzinfo=self.timezone).astimezone(dt.UTC)


def release_days(specs: Iterable[DatasetSpec]) -> ReleaseDays:
    """The days any of `specs` releases on, at their shared clock in their shared time zone."""
    specs = list(specs)
    names = ", ".join(str(s.id) for s in specs)
    clocks = {(spec.release.clock, spec.release.timezone.key) for spec in specs}
    if len(clocks) != 1:
        raise CatalogError(f"datasets {names}: one release clock per group, got {clocks}")
    by_weekday = {spec.frequency in _BY_WEEKDAY for spec in specs}
    if len(by_weekday) != 1:
        raise CatalogError(f"datasets {names}: daily or weekly and longer series mixed in one group")
    released = {
        spec.estimated_release(d).astimezone(spec.release.timezone)
        for spec in specs
        for d in spec.expected_dates(*_CRON_SAMPLE)
    }
    weekdays = frozenset(moment.isoweekday() % 7 for moment in released) if by_weekday == {True} else None
    return ReleaseDays(
        clock=specs[0].release.clock,
        timezone=specs[0].release.timezone,
        weekdays=weekdays,
        days=frozenset(moment.day for moment in released),
        months=frozenset(moment.month for moment in released),
    )


def _cron_list(values: Iterable[int]) -> str:
    return ",".join(str(v) for v in sorted(values))


def changed_dates(spec: DatasetSpec, probed: pl.DataFrame, stored: pl.DataFrame, dates: pl.Expr) -> list[dt.date]:
    """The dates of the keys whose newest vintage in `probed` (a source's parsed answer) differs from the newest
    one in `stored` (the warehouse's latest: values, or a withdrawal), or that nothing stored holds yet. `dates`
    gives each row's date (ingest.pipeline.row_dates). A key stored but absent from the answer changes nothing:
    sources drop old history from recent answers."""
    shape = spec.shape
    keys, values = shape.key_columns, shape.value_columns
    newest = probed.sort([*keys, "release_time"]).group_by(keys, maintain_order=True).last()
    held = stored.select(*keys, *values).unique(subset=keys, keep="last")
    compared = newest.join(held, on=keys, how="left", suffix="_stored")
    # A key nothing stored holds compares as nulls: new when the answer has a value, as a withdrawal is.
    changed = compared.filter(pl.any_horizontal(pl.col(v).ne_missing(pl.col(f"{v}_stored")) for v in values))
    return sorted(set(changed.select(dates.alias("date"))["date"].to_list()))
