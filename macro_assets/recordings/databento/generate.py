"""Deterministic generator of the Databento recordings (timeseries.get_range, GLBX.MDP3 ESH1), replayed offline.

Run ``python -m macro_assets.recordings.databento.generate [OUT_DIR]`` (default: this directory); it rewrites
``manifest.json`` and every synthetic body byte for byte. No network and no input file: the values come from a
seeded ``random.Random`` stream, the files are written with the official databento-dbn bindings (``Metadata`` and
record classes, zstd through its ``Transcoder``, deterministic at its fixed level).

What is recorded, one request per (schema, UTC day) as the connector asks, for 2020-12-28..2020-12-31
(``recorded_window``):

- 2020-12-28: the REAL test files of databento-python (``verbatim/``, hand-copied, README there), 4 records each
  (1 for the definition, 1 daily bar), in all six schemas;
- 2020-12-29..31: SYNTHETIC DBN v3 files in the same layout and scale, the price path continuing from the real
  2020-12-28 close (3735): one daily bar; four 1-minute bars from 00:00 with none at 00:02 (Databento sends no bar
  for a minute without a trade); the day's first four trades, and the same trades with the book before each
  (TBBO); statistics (highest bid, settlement price of the previous session with its ts_ref, cleared volume and
  open interest with quantities and no price); the definition received at 00:00 UTC, dated (ts_event) the evening
  before, with the day's new price limits (reference +-7%).
"""

from __future__ import annotations

import datetime as dt
import io
import random
from pathlib import Path
from types import SimpleNamespace

import databento_dbn as dbn

from macro_assets.recordings.common import days, exchange, generator_main, manifest_bytes, write_files
from macro_assets.sources.databento import GET_RANGE_URL, ONE_DAY

HERE = Path(__file__).resolve().parent
SEED = "macro_assets.recordings.databento/2021-01-04"
DATASET, SYMBOL, INSTRUMENT_ID, PUBLISHER_ID = "GLBX.MDP3", "ESH1", 5482, 1
REAL_DAY = dt.date(2020, 12, 28)
SYNTHETIC_DAYS = list(days(dt.date(2020, 12, 29), dt.date(2020, 12, 31)))
CAPTURED_AT = "2021-01-04T12:00:00Z"
HEADERS = {"Content-Type": "application/octet-stream"}
SCALE = dbn.FIXED_PRICE_SCALE
TICK = 250_000_000  # 0.25 index points
REAL_CLOSE = 3735 * SCALE
REAL_SETTLEMENT = 3729_500_000_000  # a settlement near the close, the reference of the next day's limits
SEQUENCE_START = 145_885
SECOND = 10**9
DAY = 86_400 * SECOND
SCHEMAS = {
    "ohlcv-1d": dbn.Schema.OHLCV_1D,
    "ohlcv-1m": dbn.Schema.OHLCV_1M,
    "trades": dbn.Schema.TRADES,
    "tbbo": dbn.Schema.TBBO,
    "statistics": dbn.Schema.STATISTICS,
    "definition": dbn.Schema.DEFINITION,
}
PARAMS = {"stype_in": "raw_symbol", "stype_out": "instrument_id", "encoding": "dbn", "compression": "zstd"}
MINUTES = (0, 1, 3, 4)  # no trade in 00:02


def _ns(moment: dt.datetime) -> int:
    return int((moment - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)).total_seconds()) * 1_000_000_000


def _midnight(day: dt.date) -> int:
    return _ns(dt.datetime.combine(day, dt.time(0), tzinfo=dt.UTC))


def _tick(price: float) -> int:
    return round(price * SCALE / TICK) * TICK


def body_name(day: dt.date, schema: str) -> str:
    return f"{DATASET}_{SYMBOL}_{day.isoformat()}.{schema}.dbn.zst"


def request_params(day: dt.date, schema: str) -> dict[str, str]:
    return {
        "dataset": DATASET,
        "symbols": SYMBOL,
        "schema": schema,
        "start": f"{day.isoformat()}T00:00:00Z",
        "end": f"{(day + ONE_DAY).isoformat()}T00:00:00Z",
        **PARAMS,
    }


def dbn_file(day: dt.date, schema: str, records: list) -> bytes:
    """Metadata for one day's request, then the records, zstd-compressed."""
    mapping = SimpleNamespace(
        raw_symbol=SYMBOL,
        intervals=[SimpleNamespace(start_date=day, end_date=day + ONE_DAY, symbol=str(INSTRUMENT_ID))],
    )
    metadata = dbn.Metadata(
        dataset=DATASET,
        schema=SCHEMAS[schema],
        start=_midnight(day),
        end=_midnight(day + ONE_DAY),
        stype_in=dbn.SType.RAW_SYMBOL,
        stype_out=dbn.SType.INSTRUMENT_ID,
        symbols=[SYMBOL],
        partial=[],
        not_found=[],
        mappings=[mapping],
    )
    out = io.BytesIO()
    transcoder = dbn.Transcoder(out, dbn.Encoding.DBN, dbn.Compression.ZSTD)
    transcoder.write(metadata.encode() + b"".join(bytes(record) for record in records))
    transcoder.flush()
    return out.getvalue()


def _trades(rng: random.Random, day: dt.date, opening: int, sequence: int) -> list[dict]:
    """The day's first four trades: event time, receipt, side, price, size and the book before each."""
    trades, moment, price = [], _midnight(day), opening
    for _ in range(4):
        moment += rng.randint(20_000_000, 300_000_000)
        side = rng.choice((dbn.Side.BID, dbn.Side.ASK))
        price += rng.choice((-TICK, 0, 0, TICK))
        sequence += rng.randint(5, 30)
        bid, ask = (price - TICK, price) if side == dbn.Side.BID else (price, price + TICK)
        trades.append(
            {
                "ts_event": moment,
                "ts_recv": moment + rng.randint(200_000, 400_000),
                "ts_in_delta": rng.randint(15_000, 30_000),
                "side": side,
                "price": price,
                "size": rng.choice((1, 1, 1, 2, 5)),
                "sequence": sequence,
                "book": dbn.BidAskPair(
                    bid_px=bid,
                    ask_px=ask,
                    bid_sz=rng.randint(3, 15),
                    ask_sz=rng.randint(3, 15),
                    bid_ct=rng.randint(2, 10),
                    ask_ct=rng.randint(2, 10),
                ),
            }
        )
    return trades


def _trade_fields(trade: dict) -> dict:
    return {
        "publisher_id": PUBLISHER_ID,
        "instrument_id": INSTRUMENT_ID,
        "ts_event": trade["ts_event"],
        "price": trade["price"],
        "size": trade["size"],
        "action": dbn.Action.TRADE,
        "side": trade["side"],
        "depth": 0,
        "ts_recv": trade["ts_recv"],
        "flags": 0,
        "ts_in_delta": trade["ts_in_delta"],
        "sequence": trade["sequence"],
    }


def _statistic(moment: int, rng: random.Random, stat_type, sequence: int, **values) -> dbn.StatMsg:
    fields = {"ts_ref": dbn.UNDEF_TIMESTAMP, "price": dbn.UNDEF_PRICE, "quantity": dbn.UNDEF_STAT_QUANTITY}
    return dbn.StatMsg(
        publisher_id=PUBLISHER_ID,
        instrument_id=INSTRUMENT_ID,
        ts_event=moment,
        ts_recv=moment + rng.randint(500_000, 1_500_000),
        stat_type=stat_type,
        sequence=sequence,
        ts_in_delta=rng.randint(15_000, 30_000),
        channel_id=0,
        update_action=dbn.StatUpdateAction.NEW,
        stat_flags=255,
        **{**fields, **values},
    )


def _definition(day: dt.date, rng: random.Random, reference: int) -> dbn.InstrumentDefMsg:
    """ESH1 as the real 2020-12-28 definition describes it, with the day's limits around `reference`."""
    # CME sends the new session's limits in the evening before (22:45 UTC).
    evening = _midnight(day) - 75 * 60 * SECOND + rng.randint(0, 59) * SECOND
    return dbn.InstrumentDefMsg(
        publisher_id=PUBLISHER_ID,
        instrument_id=INSTRUMENT_ID,
        ts_event=evening + rng.randint(0, SECOND - 1),
        ts_recv=_midnight(day),
        min_price_increment=TICK,
        display_factor=10_000_000,
        raw_symbol=SYMBOL,
        asset="ES",
        security_type="FUT",
        instrument_class=dbn.InstrumentClass.FUTURE,
        security_update_action=dbn.SecurityUpdateAction.ADD,
        expiration=1_616_160_600_000_000_000,
        activation=1_576_852_200_000_000_000,
        high_limit_price=_tick(reference * 1.07 / SCALE),
        low_limit_price=_tick(reference * 0.93 / SCALE),
        max_price_variation=6 * SCALE,
        unit_of_measure_qty=50 * SCALE,
        min_price_increment_amount=125_000_000,
        inst_attrib_value=270_351,
        market_depth_implied=0,
        market_depth=10,
        market_segment_id=64,
        max_trade_vol=3000,
        min_lot_size=0,
        min_lot_size_block=0,
        min_lot_size_round_lot=0,
        min_trade_vol=1,
        contract_multiplier=2**31 - 1,
        decay_quantity=2**31 - 1,
        original_contract_size=2**31 - 1,
        appl_id=310,
        maturity_year=2021,
        decay_start_date=65535,
        channel_id=0,
        currency="USD",
        group="ES",
        exchange="XCME",
        cfi="FFIXSX",
        unit_of_measure="IPNT",
        match_algorithm=dbn.MatchAlgorithm.FIFO,
        underlying_product=5,
        maturity_month=3,
        user_defined_instrument=dbn.UserDefinedInstrument.NO,
        leg_side=dbn.Side.NONE,
    )


def synthetic_day(rng: random.Random, day: dt.date, opening: int, settlement: int, sequence: int):
    """The six bodies of one synthetic day, its close, settlement and last sequence number."""
    midnight = _midnight(day)
    trades = _trades(rng, day, opening, sequence)
    minute_bars, price = [], opening
    for minute in MINUTES:
        high, low = price + TICK * rng.randint(0, 3), price - TICK * rng.randint(0, 3)
        close = rng.randint(low // TICK, high // TICK) * TICK
        minute_bars.append((minute, price, high, low, close, rng.randint(120, 400)))
        price = close
    close = _tick(opening / SCALE + rng.gauss(0.0, 12.0))
    day_high = max(opening, close, *(bar[2] for bar in minute_bars)) + TICK * rng.randint(4, 40)
    day_low = min(opening, close, *(bar[3] for bar in minute_bars)) - TICK * rng.randint(4, 40)
    new_settlement = close - TICK * rng.randint(-4, 4)
    statistics = [
        _statistic(
            midnight + 4_169 * SECOND + rng.randint(0, SECOND),
            rng,
            dbn.StatType.HIGHEST_BID,
            sequence + 60_000,
            price=opening + TICK * 20,
        ),
        _statistic(
            midnight + 50_400 * SECOND + rng.randint(0, SECOND),
            rng,
            dbn.StatType.CLEARED_VOLUME,
            sequence + 900_000,
            ts_ref=midnight - DAY,
            quantity=rng.randint(1_200_000, 1_900_000),
        ),
        _statistic(
            midnight + 50_401 * SECOND + rng.randint(0, SECOND),
            rng,
            dbn.StatType.OPEN_INTEREST,
            sequence + 900_001,
            ts_ref=midnight - DAY,
            quantity=rng.randint(2_300_000, 2_500_000),
        ),
        _statistic(
            midnight + 77_400 * SECOND + rng.randint(0, SECOND),
            rng,
            dbn.StatType.SETTLEMENT_PRICE,
            sequence + 1_400_000,
            ts_ref=midnight,
            price=new_settlement,
        ),
    ]
    bodies = {
        "ohlcv-1d": [
            dbn.OHLCVMsg(
                int(dbn.RType.OHLCV_1D),
                PUBLISHER_ID,
                INSTRUMENT_ID,
                midnight,
                opening,
                day_high,
                day_low,
                close,
                rng.randint(900_000, 1_600_000),
            )
        ],
        "ohlcv-1m": [
            dbn.OHLCVMsg(
                int(dbn.RType.OHLCV_1M), PUBLISHER_ID, INSTRUMENT_ID, midnight + minute * 60 * SECOND, o, h, lo, c, v
            )
            for minute, o, h, lo, c, v in minute_bars
        ],
        "trades": [dbn.TradeMsg(**_trade_fields(trade)) for trade in trades],
        "tbbo": [dbn.MBP1Msg(**_trade_fields(trade), levels=trade["book"]) for trade in trades],
        "statistics": statistics,
        "definition": [_definition(day, rng, settlement)],
    }
    return {schema: dbn_file(day, schema, records) for schema, records in bodies.items()}, close, new_settlement


def _note(day: dt.date, schema: str, verbatim: bool) -> str:
    if verbatim:
        return (
            f"VERBATIM Databento {schema} file of {SYMBOL} for {day}: databento-python's tests/data/GLBX.MDP3/"
            f"test_data.{schema}.dbn.zst (Apache-2.0; verbatim/README.md), requested with limit=4, so it holds "
            "the day's first records only; it answers the connector's request for the whole day. captured_at is "
            "nominal (when databento-python's generator ran is not recorded; the data was final by then)"
        )
    return (
        f"SYNTHETIC Databento {schema} file of {SYMBOL} for {day}, DBN v3 + zstd written with databento-dbn in "
        "the layout of the verbatim 2020-12-28 files (generate.py says what each schema holds)"
    )


def build() -> dict[str, bytes]:
    """Every generated file: name -> bytes."""
    rng = random.Random(SEED)
    files: dict[str, bytes] = {}
    exchanges = [
        exchange(
            GET_RANGE_URL,
            request_params(REAL_DAY, schema),
            HEADERS,
            f"verbatim/{body_name(REAL_DAY, schema)}",
            CAPTURED_AT,
            "verbatim",
            _note(REAL_DAY, schema, True),
        )
        for schema in SCHEMAS
    ]
    opening, settlement, sequence = REAL_CLOSE, REAL_SETTLEMENT, SEQUENCE_START
    for day in SYNTHETIC_DAYS:
        sequence += 2_000_000
        bodies, opening, settlement = synthetic_day(rng, day, opening, settlement, sequence)
        for schema, body in bodies.items():
            files[body_name(day, schema)] = body
            exchanges.append(
                exchange(
                    GET_RANGE_URL,
                    request_params(day, schema),
                    HEADERS,
                    body_name(day, schema),
                    CAPTURED_AT,
                    "synthetic",
                    _note(day, schema, False),
                )
            )
    manifest = {
        "source": "databento",
        "recorded_window": {"start": REAL_DAY.isoformat(), "end": SYNTHETIC_DAYS[-1].isoformat()},
        "exchanges": exchanges,
    }
    files["manifest.json"] = manifest_bytes(manifest)
    return files


def generate(out_dir: Path | str = HERE) -> list[str]:
    return write_files(build(), out_dir)


if __name__ == "__main__":
    raise SystemExit(generator_main(generate, HERE, __doc__))
