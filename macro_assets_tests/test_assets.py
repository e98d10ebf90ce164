"""The assets through Dagster: range runs of series assets, their checks and metadata, and the panel's
point-in-time inputs and Parquet output on a real S3 endpoint."""

import datetime as dt
import io

import dagster as dg
import pandas as pd
import pytest

from macro_assets.assets import daily_rates_panel, series_key
from macro_assets.definitions import series_assets as all_series_assets
from macro_assets.io_managers import AS_OF_TAG, ParquetObjectStoreIOManager, WarehouseIOManager
from macro_assets.object_store import open_object_store
from macro_assets.resources import ObjectStoreResource, SourcesResource, WarehouseResource
from macro_assets.warehouse import connect


def range_tags(first: str, last: str, **extra: str) -> dict[str, str]:
    return {"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last, **extra}


@pytest.fixture
def resources(system_warehouse_url, tmp_path):
    warehouse = WarehouseResource(url=system_warehouse_url)
    object_store = ObjectStoreResource(url=str(tmp_path / "objects"))
    return {
        "warehouse": warehouse, "object_store": object_store, "sources": SourcesResource(mode="offline"),
        "warehouse_io_manager": WarehouseIOManager(warehouse=warehouse),
        "object_store_io_manager": ParquetObjectStoreIOManager(object_store=object_store),
    }


def series_assets(*series_ids):
    by_key = {asset.key: asset for asset in all_series_assets}
    return [by_key[series_key(s)] for s in series_ids]


def test_a_monthly_range_is_one_run_with_metadata_and_passing_checks(resources, system_warehouse_url):
    with dg.instance_for_test() as instance:
        result = dg.materialize(series_assets("fred.GDP", "bcb_sgs.433"), resources=resources, instance=instance,
                                tags=range_tags("2015-01-01", "2018-12-01"))
        assert result.success
        gdp = [e for e in result.get_asset_materialization_events() if e.asset_key == series_key("fred.GDP")]
        assert len(gdp) == 48  # one event per monthly partition of the range, from one run
        metadata = gdp[0].materialization.metadata
        assert metadata["vintages_added"].value == 83 and metadata["records_fetched"].value == 83
        assert metadata["release_basis"].value == "vintage"
        assert metadata["last_observation_date"].value == "2018-07-01"
        assert metadata["payload_keys"].value[0].startswith("raw/fred/GDP/2015-01-01_2018-12-31/")
        evaluations = result.get_asset_check_evaluations()
        assert len(evaluations) == 10 and all(e.passed for e in evaluations)
        assert instance.get_materialized_partitions(series_key("bcb_sgs.433")) == {
            f"{y}-{m:02d}-01" for y in range(2015, 2019) for m in range(1, 13)}

        again = dg.materialize(series_assets("fred.GDP"), resources=resources, instance=instance,
                               tags=range_tags("2015-01-01", "2018-12-01"))
        rerun = again.get_asset_materialization_events()[0].materialization.metadata
        assert rerun["vintages_added"].value == 0 and rerun["unchanged"].value == 83
    with connect(system_warehouse_url) as warehouse:
        assert warehouse.first_release("bcb_sgs.433", "2018-12-01").iloc[0]["value"] == 0.15
        assert warehouse.as_of("fred.GDP", "2018-06-01", start="2018-01-01").iloc[0]["value"] == 19956.811


def test_one_partition_of_the_recorded_range_materializes_offline(resources, system_warehouse_url):
    with dg.instance_for_test() as instance:
        result = dg.materialize(series_assets("bcb_sgs.432"), resources=resources, instance=instance,
                                partition_key="2016-10-19")
        assert result.success
    with connect(system_warehouse_url) as warehouse:
        assert warehouse.latest("bcb_sgs.432")["value"].tolist() == [14.25]  # 14.00 only from 20 Oct 2016
        assert "replayed from the recording of" in warehouse.payloads("bcb_sgs.432")["request"][0]


def test_a_range_beyond_the_recordings_fails_with_a_clear_error(resources):
    with dg.instance_for_test() as instance:
        result = dg.materialize(series_assets("bcb_sgs.433"), resources=resources, instance=instance,
                                tags=range_tags("2024-01-01", "2024-03-01"), raise_on_error=False)
    assert not result.success
    failure = result.get_step_failure_events()[0].step_failure_data.error
    assert "Offline mode only replays recorded requests" in str(failure.to_string())


def test_the_panel_reads_inputs_as_of_the_run_tag_and_writes_parquet_per_partition(
        resources, system_warehouse_url, s3_endpoint):
    store = ObjectStoreResource(url="s3://panels-test/macro", endpoint_url=s3_endpoint)
    resources = {**resources, "object_store": store,
                 "object_store_io_manager": ParquetObjectStoreIOManager(object_store=store)}
    daily = [*series_assets("bcb_sgs.432", "bcb_sgs.12", "bcb_sgs.1", "fred.DGS10"), daily_rates_panel]
    objects = store.open()
    with dg.instance_for_test() as instance:
        assert dg.materialize(daily, resources=resources, instance=instance,
                              tags=range_tags("2018-12-24", "2018-12-31")).success
        keys = objects.list("frames/panels/daily_rates/")
        assert keys == [f"frames/panels/daily_rates/{d}.parquet" for d in
                        ("2018-12-24", "2018-12-25", "2018-12-26", "2018-12-27", "2018-12-28", "2018-12-31")]
        friday = pd.read_parquet(io.BytesIO(objects.get("frames/panels/daily_rates/2018-12-28.parquet")))
        assert friday.columns.tolist() == ["obs_date", "bcb_sgs.432", "bcb_sgs.12", "bcb_sgs.1", "fred.DGS10"]
        assert friday["obs_date"].dt.date.tolist() == [dt.date(2018, 12, 28), dt.date(2018, 12, 29),
                                                        dt.date(2018, 12, 30)]  # 432 lists weekend days

        # As of 2018-12-27 12:00 UTC the 27th's CDI (released the next morning) and PTAX (13:10 local) are unknown.
        as_of = dg.materialize([daily_rates_panel, *daily[:-1]], selection=[daily_rates_panel], resources=resources,
                               instance=instance, tags=range_tags("2018-12-24", "2018-12-31",
                                                                  **{AS_OF_TAG: "2018-12-27T12:00:00Z"}))
        assert as_of.success
    thursday = pd.read_parquet(io.BytesIO(objects.get("frames/panels/daily_rates/2018-12-27.parquet")))
    row = thursday.set_index("obs_date").loc[pd.Timestamp("2018-12-27")]
    assert row["bcb_sgs.432"] == 6.5 and pd.isna(row["bcb_sgs.12"]) and pd.isna(row["bcb_sgs.1"])
    assert pd.read_parquet(io.BytesIO(objects.get("frames/panels/daily_rates/2018-12-28.parquet"))).empty


FRED_KEY = "abcdefghij0123456789abcdefghij01"


def test_the_fred_api_key_reaches_no_log_metadata_or_object_key(resources, system_warehouse_url, monkeypatch):
    monkeypatch.setenv("FRED_API_KEY", FRED_KEY)  # sent on every request; the replay ignores it
    with dg.instance_for_test() as instance:
        result = dg.materialize(series_assets("fred.UNRATE"), resources=resources, instance=instance,
                                tags=range_tags("2018-01-01", "2018-12-01"))
        assert result.success
        records = instance.get_records_for_run(result.run_id).records
        everything = "\n".join(record.event_log_entry.to_json() for record in records)
    assert "raw/fred/UNRATE" in everything  # the materialization metadata was read
    assert FRED_KEY not in everything
    with connect(system_warehouse_url) as warehouse:
        payloads = warehouse.payloads("fred.UNRATE")
    assert "api_key=***" in payloads["request"][0]
    assert FRED_KEY not in payloads.to_csv()


def test_live_mode_without_the_fred_key_fails_at_run_start_naming_the_variable(resources, monkeypatch):
    resources = {**resources, "sources": SourcesResource(mode="live")}
    with dg.instance_for_test() as instance:
        result = dg.materialize(series_assets("fred.GDP"), resources=resources, instance=instance,
                                tags=range_tags("2018-01-01", "2018-12-01"), raise_on_error=False)
    assert not result.success
    error = result.get_step_failure_events()[0].step_failure_data.error.to_string()
    assert "fred: live mode needs the environment variable FRED_API_KEY" in error
