"""The revision report through Dagster: each day of release lists what the derived assets' inputs released that
day changed (old -> new, delta) and which derived series gained vintages because of it, as a Markdown table on the
day's materialization; reported as of an instant, it lists only what was out by then, and the derived series it
points at are, as of each side of the revision, f of their inputs as known then."""

import datetime as dt

import dagster as dg
import polars as pl

from macro_assets.defs.derived.revisions import build_derived_revision_report
from macro_assets.defs.io_managers import AS_OF_TAG
from macro_assets.warehouse import connect
from macro_assets_tests.defs.test_datasets import range_tags, resources
from macro_assets_tests.defs.test_derived_macro import (
    COMPONENT_SERIES,
    IPCA_COMPONENTS,
    MICROSECOND,
    REVISED_AT,
    WITHDRAWN_AT,
    assert_component_series_keep_the_rule,
    derive_components_around_a_revision,
)

__all__ = ["resources"]  # the fixture, imported for pytest

JUNE_RELEASE_DAY = "2018-07-10"  # June 2018's components are out on 10 July at 12:00 UTC


def report_metadata(result: dg.ExecuteInProcessResult) -> dict[str, dict]:
    return {e.partition: e.materialization.metadata for e in result.get_asset_materialization_events()}


def test_a_day_s_report_lists_its_revisions_and_the_derived_vintages_they_caused(resources):
    report = build_derived_revision_report()
    with dg.instance_for_test() as instance:
        derive_components_around_a_revision(resources, instance)
        days = range_tags(JUNE_RELEASE_DAY, WITHDRAWN_AT.date().isoformat())
        result = dg.materialize([report], resources=resources, instance=instance, tags=days)
        assert result.success
        by_day = report_metadata(result)
        # A day of both a revision report and its "as of one microsecond before" twin: only what was out by then.
        before = dg.materialize(
            [report],
            resources=resources,
            instance=instance,
            partition_key=REVISED_AT.date().isoformat(),
            tags={AS_OF_TAG: (REVISED_AT - MICROSECOND).isoformat()},
        )
        assert before.success

    with connect(resources["warehouse"].url) as warehouse:
        components = warehouse.index_components.vintages(IPCA_COMPONENTS, output="polars")
        derived = pl.concat(
            [warehouse.observations.vintages(series.name, output="polars") for series in COMPONENT_SERIES]
        )
        june = components.filter(pl.col("release_time") < REVISED_AT, pl.col("obs_date") == dt.date(2018, 6, 1))
        revised = components.filter(pl.col("release_time") == REVISED_AT).row(0, named=True)
        old = june.filter(pl.col("component") == revised["component"])["value"][0]
        assert_component_series_keep_the_rule(warehouse, [REVISED_AT - MICROSECOND, REVISED_AT])

    def gained_at(instant: dt.datetime) -> int:
        return derived.filter(pl.col("release_time") == instant).height

    # The day June came out: 134 first releases, no revision, and every component series' June value.
    release_day = by_day[JUNE_RELEASE_DAY]
    june_released = june["release_time"][0]
    assert (release_day["input_vintages"].value, release_day["revisions"].value) == (june.height, 0)
    assert release_day["derived_vintages"].value == gained_at(june_released) == len(COMPONENT_SERIES)
    assert f"{IPCA_COMPONENTS} | {june.height} | 0 | 0" in release_day["report"].value

    # The revision's day: the one revised subitem, old -> new and delta, and the derived vintages released with it.
    revision_day = by_day[REVISED_AT.date().isoformat()]
    assert (revision_day["input_vintages"].value, revision_day["revisions"].value) == (1, 1)
    assert revision_day["derived_vintages"].value == gained_at(REVISED_AT) > 0
    row = (
        f"| {REVISED_AT.isoformat(sep=' ')} | {IPCA_COMPONENTS} | 2018-06-01 {revised['component']} | revised | "
        f"{old:.6g} | {revised['value']:.6g} | {revised['value'] - old:.6g} |"
    )
    assert row in revision_day["report"].value
    assert f"derived.ipca_diffusion | 1 | 2018-06-01 | 2018-06-01 | {IPCA_COMPONENTS}" in revision_day["report"].value

    withdrawal_day = by_day[WITHDRAWN_AT.date().isoformat()]
    assert (withdrawal_day["withdrawals"].value, withdrawal_day["derived_vintages"].value) == (
        1,
        gained_at(WITHDRAWN_AT),
    )
    # A day with nothing released has counts and no table; one microsecond before the revision, its day is empty.
    assert by_day["2018-07-20"]["input_vintages"].value == 0 and "report" not in by_day["2018-07-20"]
    (quiet,) = report_metadata(before).values()
    assert (quiet["input_vintages"].value, quiet["derived_vintages"].value) == (0, 0)
