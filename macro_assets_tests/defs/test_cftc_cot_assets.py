"""CFTC Commitments of Traders through Dagster, offline: weekly partitions materialize with their checks, a report
is unknown until its Friday 15:30 New York release (the Monday after Thanksgiving week), and a correction CFTC
re-published is a new vintage dated at the later capture that first saw it."""

import datetime as dt

import dagster as dg

from macro_assets.defs.resources import REPLAY_TAG
from macro_assets.warehouse import connect
from macro_assets_tests.defs.test_datasets import range_tags, resources, series_assets  # noqa: F401

BRL = "cftc_cot.BRL_legacy"


def test_weekly_reports_are_unknown_until_their_release(resources, system_warehouse_url):  # noqa: F811
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            series_assets(BRL), resources=resources, instance=instance, tags=range_tags("2016-11-08", "2016-11-22")
        )
        assert result.success
        assert instance.get_materialized_partitions(series_assets(BRL)[0].key) == {
            "2016-11-08",
            "2016-11-15",
            "2016-11-22",
        }
        evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
        assert all(e.passed for e in evaluations.values())
        assert evaluations["positions_sum_to_open_interest"].metadata["checked_reports"].value == 3
    with connect(system_warehouse_url) as warehouse:
        read = warehouse.positions
        # Tuesday 15 Nov 2016 is released Friday 18 Nov at 15:30 EST (20:30 UTC).
        before = read.as_of(BRL, "2016-11-18T20:29:59Z", start="2016-11-15", end="2016-11-15")
        after = read.as_of(BRL, "2016-11-18T20:30:00Z", start="2016-11-15", end="2016-11-15")
        assert before.empty
        assert sorted(after["category"]) == ["commercial", "noncommercial", "nonreportable"]
        assert after["open_interest"].nunique() == 1
        # Thanksgiving week: the report of 22 Nov is not out on Friday 25 Nov, only on Monday 28 Nov.
        friday = read.as_of(BRL, "2016-11-25T21:00:00Z", start="2016-11-08")
        assert sorted(friday["report_date"].astype(str).unique()) == ["2016-11-08", "2016-11-15"]
        monday = read.as_of(BRL, "2016-11-28T20:30:00Z", start="2016-11-08")
        assert sorted(monday["report_date"].astype(str).unique()) == ["2016-11-08", "2016-11-15", "2016-11-22"]
        # Veterans Day (Friday 11 Nov) delayed the report of 8 Nov to Monday 14 Nov.
        assert read.first_release(BRL, "2016-11-08", "2016-11-08")["release_time"].iloc[0] == dt.datetime(
            2016, 11, 14, 20, 30, tzinfo=dt.UTC
        )


def test_a_correction_republished_later_is_a_new_vintage_at_the_capture_that_saw_it(
    resources,  # noqa: F811
    system_warehouse_url,
):
    with dg.instance_for_test() as instance:
        for replay in ("earliest", None):
            tags = range_tags("2018-06-05", "2018-06-12", **({REPLAY_TAG: replay} if replay else {}))
            result = dg.materialize(series_assets(BRL), resources=resources, instance=instance, tags=tags)
            assert result.success
            assert all(e.passed for e in result.get_asset_check_evaluations())
    with connect(system_warehouse_url) as warehouse:
        read = warehouse.positions
        vintages = read.vintages(BRL, "2018-06-12", "2018-06-12")
        commercial = vintages[vintages["category"] == "commercial"]
        assert commercial["release_basis"].tolist() == ["estimated", "observed"]
        assert commercial["release_time"].tolist() == [
            dt.datetime(2018, 6, 15, 19, 30, tzinfo=dt.UTC),  # Friday 15:30 EDT
            dt.datetime(2019, 2, 15, 12, tzinfo=dt.UTC),  # the later capture
        ]
        first, second = commercial["long"].tolist()
        assert second - first == 1500
        # Every category re-stored: the report's open interest, on each row, grew by 1,500.
        interest = vintages.groupby("category")["open_interest"].agg(lambda values: values.iloc[1] - values.iloc[0])
        assert len(vintages) == 6 and set(interest) == {1500}
        assert read.as_of(BRL, "2019-01-31", start="2018-06-12", end="2018-06-12")["open_interest"].iloc[0] == (
            read.as_of(BRL, "2019-02-16", start="2018-06-12", end="2018-06-12")["open_interest"].iloc[0] - 1500
        )
        # The week before was re-fetched unchanged: no vintage added.
        assert len(read.vintages(BRL, "2018-06-05", "2018-06-05")) == 3
