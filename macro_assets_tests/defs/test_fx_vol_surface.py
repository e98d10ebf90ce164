"""The USD/BRL vol surface from dropped quote files: the sensor requests the partitions of new files only, the asset
stores each arrival as a vintage released at its arrival (a corrected re-drop is a new vintage, the old one kept),
as of any instant the stored surface is smile_strikes of the files arrived by then, and bad input is quarantined
or refused with the file and the field named."""

import datetime as dt
import io
import time

import dagster as dg
import polars as pl
import pytest

from macro_assets.analytics.fx_vol import QUOTE_COLUMNS, smile_strikes
from macro_assets.defs.derived.fx_vol import (
    FX_VOL_FRAMES_IO_MANAGER,
    QUOTES_PREFIX,
    SURFACE_ID,
    SURFACE_KEY,
    archived_quote_files,
    build_quotes_sensor,
    build_sample_quotes_asset,
    build_surface_asset,
    build_surface_check,
    parse_quote_file,
    stored_frames,
    surface_as_of,
)
from macro_assets.defs.io_managers import ParquetObjectStoreIOManager
from macro_assets.defs.resources import ObjectStoreResource, WarehouseResource
from macro_assets.errors import SourcePayloadError
from macro_assets.warehouse import connect
from macro_assets_tests.conftest import RECORDINGS
from macro_assets_tests.defs.test_datasets import range_tags

SAMPLES = RECORDINGS / "fx_vol_quotes" / "usdbrl"
MICRO = dt.timedelta(microseconds=1)
SECOND = dt.timedelta(seconds=1)


def sample(day: str) -> bytes:
    return (SAMPLES / day / "quotes.csv").read_bytes()


def quotes_of(data: bytes) -> pl.DataFrame:
    """The quote rows of a well-formed file, read independently of the asset's parser."""
    return pl.read_csv(io.BytesIO(data), try_parse_dates=True).select(QUOTE_COLUMNS)


@pytest.fixture
def resources(system_warehouse_url, tmp_path):
    object_store = ObjectStoreResource(url=str(tmp_path / "objects"))
    return {
        "object_store": object_store,
        "warehouse": WarehouseResource(url=system_warehouse_url),
        FX_VOL_FRAMES_IO_MANAGER: ParquetObjectStoreIOManager(object_store=object_store, date_column="quote_date"),
    }


def test_the_sensor_requests_the_partition_of_each_new_file_only(s3_endpoint):
    object_store = ObjectStoreResource(url="s3://fx-vol-sensor/drops", endpoint_url=s3_endpoint)
    store = object_store.open()
    sensor = build_quotes_sensor()
    with dg.instance_for_test() as instance:

        def evaluate(cursor):
            context = dg.build_sensor_context(
                instance=instance, cursor=cursor, resources={"object_store": object_store}
            )
            return sensor(context)

        assert isinstance(evaluate(None), dg.SkipReason)
        store.put(f"{QUOTES_PREFIX}2018-12-12/quotes.csv", sample("2018-12-12"))
        store.put(f"{QUOTES_PREFIX}notes.txt", b"not a quote file")
        first = evaluate(None)
        assert [(r.partition_key, r.asset_selection) for r in first.run_requests] == [("2018-12-12", [SURFACE_KEY])]

        store.put(f"{QUOTES_PREFIX}2018-12-15/quotes.csv", sample("2018-12-14"))  # a Saturday: Friday's partition
        second = evaluate(first.cursor)
        assert [r.partition_key for r in second.run_requests] == ["2018-12-14"]
        assert isinstance(evaluate(second.cursor), dg.SkipReason)

        # The same key dropped again (a correction) arrives later: its partition is requested again, once. S3 stamps
        # LastModified to the second, so the correction comes in the next second, as any real one would.
        time.sleep(1.05)
        store.put(f"{QUOTES_PREFIX}2018-12-12/quotes.csv", sample("2018-12-12").replace(b"0.1385", b"0.1390"))
        third = evaluate(second.cursor)
        assert [r.partition_key for r in third.run_requests] == ["2018-12-12"]
        assert third.run_requests[0].run_key != first.run_requests[0].run_key
        assert isinstance(evaluate(third.cursor), dg.SkipReason)


def test_each_arrival_is_a_vintage_and_as_of_is_the_smile_of_the_files_arrived_by_then(resources):
    store = resources["object_store"].open()
    days = range_tags("2018-12-12", "2018-12-14")
    assets = [build_sample_quotes_asset(), build_surface_asset(), build_surface_check()]
    with dg.instance_for_test() as instance:
        result = dg.materialize(assets, resources=resources, instance=instance, tags=days)
        assert result.success and all(e.passed for e in result.get_asset_check_evaluations())
        newest = result.asset_materializations_for_node("derived__usdbrl_vol_surface")[-1].metadata
        assert newest["files_read"].value == 3 and newest["vintages"].value == 18  # 3 dates x 6 tenors
        assert newest["chart"].value.startswith("![vol smile](data:image/png;base64,")
        first_arrivals = {
            f.quote_date: f.arrival for f in archived_quote_files(store, dt.date(2018, 12, 12), dt.date(2018, 12, 14))
        }
        assert len(first_arrivals) == 3

        # Materializing the sample again uploads nothing: the first upload's arrival stays the vintage.
        again = dg.materialize([build_sample_quotes_asset()], resources=resources, instance=instance, tags=days)
        assert again.get_asset_materialization_events()[-1].materialization.metadata["unchanged"].value == 3

        # A corrected file for the 14th, one tenor's ATM vol moved, and a second file with one bad row.
        corrected = sample("2018-12-14").replace(b"0.1430", b"0.1450")
        store.put(f"{QUOTES_PREFIX}2018-12-14/quotes.csv", corrected)
        wing_file = b"\n".join(
            [
                ",".join(QUOTE_COLUMNS).encode(),
                b"2018-12-14,9M,0.747945,3.9040,0.0675,0.0275,0.1520,0.0340,0.0052,0.0620,0.0170",
                b"2018-12-14,18M,1.5,3.9040,0.0700,0.0285,15.6,0.0380,0.0058,0.0700,0.0190",
            ]
        )
        store.put(f"{QUOTES_PREFIX}2018-12-14/wings.csv", wing_file)
        result = dg.materialize(
            [build_surface_asset(), build_surface_check()],
            resources=resources,
            instance=instance,
            partition_key="2018-12-14",
        )
        assert result.success and all(e.passed for e in result.get_asset_check_evaluations())

    stored = stored_frames(resources[FX_VOL_FRAMES_IO_MANAGER], SURFACE_KEY)
    later = {
        f.key.rsplit("__", 1)[1]: f.arrival
        for f in archived_quote_files(store, dt.date(2018, 12, 14), dt.date(2018, 12, 14))
    }
    assert (
        set(later) == {"quotes.csv", "wings.csv"}
        and len(archived_quote_files(store, dt.date(2018, 12, 14), dt.date(2018, 12, 14))) == 3
    )
    correction = max(
        f.arrival
        for f in archived_quote_files(store, dt.date(2018, 12, 14), dt.date(2018, 12, 14))
        if f.key.endswith("quotes.csv")
    )
    original = first_arrivals[dt.date(2018, 12, 14)]

    def expected(instant):
        known = [(arrival, quotes_of(sample(str(day)))) for day, arrival in first_arrivals.items()]
        if instant >= correction:
            known.append((correction, quotes_of(corrected)))
        if instant >= later["wings.csv"]:
            known.append((later["wings.csv"], quotes_of(wing_file).head(1)))
        latest = {}
        for arrival, quotes in sorted(known, key=lambda k: k[0]):
            if arrival <= instant:
                for row in quotes.iter_rows(named=True):
                    key = (row["quote_date"], row["tenor"])
                    if key not in latest or latest[key][1] != row:  # the same quote again is no new vintage
                        latest[key] = (arrival, row)
        if not latest:
            return None
        quotes = pl.DataFrame([row for _, row in latest.values()])
        released = pl.DataFrame(
            [{"quote_date": d, "tenor": t, "release_time": a} for (d, t), (a, _) in latest.items()]
        ).with_columns(pl.col("release_time").dt.cast_time_unit("us"))
        return smile_strikes(quotes).join(released, on=["quote_date", "tenor"])

    instants = [
        min(first_arrivals.values()) - SECOND,
        original,
        original + MICRO,
        correction - SECOND,
        correction - MICRO,
        correction,
        later["wings.csv"],
        later["wings.csv"] + dt.timedelta(days=1),
    ]
    for instant in instants:
        held = surface_as_of(stored, instant).sort("quote_date", "tenor", "strike")
        want = expected(instant)
        if want is None:
            assert held.is_empty(), instant
            continue
        want = want.sort("quote_date", "tenor", "strike")
        assert held.select("quote_date", "tenor", "pillar", "release_time").equals(
            want.select("quote_date", "tenor", "pillar", "release_time")
        ), instant
        for column in ("vol", "strike", "forward", "delta"):
            assert (held[column] - want[column]).abs().max() < 1e-12, (instant, column)

    # The corrected 1M of the 14th is a new vintage; the vintage it replaced is still stored.
    one_month = stored.filter((pl.col("quote_date") == dt.date(2018, 12, 14)) & (pl.col("tenor") == "1M"))
    assert one_month.filter(pl.col("pillar") == "ATM")["vol"].to_list() == [0.1430, 0.1450]
    # Tenors the correction left alone gain no vintage.
    assert stored.filter(pl.col("tenor") == "3M", pl.col("quote_date") == dt.date(2018, 12, 14)).height == 5

    with connect(resources["warehouse"].url) as warehouse:
        quarantined = warehouse.pipeline.quarantined(SURFACE_ID)
    assert len(quarantined) == 1
    record = quarantined.iloc[0]
    assert record["field"] == "atm_vol" and record["record_index"] == 2
    assert "2018-12-14" in record["reason"] and "wings.csv" in record["reason"] and "(0, 2)" in record["reason"]


def test_a_file_lacking_a_column_fails_the_run_naming_file_and_field_and_is_quarantined(resources):
    store = resources["object_store"].open()
    store.put(f"{QUOTES_PREFIX}2018-12-13/broken.csv", b"quote_date,tenor,time,spot\n2018-12-13,1M,0.08,3.86\n")
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [build_surface_asset()],
            resources=resources,
            instance=instance,
            partition_key="2018-12-13",
            raise_on_error=False,
        )
    assert not result.success
    failure = result.get_step_failure_events()[0].step_failure_data.error.cause
    assert failure.cls_name == SourcePayloadError.__name__
    assert "broken.csv" in failure.message and "'rate_domestic'" in failure.message
    with connect(resources["warehouse"].url) as warehouse:
        quarantined = warehouse.pipeline.quarantined(SURFACE_ID)
    assert quarantined["record_index"].tolist() == [-1] and "broken.csv" in quarantined["reason"][0]


def test_a_parquet_file_reads_as_its_csv_and_a_misplaced_date_is_set_aside():
    data = sample("2018-12-13")
    buffer = io.BytesIO()
    quotes_of(data).write_parquet(buffer)
    as_csv = parse_quote_file("fx_vol_quotes/usdbrl/2018-12-13/quotes.csv", dt.date(2018, 12, 13), data)
    as_parquet = parse_quote_file("fx_vol_quotes/usdbrl/2018-12-13/q.parquet", dt.date(2018, 12, 13), buffer.getvalue())
    assert as_parquet.rows.equals(as_csv.rows) and as_csv.rows.height == 6 and not as_csv.rejected
    misplaced = parse_quote_file("fx_vol_quotes/usdbrl/2018-12-14/quotes.csv", dt.date(2018, 12, 14), data)
    assert misplaced.rows.is_empty()
    assert {(field, reason) for _, field, _, reason in misplaced.rejected} == {
        ("quote_date", "is not the date of the file's folder (2018-12-14)")
    }
