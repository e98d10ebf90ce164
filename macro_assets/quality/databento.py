"""Rules for Databento's record tables (trades, TBBO, statistics, definitions): the rules every shape shares, then
those of each schema. Every record was received after it happened (ts_recv >= ts_event, in nanoseconds); sizes
are never negative; a TBBO's book before the trade is not crossed where both sides are set; a statistic is a new
value or the deletion of one (StatUpdateAction 1 or 2); a definition names its instrument (raw_symbol)."""

from __future__ import annotations

import polars as pl

from macro_assets.quality import CheckOutcome, CheckRule, Judged, common

NEW, DELETE = 1, 2
SIZES = {"trades": ("size",), "tbbo": ("size", "bid_sz_00", "ask_sz_00", "bid_ct_00", "ask_ct_00")}


def _record(row: dict, *names: str) -> str:
    return f"ts_event={row['ts_event']} " + " ".join(f"{name}={row[name]}" for name in names)


def _outcome(bad: pl.DataFrame, count: str, *names: str) -> CheckOutcome:
    return CheckOutcome(
        bad.is_empty(),
        {count: bad.height, "sample": [_record(row, *names) for row in bad.head(5).iter_rows(named=True)]},
    )


def _received_after_event(judged: Judged) -> CheckOutcome:
    bad = judged.vintages.filter(pl.col("ts_recv") < pl.col("ts_event"))
    return _outcome(bad, "received_before_event", "ts_recv")


def _sizes_non_negative(judged: Judged) -> CheckOutcome:
    columns = SIZES[judged.dataset.kind]
    bad = judged.vintages.filter(pl.any_horizontal([pl.col(c) < 0 for c in columns]))
    return _outcome(bad, "negative_sizes", *columns)


def _book_not_crossed(judged: Judged) -> CheckOutcome:
    bid, ask = pl.col("bid_px_00"), pl.col("ask_px_00")
    bad = judged.vintages.filter(bid.is_not_null() & ask.is_not_null() & (bid > ask))
    return _outcome(bad, "crossed_books", "bid_px_00", "ask_px_00")


def _known_update_action(judged: Judged) -> CheckOutcome:
    bad = judged.vintages.filter(~pl.col("update_action").is_in([NEW, DELETE]))
    return _outcome(bad, "unknown_update_actions", "stat_type", "update_action")


def _named_instrument(judged: Judged) -> CheckOutcome:
    bad = judged.vintages.filter(pl.col("raw_symbol").is_null() | (pl.col("raw_symbol").str.strip_chars() == ""))
    return _outcome(bad, "definitions_without_symbol", "instrument_id")


RECEIVED_AFTER_EVENT = CheckRule(
    "received_after_event",
    "Every record was received (ts_recv) at or after its event (ts_event).",
    "ERROR",
    _received_after_event,
)
SIZES_NON_NEGATIVE = CheckRule(
    "sizes_non_negative", "No stored size, book size or order count is negative.", "ERROR", _sizes_non_negative
)

TRADE_RULES = (*common.RULES, RECEIVED_AFTER_EVENT, SIZES_NON_NEGATIVE)
TBBO_RULES = (
    *TRADE_RULES,
    CheckRule(
        "book_not_crossed",
        "The best bid before each trade is at most the best ask, where both sides are set.",
        "ERROR",
        _book_not_crossed,
    ),
)
STATISTICS_RULES = (
    *common.RULES,
    RECEIVED_AFTER_EVENT,
    CheckRule(
        "known_update_action",
        "Every statistic is a new value (update_action 1) or the deletion of one (2).",
        "ERROR",
        _known_update_action,
    ),
)
DEFINITION_RULES = (
    *common.RULES,
    RECEIVED_AFTER_EVENT,
    CheckRule("definitions_name_their_instrument", "Every definition has a raw_symbol.", "ERROR", _named_instrument),
)
