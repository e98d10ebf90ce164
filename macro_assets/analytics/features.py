"""USD/COP model features on 5-minute bars (seed 003: inference_features_5m), as pure frame functions.

Computed: ret_1h (12 bars), ret_4h (48 bars), ret_1d (log return vs the previous Bogota session's last close),
volatility_20 (per-bar standard deviation of the last 20 one-bar log returns, not annualised), rsi_14, atr_pct
(Wilder ATR(14) / close), hour_sin/hour_cos (fractional hour of day in America/Bogota over 24 h), dow_sin
(Bogota weekday, Monday 0, over 7 days), dxy_z and vix_z (rolling z-scores of the daily macro series as known
at each bar's close). Left out, not invented: usdmxn_ret_1h (only daily USD/MXN exists, yahoo USDMXN_1d, so a
1-hour return is not computable) and embi_z (no EMBI source). Normalisation: the seed states only ret_1h
(mean 0, std 0.005) and dxy_z (mean 0, std 1); those are applied, and rsi_14 (0-100) is centred and scaled as
(RSI - 50) / 50 into [-1, 1] (our choice: the seed elides its other entries, and an unscaled RSI would be flattened
to 5 by the clip); then every feature is clipped to [-5, 5].
The macro z-score window is not stated by the seed; macro_z_window is a parameter.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import polars as pl

from macro_assets.analytics import market
from macro_assets.analytics.frames import require_columns
from macro_assets.analytics.statistics import rolling_zscore
from macro_assets.errors import InvalidInput

BAR_LENGTH = dt.timedelta(minutes=5)
SESSION_TIMEZONE = "America/Bogota"
NORMALISATION = {"ret_1h": (0.0, 0.005), "dxy_z": (0.0, 1.0), "rsi_14": (50.0, 50.0)}
CLIP = 5.0
BAR_COLUMNS = ["bar_time", "open", "high", "low", "close"]
MACRO_COLUMNS = ["series_id", "obs_date", "value", "release_time"]


def wilder_smooth(values: np.ndarray, window: int) -> np.ndarray:
    """Wilder's smoothing: null until `window` values are in, then their simple mean, then (prev*(n-1)+x)/n."""
    smoothed = np.full(len(values), np.nan)
    if len(values) < window:
        return smoothed
    smoothed[window - 1] = values[:window].mean()
    for i in range(window, len(values)):
        smoothed[i] = (smoothed[i - 1] * (window - 1) + values[i]) / window
    return smoothed


def rsi(close: pl.Series, window: int = 14) -> pl.Series:
    """Wilder's RSI of a close series in time order: 100 - 100 / (1 + avg gain / avg loss), null until `window`
    changes are in (100 when no change was a loss)."""
    change = close.diff().to_numpy()[1:]
    gain = wilder_smooth(np.clip(change, 0, None), window)
    loss = wilder_smooth(np.clip(-change, 0, None), window)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(loss == 0, 100.0, 100 - 100 / (1 + gain / loss))
    value = np.where(np.isnan(gain), np.nan, value)
    return pl.Series("rsi", np.concatenate([[np.nan], value])).fill_nan(None)


def atr(high: pl.Series, low: pl.Series, close: pl.Series, window: int = 14) -> pl.Series:
    """Wilder's average true range; the first bar's true range is its high - low. Null until `window` bars."""
    previous = close.shift(1)
    true_range = pl.DataFrame({"h": high, "l": low, "p": previous}).select(
        pl.max_horizontal(
            pl.col("h") - pl.col("l"), (pl.col("h") - pl.col("p")).abs(), (pl.col("l") - pl.col("p")).abs()
        )
    )
    return pl.Series("atr", wilder_smooth(true_range.to_series().to_numpy(), window)).fill_nan(None)


def _macro_zscores(macro: pl.DataFrame, macro_ids: dict[str, str], window: int) -> dict[str, pl.DataFrame]:
    require_columns(macro, MACRO_COLUMNS, "usdcop_features macro")
    known = {}
    for feature, series_id in macro_ids.items():
        series = macro.filter(pl.col("series_id") == series_id)
        if series.is_empty():
            raise InvalidInput(f"usdcop_features macro: field series_id has no rows of {series_id!r} ({feature})")
        if series["obs_date"].is_duplicated().any():
            raise InvalidInput(f"usdcop_features macro: {series_id} field obs_date repeats; pass one vintage a date")
        scored = rolling_zscore(series, window).join(series.select("obs_date", "release_time"), on="obs_date")
        # A date's z-score is known once every value up to it is (the latest release so far): monotone in date,
        # so among z-scores known at one instant the as-of join takes the latest date's.
        known[feature] = (
            scored.sort("obs_date")
            .select(release_time=pl.col("release_time").cum_max(), **{feature: pl.col("zscore")})
            .drop_nulls(feature)
        )
    return known


def usdcop_features(
    bars: pl.DataFrame,
    macro: pl.DataFrame,
    macro_ids: dict[str, str],
    *,
    macro_z_window: int = 20,
) -> pl.DataFrame:
    """The features of one instrument's 5-minute bars (bar_time = bar start, UTC). `macro` is a long frame of
    series_id, obs_date, value, release_time; `macro_ids` maps dxy_z and vix_z to their series ids. A bar sees only
    macro values released at or before its close (bar_time + 5 min). bar_time and the features, clipped."""
    require_columns(bars, BAR_COLUMNS, "usdcop_features bars")
    missing = {"dxy_z", "vix_z"} - set(macro_ids)
    if missing:
        raise InvalidInput(f"usdcop_features: macro_ids lacks field(s) {', '.join(sorted(missing))}")
    frame = bars.select(BAR_COLUMNS).drop_nulls("close").sort("bar_time").with_columns(dataset_id=pl.lit("bars"))
    step = market.returns(frame, "log", id_column="dataset_id", time_column="bar_time", value_column="close")
    volatility = market.rolling_volatility(step, 20, periods_per_year=1, id_column="dataset_id", time_column="bar_time")
    local = pl.col("bar_time").dt.convert_time_zone(SESSION_TIMEZONE)
    hour = local.dt.hour() + local.dt.minute() / 60
    session = local.dt.date()
    log_close = pl.col("close").log()
    previous_session_close = (
        frame.group_by(session.alias("session"))
        .agg(pl.col("close").sort_by("bar_time").last().alias("prior"))
        .sort("session")
        .with_columns(pl.col("prior").shift(1))
    )
    features = (
        frame.with_columns(
            ret_1h=step["return"].rolling_sum(12, min_samples=12),
            ret_4h=step["return"].rolling_sum(48, min_samples=48),
            rsi_14=rsi(frame["close"]),
            atr_pct=atr(frame["high"], frame["low"], frame["close"]) / frame["close"],
            hour_sin=(hour * 2 * math.pi / 24).sin(),
            hour_cos=(hour * 2 * math.pi / 24).cos(),
            dow_sin=((local.dt.weekday() - 1) * 2 * math.pi / 7).sin(),
            session=session,
            bar_close=pl.col("bar_time") + BAR_LENGTH,
        )
        .join(volatility.select("bar_time", volatility_20="volatility"), on="bar_time", how="left")
        .join(previous_session_close, on="session", how="left")
        .with_columns(ret_1d=log_close - pl.col("prior").log())
    )
    for known in _macro_zscores(macro, macro_ids, macro_z_window).values():
        aligned = known.with_columns(pl.col("release_time").dt.convert_time_zone("UTC"))
        features = (
            features.sort("bar_close")
            .join_asof(aligned, left_on="bar_close", right_on="release_time", strategy="backward")
            .drop("release_time")
        )
    for feature, (mean, std) in NORMALISATION.items():
        features = features.with_columns((pl.col(feature) - mean) / std)
    order = ["ret_1h", "ret_4h", "ret_1d", "volatility_20", "rsi_14", "atr_pct", "dxy_z", "vix_z"]
    order += ["hour_sin", "hour_cos", "dow_sin"]
    return features.sort("bar_time").select("bar_time", *[pl.col(c).clip(-CLIP, CLIP) for c in order])
