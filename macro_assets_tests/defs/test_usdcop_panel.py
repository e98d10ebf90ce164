"""The USD/COP daily macro panel through Dagster: every column of a day is its series as known at that day's close
in America/Bogota (a value released at the close is in, one second later it is the next day's), a revision after a
day's close leaves that day alone, and the columns without a source are listed, not invented."""

import datetime as dt

import dagster as dg
import polars as pl
import pytest

from macro_assets.analytics import pit
from macro_assets.defs.derived.fx_vol import stored_frames
from macro_assets.defs.derived.panels import FRAMES_IO_MANAGER
from macro_assets.defs.derived.usdcop import (
    PANEL_COLUMNS,
    PANEL_KEY,
    build_panel_asset,
    build_panel_check,
    day_close,
)
from macro_assets.defs.io_managers import ParquetObjectStoreIOManager
from macro_assets.defs.resources import ObjectStoreResource, WarehouseResource
from macro_assets.shapes import BARS, OBSERVATIONS
from macro_assets.warehouse import connect
from macro_assets_tests.defs.test_datasets import range_tags

UTC = dt.UTC
SHA = "0" * 64
DAYS = [
    dt.date(2018, 12, 3) + dt.timedelta(days=i)
    for i in range(12)
    if (dt.date(2018, 12, 3) + dt.timedelta(days=i)).weekday() < 5
]
DXY_REVISED_DAY = dt.date(2018, 12, 7)
DXY_REVISION = dt.datetime(2018, 12, 8, 15, 0, tzinfo=UTC)  # a Saturday, after Friday's close


def daily_bars(dataset_id: str, values: dict[dt.date, float], released: dict[dt.date, dt.datetime]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "dataset_id": dataset_id,
            "bar_time": [dt.datetime.combine(d, dt.time(), tzinfo=UTC) for d in values],
            "release_time": [released[d] for d in values],
            **{c: list(values.values()) for c in ("open", "high", "low", "close", "adj_close")},
            **dict.fromkeys(("volume", "dividend", "split_ratio"), None),
            "release_basis": "estimated",
            "payload_sha256": SHA,
        },
        schema_overrides={
            "bar_time": pl.Datetime("us", "UTC"),
            "release_time": pl.Datetime("us", "UTC"),
            **dict.fromkeys(("volume", "dividend", "split_ratio"), pl.Float64),
        },
    )


def seed_inputs(warehouse) -> dict[str, dict]:
    dxy = {d: 97.0 + i / 10 for i, d in enumerate(DAYS)}
    brl = {d: 3.85 + i / 100 for i, d in enumerate(DAYS)}
    ny_close = {d: dt.datetime.combine(d, dt.time(22), tzinfo=UTC) for d in DAYS}
    london_midnight = {d: dt.datetime.combine(d + dt.timedelta(days=1), dt.time(), tzinfo=UTC) for d in DAYS}
    # USD/BRL of the 5th released exactly at the 5th's close; of the 6th one second after the 6th's close.
    london_midnight[dt.date(2018, 12, 5)] = day_close(dt.date(2018, 12, 5))
    london_midnight[dt.date(2018, 12, 6)] = day_close(dt.date(2018, 12, 6)) + dt.timedelta(seconds=1)
    revision = daily_bars("yahoo.DXY_1d", {DXY_REVISED_DAY: 99.5}, {DXY_REVISED_DAY: DXY_REVISION})
    ten_year = pl.DataFrame(
        {
            "series_id": "fred.DGS10",
            "obs_date": DAYS,
            "release_time": [dt.datetime.combine(d + dt.timedelta(days=1), dt.time(21, 15), tzinfo=UTC) for d in DAYS],
            "value": [2.9 + i / 50 for i in range(len(DAYS))],
            "release_basis": "vintage",
            "payload_sha256": SHA,
        }
    )
    warehouse.pipeline.append(
        BARS,
        pl.concat(
            [daily_bars("yahoo.DXY_1d", dxy, ny_close), daily_bars("yahoo.USDBRL_1d", brl, london_midnight), revision]
        ),
    )
    warehouse.pipeline.append(OBSERVATIONS, ten_year)
    return {"dxy": dxy, "brl": brl}


@pytest.fixture
def resources(system_warehouse_url, tmp_path):
    object_store = ObjectStoreResource(url=str(tmp_path / "objects"))
    return {
        "warehouse": WarehouseResource(url=system_warehouse_url),
        FRAMES_IO_MANAGER: ParquetObjectStoreIOManager(object_store=object_store),
    }


def test_each_day_is_its_columns_as_known_at_its_close_in_bogota(resources):
    with connect(resources["warehouse"].url) as warehouse:
        values = seed_inputs(warehouse)
        bars = warehouse.bars.vintages(["yahoo.DXY_1d", "yahoo.USDBRL_1d"], output="polars")
        ten_year = warehouse.observations.vintages("fred.DGS10", output="polars")
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [build_panel_asset(), build_panel_check()],
            resources=resources,
            instance=instance,
            tags=range_tags("2018-12-03", "2018-12-14"),
        )
        assert result.success and all(e.passed for e in result.get_asset_check_evaluations())
        newest = result.get_asset_materialization_events()[-1].materialization.metadata
        assert newest["not_sourced"].value == {"crsk_spread_embi_col_d_embi": "no EMBI Colombia source"}
        assert newest["chart"].value.startswith("![panel](data:image/png;base64,")
    panel = stored_frames(resources[FRAMES_IO_MANAGER], PANEL_KEY).sort("obs_date")
    assert panel.columns == ["obs_date", *PANEL_COLUMNS, "known_at"]
    assert "crsk_spread_embi_col_d_embi" not in panel.columns
    row = {r["obs_date"]: r for r in panel.iter_rows(named=True)}

    brl, dxy = "fxrt_spot_usdbrl_bra_d_usdbrl", "fxrt_index_dxy_usa_d_dxy"
    fifth, sixth, seventh = dt.date(2018, 12, 5), dt.date(2018, 12, 6), dt.date(2018, 12, 7)
    assert row[fifth][brl] == values["brl"][fifth]  # released at the close: in
    assert row[sixth][brl] == values["brl"][fifth]  # released a second after the close: not yet
    assert row[seventh][brl] == values["brl"][seventh]
    assert row[seventh][dxy] == values["dxy"][seventh]  # the revision came after Friday's close
    assert row[dt.date(2018, 12, 8)][dxy] == 99.5  # Saturday sees it
    assert row[dt.date(2018, 12, 3)]["finc_bond_ust10y_usa_d_ust10y"] is None  # the 3rd's released on the 4th
    assert panel["comm_agri_coffee_glb_d_coffee"].null_count() == panel.height  # stored nowhere: null, not made up

    # The rule, day by day: each stored row is every series as known at the day's close, recomputed here.
    inputs = pl.concat(
        [
            bars.select(
                series_id="dataset_id",
                obs_date=pl.col("bar_time").dt.date(),
                value="close",
                release_time="release_time",
            ),
            ten_year.select("series_id", "obs_date", "value", "release_time"),
        ]
    )
    column_of = {series_id: column for column, series_id in PANEL_COLUMNS.items()}
    for day, stored in row.items():
        known = pit.as_of(inputs, day_close(day)).filter(pl.col("obs_date") <= day).sort("obs_date")
        latest = {column_of[s]: v for s, v in known.group_by("series_id").agg(pl.col("value").last()).iter_rows()}
        assert {c: stored[c] for c in PANEL_COLUMNS if stored[c] is not None} == latest, day
        assert stored["known_at"] <= day_close(day)
