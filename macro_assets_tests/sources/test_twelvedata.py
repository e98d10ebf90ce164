"""TwelveData connector: the recorded December 2018 windows, the real error samples, session filtering, the gap
backfill (expected bars vs stored ones -> request windows), the request shapes with and without the API key, the
credit-aware live transport, and the recording generator. Pure: no database, no Dagster, no network."""

from __future__ import annotations

import datetime as dt
import gzip
import json

import httpx
import polars as pl
import pytest

from macro_assets.catalog import load_catalog, parse_catalog
from macro_assets.errors import InvalidInput, MissingCredentials, SourcePayloadError
from macro_assets.http.client import HttpClient, RetryPolicy
from macro_assets.http.replay import RecordingNotFound
from macro_assets.provenance import Fetched
from macro_assets.sources.base import SourceSession
from macro_assets.sources.twelvedata import (
    API_KEY_ENV,
    MAX_OUTPUTSIZE,
    TIME_SERIES_URL,
    CreditAwareTransport,
    connector,
    expected_bar_times,
    gap_windows,
    request_windows,
    window_params,
)
from macro_assets_tests.paths import FIXTURES, RECORDINGS, shared
from macro_assets_tests.sources import payloads
from macro_assets_tests.sources.replay import CountingReplay, Exchange, write_manifest

RECORDED = RECORDINGS / "twelvedata"
QUIRKS = FIXTURES / "twelvedata"
CATALOG = load_catalog()
USDCOP = CATALOG.get("twelvedata.USDCOP_5min")
STEP = dt.timedelta(minutes=5)
FIRST_WINDOW = "USDCOP_5min_2018-12-03T1300_2018-12-20T1800.json"
SECOND_WINDOW = "USDCOP_5min_2018-12-21T1300_2018-12-31T1800.json"
GAP_WINDOW = "USDCOP_5min_2018-12-12T1515_2018-12-12T1540.json"
API_KEY = "0123456789abcdef0123456789abcdef"
HAND_WRITTEN = {"README.md", "generate.py", "__init__.py"}


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def bogota(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=USDCOP.instrument.timezone).astimezone(dt.UTC)


def fetched(body: bytes, status: int = 200, dataset=USDCOP) -> Fetched:
    return payloads.fetched(
        str(dataset.id),
        body,
        status=status,
        content_type="application/json; charset=utf-8",
        fetched_at=utc(2019, 1, 2, 12),
        window=(dt.date(2018, 12, 3), dt.date(2018, 12, 31)),
    )


def parse(body: bytes, status: int = 200, dataset=USDCOP):
    return connector.parse(dataset, fetched(body, status, dataset))


def refused(body: bytes, status: int = 200) -> SourcePayloadError:
    with pytest.raises(SourcePayloadError) as caught:
        parse(body, status)
    return caught.value


def recorded(name: str) -> bytes:
    return (RECORDED / name).read_bytes()


def manifest() -> dict:
    return json.loads((RECORDED / "manifest.json").read_text())


def session(transport: httpx.BaseTransport, live: bool = False) -> SourceSession:
    return SourceSession(
        HttpClient(transport, rate_limits={"twelvedata": 1000.0}, sleep=lambda seconds: None), live=live
    )


@pytest.fixture(autouse=True)
def _no_ambient_key(monkeypatch):
    monkeypatch.delenv(API_KEY_ENV, raising=False)


# ------------------------------------------------------------------------------------------ real samples
@pytest.mark.parametrize("name", ["error_429_credits.json", "RECONSTRUCTED_error_400_symbol.json"])
def test_copied_samples_are_byte_identical_to_the_research_samples(name):
    assert (QUIRKS / name).read_bytes() == shared("reference", "samples", "twelvedata", name).read_bytes()


def test_exhausted_credits_with_http_200_refuse_the_payload_quoting_the_api():
    error = refused(shared("reference", "samples", "twelvedata", "error_429_credits.json").read_bytes())
    assert (error.source, error.dataset_id, error.field) == ("twelvedata", "twelvedata.USDCOP_5min", "<body>")
    assert "API credits exhausted (code 429, HTTP 200)" in str(error)
    assert "12 API credits were used, with the current limit being 8" in str(error)


def test_an_unknown_symbol_refuses_the_payload():
    error = refused((QUIRKS / "RECONSTRUCTED_error_400_symbol.json").read_bytes(), status=400)
    assert "API error (code 400, HTTP 400): **symbol** not found: USD/XYZ" in str(error)


def test_a_batch_answer_is_refused_as_a_changed_format():
    body = shared("reference", "samples", "twelvedata", "batch_time_series_forex_1day_2023-08-04.json").read_bytes()
    assert "USD/CZK" in str(refused(body))


@pytest.mark.parametrize("status", [400, 200])
def test_no_data_on_the_specified_dates_is_an_empty_window(status):
    parsed = parse((QUIRKS / "error_400_no_data.json").read_bytes(), status=status)
    assert parsed.rows.is_empty() and parsed.quarantine == [] and parsed.records == 0


# ------------------------------------------------------------------------------------------ parsing
def test_recorded_first_window_keeps_the_session_bars_and_counts_the_rest():
    body = recorded(FIRST_WINDOW)
    values = json.loads(body)["values"]
    parsed = parse(body)
    sessions = [bar for bar in expected_bar_times(USDCOP, dt.date(2018, 12, 3), dt.date(2018, 12, 20))]
    assert parsed.rows.height == len(sessions) - 5 == 14 * 60 - 5  # 14 sessions, the 2018-12-12 gap
    assert parsed.records == len(values) and parsed.quarantine == [] and parsed.missing == 0
    assert parsed.records - parsed.rows.height == 2522  # out-of-session bars: counted, not stored
    assert set(parsed.rows["bar_time"].to_list()) <= set(sessions)
    assert parsed.rows["bar_time"].is_sorted()


def test_datetimes_are_utc_and_the_first_bar_is_08_00_bogota_released_at_its_close():
    parsed = parse(recorded(FIRST_WINDOW))
    first = parsed.rows.row(0, named=True)
    assert first["bar_time"] == utc(2018, 12, 3, 13) == bogota(2018, 12, 3, 8)
    assert first["release_time"] == utc(2018, 12, 3, 13, 5) and first["release_basis"] == "estimated"
    assert (first["open"], first["close"]) == (3195.0, 3195.0)
    assert first["volume"] is None and first["adj_close"] is None and first["dividend"] is None
    last = parsed.rows.row(-1, named=True)
    assert last["bar_time"] == bogota(2018, 12, 20, 12, 55) and last["release_time"] == bogota(2018, 12, 20, 13)


def test_session_edges_12_55_in_13_00_out_07_55_out_08_00_in():
    parsed = parse((QUIRKS / "quirk_session_edges_USDCOP.json").read_bytes())
    assert parsed.rows["bar_time"].to_list() == [
        bogota(2018, 12, 3, 12, 50),
        bogota(2018, 12, 3, 12, 55),
        bogota(2018, 12, 4, 8, 0),
        bogota(2018, 12, 4, 8, 5),
    ]
    assert parsed.records == 6 and parsed.quarantine == []
    assert parsed.rows["close"].to_list() == [3186.6, 3187.9, 3192.4, 3193.2]


def test_session_membership_follows_new_york_dst_for_a_new_york_instrument():
    catalog = parse_catalog(
        {
            "twelvedata.yaml": (RECORDINGS.parent / "catalog" / "datasets" / "twelvedata.yaml")
            .read_text()
            .replace("instrument: USDCOP", "instrument: SPX")
        },
        (RECORDINGS.parent / "catalog" / "instruments.yaml").read_text(),
    )
    spx = catalog.get("twelvedata.USDCOP_5min")
    body = json.dumps(
        {
            "meta": {"symbol": "USD/COP", "interval": "5min"},
            "status": "ok",
            "values": [
                {"datetime": stamp, "open": "1.00000", "high": "1.00000", "low": "1.00000", "close": "1.00000"}
                for stamp in (
                    "2018-07-02 13:30:00",
                    "2018-07-02 14:25:00",
                    "2018-01-02 13:30:00",
                    "2018-01-02 14:30:00",
                )
            ],
        }
    )
    parsed = parse(body.encode(), dataset=spx)
    # 09:30 New York is 13:30 UTC in July (EDT) and 14:30 UTC in January (EST); 13:30 UTC in January is 08:30.
    assert parsed.rows["bar_time"].to_list() == [
        utc(2018, 1, 2, 14, 30),
        utc(2018, 7, 2, 13, 30),
        utc(2018, 7, 2, 14, 25),
    ]


def test_an_unreadable_or_null_price_or_datetime_is_quarantined_and_a_second_bar_for_a_time_too():
    document = json.loads((QUIRKS / "quirk_session_edges_USDCOP.json").read_bytes())
    document["values"][0]["close"] = "3,193.20000"
    document["values"][1]["datetime"] = "2018-12-04T13:00:00"
    document["values"][4]["open"] = None
    document["values"].append(dict(document["values"][-1]))
    parsed = parse(json.dumps(document).encode())
    reasons = {(q.record_index, q.field): q.reason for q in parsed.quarantine}
    assert set(reasons) == {(0, "close"), (1, "datetime"), (4, "open"), (6, "datetime")}
    assert "not a number: '3,193.20000'" in reasons[(0, "close")]
    assert "does not match" in reasons[(1, "datetime")] and "a second bar" in reasons[(6, "datetime")]
    assert "NoneType" in reasons[(4, "open")]
    assert parsed.rows["bar_time"].to_list() == [bogota(2018, 12, 3, 12, 50)]


@pytest.mark.parametrize(
    "edit, field",
    [
        (lambda d: d["meta"].update(symbol="USD/BRL"), "meta.symbol"),
        (lambda d: d["meta"].update(interval="1min"), "meta.interval"),
        (lambda d: d.pop("values"), "values"),
        (lambda d: [v.pop("close") for v in d["values"]], "close"),
    ],
    ids=["symbol", "interval", "no-values", "renamed-close"],
)
def test_a_foreign_or_changed_payload_is_refused_naming_the_field(edit, field):
    document = json.loads((QUIRKS / "quirk_session_edges_USDCOP.json").read_bytes())
    edit(document)
    assert refused(json.dumps(document).encode()).field == field


# ------------------------------------------------------------------------------------------ gaps
def test_expected_bars_are_the_60_of_each_session_and_none_on_holidays_and_weekends():
    bars = expected_bar_times(USDCOP, dt.date(2018, 12, 24), dt.date(2018, 12, 26))
    assert len(bars) == 120  # the 24th and the 26th; Christmas is a Colombian holiday
    assert bars[0] == bogota(2018, 12, 24, 8) and bars[59] == bogota(2018, 12, 24, 12, 55)
    assert expected_bar_times(USDCOP, dt.date(2018, 12, 25), dt.date(2018, 12, 25)) == []
    assert expected_bar_times(USDCOP, dt.date(2018, 12, 8), dt.date(2018, 12, 9)) == []  # a weekend


def test_a_session_fully_present_needs_no_request():
    day = expected_bar_times(USDCOP, dt.date(2018, 12, 12), dt.date(2018, 12, 12))
    assert connector.missing_windows(USDCOP, dt.date(2018, 12, 12), dt.date(2018, 12, 12), day) == []
    assert connector.missing_windows(USDCOP, dt.date(2018, 12, 25), dt.date(2018, 12, 25), []) == []


def test_missing_bars_become_one_window_from_the_first_to_the_end_of_the_last():
    day = expected_bar_times(USDCOP, dt.date(2018, 12, 12), dt.date(2018, 12, 12))
    stored = [bar for bar in day if not bogota(2018, 12, 12, 10, 15) <= bar < bogota(2018, 12, 12, 10, 40)]
    assert connector.missing_windows(USDCOP, dt.date(2018, 12, 12), dt.date(2018, 12, 12), stored) == [
        (bogota(2018, 12, 12, 10, 15), bogota(2018, 12, 12, 10, 40))
    ]


def test_scattered_missing_bars_merge_into_one_window_while_it_spans_at_most_5000_intervals():
    expected = expected_bar_times(USDCOP, dt.date(2018, 12, 3), dt.date(2018, 12, 31))
    gaps = {bogota(2018, 12, 4, 9), bogota(2018, 12, 14, 12, 55), bogota(2018, 12, 27, 8)}
    windows = gap_windows(expected, [bar for bar in expected if bar not in gaps], STEP)
    # 4 Dec 09:00 -> 14 Dec 13:00 Bogota is 10 days (2880 intervals): one window; 27 Dec is beyond 5000 from 4 Dec.
    assert windows == [
        (bogota(2018, 12, 4, 9), bogota(2018, 12, 14, 13)),
        (bogota(2018, 12, 27, 8), bogota(2018, 12, 27, 8, 5)),
    ]


def test_a_long_backfill_is_cut_at_the_outputsize_limit_without_losing_or_repeating_a_bar():
    expected = expected_bar_times(USDCOP, dt.date(2018, 1, 1), dt.date(2018, 12, 31))
    windows = gap_windows(expected, [], STEP)
    assert len(windows) == 19  # each opens at a session and spans at most 17 days 8 h 40 min
    assert all(end - start <= MAX_OUTPUTSIZE * STEP for start, end in windows)
    assert all(previous[1] <= following[0] for previous, following in zip(windows, windows[1:], strict=False))
    covered = [bar for bar in expected if any(start <= bar < end for start, end in windows)]
    assert covered == expected
    assert windows[0][0] == expected[0] and windows[-1][1] == expected[-1] + STEP


def test_gap_windows_respect_a_smaller_limit_exactly():
    expected = [utc(2018, 12, 3, 13) + i * STEP for i in range(10)]
    assert gap_windows(expected, [], STEP, max_bars=4) == [
        (expected[0], expected[4]),
        (expected[4], expected[8]),
        (expected[8], expected[9] + STEP),
    ]


def test_stored_times_may_be_naive_utc_or_another_zone():
    day = expected_bar_times(USDCOP, dt.date(2018, 12, 12), dt.date(2018, 12, 12))
    stored = [bar.replace(tzinfo=None) for bar in day[:30]] + [
        bar.astimezone(USDCOP.instrument.timezone) for bar in day[30:]
    ]
    assert connector.missing_windows(USDCOP, dt.date(2018, 12, 12), dt.date(2018, 12, 12), stored) == []


# ------------------------------------------------------------------------------------------ requests
def test_a_month_of_dates_is_two_requests_and_a_holiday_none():
    assert request_windows(USDCOP, dt.date(2018, 12, 1), dt.date(2018, 12, 31)) == [
        (bogota(2018, 12, 3, 8), bogota(2018, 12, 20, 13)),
        (bogota(2018, 12, 21, 8), bogota(2018, 12, 31, 13)),
    ]
    assert request_windows(USDCOP, dt.date(2018, 12, 25), dt.date(2018, 12, 25)) == []
    with pytest.raises(InvalidInput, match="two datetimes or two dates"):
        request_windows(USDCOP, dt.date(2018, 12, 3), utc(2018, 12, 4))


def test_window_params_send_utc_bounds_ending_one_second_before_the_window_end():
    assert window_params(USDCOP, utc(2018, 12, 12, 15, 15), utc(2018, 12, 12, 15, 40)) == {
        "symbol": "USD/COP",
        "interval": "5min",
        "start_date": "2018-12-12 15:15:00",
        "end_date": "2018-12-12 15:39:59",
        "timezone": "UTC",
        "outputsize": "5000",
        "dp": "5",
    }


def test_offline_fetch_of_a_partition_sends_no_key_and_is_served_by_the_covering_recording():
    transport = CountingReplay(RECORDINGS)
    [payload] = connector.fetch(session(transport), USDCOP, dt.date(2018, 12, 12), dt.date(2018, 12, 12))
    assert transport.queries == [window_params(USDCOP, bogota(2018, 12, 12, 8), bogota(2018, 12, 12, 13))]
    assert "apikey" not in payload.request
    assert (
        "replayed from the recording of symbol=USD/COP&interval=5min&start_date=2018-12-03 13:00:00" in payload.request
    )
    assert (payload.window_start, payload.window_end) == (dt.date(2018, 12, 12), dt.date(2018, 12, 12))
    assert payload.body == recorded(FIRST_WINDOW) and payload.fetched_at == utc(2019, 1, 2, 12)


def test_offline_gap_backfill_fetches_only_the_missing_bars_from_the_later_capture():
    replay = session(CountingReplay(RECORDINGS))
    [first] = connector.fetch(replay, USDCOP, dt.date(2018, 12, 12), dt.date(2018, 12, 12))
    stored = parse(first.body).rows["bar_time"].to_list()
    [window] = connector.missing_windows(USDCOP, dt.date(2018, 12, 12), dt.date(2018, 12, 12), stored)
    assert window == (bogota(2018, 12, 12, 10, 15), bogota(2018, 12, 12, 10, 40))
    [backfill] = connector.fetch(replay, USDCOP, *window)
    assert backfill.body == recorded(GAP_WINDOW) and backfill.fetched_at == utc(2019, 1, 3, 12)
    assert "replayed" not in backfill.request  # the exact request was recorded
    filled = parse(backfill.body).rows["bar_time"].to_list()
    assert filled == [window[0] + i * STEP for i in range(5)]
    day = expected_bar_times(USDCOP, dt.date(2018, 12, 12), dt.date(2018, 12, 12))
    assert connector.missing_windows(USDCOP, dt.date(2018, 12, 12), dt.date(2018, 12, 12), stored + filled) == []
    assert set(day) <= set(stored + filled)


def test_recordings_answer_windows_inside_theirs_to_the_second_and_no_others():
    replay = session(CountingReplay(RECORDINGS))
    # Five minutes more than the gap capture holds: the month window answers, not the gap recording.
    [wider] = connector.fetch(replay, USDCOP, bogota(2018, 12, 12, 10, 15), bogota(2018, 12, 12, 10, 45))
    assert wider.body == recorded(FIRST_WINDOW)
    with pytest.raises(RecordingNotFound, match="no recording matches"):
        connector.fetch(replay, USDCOP, bogota(2018, 12, 20, 8), bogota(2018, 12, 21, 13))  # across both windows


def test_live_fetch_sends_the_key_and_records_the_request_redacted(tmp_path, monkeypatch):
    monkeypatch.setenv(API_KEY_ENV, API_KEY)
    params = window_params(USDCOP, bogota(2018, 12, 12, 10, 15), bogota(2018, 12, 12, 10, 40))
    root = write_manifest(tmp_path, "twelvedata", [Exchange(TIME_SERIES_URL, params, RECORDED / GAP_WINDOW)])
    transport = CountingReplay(root)
    [payload] = connector.fetch(
        session(transport, live=True), USDCOP, bogota(2018, 12, 12, 10, 15), bogota(2018, 12, 12, 10, 40)
    )
    assert transport.queries == [{**params, "apikey": API_KEY}]
    assert "apikey=***" in payload.request and API_KEY not in payload.request


@pytest.mark.parametrize("value, problem", [(None, "needs the environment variable"), ("not a key", "malformed")])
def test_live_fetch_without_a_valid_key_fails_before_any_request(tmp_path, monkeypatch, value, problem):
    if value:
        monkeypatch.setenv(API_KEY_ENV, value)
    transport = CountingReplay(write_manifest(tmp_path, "twelvedata", []))
    with pytest.raises(MissingCredentials, match=problem):
        connector.fetch(session(transport, live=True), USDCOP, dt.date(2018, 12, 12), dt.date(2018, 12, 12))
    assert transport.queries == []


# ------------------------------------------------------------------------------------------ live transport
def test_exhausted_credits_in_an_http_200_become_a_429_the_client_retries_after_a_minute():
    credits = (QUIRKS / "error_429_credits.json").read_bytes()
    ok = recorded(GAP_WINDOW)
    answers = [
        httpx.Response(200, content=credits, headers={"Content-Type": "application/json"}),
        httpx.Response(200, content=ok, headers={"Content-Type": "application/json"}),
    ]
    sleeps = []
    client = HttpClient(
        CreditAwareTransport(httpx.MockTransport(lambda request: answers.pop(0))),
        sleep=sleeps.append,
        rate_limits={"twelvedata": 1000.0},
        retry=RetryPolicy(max_attempts=2),
    )
    [payload] = connector.fetch(
        SourceSession(client, live=False), USDCOP, bogota(2018, 12, 12, 10, 15), bogota(2018, 12, 12, 10, 40)
    )
    assert payload.body == ok and payload.status == 200 and answers == []
    assert max(sleeps) == 60.0  # Retry-After: a fresh credit minute


def test_the_credit_aware_transport_leaves_other_answers_alone_and_decodes_once():
    body = recorded(GAP_WINDOW)
    gzipped = httpx.Response(200, content=gzip.compress(body), headers={"Content-Encoding": "gzip"})
    transport = CreditAwareTransport(httpx.MockTransport(lambda request: gzipped))
    with httpx.Client(transport=transport) as client:
        assert client.get(TIME_SERIES_URL).content == body
    credits = (QUIRKS / "error_429_credits.json").read_bytes()
    squeezed = httpx.Response(200, content=gzip.compress(credits), headers={"Content-Encoding": "gzip"})
    with httpx.Client(transport=CreditAwareTransport(httpx.MockTransport(lambda request: squeezed))) as client:
        response = client.get(TIME_SERIES_URL)
    assert (response.status_code, response.headers["Retry-After"], response.content) == (429, "60", credits)
    assert "Content-Encoding" not in response.headers
    assert isinstance(connector.live_transport(), CreditAwareTransport)


# ------------------------------------------------------------------------------------------ recordings


def test_the_manifest_records_the_connectors_requests_after_their_last_bar():
    document = manifest()
    assert document["recorded_window"] == {"start": "2018-12-03", "end": "2018-12-31"}
    requests = [window_params(USDCOP, *w) for w in request_windows(USDCOP, dt.date(2018, 12, 1), dt.date(2018, 12, 31))]
    requests.append(window_params(USDCOP, bogota(2018, 12, 12, 10, 15), bogota(2018, 12, 12, 10, 40)))
    assert [e["request"]["params"] for e in document["exchanges"]] == requests
    captures = [e["captured_at"] for e in document["exchanges"]]
    assert captures == sorted(captures)
    for exchange in document["exchanges"]:
        assert exchange["provenance"] == "synthetic" and "apikey" not in exchange["request"]["params"]
        values = json.loads(recorded(exchange["response"]["body_file"]))["values"]
        newest = dt.datetime.strptime(values[0]["datetime"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.UTC)
        captured = dt.datetime.fromisoformat(exchange["captured_at"].replace("Z", "+00:00"))
        assert newest + STEP <= captured
        assert [v["datetime"] for v in values] == sorted((v["datetime"] for v in values), reverse=True)
        assert all(len(v[name].split(".")[1]) == 5 for v in values for name in ("open", "high", "low", "close"))
        assert all("volume" not in v for v in values)


def test_recorded_bars_are_consistent_ohlc():
    rows = pl.concat([parse(recorded(name)).rows for name in (FIRST_WINDOW, SECOND_WINDOW, GAP_WINDOW)])
    assert rows.filter(
        (pl.col("low") > pl.min_horizontal("open", "close")) | (pl.col("high") < pl.max_horizontal("open", "close"))
    ).is_empty()
    assert rows["close"].min() > 3000 and rows["close"].max() < 3400
