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

# One row per survey statistic of a market expectation (BCB Focus): the survey date is the date the statistics
# describe, the reference the period forecast ("2026", "08/2026", "R2/2024"), calculation_basis the window of
# forecasts the statistics cover (Focus baseCalculo: 0 = those updated in the last 30 days, 1 = in the last 5
# business days). Every survey date is a vintage of the reference's expectation.
EXPECTATIONS = Shape(
    name="expectations",
    table="expectations",
    id_column="dataset_id",
    key_schema={"survey_date": pl.Date, "reference": pl.String, "calculation_basis": pl.Int64},
    value_schema={
        "median": pl.Float64,
        "mean": pl.Float64,
        "std_dev": pl.Float64,
        "minimum": pl.Float64,
        "maximum": pl.Float64,
        "respondents": pl.Int64,
    },
    ranged=("median", "mean", "minimum", "maximum"),
)

# One row per component of a price index in a period (IBGE SIDRA: IPCA's general index, groups, subgroups, items
# and subitems): obs_date is the first day of the period, component the source's category code; value is the
# period's change (%), weight the component's share of the index (%), level where it sits in the hierarchy.
INDEX_COMPONENTS = Shape(
    name="index_components",
    table="index_components",
    id_column="dataset_id",
    key_schema={"obs_date": pl.Date, "component": pl.String},
    value_schema={"value": pl.Float64, "weight": pl.Float64, "name": pl.String, "level": pl.String},
    ranged=("value",),
)

# One row per trader category of a Commitments of Traders report (CFTC): the positions of that category on the
# report's Tuesday, in contracts, with the market's open interest (the same on every row of one report).
POSITIONS = Shape(
    name="positions",
    table="positions",
    id_column="dataset_id",
    key_schema={"report_date": pl.Date, "category": pl.String},
    value_schema={"long": pl.Float64, "short": pl.Float64, "spreading": pl.Float64, "open_interest": pl.Float64},
    ranged=("long", "short", "spreading", "open_interest"),
)

# Databento's market-data records, one table per schema with the ingestor seed's keys. ts_event and ts_recv are
# the exact nanoseconds since the epoch (UTC) of the DBN record; event_time is ts_event at the microsecond the
# warehouse's timestamps hold, there to bound reads and partitions by time. Prices are decimal (DBN's fixed-point
# integers times 1e-9); a DBN "unset" value (INT64_MAX, UINT32_MAX, UINT64_MAX) is null.
_DATABENTO_HEADER = {"instrument_id": pl.Int64, "publisher_id": pl.Int64, "ts_recv": pl.Int64}
_DATABENTO_TRADE_KEY = {
    "event_time": UTC_DATETIME,
    "ts_event": pl.Int64,
    "sequence": pl.Int64,
    "price": pl.Float64,
    "size": pl.Int64,
    "side": pl.String,
}
_DATABENTO_TRADE = {
    **_DATABENTO_HEADER,
    "action": pl.String,
    "flags": pl.Int64,
    "depth": pl.Int64,
    "ts_in_delta": pl.Int64,
}
TRADES = Shape(
    name="trades",
    table="trades",
    id_column="dataset_id",
    key_schema=_DATABENTO_TRADE_KEY,
    value_schema=_DATABENTO_TRADE,
    ranged=(),
)
TBBO = Shape(
    name="tbbo",
    table="tbbo",
    id_column="dataset_id",
    key_schema=_DATABENTO_TRADE_KEY,
    value_schema={
        **_DATABENTO_TRADE,
        "bid_px_00": pl.Float64,
        "ask_px_00": pl.Float64,
        "bid_sz_00": pl.Int64,
        "ask_sz_00": pl.Int64,
        "bid_ct_00": pl.Int64,
        "ask_ct_00": pl.Int64,
    },
    ranged=("bid_px_00", "ask_px_00"),
)
# stat_type and update_action keep Databento's codes (StatType: 1 opening price, 3 settlement price, 6 cleared
# volume, 9 open interest, ...; StatUpdateAction: 1 new, 2 delete).
INSTRUMENT_STATISTICS = Shape(
    name="instrument_statistics",
    table="instrument_statistics",
    id_column="dataset_id",
    key_schema={"event_time": UTC_DATETIME, "ts_event": pl.Int64, "stat_type": pl.Int64, "sequence": pl.Int64},
    value_schema={
        **_DATABENTO_HEADER,
        "ts_ref": pl.Int64,
        "price": pl.Float64,
        "quantity": pl.Int64,
        "ts_in_delta": pl.Int64,
        "channel_id": pl.Int64,
        "update_action": pl.Int64,
        "stat_flags": pl.Int64,
    },
    ranged=("price",),
)
# The instrument definition fields a desk reads (symbol, class, tick, multiplier, limits, expiry, currency and
# legs); expiration and activation are nanoseconds like ts_event. leg_index is 0 for an outright (leg_count 0).
INSTRUMENT_DEFINITIONS = Shape(
    name="instrument_definitions",
    table="instrument_definitions",
    id_column="dataset_id",
    key_schema={"event_time": UTC_DATETIME, "ts_event": pl.Int64, "leg_index": pl.Int64},
    value_schema={
        **_DATABENTO_HEADER,
        "raw_symbol": pl.String,
        "security_update_action": pl.String,
        "instrument_class": pl.String,
        "min_price_increment": pl.Float64,
        "display_factor": pl.Float64,
        "expiration": pl.Int64,
        "activation": pl.Int64,
        "high_limit_price": pl.Float64,
        "low_limit_price": pl.Float64,
        "max_price_variation": pl.Float64,
        "unit_of_measure_qty": pl.Float64,
        "min_price_increment_amount": pl.Float64,
        "contract_multiplier": pl.Int64,
        "min_lot_size": pl.Int64,
        "currency": pl.String,
        "exchange": pl.String,
        "asset": pl.String,
        "security_group": pl.String,
        "security_type": pl.String,
        "cfi": pl.String,
        "unit_of_measure": pl.String,
        "underlying": pl.String,
        "strike_price": pl.Float64,
        "leg_count": pl.Int64,
        "leg_instrument_id": pl.Int64,
        "leg_raw_symbol": pl.String,
        "leg_side": pl.String,
        "leg_ratio_qty_numerator": pl.Int64,
        "leg_ratio_qty_denominator": pl.Int64,
    },
    ranged=(),
)

SHAPES = {
    shape.name: shape
    for shape in (
        OBSERVATIONS,
        CURVE_POINTS,
        BARS,
        EXPECTATIONS,
        INDEX_COMPONENTS,
        POSITIONS,
        TRADES,
        TBBO,
        INSTRUMENT_STATISTICS,
        INSTRUMENT_DEFINITIONS,
    )
}
