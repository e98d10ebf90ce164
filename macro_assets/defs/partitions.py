"""Partitions: one definition per (frequency, window), shared by every asset of that frequency and window.

Live, partitions run from 2010 to today. Offline they cover exactly the recorded window of the asset's source,
so every partition the UI offers can succeed.
"""

from __future__ import annotations

import datetime as dt
from functools import cache

import dagster as dg

from macro_assets import settings
from macro_assets.catalog import DatasetSpec
from macro_assets.recordings import recorded_window

LIVE_START = dt.date(2010, 1, 1)
WEEKDAY_CRON = "0 0 * * 1-5"


@cache
def partitions(frequency: str, start: dt.date, end: dt.date | None) -> dg.PartitionsDefinition:
    """`frequency` is daily, weekly:<weekday 0-6> or monthly; `end` (inclusive) None means up to today.

    Daily partitions are business days (Monday to Friday): one set fits BR, US and CO datasets; holidays differ by
    calendar and are judged by each dataset's calendar in the checks. A Friday partition spans the weekend, so a
    weekend row (SGS 432 lists every calendar day) still lands in a partition.
    """
    stop = None if end is None else (end + dt.timedelta(days=1)).isoformat()
    if frequency == "daily":
        return dg.TimeWindowPartitionsDefinition(
            start=start.isoformat(), end=stop, fmt="%Y-%m-%d", cron_schedule=WEEKDAY_CRON, timezone="UTC"
        )
    if frequency.startswith("weekly:"):
        # Dagster counts weekdays from Sunday (0); Python from Monday (0).
        return dg.WeeklyPartitionsDefinition(
            start_date=start.isoformat(), end_date=stop, day_offset=(int(frequency.partition(":")[2]) + 1) % 7
        )
    return dg.MonthlyPartitionsDefinition(start_date=start.isoformat(), end_date=stop)


def partitions_for(dataset: DatasetSpec) -> dg.PartitionsDefinition:
    frequency = dataset.partitioning
    if frequency == "weekly":
        frequency = f"weekly:{dataset.weekday}"
    if settings.mode() == "live":
        return partitions(frequency, LIVE_START, None)
    start, end = recorded_window(dataset.source)
    return partitions(frequency, start, end)


def inclusive_dates(window: dg.TimeWindow) -> tuple[dt.date, dt.date]:
    """A partitions time window as inclusive dates (Dagster's window end is exclusive)."""
    return window.start.date(), (window.end - dt.timedelta(days=1)).date()
