"""FRED/ALFRED connector: the verbatim ALFRED sample parsed into vintage rows with their release times,
impossible records quarantined, quirky payloads, pagination and credentials."""

from __future__ import annotations

import datetime as dt
import json

import httpx
import polars as pl
import pytest

from macro_assets.catalog import load_catalog
from macro_assets.errors import MissingCredentials, SourcePayloadError
from macro_assets.http.client import HttpClient
from macro_assets.provenance import Fetched
from macro_assets.shapes import UTC_DATETIME
from macro_assets.sources.base import SourceSession, parsed_schema
from macro_assets.sources.fred import ALL_VINTAGES, OBSERVATIONS_URL, connector
from macro_assets_tests import paths
from macro_assets_tests.sources import payloads
from macro_assets_tests.sources.replay import CountingReplay, Exchange, write_manifest

FIXTURES = paths.FIXTURES / "fred"
ALFRED_GDP = paths.RECORDINGS / "fred" / "verbatim" / "series_observations_GDP_realtime_1776-07-04_to_2019-01-01.json"
GDP = load_catalog().get("fred.GDP")
FETCHED_AT = dt.datetime(2019, 1, 1, 23, 0, tzinfo=dt.UTC)
FRED_JSON = "application/json; charset=UTF-8"


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def fetched(body: bytes, status: int = 200) -> Fetched:
    return payloads.fetched(
        "fred.GDP",
        body,
        status=status,
        content_type=FRED_JSON,
        fetched_at=FETCHED_AT,
        window=(dt.date(1946, 1, 1), dt.date(2018, 12, 31)),
        request=f"GET {OBSERVATIONS_URL}",
    )


def parse_file(path, status: int = 200):
    return connector.parse(GDP, fetched(path.read_bytes(), status))


def page(*observations: dict) -> bytes:
    return json.dumps(
        {**ALL_VINTAGES, "count": len(observations), "offset": 0, "observations": list(observations)},
        separators=(",", ":"),
    ).encode()


def observation(date: str, start: str, end: str = "9999-12-31", value: str = "20000.0") -> dict:
    return {"realtime_start": start, "realtime_end": end, "date": date, "value": value}


# ------------------------------------------------------------------------------------------ verbatim ALFRED sample
def test_verbatim_alfred_sample_parses_every_vintage_row():
    sample = json.loads(ALFRED_GDP.read_bytes())["observations"]
    parsed = parse_file(ALFRED_GDP)
    assert parsed.rows.height == len(sample) == 2902
    assert parsed.quarantine == []
    assert parsed.rows.schema == pl.Schema(parsed_schema(GDP.shape))
    assert parsed.rows["obs_date"].to_list() == [dt.date.fromisoformat(o["date"]) for o in sample]
    assert parsed.rows["release_time"].to_list() == [
        GDP.release.at_clock(dt.date.fromisoformat(o["realtime_start"])) for o in sample
    ]
    assert parsed.rows["release_basis"].unique().to_list() == ["vintage"]


def test_records_counts_each_payload_record_once():
    # 2902 records, 245 of them "." withdrawals: a withdrawal is a row (with no value) and a missing value, but
    # one record of the payload (the old records_fetched counted it twice: 3147).
    parsed = parse_file(ALFRED_GDP)
    assert parsed.records == 2902 == parsed.rows.height
    assert parsed.missing == 245
    mixed = connector.parse(
        GDP,
        fetched(
            page(
                observation("2018-04-01", "2018-07-27", value="20402.502"),
                observation("2018-04-01", "2018-08-29", value="."),
                observation("2018-04-01", "2018-09-27", value="n/a"),
                observation("2018-07-01", "2018-06-28"),  # impossible: a quarter a vintage cannot know yet
            )
        ),
    )
    assert (mixed.records, mixed.rows.height, mixed.missing, len(mixed.quarantine)) == (4, 2, 1, 2)


def test_withdrawals_in_the_verbatim_sample_are_null_values():
    parsed = parse_file(ALFRED_GDP)
    assert parsed.missing == 245 == parsed.rows["value"].null_count()
    # GDP 1946 Q1: 199.7 from 1992-12-22, withdrawn in the 1996-01-19 benchmark, back as 210.4 on 1997-05-07.
    q1_1946 = parsed.rows.filter(pl.col("obs_date") == dt.date(1946, 1, 1)).head(3)
    assert q1_1946["value"].to_list() == [199.7, None, 210.4]
    assert q1_1946["release_time"].to_list() == [
        utc(1992, 12, 22, 13, 30),
        utc(1996, 1, 19, 13, 30),
        utc(1997, 5, 7, 12, 30),
    ]


def test_release_time_is_the_vintage_date_at_0830_new_york_in_utc():
    parsed = parse_file(ALFRED_GDP)
    assert parsed.rows.schema["release_time"] == UTC_DATETIME
    q3_2018 = parsed.rows.filter(pl.col("obs_date") == dt.date(2018, 7, 1))
    assert q3_2018.select("value", "release_time").rows() == [
        (20659.029, utc(2018, 10, 26, 12, 30)),  # advance estimate, EDT (UTC-4)
        (20660.34, utc(2018, 11, 28, 13, 30)),  # second estimate, EST (UTC-5)
        (20658.204, utc(2018, 12, 21, 13, 30)),  # third estimate
    ]
    withdrawal = parsed.rows.filter(pl.col("value").is_null()).row(0, named=True)
    assert withdrawal["release_time"] == utc(1996, 1, 19, 13, 30)


# ------------------------------------------------------------------------------------------ impossible records
def test_an_observation_dated_after_the_vintage_carrying_it_is_quarantined():
    body = page(
        observation("2018-04-01", "2018-07-27", "2018-08-28", "20402.502"),
        observation("2018-10-01", "2018-07-27", value="20865.14"),  # a vintage cannot know a later quarter
        observation("2018-04-01", "2018-08-29", value="20411.87"),
    )
    parsed = connector.parse(GDP, fetched(body))
    assert parsed.rows.select("obs_date", "value", "release_time").rows() == [
        (dt.date(2018, 4, 1), 20402.502, utc(2018, 7, 27, 12, 30)),
        (dt.date(2018, 4, 1), 20411.87, utc(2018, 8, 29, 12, 30)),
    ]
    [record] = parsed.quarantine
    assert (record.dataset_id, record.record_index, record.field) == ("fred.GDP", 1, "date")
    assert record.reason == "observation 2018-10-01 is dated after the vintage 2018-07-27 that carries it"
    assert json.loads(record.raw_record) == observation("2018-10-01", "2018-07-27", value="20865.14")
    assert parsed.records == 3 and parsed.missing == 0


def test_a_vintage_that_ends_before_it_starts_is_quarantined():
    body = page(
        observation("2018-04-01", "2018-07-27", "2018-07-26", "20402.502"),
        observation("2018-04-01", "2018-08-29", "2018-08-29", "20411.87"),  # a vintage of one day is fine
        observation("2018-04-01", "2018-09-27", "2018-09-01", "."),  # even a withdrawal
    )
    parsed = connector.parse(GDP, fetched(body))
    assert parsed.rows.select("value", "release_time").rows() == [(20411.87, utc(2018, 8, 29, 12, 30))]
    assert [(r.record_index, r.field, r.reason) for r in parsed.quarantine] == [
        (0, "realtime_end", "vintage ends (2018-07-26) before it starts (2018-07-27)"),
        (2, "realtime_end", "vintage ends (2018-09-01) before it starts (2018-09-27)"),
    ]
    assert parsed.missing == 0  # a quarantined withdrawal is not counted as a missing value


def test_an_observation_of_the_vintage_day_itself_is_possible():
    parsed = connector.parse(GDP, fetched(page(observation("2018-07-27", "2018-07-27"))))
    assert parsed.quarantine == [] and parsed.rows.height == 1


# ------------------------------------------------------------------------------------------ quirks
def test_error_400_is_a_payload_error_quoting_error_message():
    with pytest.raises(SourcePayloadError) as raised:
        parse_file(FIXTURES / "error_400_api_key_not_registered.json", status=400)
    message = str(raised.value)
    assert message.startswith("fred dataset fred.GDP: field '<body>': API error (HTTP 400): ")
    assert "Bad Request.  The value for variable api_key is not registered." in message


def test_renamed_value_field_is_a_payload_error_naming_value():
    with pytest.raises(SourcePayloadError) as raised:
        parse_file(FIXTURES / "quirk_renamed_field_val_GDP.json")
    assert (raised.value.source, raised.value.dataset_id, raised.value.field) == ("fred", "fred.GDP", "value")
    assert "'value'" in str(raised.value) and "'val'" in str(raised.value)


def test_truncated_body_is_a_payload_error_saying_truncated():
    with pytest.raises(SourcePayloadError, match="truncated"):
        parse_file(FIXTURES / "quirk_truncated_GDP.json")


def test_a_page_without_observations_is_a_payload_error_naming_the_field():
    with pytest.raises(SourcePayloadError, match=r"field 'observations': missing or not a list") as raised:
        connector.parse(GDP, fetched(b'{"count": 0}'))
    assert raised.value.field == "observations"


# ------------------------------------------------------------------------------------------ pagination
def request_params(start: str, end: str) -> dict[str, str]:
    return {"series_id": "GDP", "file_type": "json", **ALL_VINTAGES, "observation_start": start, "observation_end": end}


def test_fetch_follows_count_with_offset_for_the_second_page(tmp_path):
    first = request_params("2018-04-01", "2018-09-30")
    second = {**first, "offset": "4"}
    root = write_manifest(
        tmp_path,
        "fred",
        [
            Exchange(
                url=OBSERVATIONS_URL,
                params=first,
                body=FIXTURES / "GDP_2018-04-01_2018-09-30_page1_of_2.json",
                content_type=FRED_JSON,
            ),
            Exchange(
                url=OBSERVATIONS_URL,
                params=second,
                body=FIXTURES / "GDP_2018-04-01_2018-09-30_page2_of_2.json",
                content_type=FRED_JSON,
            ),
        ],
    )
    transport = CountingReplay(root)
    pages = connector.fetch(
        SourceSession(HttpClient(transport), live=False), GDP, dt.date(2018, 4, 1), dt.date(2018, 9, 30)
    )
    assert transport.queries == [first, second]
    assert len(pages) == 2 and "offset=4" in pages[1].request
    assert all(p.dataset_id == "fred.GDP" and p.window_start == dt.date(2018, 4, 1) for p in pages)
    parsed = [connector.parse(GDP, p) for p in pages]
    assert [(p.rows.height, p.records) for p in parsed] == [(4, 4), (2, 2)]
    assert parsed[1].rows.select("value", "release_time").rows() == [
        (20660.34, utc(2018, 11, 28, 13, 30)),
        (20658.204, utc(2018, 12, 21, 13, 30)),
    ]


# ------------------------------------------------------------------------------------------ credentials
class NoRequestsAllowed(httpx.BaseTransport):
    def handle_request(self, request: httpx.Request) -> httpx.Response:
        pytest.fail(f"a request was sent: {request.url.path}")


def test_live_mode_without_a_key_stops_before_any_request(monkeypatch):
    monkeypatch.delenv("FRED_API_KEY", raising=False)
    session = SourceSession(HttpClient(NoRequestsAllowed()), live=True)
    with pytest.raises(MissingCredentials, match="FRED_API_KEY"):
        connector.fetch(session, GDP, dt.date(2018, 1, 1), dt.date(2018, 12, 31))


def test_live_mode_refuses_a_malformed_key_without_echoing_it(monkeypatch):
    malformed = "NOT-A-KEY-0123456789-ABCDEFGHIJKL"
    monkeypatch.setenv("FRED_API_KEY", malformed)
    session = SourceSession(HttpClient(NoRequestsAllowed()), live=True)
    with pytest.raises(MissingCredentials, match="malformed") as raised:
        connector.fetch(session, GDP, dt.date(2018, 1, 1), dt.date(2018, 12, 31))
    assert "FRED_API_KEY" in str(raised.value)
    assert malformed not in str(raised.value) and "NOT-A-KEY" not in repr(raised.value)
