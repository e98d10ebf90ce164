"""The data-quality checks of every dataset, one multi-check per dataset evaluating its shape's rules over what
is stored for a window.

They are separate from the assets so that a range run of a thousand partitions can leave them out: Dagster plans
one check row per partition of a range for every check the run includes, and those rows never resolve (one result
per run has no partition). The `materialize_*` jobs run the ranges without checks, then the `quality_checks` job
evaluates them once per asset, over the window of its run tag `macro_assets/window` ("A...B"); a run that
materializes and checks in one go (the UI, `dagster asset materialize`) judges the window of its partitions.
"""

import datetime as dt

import dagster as dg

from macro_assets.catalog import DatasetSpec
from macro_assets.defs.datasets import asset_key
from macro_assets.defs.partitions import inclusive_dates, partitions_for
from macro_assets.defs.resources import WarehouseResource
from macro_assets.quality import Judged
from macro_assets.quality.rules import rules_for
from macro_assets.timeutil import parse_date

WINDOW_TAG = "macro_assets/window"
RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"


def checked_window(tags: dict[str, str], definition: dg.PartitionsDefinition) -> tuple[dt.date, dt.date]:
    """The dates a check run judges: its window tag, else the partitions its run materializes, else every
    partition of the asset."""
    if WINDOW_TAG in tags:
        first, _, last = tags[WINDOW_TAG].partition("...")
        return parse_date(first, field=WINDOW_TAG), parse_date(last or first, field=WINDOW_TAG)
    first_key = tags.get(RANGE_START) or tags.get("dagster/partition") or definition.get_first_partition_key()
    last_key = tags.get(RANGE_END) or tags.get("dagster/partition") or definition.get_last_partition_key()
    return (
        inclusive_dates(definition.time_window_for_partition_key(first_key))[0],
        inclusive_dates(definition.time_window_for_partition_key(last_key))[1],
    )


def build_dataset_checks(dataset: DatasetSpec) -> dg.AssetChecksDefinition:
    key = asset_key(dataset)
    rules = rules_for(dataset)
    companions = sorted({other for rule in rules for other in rule.companions(dataset)})
    definition = partitions_for(dataset)

    @dg.multi_asset_check(
        name=f"{dataset.source}__{dataset.code}__quality",
        specs=[dg.AssetCheckSpec(rule.name, asset=key, description=rule.description) for rule in rules],
        pool=f"source_{dataset.source}",
    )
    def dataset_checks(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource):
        start, end = checked_window(context.run.tags, definition)
        stored = warehouse.open()
        reader = stored.reader(dataset.shape)
        vintages = reader.vintages(str(dataset.id), start, end, output="polars")
        others = {other: reader.vintages(other, start, end, output="polars") for other in companions}
        judged = Judged(dataset, vintages, start, end, _judged_at(stored, str(dataset.id), start, end), others)
        for rule in rules:
            outcome = rule.judge(judged)
            yield dg.AssetCheckResult(
                check_name=rule.name,
                asset_key=key,
                passed=outcome.passed,
                severity=dg.AssetCheckSeverity[rule.severity],
                metadata={"window": f"{start} .. {end}", "judged_at": judged.judged_at.isoformat(), **outcome.metadata},
            )

    return dataset_checks


def _judged_at(warehouse, dataset_id: str, start: dt.date, end: dt.date) -> dt.datetime:
    """The newest fetch of the window's data: a replay of old payloads is judged as it would have been then."""
    payloads = warehouse.pipeline.payloads(dataset_id)
    if len(payloads):
        overlapping = payloads[
            (payloads["window_start"] <= end) & (payloads["window_end"] >= start) & payloads["refused"].isna()
        ]
        if len(overlapping):
            return overlapping["fetched_at"].max().to_pydatetime()
    return dt.datetime.now(dt.UTC)
