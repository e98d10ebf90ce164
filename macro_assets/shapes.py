"""The storage shapes: what a row of each kind of dataset holds, from the connector's parse to the warehouse.

A shape names its table, the column holding the dataset id, the key columns that identify one point of a dataset
(release_time is always the last key column: a revision is a new row with a later release time), and the value
columns a vintage carries. A new vintage of a key is stored only when its values differ from the vintage before
it; a vintage whose values are all null is a withdrawal. Pure data: no database, no Dagster.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

UTC_DATETIME = pl.Datetime("us", "UTC")
RELEASE_BASES = ("vintage", "estimated", "observed")
PROVENANCE_SCHEMA = {"release_time": UTC_DATETIME, "release_basis": pl.String, "payload_sha256": pl.String}


@dataclass(frozen=True)
class Shape:
    name: str
    table: str
    id_column: str
    key_schema: dict[str, pl.DataType]  # after the id, before release_time
    value_schema: dict[str, pl.DataType]
    ranged: tuple[str, ...]  # the value columns a dataset's plausible range applies to

    @property
    def key_columns(self) -> list[str]:
        return list(self.key_schema)

    @property
    def value_columns(self) -> list[str]:
        return list(self.value_schema)

    @property
    def vintage_key(self) -> list[str]:
        return [self.id_column, *self.key_schema, "release_time"]

    @property
    def write_schema(self) -> dict[str, pl.DataType]:
        """Every column of a row on the write path, in table order."""
        return {
            self.id_column: pl.String,
            **self.key_schema,
            "release_time": UTC_DATETIME,
            **self.value_schema,
            "release_basis": pl.String,
            "payload_sha256": pl.String,
        }

    @property
    def parsed_schema(self) -> dict[str, pl.DataType]:
        """What a connector's parse returns for one dataset: keys and values (the id and provenance come later)."""
        return {**self.key_schema, **self.value_schema}

    def empty(self) -> pl.DataFrame:
        return pl.DataFrame(schema=self.write_schema)


OBSERVATIONS = Shape(
    name="observations",
    table="observations",
    id_column="series_id",
    key_schema={"obs_date": pl.Date},
    value_schema={"value": pl.Float64},
    ranged=("value",),
)

# One row per point of a curve on a curve date. A bond point is "<bond type> <maturity ISO date>" (Tesouro
# Direto: buy/sell rates and prices, base price; rate = the buy rate, the one the curve is read from); a par-curve
# point is its tenor label ("1M", "10Y": US Treasury, rate = par or real yield, tenor_years set).
CURVE_POINTS = Shape(
    name="curve_points",
    table="curve_points",
    id_column="curve_id",
    key_schema={"curve_date": pl.Date, "point": pl.String},
    value_schema={
        "maturity_date": pl.Date,
        "tenor_years": pl.Float64,
        "rate": pl.Float64,
        "buy_rate": pl.Float64,
        "sell_rate": pl.Float64,
        "buy_price": pl.Float64,
        "sell_price": pl.Float64,
        "base_price": pl.Float64,
    },
    ranged=("rate", "buy_rate", "sell_rate"),
)

# One row per bar (its start instant, UTC) of one instrument at one interval: the dataset id names both
# (e.g. yahoo.USDBRL_1d, twelvedata.USDCOP_5min). close is unadjusted; adj_close is the source's adjusted close;
# dividend and split_ratio are the corporate actions dated at that bar (null when none).
BARS = Shape(
    name="bars",
    table="bars",
    id_column="dataset_id",
    key_schema={"bar_time": UTC_DATETIME},
    value_schema={
        "open": pl.Float64,
        "high": pl.Float64,
        "low": pl.Float64,
        "close": pl.Float64,
        "adj_close": pl.Float64,
        "volume": pl.Float64,
        "dividend": pl.Float64,
        "split_ratio": pl.Float64,
    },
    ranged=("open", "high", "low", "close"),
)

SHAPES = {shape.name: shape for shape in (OBSERVATIONS, CURVE_POINTS, BARS)}
