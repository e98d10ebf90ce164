"""The Dagster side of `macro-assets backfill` (macro_assets/cli/backfill.py plans, keeps the ledger and projects):
what each planned chunk runs, and the chunks run in process one after another, each outcome in the ledger as soon
as it ends."""

import dataclasses
import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import dagster as dg

from macro_assets import settings
from macro_assets.cli.backfill import (
    HELD_CONNECTION,
    Chunk,
    CostModel,
    JobPlan,
    Ledger,
    Outcome,
    Partition,
    matching_keys,
    plan_job,
    progress_line,
    selection_digest,
)
from macro_assets.defs.checks import WINDOW_TAG
from macro_assets.defs.jobs import QUALITY_CHECKS_JOB
from macro_assets.defs.main_job import execute_run
from macro_assets.defs.partitions import inclusive_dates


@dataclass(frozen=True)
class Execution:
    """What one chunk runs: a job restricted to the selection, with its tags and partition range, once the chunks
    in `after` have succeeded."""

    job: dg.JobDefinition
    tags: dict[str, str]
    partition_range: tuple[str, str] | None
    after: tuple[Chunk, ...] = ()


def backfill_runs(
    defs, start: dt.date, end: dt.date, select: Sequence[str], chunk_partitions: int
) -> tuple[list[JobPlan], dict[str, Execution]]:
    """The plan of every range job with a selected asset, and what each of its chunks and its checks run."""
    mode = settings.mode()
    range_jobs = [job for job in defs.resolve_all_job_defs() if job.name.startswith("materialize_")]
    chosen = matching_keys(
        [key.to_user_string() for job in range_jobs for key in job.asset_layer.executable_asset_keys], select
    )
    check_keys = defs.resolve_asset_graph().asset_check_keys
    plans, executions = [], {}
    for job in range_jobs:
        keys = {key for key in job.asset_layer.executable_asset_keys if key.to_user_string() in chosen}
        if not keys:
            continue
        if keys != set(job.asset_layer.executable_asset_keys):
            job = job.get_subset(asset_selection=keys, asset_check_selection=set())
        definition = job.partitions_def
        partitions = [
            Partition(key, *inclusive_dates(definition.time_window_for_partition_key(key)))
            for key in definition.get_partition_keys()
        ]
        digest = selection_digest(mode, (key.to_user_string() for key in keys))
        plan = plan_job(job.name, digest, len(keys), partitions, start, end, chunk_partitions, QUALITY_CHECKS_JOB)
        executions |= {chunk.key: Execution(job, {}, (chunk.first, chunk.last)) for chunk in plan.chunks}
        checks = {key for key in check_keys if key.asset_key in keys}
        if plan.checks and checks:
            checks_job = defs.resolve_job_def(QUALITY_CHECKS_JOB).get_subset(
                asset_selection=set(), asset_check_selection=checks
            )
            window = {WINDOW_TAG: f"{plan.window[0]}...{plan.window[1]}"}
            executions[plan.checks.key] = Execution(checks_job, window, None, tuple(plan.chunks))
        else:
            plan = dataclasses.replace(plan, checks=None)
        plans.append(plan)
    return plans, executions


def run_chunks(
    executions: dict[str, Execution],
    todo: Sequence[Chunk],
    ledger: Ledger,
    model: CostModel,
    say: Callable[[str], None],
) -> bool:
    """Each chunk as one in-process run, its outcome in the ledger as soon as it ends; True if all succeeded."""
    instance = dg.DagsterInstance.get()
    instance.optimize_for_webserver(**HELD_CONNECTION)
    started = time.monotonic()
    projected_left, projected_done = sum(map(model.seconds, todo)), 0.0
    succeeded = True
    for number, chunk in enumerate(todo, start=1):
        execution = executions[chunk.key]
        projected_left -= model.seconds(chunk)
        missing = [before for before in execution.after if not ledger.succeeded(before)]
        if missing:
            succeeded = False
            say(f"[{number}/{len(todo)}] {chunk.job} of {len(missing)} chunks not done: not run")
            continue
        began = time.monotonic()
        result = execute_run(execution.job, instance, execution.tags, execution.partition_range)
        outcome = Outcome(
            result.success,
            round(time.monotonic() - began, 3),
            result.run_id,
            chunk.asset_partitions,
            dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        )
        ledger.record(chunk, outcome)
        succeeded &= result.success
        projected_done += model.seconds(chunk)
        elapsed = time.monotonic() - started
        # The projection of what is left, scaled by how far the chunks so far ran from theirs.
        say(progress_line(number, len(todo), chunk, outcome, elapsed, projected_left * elapsed / projected_done))
    return succeeded
