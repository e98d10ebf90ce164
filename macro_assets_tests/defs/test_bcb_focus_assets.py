"""A Focus dataset through Dagster offline: weekly partitions of survey dates materialize from the recordings
with passing checks, and a point-in-time read sees a survey only from the Monday report that published it (a
Carnival week included)."""

import datetime as dt

import dagster as dg

from macro_assets.warehouse import connect
from macro_assets_tests.defs.test_datasets import range_tags, resources, series_assets, series_key  # noqa: F401

IPCA = "bcb_focus.IPCA_annual"


def newest_survey(warehouse, as_of: dt.datetime) -> dt.date:
    return max(warehouse.expectations.as_of(IPCA, as_of=as_of)["survey_date"].dt.date)


def test_focus_weeks_materialize_and_surveys_appear_with_their_report(resources, system_warehouse_url):  # noqa: F811
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            series_assets(IPCA), resources=resources, instance=instance, tags=range_tags("2018-02-02", "2018-02-16")
        )
        assert result.success
        events = result.get_asset_materialization_events()
        by_partition = {e.partition: e.materialization.metadata for e in events if e.asset_key == series_key(IPCA)}
        # Each Friday-to-Thursday partition holds its Friday survey: 4 years ahead, both bases.
        assert {key: meta["rows_offered"].value for key, meta in by_partition.items()} == {
            "2018-02-02": 8,
            "2018-02-09": 8,
            "2018-02-16": 8,
        }
        newest = by_partition["2018-02-16"]
        assert newest["records_fetched"].value == 1200  # the year's two pages
        assert newest["release_basis"].value == "vintage"
        evaluations = result.get_asset_check_evaluations()
        assert len(evaluations) == 4 and all(e.passed for e in evaluations)

    with connect(system_warehouse_url) as warehouse:
        stored = warehouse.expectations.as_of(IPCA, start="2018-02-01", end="2018-02-28")
        assert sorted(set(stored["survey_date"].dt.date)) == [
            dt.date(2018, 2, 2),
            dt.date(2018, 2, 9),
            dt.date(2018, 2, 16),
        ]
        # Friday 9 Feb: Carnival Monday and Tuesday are holidays, so Ash Wednesday 08:25 BRST (UTC-2).
        assert newest_survey(warehouse, dt.datetime(2018, 2, 14, 10, 24, tzinfo=dt.UTC)) == dt.date(2018, 2, 2)
        assert newest_survey(warehouse, dt.datetime(2018, 2, 14, 10, 26, tzinfo=dt.UTC)) == dt.date(2018, 2, 9)
        # Friday 16 Feb: Monday 19 Feb 08:25 BRT (UTC-3), summer time having ended on the Sunday.
        assert newest_survey(warehouse, dt.datetime(2018, 2, 19, 11, 24, tzinfo=dt.UTC)) == dt.date(2018, 2, 9)
        assert newest_survey(warehouse, dt.datetime(2018, 2, 19, 11, 26, tzinfo=dt.UTC)) == dt.date(2018, 2, 16)
        known = warehouse.expectations.as_of(IPCA, as_of="2018-02-19T11:26:00Z", start="2018-02-16")
        assert known.sort_values(["reference", "calculation_basis"])[
            ["reference", "calculation_basis"]
        ].values.tolist() == [[year, basis] for year in ("2018", "2019", "2020", "2021") for basis in (0, 1)]
        assert (known["minimum"] <= known["median"]).all() and (known["median"] <= known["maximum"]).all()
        assert (known["respondents"] > 0).all()
