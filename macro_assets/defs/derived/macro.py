"""Macro derived series as point-in-time assets: the IPCA diffusion index (share of subitems rising, unweighted
and weighted) and trimmed-mean core from the SIDRA components, and the surprise of each monthly indicator Focus
surveys and a realized series publishes (its first release minus the Focus median known before it).

Like the derived series (defs/derived/series.py) each is stored in the warehouse as vintages of observations, so
that as_of(D, T) is what f gives on its inputs as known at T (analytics/pit.py): a run reads every input vintage
released by its read instant (the run tag macro_assets/as_of, else the run's creation), derives the vintages of
its partitions' dates and appends them. Each asset's check recomputes f from the inputs as known at every instant
a stored vintage or an input vintage was released and compares, and refuses a NaN or infinite value."""

import datetime as dt
from dataclasses import dataclass

import dagster as dg
import polars as pl

from macro_assets.analytics import pit
from macro_assets.defs.derived.series import derived_key, derived_series_asset
from macro_assets.defs.resources import WarehouseResource
from macro_assets.warehouse import Warehouse

IPCA_COMPONENTS = "ibge_sidra.ipca_components"
CORE_TRIM = 20.0  # the percent of weight the BCB's IPCA-MA cuts from each tail
TOLERANCE = 1e-9


@dataclass(frozen=True)
class ComponentSeries:
    """A derived series computed month by month from a price index's components."""

    derivation: pit.PeriodDerivation
    unit: str
    description: str

    @property
    def name(self) -> str:
        return self.derivation.name

    @property
    def inputs(self) -> tuple[str, ...]:
        return (self.derivation.input,)

    def read(self, warehouse: Warehouse, instant: dt.datetime, start=None, end=None) -> dict[str, pl.DataFrame]:
        """The input vintages released by `instant`; a month reads only its own components, so [start, end]."""
        components = warehouse.index_components.vintages(self.derivation.input, start, end, instant, output="polars")
        return {"components": components}

    def vintages(self, inputs: dict[str, pl.DataFrame], until: dt.datetime) -> pl.DataFrame:
        return pit.derive_period_vintages(self.derivation, inputs["components"], until)

    def recomputed(self, inputs: dict[str, pl.DataFrame], instant: dt.datetime) -> pl.DataFrame:
        """f on the components as of `instant`: obs_date, value."""
        return self.derivation.derivation.computed(self.derivation.known(inputs["components"], instant))


@dataclass(frozen=True)
class SurpriseSeries:
    """A release surprise: a realized series' first release against a Focus dataset's median."""

    derivation: pit.SurpriseDerivation
    unit: str
    description: str

    @property
    def name(self) -> str:
        return self.derivation.name

    @property
    def inputs(self) -> tuple[str, ...]:
        return (self.derivation.actual, self.derivation.expected)

    def read(self, warehouse: Warehouse, instant: dt.datetime, start=None, end=None) -> dict[str, pl.DataFrame]:
        """The input vintages released by `instant`: the actual's in [start, end] (a date reads its own first
        release), every survey of the expectation (a month's surveys start long before it)."""
        derivation = self.derivation
        return {
            "actual": warehouse.observations.vintages(derivation.actual, start, end, instant, output="polars"),
            "expected": warehouse.expectations.vintages(derivation.expected, as_of=instant, output="polars"),
        }

    def vintages(self, inputs: dict[str, pl.DataFrame], until: dt.datetime) -> pl.DataFrame:
        return pit.derive_surprise_vintages(self.derivation, inputs["actual"], inputs["expected"], until)

    def recomputed(self, inputs: dict[str, pl.DataFrame], instant: dt.datetime) -> pl.DataFrame:
        """f on the inputs as known at `instant` (their vintages released by then): obs_date, value."""
        return self.derivation.computed(inputs["actual"], inputs["expected"], instant).select(
            "obs_date", value="surprise"
        )


MacroSeries = ComponentSeries | SurpriseSeries


def _surprise(name: str, actual: str, expected: str, indicator: str) -> SurpriseSeries:
    return SurpriseSeries(
        pit.SurpriseDerivation(name, actual, expected),
        "percentage points",
        f"{indicator}: the month's first release ({actual}) minus the median of the Focus survey ({expected}, "
        "forecasts of the last 30 days) released last before it, for the same reference month; released with the "
        "first release.",
    )


MACRO_SERIES: tuple[MacroSeries, ...] = (
    ComponentSeries(
        pit.diffusion_derivation("derived.ipca_diffusion", IPCA_COMPONENTS, weighted=False),
        "% of subitems",
        "IPCA diffusion index: the share of the month's subitems whose price rose, each counted once.",
    ),
    ComponentSeries(
        pit.diffusion_derivation("derived.ipca_diffusion_weighted", IPCA_COMPONENTS, weighted=True),
        "% of the basket's weight",
        "IPCA diffusion index weighted by the subitems' weights: the share of the basket whose price rose.",
    ),
    ComponentSeries(
        pit.trimmed_mean_derivation("derived.ipca_trimmed_mean", IPCA_COMPONENTS, CORE_TRIM),
        "% m/m",
        "IPCA trimmed-mean core (the BCB's IPCA-MA without smoothing): the weighted mean of the subitems' changes "
        f"with {CORE_TRIM:g}% of the weight cut from each tail.",
    ),
    _surprise("derived.ipca_surprise", "bcb_sgs.433", "bcb_focus.IPCA_monthly", "IPCA"),
    _surprise("derived.igpm_surprise", "bcb_sgs.189", "bcb_focus.IGPM_monthly", "IGP-M"),
    _surprise("derived.igpdi_surprise", "bcb_sgs.190", "bcb_focus.IGPDI_monthly", "IGP-DI"),
)


def macro_key(series: MacroSeries) -> dg.AssetKey:
    return derived_key(series.name)


def build_macro_series(series: MacroSeries) -> dg.AssetsDefinition:
    return derived_series_asset(
        series.name,
        series.inputs,
        series.unit,
        series.description,
        "team:brazil-macro",
        lambda warehouse, instant, start, end: series.vintages(series.read(warehouse, instant, start, end), instant),
    )


def compare_with_recomputation(series: MacroSeries, derived: pl.DataFrame, inputs: dict[str, pl.DataFrame]) -> dict:
    """The rule checked on the dates stored so far: at every instant a stored vintage or an input vintage was
    released, the stored series as of it against f on the inputs as known then. instants_compared, mismatches
    (the instants that differ, the first few described) and non_finite (stored values that are NaN or inf)."""
    first, last = derived["obs_date"].min(), derived["obs_date"].max()
    released = [derived["release_time"], *(frame["release_time"] for frame in inputs.values())]
    instants = pl.concat(released).unique().sort().to_list()
    mismatches = []
    for instant in instants:
        held = pit.as_of(derived, instant).select("obs_date", "value")
        recomputed = series.recomputed(inputs, instant).filter(pl.col("obs_date").is_between(first, last))
        compared = held.join(recomputed, on="obs_date", how="full", suffix="_recomputed", coalesce=True)
        differs = compared.filter(
            pl.col("value").is_null()
            | pl.col("value_recomputed").is_null()
            | ((pl.col("value") - pl.col("value_recomputed")).abs() > TOLERANCE * (1 + pl.col("value").abs()))
        )
        if differs.height:
            mismatches.append(f"{instant.isoformat()}: {differs.height} dates, first {differs['obs_date'].min()}")
    value = pl.col("value")
    non_finite = derived.filter(value.is_nan() | value.is_infinite()).height
    return {"instants_compared": len(instants), "mismatches": mismatches, "non_finite": non_finite}


def build_macro_check(series: MacroSeries) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=macro_key(series),
        name="as_of_equals_recomputation",
        description="At every instant a stored vintage or an input vintage was released, the series as of that "
        "instant equals f applied to its inputs as known then (nothing stored that f does not give), and no "
        "stored value is NaN or infinite.",
    )
    def as_of_equals_recomputation(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        stored = warehouse.open()
        if series.name not in stored.observations.list():
            return dg.AssetCheckResult(passed=True, metadata={"instants_compared": 0, "note": "nothing stored yet"})
        derived = stored.observations.vintages(series.name, output="polars")
        outcome = compare_with_recomputation(series, derived, series.read(stored, dt.datetime.now(dt.UTC)))
        return dg.AssetCheckResult(
            passed=not outcome["mismatches"] and not outcome["non_finite"],
            metadata={
                "instants_compared": outcome["instants_compared"],
                "mismatches": len(outcome["mismatches"]),
                "sample": outcome["mismatches"][:5],
                "non_finite": outcome["non_finite"],
            },
        )

    return as_of_equals_recomputation
