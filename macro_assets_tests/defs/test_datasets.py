"""The assets through Dagster: range runs of dataset assets of every shape, their checks and metadata, and the
panel's point-in-time inputs and Parquet output on a real S3 endpoint."""

import datetime as dt
import io

import dagster as dg
import pandas as pd
import pytest

from macro_assets.catalog import load_catalog
from macro_assets.catalog.calendars import business_days
from macro_assets.defs.checks import build_dataset_checks
from macro_assets.defs.datasets import asset_key, build_dataset_asset
from macro_assets.defs.derived.panels import build_daily_rates_panel
from macro_assets.defs.io_managers import AS_OF_TAG, ParquetObjectStoreIOManager, WarehouseIOManager
from macro_assets.defs.resources import REPLAY_TAG, ObjectStoreResource, SourcesResource, WarehouseResource
from macro_assets.warehouse import connect
from macro_assets_tests.sources.replay import Exchange, write_manifest

PANEL = dg.AssetKey(["panels", "daily_rates"])


def series_key(dataset_id: str) -> dg.AssetKey:
    return asset_key(load_catalog().get(dataset_id))


def assets_def(key: dg.AssetKey) -> dg.AssetsDefinition:
    if key == PANEL:
        return build_daily_rates_panel()
    catalog = load_catalog()
    return build_dataset_asset(catalog.get(".".join(key.path)), catalog)


def range_tags(first: str, last: str, **extra: str) -> dict[str, str]:
    return {"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last, **extra}


@pytest.fixture
def resources(system_warehouse_url, tmp_path):
    warehouse = WarehouseResource(url=system_warehouse_url)
    object_store = ObjectStoreResource(url=str(tmp_path / "objects"))
    return {
        "warehouse": warehouse,
        "object_store": object_store,
        "sources": SourcesResource(mode="offline"),
        "warehouse_io_manager": WarehouseIOManager(warehouse=warehouse),
        "object_store_io_manager": ParquetObjectStoreIOManager(object_store=object_store),
    }


def series_assets(*dataset_ids):
    """The assets of these datasets with their checks: a run that materializes and checks a range in one go."""
    catalog = load_catalog()
    return [d for s in dataset_ids for d in (assets_def(series_key(s)), build_dataset_checks(catalog.get(s)))]


def test_a_monthly_range_is_one_run_with_metadata_and_passing_checks(resources, system_warehouse_url):
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            series_assets("fred.GDP", "bcb_sgs.433"),
            resources=resources,
            instance=instance,
            tags=range_tags("2015-01-01", "2018-12-01"),
        )
        assert result.success
        gdp = [e for e in result.get_asset_materialization_events() if e.asset_key == series_key("fred.GDP")]
        assert len(gdp) == 48  # one event per monthly partition of the range, from one run
        by_partition = {e.partition: e.materialization.metadata for e in gdp}
        # Each partition says what it holds; the run's figures, chart and preview sit on the newest one only.
        assert by_partition["2018-04-01"]["rows_offered"].value == 3  # 2018Q2 (dated April): three vintages
        assert by_partition["2018-05-01"]["rows_offered"].value == 0
        assert "records_fetched" not in by_partition["2018-04-01"]
        newest = by_partition["2018-12-01"]
        assert newest["records_fetched"].value == 83 and newest["release_basis"].value == "vintage"
        assert newest["payload_keys"].value[0].startswith("raw/fred/GDP/2015-01-01_2018-12-31/")
        assert newest["chart"].value.startswith("![fred.GDP](data:image/png;base64,")
        preview = newest["preview"].value
        assert [c.name for c in preview.schema.columns] == ["obs_date", "value", "release_time", "release_basis"]
        assert preview.records[-1].data["obs_date"] == "2018-07-01"
        evaluations = result.get_asset_check_evaluations()
        assert len(evaluations) == 10 and all(e.passed for e in evaluations)
        assert instance.get_materialized_partitions(series_key("bcb_sgs.433")) == {
            f"{y}-{m:02d}-01" for y in range(2015, 2019) for m in range(1, 13)
        }

    with connect(system_warehouse_url) as warehouse:
        stored = warehouse.observations.info("fred.GDP")["vintages"]
        assert warehouse.observations.first_release("bcb_sgs.433", "2018-12-01").iloc[0]["value"] == 0.15
        assert warehouse.observations.as_of("fred.GDP", "2018-06-01", start="2018-01-01").iloc[0]["value"] == 19956.811
    with dg.instance_for_test() as instance:
        again = dg.materialize(
            series_assets("fred.GDP"),
            resources=resources,
            instance=instance,
            tags=range_tags("2015-01-01", "2018-12-01"),
        )
        assert again.success
    with connect(system_warehouse_url) as warehouse:
        assert warehouse.observations.info("fred.GDP")["vintages"] == stored  # a re-run adds nothing


def test_one_partition_of_the_recorded_range_materializes_offline(resources, system_warehouse_url):
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            series_assets("bcb_sgs.432"), resources=resources, instance=instance, partition_key="2016-10-19"
        )
        assert result.success
    with connect(system_warehouse_url) as warehouse:
        assert warehouse.observations.latest("bcb_sgs.432")["value"].tolist() == [14.25]  # 14.00 from 20 Oct 2016
        assert "replayed from the recording of" in warehouse.pipeline.payloads("bcb_sgs.432")["request"][0]


def test_a_curve_and_a_bar_set_materialize_with_their_checks(resources, system_warehouse_url):
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            series_assets("us_treasury.par_nominal"),
            resources=resources,
            instance=instance,
            tags=range_tags("2018-12-03", "2018-12-31"),
        )
        assert result.success
        assert all(e.passed for e in result.get_asset_check_evaluations())
        result = dg.materialize(
            series_assets("yahoo.USDBRL_1d"),
            resources=resources,
            instance=instance,
            tags=range_tags("2018-12-03", "2018-12-31"),
        )
        assert result.success
        assert all(e.passed for e in result.get_asset_check_evaluations())
    with connect(system_warehouse_url) as warehouse:
        curve = warehouse.curves.as_of("us_treasury.par_nominal", start="2018-12-31", end="2018-12-31")
        by_tenor = curve.sort_values("tenor_years")
        assert by_tenor["point"].tolist()[:2] == ["1M", "2M"]  # 2 Mo is published from 2018-10-16
        assert by_tenor["maturity_date"].is_monotonic_increasing
        bars = warehouse.bars.as_of("yahoo.USDBRL_1d", start="2018-12-03", end="2018-12-31")
        expected = business_days("BR", dt.date(2018, 12, 3), dt.date(2018, 12, 31))
        assert len(bars) == len(expected) and (bars["low"] <= bars["close"]).all()


def test_the_panel_reads_inputs_as_of_the_run_tag_and_writes_parquet_per_partition(
    resources, system_warehouse_url, s3_endpoint
):
    store = ObjectStoreResource(url="s3://panels-test/macro", endpoint_url=s3_endpoint)
    resources = {
        **resources,
        "object_store": store,
        "object_store_io_manager": ParquetObjectStoreIOManager(object_store=store),
    }
    daily_rates_panel = assets_def(PANEL)
    daily = [*series_assets("bcb_sgs.432", "bcb_sgs.12", "bcb_sgs.1", "fred.DGS10"), daily_rates_panel]
    objects = store.open()
    with dg.instance_for_test() as instance:
        assert dg.materialize(
            daily, resources=resources, instance=instance, tags=range_tags("2018-12-24", "2018-12-31")
        ).success
        keys = objects.list("frames/panels/daily_rates/")
        assert keys == [
            f"frames/panels/daily_rates/{d}.parquet"
            for d in ("2018-12-24", "2018-12-25", "2018-12-26", "2018-12-27", "2018-12-28", "2018-12-31")
        ]
        friday = pd.read_parquet(io.BytesIO(objects.get("frames/panels/daily_rates/2018-12-28.parquet")))
        assert friday.columns.tolist() == ["obs_date", "bcb_sgs.432", "bcb_sgs.12", "bcb_sgs.1", "fred.DGS10"]
        assert friday["obs_date"].dt.date.tolist() == [
            dt.date(2018, 12, 28),
            dt.date(2018, 12, 29),
            dt.date(2018, 12, 30),
        ]  # 432 lists weekend days

        # As of 2018-12-27 12:00 UTC the 27th's CDI (released the next morning) and PTAX (13:10 local) are unknown.
        as_of = dg.materialize(
            [daily_rates_panel, *daily[:-1]],
            selection=[daily_rates_panel],
            resources=resources,
            instance=instance,
            tags=range_tags("2018-12-24", "2018-12-31", **{AS_OF_TAG: "2018-12-27T12:00:00Z"}),
        )
        assert as_of.success
    as_of_prefix = "frames/panels/daily_rates/as_of=20181227T120000Z/"
    thursday = pd.read_parquet(io.BytesIO(objects.get(f"{as_of_prefix}2018-12-27.parquet")))
    row = thursday.set_index("obs_date").loc[pd.Timestamp("2018-12-27")]
    assert row["bcb_sgs.432"] == 6.5 and pd.isna(row["bcb_sgs.12"]) and pd.isna(row["bcb_sgs.1"])
    assert pd.read_parquet(io.BytesIO(objects.get(f"{as_of_prefix}2018-12-28.parquet"))).empty
    # The as-of run never overwrote the current panel.
    current = pd.read_parquet(io.BytesIO(objects.get("frames/panels/daily_rates/2018-12-28.parquet")))
    assert len(current) == 3


FRED_KEY = "abcdefghij0123456789abcdefghij01"


def test_the_fred_api_key_reaches_no_log_metadata_or_object_key(resources, system_warehouse_url, monkeypatch):
    monkeypatch.setenv("FRED_API_KEY", FRED_KEY)  # sent on every request; the replay ignores it
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            series_assets("fred.UNRATE"),
            resources=resources,
            instance=instance,
            tags=range_tags("2018-01-01", "2018-12-01"),
        )
        assert result.success
        records = instance.get_records_for_run(result.run_id).records
        everything = "\n".join(record.event_log_entry.to_json() for record in records)
    assert "raw/fred/UNRATE" in everything  # the materialization metadata was read
    assert FRED_KEY not in everything
    with connect(system_warehouse_url) as warehouse:
        payloads = warehouse.pipeline.payloads("fred.UNRATE")
    assert "api_key=***" in payloads["request"][0]
    assert FRED_KEY not in payloads.to_csv()


def test_live_mode_without_the_fred_key_fails_at_run_start_naming_the_variable(resources, monkeypatch):
    resources = {**resources, "sources": SourcesResource(mode="live")}
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            series_assets("fred.GDP"),
            resources=resources,
            instance=instance,
            tags=range_tags("2018-01-01", "2018-12-01"),
            raise_on_error=False,
        )
    assert not result.success
    error = result.get_step_failure_events()[0].step_failure_data.error.to_string()
    assert "fred: live mode needs the environment variable FRED_API_KEY" in error


def test_intraday_bars_fill_their_gaps_on_the_next_run(resources, system_warehouse_url):
    """The first capture of 2018-12-12 lacks five bars; the next run asks TwelveData for those bars only."""
    usdcop = series_assets("twelvedata.USDCOP_5min")
    with dg.instance_for_test() as instance:
        first = dg.materialize(
            usdcop, resources=resources, instance=instance, tags=range_tags("2018-12-03", "2018-12-31")
        )
        assert first.success
        missing = {e.check_name: e for e in first.get_asset_check_evaluations()}["no_missing_bars"]
        assert not missing.passed
        second = dg.materialize(
            usdcop, resources=resources, instance=instance, tags=range_tags("2018-12-03", "2018-12-31")
        )
        assert second.success
        assert all(e.passed for e in second.get_asset_check_evaluations())
    with connect(system_warehouse_url) as warehouse:
        requests = warehouse.pipeline.payloads("twelvedata.USDCOP_5min")["request"].tolist()
        session = warehouse.bars.as_of("twelvedata.USDCOP_5min", start="2018-12-12", end="2018-12-12")
    assert len(session) == 60
    assert len(requests) == 3  # two month windows, then the one window around the five missing bars
    assert "start_date=2018-12-12" in requests[-1]


def fred_down_for_unrate_2018(tmp_path, monkeypatch) -> None:
    """A capture of one's own (MACRO_ASSETS_RECORDINGS), later than the recording: FRED's answer for UNRATE's 2018
    window is an HTML maintenance page."""
    page = tmp_path / "maintenance.html"
    page.write_text("<html><head><title>FRED is down for maintenance</title></head></html>")
    params = {
        "series_id": "UNRATE",
        "file_type": "json",
        "realtime_start": "1776-07-04",
        "realtime_end": "9999-12-31",
        "observation_start": "2018-01-01",
        "observation_end": "2018-12-31",
    }
    url = "https://api.stlouisfed.org/fred/series/observations"
    exchange = Exchange(url, params, page, content_type="text/html", captured_at="2019-06-01T12:00:00Z")
    monkeypatch.setenv("MACRO_ASSETS_RECORDINGS", str(write_manifest(tmp_path / "mine", "fred", [exchange])))


def test_a_refused_payload_from_a_users_recordings_fails_the_run_and_changes_nothing_stored(
    resources, system_warehouse_url, tmp_path, monkeypatch
):
    """MACRO_ASSETS_RECORDINGS adds a capture of one's own: here a later answer of FRED that is an HTML page."""
    unrate = series_assets("fred.UNRATE")
    tags = range_tags("2018-01-01", "2018-12-01")
    with dg.instance_for_test() as instance:
        assert dg.materialize(unrate, resources=resources, instance=instance, tags=tags).success
    with connect(system_warehouse_url) as warehouse:
        before = warehouse.observations.vintages("fred.UNRATE")
    fred_down_for_unrate_2018(tmp_path, monkeypatch)
    with dg.instance_for_test() as instance:
        result = dg.materialize(unrate, resources=resources, instance=instance, tags=tags, raise_on_error=False)
        assert not result.success
        error = result.get_step_failure_events()[0].step_failure_data.error.to_string()
        assert "fred dataset fred.UNRATE: field '<body>'" in error and "FRED is down for maintenance" in error
        # The checks did not run on a failed fetch: none is reported failed.
        assert not [e for e in result.get_asset_check_evaluations() if not e.passed]
    with connect(system_warehouse_url) as warehouse:
        assert warehouse.observations.vintages("fred.UNRATE").equals(before)
        payloads = warehouse.pipeline.payloads("fred.UNRATE")
        assert payloads["refused"].notna().sum() == 1
        assert "FRED is down" in warehouse.pipeline.quarantined("fred.UNRATE")["reason"].iloc[-1]


def test_a_rerun_preview_shows_what_is_stored_not_the_unchanged_refetch(resources):
    """The later capture of USD/BRL changes one August bar; December's bars refetched then change nothing, so the
    preview of the second run keeps their first release."""
    usdbrl = series_assets("yahoo.USDBRL_1d")
    with dg.instance_for_test() as instance:
        for replay in ("earliest", None):
            tags = range_tags("2018-12-03", "2018-12-31", **({REPLAY_TAG: replay} if replay else {}))
            result = dg.materialize(usdbrl, resources=resources, instance=instance, tags=tags)
            assert result.success
    newest = [e for e in result.get_asset_materialization_events() if e.partition == "2018-12-31"]
    bases = {record.data["release_basis"] for record in newest[0].materialization.metadata["preview"].value.records}
    assert bases == {"estimated"}


def test_a_failing_source_blocks_neither_the_other_sources_nor_their_checks_in_one_run(
    resources, system_warehouse_url, tmp_path, monkeypatch
):
    """FRED answers an HTML page for UNRATE (a capture of one's own, later than the recording); in the same range
    run SGS and the other FRED series still land and are checked, and the run reports the one failure."""
    fred_down_for_unrate_2018(tmp_path, monkeypatch)
    assets = series_assets("fred.UNRATE", "fred.CPIAUCSL", "bcb_sgs.433")
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            assets,
            resources=resources,
            instance=instance,
            tags=range_tags("2018-01-01", "2018-12-01"),
            raise_on_error=False,
        )
    assert not result.success
    assert {e.step_key for e in result.get_step_failure_events()} == {"fred__UNRATE"}
    checked = {e.asset_key for e in result.get_asset_check_evaluations()}
    assert checked == {series_key("fred.CPIAUCSL"), series_key("bcb_sgs.433")}
    with connect(system_warehouse_url) as warehouse:
        # December 2018 CPI came out in January 2019, after the recording was captured.
        assert len(warehouse.observations.latest("fred.CPIAUCSL", "2018-01-01", "2018-12-01")) == 11
        assert len(warehouse.observations.latest("bcb_sgs.433", "2018-01-01", "2018-12-01")) == 12
        assert warehouse.observations.latest("fred.UNRATE", "2018-01-01", "2018-12-01").empty
