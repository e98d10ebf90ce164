"""One description per shape of how to build its rows from a level, so one rule is proved on every table with the
same test (imported by the tests and by the writer processes some tests start)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import polars as pl

from macro_assets.shapes import BARS, CURVE_POINTS, EXPECTATIONS, OBSERVATIONS, TBBO, Shape
from macro_assets.warehouse import Warehouse

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

    @property
    def typed(self) -> bool:
        """A shape built from its schema alone: every key after the first a constant, every value column derived
        from the level by its type (so Int64 and text keys and values are covered too)."""
        return self.shape not in (OBSERVATIONS, CURVE_POINTS, BARS)

    def first_key(self, i: int):
        """The first key column of key i (what start/end bound)."""
        if self.shape is BARS or (
            self.typed and isinstance(self.shape.key_schema[self.shape.key_columns[0]], pl.Datetime)
        ):
            return BAR0 + pd.Timedelta(hours=i)
        if self.shape is CURVE_POINTS:
            return DAY0 + pd.Timedelta(days=i // 2)
        return DAY0 + pd.Timedelta(days=i)

    def key(self, i: int) -> dict:
        name = self.shape.key_columns[0]
        if self.shape is CURVE_POINTS:  # two points per curve date: the key has two columns
            return {name: self.first_key(i), "point": POINTS[i % 2]}
        if self.typed:
            return {name: self.first_key(i), **{c: _constant(t) for c, t in list(self.shape.key_schema.items())[1:]}}
        return {name: self.first_key(i)}

    def values(self, i: int, level: float | None) -> dict:
        if level is None:
            return dict.fromkeys(self.shape.value_columns)
        if self.typed:
            return {c: _derived(t, level, n) for n, (c, t) in enumerate(self.shape.value_schema.items())} | {
                self.level_column: level
            }
        if self.shape is CURVE_POINTS:
            years = 2 if i % 2 == 0 else 10
            return {
                "maturity_date": self.first_key(i) + pd.DateOffset(years=years),
                "tenor_years": None,
                "rate": level,
                "buy_rate": level + 0.01,
                "sell_rate": level - 0.01,
                "buy_price": 1000 - level,
                "sell_price": 1001 - level,
                "base_price": None,
            }
        if self.shape is BARS:
            return {
                "open": level,
                "high": level + 1,
                "low": level - 1,
                "close": level + 0.5,
                "adj_close": level + 0.25,
                "volume": 1000 + level,
                "dividend": None,
                "split_ratio": None,
            }
        return {"value": level}

    def frame(self, rows, dataset: str | None = None, basis: str = "vintage") -> pd.DataFrame:
        """A write frame from (key index, release time, level) rows; built by column, the same rows as key() and
        values() describe one at a time."""
        index = pd.Series([r[0] for r in rows], dtype="int64")
        level = pd.Series([r[2] for r in rows], dtype="float64")
        frame = pd.DataFrame({self.id_column: [dataset or self.dataset] * len(rows)})
        if self.typed:
            for n, row in enumerate(rows):
                for column, value in {**self.key(row[0]), **self.values(row[0], row[2])}.items():
                    frame.loc[n, column] = value
            frame["release_time"] = [r[1] for r in rows]
            frame["release_basis"] = basis
            return frame.astype({c: "Int64" for c, t in self.shape.write_schema.items() if t == pl.Int64})
        if self.shape is BARS:
            frame["bar_time"] = BAR0 + pd.to_timedelta(index, unit="h")
        elif self.shape is CURVE_POINTS:
            frame["curve_date"] = DAY0 + pd.to_timedelta(index // 2, unit="D")
            frame["point"] = [POINTS[i % 2] for i in index]
        else:
            frame["obs_date"] = DAY0 + pd.to_timedelta(index, unit="D")
        frame["release_time"] = [r[1] for r in rows]
        if self.shape is CURVE_POINTS:
            years = (index % 2 * 8 + 2).astype(int)
            maturity = [d + pd.DateOffset(years=int(y)) for d, y in zip(frame["curve_date"], years, strict=True)]
            frame["maturity_date"] = pd.Series(maturity, dtype="datetime64[us]").where(level.notna())
            columns = {
                "tenor_years": level * float("nan"),
                "rate": level,
                "buy_rate": level + 0.01,
                "sell_rate": level - 0.01,
                "buy_price": 1000 - level,
                "sell_price": 1001 - level,
                "base_price": level * float("nan"),
            }
        elif self.shape is BARS:
            columns = {
                "open": level,
                "high": level + 1,
                "low": level - 1,
                "close": level + 0.5,
                "adj_close": level + 0.25,
                "volume": 1000 + level,
                "dividend": level * float("nan"),
                "split_ratio": level * float("nan"),
            }
        else:
            columns = {"value": level}
        for column, values in columns.items():
            frame[column] = values.astype("float64")
        frame["release_basis"] = basis
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


def _constant(dtype: pl.DataType):
    return {pl.String: "k", pl.Int64: 7, pl.Float64: 1.5}[dtype]


def _derived(dtype: pl.DataType, level: float, n: int):
    if dtype == pl.Float64:
        return level + n
    if dtype == pl.Int64:
        return round(level * 1000) + n
    return f"{level:g}/{n}"


CASES = {
    "observations": Case(OBSERVATIONS, "observations", "fred.GDP", "fred.UNRATE", "value"),
    "curve_points": Case(CURVE_POINTS, "curves", "us_treasury.par_nominal", "tesouro_direto.ntnb", "rate"),
    "bars": Case(BARS, "bars", "yahoo.USDBRL_1h", "yahoo.USDCOP_1h", "open"),
    "expectations": Case(EXPECTATIONS, "expectations", "bcb_focus.IPCA_annual", "bcb_focus.Selic_meeting", "median"),
    "tbbo": Case(TBBO, "tbbo", "databento.ESH1_tbbo", "databento.NQH1_tbbo", "bid_px_00"),
}
