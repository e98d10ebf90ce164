"""Quality rules of Databento's record tables over stored vintages (polars frames as the warehouse reads them, from
the real 2020-12-28 files): each schema rule passes on the real records and fails naming the offending record."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from macro_assets.catalog import load_catalog
from macro_assets.quality import Judged
from macro_assets.quality.databento import DEFINITION_RULES, STATISTICS_RULES, TBBO_RULES, TRADE_RULES
from macro_assets.quality.rules import RULES
from macro_assets.sources.databento import parse_dbn
from macro_assets_tests.paths import RECORDINGS
from macro_assets_tests.sources.payloads import fetched

CATALOG = load_catalog()
DAY = dt.date(2020, 12, 28)
JUDGED_AT = dt.datetime(2021, 1, 4, 12, tzinfo=dt.UTC)
CASES = {
    "trades": ("databento.ESH1_trades", "trades", TRADE_RULES),
    "tbbo": ("databento.ESH1_tbbo", "tbbo", TBBO_RULES),
    "statistics": ("databento.ESH1_statistics", "statistics", STATISTICS_RULES),
    "definitions": ("databento.ESH1_definition", "definition", DEFINITION_RULES),
}


def judged(kind: str, edit=lambda frame: frame) -> tuple[Judged, dict]:
    dataset_id, schema, rules = CASES[kind]
    dataset = CATALOG.get(dataset_id)
    body = (RECORDINGS / "databento" / "verbatim" / f"GLBX.MDP3_ESH1_2020-12-28.{schema}.dbn.zst").read_bytes()
    rows = parse_dbn(dataset, fetched(dataset_id, body)).rows
    vintages = edit(rows.with_columns(dataset_id=pl.lit(dataset_id), payload_sha256=pl.lit("0" * 64)))
    return Judged(dataset, vintages, DAY, DAY, JUDGED_AT), {rule.name: rule for rule in rules}


def outcome(kind: str, rule: str, edit=lambda frame: frame):
    what, rules = judged(kind, edit)
    return rules[rule].judge(what)


@pytest.mark.parametrize("kind", CASES)
def test_every_rule_passes_on_the_real_records_and_the_kind_maps_to_its_rules(kind):
    what, rules = judged(kind)
    assert RULES[kind] == CASES[kind][2]
    assert {"no_duplicate_vintages", "received_after_event"} <= set(rules)
    assert all(rule.judge(what).passed for rule in rules.values())


@pytest.mark.parametrize("kind", CASES)
def test_a_record_received_before_its_event_fails_naming_it(kind):
    result = outcome(kind, "received_after_event", lambda f: f.with_columns(ts_recv=pl.col("ts_event") - 1))
    assert not result.passed and result.metadata["received_before_event"] == judged(kind)[0].vintages.height
    assert result.metadata["sample"][0].startswith("ts_event=")


@pytest.mark.parametrize("kind, column", [("trades", "size"), ("tbbo", "ask_sz_00"), ("tbbo", "bid_ct_00")])
def test_a_negative_size_fails(kind, column):
    def edit(frame: pl.DataFrame) -> pl.DataFrame:
        first = pl.int_range(pl.len()) == 0
        return frame.with_columns(pl.when(first).then(-1).otherwise(pl.col(column)).alias(column))

    result = outcome(kind, "sizes_non_negative", edit)
    assert (
        not result.passed and result.metadata["negative_sizes"] == 1 and f"{column}=-1" in result.metadata["sample"][0]
    )


def test_a_crossed_book_fails_and_a_one_sided_book_passes():
    crossed = outcome("tbbo", "book_not_crossed", lambda f: f.with_columns(bid_px_00=pl.col("ask_px_00") + 0.25))
    assert not crossed.passed and crossed.metadata["crossed_books"] == 4
    one_sided = {"bid_px_00": pl.col("ask_px_00") + 0.25, "ask_px_00": pl.lit(None, pl.Float64)}
    assert outcome("tbbo", "book_not_crossed", lambda f: f.with_columns(**one_sided)).passed


def test_an_unknown_update_action_fails_and_a_deletion_passes():
    assert outcome("statistics", "known_update_action", lambda f: f.with_columns(update_action=pl.lit(2))).passed
    unknown = outcome("statistics", "known_update_action", lambda f: f.with_columns(update_action=pl.lit(3)))
    assert not unknown.passed and unknown.metadata["unknown_update_actions"] == 4
    assert "update_action=3" in unknown.metadata["sample"][0]


@pytest.mark.parametrize("symbol", [None, " "])
def test_a_definition_without_a_symbol_fails(symbol):
    unnamed = pl.lit(symbol, pl.String)
    result = outcome("definitions", "definitions_name_their_instrument", lambda f: f.with_columns(raw_symbol=unnamed))
    assert not result.passed and result.metadata["definitions_without_symbol"] == 1
