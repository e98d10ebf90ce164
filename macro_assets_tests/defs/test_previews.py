"""The chart and preview a materialization shows, for every kind of dataset: a PNG of the window (none for an
instrument definition, which is a table of facts) and a table of its newest rows."""

from __future__ import annotations

import base64
import datetime as dt

import polars as pl
import pytest

from macro_assets.catalog import load_catalog
from macro_assets.catalog.model import KINDS
from macro_assets.defs.previews import chart, preview, zscore_chart
from macro_assets.warehouse.frames import read_columns

CATALOG = load_catalog()
START = dt.datetime(2018, 1, 1, tzinfo=dt.UTC)
ROWS = 12


def _column(name: str, dtype: pl.DataType, n: int) -> list:
    """Values for a column of the shape: increasing dates, instants and numbers, two alternating codes and texts."""
    if name == "level":
        return ["general"] * n
    if name == "release_basis":
        return ["vintage"] * n
    if dtype == pl.Date:
        return [START.date() + dt.timedelta(days=7 * i) for i in range(n)]
    if isinstance(dtype, pl.Datetime):
        return [START + dt.timedelta(minutes=i) for i in range(n)]
    if dtype == pl.Int64:
        return [i % 2 if name in ("calculation_basis", "stat_type", "leg_index") else i for i in range(n)]
    if dtype == pl.Float64:
        return [1.0 + i for i in range(n)]
    return [f"{name}_{i % 2}" for i in range(n)]


def stored_window(kind: str) -> pl.DataFrame:
    shape = KINDS[kind]
    schema = {name: shape.write_schema[name] for name in read_columns(shape)}
    return pl.DataFrame({name: _column(name, dtype, ROWS) for name, dtype in schema.items()}, schema=schema)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_gets_a_chart_and_a_preview_of_its_newest_rows(kind):
    dataset = CATALOG.of_kind(kind)[0]
    window = stored_window(kind)
    image = chart(dataset, window)
    if kind == "definitions":
        assert image is None
    else:
        assert base64.b64decode(image).startswith(b"\x89PNG")
    table = preview(dataset, window)
    columns = [column.name for column in table.schema.columns]
    assert columns[: len(dataset.shape.key_columns)] == dataset.shape.key_columns
    assert columns[-2:] == ["release_time", "release_basis"]
    assert 0 < len(table.records) <= 8


def test_nothing_stored_draws_nothing():
    dataset = CATALOG.of_kind("positions")[0]
    assert chart(dataset, stored_window("positions").clear()) is None


def test_a_zscore_chart_is_the_series_chart_with_its_bands():
    dataset = CATALOG.of_kind("observations")[0]
    window = stored_window("observations")
    banded = zscore_chart(dataset, window)
    assert base64.b64decode(banded).startswith(b"\x89PNG")
    assert banded != chart(dataset, window)
    assert zscore_chart(dataset, window, bands=()) == chart(dataset, window)
