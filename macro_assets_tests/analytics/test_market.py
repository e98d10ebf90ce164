"""Returns, volatility, drawdowns and correlations on small series computed by hand."""

from __future__ import annotations

import datetime as dt
import math
import statistics

import polars as pl
import pytest

from macro_assets.analytics import market
from macro_assets.errors import InvalidInput


def series(values, series_id="s", start=dt.date(2024, 1, 1)):
    return pl.DataFrame(
        {
            "series_id": series_id,
            "obs_date": [start + dt.timedelta(days=i) for i in range(len(values))],
            "value": values,
        }
    )


def test_simple_and_log_returns_per_series():
    frame = pl.concat([series([100.0, 110.0, None, 99.0]), series([50.0, 25.0], series_id="t")])
    simple = market.returns(frame)
    # The null is no observation: 99 is the return from 110.
    assert simple.filter(pl.col("series_id") == "s")["return"].to_list()[1:] == pytest.approx([0.1, -0.1])
    assert simple.filter(pl.col("series_id") == "t")["return"].to_list() == [None, pytest.approx(-0.5)]
    log = market.returns(frame, "log").filter(pl.col("series_id") == "s")["return"].to_list()
    assert log[0] is None and log[1:] == pytest.approx([math.log(1.1), math.log(0.9)])


def test_bars_returns_read_the_close():
    bars = pl.DataFrame(
        {
            "dataset_id": "yahoo.X_1d",
            "bar_time": [dt.datetime(2024, 1, d, tzinfo=dt.UTC) for d in (2, 3)],
            "close": [4.0, 5.0],
        }
    )
    out = market.returns(bars, id_column="dataset_id", time_column="bar_time", value_column="close")
    assert out["return"].to_list() == [None, pytest.approx(0.25)]


def test_rolling_volatility_is_the_annualised_sample_deviation_of_a_full_window():
    rets = series([0.01, -0.01, 0.02, 0.0]).rename({"value": "return"})
    daily = market.rolling_volatility(rets, 3, frequency="daily")["volatility"].to_list()
    assert daily[:2] == [None, None]
    assert daily[2] == pytest.approx(statistics.stdev([0.01, -0.01, 0.02]) * math.sqrt(252))
    assert daily[3] == pytest.approx(statistics.stdev([-0.01, 0.02, 0.0]) * math.sqrt(252))
    weekly = market.rolling_volatility(rets, 3, frequency="weekly")["volatility"][2]
    assert weekly == pytest.approx(statistics.stdev([0.01, -0.01, 0.02]) * math.sqrt(52))
    custom = market.rolling_volatility(rets, 3, periods_per_year=8760)["volatility"][2]
    assert custom == pytest.approx(statistics.stdev([0.01, -0.01, 0.02]) * math.sqrt(8760))
    with pytest.raises(InvalidInput, match="intraday"):
        market.rolling_volatility(rets, 3, frequency="intraday")


def test_drawdowns_running_peak_depth_and_duration():
    out = market.drawdowns(series([100.0, 120.0, 90.0, 110.0, 130.0, 117.0]))
    assert out["running_peak"].to_list() == [100, 120, 120, 120, 130, 130]
    assert out["drawdown"].to_list() == pytest.approx([0, 0, -0.25, -10 / 120, 0, -0.1])
    assert out["max_drawdown"].to_list() == pytest.approx([0, 0, -0.25, -0.25, -0.25, -0.25])
    assert out["drawdown_periods"].to_list() == [0, 0, 1, 2, 0, 1]


def test_rolling_correlation_aligns_the_two_series_by_date():
    left = series([1.0, 2.0, 3.0, 4.0, 5.0])
    right = series([2.0, 1.0, 4.0, 3.0, 7.0]).filter(pl.col("obs_date") != dt.date(2024, 1, 2))
    out = market.rolling_correlation(left, right, 3)
    assert out["obs_date"].to_list() == [dt.date(2024, 1, d) for d in (1, 3, 4, 5)]
    corr = out["correlation"].to_list()
    assert corr[:2] == [None, None]
    assert corr[2] == pytest.approx(statistics.correlation([1.0, 3.0, 4.0], [2.0, 4.0, 3.0]))
    assert corr[3] == pytest.approx(statistics.correlation([3.0, 4.0, 5.0], [4.0, 3.0, 7.0]))


def test_trailing_drawdown_is_from_the_high_of_the_last_window_observations():
    out = market.trailing_drawdown(series([100.0, 120.0, 90.0, None, 110.0, 80.0, 85.0]), 3)
    # The null is no observation: the windows are (100, 120, 90), (120, 90, 110), (90, 110, 80), (110, 80, 85).
    assert out["trailing_peak"].to_list() == [None, None, 120.0, 120.0, 110.0, 110.0]
    assert out["drawdown"].to_list()[:2] == [None, None]
    assert out["drawdown"].to_list()[2:] == pytest.approx([90 / 120 - 1, 110 / 120 - 1, 80 / 110 - 1, 85 / 110 - 1])
    with pytest.raises(InvalidInput, match="window"):
        market.trailing_drawdown(series([1.0, 2.0]), 1)
