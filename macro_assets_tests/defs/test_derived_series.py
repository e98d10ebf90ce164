"""Derived series through Dagster: stored as vintages, so that as of any instant the series is f applied to its
inputs as known then, and a revision of an input gives the dates that read it a new vintage on the next run."""

import datetime as dt

import dagster as dg
import polars as pl

from macro_assets.analytics import pit
from macro_assets.defs.derived.series import DERIVED_SERIES, build_derived_check, build_derived_series
from macro_assets.defs.resources import EARLIEST, REPLAY_TAG
from macro_assets.warehouse import connect
from macro_assets_tests.defs.test_datasets import range_tags, resources, series_assets  # noqa: F401 (a fixture)

SERIES = {series.derivation.name: series for series in DERIVED_SERIES}
IBCBR_Z = SERIES["derived.ibcbr_z12"]
SPREAD = SERIES["derived.ust_10y_2y"]
MONTHS = range_tags("2015-01-01", "2018-12-01")


def derived_assets(series):
    return [build_derived_series(series), build_derived_check(series)]


def assert_the_rule_holds(warehouse, series, instants):
    derivation = series.derivation
    derived = warehouse.observations.vintages(derivation.name, output="polars")
    inputs = warehouse.observations.vintages(list(derivation.inputs), output="polars")
    first, last = derived["obs_date"].min(), derived["obs_date"].max()
    for instant in instants:
        held = pit.as_of(derived, instant).select("obs_date", "value").sort("obs_date")
        known = pit.as_of(inputs, instant).select("series_id", "obs_date", "value")
        expected = derivation.computed(known).filter(pl.col("obs_date").is_between(first, last)).sort("obs_date")
        assert held["obs_date"].to_list() == expected["obs_date"].to_list(), instant
        assert ((held["value"] - expected["value"]).abs().max() or 0.0) < 1e-9, instant


def test_a_revised_input_gives_the_dates_reading_it_new_vintages_and_as_of_stays_the_rule(resources):  # noqa: F811
    with dg.instance_for_test() as instance:
        first_capture = {**MONTHS, REPLAY_TAG: EARLIEST}
        assert dg.materialize(
            series_assets("bcb_sgs.24363"), resources=resources, instance=instance, tags=first_capture
        ).success
        result = dg.materialize(derived_assets(IBCBR_Z), resources=resources, instance=instance, tags=MONTHS)
        assert result.success and all(e.passed for e in result.get_asset_check_evaluations())
        newest = result.asset_materializations_for_node("derived__ibcbr_z12")[-1].metadata
        assert newest["chart"].value.startswith("![derived.ibcbr_z12](data:image/png;base64,")
        assert [c.name for c in newest["preview"].value.schema.columns][:2] == ["obs_date", "value"]
        with connect(resources["warehouse"].url) as warehouse:
            before = warehouse.observations.vintages("derived.ibcbr_z12", output="polars")
        # The later capture revises August..October 2018; the derived series gains vintages on its next run.
        assert dg.materialize(
            series_assets("bcb_sgs.24363"), resources=resources, instance=instance, tags=MONTHS
        ).success
        result = dg.materialize(derived_assets(IBCBR_Z), resources=resources, instance=instance, tags=MONTHS)
        assert result.success and all(e.passed for e in result.get_asset_check_evaluations())

    with connect(resources["warehouse"].url) as warehouse:
        after = warehouse.observations.vintages("derived.ibcbr_z12", output="polars")
        inputs = warehouse.observations.vintages("bcb_sgs.24363", output="polars")
        revision = inputs.filter(pl.col("release_basis") == "observed")["release_time"].min()
        new = after.join(before, on=["obs_date", "release_time"], how="anti")
        # Only the dates whose 12-observation window holds a revised or newly published month gain a vintage,
        # each released with the capture that revised it, never earlier.
        assert new.height and (new["release_time"] >= revision).all()
        assert new["obs_date"].min() >= dt.date(2018, 8, 1)
        assert before.height + new.height == after.height  # nothing overwritten
        micro = dt.timedelta(microseconds=1)
        instants = sorted({*inputs["release_time"].to_list(), revision - micro, revision + micro})
        assert_the_rule_holds(warehouse, IBCBR_Z, [dt.datetime(2015, 1, 1, tzinfo=dt.UTC), *instants])


def test_a_re_run_adds_nothing_and_a_spread_is_its_inputs_difference(resources):  # noqa: F811
    december = range_tags("2018-12-03", "2018-12-31")
    with dg.instance_for_test() as instance:
        inputs = series_assets("fred.DGS10", "fred.DGS2")
        assert dg.materialize(inputs, resources=resources, instance=instance, tags=december).success
        for _ in range(2):
            result = dg.materialize(derived_assets(SPREAD), resources=resources, instance=instance, tags=december)
            assert result.success and all(e.passed for e in result.get_asset_check_evaluations())
        node = result.asset_materializations_for_node("derived__ust_10y_2y")
        materialized = [m for m in node if "vintages_added" in m.metadata]
        assert [m.metadata["vintages_added"].value for m in materialized] == [0]
        # Unchanged vintages are still what the run derived: the re-run pictures them too.
        assert materialized[0].metadata["chart"].value.startswith("![derived.ust_10y_2y](data:image/png;base64,")
    with connect(resources["warehouse"].url) as warehouse:
        spread = warehouse.observations.latest("derived.ust_10y_2y").set_index("obs_date")["value"]
        ten = warehouse.observations.latest("fred.DGS10", "2018-12-03", "2018-12-31").set_index("obs_date")["value"]
        two = warehouse.observations.latest("fred.DGS2", "2018-12-03", "2018-12-31").set_index("obs_date")["value"]
        assert len(spread) == len(ten.dropna()) > 15
        assert ((spread - (ten - two).dropna()).abs() < 1e-12).all()
