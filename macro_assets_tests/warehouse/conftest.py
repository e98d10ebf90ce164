"""What the warehouse tests share: one description per shape of how to build its rows from a level, so one rule is
proved on every table with the same test, plus helpers that look at the tables directly."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pandas as pd
import polars as pl
import psycopg2
import pytest

from macro_assets.shapes import BARS, CURVE_POINTS, OBSERVATIONS, Shape
from macro_assets.warehouse import Warehouse
from macro_assets.warehouse.engine import VintageEngine

DAY0 = pd.Timestamp("2020-01-01")
BAR0 = pd.Timestamp("2024-01-02 14:00", tz="UTC")
POINTS = ("2Y", "10Y")


@dataclass(frozen=True)
class Case:
    """Rows of one shape built from (key index, release time, level): every value column is derived from the level,
    so a level change changes every column, and a level of None is a withdrawal (every value null)."""

    shape: Shape
    reader: str  # the Warehouse attribute that reads this shape
    dataset: str
    other: str  # a second dataset id of the same shape
    level_column: str  # the value column that equals the level

    @property
    def id_column(self) -> str:
        return self.shape.id_column

    def first_key(self, i: int):
        """The first key column of key i (what start/end bound)."""
        if self.shape is BARS:
            return BAR0 + pd.Timedelta(hours=i)
        if self.shape is CURVE_POINTS:
            return DAY0 + pd.Timedelta(days=i // 2)
        return DAY0 + pd.Timedelta(days=i)

    def key(self, i: int) -> dict:
        name = self.shape.key_columns[0]
        if self.shape is CURVE_POINTS:  # two points per curve date: the key has two columns
            return {name: self.first_key(i), "point": POINTS[i % 2]}
        return {name: self.first_key(i)}

    def values(self, i: int, level: float | None) -> dict:
        if level is None:
            return dict.fromkeys(self.shape.value_columns)
        if self.shape is CURVE_POINTS:
            years = 2 if i % 2 == 0 else 10
            return {"maturity_date": self.first_key(i) + pd.DateOffset(years=years), "tenor_years": None,
                    "rate": level, "buy_rate": level + 0.01, "sell_rate": level - 0.01, "buy_price": 1000 - level,
                    "sell_price": 1001 - level, "base_price": None}
        if self.shape is BARS:
            return {"open": level, "high": level + 1, "low": level - 1, "close": level + 0.5, "adj_close": level + 0.25,
                    "volume": 1000 + level, "dividend": None, "split_ratio": None}
        return {"value": level}

    def frame(self, rows, dataset: str | None = None, basis: str = "vintage") -> pd.DataFrame:
        """A write frame from (key index, release time, level) rows."""
        records = [{self.id_column: dataset or self.dataset, **self.key(i), "release_time": release,
                    **self.values(i, level), "release_basis": basis} for i, release, level in rows]
        columns = [c for c in self.shape.write_schema if c != "payload_sha256"]
        frame = pd.DataFrame.from_records(records, columns=columns)
        for column, dtype in self.shape.value_schema.items():  # all-None columns would be object, not float
            if dtype == pl.Float64:
                frame[column] = frame[column].astype("float64")
        return frame

    def read(self, wh: Warehouse):
        return getattr(wh, self.reader)

    def level(self, wh: Warehouse, as_of, i: int = 0, dataset: str | None = None) -> float | None:
        """The level as_of reports for key i, None when the key is absent."""
        frame = self.read(wh).as_of(dataset or self.dataset, as_of=as_of)
        match = frame.loc[self.matches(frame, i), self.level_column]
        assert len(match) <= 1
        return None if match.empty else float(match.iloc[0])

    def matches(self, frame: pd.DataFrame, i: int) -> pd.Series:
        mask = pd.Series(True, index=frame.index)
        for column, value in self.key(i).items():
            mask &= frame[column] == value
        return mask

    def history(self, wh: Warehouse, i: int = 0, dataset: str | None = None, as_of=None) -> pd.DataFrame:
        """Every stored vintage of key i, oldest first."""
        frame = self.read(wh).vintages(dataset or self.dataset, as_of=as_of)
        return frame[self.matches(frame, i)].reset_index(drop=True)


CASES = {
    "observations": Case(OBSERVATIONS, "observations", "fred.GDP", "fred.UNRATE", "value"),
    "curve_points": Case(CURVE_POINTS, "curves", "us_treasury.par_nominal", "tesouro_direto.ntnb", "rate"),
    "bars": Case(BARS, "bars", "yahoo.USDBRL_1h", "yahoo.USDCOP_1h", "open"),
}


@pytest.fixture(params=list(CASES))
def case(request) -> Case:
    return CASES[request.param]


def dsn(url: str) -> str:
    return url.replace("postgresql+psycopg2://", "postgresql://", 1)


@contextmanager
def cursor_on(url: str) -> Iterator:
    """A plain psycopg2 cursor on the test database, rolled back at the end."""
    connection = psycopg2.connect(dsn(url))
    try:
        with connection.cursor() as cursor:
            yield cursor
        connection.rollback()
    finally:
        connection.close()


def table_rows(url: str, table: str) -> list[tuple]:
    with cursor_on(url) as cursor:
        cursor.execute(f"SELECT * FROM {table} AS row ORDER BY row")
        return cursor.fetchall()


@pytest.fixture
def write_paths(monkeypatch) -> list[str]:
    """The write path each append took, in order: proves a test exercises the path it claims to."""
    taken: list[str] = []
    for name in ("_copy_new", "_merge_through_staging"):
        original = getattr(VintageEngine, name)

        def spy(self, *args, _original=original, _name=name):
            taken.append(_name)
            return _original(self, *args)

        monkeypatch.setattr(VintageEngine, name, spy)
    return taken
