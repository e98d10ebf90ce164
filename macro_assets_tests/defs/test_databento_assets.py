"""Databento's datasets through Dagster, offline: every schema materializes over the recorded days with its checks
passing and reads back through the warehouse; the job resumes per day (a run over a range fetches only the days
not stored, and a re-run fetches and stores nothing); `macro-assets read` writes a schema's table as CSV or
Parquet."""

import datetime as dt
import io

import dagster as dg
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from macro_assets.cli.main import main
from macro_assets.warehouse import connect
from macro_assets_tests.defs.test_datasets import range_tags, resources, series_assets

__all__ = ["resources"]  # the shared fixture, imported for pytest to find

TRADES = "databento.ESH1_trades"
DATASETS = (
    "databento.ESH1_ohlcv_1d",
    "databento.ESH1_ohlcv_1m",
    TRADES,
    "databento.ESH1_tbbo",
    "databento.ESH1_statistics",
    "databento.ESH1_definition",
)
FIRST, LAST = "2020-12-28", "2020-12-31"


def materialize(instance, resources, dataset_ids, first: str, last: str):
    result = dg.materialize(
        series_assets(*dataset_ids), resources=resources, instance=instance, tags=range_tags(first, last)
    )
    assert result.success
    return result


def test_every_schema_materializes_with_passing_checks_and_reads_back(resources, system_warehouse_url):
    with dg.instance_for_test() as instance:
        result = materialize(instance, resources, DATASETS, FIRST, LAST)
        evaluations = result.get_asset_check_evaluations()
        assert evaluations and all(e.passed for e in evaluations), [e.check_name for e in evaluations if not e.passed]
    with connect(system_warehouse_url) as warehouse:
        trades = warehouse.trades.as_of(TRADES, start=FIRST, end=LAST)
        assert len(trades) == 16 and trades["ts_event"].iloc[0] == 1609113600246507011
        assert trades["release_basis"].unique().tolist() == ["vintage"]
        tbbo = warehouse.tbbo.as_of("databento.ESH1_tbbo", start=FIRST, end=FIRST)
        assert tbbo["bid_px_00"].tolist() == [3702.5] * 4
        statistics = warehouse.instrument_statistics.as_of("databento.ESH1_statistics", start=FIRST, end=LAST)
        assert set(statistics["stat_type"]) == {3, 5, 6, 8, 9} and set(statistics["update_action"]) == {1}
        # A definition is stored with the day that delivered it, dated by the exchange the evening before.
        definitions = warehouse.instrument_definitions.as_of("databento.ESH1_definition")
        assert len(definitions) == 4 and definitions["raw_symbol"].unique().tolist() == ["ESH1"]
        assert definitions["event_time"].min() == pd.Timestamp("2020-12-27 17:05:15.926494", tz="UTC")
        daily = warehouse.bars.as_of("databento.ESH1_ohlcv_1d", start=FIRST, end=LAST)
        assert len(daily) == 4 and daily["open"].iloc[0] == 3702.75 and daily["volume"].iloc[0] == 718174
        assert len(warehouse.bars.as_of("databento.ESH1_ohlcv_1m", start=FIRST, end=LAST)) == 16


def test_an_interrupted_job_resumes_fetching_only_the_days_not_stored(resources, system_warehouse_url):
    with dg.instance_for_test() as instance:
        # The job was stopped after its first two days.
        materialize(instance, resources, [TRADES], FIRST, "2020-12-29")
        with connect(system_warehouse_url) as warehouse:
            assert len(warehouse.pipeline.payloads(TRADES)) == 2
            assert len(warehouse.trades.vintages(TRADES)) == 8
        materialize(instance, resources, [TRADES], FIRST, LAST)
        with connect(system_warehouse_url) as warehouse:
            payloads = warehouse.pipeline.payloads(TRADES)
            assert sorted(payloads["window_start"].astype(str)) == [FIRST, "2020-12-29", "2020-12-30", LAST]
            stored = warehouse.trades.vintages(TRADES)
            assert len(stored) == 16 and not stored.duplicated(["ts_event", "sequence"]).any()
        materialize(instance, resources, [TRADES], FIRST, LAST)
    with connect(system_warehouse_url) as warehouse:
        assert len(warehouse.pipeline.payloads(TRADES)) == 4  # the re-run asked for nothing
        assert len(warehouse.trades.vintages(TRADES)) == 16  # and stored nothing twice


def test_a_refetched_day_stores_nothing_twice(resources, system_warehouse_url):
    """Definitions are dated before the day that delivers them, so their days are asked again: unchanged, they
    add no vintage."""
    definition = "databento.ESH1_definition"
    with dg.instance_for_test() as instance:
        materialize(instance, resources, [definition], FIRST, LAST)
        materialize(instance, resources, [definition], FIRST, LAST)
    with connect(system_warehouse_url) as warehouse:
        assert len(warehouse.instrument_definitions.vintages(definition)) == 4


@pytest.fixture
def trades_stored(resources, system_warehouse_url, monkeypatch):
    with dg.instance_for_test() as instance:
        materialize(instance, resources, [TRADES, "databento.ESH1_statistics"], FIRST, LAST)
    monkeypatch.setenv("MACRO_ASSETS_WAREHOUSE_URL", system_warehouse_url)


def test_the_cli_reads_a_schema_over_a_time_range_as_csv(trades_stored, capsys):
    assert main(["read", TRADES, "--start", "2020-12-29", "--end", "2020-12-30"]) == 0
    frame = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert len(frame) == 8 and frame["event_time"].str.startswith("2020-12-29").sum() == 4
    assert frame["ts_event"].dtype == "int64" and frame["ts_event"].min() > 1609200000000000000
    assert main(["read", "databento.ESH1_statistics", "--start", "2020-12-29", "--end", "2020-12-29"]) == 0
    text = capsys.readouterr().out
    # ts_ref is unset on some statistics: the others keep their exact nanoseconds, not a float's 1.6091136e+18.
    assert ",1609113600000000000," in text and "e+18" not in text


def test_the_cli_writes_parquet_with_exact_nanoseconds(trades_stored, tmp_path):
    path = tmp_path / "stats.parquet"
    assert main(["read", "databento.ESH1_statistics", "--start", "2020-12-29", "--parquet", str(path)]) == 0
    table = pq.read_table(path)
    assert table.num_rows == 12 and table.schema.field("ts_ref").type == pa.int64()
    assert table.schema.field("event_time").type == pa.timestamp("us", tz="UTC")
    references = [value for value in table.column("ts_ref").to_pylist() if value is not None]
    assert references and all(value % 86_400_000_000_000 == 0 for value in references)
    assert min(table.column("event_time").to_pylist()) >= dt.datetime(2020, 12, 29, tzinfo=dt.UTC)
