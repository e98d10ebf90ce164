"""Market and statistics derived series as point-in-time assets: returns, volatility, drawdown and a return
correlation of daily market series, and a percentile rank next to the z-scores of defs/derived/series.py.

Each is a DerivedSeries like those of series.py, built by build_derived_series with its as_of_equals_recomputation
check and automated over its window (defs/__init__.py), so it is stored as vintages under the same rule. Each also
has windows_filled_and_finite: every stored value's window was filled by the inputs known when it was released
(counted from the inputs, not by the engine), and no stored value is NaN or infinite.

Daily inputs of the observations shape, which the derived series read: the market series of that shape are the
USD/BRL PTAX fixing (SGS 1), FRED's WTI spot and the 10-year Treasury yield; Yahoo's IBOV and S&P 500 are bars.
"""

import dagster as dg
import polars as pl

from macro_assets.analytics import pit
from macro_assets.analytics.market import PERIODS_PER_YEAR
from macro_assets.defs.derived.series import DerivedSeries
from macro_assets.defs.resources import WarehouseResource

PTAX = "bcb_sgs.1"
WTI = "fred.DCOILWTICO"
UST_10Y = "fred.DGS10"
TRADING_DAYS = PERIODS_PER_YEAR["daily"]
VOLATILITY_WINDOW = 21  # about a month of business days
CORRELATION_WINDOW = 63  # about a quarter
YEAR_WINDOW = 252  # about a year

MARKET_SERIES = (
    DerivedSeries(
        pit.returns_derivation("derived.ptax_return", PTAX, "simple"),
        "decimal",
        "USD/BRL PTAX (SGS 1) simple return from each fixing to the next business day's.",
    ),
    DerivedSeries(
        pit.returns_derivation("derived.ptax_log_return", PTAX, "log"),
        "decimal (log)",
        "USD/BRL PTAX (SGS 1) log return from each fixing to the next business day's.",
    ),
    DerivedSeries(
        pit.volatility_derivation("derived.ptax_vol21", PTAX, VOLATILITY_WINDOW, TRADING_DAYS),
        "decimal per year",
        f"USD/BRL PTAX (SGS 1) volatility: the sample standard deviation of its last {VOLATILITY_WINDOW} daily log "
        f"returns times sqrt({TRADING_DAYS}); a value once {VOLATILITY_WINDOW + 1} fixings are known.",
    ),
    DerivedSeries(
        pit.drawdown_derivation("derived.wti_drawdown252", WTI, YEAR_WINDOW),
        "decimal",
        f"WTI crude spot (FRED DCOILWTICO) drawdown from the highest of its last {YEAR_WINDOW} daily observations "
        "(0 at that high): a trailing peak, so a value does not depend on where the stored history starts.",
    ),
    DerivedSeries(
        pit.correlation_derivation("derived.ptax_wti_corr63", PTAX, WTI, CORRELATION_WINDOW),
        "correlation",
        f"Correlation of USD/BRL PTAX (SGS 1) and WTI spot (FRED DCOILWTICO) daily simple returns over the last "
        f"{CORRELATION_WINDOW} dates both have (B3 and US holidays differ), each return from the series' own "
        f"previous observation; a value once each has {2 * CORRELATION_WINDOW} observations and the common dates lie "
        "among them. The fixing (13:10 Brasilia) and the US close are hours apart: a return pair is not synchronous.",
    ),
    DerivedSeries(
        pit.percentile_rank_derivation("derived.ust10y_pct252", UST_10Y, YEAR_WINDOW),
        "fraction of the window",
        f"US Treasury 10-year yield (FRED DGS10) percentile rank among its last {YEAR_WINDOW} daily observations: "
        "1 at the window's high, 1/252 at its low, ties at their average rank.",
    ),
)


def build_windows_filled_check(series: DerivedSeries) -> dg.AssetChecksDefinition:
    derivation = series.derivation

    @dg.asset_check(
        asset=series.key,
        name="windows_filled_and_finite",
        description=f"Every stored value was released once each input, as known then, had the "
        f"{derivation.window.count} observations its window reads up to the value's date; no stored value is NaN "
        "or infinite.",
    )
    def windows_filled_and_finite(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        stored = warehouse.open()
        if derivation.name not in stored.observations.list():
            return dg.AssetCheckResult(passed=True, metadata={"values_checked": 0, "note": "nothing stored yet"})
        derived = stored.observations.vintages(derivation.name, output="polars")
        inputs = stored.observations.vintages(list(derivation.inputs), output="polars")
        unfilled = pit.unfilled_windows(derivation, derived, inputs)
        value = pl.col("value")
        non_finite = derived.filter(value.is_nan() | value.is_infinite()).height
        return dg.AssetCheckResult(
            passed=unfilled.is_empty() and not non_finite,
            metadata={
                "values_checked": derived["value"].count(),
                "unfilled_windows": unfilled.height,
                "sample": [
                    f"{row['obs_date']} released {row['release_time'].isoformat()}: {row['series_id']} had "
                    f"{row['observations']}"
                    for row in unfilled.head(5).iter_rows(named=True)
                ],
                "non_finite": non_finite,
            },
        )

    return windows_filled_and_finite
