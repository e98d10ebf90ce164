"""Fitted zero curves as point-in-time assets: a Nelson-Siegel(-Svensson) fit of each curve date, stored as a curve
(zero rates at the standard tenors) of vintages. A curve date's fit depends on that date's points only, so it gains
a vintage exactly when its input curve does: every state of the curve as known at one of its release instants is
fitted (all states of the run at once: the fitter is batched), released at that instant; a state that fits to the
same zero rates adds nothing, and a date with too few points for the model has no fit.

Conventions (analytics/curves.py): zero rates continuously compounded, stored in percent; US Treasury par yields
bootstrapped to zeros (bills to 6 months, semiannual par bonds beyond), tenors in years; Tesouro Direto rates
annual-effective on business days / 252, converted to continuous, zero-coupon bonds (LTN) only.

Each asset's check fits its input again as known at every instant its vintages were released and compares."""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import dagster as dg
import numpy as np
import polars as pl

from macro_assets.analytics import curves
from macro_assets.analytics.pit import as_of as known_at
from macro_assets.catalog import DatasetId, calendars, load_catalog
from macro_assets.defs.datasets import asset_key
from macro_assets.defs.io_managers import run_read_instant
from macro_assets.defs.partitions import inclusive_dates, partitions_for
from macro_assets.defs.resources import WarehouseResource
from macro_assets.shapes import CURVE_POINTS

CURVE_KEY = ["curve_date", "point"]
FITTED_COLUMNS = [c for c in CURVE_POINTS.write_schema if c not in ("curve_id", "payload_sha256")]
TOLERANCE = 1e-9  # percent: recomputed fits agree to the last bits


def with_business_days(points: pl.DataFrame, calendar: str) -> pl.DataFrame:
    """Points with business_days_to_maturity (weekdays of [curve_date, maturity_date) open on the calendar), what
    the curves reader adds to an as_of read; a vintages read, which a fit of every state needs, has not."""
    if points.is_empty():
        return points.with_columns(business_days_to_maturity=pl.lit(None, pl.Int64))
    first, last = points["curve_date"].min().year, points["maturity_date"].max().year
    closed = np.array(sorted(calendars.holidays(calendar, first, last)), dtype="datetime64[D]")
    start = points["curve_date"].to_numpy().astype("datetime64[D]")
    matures = points["maturity_date"].fill_null(points["curve_date"]).to_numpy().astype("datetime64[D]")
    counts = pl.Series(np.busday_count(start, matures, holidays=closed), dtype=pl.Int64)
    return points.with_columns(business_days_to_maturity=pl.when(pl.col("maturity_date").is_not_null()).then(counts))


@dataclass(frozen=True)
class FittedCurve:
    name: str  # the derived curve id, derived.<code>
    input: str  # the curve dataset fitted
    model: str  # "ns" or "nss"
    zero_points: Callable[[pl.DataFrame], pl.DataFrame]  # curve points -> (curve_id, curve_date, tenor, zero_rate)
    description: str

    @property
    def key(self) -> dg.AssetKey:
        return dg.AssetKey(DatasetId.parse(self.name).asset_path)


FITTED_CURVES = (
    FittedCurve(
        "derived.us_nominal_zero_nss",
        "us_treasury.par_nominal",
        "nss",
        curves.treasury_zero_points,
        "US Treasury nominal zero curve: Nelson-Siegel-Svensson fit of the bootstrapped par curve",
    ),
    FittedCurve(
        "derived.br_nominal_zero_ns",
        "tesouro_direto.br_nominal",
        "ns",
        lambda points: curves.tesouro_zero_points(with_business_days(points, "BR"), bond_types=["LTN"]),
        "Brazil nominal zero curve: Nelson-Siegel fit of the LTN (zero-coupon) rates",
    ),
)


def curve_states(vintages: pl.DataFrame) -> pl.DataFrame:
    """Every state of each curve date as known at one of its release instants: the points then known (the latest
    vintage of each point released by the instant, withdrawals left out), with the instant as `state`."""
    states = vintages.select("curve_date", state="release_time").unique()
    candidates = states.join(vintages, on="curve_date").filter(pl.col("release_time") <= pl.col("state"))
    latest = candidates.sort("release_time").group_by(["curve_date", "state", "point"], maintain_order=True).last()
    return latest.filter(pl.col("rate").is_not_null())


def fitted_vintages(curve: FittedCurve, vintages: pl.DataFrame) -> pl.DataFrame:
    """The fitted curve's rows (curve_points) for every state of the input's curve dates, released at the state."""
    states = curve_states(vintages)
    if states.is_empty():
        return CURVE_POINTS.empty().select(FITTED_COLUMNS)
    points = states.with_columns(curve_id=pl.col("state").dt.strftime("%Y-%m-%dT%H:%M:%S%.6f"))
    params = curves.fit_curves(curve.zero_points(points), model=curve.model)
    zeros = curves.zero_rates(params.filter(pl.col("status") == curves.FITTED))
    fitted = zeros.select(
        "curve_date",
        point=pl.col("tenor").map_elements(lambda t: f"{t:g}Y", return_dtype=pl.String),
        release_time=pl.col("curve_id").str.to_datetime("%Y-%m-%dT%H:%M:%S%.6f", time_zone="UTC", time_unit="us"),
        tenor_years=pl.col("tenor"),
        rate=pl.col("zero_rate") * 100,
        release_basis=pl.lit("vintage"),
    )
    # A fitted point has a tenor and a zero rate; a bond's maturity, sides and prices do not apply.
    unset = [pl.lit(None, dtype).alias(c) for c, dtype in CURVE_POINTS.write_schema.items() if c not in fitted.columns]
    return fitted.with_columns(unset).select(FITTED_COLUMNS)


def fitted_at(curve: FittedCurve, vintages: pl.DataFrame, instant: dt.datetime) -> pl.DataFrame:
    """The zero curve of each date that the input known at `instant` fits to (what as_of must return)."""
    state = known_at(vintages, instant, id_column="curve_id", key_columns=CURVE_KEY)
    return fitted_vintages(curve, state.with_columns(release_time=pl.lit(instant).cast(pl.Datetime("us", "UTC"))))


def build_fitted_curve(curve: FittedCurve) -> dg.AssetsDefinition:
    spec = load_catalog().get(curve.input)

    @dg.asset(
        key=curve.key,
        group_name="derived",
        description=f"{curve.description}; zero rates (% continuous) at the standard tenors, as point-in-time "
        "vintages of each curve date.",
        deps=[asset_key(spec)],
        partitions_def=partitions_for(spec),
        backfill_policy=dg.BackfillPolicy.single_run(),
        kinds={"postgres", "python"},
        owners=["team:macro-research"],
        tags={"freq": spec.partitioning, "shape": "derived_series"},
        metadata={"dataset_id": curve.name, "inputs": curve.input, "model": curve.model},
        automation_condition=dg.AutomationCondition.eager(),
    )
    def fitted_curve(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        start, end = inclusive_dates(context.partition_time_window)
        instant = run_read_instant(context.instance, context.run.run_id, context.run.tags)
        stored = warehouse.open()
        vintages = stored.curves.vintages(curve.input, start, end, as_of=instant, output="polars")
        rows = fitted_vintages(curve, vintages).with_columns(curve_id=pl.lit(curve.name))
        result = stored.pipeline.append(CURVE_POINTS, rows)
        context.add_asset_metadata(
            {
                "read_instant": instant.isoformat(),
                "curve_states_fitted": rows.select("curve_date", "release_time").n_unique() if rows.height else 0,
                "vintages_added": result.added,
                "unchanged": result.unchanged,
            },
            partition_key=context.partition_keys[-1],
        )
        return dg.MaterializeResult()

    return fitted_curve


def build_fitted_curve_check(curve: FittedCurve) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=curve.key,
        name="as_of_equals_refit",
        description="At every instant a stored vintage was released, the stored zero curve of each date equals the "
        "fit of the input curve as known at that instant; every zero rate is finite.",
    )
    def as_of_equals_refit(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        stored = warehouse.open()
        if curve.name not in stored.curves.list():
            return dg.AssetCheckResult(passed=True, metadata={"instants_compared": 0, "note": "nothing stored yet"})
        fitted = stored.curves.vintages(curve.name, output="polars")
        first, last = fitted["curve_date"].min(), fitted["curve_date"].max()
        inputs = stored.curves.vintages(curve.input, first, last, output="polars")
        instants = fitted["release_time"].unique().sort().to_list()
        mismatches = []
        for instant in instants:
            held = known_at(fitted, instant, id_column="curve_id", key_columns=CURVE_KEY).select(*CURVE_KEY, "rate")
            refit = fitted_at(curve, inputs, instant)
            compared = held.join(
                refit.select(*CURVE_KEY, "rate"), on=CURVE_KEY, how="full", coalesce=True, suffix="_refit"
            )
            differs = compared.filter(
                pl.col("rate").is_null()
                | pl.col("rate_refit").is_null()
                | ((pl.col("rate") - pl.col("rate_refit")).abs() > TOLERANCE)
            )
            if differs.height:
                mismatches.append(
                    f"{instant.isoformat()}: {differs.height} points, first {differs['curve_date'].min()}"
                )
        return dg.AssetCheckResult(
            passed=not mismatches,
            metadata={"instants_compared": len(instants), "mismatches": len(mismatches), "sample": mismatches[:5]},
        )

    return as_of_equals_refit
