"""Automation: the release schedules (defs/schedules.py) and sensors (defs/sensors.py) that bring new source values
in, the freshness checks (defs/freshness.py), and declarative automation for everything downstream, with one
explicit, RUNNING automation-condition sensor per kind of downstream asset (the sensor Dagster would add on its
own starts STOPPED).

Downstream assets update when an input gains a vintage, on every partition that reads it. `eager()` looks at the
newest time partition only: a revision of an older month never reaches it, and offline, where the partitions end
with the recordings, a later capture revises months before the last one, so it could never fire. Here a
partition is due when a partition its window reads was updated (a 12-month z-score reads the 11 months before its
own: a revised August gives August and the eleven months after it new vintages), and never merely for being
missing, so switching automation on requests no history.
"""

import warnings

import dagster as dg

from macro_assets.analytics import pit
from macro_assets.defs.freshness import freshness_checks, freshness_job_and_schedule
from macro_assets.defs.schedules import release_schedules
from macro_assets.defs.sensors import release_sensors
from macro_assets.errors import CatalogError

# A window reaching before the first partition reads what exists of it; Dagster still labels the parameter beta.
warnings.filterwarnings("ignore", category=dg.BetaWarning, message=".*allow_nonexistent_upstream_partitions.*")

INPUTS_UPDATED = (
    dg.AutomationCondition.any_deps_updated().since_last_handled()
    & ~dg.AutomationCondition.any_deps_missing()
    & ~dg.AutomationCondition.any_deps_in_progress()
    & ~dg.AutomationCondition.in_progress()
).with_label("an input gained a vintage")


# The most weekday partitions a calendar month holds.
WEEKDAYS_PER_MONTH = 23


def partitions_read_before(window: pit.Window, partitions: dg.PartitionsDefinition) -> int:
    """How many partitions before its own a derived partition's window can read, at most. A daily series'
    observations skip its calendar's holidays, which are fewer than its business days in any window: twice the
    observations bounds the weekday partitions they span."""
    monthly = isinstance(partitions, dg.MonthlyPartitionsDefinition)
    if isinstance(window, pit.SameDate):
        return 0
    if isinstance(window, pit.TrailingMonths):
        return window.months - 1 if monthly else window.months * WEEKDAYS_PER_MONTH
    if isinstance(window, pit.TrailingObservations):
        weekly = isinstance(partitions, dg.WeeklyPartitionsDefinition)
        return window.count - 1 if monthly or weekly else 2 * window.count - 1
    raise CatalogError(f"window {window!r}: no partition reach known for it")


def updates_with_its_inputs(asset: dg.AssetsDefinition, window: pit.Window) -> dg.AssetsDefinition:
    """`asset` under INPUTS_UPDATED, each input read through the partitions its window covers."""
    before = partitions_read_before(window, asset.partitions_def)
    mapping = (
        dg.TimeWindowPartitionMapping(start_offset=-before, allow_nonexistent_upstream_partitions=True)
        if before
        else None
    )

    def automated(spec: dg.AssetSpec) -> dg.AssetSpec:
        deps = [dg.AssetDep(dep.asset_key, partition_mapping=mapping) for dep in spec.deps]
        return spec.replace_attributes(deps=deps, automation_condition=INPUTS_UPDATED)

    return asset.map_asset_specs(automated)


panels_automation = dg.AutomationConditionSensorDefinition(
    "panels_automation",
    target=dg.AssetSelection.tag("shape", "panel"),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=60,
)

derived_series_automation = dg.AutomationConditionSensorDefinition(
    "derived_series_automation",
    target=dg.AssetSelection.tag("shape", "derived_series"),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=60,
)


def automation_definitions() -> dg.Definitions:
    checks = freshness_checks()
    job, schedule = freshness_job_and_schedule(checks)
    return dg.Definitions(
        assets=[],
        asset_checks=checks,
        jobs=[job],
        schedules=[*release_schedules(), schedule],
        sensors=release_sensors(),
    )
