"""PTAX's own rule: for every bulletin instant, the buy rate is never above the sell rate (BCB quotes both sides
of one bulletin; a buy above the sell is a broken record). A sell dataset is judged against the buy dataset of
the same currency and bulletin."""

from __future__ import annotations

import polars as pl

from macro_assets.catalog import DatasetSpec, load_catalog
from macro_assets.quality import CheckOutcome, CheckRule, Judged


def buy_counterpart(dataset: DatasetSpec) -> list[str]:
    """The buy dataset quoted with this sell dataset (same currency and bulletin), if the catalog has it."""
    if dataset.params.get("side") != "sell":
        return []
    wanted = {**dataset.params, "side": "buy"}
    return [
        str(spec.id)
        for spec in load_catalog().datasets.values()
        if spec.source == dataset.source and spec.params == wanted
    ]


def _buy_not_above_sell(judged: Judged) -> CheckOutcome:
    (buy_id,) = buy_counterpart(judged.dataset)
    quoted = ["obs_date", "release_time"]
    sells = judged.vintages.filter(pl.col("value").is_not_null()).select(*quoted, sell="value")
    buys = judged.companions[buy_id].filter(pl.col("value").is_not_null()).select(*quoted, buy="value")
    paired = sells.join(buys, on=quoted, how="inner")
    crossed = paired.filter(pl.col("buy") > pl.col("sell"))
    return CheckOutcome(
        crossed.is_empty(),
        {
            "buy_dataset": buy_id,
            "bulletins_compared": paired.height,
            "buy_above_sell": crossed.height,
            "sample": [f"{t.isoformat()} buy={b} sell={s}" for _, t, s, b in crossed.head(5).iter_rows()],
        },
    )


BUY_NOT_ABOVE_SELL = CheckRule(
    "buy_not_above_sell",
    "At every bulletin instant the buy rate is at most the sell rate of the same currency and bulletin.",
    "ERROR",
    _buy_not_above_sell,
    companions=buy_counterpart,
)
