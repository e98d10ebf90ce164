"""Databento: the real DBN test files of databento-python decode to the values of the research dump (prices scaled
1e-9, nanoseconds exact, unset values null), a DBN fixture written here with databento-dbn covers the odd cases
(unset key fields, a deleted statistic, a foreign instrument, a repeated key, a legged definition), unusable answers
are refused naming the field, and fetch asks one request per UTC day, only for the days with nothing stored."""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
from dataclasses import replace
from types import SimpleNamespace

import databento_dbn as dbn
import httpx
import pytest

from macro_assets.catalog import load_catalog
from macro_assets.errors import MissingCredentials, SourcePayloadError
from macro_assets.http.client import HttpClient
from macro_assets.sources.base import SourceSession
from macro_assets.sources.databento import (
    API_KEY_ENV,
    GET_RANGE_URL,
    connector,
    day_params,
    missing_days,
    parse_dbn,
)
from macro_assets_tests.paths import RECORDINGS, shared
from macro_assets_tests.sources.payloads import fetched
from macro_assets_tests.sources.replay import CountingReplay, Exchange, write_manifest

CATALOG = load_catalog()
TRADES, TBBO = CATALOG.get("databento.ESH1_trades"), CATALOG.get("databento.ESH1_tbbo")
STATISTICS, DEFINITION = CATALOG.get("databento.ESH1_statistics"), CATALOG.get("databento.ESH1_definition")
DAILY, MINUTE = CATALOG.get("databento.ESH1_ohlcv_1d"), CATALOG.get("databento.ESH1_ohlcv_1m")
VERBATIM = RECORDINGS / "databento" / "verbatim"
DAY = dt.date(2020, 12, 28)
MIDNIGHT = 1_609_113_600_000_000_000  # 2020-12-28T00:00Z in ns
API_KEY = "db-" + "A1b2C3d4E5" * 2 + "F6g7H8i9J"
SCHEMAS = ("ohlcv-1d", "ohlcv-1m", "trades", "tbbo", "statistics", "definition")


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def real(schema: str) -> bytes:
    return (VERBATIM / f"GLBX.MDP3_ESH1_2020-12-28.{schema}.dbn.zst").read_bytes()


def parse(dataset, body: bytes, status: int = 200):
    return parse_dbn(dataset, fetched(str(dataset.id), body, status=status, content_type="application/octet-stream"))


def refused(dataset, body: bytes, status: int = 200) -> SourcePayloadError:
    with pytest.raises(SourcePayloadError) as caught:
        parse(dataset, body, status)
    return caught.value


def dbn_file(schema: str, records: list, *, instrument_id: int = 5482, compressed: bool = True) -> bytes:
    """A get_range answer for 2020-12-28 written with databento-dbn: metadata mapping ESH1, then the records."""
    mapping = SimpleNamespace(
        raw_symbol="ESH1",
        intervals=[SimpleNamespace(start_date=DAY, end_date=DAY + dt.timedelta(days=1), symbol=str(instrument_id))],
    )
    metadata = dbn.Metadata(
        dataset="GLBX.MDP3",
        schema=dbn.Schema.from_str(schema),
        start=MIDNIGHT,
        end=MIDNIGHT + 86_400 * 10**9,
        stype_in=dbn.SType.RAW_SYMBOL,
        stype_out=dbn.SType.INSTRUMENT_ID,
        symbols=["ESH1"],
        mappings=[mapping],
    )
    plain = metadata.encode() + b"".join(bytes(record) for record in records)
    if not compressed:
        return plain
    out = io.BytesIO()
    transcoder = dbn.Transcoder(out, dbn.Encoding.DBN, dbn.Compression.ZSTD)
    transcoder.write(plain)
    transcoder.flush()
    return out.getvalue()


def trade(offset_ns: int, *, price: int = 3702_750_000_000, size: int = 1, instrument_id: int = 5482, sequence=1):
    return dbn.TradeMsg(
        publisher_id=1,
        instrument_id=instrument_id,
        ts_event=MIDNIGHT + offset_ns,
        price=price,
        size=size,
        action=dbn.Action.TRADE,
        side=dbn.Side.ASK,
        depth=0,
        ts_recv=MIDNIGHT + offset_ns + 1_500,
        flags=dbn.F_LAST,
        ts_in_delta=18_000,
        sequence=sequence,
    )


def statistic(stat_type, sequence: int, **values):
    fields = {"ts_ref": dbn.UNDEF_TIMESTAMP, "price": dbn.UNDEF_PRICE, "quantity": dbn.UNDEF_STAT_QUANTITY}
    return dbn.StatMsg(
        publisher_id=1,
        instrument_id=5482,
        ts_event=MIDNIGHT + 3_600 * 10**9,
        ts_recv=MIDNIGHT + 3_600 * 10**9 + 999,
        stat_type=stat_type,
        sequence=sequence,
        channel_id=0,
        stat_flags=0,
        **{**fields, **values},
    )


# ------------------------------------------------------------------------------------------- the real files
@pytest.mark.parametrize("schema", SCHEMAS)
def test_the_recorded_files_are_byte_identical_to_the_research_samples(schema):
    name = f"GLBX.MDP3_ESH1_2020-12-28.{schema}.dbn.zst"
    assert (VERBATIM / name).read_bytes() == shared("reference", "samples", "databento", name).read_bytes()


def test_the_real_daily_bar_is_the_utc_day_released_at_its_close():
    [bar] = parse(DAILY, real("ohlcv-1d")).rows.to_dicts()
    assert bar["bar_time"] == utc(2020, 12, 28)
    assert (bar["open"], bar["high"], bar["low"], bar["close"], bar["volume"]) == (3702.75, 3735, 3697.25, 3735, 718174)
    assert (bar["release_time"], bar["release_basis"]) == (utc(2020, 12, 29), "estimated")


def test_the_real_minute_bars_keep_their_starts_and_prices():
    rows = parse(MINUTE, real("ohlcv-1m")).rows
    assert rows["bar_time"].to_list() == [utc(2020, 12, 28, 0, m) for m in range(4)]
    assert rows["open"].to_list() == [3702.75, 3704.75, 3704.25, 3704.5]
    assert rows["close"].to_list() == [3704.75, 3704, 3704.5, 3703]
    assert rows["volume"].to_list() == [306, 214, 192, 158]
    assert rows["release_time"].to_list() == [utc(2020, 12, 28, 0, m + 1) for m in range(4)]


def test_real_trades_keep_nanoseconds_and_are_released_at_ts_recv_rounded_up():
    parsed = parse(TRADES, real("trades"))
    assert (parsed.records, parsed.quarantine) == (4, [])
    first = parsed.rows.row(0, named=True)
    assert first["ts_event"] == 1609113600246507011 and first["ts_recv"] == 1609113600246821748
    assert first["event_time"] == utc(2020, 12, 28, 0, 0, 0, 246507)  # floored: the key's microsecond
    assert first["release_time"] == utc(2020, 12, 28, 0, 0, 0, 246822)  # never before the exact nanosecond
    assert first["release_basis"] == "vintage"
    assert parsed.rows["price"].to_list() == [3702.75, 3702.75, 3702.5, 3702.75]
    assert parsed.rows["side"].to_list() == ["B", "B", "A", "B"]
    assert parsed.rows["sequence"].to_list() == [145885, 145903, 145914, 145934]
    assert parsed.rows["ts_in_delta"].to_list() == [18113, 17878, 22269, 17855]
    assert set(parsed.rows["action"]) == {"T"} and set(parsed.rows["instrument_id"]) == {5482}
    assert set(parsed.rows["publisher_id"]) == {1} and set(parsed.rows["flags"]) == {0}


def test_real_tbbo_keeps_the_book_before_each_trade():
    rows = parse(TBBO, real("tbbo")).rows
    assert rows["ts_event"].to_list() == parse(TRADES, real("trades")).rows["ts_event"].to_list()
    first = rows.row(0, named=True)
    assert (first["bid_px_00"], first["ask_px_00"]) == (3702.5, 3702.75)
    assert (first["bid_sz_00"], first["ask_sz_00"], first["bid_ct_00"], first["ask_ct_00"]) == (8, 8, 7, 8)
    assert rows["ask_sz_00"].to_list() == [8, 5, 9, 10]


def test_real_statistics_keep_their_codes_and_unset_quantity_and_ts_ref_are_null():
    rows = parse(STATISTICS, real("statistics")).rows
    # Keyed (event_time, ts_event, stat_type, sequence): the session high (5) sorts before the bid (8) of its instant.
    assert rows["stat_type"].to_list() == [8, 8, 5, 8]
    assert rows["sequence"].to_list() == [210043, 210232, 210353, 210354]
    assert rows["price"].to_list() == [3707.75, 3708, 3708.25, 3708.25]
    assert rows["quantity"].null_count() == 4 and rows["ts_ref"].null_count() == 4
    assert set(rows["update_action"]) == {1} and set(rows["stat_flags"]) == {255}
    assert rows["ts_event"][0] == 1609117769470220283 and rows["ts_recv"][0] == 1609117769471598612


def test_the_real_definition_scales_its_prices_and_nulls_its_unset_fields():
    [row] = parse(DEFINITION, real("definition")).rows.to_dicts()
    assert (row["raw_symbol"], row["instrument_class"], row["security_update_action"]) == ("ESH1", "F", "A")
    assert (row["min_price_increment"], row["display_factor"]) == (0.25, 0.01)
    assert (row["high_limit_price"], row["low_limit_price"], row["max_price_variation"]) == (3953.5, 3435.5, 6)
    assert (row["unit_of_measure_qty"], row["min_price_increment_amount"]) == (50, 0.125)
    assert row["expiration"] == 1616160600000000000 and row["activation"] == 1576852200000000000
    assert (row["currency"], row["exchange"], row["asset"], row["security_group"]) == ("USD", "XCME", "ES", "ES")
    assert (row["cfi"], row["security_type"], row["unit_of_measure"]) == ("FFIXSX", "FUT", "IPNT")
    assert row["contract_multiplier"] is None and row["strike_price"] is None and row["underlying"] is None
    assert (row["leg_count"], row["leg_index"], row["leg_instrument_id"], row["leg_side"]) == (0, 0, None, None)
    # Sent at the day's start, dated by the exchange the day before: the release is the receipt.
    assert row["event_time"] == utc(2020, 12, 27, 17, 5, 15, 926494)
    assert row["release_time"] == utc(2020, 12, 28)


# ---------------------------------------------------------------------------------------- a written fixture
def test_unset_trade_keys_a_foreign_instrument_and_a_repeated_key_are_quarantined_with_reasons():
    body = dbn_file(
        "trades",
        [
            trade(1_000, sequence=1),
            trade(2_000, price=dbn.UNDEF_PRICE, sequence=2),
            trade(3_000, size=dbn.UNDEF_ORDER_SIZE, sequence=3),
            trade(4_000, instrument_id=42, sequence=4),
            trade(1_000, sequence=1),
        ],
    )
    parsed = parse(TRADES, body)
    assert parsed.records == 5 and parsed.rows["sequence"].to_list() == [1]
    reasons = [q.reason for q in parsed.quarantine]
    assert reasons[0] == "price unset: a trade's key needs them" and reasons[1].startswith("size unset")
    assert "instrument_id 42 is not ESH1's on 2020-12-28 (the metadata maps it to 5482)" in reasons[2]
    assert reasons[3].startswith("a second record for the key")
    assert parsed.rows["flags"].to_list() == [dbn.F_LAST]


def test_a_plain_dbn_answer_decodes_too_and_sub_microsecond_receipt_rounds_up():
    [row] = parse(TRADES, dbn_file("trades", [trade(1)], compressed=False)).rows.to_dicts()
    assert row["ts_event"] == MIDNIGHT + 1 and row["event_time"] == utc(2020, 12, 28)
    assert row["release_time"] == utc(2020, 12, 28, 0, 0, 0, 2)  # ts_recv = midnight + 1501 ns


def test_a_one_sided_book_keeps_the_set_side_and_nulls_the_other():
    record = dbn.MBP1Msg(
        publisher_id=1,
        instrument_id=5482,
        ts_event=MIDNIGHT,
        price=3702_750_000_000,
        size=2,
        action=dbn.Action.TRADE,
        side=dbn.Side.BID,
        depth=0,
        ts_recv=MIDNIGHT + 300,
        levels=dbn.BidAskPair(bid_px=3702_500_000_000, ask_px=dbn.UNDEF_PRICE, bid_sz=4, bid_ct=2),
    )
    [row] = parse(TBBO, dbn_file("tbbo", [record])).rows.to_dicts()
    assert (row["bid_px_00"], row["ask_px_00"], row["bid_sz_00"], row["ask_sz_00"]) == (3702.5, None, 4, 0)


def test_statistics_keep_a_deletion_a_quantity_without_price_and_a_reference_time():
    body = dbn_file(
        "statistics",
        [
            statistic(dbn.StatType.SETTLEMENT_PRICE, 1, price=3729_500_000_000, ts_ref=MIDNIGHT),
            statistic(dbn.StatType.CLEARED_VOLUME, 2, quantity=1_530_000, update_action=dbn.StatUpdateAction.NEW),
            statistic(dbn.StatType.SETTLEMENT_PRICE, 3, update_action=dbn.StatUpdateAction.DELETE),
        ],
    )
    rows = parse(STATISTICS, body).rows.sort("sequence").to_dicts()
    settlement, volume, deleted = rows
    assert (settlement["stat_type"], settlement["price"], settlement["ts_ref"]) == (3, 3729.5, MIDNIGHT)
    assert settlement["quantity"] is None
    assert (volume["stat_type"], volume["price"], volume["quantity"]) == (6, None, 1_530_000)
    assert (deleted["update_action"], deleted["price"], deleted["quantity"]) == (2, None, None)


def test_a_calendar_spread_definition_keeps_its_leg():
    spread = dbn.InstrumentDefMsg(
        publisher_id=1,
        instrument_id=5482,
        ts_event=MIDNIGHT - 10**9,
        ts_recv=MIDNIGHT,
        min_price_increment=50_000_000,
        display_factor=10_000_000,
        raw_symbol="ESH1",
        asset="ES",
        security_type="FUT",
        instrument_class=dbn.InstrumentClass.FUTURE_SPREAD,
        security_update_action=dbn.SecurityUpdateAction.ADD,
        strike_price=dbn.UNDEF_PRICE,
        contract_multiplier=50,
        leg_count=2,
        leg_index=1,
        leg_instrument_id=9999,
        leg_raw_symbol="ESM1",
        leg_side=dbn.Side.ASK,
        leg_ratio_qty_numerator=1,
        leg_ratio_qty_denominator=1,
    )
    [row] = parse(DEFINITION, dbn_file("definition", [spread])).rows.to_dicts()
    assert (row["instrument_class"], row["leg_count"], row["leg_index"]) == ("S", 2, 1)
    assert (row["leg_instrument_id"], row["leg_raw_symbol"], row["leg_side"]) == (9999, "ESM1", "A")
    assert (row["contract_multiplier"], row["strike_price"], row["min_price_increment"]) == (50, None, 0.05)


def test_a_definition_of_another_symbol_is_quarantined():
    other = dbn.InstrumentDefMsg(
        publisher_id=1,
        instrument_id=5482,
        ts_event=MIDNIGHT,
        ts_recv=MIDNIGHT,
        min_price_increment=250_000_000,
        display_factor=10_000_000,
        raw_symbol="ESM1",
        asset="ES",
        security_type="FUT",
        instrument_class=dbn.InstrumentClass.FUTURE,
        security_update_action=dbn.SecurityUpdateAction.ADD,
    )
    parsed = parse(DEFINITION, dbn_file("definition", [other]))
    assert parsed.rows.is_empty() and parsed.quarantine[0].reason == "raw_symbol 'ESM1' is not ESH1"


# ------------------------------------------------------------------------------------------------- refusals
def test_an_api_error_is_refused_quoting_its_detail():
    error = refused(TRADES, json.dumps({"detail": "Authentication failed."}).encode(), status=401)
    assert error.field == "<body>" and "API error (HTTP 401): Authentication failed." in str(error)


def test_an_html_page_or_bytes_that_are_not_dbn_are_refused():
    assert "got an HTML page" in str(refused(TRADES, b"<html><title>Bad gateway</title></html>"))
    assert "expected DBN (zstd or plain)" in str(refused(TRADES, b'{"records": []}'))
    assert "no metadata header: not DBN, or truncated" in str(refused(TRADES, b"DBN\x03garbage"))
    newer = refused(TRADES, b"DBN\x09" + bytes(200))
    assert "not a readable DBN file" in str(newer) and "input version is 9" in str(newer)


def test_a_body_cut_short_is_refused_not_read_in_part():
    whole = dbn_file("trades", [trade(1_000), trade(2_000, sequence=2)], compressed=False)
    error = refused(TRADES, whole[:-10])
    assert error.field == "<body>" and "ends inside a record (38 bytes left): truncated" in str(error)
    assert "truncated" in str(refused(TRADES, real("trades")[:-20]))


def test_an_answer_of_another_schema_or_symbol_is_refused_naming_the_field():
    error = refused(TBBO, real("trades"))
    assert error.field == "metadata.schema" and "is trades, expected tbbo" in str(error)
    nasdaq = replace(TRADES, params=TRADES.params | {"dataset": "XNAS.ITCH"})
    assert "is GLBX.MDP3, expected XNAS.ITCH" in str(refused(nasdaq, real("trades")))
    other = replace(TRADES, params=TRADES.params | {"symbol": "ESM1"})
    assert refused(other, real("trades")).field == "metadata.symbols"


# --------------------------------------------------------------------------------------------------- fetching
def session(transport: httpx.BaseTransport, live: bool = False) -> SourceSession:
    return SourceSession(HttpClient(transport, sleep=lambda seconds: None), live=live)


@pytest.fixture(autouse=True)
def _no_ambient_key(monkeypatch):
    monkeypatch.delenv(API_KEY_ENV, raising=False)


def test_days_with_a_stored_row_are_not_asked_again():
    stored = [utc(2020, 12, 28, 0, 0, 1), utc(2020, 12, 28, 23), utc(2020, 12, 30, 5)]
    assert missing_days(dt.date(2020, 12, 28), dt.date(2020, 12, 31), stored) == [
        (dt.date(2020, 12, 29), dt.date(2020, 12, 29)),
        (dt.date(2020, 12, 31), dt.date(2020, 12, 31)),
    ]
    assert missing_days(dt.date(2020, 12, 28), dt.date(2020, 12, 31), []) == [
        (dt.date(2020, 12, 28), dt.date(2020, 12, 31))
    ]
    assert missing_days(dt.date(2020, 12, 28), dt.date(2020, 12, 28), stored) == []


def test_offline_fetch_asks_one_request_per_utc_day_without_credentials():
    transport = CountingReplay(RECORDINGS)
    payloads = connector.fetch(session(transport), TRADES, dt.date(2020, 12, 28), dt.date(2020, 12, 30))
    assert transport.queries == [day_params(TRADES, DAY + dt.timedelta(days=i)) for i in range(3)]
    assert transport.queries[0] == {
        "dataset": "GLBX.MDP3",
        "symbols": "ESH1",
        "schema": "trades",
        "start": "2020-12-28T00:00:00Z",
        "end": "2020-12-29T00:00:00Z",
        "stype_in": "raw_symbol",
        "stype_out": "instrument_id",
        "encoding": "dbn",
        "compression": "zstd",
    }
    assert [(p.window_start, p.window_end) for p in payloads] == [(DAY + dt.timedelta(days=i),) * 2 for i in range(3)]
    assert payloads[0].body == real("trades") and payloads[0].fetched_at == utc(2021, 1, 4, 12)


class HeaderRecorder(httpx.BaseTransport):
    def __init__(self, inner: httpx.BaseTransport):
        self.inner, self.headers = inner, []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.headers.append(dict(request.headers))
        return self.inner.handle_request(request)


def test_live_fetch_sends_the_key_as_basic_auth_and_never_in_the_request(tmp_path, monkeypatch):
    monkeypatch.setenv(API_KEY_ENV, API_KEY)
    params = day_params(TRADES, DAY)
    root = write_manifest(
        tmp_path, "databento", [Exchange(GET_RANGE_URL, params, VERBATIM / "GLBX.MDP3_ESH1_2020-12-28.trades.dbn.zst")]
    )
    transport = HeaderRecorder(CountingReplay(root))
    [payload] = connector.fetch(session(transport, live=True), TRADES, DAY, DAY)
    assert transport.headers[0]["authorization"] == "Basic " + base64.b64encode(f"{API_KEY}:".encode()).decode()
    assert transport.inner.queries == [params]
    assert API_KEY not in payload.request and payload.body == real("trades")


@pytest.mark.parametrize(
    "value, problem", [(None, f"live mode needs the environment variable {API_KEY_ENV}"), ("abc", "malformed")]
)
def test_live_fetch_without_a_valid_key_fails_before_any_request(tmp_path, monkeypatch, value, problem):
    if value:
        monkeypatch.setenv(API_KEY_ENV, value)
    transport = CountingReplay(write_manifest(tmp_path, "databento", []))
    with pytest.raises(MissingCredentials, match=problem):
        connector.fetch(session(transport, live=True), TRADES, DAY, DAY)
    assert transport.queries == []
