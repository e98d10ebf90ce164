"""USD/COP features through Dagster: stored as vintages so that as of any instant they are the features of the bars
and macro series as known then, through a bar revision, a macro revision and a macro release boundary to the
second; only filled, finite, clipped rows are stored, and the left-out features are listed."""

import datetime as dt
import math

import dagster as dg
import polars as pl
import pytest

from macro_assets.analytics import pit
from macro_assets.defs.derived.fx_vol import stored_frames
from macro_assets.defs.derived.usdcop import (
    BARS_ID,
    FEATURES,
    FEATURES_FRAMES_IO_MANAGER,
    FEATURES_KEY,
    MACRO_IDS,
    build_features_asset,
    build_features_check,
    daily_series,
    features_as_of,
    features_with_release,
)
from macro_assets.defs.io_managers import ParquetObjectStoreIOManager
from macro_assets.defs.resources import ObjectStoreResource, WarehouseResource
from macro_assets.shapes import BARS
from macro_assets.warehouse import connect
from macro_assets_tests.defs.test_datasets import range_tags

UTC = dt.UTC
BAR_REVISION = dt.datetime(2018, 12, 11, 18, 0, tzinfo=UTC)  # the 15:00 bar of the 11th, corrected three hours on
DXY_REVISION = dt.datetime(2018, 12, 12, 14, 0, tzinfo=UTC)  # DXY of the 10th, corrected two days on
DXY_RELEASE_11TH = dt.datetime(2018, 12, 11, 22, 0, tzinfo=UTC)  # 17:00 New York: the close of the 21:55 bar


def bar_rows(dataset_id, starts, closes, released):
    return pl.DataFrame(
        {
            "dataset_id": dataset_id,
            "bar_time": starts,
            "release_time": released,
            "open": closes,
            "high": [c * 1.0004 for c in closes],
            "low": [c * 0.9996 for c in closes],
            "close": closes,
            "adj_close": closes,
            "volume": None,
            "dividend": None,
            "split_ratio": None,
            "release_basis": "estimated",
            "payload_sha256": "0" * 64,
        },
        schema_overrides={
            "bar_time": pl.Datetime("us", "UTC"),
            "release_time": pl.Datetime("us", "UTC"),
            **dict.fromkeys(["volume", "dividend", "split_ratio"], pl.Float64),
        },
    )


def seed_inputs(warehouse):
    starts = [dt.datetime(2018, 12, 10, tzinfo=UTC) + i * dt.timedelta(minutes=5) for i in range(3 * 288)]
    closes = [3150 + 25 * math.sin(i / 40) + 6 * math.sin(i / 3.7) for i in range(len(starts))]
    bars = bar_rows(BARS_ID, starts, closes, [s + dt.timedelta(minutes=5) for s in starts])
    revised_start = dt.datetime(2018, 12, 11, 15, 0, tzinfo=UTC)
    revision = bars.filter(pl.col("bar_time") == revised_start).with_columns(
        pl.col("close") + 9, pl.col("high") + 9, release_time=pl.lit(BAR_REVISION, pl.Datetime("us", "UTC"))
    )
    days = [d for d in pl.date_range(dt.date(2018, 10, 1), dt.date(2018, 12, 12), eager=True) if d.weekday() < 5]
    macro = []
    for k, (dataset_id, level) in enumerate({"yahoo.DXY_1d": 96.0, "yahoo.VIX_1d": 18.0}.items()):
        values = [level + 2 * math.sin(i / (5 + k)) + 0.1 * i for i in range(len(days))]
        day_starts = [dt.datetime.combine(d, dt.time(), tzinfo=UTC) for d in days]
        macro.append(bar_rows(dataset_id, day_starts, values, [s + dt.timedelta(hours=22) for s in day_starts]))
    dxy_revision = (
        macro[0]
        .filter(pl.col("bar_time") == dt.datetime(2018, 12, 10, tzinfo=UTC))
        .with_columns(pl.col("close") + 1.5, release_time=pl.lit(DXY_REVISION, pl.Datetime("us", "UTC")))
    )
    warehouse.pipeline.append(BARS, pl.concat([bars, revision, *macro, dxy_revision]))


@pytest.fixture
def resources(system_warehouse_url, tmp_path):
    object_store = ObjectStoreResource(url=str(tmp_path / "objects"))
    return {
        "warehouse": WarehouseResource(url=system_warehouse_url),
        FEATURES_FRAMES_IO_MANAGER: ParquetObjectStoreIOManager(object_store=object_store, date_column="bar_date"),
    }


def test_features_as_of_any_instant_are_the_features_of_the_inputs_known_then(resources):
    with connect(resources["warehouse"].url) as warehouse:
        seed_inputs(warehouse)
        bar_vintages = warehouse.bars.vintages(BARS_ID, output="polars")
        macro_vintages = daily_series(
            warehouse.bars.vintages(list(MACRO_IDS.values()), output="polars"), "dataset_id", "bar_time", "close"
        )
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [build_features_asset(), build_features_check()],
            resources=resources,
            instance=instance,
            tags=range_tags("2018-12-10", "2018-12-12"),
        )
        assert result.success and all(e.passed for e in result.get_asset_check_evaluations())
        newest = result.get_asset_materialization_events()[-1].materialization.metadata
        assert set(newest["not_sourced"].value) == {"usdmxn_ret_1h", "embi_z"}
        assert newest["chart"].value.startswith("![features](data:image/png;base64,")
    stored = stored_frames(resources[FEATURES_FRAMES_IO_MANAGER], FEATURES_KEY)

    second, micro = dt.timedelta(seconds=1), dt.timedelta(microseconds=1)
    instants = [
        dt.datetime(2018, 12, 10, 12, 0, tzinfo=UTC),
        BAR_REVISION - micro,
        BAR_REVISION,
        DXY_RELEASE_11TH - second,
        DXY_RELEASE_11TH,
        DXY_REVISION - second,
        DXY_REVISION,
        dt.datetime(2018, 12, 13, tzinfo=UTC),
    ]
    for instant in instants:
        held = features_as_of(stored, instant)
        bars = pit.as_of(bar_vintages, instant, id_column="dataset_id", key_columns=("bar_time",))
        expected = features_with_release(bars, pit.as_of(macro_vintages, instant)).filter(
            pl.col("release_time") <= instant
        )
        assert held["bar_time"].to_list() == expected["bar_time"].to_list(), instant
        assert held.height > 0 or instant.day == 10, instant
        for feature in FEATURES:
            assert (held[feature] - expected[feature]).abs().max() < 1e-12, (instant, feature)

    # The macro release boundary to the second: the bar closing at the DXY release sees that day's value.
    boundary = features_as_of(stored, DXY_RELEASE_11TH).filter(
        pl.col("bar_time") >= DXY_RELEASE_11TH - 2 * dt.timedelta(minutes=5)
    )
    assert boundary.height == 2 and boundary["dxy_z"][0] != boundary["dxy_z"][1]
    # Each revision gave the bars it changed a vintage released at the revision, none earlier.
    for revision in (BAR_REVISION, DXY_REVISION):
        assert stored.filter(pl.col("release_time") == revision).height > 0
    assert stored.filter(pl.col("release_time") < pl.col("bar_time") + dt.timedelta(minutes=5)).is_empty()
    latest = features_as_of(stored, dt.datetime(2018, 12, 13, tzinfo=UTC))
    assert all(value <= 5.0 for value in latest.select(pl.col(FEATURES).abs().max()).row(0))
    assert latest.select(pl.col(FEATURES).null_count()).sum_horizontal().item() == 0
    assert "usdmxn_ret_1h" not in stored.columns and "embi_z" not in stored.columns
