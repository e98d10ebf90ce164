"""FRED/ALFRED connector: the verbatim ALFRED sample, quirky payloads, pagination and credentials."""

from __future__ import annotations

import datetime as dt
import json

import httpx
import polars as pl
import pytest

from macro_assets.catalog import load_catalog
from macro_assets.http import HttpClient
from macro_assets.sources.base import Fetched, MissingCredentials, Session, SourcePayloadError
from macro_assets.sources.fred import ALL_VINTAGES, OBSERVATIONS_URL, connector
from macro_assets_tests.conftest import RECORDINGS, SAMPLES
from macro_assets_tests.sources.replay import CountingReplay, Exchange, write_manifest

FIXTURES = SAMPLES / "fred"
ALFRED_GDP = RECORDINGS / "fred" / "verbatim" / "series_observations_GDP_realtime_1776-07-04_to_2019-01-01.json"
GDP = load_catalog().get("fred.GDP")
FETCHED_AT = dt.datetime(2019, 1, 1, 23, 0, tzinfo=dt.UTC)
FRED_JSON = "application/json; charset=UTF-8"


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def fetched(body: bytes, status: int = 200) -> Fetched:
    return Fetched(source="fred", series_id=GDP.id, request=f"GET {OBSERVATIONS_URL}", status=status, body=body,
                   content_type=FRED_JSON, fetched_at=FETCHED_AT, window_start=dt.date(1946, 1, 1),
                   window_end=dt.date(2018, 12, 31))


def parse_file(path, status: int = 200):
    return connector.parse(GDP, fetched(path.read_bytes(), status))


# ------------------------------------------------------------------------------------------ verbatim ALFRED sample
def test_verbatim_alfred_sample_parses_every_vintage_row():
    sample = json.loads(ALFRED_GDP.read_bytes())["observations"]
    parsed = parse_file(ALFRED_GDP)
    assert parsed.rows.height == len(sample) == 2902
    assert parsed.quarantine == []
    assert parsed.rows["vintage_date"].to_list() == [dt.date.fromisoformat(o["realtime_start"]) for o in sample]
    assert parsed.rows["obs_date"].to_list() == [dt.date.fromisoformat(o["date"]) for o in sample]


def test_withdrawals_in_the_verbatim_sample_are_null_values():
    parsed = parse_file(ALFRED_GDP)
    assert parsed.missing == 245 == parsed.rows["value"].null_count()
    # GDP 1946 Q1: 199.7 from 1992-12-22, withdrawn in the 1996-01-19 benchmark, back as 210.4 on 1997-05-07.
    q1_1946 = parsed.rows.filter(pl.col("obs_date") == dt.date(1946, 1, 1)).head(3)
    assert q1_1946["value"].to_list() == [199.7, None, 210.4]
    assert q1_1946["vintage_date"].to_list() == [dt.date(1992, 12, 22), dt.date(1996, 1, 19), dt.date(1997, 5, 7)]


def test_release_time_is_the_vintage_date_at_0830_new_york_in_utc():
    parsed = parse_file(ALFRED_GDP)
    frame = connector.release_times(GDP, parsed.rows, FETCHED_AT, [])
    assert frame.schema["release_time"] == pl.Datetime("us", "UTC")
    assert set(frame["release_basis"]) == {"vintage"}
    times = dict(zip(frame["vintage_date"], frame["release_time"]))
    assert times[dt.date(2018, 12, 21)] == utc(2018, 12, 21, 13, 30)  # EST, UTC-5
    assert times[dt.date(2018, 7, 27)] == utc(2018, 7, 27, 12, 30)  # EDT, UTC-4
    withdrawal = frame.filter(pl.col("value").is_null()).row(0, named=True)
    assert withdrawal["release_time"] == utc(1996, 1, 19, 13, 30)


# ------------------------------------------------------------------------------------------ quirks
def test_error_400_is_a_payload_error_quoting_error_message():
    with pytest.raises(SourcePayloadError) as raised:
        parse_file(FIXTURES / "error_400_api_key_not_registered.json", status=400)
    message = str(raised.value)
    assert "fred" in message and "fred.GDP" in message and "HTTP 400" in message
    assert "Bad Request.  The value for variable api_key is not registered." in message


def test_renamed_value_field_is_a_payload_error_naming_value():
    with pytest.raises(SourcePayloadError) as raised:
        parse_file(FIXTURES / "quirk_renamed_field_val_GDP.json")
    assert raised.value.field == "value"
    assert "'value'" in str(raised.value) and "'val'" in str(raised.value)


def test_truncated_body_is_a_payload_error_saying_truncated():
    with pytest.raises(SourcePayloadError, match="truncated"):
        parse_file(FIXTURES / "quirk_truncated_GDP.json")


# ------------------------------------------------------------------------------------------ pagination
def request_params(start: str, end: str) -> dict[str, str]:
    return {"series_id": "GDP", "file_type": "json", **ALL_VINTAGES, "observation_start": start,
            "observation_end": end}


def test_fetch_follows_count_with_offset_for_the_second_page(tmp_path):
    first = request_params("2018-04-01", "2018-09-30")
    second = {**first, "offset": "4"}
    root = write_manifest(tmp_path, "fred", [
        Exchange(url=OBSERVATIONS_URL, params=first, body=FIXTURES / "GDP_2018-04-01_2018-09-30_page1_of_2.json",
                 content_type=FRED_JSON),
        Exchange(url=OBSERVATIONS_URL, params=second, body=FIXTURES / "GDP_2018-04-01_2018-09-30_page2_of_2.json",
                 content_type=FRED_JSON),
    ])
    transport = CountingReplay(root)
    pages = connector.fetch(Session(HttpClient(transport), live=False), GDP, dt.date(2018, 4, 1),
                            dt.date(2018, 9, 30))
    assert transport.queries == [first, second]
    assert len(pages) == 2 and "offset=4" in pages[1].request
    parsed = [connector.parse(GDP, page) for page in pages]
    assert [p.rows.height for p in parsed] == [4, 2]
    assert parsed[1].rows["value"].to_list() == [20660.34, 20658.204]


# ------------------------------------------------------------------------------------------ credentials
class NoRequestsAllowed(httpx.BaseTransport):
    def handle_request(self, request: httpx.Request) -> httpx.Response:
        pytest.fail(f"a request was sent: {request.url.path}")


def test_live_mode_without_a_key_stops_before_any_request():
    session = Session(HttpClient(NoRequestsAllowed()), live=True)
    with pytest.raises(MissingCredentials, match="FRED_API_KEY"):
        connector.fetch(session, GDP, dt.date(2018, 1, 1), dt.date(2018, 12, 31))


def test_live_mode_refuses_a_malformed_key_without_echoing_it(monkeypatch):
    malformed = "NOT-A-KEY-0123456789-ABCDEFGHIJKL"
    monkeypatch.setenv("FRED_API_KEY", malformed)
    session = Session(HttpClient(NoRequestsAllowed()), live=True)
    with pytest.raises(MissingCredentials, match="malformed") as raised:
        connector.fetch(session, GDP, dt.date(2018, 1, 1), dt.date(2018, 12, 31))
    assert "FRED_API_KEY" in str(raised.value)
    assert malformed not in str(raised.value) and "NOT-A-KEY" not in repr(raised.value)
