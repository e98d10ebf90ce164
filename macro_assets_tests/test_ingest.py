"""ingest(): fetch through the replay transport, archive verbatim, parse, date the vintages, append to PostgreSQL."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
import traceback

import pandas as pd
import pytest

from macro_assets.catalog import load_catalog
from macro_assets.http import HttpClient, RecordingNotFound, ReplayTransport
from macro_assets.ingest import ingest
from macro_assets.object_store import LocalObjectStore, S3ObjectStore
from macro_assets.sources.base import Session, SourcePayloadError
from macro_assets.sources.bcb_sgs import BASE_URL as SGS_URL
from macro_assets.sources.fred import ALL_VINTAGES, OBSERVATIONS_URL
from macro_assets_tests.conftest import RECORDINGS, SAMPLES
from macro_assets_tests.sources.replay import CountingReplay, Exchange, write_manifest

CATALOG = load_catalog()
GDP = CATALOG.get("fred.GDP")
SELIC = CATALOG.get("bcb_sgs.432")
IBC_BR = CATALOG.get("bcb_sgs.24363")
START, END = dt.date(2015, 1, 1), dt.date(2018, 12, 31)
GDP_BODY = RECORDINGS / "fred" / "GDP_2015-01-01_2018-12-31.json"
ALFRED_GDP = RECORDINGS / "fred" / "verbatim" / "series_observations_GDP_realtime_1776-07-04_to_2019-01-01.json"
IBC_BR_SECOND_CAPTURE = RECORDINGS / "bcb_sgs" / "24363_2015-01-01_2018-12-31_captured_2019-02-20.json"
SGS_WINDOW = {"formato": "json", "dataInicial": "01/01/2015", "dataFinal": "31/12/2018"}
FRED_KEY = "abcdefghij0123456789abcdefghij01"


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def replay(root=RECORDINGS, clock: dt.datetime | None = None) -> Session:
    return Session(HttpClient(ReplayTransport(root, clock=clock)), live=False)


def ingest_and_append(spec, session, store, wh):
    batch = ingest(spec, START, END, session, store, wh)
    return batch, wh.append(batch.observations, payloads=batch.payloads, quarantine=batch.quarantine)


def values_by_date(frame: pd.DataFrame) -> dict[dt.date, float]:
    return {stamp.date(): value for stamp, value in zip(frame["obs_date"], frame["value"])}


# ------------------------------------------------------------------------------------------ archive + FRED vintages
def test_gdp_payload_is_archived_verbatim_and_traced_by_its_sha256(warehouse, tmp_path):
    store = LocalObjectStore(tmp_path / "objects")
    batch, result = ingest_and_append(GDP, replay(), store, warehouse)
    recorded = GDP_BODY.read_bytes()
    sha = hashlib.sha256(recorded).hexdigest()
    [payload] = batch.payloads
    assert store.get(payload.object_key) == recorded
    assert payload.object_key == f"raw/fred/GDP/2015-01-01_2018-12-31/20190101T230000000000Z-{sha[:16]}.json"
    assert "api_key" not in payload.object_key
    assert (payload.payload_sha256, payload.http_status, payload.bytes) == (sha, 200, len(recorded))
    assert batch.observations["payload_sha256"].unique().to_list() == [sha]
    assert batch.records_read == json.loads(recorded)["count"]
    assert result.added > 0
    assert warehouse.payloads("fred.GDP")["object_key"].to_list() == [payload.object_key]


def test_gdp_as_of_matches_what_the_verbatim_alfred_sample_knew(warehouse, tmp_path):
    ingest_and_append(GDP, replay(), LocalObjectStore(tmp_path), warehouse)
    # 2018-06-01 00:00 UTC is 2018-05-31 20:00 in New York: every vintage dated up to 2018-05-31 was out at 08:30.
    known: dict[dt.date, str] = {}
    for row in json.loads(ALFRED_GDP.read_bytes())["observations"]:
        day = dt.date.fromisoformat(row["date"])
        if START <= day <= END and row["realtime_start"] <= "2018-05-31":
            known[day] = row["value"]  # rows are in vintage order within a date: the last one wins
    expected = {day: float(value) for day, value in known.items() if value != "."}

    as_of = values_by_date(warehouse.as_of("fred.GDP", "2018-06-01"))
    assert as_of == expected
    assert as_of[dt.date(2018, 1, 1)] == 19956.811  # second estimate of 2018-05-30, not the advance one
    assert as_of[dt.date(2017, 10, 1)] == 19754.102
    assert dt.date(2018, 4, 1) not in as_of  # first published 2018-07-27


def test_gdp_payload_archived_on_s3_is_byte_identical(system_warehouse, s3_endpoint):
    store = S3ObjectStore("ingest-archive", endpoint_url=s3_endpoint)
    batch = ingest(GDP, START, END, replay(), store, system_warehouse)
    [payload] = batch.payloads
    assert store.list("raw/fred/GDP/") == [payload.object_key]
    assert store.get(payload.object_key) == GDP_BODY.read_bytes()
    assert hashlib.sha256(store.get(payload.object_key)).hexdigest() == payload.payload_sha256


def test_sgs_432_future_dated_rows_stay_outside_the_window(system_warehouse, tmp_path):
    batch, _ = ingest_and_append(SELIC, replay(), LocalObjectStore(tmp_path), system_warehouse)
    assert batch.records_read == 1498
    assert batch.outside_window == 37  # 01/01/2019 .. 06/02/2019: the target until the next Copom meeting
    assert batch.observations["obs_date"].max() == END
    assert system_warehouse.latest("bcb_sgs.432")["obs_date"].max() == pd.Timestamp(END)


# ------------------------------------------------------------------------------------------ SGS snapshots
def test_second_ibc_br_capture_adds_observed_vintages_only_for_revised_and_new_months(warehouse, tmp_path):
    store = LocalObjectStore(tmp_path)
    first, _ = ingest_and_append(IBC_BR, replay(clock=utc(2019, 1, 10)), store, warehouse)
    assert first.observations["release_basis"].unique().to_list() == ["estimated"]

    second, result = ingest_and_append(IBC_BR, replay(), store, warehouse)
    assert result.added == 4
    observed = warehouse.vintages("bcb_sgs.24363", START, END).query("release_basis == 'observed'")
    capture = {dt.datetime.strptime(r["data"], "%d/%m/%Y").date(): float(r["valor"])
               for r in json.loads(IBC_BR_SECOND_CAPTURE.read_bytes())}
    revised_and_new = [dt.date(2018, 8, 1), dt.date(2018, 9, 1), dt.date(2018, 10, 1), dt.date(2018, 11, 1)]
    assert values_by_date(observed) == {day: capture[day] for day in revised_and_new}
    assert set(observed["release_time"]) == {pd.Timestamp("2019-02-20 12:00", tz="UTC")}

    september = warehouse.revisions("bcb_sgs.24363", "2018-09-01")
    assert september["release_basis"].to_list() == ["estimated", "observed"]
    assert september["value"].to_list() == [139.22, 138.87]
    # 30 Sep + 48 days = 17 Nov 2018, 09:00 Brazilian summer time (UTC-2).
    assert september["release_time"].to_list() == [pd.Timestamp("2018-11-17 11:00", tz="UTC"),
                                                   pd.Timestamp("2019-02-20 12:00", tz="UTC")]


def test_rerunning_a_capture_adds_no_vintage(system_warehouse, tmp_path):
    store = LocalObjectStore(tmp_path)
    for clock in (utc(2019, 1, 10), None):
        _, once = ingest_and_append(IBC_BR, replay(clock=clock), store, system_warehouse)
        _, again = ingest_and_append(IBC_BR, replay(clock=clock), store, system_warehouse)
        assert once.added > 0 and again.added == 0
    assert len(system_warehouse.payloads("bcb_sgs.24363")) == 2


def test_html_payload_is_archived_quarantined_and_touches_no_observation(system_warehouse, tmp_path):
    store = LocalObjectStore(tmp_path / "objects")
    ingest_and_append(IBC_BR, replay(clock=utc(2019, 1, 10)), store, system_warehouse)
    before = system_warehouse.vintages("bcb_sgs.24363", START, END)
    html = SAMPLES / "bcb_sgs" / "quirk_html_unknown_series_200.html"
    root = write_manifest(tmp_path / "replay", "bcb_sgs", [Exchange(
        url=SGS_URL.format(code="24363"), params=SGS_WINDOW, body=html, content_type="text/html; charset=utf-8",
        captured_at="2019-03-01T12:00:00Z")])

    with pytest.raises(SourcePayloadError, match="HTML"):
        ingest(IBC_BR, START, END, replay(root), store, system_warehouse)

    sha = hashlib.sha256(html.read_bytes()).hexdigest()
    [key] = [k for k in store.list("raw/bcb_sgs/24363/") if k.endswith(".html")]
    assert store.get(key) == html.read_bytes()
    assert sha in system_warehouse.payloads("bcb_sgs.24363")["payload_sha256"].to_list()
    refused = system_warehouse.quarantined("bcb_sgs.24363")
    assert refused[["payload_sha256", "record_index", "field"]].values.tolist() == [[sha, -1, "<body>"]]
    assert "HTML" in refused["reason"].item()
    pd.testing.assert_frame_equal(system_warehouse.vintages("bcb_sgs.24363", START, END), before)


def test_a_refused_payload_does_not_make_history_look_first_seen_at_the_retry(system_warehouse, tmp_path):
    html = SAMPLES / "bcb_sgs" / "quirk_html_unknown_series_200.html"
    root = write_manifest(tmp_path / "replay", "bcb_sgs", [Exchange(
        url=SGS_URL.format(code="24363"), params=SGS_WINDOW, body=html, content_type="text/html; charset=utf-8",
        captured_at="2019-01-05T12:00:00Z")])
    store = LocalObjectStore(tmp_path / "objects")
    with pytest.raises(SourcePayloadError):
        ingest(IBC_BR, START, END, replay(root), store, system_warehouse)

    retry = ingest(IBC_BR, START, END, replay(clock=utc(2019, 1, 10)), store, system_warehouse)
    assert retry.observations["release_basis"].unique().to_list() == ["estimated"]


# ------------------------------------------------------------------------------------------ secrets
@pytest.fixture
def fred_key(monkeypatch, caplog):
    monkeypatch.setenv("FRED_API_KEY", FRED_KEY)
    caplog.set_level(logging.DEBUG)
    return FRED_KEY


def assert_logs_are_clean(caplog):
    messages = [record.getMessage() for record in caplog.records]
    assert any("api_key=***" in message for message in messages)  # the keyed URL was logged, redacted
    assert not [m for m in messages if FRED_KEY in m]
    assert FRED_KEY not in caplog.text


def test_fred_api_key_is_sent_but_never_logged_archived_or_kept(fred_key, caplog, system_warehouse, tmp_path):
    store = LocalObjectStore(tmp_path)
    transport = CountingReplay(RECORDINGS)
    batch = ingest(GDP, START, END, Session(HttpClient(transport), live=False), store, system_warehouse)
    system_warehouse.append(batch.observations, payloads=batch.payloads, quarantine=batch.quarantine)

    assert [query["api_key"] for query in transport.queries] == [fred_key]
    assert_logs_are_clean(caplog)
    assert all(fred_key not in p.request and "api_key=***" in p.request for p in batch.payloads)
    assert all(fred_key not in key for key in store.list())
    assert fred_key not in "".join(system_warehouse.payloads("fred.GDP")["request"])
    kept = [repr(getattr(batch, f.name)) for f in dataclasses.fields(batch)]
    assert fred_key not in repr(batch) and not [text for text in kept if fred_key in text]
    assert fred_key not in batch.observations.write_csv()


def fred_exchange(status: int, body) -> Exchange:
    params = {"series_id": "GDP", "file_type": "json", **ALL_VINTAGES,
              "observation_start": START.isoformat(), "observation_end": END.isoformat()}
    return Exchange(url=OBSERVATIONS_URL, params=params, body=body, status=status,
                    content_type="application/json; charset=UTF-8", captured_at="2019-01-01T23:00:00Z")


def test_fred_api_key_is_not_in_the_text_of_an_unrecorded_request_error(fred_key, caplog, system_warehouse, tmp_path):
    with pytest.raises(RecordingNotFound) as raised:
        ingest(GDP, dt.date(2014, 1, 1), END, replay(), LocalObjectStore(tmp_path), system_warehouse)
    text = "".join(traceback.format_exception(raised.value))
    assert "api_key=***" in text and fred_key not in text and fred_key not in repr(raised.value)
    assert_logs_are_clean(caplog)


def test_fred_api_key_is_not_in_the_text_of_an_api_error(fred_key, caplog, system_warehouse, tmp_path):
    params = {"series_id": "GDP", "file_type": "json", **ALL_VINTAGES,
              "observation_start": START.isoformat(), "observation_end": END.isoformat()}
    root = write_manifest(tmp_path / "replay", "fred", [Exchange(
        url=OBSERVATIONS_URL, params=params, body=SAMPLES / "fred" / "error_400_api_key_not_registered.json",
        status=400, content_type="application/json; charset=UTF-8", captured_at="2019-01-01T23:00:00Z")])
    with pytest.raises(SourcePayloadError, match="api_key is not registered") as raised:
        ingest(GDP, START, END, replay(root), LocalObjectStore(tmp_path / "objects"), system_warehouse)
    assert fred_key not in "".join(traceback.format_exception(raised.value)) + repr(raised.value)
    assert_logs_are_clean(caplog)
    quarantined = system_warehouse.quarantined("fred.GDP")
    assert fred_key not in "".join(quarantined["reason"]) + "".join(quarantined["raw_record"])
