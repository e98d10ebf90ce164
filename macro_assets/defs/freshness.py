"""Freshness of every dataset against its release calendar: one check per dataset, `fresh_by_release_calendar`,
grouped one multi-check per source. It passes when the newest date stored is at least the newest date the catalog
says is out (releases late by up to the quality rules' grace allowed), judged now live and, offline, at the
dataset's newest fetch (a replay of old captures is judged as it would have been then) within its partitions (a
capture made after the recorded window's end can hold nothing newer than the window's last partition).

They run in the quality_checks job with every other check, and on their own in the `freshness_checks` job, daily
by the `freshness_checks_daily` schedule (RUNNING: they read only the warehouse); each result is on its asset's
Checks tab in the UI.
"""

import datetime as dt

import dagster as dg

from macro_assets import settings
from macro_assets.catalog import DatasetSpec, load_catalog
from macro_assets.defs.datasets import asset_key
from macro_assets.defs.partitions import inclusive_dates, partitions_for
from macro_assets.defs.resources import SourcesResource, WarehouseResource
from macro_assets.errors import UnknownDataset
from macro_assets.quality.observations import STALENESS_GRACE
from macro_assets.releases import last_dates, latest_due
from macro_assets.warehouse import Warehouse

FRESHNESS_CHECK = "fresh_by_release_calendar"
FRESHNESS_JOB = "freshness_checks"
# After the night's releases in Brazil and the US (the latest clocks are 18:00 New York and Sao Paulo).
FRESHNESS_CRON = "0 7 * * *"


def _newest_stored(warehouse: Warehouse, spec: DatasetSpec) -> dt.date | None:
    try:
        end = warehouse.reader(spec.shape).info(str(spec.id))["end"]
    except UnknownDataset:
        return None
    return end.date() if isinstance(end, dt.datetime) else end


def _judged_at(warehouse: Warehouse, spec: DatasetSpec, live: bool) -> dt.datetime | None:
    if live:
        return dt.datetime.now(dt.UTC)
    fetched = warehouse.pipeline.payloads(str(spec.id))["fetched_at"]
    return fetched.max().to_pydatetime() if len(fetched) else None


def freshness_result(warehouse: Warehouse, spec: DatasetSpec, live: bool) -> dg.AssetCheckResult:
    newest = _newest_stored(warehouse, spec)
    judged_at = _judged_at(warehouse, spec, live)
    due = latest_due(spec, judged_at, STALENESS_GRACE) if judged_at else None
    if due is not None and not live:
        partitions = partitions_for(spec)
        _, last_day = inclusive_dates(partitions.time_window_for_partition_key(partitions.get_last_partition_key()))
        window_end = last_dates(spec, last_day, 1)
        due = min(due, window_end[0]) if window_end else None
    following = spec.next_period(newest) if newest else None
    return dg.AssetCheckResult(
        check_name=FRESHNESS_CHECK,
        asset_key=asset_key(spec),
        passed=newest is not None and (due is None or newest >= due),
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "newest_stored": newest.isoformat() if newest else "none",
            "newest_due": due.isoformat() if due else "none",
            "judged_at": judged_at.isoformat() if judged_at else "nothing fetched",
            "grace": str(STALENESS_GRACE),
            "next_expected_release": spec.estimated_release(following).isoformat() if following else "unknown",
        },
    )


def build_freshness_checks(source: str, datasets: list[DatasetSpec]) -> dg.AssetChecksDefinition:
    by_key = {asset_key(spec): spec for spec in datasets}

    @dg.multi_asset_check(
        name=f"{source}__freshness",
        specs=[
            dg.AssetCheckSpec(
                FRESHNESS_CHECK,
                asset=key,
                description=f"The newest date stored is at least the newest one due by the release rule of "
                f"{spec.id} ({spec.frequency}, period end + {spec.release.lag_days} d at "
                f"{spec.release.clock:%H:%M} {spec.release.timezone.key}, calendar "
                f"{spec.calendar or spec.frequency}), {STALENESS_GRACE.days} days' grace.",
            )
            for key, spec in by_key.items()
        ],
        can_subset=True,
    )
    def source_freshness(
        context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource, sources: SourcesResource
    ):
        live = (sources.mode or settings.mode()) == "live"
        stored = warehouse.open()
        for check_key in context.selected_asset_check_keys:
            yield freshness_result(stored, by_key[check_key.asset_key], live)

    return source_freshness


def freshness_checks() -> list[dg.AssetChecksDefinition]:
    by_source: dict[str, list[DatasetSpec]] = {}
    for spec in load_catalog().datasets.values():
        by_source.setdefault(spec.source, []).append(spec)
    return [build_freshness_checks(source, specs) for source, specs in sorted(by_source.items())]


def freshness_job_and_schedule(checks: list[dg.AssetChecksDefinition]) -> tuple:
    keys = [key for definition in checks for key in definition.check_keys]
    job = dg.define_asset_job(
        FRESHNESS_JOB,
        selection=dg.AssetSelection.checks(*keys),
        description="Every dataset's freshness against its release calendar (reads only the warehouse).",
    )
    schedule = dg.ScheduleDefinition(
        name=f"{FRESHNESS_JOB}_daily",
        job=job,
        cron_schedule=FRESHNESS_CRON,
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
    )
    return job, schedule
