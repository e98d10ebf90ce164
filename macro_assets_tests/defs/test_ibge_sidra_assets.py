"""IBGE SIDRA through Dagster: the IPCA components and the headline IPCA materialize offline over their monthly
partitions with their checks, and read back point in time: every component of a month with weights summing to
100, nothing before its release."""

import datetime as dt

import dagster as dg
import pytest

from macro_assets.warehouse import connect
from macro_assets_tests.defs.test_datasets import range_tags, resources, series_assets, series_key

__all__ = ["resources"]  # the fixture, imported for pytest

COMPONENTS = "ibge_sidra.ipca_components"
IPCA = "ibge_sidra.ipca_mom"


def test_components_and_the_headline_ipca_materialize_and_read_back(resources, system_warehouse_url):
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            series_assets(COMPONENTS, IPCA),
            resources=resources,
            instance=instance,
            tags=range_tags("2015-01-01", "2018-12-01"),
        )
        assert result.success
        events = [e for e in result.get_asset_materialization_events() if e.asset_key == series_key(COMPONENTS)]
        assert len(events) == 48
        evaluations = {(e.asset_key, e.check_name): e.passed for e in result.get_asset_check_evaluations()}
        assert all(evaluations.values()), evaluations
        assert evaluations[(series_key(COMPONENTS), "weights_sum_to_100")]

    with connect(system_warehouse_url) as warehouse:
        june = warehouse.index_components.as_of(COMPONENTS, "2018-07-31", start="2018-06-01", end="2018-06-01")
        assert len(june) == 134 and set(june["level"]) == {"general", "group", "subgroup", "item", "subitem"}
        for level in ("group", "subgroup", "item", "subitem"):
            assert june[june["level"] == level]["weight"].sum() == pytest.approx(100, abs=0.01)
        general = june[june["level"] == "general"].iloc[0]
        assert (general["component"], general["value"], general["weight"]) == ("7169", 1.26, 100.0)
        # June 2018 is out on 10 July at 09:00 Brasília (12:00 UTC): not a second before.
        assert warehouse.index_components.as_of(
            COMPONENTS, "2018-07-10T11:59:59Z", start="2018-06-01", end="2018-06-01"
        ).empty
        assert (
            len(
                warehouse.index_components.as_of(
                    COMPONENTS, "2018-07-10T12:00:00Z", start="2018-06-01", end="2018-06-01"
                )
            )
            == 134
        )
        headline = warehouse.observations.as_of(IPCA, "2019-01-14T12:00:00Z", start="2018-01-01")
        assert headline["value"].tolist() == [0.29, 0.32, 0.09, 0.22, 0.40, 1.26, 0.33, -0.09, 0.48, 0.45, -0.21, 0.15]
        assert headline["release_time"].iloc[-1].to_pydatetime() == dt.datetime(2019, 1, 10, 11, tzinfo=dt.UTC)
        assert warehouse.index_components.info(COMPONENTS)["vintages"] == 134 * 48
