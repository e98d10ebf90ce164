"""Rolling z-scores and percentile ranks on windows computed by hand."""

from __future__ import annotations

import datetime as dt
import statistics

import polars as pl
import pytest

from macro_assets.analytics.statistics import rolling_percentile_rank, rolling_zscore
from macro_assets.errors import InvalidInput


def series(values):
    return pl.DataFrame(
        {
            "series_id": "s",
            "obs_date": [dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in range(len(values))],
            "value": values,
        }
    )


def hand_zscore(window):
    return (window[-1] - statistics.mean(window)) / statistics.stdev(window)


def test_zscore_is_null_until_the_window_is_filled():
    values = [1.0, 2.0, 3.0, 4.0, 10.0]
    z = rolling_zscore(series(values), 3)["zscore"].to_list()
    assert z[:2] == [None, None]
    assert z[2:] == pytest.approx([1.0, 1.0, hand_zscore([3.0, 4.0, 10.0])])


def test_zscore_of_a_partial_window_only_when_asked():
    z = rolling_zscore(series([1.0, 2.0, 3.0, 4.0, 10.0]), 3, min_periods=2)["zscore"].to_list()
    assert z[0] is None
    assert z[1] == pytest.approx(hand_zscore([1.0, 2.0]))


def test_zscore_of_a_window_that_does_not_vary_is_null():
    assert rolling_zscore(series([5.0, 5.0, 5.0]), 3)["zscore"].to_list() == [None, None, None]


def test_percentile_rank_within_each_window():
    ranks = rolling_percentile_rank(series([3.0, 1.0, 2.0, 2.0, 5.0]), 3)["percentile_rank"].to_list()
    # [3, 1, 2]: 2 is second of three; [1, 2, 2]: tied 2nd and 3rd, 2.5 of 3; [2, 2, 5]: 5 is the highest.
    assert ranks == [None, None, pytest.approx(2 / 3), pytest.approx(2.5 / 3), pytest.approx(1.0)]


def test_percentile_rank_of_a_partial_window_counts_what_it_holds():
    ranks = rolling_percentile_rank(series([3.0, 1.0, 2.0]), 3, min_periods=2)["percentile_rank"].to_list()
    assert ranks == [None, pytest.approx(1 / 2), pytest.approx(2 / 3)]


def test_a_min_periods_larger_than_the_window_is_refused():
    with pytest.raises(InvalidInput, match="min_periods"):
        rolling_zscore(series([1.0, 2.0]), 3, min_periods=4)
