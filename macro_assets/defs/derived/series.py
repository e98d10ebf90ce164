"""Derived series as point-in-time assets: each is stored in the warehouse as vintages, like raw data, so that
`as_of(D, T)` is what f gave on the inputs as known at T (analytics/pit.py). A run reads every vintage of its
inputs released by its read instant (the run tag macro_assets/as_of, else the run's creation), derives the
vintages of the dates of its partitions, and appends them; a backfill over history reconstructs the history of
vintages, and a re-run adds only what a new input vintage changed. Its materialization pictures the vintages it
derived: a chart (a z-score's with bands at +-1 and +-2 standard deviations) and a preview. derived_series_asset is
that asset for any derived series of observations (macro.py's too).

Each asset's check recomputes f from the inputs as known at every instant the window's vintages were released and
compares: the stored series must be the rule itself."""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import dagster as dg
import polars as pl

from macro_assets.analytics import pit
from macro_assets.catalog import DatasetId, load_catalog
from macro_assets.defs.datasets import asset_key
from macro_assets.defs.io_managers import run_read_instant
from macro_assets.defs.partitions import inclusive_dates, partitions_for
from macro_assets.defs.previews import chart, preview, zscore_chart
from macro_assets.defs.resources import WarehouseResource
from macro_assets.shapes import OBSERVATIONS
from macro_assets.warehouse import Warehouse

DERIVED_SOURCE = "derived"
STANDARD_DEVIATIONS = "standard deviations"  # a z-score's unit: its chart bands it at +-1 and +-2

# What a derived series' run computes: derive(warehouse, read instant, start, end) gives the vintages of the dates
# through `end` that the inputs released by the instant give ([start, end] bounds what it needs to read).
Derive = Callable[[Warehouse, dt.datetime, dt.date, dt.date], pl.DataFrame]


def derived_key(name: str) -> dg.AssetKey:
    return dg.AssetKey(DatasetId.parse(name).asset_path)


@dataclass(frozen=True)
class Charted:
    """What previews.chart and previews.preview read of a dataset, for a derived series outside the catalog."""

    id: str
    unit: str
    kind: str = OBSERVATIONS.name
    shape = OBSERVATIONS


@dataclass(frozen=True)
class DerivedSeries:
    derivation: pit.Derivation  # its name is the derived series id, derived.<code>
    unit: str
    description: str

    @property
    def key(self) -> dg.AssetKey:
        return derived_key(self.derivation.name)


DERIVED_SERIES = (
    DerivedSeries(
        pit.spread_derivation("derived.ust_10y_2y", "fred.DGS10", "fred.DGS2"),
        "percentage points",
        "US Treasury 10-year minus 2-year constant-maturity yield, on the dates both are published.",
    ),
    DerivedSeries(
        pit.yoy_derivation("derived.ipca_12m", "bcb_sgs.433"),
        "% over 12 months",
        "IPCA over 12 months, chain-linked from the monthly changes (SGS 433).",
    ),
    DerivedSeries(
        pit.zscore_derivation("derived.ibcbr_z12", "bcb_sgs.24363", 12),
        STANDARD_DEVIATIONS,
        "IBC-Br's z-score over its last 12 monthly observations: a revision of one month moves the twelve that "
        "read it, each by a new vintage released with the revision.",
    ),
    DerivedSeries(
        pit.zscore_derivation("derived.ptax_z60", "bcb_sgs.1", 60),
        STANDARD_DEVIATIONS,
        "USD/BRL PTAX (SGS 1) z-score over its last 60 business-day observations.",
    ),
)


def derived_vintages(series: DerivedSeries, warehouse, instant: dt.datetime, end: dt.date) -> pl.DataFrame:
    """Every vintage of the derived series through `end` that the inputs released by `instant` give."""
    derivation = series.derivation
    inputs = warehouse.observations.vintages(list(derivation.inputs), end=end, as_of=instant, output="polars")
    return pit.derive_vintages(derivation, inputs, until=instant)


def pictures(name: str, unit: str, rows: pl.DataFrame) -> dict[str, dg.MetadataValue]:
    """A chart (a z-score's with its bands) and a preview of the vintages a run derived."""
    charted = Charted(name, unit)
    image = zscore_chart(charted, rows) if unit == STANDARD_DEVIATIONS else chart(charted, rows)
    markdown = f"![{name}](data:image/png;base64,{image})"
    return {"preview": preview(charted, rows), "chart": dg.MetadataValue.md(markdown)}


def derived_series_asset(
    name: str, inputs: tuple[str, ...], unit: str, description: str, owner: str, derive: Derive
) -> dg.AssetsDefinition:
    """The point-in-time asset of the derived series `name`, partitioned like its first input: a run appends to
    the observations the vintages `derive` gives of its partitions' dates as of the run's read instant."""
    catalog = load_catalog()
    specs = [catalog.get(dataset_id) for dataset_id in inputs]

    @dg.asset(
        key=derived_key(name),
        group_name=DERIVED_SOURCE,
        description=f"{description} ({unit}). Stored as point-in-time vintages.",
        deps=[asset_key(spec) for spec in specs],
        partitions_def=partitions_for(specs[0]),
        backfill_policy=dg.BackfillPolicy.single_run(),
        kinds={"postgres", "python"},
        owners=[owner],
        tags={"freq": specs[0].partitioning, "shape": "derived_series"},
        metadata={"dataset_id": name, "inputs": ", ".join(inputs), "unit": unit},
        automation_condition=dg.AutomationCondition.eager(),
    )
    def derived_series(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        start, end = inclusive_dates(context.partition_time_window)
        instant = run_read_instant(context.instance, context.run.run_id, context.run.tags)
        stored = warehouse.open()
        rows = derive(stored, instant, start, end).filter(pl.col("obs_date").is_between(start, end))
        rows = rows.drop("inputs_released")
        result = stored.pipeline.append(OBSERVATIONS, rows)
        metadata = {
            "read_instant": instant.isoformat(),
            "vintages_derived": rows.height,
            "vintages_added": result.added,
            "unchanged": result.unchanged,
        }
        if rows.height:
            metadata |= pictures(name, unit, rows)
        context.add_asset_metadata(metadata, partition_key=context.partition_keys[-1])
        return dg.MaterializeResult()

    return derived_series


def build_derived_series(series: DerivedSeries) -> dg.AssetsDefinition:
    derivation = series.derivation
    return derived_series_asset(
        derivation.name,
        derivation.inputs,
        series.unit,
        series.description,
        "team:macro-research",
        lambda warehouse, instant, start, end: derived_vintages(series, warehouse, instant, end),
    )


def build_derived_check(series: DerivedSeries) -> dg.AssetChecksDefinition:
    derivation = series.derivation

    @dg.asset_check(
        asset=series.key,
        name="as_of_equals_recomputation",
        description="At every instant a stored vintage of the window was released, the series as of that instant "
        "equals f applied to its inputs as of that instant (and nothing is stored that f does not give).",
    )
    def as_of_equals_recomputation(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        stored = warehouse.open()
        if derivation.name not in stored.observations.list():
            return dg.AssetCheckResult(passed=True, metadata={"instants_compared": 0, "note": "nothing stored yet"})
        derived = stored.observations.vintages(derivation.name, output="polars")
        inputs = stored.observations.vintages(list(derivation.inputs), output="polars")
        first, last = derived["obs_date"].min(), derived["obs_date"].max()  # the dates materialized so far
        mismatches = []
        instants = derived["release_time"].unique().sort().to_list()
        for instant in instants:
            held = pit.as_of(derived, instant).select("obs_date", "value")
            known = pit.as_of(inputs, instant).select("series_id", "obs_date", "value")
            recomputed = derivation.computed(known).filter(pl.col("obs_date").is_between(first, last))
            compared = held.join(recomputed, on="obs_date", how="full", suffix="_recomputed", coalesce=True)
            tolerance = 1e-9 * pl.col("value_recomputed").abs() + 1e-9
            differs = compared.filter(
                pl.col("value").is_null()
                | pl.col("value_recomputed").is_null()
                | ((pl.col("value") - pl.col("value_recomputed")).abs() > tolerance)
            )
            if differs.height:
                mismatches.append(f"{instant.isoformat()}: {differs.height} dates, first {differs['obs_date'].min()}")
        return dg.AssetCheckResult(
            passed=not mismatches,
            metadata={"instants_compared": len(instants), "mismatches": len(mismatches), "sample": mismatches[:5]},
        )

    return as_of_equals_recomputation
