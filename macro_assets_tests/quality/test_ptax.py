"""PTAX's buy-not-above-sell rule: a sell dataset judged against the buy dataset of its currency and bulletin."""

from __future__ import annotations

import datetime as dt

import polars as pl

from macro_assets.catalog import load_catalog
from macro_assets.quality import Judged
from macro_assets.quality.ptax import BUY_NOT_ABOVE_SELL, buy_counterpart
from macro_assets.quality.rules import rules_for
from macro_assets.shapes import UTC_DATETIME

CATALOG = load_catalog()
SELL, BUY = CATALOG.get("bcb_ptax.USD_sell_close"), CATALOG.get("bcb_ptax.USD_buy_close")
FIXED = dt.datetime(2018, 3, 1, 16, 4, 5, tzinfo=dt.UTC)


def bulletins(dataset, rows) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "series_id": [str(dataset.id)] * len(rows),
            "obs_date": [released.date() for released, _ in rows],
            "value": [value for _, value in rows],
            "release_time": [released for released, _ in rows],
            "release_basis": ["vintage"] * len(rows),
        },
        schema_overrides={"release_time": UTC_DATETIME},
    )


def judged(sells, buys) -> Judged:
    start = end = FIXED.date()
    return Judged(SELL, bulletins(SELL, sells), start, end, FIXED, {str(BUY.id): bulletins(BUY, buys)})


def test_a_sell_dataset_is_paired_with_the_buy_of_its_currency_and_bulletin_and_only_it_gets_the_rule():
    assert buy_counterpart(SELL) == ["bcb_ptax.USD_buy_close"]
    assert buy_counterpart(BUY) == []
    assert buy_counterpart(CATALOG.get("bcb_ptax.EUR_sell_open")) == []  # the catalog has no EUR opening buy
    assert BUY_NOT_ABOVE_SELL in rules_for(SELL) and BUY_NOT_ABOVE_SELL not in rules_for(BUY)


def test_buy_at_or_below_sell_passes_and_a_crossed_bulletin_fails_naming_it():
    later = FIXED + dt.timedelta(days=1)
    outcome = BUY_NOT_ABOVE_SELL.judge(judged([(FIXED, 3.2456), (later, 3.25)], [(FIXED, 3.2450), (later, 3.25)]))
    assert outcome.passed and outcome.metadata["bulletins_compared"] == 2

    outcome = BUY_NOT_ABOVE_SELL.judge(judged([(FIXED, 3.2456), (later, 3.25)], [(FIXED, 3.2450), (later, 3.2501)]))
    assert not outcome.passed
    assert outcome.metadata["buy_above_sell"] == 1
    assert outcome.metadata["sample"] == [f"{later.isoformat()} buy=3.2501 sell=3.25"]


def test_bulletins_only_one_side_has_and_withdrawals_are_not_compared():
    other_instant = FIXED + dt.timedelta(minutes=1)
    outcome = BUY_NOT_ABOVE_SELL.judge(judged([(FIXED, None), (other_instant, 3.0)], [(FIXED, 9.0)]))
    assert outcome.passed and outcome.metadata["bulletins_compared"] == 0
