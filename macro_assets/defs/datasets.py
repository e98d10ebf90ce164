"""One asset per catalog dataset, whatever its shape: fetch and parse through the source's connector and write
through the warehouse IO manager. Its checks (defs/checks.py) judge what is stored."""

import warnings

import dagster as dg
import polars as pl

from macro_assets.catalog import Catalog, DatasetSpec
from macro_assets.defs.io_managers import DATASET_METADATA_KEY
from macro_assets.defs.partitions import inclusive_dates, partitions_for
from macro_assets.defs.previews import chart, preview
from macro_assets.defs.resources import REPLAY_TAG, ObjectStoreResource, SourcesResource, WarehouseResource
from macro_assets.defs.retries import retried_while_the_source_is_down
from macro_assets.ingest import Batch, ingest
from macro_assets.ingest.pipeline import row_dates
from macro_assets.sources.base import RELEASE_SCHEMA
from macro_assets.warehouse.frames import collapse_unchanged_vintages

# Single-run backfills are what a range run of a dataset needs; Dagster still labels the parameter beta.
warnings.filterwarnings("ignore", category=dg.BetaWarning, message=".*backfill_policy.*")

WAREHOUSE_IO_MANAGER = "warehouse_io_manager"
# The shape tag the UI filters by.
SHAPE_TAGS = {"observations": "series", "curve": "curve"}


def asset_key(dataset: DatasetSpec) -> dg.AssetKey:
    return dg.AssetKey(dataset.id.asset_path)


def _definition_metadata(dataset: DatasetSpec) -> dict:
    low, high = dataset.plausible_range
    rule = dataset.release
    metadata = {
        DATASET_METADATA_KEY: str(dataset.id),
        "kind": dataset.kind,
        "source": dataset.source,
        "code": dataset.code,
        "name": dataset.name,
        "country": dataset.country,
        "frequency": dataset.frequency,
        "unit": dataset.unit,
        "calendar": dataset.calendar or dataset.frequency,
        "plausible_range": f"[{low}, {high}]",
        "release_rule": f"period end + {rule.lag_days} d at {rule.clock:%H:%M} {rule.timezone.key}",
        "dagster/table_name": dataset.shape.table,
    }
    if dataset.instrument is not None:
        metadata |= {"instrument": dataset.instrument.symbol, "interval": dataset.interval}
    return metadata


def build_dataset_asset(dataset: DatasetSpec, catalog: Catalog) -> dg.AssetsDefinition:
    key = asset_key(dataset)
    source = catalog.sources[dataset.source]

    @dg.asset(
        key=key,
        group_name=dataset.source,
        description=f"{dataset.name} ({dataset.country}, {dataset.frequency}, {dataset.unit}). {source.title}.",
        partitions_def=partitions_for(dataset),
        backfill_policy=dg.BackfillPolicy.single_run(),
        io_manager_key=WAREHOUSE_IO_MANAGER,
        kinds={"postgres", "python"},
        owners=list(source.owners),
        tags={
            "freq": dataset.partitioning,
            "source": dataset.source,
            "country": dataset.country,
            "shape": SHAPE_TAGS.get(dataset.kind, dataset.kind),
        },
        metadata=_definition_metadata(dataset),
        # A source still down after the HTTP client's retries is retried minutes later (defs/retries.py); a refused
        # payload or a missing recording would fail again, so no step retry policy.
        pool=f"source_{dataset.source}",
        op_tags={"macro_assets/source": dataset.source},
    )
    def dataset_asset(
        context: dg.AssetExecutionContext,
        sources: SourcesResource,
        object_store: ObjectStoreResource,
        warehouse: WarehouseResource,
    ):
        start, end = inclusive_dates(context.partition_time_window)
        session = sources.session(context.run.tags.get(REPLAY_TAG))
        stored = warehouse.open()
        reader = stored.reader(dataset.shape)
        before = reader.vintages(str(dataset.id), start, end, output="polars")
        try:
            with retried_while_the_source_is_down(context.retry_number, context.log):
                batch = ingest(
                    dataset,
                    start,
                    end,
                    session,
                    object_store.open(),
                    coverage=lambda moment: stored.pipeline.fetch_coverage(str(dataset.id), moment),
                    stored_keys=lambda: before[dataset.shape.key_columns[0]].unique().to_list(),
                )
        finally:
            session.client.close()
        # What the window will hold once the batch is appended (stored rows, then the batch under the append rule:
        # a row that changes nothing adds no vintage): drawn before the write, since metadata goes with it.
        window = pl.concat([_comparable(dataset, before), _comparable(dataset, batch.rows)])
        _describe(context, batch, collapse_unchanged_vintages(dataset.shape, window))
        return dg.Output(batch)

    return dataset_asset


def _comparable(dataset: DatasetSpec, rows: pl.DataFrame) -> pl.DataFrame:
    shape = dataset.shape
    columns = {shape.id_column: pl.String, **shape.parsed_schema, **RELEASE_SCHEMA}
    return rows.select([pl.col(c).cast(t) for c, t in columns.items()])


def _describe(context: dg.AssetExecutionContext, batch: Batch, window: pl.DataFrame) -> None:
    """Per-partition metadata: each partition's own row count; the run's figures, a chart of the window and a
    preview go on its newest partition only, rather than being repeated on every partition of a range."""
    dates = batch.rows.select(row_dates(batch.dataset, batch.rows)).to_series()
    counts = dict(dates.value_counts().iter_rows()) if batch.rows.height else {}
    keys = context.partition_keys
    definition = context.assets_def.partitions_def
    for partition in keys:
        first, last = inclusive_dates(definition.time_window_for_partition_key(partition))
        rows = sum(n for day, n in counts.items() if first <= day <= last)
        context.add_asset_metadata({"rows_offered": rows}, asset_key=context.asset_key, partition_key=partition)
    summary = {
        "run_window": f"{batch.window_start} .. {batch.window_end} ({len(keys)} partitions)",
        "records_fetched": batch.records_read,
        "rows_offered_in_run": batch.rows.height,
        "rows_outside_window": batch.outside_window,
        "missing_values": batch.missing,
        "quarantined": len(batch.quarantine),
        "implausible_quarantined": batch.implausible,
        "release_basis": ", ".join(sorted(set(batch.rows["release_basis"].to_list()))) or "none",
        "fetched_at": batch.fetched_at.isoformat() if batch.fetched_at else "none",
        "payload_keys": dg.MetadataValue.json([p.object_key for p in batch.payloads]),
        "preview": preview(batch.dataset, window),
    }
    image = chart(batch.dataset, window)
    if image is not None:
        summary["chart"] = dg.MetadataValue.md(f"![{batch.dataset.id}](data:image/png;base64,{image})")
    context.add_asset_metadata(summary, asset_key=context.asset_key, partition_key=keys[-1])
