"""The daily BR/US rates panel: Selic target, CDI, PTAX and the UST 10y side by side, each as known at the run's
read instant (the run tag macro_assets/as_of, else the run's creation)."""

import dagster as dg
import pandas as pd

from macro_assets.catalog import DatasetId, load_catalog
from macro_assets.defs.datasets import asset_key
from macro_assets.defs.partitions import inclusive_dates, partitions_for

FRAMES_IO_MANAGER = "object_store_io_manager"
DAILY_PANEL_SERIES = ("bcb_sgs.432", "bcb_sgs.12", "bcb_sgs.1", "fred.DGS10")


def _input_name(series_id: str) -> str:
    dataset_id = DatasetId.parse(series_id)
    return f"{dataset_id.source}_{dataset_id.code}"


def wide_panel(long: pd.DataFrame, columns, start, end) -> pd.DataFrame:
    """A long frame (obs_date, series_id, value) as one column per series in `columns` order, one row per calendar
    day of [start, end] that has a value."""
    panel = long.pivot(index="obs_date", columns="series_id", values="value").reindex(columns=list(columns))
    return panel.reindex(pd.date_range(start, end, freq="D", name="obs_date")).dropna(how="all")


def build_daily_rates_panel() -> dg.AssetsDefinition:
    catalog = load_catalog()
    inputs = {_input_name(s): dg.AssetIn(asset_key(catalog.get(s))) for s in DAILY_PANEL_SERIES}

    @dg.asset(
        key=dg.AssetKey(["panels", "daily_rates"]),
        group_name="panels",
        description=(
            "BR/US daily rates and FX side by side (Selic target, CDI, PTAX, UST 10y), each value as known "
            "at the run's read instant (run tag macro_assets/as_of, else the run's creation). Parquet; an "
            "as-of run is stored under its instant, never over the current panel."
        ),
        ins=inputs,
        partitions_def=partitions_for(catalog.get(DAILY_PANEL_SERIES[0])),
        backfill_policy=dg.BackfillPolicy.single_run(),
        io_manager_key=FRAMES_IO_MANAGER,
        kinds={"parquet", "s3"},
        owners=["team:macro-research"],
        tags={"freq": "daily", "shape": "panel"},
        automation_condition=dg.AutomationCondition.eager(),
    )
    def daily_rates_panel(context: dg.AssetExecutionContext, **series: pd.DataFrame) -> pd.DataFrame:
        start, end = inclusive_dates(context.partition_time_window)
        panel = wide_panel(pd.concat(series.values()), DAILY_PANEL_SERIES, start, end)
        context.add_asset_metadata(
            {"rows": len(panel), "columns": dg.MetadataValue.json(list(panel.columns))},
            partition_key=context.partition_keys[-1],
        )
        return panel.reset_index()

    return daily_rates_panel
