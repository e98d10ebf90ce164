"""Assets: one per catalog series from a factory, and a point-in-time panel built from them."""


import datetime as dt
import warnings

import dagster as dg
import pandas as pd

from macro_assets import checks
from macro_assets.catalog import Catalog, SeriesSpec
from macro_assets.ingest import IngestBatch, ingest
from macro_assets.partitions import BY_NAME, DAILY, inclusive_dates
from macro_assets.resources import ObjectStoreResource, SourcesResource, WarehouseResource

# Single-run backfills are what a range run of a series needs; Dagster still labels the parameter beta.
warnings.filterwarnings("ignore", category=dg.BetaWarning, message=".*backfill_policy.*")

SERIES_IO_MANAGER = "warehouse_io_manager"
FRAMES_IO_MANAGER = "object_store_io_manager"


def series_key(series_id: str) -> dg.AssetKey:
    source, _, code = series_id.partition(".")
    return dg.AssetKey([source, code])


def build_series_asset(spec: SeriesSpec, catalog: Catalog) -> dg.AssetsDefinition:
    key = series_key(spec.id)
    source = catalog.sources[spec.source]
    low, high = spec.plausible_range

    @dg.asset(
        key=key,
        group_name=spec.source,
        description=f"{spec.name} ({spec.country}, {spec.frequency}, {spec.unit}). {source.title}.",
        partitions_def=BY_NAME[spec.partitioning],
        backfill_policy=dg.BackfillPolicy.single_run(),
        io_manager_key=SERIES_IO_MANAGER,
        kinds={"postgres", "python"},
        owners=list(source.owners),
        tags={"freq": spec.partitioning, "source": spec.source, "country": spec.country},
        metadata={
            "series_id": spec.id, "source": spec.source, "code": spec.code, "name": spec.name,
            "country": spec.country, "frequency": spec.frequency, "unit": spec.unit,
            "calendar": spec.calendar or spec.frequency, "plausible_range": f"[{low}, {high}]",
            "release_rule": (f"period end + {spec.release.lag_days} d at {spec.release.clock:%H:%M} "
                             f"{spec.release.timezone.key}"),
            "dagster/table_name": "observations",
        },
        check_specs=[dg.AssetCheckSpec(rule.name, asset=key, description=rule.description) for rule in checks.RULES],
        # No step retry policy: the HTTP client already retries what is transient (429, 5xx, network errors) with
        # backoff, and a refused payload or a missing recording would fail again.
        pool="warehouse",
        op_tags={"macro_assets/source": spec.source},
    )
    def series_asset(context: dg.AssetExecutionContext, sources: SourcesResource, object_store: ObjectStoreResource,
                     warehouse: WarehouseResource):
        start, end = inclusive_dates(context.partition_time_window)
        session = sources.session()
        try:
            batch = ingest(spec, start, end, session, object_store.open(), warehouse.open())
        finally:
            session.client.close()
        yield dg.Output(batch, metadata=_batch_metadata(batch))
        # The IO manager has written the batch by now: the rules judge what is stored for the whole window.
        judged_at = batch.fetched_at or dt.datetime.now(dt.UTC)
        vintages = warehouse.open().vintages(spec.id, start, end)
        for outcome in checks.evaluate(spec, vintages, start, end, judged_at):
            yield dg.AssetCheckResult(
                check_name=outcome.rule.name, asset_key=key, passed=outcome.passed,
                severity=dg.AssetCheckSeverity[outcome.rule.severity], metadata=outcome.metadata,
            )

    return series_asset


def _batch_metadata(batch: IngestBatch) -> dict:
    observations = batch.observations
    bases = sorted(set(observations["release_basis"].to_list()))
    return {
        "series_id": batch.series_id,
        "window": f"{batch.window_start} .. {batch.window_end}",
        "records_fetched": batch.records_read,
        "rows_in_window": observations.height,
        "rows_outside_window": batch.outside_window,
        "missing_values": batch.missing,
        "quarantined": len(batch.quarantine),
        "last_observation_date": str(observations["obs_date"].max()) if observations.height else "none",
        "release_basis": ", ".join(bases) or "none",
        "fetched_at": batch.fetched_at.isoformat() if batch.fetched_at else "none",
        "payload_keys": dg.MetadataValue.json([p.object_key for p in batch.payloads]),
    }


DAILY_PANEL_SERIES = ("bcb_sgs.432", "bcb_sgs.12", "bcb_sgs.1", "fred.DGS10")


@dg.asset(
    key=dg.AssetKey(["panels", "daily_rates"]),
    group_name="panels",
    description=("BR/US daily rates and FX side by side (Selic target, CDI, PTAX, UST 10y), each value as known at "
                 "the run's as-of instant (run tag macro_assets/as_of, default now). Stored as Parquet."),
    ins={series_key(s).path[-1] + "_" + series_key(s).path[0]: dg.AssetIn(series_key(s)) for s in DAILY_PANEL_SERIES},
    partitions_def=DAILY,
    backfill_policy=dg.BackfillPolicy.single_run(),
    io_manager_key=FRAMES_IO_MANAGER,
    kinds={"parquet", "s3"},
    owners=["team:macro-research"],
    tags={"freq": "daily"},
    automation_condition=dg.AutomationCondition.eager(),
)
def daily_rates_panel(context: dg.AssetExecutionContext, **series: pd.DataFrame) -> pd.DataFrame:
    start, end = inclusive_dates(context.partition_time_window)
    frames = [frame.pivot(index="obs_date", columns="series_id", values="value") for frame in series.values()]
    panel = pd.concat(frames, axis=1, sort=True).reindex(columns=list(DAILY_PANEL_SERIES))
    panel = panel.reindex(pd.date_range(start, end, freq="D", name="obs_date")).dropna(how="all")
    context.add_output_metadata({"rows": len(panel), "columns": dg.MetadataValue.json(list(panel.columns))})
    return panel.reset_index()
