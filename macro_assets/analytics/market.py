"""Returns, rolling volatility, drawdowns and rolling correlations of market series.

Every function takes a long frame of one or more series (by default observations: series_id, obs_date, value;
for bars pass id_column="dataset_id", time_column="bar_time", value_column="close" or "adj_close") and works per
series in time order, at the series' own frequency: a return is from one observation to the next, whatever the
gap. Nulls are dropped first (a missing value is no observation). A rolling statistic is null until its window
holds `window` observations.
"""

from __future__ import annotations

import math

import polars as pl

from macro_assets.analytics.frames import require_columns
from macro_assets.errors import InvalidInput

# Periods per year of each catalog frequency: business days for daily data (the markets' trading year).
PERIODS_PER_YEAR = {"daily": 252, "weekly": 52, "monthly": 12, "quarterly": 4}


def _series(frame: pl.DataFrame, id_column: str, time_column: str, value_column: str) -> pl.DataFrame:
    require_columns(frame, [id_column, time_column, value_column], "series")
    return frame.select(id_column, time_column, value_column).drop_nulls(value_column).sort(id_column, time_column)


def _window(window: int) -> int:
    if not isinstance(window, int) or window < 2:
        raise InvalidInput(f"window: a whole number of observations, at least 2, got {window!r}")
    return window


def returns(
    frame: pl.DataFrame,
    kind: str = "simple",
    *,
    id_column: str = "series_id",
    time_column: str = "obs_date",
    value_column: str = "value",
) -> pl.DataFrame:
    """The return from each observation to the next of the same series: simple (x_t / x_t-1 - 1) or log
    (ln(x_t / x_t-1)), decimal, null on each series' first observation. id, time, return."""
    if kind not in ("simple", "log"):
        raise InvalidInput(f"kind: 'simple' or 'log', got {kind!r}")
    series = _series(frame, id_column, time_column, value_column)
    ratio = pl.col(value_column) / pl.col(value_column).shift(1).over(id_column)
    change = ratio - 1 if kind == "simple" else ratio.log()
    return series.select(id_column, time_column, change.alias("return"))


def frequency_periods_per_year(frequency: str) -> int:
    """The annualisation factor of a catalog frequency (daily 252, weekly 52, monthly 12, quarterly 4)."""
    if frequency not in PERIODS_PER_YEAR:
        raise InvalidInput(
            f"frequency: {frequency!r} has no periods per year ({', '.join(PERIODS_PER_YEAR)} do; "
            "give periods_per_year for intraday bars)"
        )
    return PERIODS_PER_YEAR[frequency]


def rolling_volatility(
    returns_frame: pl.DataFrame,
    window: int,
    *,
    periods_per_year: float | None = None,
    frequency: str | None = None,
    id_column: str = "series_id",
    time_column: str = "obs_date",
) -> pl.DataFrame:
    """Annualised volatility of a returns() frame: the sample standard deviation (ddof 1) of the last `window`
    returns times sqrt(periods per year), which is `periods_per_year` or that of the catalog `frequency`. id,
    time, volatility (null until the window is full)."""
    if (periods_per_year is None) == (frequency is None):
        raise InvalidInput("rolling_volatility: give exactly one of periods_per_year and frequency")
    per_year = periods_per_year if periods_per_year is not None else frequency_periods_per_year(frequency)
    series = _series(returns_frame, id_column, time_column, "return")
    spread = pl.col("return").rolling_std(_window(window), min_samples=window).over(id_column)
    return series.select(id_column, time_column, volatility=spread * math.sqrt(per_year))


def drawdowns(
    frame: pl.DataFrame,
    *,
    id_column: str = "series_id",
    time_column: str = "obs_date",
    value_column: str = "value",
) -> pl.DataFrame:
    """Drawdowns of a price or index level series: running_peak (the highest value so far), drawdown (value /
    running_peak - 1, 0 at a new peak, negative below it), max_drawdown (the deepest drawdown so far: its last
    value is the series' maximum drawdown) and drawdown_periods (observations since the running peak was set,
    0 at a peak). id, time, value, running_peak, drawdown, max_drawdown, drawdown_periods."""
    series = _series(frame, id_column, time_column, value_column)
    peak = pl.col(value_column).cum_max().over(id_column)
    return (
        series.with_columns(running_peak=peak, position=pl.int_range(pl.len()).over(id_column))
        .with_columns(
            drawdown=pl.col(value_column) / pl.col("running_peak") - 1,
            peak_position=pl.when(pl.col(value_column) >= pl.col("running_peak"))
            .then(pl.col("position"))
            .forward_fill()
            .over(id_column),
        )
        .with_columns(
            max_drawdown=pl.col("drawdown").cum_min().over(id_column),
            drawdown_periods=pl.col("position") - pl.col("peak_position"),
        )
        .drop("position", "peak_position")
    )


def trailing_drawdown(
    frame: pl.DataFrame,
    window: int,
    *,
    id_column: str = "series_id",
    time_column: str = "obs_date",
    value_column: str = "value",
) -> pl.DataFrame:
    """The drawdown from the highest of the last `window` observations (the current one included): value /
    trailing_peak - 1, 0 at the window's high, negative below it. Unlike drawdowns' running peak, it depends on
    the window only, not on where the history starts. id, time, value, trailing_peak, drawdown (null until the
    window is full)."""
    series = _series(frame, id_column, time_column, value_column)
    size = _window(window)
    peak = pl.col(value_column).rolling_max(size, min_samples=size).over(id_column)
    return series.with_columns(trailing_peak=peak).with_columns(
        drawdown=pl.col(value_column) / pl.col("trailing_peak") - 1
    )


def rolling_correlation(
    left: pl.DataFrame,
    right: pl.DataFrame,
    window: int,
    *,
    time_column: str = "obs_date",
    value_column: str = "value",
) -> pl.DataFrame:
    """Pearson correlation of two series over the last `window` dates both have (an inner join on the time
    column: a date only one series has is left out). Pass returns (value_column="return") for the correlation
    of returns. time, left, right, correlation (null until the window is full)."""
    for side, frame in (("left", left), ("right", right)):
        require_columns(frame, [time_column, value_column], f"{side} series")
    aligned = (
        left.select(time_column, left=value_column)
        .join(right.select(time_column, right=value_column), on=time_column)
        .drop_nulls()
        .sort(time_column)
    )
    size = _window(window)
    return aligned.with_columns(correlation=pl.rolling_corr("left", "right", window_size=size, min_samples=size))
