"""Rolling z-scores and percentile ranks of series, over a window of observations.

A window is the last `window` observations of a series up to and including the current one (nulls dropped
first). No value is emitted until the window is filled: the statistic is null while fewer than `min_periods`
observations are in it, and min_periods defaults to the window itself; a smaller min_periods asks for
partial-window values.
"""

from __future__ import annotations

import polars as pl

from macro_assets.analytics.frames import require_columns
from macro_assets.errors import InvalidInput


def _prepared(
    frame: pl.DataFrame, window: int, min_periods: int | None, id_column: str, time_column: str, value_column: str
) -> tuple[pl.DataFrame, int]:
    require_columns(frame, [id_column, time_column, value_column], "series")
    if not isinstance(window, int) or window < 2:
        raise InvalidInput(f"window: a whole number of observations, at least 2, got {window!r}")
    needed = window if min_periods is None else min_periods
    if not isinstance(needed, int) or not 2 <= needed <= window:
        raise InvalidInput(f"min_periods: between 2 and the window ({window}), got {min_periods!r}")
    series = frame.select(id_column, time_column, value_column).drop_nulls(value_column).sort(id_column, time_column)
    return series, needed


def rolling_zscore(
    frame: pl.DataFrame,
    window: int,
    *,
    min_periods: int | None = None,
    id_column: str = "series_id",
    time_column: str = "obs_date",
    value_column: str = "value",
) -> pl.DataFrame:
    """(value - mean of the window) / sample standard deviation of the window (ddof 1), the current value being in
    the window; null where the window is not filled or does not vary. id, time, value, zscore."""
    series, needed = _prepared(frame, window, min_periods, id_column, time_column, value_column)
    value = pl.col(value_column)
    mean = value.rolling_mean(window, min_samples=needed).over(id_column)
    spread = value.rolling_std(window, min_samples=needed).over(id_column)
    return series.with_columns(zscore=pl.when(spread > 0).then((value - mean) / spread))


def rolling_percentile_rank(
    frame: pl.DataFrame,
    window: int,
    *,
    min_periods: int | None = None,
    id_column: str = "series_id",
    time_column: str = "obs_date",
    value_column: str = "value",
) -> pl.DataFrame:
    """The current value's rank in its window over the number of values in it, ties given their average rank
    (pandas' rolling rank with pct=True): 1 for the window's highest value, 1/n for its lowest of n. id, time,
    value, percentile_rank (in (0, 1], null where the window is not filled)."""
    series, needed = _prepared(frame, window, min_periods, id_column, time_column, value_column)
    value = pl.col(value_column)
    rank = value.rolling_rank(window, method="average", min_samples=needed).over(id_column)
    count = pl.int_range(1, pl.len() + 1).over(id_column).clip(upper_bound=window)
    return series.with_columns(percentile_rank=rank / count)
