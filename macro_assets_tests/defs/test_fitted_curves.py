"""Fitted curves and breakevens through Dagster, and THE RULE: for a set of instants T (every input release, a
microsecond and a second before each, before and after a re-published curve), what the warehouse holds as of T is
the fit of the input curve as known at T (read with the curves reader's own as_of), and the breakeven is the two
fits' difference as of T."""

import datetime as dt

import dagster as dg
import numpy as np
import polars as pl

from macro_assets.analytics import curves
from macro_assets.defs.derived.curves import (
    BREAKEVENS,
    FITTED,
    PERCENT,
    build_breakeven,
    build_breakeven_check,
    build_fitted_curve,
    build_fitted_curve_checks,
    fit_states,
    tenor_label,
)
from macro_assets.defs.resources import EARLIEST, REPLAY_TAG
from macro_assets.shapes import OBSERVATIONS
from macro_assets.warehouse import connect
from macro_assets_tests.defs.test_datasets import range_tags, resources, series_assets  # noqa: F401 (a fixture)

DECEMBER = range_tags("2018-12-03", "2018-12-31")  # the input curves' business-day partitions
DECEMBER_MONTH = range_tags("2018-12-01", "2018-12-01")  # the fitted curves' monthly partition
REPUBLISHED = dt.date(2018, 12, 14)  # the later Treasury capture revises its 5, 7 and 10-year par yields
BREAKEVEN = {breakeven.code: breakeven for breakeven in BREAKEVENS}
TIGHT = 1e-10


def derived_assets(breakeven):
    fitted = [breakeven.nominal, breakeven.real]
    return [
        *(build_fitted_curve(curve) for curve in fitted),
        *(build_fitted_curve_checks(curve) for curve in fitted),
        build_breakeven(breakeven),
        build_breakeven_check(breakeven),
    ]


def materialize(assets, resources, instance, window=DECEMBER_MONTH, **tags):  # noqa: F811
    result = dg.materialize(assets, resources=resources, instance=instance, tags={**window, **tags})
    assert result.success
    return result


def assert_checks_passed(result) -> None:
    failed = {
        f"{e.asset_key.to_user_string()}:{e.check_name}": {k: v.value for k, v in e.metadata.items()}
        for e in result.get_asset_check_evaluations()
        if not e.passed
    }
    assert not failed, failed


def fit_known_at(warehouse, curve, instant) -> pl.DataFrame:
    """The curve's fit at its tenors (within each date's span), from the input as the reader returns it as of T."""
    known = warehouse.curves.as_of(curve.input, as_of=instant, start="2018-12-03", end="2018-12-31", output="polars")
    points = curve.zero_points(known.with_columns(curve_id=pl.lit(curve.name)))
    params = curves.fit_curves_by_point_count(points, curve.model)
    spans = points.group_by("curve_date").agg(shortest=pl.col("tenor").min(), longest=pl.col("tenor").max())
    zeros = curves.zero_rates(params.filter(pl.col("status") == curves.FITTED), curve.tenors).join(
        spans, on="curve_date"
    )
    within = zeros.filter(pl.col("tenor").is_between(pl.col("shortest") - 1e-9, pl.col("longest") + 1e-9))
    return within.select(
        "curve_date",
        point=pl.col("tenor").map_elements(tenor_label, return_dtype=pl.String),
        rate=pl.col("zero_rate") * PERCENT,
    ).with_columns(rmse_bp=pl.col("curve_date").replace_strict(params["curve_date"], params["rmse"] * 1e4))


def assert_equal_points(held: pl.DataFrame, expected: pl.DataFrame, instant) -> None:
    key = ["curve_date", "point"]
    joined = held.select(*key, "rate").join(expected.select(*key, "rate"), on=key, how="full", coalesce=True)
    assert joined.height == held.height == expected.height, instant
    assert ((joined["rate"] - joined["rate_right"]).abs().max() or 0.0) < TIGHT, instant


def assert_the_rule_holds(warehouse, breakeven, instants) -> int:
    """Checks every instant and returns how many comparisons of a whole stored curve (or series) were made."""
    compared = 0
    for instant in instants:
        fits = {}
        for curve in (breakeven.nominal, breakeven.real):
            expected = fits[curve.code] = fit_known_at(warehouse, curve, instant)
            if expected.is_empty():
                assert (
                    f"{curve.name}.zero" not in warehouse.curves.list()
                    or warehouse.curves.as_of(f"{curve.name}.zero", as_of=instant, output="polars").is_empty()
                )
                continue
            held = warehouse.curves.as_of(f"{curve.name}.zero", as_of=instant, output="polars")
            assert_equal_points(held, expected, instant)
            rmse = warehouse.observations.as_of(f"{curve.name}.rmse_bp", as_of=instant, output="polars")
            by_date = expected.unique("curve_date").sort("curve_date")
            assert rmse["obs_date"].to_list() == by_date["curve_date"].to_list(), instant
            assert np.allclose(rmse["value"].to_numpy(), by_date["rmse_bp"].to_numpy(), rtol=0, atol=TIGHT), instant
            compared += 2
        nominal, real = fits[breakeven.nominal.code], fits[breakeven.real.code]
        expected = nominal.join(real, on=["curve_date", "point"]).select(
            "curve_date", "point", rate=pl.col("rate") - pl.col("rate_right")
        )
        held = (
            warehouse.curves.as_of(breakeven.name, as_of=instant, output="polars")
            if breakeven.name in warehouse.curves.list()
            else expected.clear()
        )
        assert_equal_points(held, expected, instant)
        compared += 1
    return compared


def instants_around(releases: list[dt.datetime]) -> list[dt.datetime]:
    """Every release instant, a microsecond and a second before it, and the day before the first."""
    step, second = dt.timedelta(microseconds=1), dt.timedelta(seconds=1)
    return sorted(
        {releases[0] - dt.timedelta(days=1), *releases, *(r - step for r in releases), *(r - second for r in releases)}
    )


def test_a_re_published_curve_gives_its_date_new_fitted_vintages_and_the_rule_holds(resources):  # noqa: F811
    us = BREAKEVEN["us_breakeven"]
    inputs = series_assets(us.nominal.input, us.real.input)
    with dg.instance_for_test() as instance:
        materialize(inputs, resources, instance, DECEMBER, **{REPLAY_TAG: EARLIEST})
        first = materialize(derived_assets(us), resources, instance)
        assert_checks_passed(first)
        assert len(first.get_asset_check_evaluations()) == 5  # two per fitted curve, one for the breakeven
        with connect(resources["warehouse"].url) as warehouse:
            before = warehouse.curves.vintages(f"{us.nominal.name}.zero", output="polars")
            breakeven_before = warehouse.curves.vintages(us.name, output="polars")
        materialize(inputs, resources, instance, DECEMBER)  # the later capture re-publishes 2018-12-14
        again = materialize(derived_assets(us), resources, instance)
        assert_checks_passed(again)
        metadata = again.asset_materializations_for_node("derived__us_nominal_nss")[-1].metadata
        assert metadata["chart"].value.startswith("![derived.us_nominal_nss](data:image/png;base64,")

    with connect(resources["warehouse"].url) as warehouse:
        after = warehouse.curves.vintages(f"{us.nominal.name}.zero", output="polars")
        breakeven_after = warehouse.curves.vintages(us.name, output="polars")
        source = warehouse.curves.vintages(us.nominal.input, output="polars")
        republished = source.filter(pl.col("curve_date") == REPUBLISHED)["release_time"].max()
        # Only the re-published date gains vintages (its fitted zeros and its breakevens), released with it.
        new = after.join(before, on=["curve_date", "point", "release_time"], how="anti")
        assert new["curve_date"].unique().to_list() == [REPUBLISHED] and (new["release_time"] == republished).all()
        assert new.height == len(us.nominal.tenors)
        new_breakevens = breakeven_after.join(breakeven_before, on=["curve_date", "point", "release_time"], how="anti")
        assert new_breakevens["curve_date"].unique().to_list() == [REPUBLISHED]
        assert (new_breakevens["release_time"] == republished).all()
        ten = after.filter(pl.col("curve_date") == REPUBLISHED, pl.col("point") == "10Y").sort("release_time")
        assert ten["rate"][1] - ten["rate"][0] > 0.01  # the 10-year par yield rose 2 bp: so did its zero
        releases = sorted(
            {
                *source["release_time"].to_list(),
                *warehouse.curves.vintages(us.real.input, output="polars")["release_time"].to_list(),
            }
        )
        instants = instants_around(releases)
        assert republished in instants and republished - dt.timedelta(microseconds=1) in instants
        compared = assert_the_rule_holds(warehouse, us, instants)
    # Two fitted curves (zero rates and rmse) and the breakeven at each instant; before the first release (the
    # day before, a second and a microsecond before) only the breakeven's emptiness is compared.
    assert len(instants) >= 60 and compared == 5 * (len(instants) - 3) + 3


def test_brazil_fits_both_curves_with_both_models_and_a_tampered_store_fails_its_check(resources):  # noqa: F811
    br = BREAKEVEN["br_breakeven"]
    ns = [FITTED["br_nominal_ns"], FITTED["br_real_ns"]]
    ns_assets = [*(build_fitted_curve(curve) for curve in ns), *(build_fitted_curve_checks(curve) for curve in ns)]
    with dg.instance_for_test() as instance:
        materialize(series_assets(br.nominal.input, br.real.input), resources, instance, DECEMBER)
        result = materialize([*derived_assets(br), *ns_assets], resources, instance)
        evaluations = {e.check_name + "@" + e.asset_key.path[-1]: e for e in result.get_asset_check_evaluations()}
        assert len(evaluations) == 9 and all(e.passed for e in evaluations.values())
        for curve in (br.nominal, *ns):
            bounds = evaluations[f"fits_within_bounds@{curve.code}"].metadata
            assert 0 < bounds["rmse_bp_max"].value < curve.rmse_bound_bp
        with connect(resources["warehouse"].url) as warehouse:
            source = warehouse.curves.vintages(br.nominal.input, output="polars")
            assert_the_rule_holds(warehouse, br, instants_around(sorted(source["release_time"].unique().to_list())))
            real = warehouse.curves.latest(f"{br.real.name}.zero", output="polars")
            assert real["rate"].is_between(4, 8).all()  # IPCA+ zeros of late 2018
            breakevens = warehouse.curves.latest(br.name, output="polars")
            # The longest NTN-F (2029) is 9.9 years out on du/252: no 10-year nominal zero, so no 10-year breakeven.
            assert breakevens["point"].unique().sort().to_list() == ["5Y", "7Y"]
            assert breakevens["rate"].is_between(2, 8).all()
            # NS and NSS fit the same points: their zero curves agree to within a few fit errors.
            for nss, ns_curve in ((br.nominal, ns[0]), (br.real, ns[1])):
                zeros = [warehouse.curves.latest(f"{c.name}.zero", output="polars") for c in (nss, ns_curve)]
                both = zeros[0].join(zeros[1], on=["curve_date", "point"])
                assert both.height == zeros[0].height
                assert (both["rate"] - both["rate_right"]).abs().max() < 0.25  # % (25 bp)
            stored = warehouse.observations.list()
            assert "derived.br_nominal_ns.tau1" in stored and "derived.br_nominal_ns.beta3" not in stored
            # A vintage no state of its input gives: the refit check must see it.
            stray = warehouse.observations.latest(f"{br.nominal.name}.beta0", output="polars").tail(1)
            warehouse.pipeline.append(
                OBSERVATIONS,
                stray.with_columns(
                    value=pl.col("value") + 1, release_time=pl.col("release_time") + dt.timedelta(hours=1)
                ),
            )
            states = fit_states(br.nominal, source)
            assert (states["status"] == curves.FITTED).all()
        checked = dg.materialize(derived_assets(br), resources=resources, instance=instance, tags=DECEMBER_MONTH)
        failed = [e.check_name for e in checked.get_asset_check_evaluations() if not e.passed]
        assert failed == ["states_equal_their_refit"]
