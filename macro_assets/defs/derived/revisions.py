"""The revision report: for each UTC day of release, what the derived assets' inputs released that day changed
(each revision and withdrawal: dataset, key, old -> new, delta; first releases counted) and which derived series
gained vintages because of it (their vintages released at the instant of an input's release that day), shown as
Markdown tables on the day's materialization. A run reads everything as of its read instant (the run tag
macro_assets/as_of, else the run's creation), so a day reported before its end lists what was out by then."""

import datetime as dt
from collections.abc import Sequence

import dagster as dg
import polars as pl

from macro_assets import settings
from macro_assets.analytics import pit
from macro_assets.catalog import load_catalog
from macro_assets.defs.derived.macro import MACRO_SERIES, macro_key
from macro_assets.defs.derived.market import MARKET_SERIES
from macro_assets.defs.derived.series import DERIVED_SERIES, DERIVED_SOURCE
from macro_assets.defs.io_managers import run_read_instant
from macro_assets.defs.partitions import LIVE_START, inclusive_dates
from macro_assets.defs.previews import _cell
from macro_assets.defs.resources import WarehouseResource
from macro_assets.recordings import recorded_window
from macro_assets.timeutil import UTC_DATETIME
from macro_assets.warehouse import Warehouse

REPORT_KEY = dg.AssetKey(["derived", "revision_report"])
# The value a change is reported in, per shape: the one a reader of the dataset looks at.
REPORTED_VALUE = {"observations": "value", "index_components": "value", "expectations": "median"}
CHANGE_COLUMNS = {
    "release_time": UTC_DATETIME,
    "dataset_id": pl.String,
    "key": pl.String,
    "change": pl.String,
    "old": pl.Float64,
    "new": pl.Float64,
    "delta": pl.Float64,
}
MARKDOWN_ROWS = 50  # a day's table lists at most this many changes; the counts above it cover the rest


def input_changes(warehouse: Warehouse, dataset_ids: Sequence[str], instant: dt.datetime, first, last) -> pl.DataFrame:
    """The input vintages released in [first, last] as known at `instant`, with what each changed
    (pit.released_changes), one frame for every shape: release_time, dataset_id, key (the key columns as text),
    change, old, new, delta."""
    catalog = load_catalog()
    frames = [pl.DataFrame(schema=CHANGE_COLUMNS)]
    for dataset_id in dataset_ids:
        shape = catalog.get(dataset_id).shape
        vintages = warehouse.reader(shape).vintages(dataset_id, as_of=instant, output="polars")
        changes = pit.released_changes(
            vintages,
            first,
            last,
            id_column=shape.id_column,
            key_columns=shape.key_columns,
            value_column=REPORTED_VALUE[shape.name],
        )
        key = pl.concat_str([pl.col(column).cast(pl.String) for column in shape.key_columns], separator=" ")
        frames.append(changes.with_columns(key=key).rename({shape.id_column: "dataset_id"}))
    return pl.concat(frames, how="diagonal").select(list(CHANGE_COLUMNS)).sort("release_time", "dataset_id", "key")


def derived_gains(derived: pl.DataFrame, changes: pl.DataFrame) -> pl.DataFrame:
    """The derived vintages of `derived` grouped by series and release instant, each with the inputs whose
    release at that instant changed something: release_time, series_id, vintages, first_date, last_date,
    caused_by."""
    causes = changes.group_by("release_time").agg(caused_by=pl.col("dataset_id").unique().sort().str.join(", "))
    return (
        derived.group_by("release_time", "series_id")
        .agg(vintages=pl.len(), first_date=pl.col("obs_date").min(), last_date=pl.col("obs_date").max())
        .join(causes, on="release_time", how="left")
        .sort("release_time", "series_id")
    )


def markdown_table(frame: pl.DataFrame) -> str:
    """The frame as a Markdown table, its cells as the previews' tables show them."""
    lines = [" | ".join(frame.columns), " | ".join("---" for _ in frame.columns)]
    lines += [" | ".join(_cell(value) for value in row) for row in frame.iter_rows()]
    return "\n".join(f"| {line} |" for line in lines)


def day_report(changes: pl.DataFrame, gains: pl.DataFrame) -> str:
    """A day's report in Markdown: the counts of changes by dataset, the revisions and withdrawals, the derived
    vintages gained."""
    counts = changes.group_by("dataset_id").agg(
        *(pl.col("change").eq(kind).sum().alias(kind) for kind in ("new", "revised", "withdrawn"))
    )
    revised = changes.filter(pl.col("change") != "new")
    listed = f", the first {MARKDOWN_ROWS} listed" if revised.height > MARKDOWN_ROWS else ""
    sections = [
        "**Releases by dataset**",
        markdown_table(counts.sort("dataset_id")),
        f"**Revisions and withdrawals** ({revised.height}{listed})",
        markdown_table(revised.head(MARKDOWN_ROWS)) if revised.height else "none",
        "**Derived vintages gained**",
        markdown_table(gains) if gains.height else "none",
    ]
    return "\n\n".join(sections)


def report_partitions(dataset_ids: Sequence[str]) -> dg.DailyPartitionsDefinition:
    """Every UTC day up to today from the first day an input can have been released: live, the live partitions'
    start; offline, the earliest recorded window of the inputs' sources."""
    catalog = load_catalog()
    if settings.mode() == "live":
        start = LIVE_START
    else:
        start = min(recorded_window(catalog.get(dataset_id).source)[0] for dataset_id in dataset_ids)
    return dg.DailyPartitionsDefinition(start_date=start.isoformat(), end_offset=1)


def build_revision_report(
    derived_keys: Sequence[dg.AssetKey], derived_ids: Sequence[str], input_ids: Sequence[str]
) -> dg.AssetsDefinition:
    """The report over the inputs `input_ids` of the derived series `derived_ids` (the assets `derived_keys`)."""
    inputs = sorted(set(input_ids))

    @dg.asset(
        key=REPORT_KEY,
        group_name=DERIVED_SOURCE,
        description="Per UTC day of release: each revision and withdrawal of the derived assets' inputs (old -> "
        "new, delta), the first releases counted, and the derived series that gained vintages at those "
        "instants. The tables are on each day's materialization.",
        # A day's releases can give any date of a derived series a vintage.
        deps=[dg.AssetDep(key, partition_mapping=dg.AllPartitionMapping()) for key in derived_keys],
        partitions_def=report_partitions(inputs),
        backfill_policy=dg.BackfillPolicy.single_run(),
        kinds={"python"},
        owners=["team:macro-research"],
        tags={"freq": "daily", "shape": "report"},
        metadata={"inputs": ", ".join(inputs), "derived": ", ".join(derived_ids)},
    )
    def revision_report(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        window = context.partition_time_window
        instant = run_read_instant(context.instance, context.run.run_id, context.run.tags)
        last = min(window.end - dt.timedelta(microseconds=1), instant)
        stored = warehouse.open()
        changes = input_changes(stored, inputs, instant, window.start, last)
        held = sorted(set(derived_ids) & set(stored.observations.list()))
        derived = pl.DataFrame(schema={"series_id": pl.String, "obs_date": pl.Date, "release_time": UTC_DATETIME})
        if held:
            vintages = stored.observations.vintages(held, as_of=instant, output="polars")
            derived = vintages.filter(pl.col("release_time").is_between(window.start, last)).select(derived.columns)
        day = pl.col("release_time").dt.date()
        for partition in context.partition_keys:
            start, _ = inclusive_dates(context.assets_def.partitions_def.time_window_for_partition_key(partition))
            released = changes.filter(day == start)
            gains = derived_gains(derived.filter(day == start), released)
            metadata = {
                "read_instant": instant.isoformat(),
                "input_vintages": released.height,
                "revisions": released.filter(pl.col("change") == "revised").height,
                "withdrawals": released.filter(pl.col("change") == "withdrawn").height,
                "derived_vintages": int(gains["vintages"].sum()),
            }
            if released.height or gains.height:
                metadata["report"] = dg.MetadataValue.md(day_report(released, gains))
            context.add_asset_metadata(metadata, partition_key=partition)
        return dg.MaterializeResult()

    return revision_report


def build_derived_revision_report() -> dg.AssetsDefinition:
    """The report over every derived series stored as vintages (defs/derived/series.py, market.py and macro.py)."""
    windowed = (*DERIVED_SERIES, *MARKET_SERIES)
    keys = [*(series.key for series in windowed), *(macro_key(series) for series in MACRO_SERIES)]
    derived_ids = [*(series.derivation.name for series in windowed), *(series.name for series in MACRO_SERIES)]
    input_ids = [
        *(dataset_id for series in windowed for dataset_id in series.derivation.inputs),
        *(dataset_id for series in MACRO_SERIES for dataset_id in series.inputs),
    ]
    return build_revision_report(keys, derived_ids, input_ids)
