"""The IO managers on their own: each through `materialize` on tiny assets, then the written rows or objects
checked directly (the warehouse on the machine's PostgreSQL, the object store on a real S3 endpoint)."""

import datetime as dt
import io

import dagster as dg
import pandas as pd
import polars as pl
import pytest

from macro_assets.catalog import load_catalog
from macro_assets.defs.io_managers import AS_OF_TAG, ParquetObjectStoreIOManager, WarehouseIOManager
from macro_assets.defs.resources import ObjectStoreResource, WarehouseResource
from macro_assets.errors import SourcePayloadError
from macro_assets.ingest import Batch
from macro_assets.provenance import PayloadRecord, QuarantineRecord
from macro_assets.warehouse import connect

DAYS = dg.DailyPartitionsDefinition(start_date="2018-01-01", end_date="2018-01-11")
RANGE = {"dagster/asset_partition_range_start": "2018-01-02", "dagster/asset_partition_range_end": "2018-01-04"}
UTC = dt.UTC


def payload(sha: str, refused: str | None = None) -> PayloadRecord:
    return PayloadRecord(
        object_key=f"raw/fred/DGS10/test/{sha[:8]}.json",
        payload_sha256=sha,
        source="fred",
        dataset_id="fred.DGS10",
        request="GET https://example.invalid",
        http_status=200,
        bytes=2,
        window_start=dt.date(2018, 1, 2),
        window_end=dt.date(2018, 1, 4),
        fetched_at=dt.datetime(2018, 1, 5, tzinfo=UTC),
        refused=refused,
    )


def dgs10_batch(values: list[float], sha: str = "a" * 64, refusal: SourcePayloadError | None = None) -> Batch:
    dataset = load_catalog().get("fred.DGS10")
    days = [dt.date(2018, 1, 2 + i) for i in range(len(values))]
    rows = pl.DataFrame(
        {
            "series_id": "fred.DGS10",
            "obs_date": days,
            "release_time": [dt.datetime.combine(d, dt.time(21, 15), tzinfo=UTC) for d in days],
            "value": values,
            "release_basis": "vintage",
            "payload_sha256": sha,
        },
        schema=dataset.shape.write_schema,
    ).select(list(dataset.shape.write_schema))
    quarantine = [QuarantineRecord("fred", "fred.DGS10", sha, 3, "value", '{"value": "2,4"}', "comma decimal")]
    return Batch(
        dataset=dataset,
        window_start=days[0],
        window_end=days[-1],
        rows=rows if refusal is None else dataset.shape.empty(),
        payloads=[payload(sha, str(refusal) if refusal else None)],
        quarantine=quarantine,
        refusal=refusal,
    )


@pytest.fixture
def warehouse_resources(system_warehouse_url):
    warehouse = WarehouseResource(url=system_warehouse_url)
    return {"warehouse_io_manager": WarehouseIOManager(warehouse=warehouse)}


def test_the_warehouse_io_manager_writes_rows_payloads_and_quarantine_in_one_go(
    warehouse_resources, system_warehouse_url
):
    @dg.asset(
        key=["fred", "DGS10"],
        partitions_def=DAYS,
        io_manager_key="warehouse_io_manager",
        metadata={"dataset_id": "fred.DGS10"},
        backfill_policy=dg.BackfillPolicy.single_run(),
    )
    def dgs10() -> dg.Output:
        return dg.Output(dgs10_batch([2.46, 2.47, 2.44]))

    assert dg.materialize([dgs10], resources=warehouse_resources, tags=RANGE).success
    with connect(system_warehouse_url) as warehouse:
        stored = warehouse.observations.as_of("fred.DGS10")
        assert stored["value"].tolist() == [2.46, 2.47, 2.44]
        assert warehouse.pipeline.payloads("fred.DGS10")["payload_sha256"].tolist() == ["a" * 64]
        assert warehouse.pipeline.quarantined("fred.DGS10")["reason"].tolist() == ["comma decimal"]


def test_a_refused_batch_is_recorded_then_fails_the_step_and_stores_no_rows(warehouse_resources, system_warehouse_url):
    refusal = SourcePayloadError("fred", "fred.DGS10", "<body>", "expected JSON, got an HTML page")

    @dg.asset(
        key=["fred", "DGS10"],
        partitions_def=DAYS,
        io_manager_key="warehouse_io_manager",
        metadata={"dataset_id": "fred.DGS10"},
        backfill_policy=dg.BackfillPolicy.single_run(),
    )
    def dgs10() -> dg.Output:
        return dg.Output(dgs10_batch([2.46], sha="b" * 64, refusal=refusal))

    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [dgs10], resources=warehouse_resources, tags=RANGE, instance=instance, raise_on_error=False
        )
        assert not result.success
        assert (
            "expected JSON, got an HTML page" in result.get_step_failure_events()[0].step_failure_data.error.to_string()
        )
        assert instance.get_materialized_partitions(dgs10.key) == set()  # no materialization was recorded
    with connect(system_warehouse_url, known_ids=lambda: ["fred.DGS10"]) as warehouse:
        assert warehouse.observations.info("fred.DGS10")["keys"] == 0
        assert warehouse.pipeline.payloads("fred.DGS10")["refused"].tolist() == [str(refusal)]


def test_inputs_are_read_as_of_the_run_tag_once_for_the_whole_run(warehouse_resources, system_warehouse_url):
    with connect(system_warehouse_url) as warehouse:
        warehouse.pipeline.append("observations", dgs10_batch([2.46, 2.47, 2.44]).rows)
        warehouse.pipeline.append(
            "observations",
            pd.DataFrame(
                {
                    "series_id": ["fred.DGS10"],
                    "obs_date": [dt.date(2018, 1, 2)],
                    "value": [2.50],
                    "release_time": [pd.Timestamp("2018-02-01 12:00", tz="UTC")],
                    "release_basis": ["vintage"],
                }
            ),
        )
    upstream = dg.AssetSpec(["fred", "DGS10"], partitions_def=DAYS, metadata={"dataset_id": "fred.DGS10"})
    seen = {}

    @dg.asset(
        partitions_def=DAYS,
        ins={"dgs10": dg.AssetIn(["fred", "DGS10"], input_manager_key="warehouse_io_manager")},
        backfill_policy=dg.BackfillPolicy.single_run(),
    )
    def reader(dgs10: pd.DataFrame) -> None:
        seen["values"] = dgs10["value"].tolist()

    assert dg.materialize(
        [upstream, reader],
        selection=[reader],
        resources=warehouse_resources,
        tags={**RANGE, AS_OF_TAG: "2018-01-31T00:00:00Z"},
    ).success
    assert seen["values"] == [2.46, 2.47, 2.44]  # the 2.50 revision was not public yet
    assert dg.materialize([upstream, reader], selection=[reader], resources=warehouse_resources, tags=RANGE).success
    assert seen["values"] == [2.50, 2.47, 2.44]  # without the tag: as of the run's creation


def test_the_parquet_io_manager_writes_a_partition_per_object_and_as_of_runs_beside_them(s3_endpoint):
    store = ObjectStoreResource(url="s3://io-manager-test/frames-test", endpoint_url=s3_endpoint)
    resources = {"frames": ParquetObjectStoreIOManager(object_store=store)}

    @dg.asset(partitions_def=DAYS, io_manager_key="frames", backfill_policy=dg.BackfillPolicy.single_run())
    def panel() -> pd.DataFrame:
        return pd.DataFrame(
            {"obs_date": pd.to_datetime(["2018-01-02", "2018-01-03", "2018-01-04"]), "x": [1.0, 2.0, 3.0]}
        )

    assert dg.materialize([panel], resources=resources, tags=RANGE).success
    assert dg.materialize([panel], resources=resources, tags={**RANGE, AS_OF_TAG: "2018-01-03T12:00:00Z"}).success
    objects = store.open()
    keys = objects.list("frames/panel/")
    assert keys == [
        "frames/panel/2018-01-02.parquet",
        "frames/panel/2018-01-03.parquet",
        "frames/panel/2018-01-04.parquet",
        "frames/panel/as_of=20180103T120000Z/2018-01-02.parquet",
        "frames/panel/as_of=20180103T120000Z/2018-01-03.parquet",
        "frames/panel/as_of=20180103T120000Z/2018-01-04.parquet",
    ]
    third = pd.read_parquet(io.BytesIO(objects.get("frames/panel/2018-01-03.parquet")))
    assert third["x"].tolist() == [2.0]


def test_the_write_figures_sit_on_the_newest_partition_of_a_range_only(warehouse_resources):
    @dg.asset(
        key=["fred", "DGS10"],
        partitions_def=DAYS,
        io_manager_key="warehouse_io_manager",
        metadata={"dataset_id": "fred.DGS10"},
        backfill_policy=dg.BackfillPolicy.single_run(),
    )
    def dgs10() -> dg.Output:
        return dg.Output(dgs10_batch([2.46, 2.47, 2.44]))

    result = dg.materialize([dgs10], resources=warehouse_resources, tags=RANGE)
    by_partition = {e.partition: e.materialization.metadata for e in result.get_asset_materialization_events()}
    assert set(by_partition) == {"2018-01-02", "2018-01-03", "2018-01-04"}
    assert by_partition["2018-01-04"]["vintages_added"].value == 3
    assert "vintages_added" not in by_partition["2018-01-02"]
