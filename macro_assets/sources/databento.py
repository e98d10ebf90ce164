"""Databento historical market data: GET https://hist.databento.com/v0/timeseries.get_range, one request per
(dataset, schema, symbol, UTC day), answered in DBN (Databento Binary Encoding) compressed with zstd.

Request: dataset (GLBX.MDP3), symbols (the raw symbol, ESH1), schema (ohlcv-1d, ohlcv-1m, trades, tbbo,
statistics, definition), start and end (the UTC day, end exclusive; Databento filters on ts_recv where the schema
has it, else on ts_event), stype_in=raw_symbol, stype_out=instrument_id, encoding=dbn, compression=zstd. The API
key from DATABENTO_API_KEY is the HTTP Basic user name (live only; it is sent as a header, so it never reaches a
URL, a log or a recording). Errors are JSON {"detail": "..."} with a 4xx status.

Format (decoded with the official databento-dbn bindings): a Metadata header (dataset, schema, symbols, and
`mappings`: each requested symbol's instrument_id per date interval), then fixed-size records. Prices are int64
fixed-point numbers of 1e-9; ts_event (the matching engine's time) and ts_recv (Databento's capture) are uint64
nanoseconds since the epoch, UTC. "Unset" is INT64_MAX for prices and statistic quantities, UINT64_MAX for
timestamps, UINT32_MAX for sizes and INT32_MAX for the int32 fields of a definition: all become null. A record
whose key (a trade's price, size or side) is unset cannot be stored and is quarantined; so is a record of an
instrument the metadata does not map to the dataset's symbol on that day.

Rows: OHLCV bars go to the bars shape (bar_time = ts_event, the bar's start); trades, TBBO, statistics and
definitions to their own tables with the ingestor seed's keys, ts_event and ts_recv kept to the nanosecond and
event_time = ts_event floored to the microsecond. stat_type and update_action keep Databento's codes.

Release time: a record with ts_recv was public when Databento received it: release_time = ts_recv rounded up to
the microsecond (never before the exact nanosecond), basis 'vintage'. An OHLCV bar has no ts_recv: it is public
when it closes, its start + the interval (basis 'estimated'; the pipeline dates a bar first seen, or seen changed,
by a later fetch at that fetch).

Resumable: `missing_windows` keeps the days of a window that have no stored row, so a re-run after an interrupted
or partial one fetches only those days (Databento bills by the data sent; a day it has nothing for is asked again).
A definition is dated (ts_event) before the day that delivers it, so the stored keys of a window do not show its
day: definition days are asked again, and an unchanged definition adds no vintage.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable, Iterable

import databento_dbn as dbn

from macro_assets.catalog import DatasetSpec
from macro_assets.catalog.model import INTERVALS
from macro_assets.provenance import Fetched
from macro_assets.sources.base import Parsed, SourceSession, fetched_from_response
from macro_assets.sources.records import RecordReader, payload_error, refuse_html
from macro_assets.timeutil import as_utc

SOURCE = "databento"
GET_RANGE_URL = "https://hist.databento.com/v0/timeseries.get_range"
API_KEY_ENV = "DATABENTO_API_KEY"
API_KEY_PATTERN = "db-[A-Za-z0-9]{29}"
API_KEY_HELP = "https://databento.com/portal/keys"
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
DBN_MAGIC = b"DBN"
UNSET_INT32 = 2**31 - 1
UNSET_SIZE = dbn.UNDEF_ORDER_SIZE
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
ONE_DAY = dt.timedelta(days=1)
# Error bodies are a short JSON object; a DBN file is never decoded as one.
ERROR_BODY_MAX_BYTES = 4096

# The schema a dataset's kind (and a bar set's interval) is requested in, and the record class it answers with.
SCHEMAS = {"trades": "trades", "tbbo": "tbbo", "statistics": "statistics", "definitions": "definition"}
RECORD_TYPES = {
    "trades": dbn.TradeMsg,
    "tbbo": dbn.MBP1Msg,
    "statistics": dbn.StatMsg,
    "definition": dbn.InstrumentDefMsg,
    "ohlcv-1d": dbn.OHLCVMsg,
    "ohlcv-1m": dbn.OHLCVMsg,
}
BAR_RTYPES = {"ohlcv-1d": dbn.RType.OHLCV_1D, "ohlcv-1m": dbn.RType.OHLCV_1M}

Window = tuple[dt.date, dt.date]  # inclusive UTC days


def schema_of(dataset: DatasetSpec) -> str:
    return f"ohlcv-{dataset.interval}" if dataset.kind == "bars" else SCHEMAS[dataset.kind]


def day_params(dataset: DatasetSpec, day: dt.date) -> dict[str, str]:
    """The query of the request for one UTC day of the dataset (the key goes in the Authorization header)."""
    start = dt.datetime.combine(day, dt.time(0), tzinfo=dt.UTC)
    return {
        "dataset": str(dataset.params["dataset"]),
        "symbols": str(dataset.params["symbol"]),
        "schema": schema_of(dataset),
        "start": start.strftime(TIME_FORMAT),
        "end": (start + ONE_DAY).strftime(TIME_FORMAT),
        "stype_in": "raw_symbol",
        "stype_out": "instrument_id",
        "encoding": "dbn",
        "compression": "zstd",
    }


def basic_auth(api_key: str) -> dict[str, str]:
    """Databento's HTTP Basic authentication: the key is the user name, the password is empty."""
    return {"Authorization": "Basic " + base64.b64encode(f"{api_key}:".encode()).decode("ascii")}


def _days(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


def missing_days(start: dt.date, end: dt.date, stored_keys: Iterable[dt.datetime]) -> list[Window]:
    """The days of [start, end] on which no stored row falls (its first key, a UTC instant), merged into runs of
    consecutive days."""
    stored = {as_utc(key).date() for key in stored_keys}
    windows: list[Window] = []
    for day in _days(start, end):
        if day in stored:
            continue
        if windows and windows[-1][1] + ONE_DAY == day:
            windows[-1] = (windows[-1][0], day)
        else:
            windows.append((day, day))
    return windows


class Databento:
    source = SOURCE

    def missing_windows(
        self, dataset: DatasetSpec, start: dt.date, end: dt.date, stored_keys: Iterable[dt.datetime]
    ) -> list[Window]:
        """The days of [start, end] with nothing stored, as runs of days `fetch` asks for one day at a time."""
        return missing_days(start, end, stored_keys)

    def fetch(self, session: SourceSession, dataset: DatasetSpec, start: dt.date, end: dt.date) -> list[Fetched]:
        """One request per UTC day of [start, end]; each payload's window is its day."""
        api_key = session.credential(SOURCE, API_KEY_ENV, API_KEY_PATTERN, API_KEY_HELP)
        headers = basic_auth(api_key) if api_key else None
        fetched = []
        for day in _days(start, end):
            response = session.client.get(SOURCE, GET_RANGE_URL, params=day_params(dataset, day), headers=headers)
            fetched.append(fetched_from_response(dataset, response, day, day))
        return fetched

    def parse(self, dataset: DatasetSpec, fetched: Fetched) -> Parsed:
        return parse_dbn(dataset, fetched)


# ------------------------------------------------------------------------------------------------- decoding
def _api_error(fetched: Fetched) -> str:
    """Databento's {"detail": ...} of an error answer, else the body's start."""
    body = fetched.body[:ERROR_BODY_MAX_BYTES]
    try:
        detail = json.loads(body).get("detail")
    except (ValueError, UnicodeDecodeError, AttributeError):
        detail = None
    return str(detail) if detail is not None else body[:200].decode("utf-8", "replace")


def decode(fetched: Fetched) -> tuple[dbn.Metadata, list]:
    """The payload's metadata and records, or a SourcePayloadError saying what came instead of DBN."""
    if fetched.status != 200:
        raise payload_error(fetched, "<body>", f"API error (HTTP {fetched.status}): {_api_error(fetched)}")
    refuse_html(fetched, "DBN")
    compressed = fetched.body[:4] == ZSTD_MAGIC
    if not compressed and fetched.body[:3] != DBN_MAGIC:
        raise payload_error(fetched, "<body>", f"expected DBN (zstd or plain), got bytes starting {fetched.body[:8]!r}")
    decoder = dbn.DBNDecoder(compression=dbn.Compression.ZSTD if compressed else dbn.Compression.NONE)
    try:
        decoder.write(fetched.body)
        decoded = decoder.decode()
    except (dbn.DBNError, ValueError) as error:
        raise payload_error(fetched, "<body>", f"not a readable DBN file ({error})") from None
    if not decoded or not isinstance(decoded[0], dbn.Metadata):
        raise payload_error(
            fetched,
            "<metadata>",
            f"the DBN stream has no metadata header: not DBN, or truncated ({len(fetched.body)} bytes)",
        )
    # The decoder keeps the bytes of a record it has not received whole: a body cut short in transfer.
    if left := len(decoder.buffer()):
        raise payload_error(fetched, "<body>", f"the DBN stream ends inside a record ({left} bytes left): truncated")
    return decoded[0], decoded[1:]


def _check_metadata(dataset: DatasetSpec, fetched: Fetched, metadata: dbn.Metadata) -> None:
    wanted = {"dataset": dataset.params["dataset"], "schema": schema_of(dataset)}
    for name, value in wanted.items():
        if str(getattr(metadata, name)) != value:
            raise payload_error(fetched, f"metadata.{name}", f"is {getattr(metadata, name)!s}, expected {value}")
    if dataset.params["symbol"] not in metadata.symbols:
        raise payload_error(
            fetched, "metadata.symbols", f"{metadata.symbols} lack the requested {dataset.params['symbol']}"
        )


def instrument_ids(dataset: DatasetSpec, fetched: Fetched, metadata: dbn.Metadata) -> Callable[[dt.date], int | None]:
    """The instrument_id of the dataset's symbol on a day, from the metadata's symbol mappings (end exclusive)."""
    symbol = str(dataset.params["symbol"])
    intervals = []
    for interval in metadata.mappings.get(symbol, []):
        try:
            intervals.append((interval["start_date"], interval["end_date"], int(interval["symbol"])))
        except (KeyError, ValueError) as error:
            raise payload_error(
                fetched, "metadata.mappings", f"{symbol}: unreadable interval {interval} ({error})"
            ) from None
    return lambda day: next((iid for first, stop, iid in intervals if first <= day < stop), None)


def instant(nanoseconds: int) -> dt.datetime:
    """A nanosecond timestamp floored to the microsecond the warehouse keeps."""
    return EPOCH + dt.timedelta(microseconds=nanoseconds // 1000)


def released_at(ts_recv: int) -> dt.datetime:
    """ts_recv rounded up to the microsecond: a record is never dated before Databento received it."""
    return EPOCH + dt.timedelta(microseconds=-(-ts_recv // 1000))


def price(raw: int) -> float | None:
    return None if raw == dbn.UNDEF_PRICE else raw / dbn.FIXED_PRICE_SCALE


def timestamp(raw: int) -> int | None:
    return None if raw == dbn.UNDEF_TIMESTAMP else raw


def size(raw: int) -> int | None:
    return None if raw == UNSET_SIZE else raw


def int32(raw: int) -> int | None:
    return None if raw == UNSET_INT32 else raw


def text(raw: object) -> str | None:
    """An enum's code or a string field; an empty one is unset."""
    value = getattr(raw, "value", raw)
    value = "" if value is None else str(value)
    return value or None


def _header(record) -> dict:
    return {"instrument_id": record.instrument_id, "publisher_id": record.publisher_id, "ts_recv": record.ts_recv}


def _trade(record) -> dict | str:
    """A trade's key and values (the TBBO's too), or why the record cannot be keyed."""
    if unset := [
        name for name, value in (("price", price(record.price)), ("size", size(record.size))) if value is None
    ]:
        return f"{'/'.join(unset)} unset: a trade's key needs them"
    return {
        "event_time": instant(record.ts_event),
        "ts_event": record.ts_event,
        "sequence": record.sequence,
        "price": price(record.price),
        "size": record.size,
        "side": text(record.side),
        **_header(record),
        "action": text(record.action),
        "flags": record.flags,
        "depth": record.depth,
        "ts_in_delta": record.ts_in_delta,
        "release_time": released_at(record.ts_recv),
        "release_basis": "vintage",
    }


def _tbbo(record) -> dict | str:
    row = _trade(record)
    if isinstance(row, str):
        return row
    level = record.levels[0]
    return {
        **row,
        "bid_px_00": price(level.bid_px),
        "ask_px_00": price(level.ask_px),
        "bid_sz_00": size(level.bid_sz),
        "ask_sz_00": size(level.ask_sz),
        "bid_ct_00": size(level.bid_ct),
        "ask_ct_00": size(level.ask_ct),
    }


def _statistic(record) -> dict:
    return {
        "event_time": instant(record.ts_event),
        "ts_event": record.ts_event,
        "stat_type": int(record.stat_type),
        "sequence": record.sequence,
        **_header(record),
        "ts_ref": timestamp(record.ts_ref),
        "price": price(record.price),
        "quantity": None if record.quantity == dbn.UNDEF_STAT_QUANTITY else record.quantity,
        "ts_in_delta": record.ts_in_delta,
        "channel_id": record.channel_id,
        "update_action": int(record.update_action),
        "stat_flags": record.stat_flags,
        "release_time": released_at(record.ts_recv),
        "release_basis": "vintage",
    }


def _definition(record) -> dict:
    # An outright (leg_count 0) carries zeros and blanks in its leg fields: they describe no leg.
    legged = record.leg_count > 0
    return {
        "event_time": instant(record.ts_event),
        "ts_event": record.ts_event,
        "leg_index": record.leg_index,
        **_header(record),
        "raw_symbol": text(record.raw_symbol),
        "security_update_action": text(record.security_update_action),
        "instrument_class": text(record.instrument_class),
        "min_price_increment": price(record.min_price_increment),
        "display_factor": price(record.display_factor),
        "expiration": timestamp(record.expiration),
        "activation": timestamp(record.activation),
        "high_limit_price": price(record.high_limit_price),
        "low_limit_price": price(record.low_limit_price),
        "max_price_variation": price(record.max_price_variation),
        "unit_of_measure_qty": price(record.unit_of_measure_qty),
        "min_price_increment_amount": price(record.min_price_increment_amount),
        "contract_multiplier": int32(record.contract_multiplier),
        "min_lot_size": int32(record.min_lot_size),
        "currency": text(record.currency),
        "exchange": text(record.exchange),
        "asset": text(record.asset),
        "security_group": text(record.group),
        "security_type": text(record.security_type),
        "cfi": text(record.cfi),
        "unit_of_measure": text(record.unit_of_measure),
        "underlying": text(record.underlying),
        "strike_price": price(record.strike_price),
        "leg_count": record.leg_count,
        "leg_instrument_id": record.leg_instrument_id if legged else None,
        "leg_raw_symbol": text(record.leg_raw_symbol) if legged else None,
        "leg_side": text(record.leg_side) if legged else None,
        "leg_ratio_qty_numerator": record.leg_ratio_qty_numerator if legged else None,
        "leg_ratio_qty_denominator": record.leg_ratio_qty_denominator if legged else None,
        "release_time": released_at(record.ts_recv),
        "release_basis": "vintage",
    }


def _bar(dataset: DatasetSpec):
    step = INTERVALS[dataset.interval]

    def row(record) -> dict | str:
        prices = {name: price(getattr(record, name)) for name in ("open", "high", "low", "close")}
        if unset := [name for name, value in prices.items() if value is None]:
            return f"{'/'.join(unset)} unset in a bar"
        start = instant(record.ts_event)
        return {
            "bar_time": start,
            **prices,
            "volume": float(record.volume),
            "release_time": start + step,
            "release_basis": "estimated",
        }

    return row


ROWS = {"trades": _trade, "tbbo": _tbbo, "statistics": _statistic, "definition": _definition}


def parse_dbn(dataset: DatasetSpec, fetched: Fetched) -> Parsed:
    """A get_range DBN payload -> rows of the dataset's shape (see the module docstring). Pure."""
    metadata, records = decode(fetched)
    _check_metadata(dataset, fetched, metadata)
    schema = schema_of(dataset)
    instrument_on = instrument_ids(dataset, fetched, metadata)
    to_row = _bar(dataset) if dataset.kind == "bars" else ROWS[schema]
    expected_type, bar_rtype = RECORD_TYPES[schema], BAR_RTYPES.get(schema)
    symbol = dataset.params["symbol"]
    reader = RecordReader(dataset, fetched, records, ())
    key_columns = dataset.shape.key_columns
    seen: set[tuple] = set()
    for index, record in enumerate(records):
        if not isinstance(record, expected_type) or (bar_rtype is not None and record.rtype != bar_rtype):
            reader.reject(index, "rtype", repr(record), f"a {record.rtype} record in a {schema} payload")
            continue
        # The day Databento filed the record under: its receipt, or a bar's start.
        day = instant(getattr(record, "ts_recv", record.ts_event)).date()
        mapped = instrument_on(day)
        if record.instrument_id != mapped:
            reader.reject(
                index,
                "instrument_id",
                repr(record),
                f"instrument_id {record.instrument_id} is not {symbol}'s on {day} (the metadata maps it to {mapped})",
            )
            continue
        if schema == "definition" and record.raw_symbol != symbol:
            reader.reject(index, "raw_symbol", repr(record), f"raw_symbol {record.raw_symbol!r} is not {symbol}")
            continue
        row = to_row(record)
        if isinstance(row, str):
            reader.reject(index, "<key>", repr(record), row)
            continue
        key = tuple(row[name] for name in key_columns)
        if key in seen:
            reader.reject(index, "<key>", repr(record), f"a second record for the key {dict(zip(key_columns, key))}")
            continue
        seen.add(key)
        reader.add(**row)
    parsed = reader.parsed()
    parsed.rows = parsed.rows.sort(key_columns)
    return parsed


connector = Databento()
