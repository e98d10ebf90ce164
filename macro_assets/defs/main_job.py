"""The main job as a handful of runs, executed in process: every range job over all its partitions, then every
check once. What the CLI prints about the instance comes from here too, so the CLI itself never imports Dagster.

Offline, the ranges first replay each request's first capture; then the datasets whose recordings replay
differently on their later captures (revisions, corrections) and those that fill gaps run once more on the
latest captures, so the story the recordings hold lands as vintages in the order it happened.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import dagster as dg

from macro_assets import settings
from macro_assets.catalog import DatasetId, load_catalog
from macro_assets.defs.checks import RANGE_END, RANGE_START
from macro_assets.defs.jobs import QUALITY_CHECKS_JOB
from macro_assets.defs.resources import EARLIEST, REPLAY_TAG, SourcesResource
from macro_assets.recordings import recorded_window
from macro_assets.sources import connector_for
from macro_assets.sources.base import FillsGaps

# INFO: the DEBUG console lines are one per partition (thousands per run); every event is still stored.
RUN_CONFIG = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}


@dataclass(frozen=True)
class PlannedRun:
    job: dg.JobDefinition
    tags: dict[str, str]
    what: str


def recorded_again() -> set[str]:
    """Datasets whose recorded window replays differently on its first and its latest captures, and those whose
    connector fills gaps (its next run asks for what the first one lacked)."""
    first, latest = SourcesResource().session(EARLIEST), SourcesResource().session()
    again = set()
    try:
        for spec in load_catalog().datasets.values():
            connector = connector_for(spec.source)
            start, end = recorded_window(spec.source)
            if isinstance(connector, FillsGaps) or [f.sha256 for f in connector.fetch(first, spec, start, end)] != [
                f.sha256 for f in connector.fetch(latest, spec, start, end)
            ]:
                again.add(str(spec.id))
    finally:
        first.client.close()
        latest.client.close()
    return again


def planned_runs(defs: dg.Definitions) -> list[PlannedRun]:
    offline = settings.mode() == "offline"
    again = recorded_again() if offline else set()
    graph = defs.resolve_asset_graph()
    runs = []
    for job in (job for job in defs.resolve_all_job_defs() if job.name.startswith("materialize_")):
        runs.append(PlannedRun(job, {REPLAY_TAG: EARLIEST} if offline else {}, "all assets"))
        keys = job.asset_layer.executable_asset_keys
        again_here = {key for key in keys if str(DatasetId.from_asset_path(key.path)) in again}
        # What reads a dataset captured again derives new vintages from it: it runs again too.
        later = again_here | {key for key in keys if graph.get(key).parent_keys & again_here}
        if later:  # a subset of the range job, still without its checks
            subset = job.get_subset(asset_selection=later, asset_check_selection=set())
            runs.append(PlannedRun(subset, {}, f"{len(later)} assets on their later captures"))
    runs.append(PlannedRun(defs.resolve_job_def(QUALITY_CHECKS_JOB), {}, "every dataset's checks over its partitions"))
    return runs


def execute_run(
    job: dg.JobDefinition,
    instance: dg.DagsterInstance,
    tags: dict[str, str],
    partition_range: tuple[str, str] | None = None,
) -> dg.ExecuteInProcessResult:
    """One run of `job` in this process, over the partition range (first, last key) if given; a failure is in the
    result, not raised."""
    if partition_range is not None:
        tags = {**tags, RANGE_START: partition_range[0], RANGE_END: partition_range[1]}
    return job.execute_in_process(instance=instance, tags=tags, run_config=RUN_CONFIG, raise_on_error=False)


def run_main_job(defs: dg.Definitions, say: Callable[[str], None]) -> bool:
    """Every planned run in turn, a line as each starts and ends; True when all succeeded."""
    instance = dg.DagsterInstance.get()
    started = dt.datetime.now()
    runs = planned_runs(defs)
    succeeded = True
    for number, run in enumerate(runs, start=1):
        tags, what = dict(run.tags), run.what
        definition, partition_range = run.job.partitions_def, None
        if definition is not None:
            partition_range = definition.get_first_partition_key(), definition.get_last_partition_key()
            what += f", {' .. '.join(partition_range)} ({len(definition.get_partition_keys())} partitions)"
        say(f"==> [{number}/{len(runs)}] {run.job.name}: {what}")
        result = execute_run(run.job, instance, tags, partition_range)
        succeeded &= result.success
        outcome = "done" if result.success else "FAILED: see the run in the UI (partitions then show as missing)"
        say(f"    {outcome} (run {result.run_id[:8]}) at {(dt.datetime.now() - started).total_seconds():.0f} s")
    return succeeded


@dataclass(frozen=True)
class AssetReport:
    partitions: int  # materialized
    dataset_id: str | None  # what the asset stores under, from its metadata
    kinds: frozenset[str]


@dataclass(frozen=True)
class InstanceReport:
    root: str
    assets: dict[str, AssetReport]  # by asset key (user string)
    passed: int
    failed: list[str]  # "<asset>:<check> (<severity>)"


def instance_report(defs: dg.Definitions) -> InstanceReport:
    """What the instance knows after a main job: materialized partitions and the latest result of every check."""
    instance = dg.DagsterInstance.get()
    graph = defs.resolve_asset_graph()
    latest = instance.event_log_storage.get_latest_asset_check_execution_by_key(list(graph.asset_check_keys))
    passed, failed = 0, []
    for key, record in latest.items():
        evaluation = record.event.dagster_event.event_specific_data if record.event else None
        if evaluation is None:
            continue
        if evaluation.passed:
            passed += 1
        else:
            failed.append(f"{key.asset_key.to_user_string()}:{key.name} ({evaluation.severity.value})")
    return InstanceReport(str(instance.root_directory), asset_reports(graph, instance), passed, failed)


def asset_reports(graph, instance: dg.DagsterInstance | None = None) -> dict[str, AssetReport]:
    """Each asset's materialized partitions on `instance` (none without one), dataset_id and kinds."""
    return {
        key.to_user_string(): AssetReport(
            len(instance.get_materialized_partitions(key)) if instance else 0,
            graph.get(key).metadata.get("dataset_id"),
            frozenset(graph.get(key).kinds),
        )
        for key in graph.get_all_asset_keys()
    }
