"""The main jobs: one range job per partitions definition (Dagster runs a range only over assets that share one),
without the checks, and one job that evaluates every check once over a window (see defs/checks.py)."""

import dagster as dg

from macro_assets.catalog import DatasetId
from macro_assets.defs.executors import celery_redis_executor

QUALITY_CHECKS_JOB = "quality_checks"
WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")  # Dagster's day_offset: 0 is Sunday


def range_jobs(assets: list[dg.AssetsDefinition]) -> list:
    groups: dict[int, list[dg.AssetsDefinition]] = {}
    for asset in assets:
        groups.setdefault(id(asset.partitions_def), []).append(asset)
    jobs, named = [], set()
    for members in sorted(groups.values(), key=len, reverse=True):
        definition = members[0].partitions_def
        frequency = type(definition).__name__.removesuffix("PartitionsDefinition").lower()
        frequency = {"timewindow": "daily"}.get(frequency, frequency)
        name = f"materialize_{frequency}"
        if isinstance(definition, dg.WeeklyPartitionsDefinition):  # one job per weekday the partitions end on
            name += "_" + WEEKDAYS[definition.day_offset]
        if name in named:  # a narrower recorded window of the same frequency (the 5-minute bars offline)
            name += "_" + "_".join(
                sorted({DatasetId.from_asset_path(key.path).source for asset in members for key in asset.keys})
            )
        named.add(name)
        keys = [key for asset in members for key in asset.keys]
        jobs.append(
            dg.define_asset_job(
                name,
                selection=dg.AssetSelection.assets(*keys).without_checks(),
                description=f"Every {frequency} asset over {definition.get_first_partition_key()} .. "
                f"{definition.get_last_partition_key()}, checks left to the {QUALITY_CHECKS_JOB} job.",
            )
        )
    return jobs


quality_checks_job = dg.define_asset_job(
    QUALITY_CHECKS_JOB,
    selection=dg.AssetSelection.all_asset_checks(),
    description="Every data-quality check, once per dataset, over the window of the run tag macro_assets/window "
    "(default: every partition of the dataset).",
)


CELERY_SAMPLE_JOB = "celery_monthly_sample"
# Two sources' monthly datasets and the derived series that read them: independent steps to spread over
# workers, then steps that wait for them, over the monthly partitions.
CELERY_SAMPLE = ("bcb_sgs.433", "bcb_sgs.24363", "fred.CPIAUCSL", "derived.ipca_12m", "derived.ibcbr_z12")

celery_sample_job = dg.define_asset_job(
    CELERY_SAMPLE_JOB,
    selection=dg.AssetSelection.assets(
        *(dg.AssetKey(DatasetId.parse(dataset).asset_path) for dataset in CELERY_SAMPLE)
    ).without_checks(),
    executor_def=celery_redis_executor(),
    description=f"{', '.join(CELERY_SAMPLE)} with each step a Celery task on the broker of "
    "MACRO_ASSETS_CELERY_BROKER_URL (see defs/executors.py); launch it over a partition range.",
)
