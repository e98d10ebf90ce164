"""Fitted curves as point-in-time assets. A curve date's fit depends on that date's points only, so it gains a
vintage exactly when the input curve of that date changes state: each state of a date (the points as known from one
of its release instants to the next: the first publication, a re-publication) is fitted once, all states of a run
in one batched fit, and stored released at that state's instant. A state with too few points for the model is a
withdrawal of the date's fit. What is stored per state:
- observations derived.<code>.<field>, dated the curve date: the parameters (beta0..beta3 in %, tau1 and tau2 in
  years; NS has no beta3 or tau2), rmse_bp and max_abs_error_bp of the fitted zero rates, n_points: one series per
  scalar, as the warehouse stores every scalar by date;
- curves derived.<code>.<kind>, points "3M" .. "30Y" with tenor_years set, like the Treasury par curve: the fitted
  zero, instantaneous forward and par rates (%), the three-month carry and roll-down (US) and the DV01 at the
  curve's standard tenors that its bonds span (a fit says nothing beyond its shortest and longest bond).
The fit is the same algorithm on the same points whatever else is in the batch (fit_curves_by_point_count), so a
stored state is reproduced bit for bit by refitting it: the check refits every state once and compares each with
the vintage stored for it. Breakevens (nominal minus real zero at common tenors, same curve date) are vintages of the
two fitted zero curves: each instant either gained a vintage gives one, released then (the later input).
"""

from collections.abc import Callable
from dataclasses import dataclass

import dagster as dg
import numpy as np
import polars as pl

from macro_assets import settings
from macro_assets.analytics import curves, pit
from macro_assets.catalog import DatasetId, DatasetSpec, calendars, load_catalog
from macro_assets.defs.automation import updates_with_its_inputs
from macro_assets.defs.datasets import asset_key
from macro_assets.defs.derived.series import DERIVED_SOURCE
from macro_assets.defs.io_managers import run_read_instant
from macro_assets.defs.partitions import LIVE_START, inclusive_dates, partitions
from macro_assets.defs.previews import tenor_chart
from macro_assets.defs.resources import WarehouseResource
from macro_assets.recordings import recorded_window
from macro_assets.shapes import CURVE_POINTS, OBSERVATIONS

# Refits are the same arithmetic on the same points; the tolerance (in the stored units: %, bp, years) only
# absorbs the text round trip of a float8, which PostgreSQL makes exact anyway.
TOLERANCE = 1e-10
FITTED_KINDS = ("zero", "forward", "par", "carry_3m", "rolldown_3m", "dv01")
# The curves whose values are rates, held to the input's plausible range.
RATE_KINDS = ("zero", "par")
CARRY_HORIZON = 0.25  # years: carry and roll-down over three months
CARRY_KINDS = ("carry_3m", "rolldown_3m")
POINT_KEY = ["curve_id", "curve_date", "point"]
SERIES_KEY = ["series_id", "obs_date"]
PERCENT, BASIS_POINTS = 100.0, 1e4
# The fitter's tau bounds, less the last bits of exp(log(bound)): a tau pinned at a bound is within them.
TAU_LIMITS = (curves.TAU_BOUNDS[0] * (1 - 1e-12), curves.TAU_BOUNDS[1] * (1 + 1e-12))
SPAN_SLACK = 1e-9  # years: a standard tenor equal to a bond's (the 5-year TIPS) is within the span


def tenor_label(tenor: float) -> str:
    return f"{round(tenor * 12)}M" if tenor < 1 else f"{tenor:g}Y"


def point_labels(tenors) -> pl.Expr:
    """The point label of each tenor of the `tenor` column, one of `tenors`."""
    tenors = list(tenors)
    return pl.col("tenor").replace_strict(tenors, [tenor_label(t) for t in tenors], return_dtype=pl.String)


def with_business_days(points: pl.DataFrame, calendar: str) -> pl.DataFrame:
    """business_days_to_maturity of curve-point vintages (weekdays of [curve_date, maturity_date) open on the
    calendar), as the curves reader adds it to an as_of read: a vintages read, which every state needs, lacks it."""
    if points.is_empty():
        return points.with_columns(business_days_to_maturity=pl.lit(None, pl.Int64))
    first, last = points["curve_date"].min().year, points["maturity_date"].max().year
    closed = np.array(sorted(calendars.holidays(calendar, first, last)), dtype="datetime64[D]")
    start = points["curve_date"].to_numpy().astype("datetime64[D]")
    matures = points["maturity_date"].fill_null(points["curve_date"]).to_numpy().astype("datetime64[D]")
    counts = pl.Series(np.busday_count(start, matures, holidays=closed), dtype=pl.Int64)
    return points.with_columns(business_days_to_maturity=pl.when(pl.col("maturity_date").is_not_null()).then(counts))


def tesouro_zero_points(points: pl.DataFrame) -> pl.DataFrame:
    return curves.tesouro_zero_points(with_business_days(points, "BR"))


@dataclass(frozen=True)
class FittedCurve:
    code: str  # derived.<code>: the asset, and the prefix of every id it stores
    input: str  # the curve dataset fitted
    model: str  # "ns" or "nss"
    zero_points: Callable[[pl.DataFrame], pl.DataFrame]  # the input's points -> fitter input (analytics/curves.py)
    par_frequency: int  # coupons per year of the par rates
    tenors: tuple[float, ...]  # standard tenors the input's bonds span on every date
    rmse_bound_bp: float
    conventions: str
    # Carry and roll-down read the fitted three-month zero (the funding) and z(T - 3 months): only where the short
    # end rests on bills rather than on bonds days from maturity.
    carry: bool = True
    note: str = ""  # appended to the asset's description

    @property
    def kinds(self) -> list[str]:
        return [kind for kind in FITTED_KINDS if self.carry or kind not in CARRY_KINDS]

    @property
    def name(self) -> str:
        return f"{DERIVED_SOURCE}.{self.code}"

    @property
    def key(self) -> dg.AssetKey:
        return dg.AssetKey(DatasetId.parse(self.name).asset_path)

    @property
    def fields(self) -> list[str]:
        parameters = curves.PARAMETERS if self.model == "nss" else ["beta0", "beta1", "beta2", "tau1"]
        return [*parameters, "rmse_bp", "max_abs_error_bp", "n_points"]

    @property
    def series_ids(self) -> list[str]:
        return [f"{self.name}.{field}" for field in self.fields]

    @property
    def curve_ids(self) -> list[str]:
        return [f"{self.name}.{kind}" for kind in self.kinds]


US_CONVENTIONS = (
    "Tenors in years (the par curve's labels: 1M = 1/12). Par yields bond-equivalent (semiannual), bootstrapped to "
    "zero rates (bills to 6 months simple, semiannual par bonds beyond) before fitting. Fitted zero and forward "
    "rates continuously compounded; par rates semiannual."
)
BR_CONVENTIONS = (
    "Tenors in business days / 252 (BR calendar). Rates annual-effective on du/252 converted to continuous "
    "(ln(1 + r)); coupon bonds' yields to maturity taken as the zero rate at their maturity. Fitted zero and forward "
    "rates continuously compounded; par rates annual (one coupon per 252 business days)."
)
# rmse bounds: about twice the largest rmse over 2015-2018 (NSS: US nominal 1.4 bp, BR nominal 4.7 bp, BR real
# 3.9 bp; NS: US nominal 13.5 bp, US real 2.6 bp, BR nominal 4.7 bp, BR real 4.5 bp: NS has one hump, and the NTN-F
# and NTN-B yields to maturity are not zero rates), so a fit that misses its points (a wrong basin, a bad point)
# fails while the quotes' rounding (1 bp) and the coupon approximation do not.
US_TENORS = curves.STANDARD_TENORS
US_REAL_TENORS = (5.0, 7.0, 10.0, 20.0, 30.0)
# From 1 year: the bonds within months of maturity (down to a day) are too few and noisy for a 6-month rate, which
# came out at -4.9 % on 2017-09-18.
BR_NOMINAL_TENORS = (1.0, 2.0, 3.0, 5.0, 7.0, 10.0)
BR_REAL_TENORS = (5.0, 7.0, 10.0, 20.0, 30.0)
FITTED_CURVES = (
    FittedCurve(
        "us_nominal_nss",
        "us_treasury.par_nominal",
        "nss",
        curves.treasury_zero_points,
        2,
        US_TENORS,
        3.0,
        US_CONVENTIONS,
    ),
    FittedCurve(
        "us_nominal_ns",
        "us_treasury.par_nominal",
        "ns",
        curves.treasury_zero_points,
        2,
        US_TENORS,
        30.0,
        US_CONVENTIONS,
    ),
    FittedCurve(
        "us_real_ns",
        "us_treasury.par_real",
        "ns",
        curves.treasury_zero_points,
        2,
        US_REAL_TENORS,
        5.0,
        US_CONVENTIONS,
        note="No NSS fit of this curve: its five tenors (5Y to 30Y) are fewer than NSS's six parameters.",
    ),
    *(
        FittedCurve(
            f"br_nominal_{model}",
            "tesouro_direto.br_nominal",
            model,
            tesouro_zero_points,
            1,
            BR_NOMINAL_TENORS,
            10.0,
            BR_CONVENTIONS,
            carry=False,
        )
        for model in ("nss", "ns")
    ),
    *(
        FittedCurve(
            f"br_real_{model}",
            "tesouro_direto.br_real",
            model,
            tesouro_zero_points,
            1,
            BR_REAL_TENORS,
            10.0,
            BR_CONVENTIONS,
            carry=False,
        )
        for model in ("nss", "ns")
    ),
)


# ------------------------------------------------------------------------------------------- the fitted rows
def fit_states(curve: FittedCurve, vintages: pl.DataFrame) -> pl.DataFrame:
    """One fit_curves row per state of every curve date of the input's vintages, its curve_id the state's instant,
    with the shortest and longest tenor of its points; a state without enough points (or none left) has status
    too_few_points and null parameters."""
    states = curves.curve_states(vintages).with_columns(curve_id=pl.col("state"))
    points = curve.zero_points(states)
    params = curves.fit_curves_by_point_count(points, curve.model)
    spans = points.group_by(curves.CURVE_KEY).agg(shortest=pl.col("tenor").min(), longest=pl.col("tenor").max())
    every = vintages.select(curve_id=pl.col("release_time"), curve_date="curve_date").unique()
    return (
        every.join(params, on=curves.CURVE_KEY, how="left")
        .join(spans, on=curves.CURVE_KEY, how="left")
        .with_columns(model=pl.lit(curve.model), status=pl.col("status").fill_null(curves.TOO_FEW_POINTS))
    )


def parameter_rows(curve: FittedCurve, params: pl.DataFrame) -> pl.DataFrame:
    """Observations of every field of every state (all null for a state without a fit: a withdrawal)."""
    fitted = pl.col("status") == curves.FITTED
    scaled = {
        **{name: pl.col(name) * PERCENT for name in ("beta0", "beta1", "beta2", "beta3")},
        "tau1": pl.col("tau1"),
        "tau2": pl.col("tau2"),
        "rmse_bp": pl.col("rmse") * BASIS_POINTS,
        "max_abs_error_bp": pl.col("max_abs_error") * BASIS_POINTS,
        "n_points": pl.col("n_points").cast(pl.Float64),
    }
    wide = params.select(
        "curve_date", "curve_id", *(pl.when(fitted).then(scaled[field]).alias(field) for field in curve.fields)
    )
    return wide.unpivot(curve.fields, index=["curve_date", "curve_id"], variable_name="field").select(
        series_id=pl.lit(f"{curve.name}.") + pl.col("field"),
        obs_date="curve_date",
        release_time="curve_id",
        value="value",
        release_basis=pl.lit("vintage"),
    )


def curve_rows(curve: FittedCurve, params: pl.DataFrame) -> pl.DataFrame:
    """Curve points of the fitted zero, forward and par rates of every state at the curve's tenors within the span
    of the state's points (a fit says nothing beyond its shortest and longest bond); a tenor of a state without a
    fit, or outside its span, is withdrawn (every value null)."""
    fitted = params.filter(pl.col("status") == curves.FITTED)
    by_kind = {
        "zero": curves.zero_rates(fitted, curve.tenors).rename({"zero_rate": "rate"}),
        "forward": curves.forward_rates(fitted, curve.tenors).rename({"forward_rate": "rate"}),
        "par": curves.par_rates(fitted, curve.tenors, frequency=curve.par_frequency).rename({"par_rate": "rate"}),
        **_carry_rolldown_and_dv01(fitted, curve.tenors, curve.carry),
    }
    grid = params.select(*curves.CURVE_KEY, "shortest", "longest").join(
        pl.DataFrame({"tenor": list(curve.tenors)}), how="cross"
    )
    spanned = pl.col("tenor").is_between(pl.col("shortest") - SPAN_SLACK, pl.col("longest") + SPAN_SLACK)
    rows = []
    for kind, rates in by_kind.items():
        both = grid.join(rates.select(*curves.CURVE_KEY, "tenor", "rate"), on=[*curves.CURVE_KEY, "tenor"], how="left")
        known = pl.when(spanned & pl.col("rate").is_not_null())
        rows.append(
            both.select(
                curve_id=pl.lit(f"{curve.name}.{kind}"),
                curve_date="curve_date",
                point=point_labels(curve.tenors),
                release_time="curve_id",
                tenor_years=known.then(pl.col("tenor")),
                rate=known.then(pl.col("rate") * PERCENT),
            )
        )
    return _as_curve_points(pl.concat(rows))


def _carry_rolldown_and_dv01(fitted: pl.DataFrame, tenors: tuple[float, ...], carry: bool) -> dict[str, pl.DataFrame]:
    """Carry and roll-down of a zero-coupon bond of each tenor over three months (log returns, decimal: stored in %
    like the rates; tenors up to the horizon have none) and the DV01 of a zero-coupon bond of each tenor per unit
    notional (stored x 100: per 100 notional)."""
    dv01 = pl.concat(
        [
            curves.bullet_dv01(fitted, tenor, coupon=0.0, notional=1.0).select(
                *curves.CURVE_KEY, tenor=pl.lit(tenor), rate="dv01"
            )
            for tenor in tenors
        ]
    )
    if not carry:
        return {"dv01": dv01}
    returns = curves.carry_and_rolldown(fitted, CARRY_HORIZON, tenors)
    return {
        "carry_3m": returns.select(*curves.CURVE_KEY, "tenor", rate="carry"),
        "rolldown_3m": returns.select(*curves.CURVE_KEY, "tenor", rate="rolldown"),
        "dv01": dv01,
    }


def _as_curve_points(rows: pl.DataFrame) -> pl.DataFrame:
    """Rows with the columns of curve points: a fitted point has a tenor and a rate; a bond's maturity, sides and
    prices do not apply."""
    # payload_sha256 left to the write path: the digest of the rows appended.
    columns = [c for c in CURVE_POINTS.write_schema if c != "payload_sha256"]
    given = {*rows.columns, "release_basis"}
    unset = [pl.lit(None, CURVE_POINTS.write_schema[c]).alias(c) for c in columns if c not in given]
    return rows.with_columns(*unset, release_basis=pl.lit("vintage")).select(columns)


# ------------------------------------------------------------------------------------------ the comparison
def differences(expected: pl.DataFrame, stored: pl.DataFrame, keys: list[str], values: list[str]) -> pl.DataFrame:
    """The expected vintages (keys, release_time, values) that the stored vintages do not give as of their own
    release time (a missing vintage, another value, a value where a withdrawal or nothing is due), and the stored
    vintages released at an instant no expected vintage has: empty when the store is exactly what is expected."""
    held = stored.select(*keys, "release_time", *(pl.col(v).alias(f"{v}_stored") for v in values))
    as_of = expected.sort("release_time").join_asof(
        held.rename({"release_time": "stored_release"}).sort("stored_release"),
        left_on="release_time",
        right_on="stored_release",
        by=keys,
        strategy="backward",
        check_sortedness=False,  # sorted by instant overall, so within every key too
    )
    differs = pl.any_horizontal(
        *(
            (pl.col(v).is_null() != pl.col(f"{v}_stored").is_null())
            | ((pl.col(v) - pl.col(f"{v}_stored")).abs() > TOLERANCE).fill_null(False)
            for v in values
        )
    )
    unexpected = stored.join(expected, on=[*keys, "release_time"], how="anti").select(*keys, "release_time")
    return pl.concat([as_of.filter(differs).select(*keys, "release_time"), unexpected])


def mismatch_metadata(kind: str, mismatched: pl.DataFrame, compared: int) -> dict:
    sample = mismatched.head(5).select(pl.all().cast(pl.String)).to_dicts()
    return {f"{kind}_compared": compared, f"{kind}_mismatched": mismatched.height, f"{kind}_sample": str(sample)}


def _until_newest(expected: pl.DataFrame, stored: pl.DataFrame) -> pl.DataFrame:
    """The expected vintages up to the newest stored one: a state released after the asset last ran is the next
    run's to store."""
    return expected.filter(pl.col("release_time") <= stored["release_time"].max())


# ------------------------------------------------------------------------------------------- the assets
def monthly_partitions(dataset: DatasetSpec) -> dg.PartitionsDefinition:
    """Months over the input curve's window. A run's cost is Dagster's, not the fit's (every state of four years
    fits in under a second): one materialization event per partition, 1,043 of them per asset on business-day
    partitions (15 to 30 s a run when measured) against 48 on months. Monthly assets run in the main job's monthly
    range job, after the daily one has captured their inputs, both captures."""
    if settings.mode() == "live":
        return partitions("monthly", LIVE_START, None)
    return partitions("monthly", *recorded_window(dataset.source))


def _chart(curve: FittedCurve, vintages: pl.DataFrame, params: pl.DataFrame) -> str | None:
    """The newest curve date's latest fitted zero curve over the zero rates it was fitted to (%)."""
    fitted = params.filter(pl.col("status") == curves.FITTED)
    if fitted.is_empty():
        return None
    newest = fitted.sort("curve_date", "curve_id").tail(1)
    points = curve.zero_points(
        curves.curve_states(vintages.filter(pl.col("curve_date") == newest["curve_date"].item()))
        .filter(pl.col("state") == newest["curve_id"].item())
        .with_columns(curve_id=pl.col("state"))
    )
    grid = np.linspace(points["tenor"].min(), points["tenor"].max(), 120)
    line = curves.zero_rates(newest, grid)
    return tenor_chart(
        f"{curve.name} on {newest['curve_date'].item()} ({curve.model.upper()}, zero % continuous)",
        lines={"fitted zero": line.select("tenor", rate=pl.col("zero_rate") * PERCENT)},
        markers={"input zero": points.select("tenor", rate=pl.col("zero_rate") * PERCENT)},
    )


def _description(curve: FittedCurve) -> str:
    carry = (
        "the carry and roll-down over three months of a zero-coupon bond (% log return, financed at the 3-month zero), "
        if curve.carry
        else ""
    )
    return (
        f"{curve.model.upper()} fit of {curve.input} per curve date and per state of its points (point-in-time "
        f"vintages): parameters and fit error as observations {curve.name}.<field> ({', '.join(curve.fields)}); "
        f"fitted zero, instantaneous forward and par rates (%), {carry}the DV01 of a zero-coupon bond (per 100 "
        f"notional) at {', '.join(tenor_label(t) for t in curve.tenors)} (those within the span of the state's "
        f"bonds) as curves {', '.join(curve.curve_ids)}. {curve.conventions}{' ' + curve.note if curve.note else ''}"
    )


def build_fitted_curve(curve: FittedCurve) -> dg.AssetsDefinition:
    spec = load_catalog().get(curve.input)

    @dg.asset(
        key=curve.key,
        group_name=DERIVED_SOURCE,
        description=_description(curve),
        deps=[asset_key(spec)],
        partitions_def=monthly_partitions(spec),
        backfill_policy=dg.BackfillPolicy.single_run(),
        kinds={"postgres", "python"},
        owners=["team:macro-research"],
        tags={"freq": "monthly", "shape": "derived_series"},
        metadata={
            "dataset_id": curve.name,
            "inputs": curve.input,
            "model": curve.model,
            "conventions": curve.conventions,
            "series": ", ".join(curve.series_ids),
            "curves": ", ".join(curve.curve_ids),
            "rmse_bound_bp": curve.rmse_bound_bp,
        },
    )
    def fitted_curve(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        start, end = inclusive_dates(context.partition_time_window)
        instant = run_read_instant(context.instance, context.run.run_id, context.run.tags)
        stored = warehouse.open()
        vintages = stored.curves.vintages(curve.input, start, end, as_of=instant, output="polars")
        params = fit_states(curve, vintages)
        written = [
            stored.pipeline.append(OBSERVATIONS, parameter_rows(curve, params)),
            stored.pipeline.append(CURVE_POINTS, curve_rows(curve, params)),
        ]
        metadata = {
            "read_instant": instant.isoformat(),
            "states_fitted": int((params["status"] == curves.FITTED).sum()),
            "states_without_fit": int((params["status"] != curves.FITTED).sum()),
            "rmse_bp_max": float((params["rmse"].max() or 0.0) * BASIS_POINTS),
            "vintages_added": sum(result.added for result in written),
            "unchanged": sum(result.unchanged for result in written),
        }
        image = _chart(curve, vintages, params)
        if image is not None:
            metadata["chart"] = dg.MetadataValue.md(f"![{curve.name}](data:image/png;base64,{image})")
        context.add_asset_metadata(metadata, partition_key=context.partition_keys[-1])
        return dg.MaterializeResult()

    return fitted_curve


def build_fitted_curve_checks(curve: FittedCurve) -> dg.AssetChecksDefinition:
    spec = load_catalog().get(curve.input)
    low, high = spec.plausible_range

    @dg.multi_asset_check(
        name=f"{curve.code}_checks",
        specs=[
            dg.AssetCheckSpec(
                "states_equal_their_refit",
                asset=curve.key,
                description="Every state of every stored curve date refitted from its own input points (the same "
                "algorithm, bit for bit): the stored parameters, errors and rates in effect at the state's instant "
                "equal the refit's, and nothing is stored at an instant that is no state's.",
            ),
            dg.AssetCheckSpec(
                "fits_within_bounds",
                asset=curve.key,
                description=f"Every stored value finite; rmse under {curve.rmse_bound_bp:g} bp; tau1 within the "
                f"fitter's bounds {curves.TAU_BOUNDS}; fitted zero and par rates within the input's plausible range "
                f"[{low}, {high}] %. Not bounded: the betas (with a long tau2, NSS's betas are nearly collinear and "
                "take large offsetting values on well-fitted curves) and the instantaneous forwards (the zero "
                "curve's derivative: it amplifies the fit's wiggles between noisy short bonds).",
            ),
        ],
    )
    def fitted_curve_checks(warehouse: WarehouseResource):
        stored = warehouse.open()
        if not set(curve.curve_ids) <= set(stored.curves.list()):
            for name in ("states_equal_their_refit", "fits_within_bounds"):
                yield dg.AssetCheckResult(asset_key=curve.key, check_name=name, passed=True, metadata={"stored": 0})
            return
        held_params = stored.observations.vintages(curve.series_ids, output="polars")
        held_curves = stored.curves.vintages(curve.curve_ids, output="polars")
        first, last = held_params["obs_date"].min(), held_params["obs_date"].max()
        params = fit_states(curve, stored.curves.vintages(curve.input, first, last, output="polars"))
        expected_params = _until_newest(parameter_rows(curve, params), held_params)
        expected_curves = _until_newest(curve_rows(curve, params), held_curves)
        wrong_params = differences(expected_params, held_params, SERIES_KEY, ["value"])
        wrong_curves = differences(expected_curves, held_curves, POINT_KEY, ["rate", "tenor_years"])
        yield dg.AssetCheckResult(
            asset_key=curve.key,
            check_name="states_equal_their_refit",
            passed=wrong_params.is_empty() and wrong_curves.is_empty(),
            metadata={
                "states_refitted": params.height,
                **mismatch_metadata("parameters", wrong_params, expected_params.height),
                **mismatch_metadata("curve_points", wrong_curves, expected_curves.height),
            },
        )
        yield _bounds_result(curve, held_params, held_curves, (low, high))

    return fitted_curve_checks


def _bounds_result(
    curve: FittedCurve, held_params: pl.DataFrame, held_curves: pl.DataFrame, plausible: tuple[float, float]
) -> dg.AssetCheckResult:
    values = held_params.filter(pl.col("value").is_not_null())
    field = pl.col("series_id").str.strip_prefix(f"{curve.name}.")
    rates = held_curves.filter(pl.col("rate").is_not_null())
    failures = {
        "not_finite": values.filter(~pl.col("value").is_finite()).height
        + rates.filter(~pl.col("rate").is_finite()).height,
        "rmse_over_bound": values.filter(field == "rmse_bp", pl.col("value") > curve.rmse_bound_bp).height,
        "tau1_out_of_bounds": values.filter(field == "tau1", ~pl.col("value").is_between(*TAU_LIMITS)).height,
        "rates_implausible": rates.filter(
            pl.col("curve_id").is_in([f"{curve.name}.{kind}" for kind in RATE_KINDS]),
            ~pl.col("rate").is_between(*plausible),
        ).height,
    }
    rmse = values.filter(field == "rmse_bp")["value"]
    return dg.AssetCheckResult(
        asset_key=curve.key,
        check_name="fits_within_bounds",
        passed=not any(failures.values()),
        metadata={**failures, "rmse_bp_max": float(rmse.max() or 0.0), "rmse_bp_median": float(rmse.median() or 0.0)},
    )


# --------------------------------------------------------------------------------------------- breakevens
@dataclass(frozen=True)
class Breakeven:
    code: str  # derived.<code>: the asset and its curve id
    nominal: FittedCurve
    real: FittedCurve

    @property
    def name(self) -> str:
        return f"{DERIVED_SOURCE}.{self.code}"

    @property
    def key(self) -> dg.AssetKey:
        return dg.AssetKey(DatasetId.parse(self.name).asset_path)

    @property
    def tenors(self) -> list[float]:
        return [t for t in self.nominal.tenors if t in self.real.tenors]


FITTED = {curve.code: curve for curve in FITTED_CURVES}
BREAKEVENS = (
    Breakeven("us_breakeven", FITTED["us_nominal_nss"], FITTED["us_real_ns"]),
    Breakeven("br_breakeven", FITTED["br_nominal_nss"], FITTED["br_real_nss"]),
)


def zero_vintages(stored_curves: pl.DataFrame, curve: FittedCurve, tenors: list[float]) -> pl.DataFrame:
    """A fitted zero curve's vintages at `tenors` (decimal), as breakeven_vintages reads them."""
    labels = [tenor_label(t) for t in tenors]
    return stored_curves.filter(pl.col("curve_id") == f"{curve.name}.zero", pl.col("point").is_in(labels)).select(
        "curve_date",
        tenor=pl.col("point").replace_strict(labels, tenors, return_dtype=pl.Float64),
        release_time="release_time",
        zero_rate=pl.col("rate") / PERCENT,
    )


def breakeven_rows(breakeven: Breakeven, stored_curves: pl.DataFrame) -> pl.DataFrame:
    """Curve points of the breakeven (%, continuous) from the vintages of both fitted zero curves."""
    rows = curves.breakeven_vintages(
        zero_vintages(stored_curves, breakeven.nominal, breakeven.tenors),
        zero_vintages(stored_curves, breakeven.real, breakeven.tenors),
    )
    return _as_curve_points(
        rows.select(
            curve_id=pl.lit(breakeven.name),
            curve_date="curve_date",
            point=point_labels(breakeven.tenors),
            release_time="release_time",
            tenor_years=pl.when(pl.col("breakeven_rate").is_not_null()).then(pl.col("tenor")),
            rate=pl.col("breakeven_rate") * PERCENT,
        )
    )


def _zero_ids(breakeven: Breakeven) -> list[str]:
    return [f"{breakeven.nominal.name}.zero", f"{breakeven.real.name}.zero"]


def build_breakeven(breakeven: Breakeven) -> dg.AssetsDefinition:
    nominal_spec = load_catalog().get(breakeven.nominal.input)

    @dg.asset(
        key=breakeven.key,
        group_name=DERIVED_SOURCE,
        description=f"Breakeven inflation: {breakeven.nominal.name} minus {breakeven.real.name} fitted zero rates "
        f"(%, continuous: ln(1 + annual breakeven)) at {', '.join(tenor_label(t) for t in breakeven.tenors)}, on "
        "the curve dates both are fitted; a vintage at every instant either fitted zero curve gained one. "
        f"{breakeven.nominal.conventions}",
        deps=[breakeven.nominal.key, breakeven.real.key],
        partitions_def=monthly_partitions(nominal_spec),
        backfill_policy=dg.BackfillPolicy.single_run(),
        kinds={"postgres", "python"},
        owners=["team:macro-research"],
        tags={"freq": "monthly", "shape": "derived_series"},
        metadata={"dataset_id": breakeven.name, "inputs": ", ".join(_zero_ids(breakeven))},
    )
    def breakeven_curve(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        start, end = inclusive_dates(context.partition_time_window)
        instant = run_read_instant(context.instance, context.run.run_id, context.run.tags)
        stored = warehouse.open()
        zeros = stored.curves.vintages(_zero_ids(breakeven), start, end, as_of=instant, output="polars")
        rows = breakeven_rows(breakeven, zeros)
        result = stored.pipeline.append(CURVE_POINTS, rows)
        metadata = {
            "read_instant": instant.isoformat(),
            "vintages_derived": rows.height,
            "vintages_added": result.added,
            "unchanged": result.unchanged,
        }
        latest = rows.filter(pl.col("rate").is_not_null()).sort("release_time").unique(POINT_KEY, keep="last")
        if latest.height:
            newest = latest.filter(pl.col("curve_date") == latest["curve_date"].max()).sort("tenor_years")
            image = tenor_chart(
                f"{breakeven.name} on {newest['curve_date'][0]} (%, continuous)",
                lines={"breakeven": newest.select(tenor="tenor_years", rate="rate")},
            )
            metadata["chart"] = dg.MetadataValue.md(f"![{breakeven.name}](data:image/png;base64,{image})")
        context.add_asset_metadata(metadata, partition_key=context.partition_keys[-1])
        return dg.MaterializeResult()

    return breakeven_curve


def build_breakeven_check(breakeven: Breakeven) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=breakeven.key,
        name="vintages_equal_their_inputs",
        description="The stored breakeven in effect at every instant either fitted zero curve gained a vintage "
        "equals nominal minus real as known then; nothing is stored at another instant; every value finite.",
    )
    def vintages_equal_their_inputs(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        stored = warehouse.open()
        if breakeven.name not in stored.curves.list():
            return dg.AssetCheckResult(passed=True, metadata={"stored": 0})
        held = stored.curves.vintages(breakeven.name, output="polars")
        first, last = held["curve_date"].min(), held["curve_date"].max()
        zeros = stored.curves.vintages(_zero_ids(breakeven), first, last, output="polars")
        expected = _until_newest(breakeven_rows(breakeven, zeros), held)
        wrong = differences(expected, held, POINT_KEY, ["rate", "tenor_years"])
        not_finite = held.filter(pl.col("rate").is_not_null(), ~pl.col("rate").is_finite()).height
        return dg.AssetCheckResult(
            passed=wrong.is_empty() and not not_finite,
            metadata={"not_finite": not_finite, **mismatch_metadata("curve_points", wrong, expected.height)},
        )

    return vintages_equal_their_inputs


def fitted_curve_definitions() -> dg.Definitions:
    """The fitted curves and breakevens, each updated when its inputs gain a vintage on the same curve date."""
    return dg.Definitions(
        assets=[
            *(updates_with_its_inputs(build_fitted_curve(curve), pit.SameDate()) for curve in FITTED_CURVES),
            *(updates_with_its_inputs(build_breakeven(breakeven), pit.SameDate()) for breakeven in BREAKEVENS),
        ],
        asset_checks=[
            *(build_fitted_curve_checks(curve) for curve in FITTED_CURVES),
            *(build_breakeven_check(breakeven) for breakeven in BREAKEVENS),
        ],
    )
