"""Quality rules of price-index components over the stored vintages (a polars frame as the warehouse reads it): the
recorded IPCA basket passes every rule, and each rule fails on the break it is there for."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from macro_assets.catalog import load_catalog
from macro_assets.quality import Judged, common
from macro_assets.quality.index_components import RULES, latest_components
from macro_assets.sources.ibge_sidra import connector
from macro_assets_tests import paths
from macro_assets_tests.sources import payloads

COMPONENTS = load_catalog().get("ibge_sidra.ipca_components")
JUDGED_AT = dt.datetime(2019, 1, 14, 12, tzinfo=dt.UTC)
JUNE = dt.date(2018, 6, 1)
BY_NAME = {rule.name: rule for rule in RULES}


@pytest.fixture(scope="module")
def recorded() -> pl.DataFrame:
    body = (paths.RECORDINGS / "ibge_sidra" / "ipca_components_t1419_201801-201812.json").read_bytes()
    rows = connector.parse(COMPONENTS, payloads.fetched(str(COMPONENTS.id), body)).rows
    return rows.with_columns(dataset_id=pl.lit(str(COMPONENTS.id)))


def judge(name: str, vintages: pl.DataFrame):
    return BY_NAME[name].judge(Judged(COMPONENTS, vintages, dt.date(2018, 1, 1), dt.date(2018, 12, 31), JUDGED_AT))


def in_june(name: str) -> pl.Expr:
    return (pl.col("obs_date") == JUNE) & (pl.col("name") == name)


def test_the_rules_start_from_the_ones_every_shape_shares():
    assert [rule.name for rule in RULES[: len(common.RULES)]] == [rule.name for rule in common.RULES]


def test_the_recorded_basket_passes_every_rule(recorded):
    for rule in RULES:
        outcome = rule.judge(Judged(COMPONENTS, recorded, dt.date(2018, 1, 1), dt.date(2018, 12, 31), JUDGED_AT))
        assert outcome.passed, (rule.name, outcome.metadata)


def test_a_period_without_the_general_index_fails(recorded):
    outcome = judge("general_index_every_period", recorded.filter(~in_june("Índice geral")))
    assert not outcome.passed and outcome.metadata["sample"] == ["2018-06-01"]


def test_a_negative_weight_fails(recorded):
    broken = recorded.with_columns(weight=pl.when(in_june("1101002.Arroz")).then(-0.5).otherwise(pl.col("weight")))
    outcome = judge("no_negative_weights", broken)
    assert not outcome.passed and outcome.metadata["negative_weights"] == 1


def test_a_missing_subitem_or_weight_breaks_the_sum_of_its_level(recorded):
    outcome = judge("weights_sum_to_100", recorded.filter(~in_june("5104001.Gasolina")))
    assert not outcome.passed and outcome.metadata["sample"][0].startswith("2018-06-01 subitem:")
    no_weight = recorded.with_columns(weight=pl.when(in_june("5.Transportes")).then(None).otherwise(pl.col("weight")))
    assert judge("weights_sum_to_100", no_weight).metadata["sample"][0].startswith("2018-06-01 group:")


def test_rounding_alone_does_not_break_the_sum(recorded):
    # Shift one subitem by the last published decimal: still within the rounding of a few hundred weights.
    nudged = recorded.with_columns(
        weight=pl.when(in_june("1101002.Arroz")).then(pl.col("weight") + 0.0001).otherwise(pl.col("weight"))
    )
    assert judge("weights_sum_to_100", nudged).passed


def test_a_group_change_that_does_not_add_up_to_the_general_index_fails(recorded):
    broken = recorded.with_columns(value=pl.when(in_june("5.Transportes")).then(9.99).otherwise(pl.col("value")))
    outcome = judge("groups_add_up_to_the_general_index", broken)
    assert not outcome.passed and outcome.metadata["inconsistent_periods"] == 1
    assert outcome.metadata["sample"][0].startswith("2018-06-01: general 1.26")


def test_only_the_latest_vintage_of_a_component_is_judged(recorded):
    later = recorded.filter(in_june("1101002.Arroz")).with_columns(
        weight=pl.lit(-1.0), release_time=pl.col("release_time") + dt.timedelta(days=1)
    )
    revised_back = later.with_columns(
        weight=recorded.filter(in_june("1101002.Arroz"))["weight"],
        release_time=pl.col("release_time") + dt.timedelta(days=1),
    )
    assert not judge("no_negative_weights", pl.concat([recorded, later])).passed
    assert judge("no_negative_weights", pl.concat([recorded, later, revised_back])).passed
    withdrawn = later.with_columns(value=None, weight=None)
    assert latest_components(pl.concat([recorded, withdrawn])).height == recorded.height - 1
