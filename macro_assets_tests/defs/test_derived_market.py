"""Market and statistics derived series through Dagster: returns, volatility, drawdown, a return correlation and a
percentile rank stored as vintages from the recorded PTAX, WTI and 10-year yield, checked by their assets' checks,
and the rule stated directly at instants around a revision, a withdrawal and input releases to the second."""

import datetime as dt

import dagster as dg
import polars as pl

from macro_assets.analytics import pit
from macro_assets.definitions import defs
from macro_assets.defs.derived.market import MARKET_SERIES, PTAX, build_windows_filled_check
from macro_assets.defs.derived.series import build_derived_check, build_derived_series
from macro_assets.shapes import OBSERVATIONS
from macro_assets.warehouse import connect
from macro_assets_tests.defs.test_datasets import range_tags, resources, series_assets  # noqa: F401 (a fixture)
from macro_assets_tests.defs.test_derived_series import assert_the_rule_holds

SERIES = {series.derivation.name: series for series in MARKET_SERIES}
# The inputs over a year and a half, so that the 252-observation windows fill by mid-2018; the derived series over
# the last four months (a derived date reads its window's inputs whatever the partitions materialized).
INPUT_RANGE = range_tags("2017-07-03", "2018-12-31")
DERIVED_RANGE = range_tags("2018-09-03", "2018-12-31")
REVISED_DATE = dt.date(2018, 10, 1)
WITHDRAWN_DATE = dt.date(2018, 11, 1)
REVISED_AT = dt.datetime(2019, 1, 15, 12, 0, tzinfo=dt.UTC)
WITHDRAWN_AT = REVISED_AT + dt.timedelta(seconds=1)
SECOND = dt.timedelta(seconds=1)
MICROSECOND = dt.timedelta(microseconds=1)
PTAX_READERS = ("derived.ptax_return", "derived.ptax_log_return", "derived.ptax_vol21", "derived.ptax_wti_corr63")


def market_assets(names=tuple(SERIES)):
    return [
        definition
        for name in names
        for definition in (
            build_derived_series(SERIES[name]),
            build_derived_check(SERIES[name]),
            build_windows_filled_check(SERIES[name]),
        )
    ]


def materialize_with_passing_checks(assets, resources, instance):  # noqa: F811
    result = dg.materialize(assets, resources=resources, instance=instance, tags=DERIVED_RANGE)
    evaluations = result.get_asset_check_evaluations()
    assert result.success and evaluations and all(e.passed for e in evaluations), [
        (e.asset_key, e.check_name, e.metadata) for e in evaluations if not e.passed
    ]


def ptax_changes(url):
    """A revision of one PTAX fixing (2 % higher) and the withdrawal of another one second later, released after
    the recordings."""
    with connect(url) as warehouse:
        old = warehouse.observations.latest(PTAX, REVISED_DATE, REVISED_DATE)["value"].iloc[0]
        rows = pl.DataFrame(
            {
                "series_id": [PTAX, PTAX],
                "obs_date": [REVISED_DATE, WITHDRAWN_DATE],
                "value": [old * 1.02, None],
                "release_time": [REVISED_AT, WITHDRAWN_AT],
                "release_basis": ["vintage", "vintage"],
            },
            schema_overrides={"value": pl.Float64},
        )
        assert warehouse.pipeline.append(OBSERVATIONS, rows).added == 2


def instants_around(warehouse, series) -> list[dt.datetime]:
    """One second before, at and one second after every release of the series' inputs since late September 2018,
    a microsecond before the revision and the withdrawal, and the start of the derived range."""
    inputs = warehouse.observations.vintages(list(series.derivation.inputs), start="2018-09-24", output="polars")
    released = set(inputs["release_time"].to_list())
    return sorted(
        {
            dt.datetime(2018, 9, 3, tzinfo=dt.UTC),
            *(t + offset for t in released for offset in (-SECOND, dt.timedelta(0), SECOND)),
            *(t - MICROSECOND for t in (REVISED_AT, WITHDRAWN_AT)),
        }
    )


def test_market_series_keep_the_rule_across_a_revision_and_a_withdrawal_of_their_input(resources):  # noqa: F811
    url = resources["warehouse"].url
    with dg.instance_for_test() as instance:
        inputs = series_assets(PTAX, "fred.DCOILWTICO", "fred.DGS10")
        assert dg.materialize(inputs, resources=resources, instance=instance, tags=INPUT_RANGE).success
        materialize_with_passing_checks(market_assets(), resources, instance)
        with connect(url) as warehouse:
            before = {name: warehouse.observations.vintages(name, output="polars") for name in SERIES}
        ptax_changes(url)
        materialize_with_passing_checks(market_assets(PTAX_READERS), resources, instance)

    with connect(url) as warehouse:
        after = {name: warehouse.observations.vintages(name, output="polars") for name in PTAX_READERS}
        fixings = warehouse.observations.vintages(PTAX, output="polars")["obs_date"].unique().sort()
        for name, vintages in after.items():
            new = vintages.join(before[name], on=["obs_date", "release_time"], how="anti")
            assert new.height and before[name].height + new.height == vintages.height  # nothing overwritten
            # Released with the change that caused it, only on dates whose window read a changed fixing: from
            # the revised date to the last date whose window reached back to the withdrawn one.
            assert set(new["release_time"].to_list()) <= {REVISED_AT, WITHDRAWN_AT}
            last_reader = fixings.search_sorted(WITHDRAWN_DATE) + SERIES[name].derivation.window.count - 1
            assert (
                REVISED_DATE
                == new["obs_date"].min()
                <= new["obs_date"].max()
                <= fixings[min(last_reader, fixings.len() - 1)]
            )
        # The return of the revised date as of a microsecond before the revision and at it.
        returns = after["derived.ptax_return"]
        revised = returns.filter(pl.col("obs_date") == REVISED_DATE)
        first, second = (pit.as_of(revised, t)["value"][0] for t in (REVISED_AT - MICROSECOND, REVISED_AT))
        assert abs(second - ((1 + first) * 1.02 - 1)) < 1e-12
        withdrawn = returns.filter(pl.col("obs_date") == WITHDRAWN_DATE).sort("release_time")
        assert withdrawn["release_time"][-1] == WITHDRAWN_AT and withdrawn["value"][-1] is None
        assert pit.as_of(withdrawn, WITHDRAWN_AT - MICROSECOND).height == 1
        assert pit.as_of(withdrawn, WITHDRAWN_AT).is_empty()

        compared = 0
        for series in MARKET_SERIES:
            instants = instants_around(warehouse, series)
            assert_the_rule_holds(warehouse, series, instants)
            compared += len(instants)
        assert compared > 700


def test_each_market_series_reads_its_inputs_updates_with_them_and_has_both_checks():
    graph = defs.resolve_asset_graph()
    for series in MARKET_SERIES:
        node = graph.get(series.key)
        assert node.group_name == "derived" and node.automation_condition is not None
        assert {key.to_user_string() for key in node.parent_keys} == {
            dataset_id.replace(".", "/") for dataset_id in series.derivation.inputs
        }
        checks = {check.name for check in graph.get_check_keys_for_assets([series.key])}
        assert checks == {"as_of_equals_recomputation", "windows_filled_and_finite"}
