"""Fitted zero curves through Dagster: each curve date's fit is stored as vintages released with the input curve's,
so a re-published curve gives that date (and only it) a new fitted vintage, and as of any instant the stored
zero curve is the fit of the curve then known."""

import datetime as dt

import dagster as dg
import polars as pl

from macro_assets.analytics.pit import as_of
from macro_assets.defs.derived.curves import (
    CURVE_KEY,
    FITTED_CURVES,
    build_fitted_curve,
    build_fitted_curve_check,
    fitted_at,
)
from macro_assets.defs.resources import EARLIEST, REPLAY_TAG
from macro_assets.warehouse import connect
from macro_assets_tests.defs.test_datasets import range_tags, resources, series_assets  # noqa: F401 (a fixture)

CURVES = {curve.name: curve for curve in FITTED_CURVES}
US = CURVES["derived.us_nominal_zero_nss"]
BR = CURVES["derived.br_nominal_zero_ns"]
DECEMBER = range_tags("2018-12-03", "2018-12-31")


def fitted_assets(curve):
    return [build_fitted_curve(curve), build_fitted_curve_check(curve)]


def test_a_re_published_curve_gives_its_date_a_new_fitted_vintage_and_as_of_is_the_refit(resources):  # noqa: F811
    with dg.instance_for_test() as instance:
        first_capture = {**DECEMBER, REPLAY_TAG: EARLIEST}
        inputs = series_assets("us_treasury.par_nominal")
        assert dg.materialize(inputs, resources=resources, instance=instance, tags=first_capture).success
        result = dg.materialize(fitted_assets(US), resources=resources, instance=instance, tags=DECEMBER)
        assert result.success and all(e.passed for e in result.get_asset_check_evaluations())
        with connect(resources["warehouse"].url) as warehouse:
            before = warehouse.curves.vintages(US.name, output="polars")
        # The later capture re-publishes 2018-12-14 (5Y, 7Y, 10Y +0.02).
        assert dg.materialize(inputs, resources=resources, instance=instance, tags=DECEMBER).success
        result = dg.materialize(fitted_assets(US), resources=resources, instance=instance, tags=DECEMBER)
        assert result.success and all(e.passed for e in result.get_asset_check_evaluations())

    with connect(resources["warehouse"].url) as warehouse:
        after = warehouse.curves.vintages(US.name, output="polars")
        source = warehouse.curves.vintages(US.input, "2018-12-03", "2018-12-31", output="polars")
    assert before["curve_date"].n_unique() == source["curve_date"].n_unique() >= 19  # every date fitted
    new = after.join(before, on=[*CURVE_KEY, "release_time"], how="anti")
    assert new["curve_date"].unique().to_list() == [dt.date(2018, 12, 14)]
    republished = source.filter(pl.col("curve_date") == dt.date(2018, 12, 14))["release_time"].max()
    assert (new["release_time"] == republished).all()
    latest = as_of(after, republished, id_column="curve_id", key_columns=CURVE_KEY)
    ten = latest.filter(pl.col("curve_date") == dt.date(2018, 12, 14), pl.col("point") == "10Y")["rate"].item()
    assert 2.7 < ten < 3.1  # a 10-year zero near the 2.9 % par yield of the day
    micro = dt.timedelta(microseconds=1)
    for instant in sorted({*source["release_time"].to_list(), republished - micro}):
        held = as_of(after, instant, id_column="curve_id", key_columns=CURVE_KEY).select(*CURVE_KEY, "rate")
        refit = fitted_at(US, source, instant).select(*CURVE_KEY, "rate")
        joined = held.join(refit, on=CURVE_KEY, how="full", coalesce=True, suffix="_refit")
        assert joined.height == held.height == refit.height, instant
        assert ((joined["rate"] - joined["rate_refit"]).abs().max() or 0.0) < 1e-9, instant


def test_the_brazilian_curve_fits_its_zero_coupon_bonds(resources):  # noqa: F811
    with dg.instance_for_test() as instance:
        assert dg.materialize(series_assets(BR.input), resources=resources, instance=instance, tags=DECEMBER).success
        result = dg.materialize(fitted_assets(BR), resources=resources, instance=instance, tags=DECEMBER)
        assert result.success and all(e.passed for e in result.get_asset_check_evaluations())
    with connect(resources["warehouse"].url) as warehouse:
        curve = warehouse.curves.latest(BR.name, output="polars")
    assert curve["curve_date"].n_unique() >= 15
    assert curve["rate"].is_between(4, 15).all()  # Brazil's nominal zeros in December 2018: 6.4 % to 12 %
