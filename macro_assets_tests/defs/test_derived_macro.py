"""The macro derived assets through Dagster on the offline recordings: the IPCA diffusion indexes and trimmed-mean
core from the SIDRA components and the IPCA surprise against Focus are stored as vintages, so that as of every
instant T (before, between and after revisions and withdrawals, at each release and one microsecond before it)
the stored series is f applied to its inputs as the warehouse knew them at T."""

import datetime as dt

import dagster as dg
import polars as pl
import pytest

from macro_assets.analytics import macro, pit
from macro_assets.defs.derived.macro import (
    IPCA_COMPONENTS,
    MACRO_SERIES,
    ComponentSeries,
    build_macro_check,
    build_macro_series,
)
from macro_assets.shapes import INDEX_COMPONENTS, OBSERVATIONS
from macro_assets.warehouse import connect
from macro_assets_tests.defs.test_datasets import range_tags, resources, series_assets

__all__ = ["resources"]  # the fixture, imported for pytest

SERIES = {series.name: series for series in MACRO_SERIES}
COMPONENT_SERIES = [series for series in MACRO_SERIES if isinstance(series, ComponentSeries)]
SURPRISE = SERIES["derived.ipca_surprise"]
MONTHS_2018 = range_tags("2018-01-01", "2018-12-01")
COMPONENT_MONTHS = range_tags("2018-04-01", "2018-08-01")  # around the revision and the withdrawal
MICROSECOND = dt.timedelta(microseconds=1)
# Injected after the first derived run, each at its own instant (revise_june_and_withdraw_from_july).
REVISED_AT = dt.datetime(2018, 8, 1, 12, tzinfo=dt.UTC)
WITHDRAWN_AT = dt.datetime(2018, 9, 3, 12, 0, 0, 1, tzinfo=dt.UTC)


def macro_assets(*series):
    return [d for s in series for d in (build_macro_series(s), build_macro_check(s))]


def boundaries(release_times) -> list[dt.datetime]:
    """Every release instant, the microsecond before it, and one instant before all and one after all."""
    released = sorted(set(release_times))
    around = [t + offset for t in released for offset in (-MICROSECOND, dt.timedelta(0))]
    return [released[0] - dt.timedelta(days=30), *around, released[-1] + dt.timedelta(days=365)]


def assert_equal_on_dates(held: pl.DataFrame, expected: pl.DataFrame, instant) -> None:
    held, expected = held.sort("obs_date"), expected.sort("obs_date")
    assert held["obs_date"].to_list() == expected["obs_date"].to_list(), instant
    assert ((held["value"] - expected["value"]).abs().max() or 0.0) < 1e-9, instant


def subitem(warehouse, month: dt.date) -> dict:
    rows = warehouse.index_components.as_of(IPCA_COMPONENTS, start=month, end=month, output="polars")
    return rows.filter(pl.col("level") == "subitem").sort("component").row(0, named=True)


def revise_june_and_withdraw_from_july(warehouse) -> None:
    """The revision flips June 2018's first subitem from rising to falling (or back); the withdrawal takes July's
    first subitem out of its month."""
    june, july = subitem(warehouse, dt.date(2018, 6, 1)), subitem(warehouse, dt.date(2018, 7, 1))
    revised = {**june, "value": -june["value"] if june["value"] else 1.0, "release_time": REVISED_AT}
    withdrawn = {**july, "value": None, "weight": None, "name": None, "level": None, "release_time": WITHDRAWN_AT}
    changes = pl.DataFrame([revised, withdrawn]).with_columns(release_basis=pl.lit("observed"))
    assert warehouse.pipeline.append(INDEX_COMPONENTS, changes).added == 2


def derive_components_around_a_revision(resources, instance):
    """The components of April to August 2018 and their derived series materialized, then the revision and the
    withdrawal appended and the derived series materialized again; the derived diffusion's vintages before the
    second run."""
    inputs = series_assets(IPCA_COMPONENTS)
    assert dg.materialize(inputs, resources=resources, instance=instance, tags=COMPONENT_MONTHS).success
    derived = macro_assets(*COMPONENT_SERIES)
    result = dg.materialize(derived, resources=resources, instance=instance, tags=COMPONENT_MONTHS)
    assert result.success and all(e.passed for e in result.get_asset_check_evaluations())
    newest = result.asset_materializations_for_node("derived__ipca_diffusion")[-1].metadata
    assert newest["chart"].value.startswith("![derived.ipca_diffusion](data:image/png;base64,")
    assert [c.name for c in newest["preview"].value.schema.columns][:2] == ["obs_date", "value"]
    with connect(resources["warehouse"].url) as warehouse:
        before = warehouse.observations.vintages("derived.ipca_diffusion", output="polars")
        revise_june_and_withdraw_from_july(warehouse)
    result = dg.materialize(derived, resources=resources, instance=instance, tags=COMPONENT_MONTHS)
    assert result.success and all(e.passed for e in result.get_asset_check_evaluations())
    return before


def assert_component_series_keep_the_rule(warehouse, instants) -> None:
    """As of each instant, every component series stored equals f on the components the reader gives as of it."""
    for series in COMPONENT_SERIES:
        stored = warehouse.observations.vintages(series.name, output="polars")
        for instant in instants:
            known = warehouse.index_components.as_of(IPCA_COMPONENTS, as_of=instant, output="polars")
            expected = series.derivation.derivation.computed(known)
            assert_equal_on_dates(pit.as_of(stored, instant).select("obs_date", "value"), expected, instant)


def test_component_derived_series_keep_the_rule_through_a_revision_and_a_withdrawal(resources):
    with dg.instance_for_test() as instance:
        before = derive_components_around_a_revision(resources, instance)

    with connect(resources["warehouse"].url) as warehouse:
        after = warehouse.observations.vintages("derived.ipca_diffusion", output="polars")
        new = after.join(before, on=["obs_date", "release_time"], how="anti")
        # June gains a vintage at the revision, July one at the withdrawal; nothing else, nothing overwritten.
        assert new.select("obs_date", "release_time").rows() == [
            (dt.date(2018, 6, 1), REVISED_AT),
            (dt.date(2018, 7, 1), WITHDRAWN_AT),
        ]
        assert before.height + new.height == after.height
        just_before = warehouse.observations.as_of("derived.ipca_diffusion", REVISED_AT - MICROSECOND, "2018-06-01")
        at_revision = warehouse.observations.as_of("derived.ipca_diffusion", REVISED_AT, "2018-06-01")
        assert just_before["value"].iloc[0] != at_revision["value"].iloc[0]

        # One backfill over the inputs as they are now reconstructs the history the two runs stored.
        now = dt.datetime.now(dt.UTC)
        for series in COMPONENT_SERIES:
            columns = ["obs_date", "value", "release_time"]
            backfilled = series.vintages(series.read(warehouse, now), now).select(columns)
            stored = warehouse.observations.vintages(series.name, output="polars").select(columns)
            assert backfilled.sort("obs_date", "release_time").equals(stored), series.name

        components = warehouse.index_components.vintages(IPCA_COMPONENTS, output="polars")
        instants = boundaries(components["release_time"].to_list())
        assert_component_series_keep_the_rule(warehouse, instants)
        # 5 monthly releases, the revision and the withdrawal, each at and 1 µs before, and one before and after all.
        assert len(instants) == 16


@pytest.fixture
def surprise_inputs(resources):
    """IPCA (SGS 433) for 2018 and the weekly Focus IPCA monthly surveys from December 2017, materialized."""
    with dg.instance_for_test() as instance:
        actual = series_assets("bcb_sgs.433")
        assert dg.materialize(actual, resources=resources, instance=instance, tags=MONTHS_2018).success
        weeks = range_tags("2017-12-01", "2018-12-21")
        assert dg.materialize(
            series_assets("bcb_focus.IPCA_monthly"), resources=resources, instance=instance, tags=weeks
        ).success
        yield instance


def test_the_surprise_is_the_first_release_minus_the_survey_known_before_it(resources, surprise_inputs):
    instance = surprise_inputs
    result = dg.materialize(macro_assets(SURPRISE), resources=resources, instance=instance, tags=MONTHS_2018)
    assert result.success and all(e.passed for e in result.get_asset_check_evaluations())
    with connect(resources["warehouse"].url) as warehouse:
        # A revision of a month already out changes nothing: the surprise is of the first release.
        may = warehouse.observations.as_of("bcb_sgs.433", start="2018-05-01", end="2018-05-01", output="polars")
        revision = may.with_columns(
            value=pl.col("value") + 0.1, release_time=pl.lit(REVISED_AT), release_basis=pl.lit("observed")
        )
        assert warehouse.pipeline.append(OBSERVATIONS, revision).added == 1
        before = warehouse.observations.vintages(SURPRISE.name, output="polars")
    result = dg.materialize(macro_assets(SURPRISE), resources=resources, instance=instance, tags=MONTHS_2018)
    assert result.success and all(e.passed for e in result.get_asset_check_evaluations())

    with connect(resources["warehouse"].url) as warehouse:
        stored = warehouse.observations.vintages(SURPRISE.name, output="polars")
        assert stored.equals(before) and stored.height == 12  # one vintage a month, none added by the revision
        actual = warehouse.observations.vintages("bcb_sgs.433", output="polars")
        surveys = warehouse.expectations.vintages("bcb_focus.IPCA_monthly", output="polars")
        first = actual.sort("obs_date", "release_time").unique("obs_date", keep="first").sort("obs_date")
        assert stored["release_time"].to_list() == first["release_time"].to_list()
        # By hand for January 2018: the last survey of "01/2018" whose report was out before IPCA's release.
        january = first.row(0, named=True)
        median = (
            surveys.filter(pl.col("reference") == "01/2018", pl.col("release_time") < january["release_time"])
            .sort("release_time", "survey_date")
            .row(-1, named=True)["median"]
        )
        assert stored["value"][0] == pytest.approx(january["value"] - median)

        instants = boundaries([*actual["release_time"].to_list(), *surveys["release_time"].to_list()])
        for instant in instants:
            released = warehouse.observations.first_release("bcb_sgs.433", as_of=instant, output="polars")
            known = warehouse.expectations.vintages("bcb_focus.IPCA_monthly", as_of=instant, output="polars")
            expected = macro.surprises(released, known).drop_nulls("surprise").select("obs_date", value="surprise")
            assert_equal_on_dates(pit.as_of(stored, instant).select("obs_date", "value"), expected, instant)
        # 13 releases of IPCA (12 months, the revision) and 56 weekly Focus reports, each at and 1 µs before, + 2.
        assert len(instants) == 140
