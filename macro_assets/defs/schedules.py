"""Release schedules: one per source, partitions definition and release clock the catalog states (SGS daily at
its clocks, Focus on Monday morning, COT on Friday afternoon, Treasury curves after the close, FRED at each of its
release clocks). A tick at a release instant requests, for each dataset of the group, the partitions of the
observation dates the release calendar (catalog/calendars.py: BR and US holidays from `holidays`) says came out
since the tick before: a holiday releases nothing, so its tick skips. Dagster offers a time partition only once
its window has ended, so a value out before its partition ends (PTAX at 13:10, Focus on the Monday after its
Friday survey, COT on the Friday after its Tuesday) runs at the first tick after the window ends.

They start STOPPED: live, their runs call the sources' APIs. Offline the partitions end with the recordings, so a
tick today finds nothing due in them.
"""

import datetime as dt

import dagster as dg

from macro_assets.catalog import DatasetSpec, load_catalog
from macro_assets.defs.checks import RANGE_END, RANGE_START
from macro_assets.defs.datasets import asset_key
from macro_assets.defs.partitions import partitions_for
from macro_assets.defs.sensors import partition_keys, partitions_name
from macro_assets.releases import ReleaseDays, release_days, released_between

# The longest a partition's window outlasts the release of its dates: a week's survey is out before its week ends.
PARTITION_OUTLASTS_RELEASE = dt.timedelta(days=8)


def schedule_groups(datasets: list[DatasetSpec]) -> dict[str, list[DatasetSpec]]:
    """Datasets by schedule name: source, partitions and release clock (in its time zone)."""
    groups: dict[str, list[DatasetSpec]] = {}
    for spec in datasets:
        clock = f"{spec.release.clock:%H%M}_{spec.release.timezone.key.replace('/', '_')}"
        groups.setdefault(f"{spec.source}_{partitions_name(spec)}_at_{clock}", []).append(spec)
    return groups


def runnable_partitions(spec: DatasetSpec, since: dt.datetime, until: dt.datetime) -> list[str]:
    """The partitions of `spec` that became runnable in (since, until]: a partition runs once its dates are released
    and its window has ended (Dagster offers only ended windows), whichever comes last."""
    definition = partitions_for(spec)
    keys = set()
    for day in released_between(spec, since - PARTITION_OUTLASTS_RELEASE, until):
        for key in partition_keys(spec, [day]):  # none while its window has not ended, or outside the partitions
            ended = definition.time_window_for_partition_key(key).end
            if since < max(spec.estimated_release(day), ended) <= until:
                keys.add(key)
    return sorted(keys)


def due_requests(name: str, specs: list[DatasetSpec], days: ReleaseDays, tick: dt.datetime) -> list[dg.RunRequest]:
    """One run per range of partitions that became runnable since the group's tick before `tick`."""
    since = days.previous_tick(tick)
    ranges: dict[tuple[str, str], list[DatasetSpec]] = {}
    for spec in specs:
        keys = runnable_partitions(spec, since, tick)
        if keys:
            ranges.setdefault((keys[0], keys[-1]), []).append(spec)
    return [
        dg.RunRequest(
            run_key=f"{name}:{tick.isoformat()}:{first}..{last}",
            asset_selection=[asset_key(spec) for spec in members],
            tags={RANGE_START: first, RANGE_END: last},
        )
        for (first, last), members in sorted(ranges.items())
    ]


def build_release_schedule(name: str, specs: list[DatasetSpec]) -> dg.ScheduleDefinition:
    days = release_days(specs)

    @dg.schedule(
        name=name,
        cron_schedule=days.cron,
        execution_timezone=days.timezone.key,
        target=dg.AssetSelection.assets(*(asset_key(spec) for spec in specs)),
        default_status=dg.DefaultScheduleStatus.STOPPED,
        description=f"At the release clock of {len(specs)} datasets ({', '.join(str(s.id) for s in specs[:3])}"
        f"{', ...' if len(specs) > 3 else ''}): the partitions their release calendar says came out since the tick "
        "before.",
    )
    def release_schedule(context: dg.ScheduleEvaluationContext):
        tick = context.scheduled_execution_time.astimezone(dt.UTC)
        requests = due_requests(name, specs, days, tick)
        return requests or dg.SkipReason(f"nothing due at {tick.isoformat()} (a holiday, or no release that day)")

    return release_schedule


def release_schedules() -> list[dg.ScheduleDefinition]:
    groups = schedule_groups(list(load_catalog().datasets.values()))
    return [build_release_schedule(name, specs) for name, specs in sorted(groups.items())]
