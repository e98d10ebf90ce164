"""The two shared partitions definitions: every daily asset uses DAILY, every monthly or quarterly one MONTHLY."""

import datetime as dt

import dagster as dg

PARTITIONS_START = "2010-01-01"

# Business days (Monday to Friday): one calendar fits both BR and US daily series; holidays differ by country and
# are judged by each series' calendar in the gap check. A Friday partition spans the weekend, so a weekend row
# (SGS 432 lists every calendar day) still lands in a partition.
DAILY = dg.TimeWindowPartitionsDefinition(
    start=PARTITIONS_START, fmt="%Y-%m-%d", cron_schedule="0 0 * * 1-5", timezone="UTC"
)
MONTHLY = dg.MonthlyPartitionsDefinition(start_date=PARTITIONS_START)

BY_NAME = {"daily": DAILY, "monthly": MONTHLY}


def inclusive_dates(window: dg.TimeWindow) -> tuple[dt.date, dt.date]:
    """A partitions time window as inclusive dates (Dagster's window end is exclusive)."""
    return window.start.date(), (window.end - dt.timedelta(days=1)).date()
