"""Wilder RSI/ATR against hand calculations, point-in-time macro alignment, clipping and calendar features."""

from __future__ import annotations

import datetime as dt
import math

import polars as pl
import pytest

from macro_assets.analytics import features
from macro_assets.errors import InvalidInput


def test_rsi_matches_a_hand_calculation():
    # Changes +1, -0.5, +1, +0.5, -1. n=3: gains 2/3, losses 1/6 -> RS 4, RSI 80;
    # then gain (2/3*2+0.5)/3=11/18, loss (1/6*2)/3=2/18 -> RS 5.5, RSI 100-100/6.5;
    # then gain (11/18*2)/3=11/27, loss (2/18*2+1)/3=11/27 -> RSI 50.
    close = pl.Series([10.0, 11.0, 10.5, 11.5, 12.0, 11.0])
    assert features.rsi(close, 3).to_list() == [None, None, None, 80.0, pytest.approx(100 - 100 / 6.5), 50.0]


def test_atr_matches_a_hand_calculation():
    # True ranges 2 (h-l), max(2,2,0)=2, max(1,.5,.5)=1, max(2,2,0)=2; ATR(3) 5/3 then (5/3*2+2)/3=16/9.
    high, low = pl.Series([11.0, 12.0, 11.5, 13.0]), pl.Series([9.0, 10.0, 10.5, 11.0])
    close = pl.Series([10.0, 11.0, 11.0, 12.0])
    assert features.atr(high, low, close, 3).to_list() == [None, None, pytest.approx(5 / 3), pytest.approx(16 / 9)]


def bars(start, count):
    times = [start + i * features.BAR_LENGTH for i in range(count)]
    close = [4000.0 * (1 + 0.0005 * math.sin(i)) for i in range(count)]
    return pl.DataFrame(
        {
            "bar_time": times,
            "open": close,
            "high": [c + 2 for c in close],
            "low": [c - 2 for c in close],
            "close": close,
        }
    )


def macro_series(series_id, values, last_release):
    days = len(values)
    return pl.DataFrame(
        {
            "series_id": series_id,
            "obs_date": [dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in range(days)],
            "value": values,
            "release_time": [last_release - dt.timedelta(days=days - 1 - i) for i in range(days)],
        }
    )


def test_a_bar_never_sees_a_macro_value_released_after_its_close():
    start = dt.datetime(2024, 1, 10, 13, 0, tzinfo=dt.UTC)  # 08:00 Bogota
    first_close = start + features.BAR_LENGTH
    release = first_close + dt.timedelta(seconds=1)
    dxy = macro_series("DXY", [100.0, 101.0, 103.0, 100.0, 110.0], release)
    vix = macro_series("VIX", [15.0, 16.0, 14.0, 15.0, 20.0], release)
    out = features.usdcop_features(
        bars(start, 3), pl.concat([dxy, vix]), {"dxy_z": "DXY", "vix_z": "VIX"}, macro_z_window=3
    )
    # Window of 3 ending at 100: mean 101.33, sd 1.528 -> z -0.873; the 110 window (103,100,110) is released later.
    earlier = (100 - (101 + 103 + 100) / 3) / pl.Series([101.0, 103.0, 100.0]).std()
    later = (110 - (103 + 100 + 110) / 3) / pl.Series([103.0, 100.0, 110.0]).std()
    assert out["dxy_z"].to_list()[:2] == [pytest.approx(earlier), pytest.approx(later)]


def test_features_are_clipped_and_calendar_uses_bogota_time():
    start = dt.datetime(2024, 1, 8, 13, 0, tzinfo=dt.UTC)  # Monday 08:00 in Bogota (UTC-5)
    frame = bars(start, 60)
    frame = frame.with_columns(close=pl.when(pl.int_range(pl.len()) == 59).then(8000.0).otherwise(pl.col("close")))
    dxy = macro_series("DXY", [100.0, 101.0, 103.0], start)
    out = features.usdcop_features(frame, dxy, {"dxy_z": "DXY", "vix_z": "DXY"}, macro_z_window=3)
    numeric = out.drop("bar_time")
    assert all(numeric[c].drop_nulls().is_between(-5, 5).all() for c in numeric.columns)
    assert out["ret_1h"][59] == 5.0
    # RSI (0-100) arrives centred and scaled into [-1, 1], so the clip never flattens it.
    expected_rsi = ((features.rsi(frame["close"]) - 50) / 50).to_list()
    assert out["rsi_14"].to_list() == [None if e is None else pytest.approx(e) for e in expected_rsi]
    assert out["rsi_14"].drop_nulls().is_between(-1, 1).all()
    assert out["hour_sin"][0] == pytest.approx(math.sin(2 * math.pi * 8 / 24))
    assert out["hour_cos"][0] == pytest.approx(math.cos(2 * math.pi * 8 / 24))
    assert out["dow_sin"][0] == pytest.approx(0.0)


def test_missing_bar_column_is_named():
    with pytest.raises(InvalidInput, match="high"):
        features.usdcop_features(bars(dt.datetime(2024, 1, 8, tzinfo=dt.UTC), 3).drop("high"), pl.DataFrame(), {})
