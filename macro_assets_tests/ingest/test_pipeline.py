"""ingest(): fetch through the replay transport, archive verbatim, parse, date the releases and set aside what
can never be right, returning a Batch and writing nothing; the Batch appended through the warehouse's one write
door gives the point-in-time history."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
import traceback
from pathlib import Path

import polars as pl
import pytest

from macro_assets.catalog import load_catalog
from macro_assets.errors import SourcePayloadError
from macro_assets.http.client import HttpClient
from macro_assets.http.replay import RecordingNotFound, ReplayTransport
from macro_assets.ingest import Batch, ingest
from macro_assets.object_store import LocalObjectStore
from macro_assets.sources.base import SourceSession
from macro_assets.sources.bcb_sgs import BASE_URL as SGS_URL
from macro_assets.sources.fred import ALL_VINTAGES, OBSERVATIONS_URL
from macro_assets_tests import paths
from macro_assets_tests.sources.replay import CountingReplay, Exchange, write_manifest

CATALOG = load_catalog()
GDP = CATALOG.get("fred.GDP")
SELIC = CATALOG.get("bcb_sgs.432")
IPCA = CATALOG.get("bcb_sgs.433")
IBC_BR = CATALOG.get("bcb_sgs.24363")
START, END = dt.date(2015, 1, 1), dt.date(2018, 12, 31)
GDP_BODY = paths.RECORDINGS / "fred" / "GDP_2015-01-01_2018-12-31.json"
ALFRED_GDP = paths.RECORDINGS / "fred" / "verbatim" / "series_observations_GDP_realtime_1776-07-04_to_2019-01-01.json"
IBC_BR_SECOND_CAPTURE = paths.RECORDINGS / "bcb_sgs" / "24363_2015-01-01_2018-12-31_captured_2019-02-20.json"
HTML_PAGE = paths.FIXTURES / "bcb_sgs" / "quirk_html_unknown_series_200.html"
SGS_WINDOW = {"formato": "json", "dataInicial": "01/01/2015", "dataFinal": "31/12/2018"}
FRED_WINDOW = {
    "series_id": "GDP",
    "file_type": "json",
    **ALL_VINTAGES,
    "observation_start": START.isoformat(),
    "observation_end": END.isoformat(),
}
FRED_JSON = "application/json; charset=UTF-8"
FRED_KEY = "abcdefghij0123456789abcdefghij01"
SECOND_CAPTURE_AT = dt.datetime(2019, 2, 20, 12, tzinfo=dt.UTC)


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def replay(*roots: Path, clock: dt.datetime | None = None) -> SourceSession:
    return SourceSession(HttpClient(ReplayTransport(*(roots or (paths.RECORDINGS,)), clock=clock)), live=False)


def nothing_stored(before: dt.datetime) -> list[tuple[dt.date, dt.date]]:
    return []


def stored_in(warehouse, dataset):
    """The coverage callable the dataset assets hand to ingest: windows of the payloads stored before."""
    return lambda before: warehouse.pipeline.fetch_coverage(str(dataset.id), before)


def append(warehouse, batch: Batch):
    """What the warehouse IO manager does with a batch (without raising the refusal)."""
    return warehouse.pipeline.append(batch.shape.name, batch.rows, payloads=batch.payloads, quarantine=batch.quarantine)


def sgs_body(tmp_path: Path, rows: list[tuple[str, str]]) -> Path:
    path = tmp_path / f"sgs_{len(list(tmp_path.glob('sgs_*')))}.json"
    path.write_text(json.dumps([{"data": day, "valor": value} for day, value in rows]))
    return path


def sgs_recording(
    tmp_path: Path,
    code: str,
    body: Path,
    captured_at: str,
    content_type="application/json",
    params: dict[str, str] = SGS_WINDOW,
) -> Path:
    return write_manifest(
        tmp_path / "replay",
        "bcb_sgs",
        [
            Exchange(
                url=SGS_URL.format(code=code),
                params=params,
                body=body,
                content_type=content_type,
                captured_at=captured_at,
            )
        ],
    )


def released(batch: Batch, day: dt.date) -> tuple[float, dt.datetime, str]:
    return batch.rows.filter(pl.col("obs_date") == day).select("value", "release_time", "release_basis").row(0)


def fetched_at_of_each_row(batch: Batch) -> pl.DataFrame:
    fetches = pl.DataFrame(
        {
            "payload_sha256": [p.payload_sha256 for p in batch.payloads],
            "fetched_at": [p.fetched_at for p in batch.payloads],
        },
        schema={"payload_sha256": pl.String, "fetched_at": pl.Datetime("us", "UTC")},
    )
    return batch.rows.join(fetches, on="payload_sha256", how="left")


# ================================================================================ the batch (no warehouse)
def test_gdp_batch_carries_the_archived_payload_and_rows_traced_by_its_sha256(tmp_path):
    store = LocalObjectStore(tmp_path / "objects")
    batch = ingest(GDP, START, END, replay(), store, nothing_stored)
    recorded = GDP_BODY.read_bytes()
    sha = hashlib.sha256(recorded).hexdigest()
    [payload] = batch.payloads
    assert store.get(payload.object_key) == recorded
    assert payload.object_key == f"raw/fred/GDP/2015-01-01_2018-12-31/20190101T230000000000Z-{sha[:16]}.json"
    assert (payload.payload_sha256, payload.http_status, payload.bytes, payload.refused) == (
        sha,
        200,
        len(recorded),
        None,
    )
    assert batch.rows.schema == pl.Schema(GDP.shape.write_schema)
    assert batch.rows["series_id"].unique().to_list() == ["fred.GDP"]
    assert batch.rows["payload_sha256"].unique().to_list() == [sha]
    assert batch.rows["release_basis"].unique().to_list() == ["vintage"]
    assert batch.records_read == json.loads(recorded)["count"] == batch.rows.height
    assert (batch.refusal, batch.implausible, batch.outside_window) == (None, 0, 0)
    assert batch.fetched_at == utc(2019, 1, 1, 23)
    assert (batch.dataset, batch.window_start, batch.window_end, batch.shape) == (GDP, START, END, GDP.shape)


def test_sgs_432_future_dated_rows_stay_outside_the_window(tmp_path):
    batch = ingest(SELIC, START, END, replay(), LocalObjectStore(tmp_path), nothing_stored)
    assert batch.records_read == 1498
    assert batch.outside_window == 37  # 01/01/2019 .. 06/02/2019: the target until the next Copom meeting
    assert batch.rows.height == 1498 - 37
    assert (batch.rows["obs_date"].min(), batch.rows["obs_date"].max()) == (START, END)


def test_coverage_is_asked_at_each_payloads_fetch_time(tmp_path):
    asked: list[dt.datetime] = []

    def coverage(before: dt.datetime) -> list[tuple[dt.date, dt.date]]:
        asked.append(before)
        return []

    ingest(IBC_BR, START, END, replay(clock=utc(2019, 1, 10)), LocalObjectStore(tmp_path), coverage)
    assert asked == [utc(2019, 1, 7, 12)]


def test_a_date_an_earlier_fetch_covered_is_released_at_this_fetch(tmp_path):
    covered_2018 = [(dt.date(2018, 1, 1), dt.date(2018, 12, 31))]
    batch = ingest(IBC_BR, START, END, replay(), LocalObjectStore(tmp_path), lambda before: covered_2018)
    assert released(batch, dt.date(2018, 9, 1)) == (138.87, SECOND_CAPTURE_AT, "observed")
    # Outside the coverage: 30 Jun 2017 + 48 days = 17 Aug 2017, 09:00 BRT (UTC-3).
    assert released(batch, dt.date(2017, 6, 1))[1:] == (utc(2017, 8, 17, 12), "estimated")
    bases = batch.rows.group_by("release_basis").agg(pl.len()).sort("release_basis").rows()
    assert bases == [("estimated", 36), ("observed", 11)]


def test_an_estimate_later_than_the_fetch_is_replaced_by_the_fetch_time(tmp_path):
    # IPCA December 2018 is estimated at 10 Jan 2019 09:00 BRST = 11:00 UTC, but the fetch of 7 Jan held it.
    body = sgs_body(tmp_path, [("01/11/2018", "-0.21"), ("01/12/2018", "0.15")])
    root = sgs_recording(tmp_path, "433", body, "2019-01-07T12:00:00Z")
    batch = ingest(IPCA, START, END, replay(root), LocalObjectStore(tmp_path / "objects"), nothing_stored)
    assert batch.rows.select("obs_date", "release_time", "release_basis").rows() == [
        (dt.date(2018, 11, 1), utc(2018, 12, 10, 11), "estimated"),  # 30 Nov + 10 days, 09:00 BRST = 11:00 UTC
        (dt.date(2018, 12, 1), utc(2019, 1, 7, 12), "observed"),
    ]


def test_a_vintage_keeps_its_basis_but_not_a_release_after_the_fetch(tmp_path):
    # A vintage of 1 January 2019 is dated 08:30 New York (13:30 UTC); a fetch at 12:00 UTC held it already.
    body = tmp_path / "gdp.json"
    body.write_text(
        json.dumps(
            {
                **ALL_VINTAGES,
                "count": 2,
                "offset": 0,
                "observations": [
                    {
                        "realtime_start": "2018-12-21",
                        "realtime_end": "2018-12-31",
                        "date": "2018-07-01",
                        "value": "20658.204",
                    },
                    {
                        "realtime_start": "2019-01-01",
                        "realtime_end": "9999-12-31",
                        "date": "2018-07-01",
                        "value": "20700.0",
                    },
                ],
            }
        )
    )
    root = write_manifest(
        tmp_path / "replay",
        "fred",
        [
            Exchange(
                url=OBSERVATIONS_URL,
                params=FRED_WINDOW,
                body=body,
                content_type=FRED_JSON,
                captured_at="2019-01-01T12:00:00Z",
            )
        ],
    )
    covered = [(START, END)]  # coverage never turns a source's own vintage into an observed one
    batch = ingest(GDP, START, END, replay(root), LocalObjectStore(tmp_path / "objects"), lambda before: covered)
    assert batch.rows.select("value", "release_time", "release_basis").rows() == [
        (20658.204, utc(2018, 12, 21, 13, 30), "vintage"),
        (20700.0, utc(2019, 1, 1, 12), "vintage"),
    ]


def test_every_recorded_observation_dataset_is_dated_no_later_than_its_fetch(tmp_path):
    store = LocalObjectStore(tmp_path)
    for dataset in CATALOG.of_kind("observations"):
        batch = ingest(dataset, START, END, replay(), store, nothing_stored)
        rows = fetched_at_of_each_row(batch)
        assert rows.height > 0 and rows["fetched_at"].null_count() == 0, dataset.id
        late = rows.filter(pl.col("release_time") > pl.col("fetched_at"))
        assert late.is_empty(), (dataset.id, late.head(3))


def test_an_implausible_value_is_quarantined_and_not_in_the_rows(tmp_path):
    body = sgs_body(tmp_path, [("01/10/2018", "0.45"), ("01/11/2018", "42.0"), ("01/12/2018", "0.15")])
    root = sgs_recording(tmp_path, "433", body, "2019-01-14T12:00:00Z")
    batch = ingest(IPCA, START, END, replay(root), LocalObjectStore(tmp_path / "objects"), nothing_stored)
    assert batch.rows["obs_date"].to_list() == [dt.date(2018, 10, 1), dt.date(2018, 12, 1)]
    assert (batch.implausible, batch.records_read, batch.refusal) == (1, 3, None)
    [record] = batch.quarantine
    assert (record.dataset_id, record.record_index, record.field) == ("bcb_sgs.433", -1, "value")
    assert record.payload_sha256 == hashlib.sha256(body.read_bytes()).hexdigest()
    assert record.reason == "value 42.0 is outside the plausible range [-5.0, 10.0]"
    assert json.loads(record.raw_record)["obs_date"] == "2018-11-01"


def test_a_refused_payload_comes_back_as_the_refusal_with_no_rows(tmp_path):
    root = sgs_recording(tmp_path, "24363", HTML_PAGE, "2019-03-01T12:00:00Z", "text/html; charset=utf-8")
    store = LocalObjectStore(tmp_path / "objects")

    batch = ingest(IBC_BR, START, END, replay(root), store, nothing_stored)  # does not raise

    assert isinstance(batch.refusal, SourcePayloadError)
    assert (batch.refusal.dataset_id, batch.refusal.field) == ("bcb_sgs.24363", "<body>")
    assert "HTML" in str(batch.refusal)
    assert batch.rows.is_empty() and batch.rows.schema == pl.Schema(IBC_BR.shape.write_schema)
    sha = hashlib.sha256(HTML_PAGE.read_bytes()).hexdigest()
    [payload] = batch.payloads
    assert (payload.payload_sha256, payload.refused) == (sha, str(batch.refusal))
    assert store.get(payload.object_key) == HTML_PAGE.read_bytes() and payload.object_key.endswith(".html")
    [record] = batch.quarantine
    assert (record.payload_sha256, record.record_index, record.field) == (sha, -1, "<body>")
    assert record.reason == str(batch.refusal) and "Página não encontrada" in record.raw_record


def test_one_refused_payload_refuses_the_other_payloads_of_the_run(tmp_path):
    # A daily range of 12 years is two requests; the second window answers an HTML page.
    first = {"formato": "json", "dataInicial": "01/01/2007", "dataFinal": "31/12/2016"}
    second = {"formato": "json", "dataInicial": "01/01/2017", "dataFinal": "31/12/2018"}
    good = sgs_body(tmp_path, [("02/01/2007", "13.25")])
    root = write_manifest(
        tmp_path / "replay",
        "bcb_sgs",
        [
            Exchange(url=SGS_URL.format(code="432"), params=first, body=good, captured_at="2019-01-07T12:00:00Z"),
            Exchange(
                url=SGS_URL.format(code="432"),
                params=second,
                body=HTML_PAGE,
                content_type="text/html",
                captured_at="2019-01-07T12:00:00Z",
            ),
        ],
    )
    batch = ingest(SELIC, dt.date(2007, 1, 1), END, replay(root), LocalObjectStore(tmp_path / "o"), nothing_stored)
    assert batch.rows.is_empty() and batch.refusal is not None
    assert [p.refused for p in batch.payloads] == [
        "not stored: another payload of the same run was refused (<body>)",
        str(batch.refusal),
    ]
    assert [r.payload_sha256 for r in batch.quarantine] == [batch.payloads[1].payload_sha256]


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


def test_fred_api_key_is_sent_but_never_logged_archived_or_kept(fred_key, caplog, tmp_path):
    store = LocalObjectStore(tmp_path)
    transport = CountingReplay(paths.RECORDINGS)
    batch = ingest(GDP, START, END, SourceSession(HttpClient(transport), live=False), store, nothing_stored)

    assert [query["api_key"] for query in transport.queries] == [fred_key]
    assert_logs_are_clean(caplog)
    assert all(fred_key not in p.request and "api_key=***" in p.request for p in batch.payloads)
    assert all(fred_key not in key for key in store.list())
    kept = [repr(getattr(batch, f.name)) for f in dataclasses.fields(batch)]
    assert fred_key not in repr(batch) and not [text for text in kept if fred_key in text]
    assert fred_key not in batch.rows.write_csv()


def test_fred_api_key_is_not_in_the_text_of_an_unrecorded_request_error(fred_key, caplog, tmp_path):
    with pytest.raises(RecordingNotFound) as raised:
        ingest(GDP, dt.date(2014, 1, 1), END, replay(), LocalObjectStore(tmp_path), nothing_stored)
    text = "".join(traceback.format_exception(raised.value))
    assert "api_key=***" in text and fred_key not in text and fred_key not in repr(raised.value)
    assert_logs_are_clean(caplog)


def test_fred_api_key_is_not_in_the_text_of_an_api_error(fred_key, caplog, tmp_path):
    body = paths.FIXTURES / "fred" / "error_400_api_key_not_registered.json"
    root = write_manifest(
        tmp_path / "replay",
        "fred",
        [
            Exchange(
                url=OBSERVATIONS_URL,
                params=FRED_WINDOW,
                body=body,
                status=400,
                content_type=FRED_JSON,
                captured_at="2019-01-01T23:00:00Z",
            )
        ],
    )
    batch = ingest(GDP, START, END, replay(root), LocalObjectStore(tmp_path / "objects"), nothing_stored)
    assert "api_key is not registered" in str(batch.refusal)
    assert fred_key not in "".join(traceback.format_exception(batch.refusal)) + repr(batch.refusal)
    assert_logs_are_clean(caplog)
    kept = [
        *(r.reason for r in batch.quarantine),
        *(r.raw_record for r in batch.quarantine),
        *(p.refused for p in batch.payloads),
        *(p.request for p in batch.payloads),
    ]
    assert kept and not [text for text in kept if fred_key in text]


# ================================================================================ appended to a real warehouse
def test_gdp_as_of_matches_what_the_verbatim_alfred_sample_knew(warehouse, tmp_path):
    batch = ingest(GDP, START, END, replay(), LocalObjectStore(tmp_path), stored_in(warehouse, GDP))
    assert append(warehouse, batch).added > 0
    # 2018-06-01 00:00 UTC is 2018-05-31 20:00 in New York: every vintage dated up to 2018-05-31 was out at 08:30.
    known: dict[dt.date, str] = {}
    for row in json.loads(ALFRED_GDP.read_bytes())["observations"]:
        day = dt.date.fromisoformat(row["date"])
        if START <= day <= END and row["realtime_start"] <= "2018-05-31":
            known[day] = row["value"]  # rows are in vintage order within a date: the last one wins
    expected = {day: float(value) for day, value in known.items() if value != "."}

    frame = warehouse.observations.as_of("fred.GDP", as_of="2018-06-01", output="polars")
    as_of = dict(frame.select("obs_date", "value").iter_rows())
    assert as_of == expected
    assert as_of[dt.date(2018, 1, 1)] == 19956.811  # second estimate of 2018-05-30, not the advance one
    assert as_of[dt.date(2017, 10, 1)] == 19754.102
    assert dt.date(2018, 4, 1) not in as_of  # first published 2018-07-27
    first = warehouse.observations.first_release("fred.GDP", "2018-04-01", "2018-04-01", output="polars")
    assert first.select("value", "release_time", "release_basis").rows() == [
        (20402.502, utc(2018, 7, 27, 12, 30), "vintage")
    ]
    [payload] = warehouse.pipeline.payloads("fred.GDP")["object_key"].to_list()
    assert payload == batch.payloads[0].object_key


def test_ingest_writes_nothing_and_a_refused_batch_records_only_its_payloads(warehouse, tmp_path):
    store = LocalObjectStore(tmp_path / "objects")
    append(warehouse, ingest(IBC_BR, START, END, replay(clock=utc(2019, 1, 10)), store, stored_in(warehouse, IBC_BR)))
    before = warehouse.observations.vintages("bcb_sgs.24363", START, END, output="polars")
    payloads_before = warehouse.pipeline.payloads("bcb_sgs.24363")
    root = sgs_recording(tmp_path, "24363", HTML_PAGE, "2019-03-01T12:00:00Z", "text/html; charset=utf-8")

    batch = ingest(IBC_BR, START, END, replay(root), store, stored_in(warehouse, IBC_BR))

    assert batch.refusal is not None
    # ingest itself touched nothing in the warehouse:
    assert warehouse.pipeline.payloads("bcb_sgs.24363").equals(payloads_before)
    assert warehouse.pipeline.quarantined("bcb_sgs.24363").empty
    # what the IO manager writes for a refused batch: the payload marked refused and its quarantine record only.
    result = append(warehouse, batch)
    assert (result.added, result.unchanged, result.conflicts) == (0, 0, 0)
    sha = hashlib.sha256(HTML_PAGE.read_bytes()).hexdigest()
    payloads = warehouse.pipeline.payloads("bcb_sgs.24363")
    assert payloads.set_index("payload_sha256").loc[sha, "refused"] == str(batch.refusal)
    refused = warehouse.pipeline.quarantined("bcb_sgs.24363")
    assert refused[["payload_sha256", "record_index", "field"]].values.tolist() == [[sha, -1, "<body>"]]
    assert "HTML" in refused["reason"].item()
    assert warehouse.observations.vintages("bcb_sgs.24363", START, END, output="polars").equals(before)


def test_a_refused_payload_does_not_make_history_look_first_seen_at_the_retry(warehouse, tmp_path):
    root = sgs_recording(tmp_path, "24363", HTML_PAGE, "2019-01-05T12:00:00Z", "text/html; charset=utf-8")
    store = LocalObjectStore(tmp_path / "objects")
    refused = ingest(IBC_BR, START, END, replay(root), store, stored_in(warehouse, IBC_BR))
    append(warehouse, refused)
    assert refused.refusal is not None and warehouse.pipeline.fetch_coverage("bcb_sgs.24363", utc(2019, 1, 10)) == []

    retry = ingest(IBC_BR, START, END, replay(clock=utc(2019, 1, 10)), store, stored_in(warehouse, IBC_BR))
    assert retry.rows["release_basis"].unique().to_list() == ["estimated"]


def test_an_sgs_refetch_makes_observed_vintages_of_revised_and_new_months_only(warehouse, tmp_path):
    store = LocalObjectStore(tmp_path)
    first = ingest(IBC_BR, START, END, replay(clock=utc(2019, 1, 10)), store, stored_in(warehouse, IBC_BR))
    assert first.rows["release_basis"].unique().to_list() == ["estimated"]
    assert append(warehouse, first).added == 46

    second = ingest(IBC_BR, START, END, replay(), store, stored_in(warehouse, IBC_BR))
    assert second.rows["release_basis"].unique().to_list() == ["observed"]  # the first fetch covered every date
    assert append(warehouse, second).added == 4

    vintages = warehouse.observations.vintages("bcb_sgs.24363", START, END, output="polars")
    observed = vintages.filter(pl.col("release_basis") == "observed")
    capture = {
        dt.datetime.strptime(r["data"], "%d/%m/%Y").date(): float(r["valor"])
        for r in json.loads(IBC_BR_SECOND_CAPTURE.read_bytes())
    }
    revised_and_new = [dt.date(2018, 8, 1), dt.date(2018, 9, 1), dt.date(2018, 10, 1), dt.date(2018, 11, 1)]
    assert dict(observed.select("obs_date", "value").iter_rows()) == {day: capture[day] for day in revised_and_new}
    assert observed["release_time"].unique().to_list() == [SECOND_CAPTURE_AT]

    september = warehouse.observations.vintages("bcb_sgs.24363", "2018-09-01", "2018-09-01", output="polars")
    # 30 Sep + 48 days = 17 Nov 2018, 09:00 Brazilian summer time (UTC-2); then the re-fetch of 20 Feb 2019.
    assert september.select("value", "release_time", "release_basis").rows() == [
        (139.22, utc(2018, 11, 17, 11), "estimated"),
        (138.87, SECOND_CAPTURE_AT, "observed"),
    ]
    # As known before the re-fetch, September is still the first capture's value.
    as_of = warehouse.observations.as_of(
        "bcb_sgs.24363", as_of="2019-02-20 11:59", start="2018-09-01", end="2018-09-01", output="polars"
    )
    assert as_of["value"].to_list() == [139.22]


def test_rerunning_a_capture_adds_no_vintage(warehouse, tmp_path):
    store = LocalObjectStore(tmp_path)
    for clock in (utc(2019, 1, 10), None):
        once = append(warehouse, ingest(IBC_BR, START, END, replay(clock=clock), store, stored_in(warehouse, IBC_BR)))
        again = append(warehouse, ingest(IBC_BR, START, END, replay(clock=clock), store, stored_in(warehouse, IBC_BR)))
        assert once.added > 0 and again.added == 0
    assert len(warehouse.pipeline.payloads("bcb_sgs.24363")) == 2


def test_nothing_stored_is_dated_after_the_fetch_that_held_it(warehouse, tmp_path):
    store = LocalObjectStore(tmp_path)
    for dataset in CATALOG.of_kind("observations"):
        append(warehouse, ingest(dataset, START, END, replay(), store, stored_in(warehouse, dataset)))
        fetched_at = max(warehouse.pipeline.payloads(str(dataset.id))["fetched_at"])  # PTAX: a payload per year
        vintages = warehouse.observations.vintages(str(dataset.id), output="polars")
        assert vintages.height > 0, dataset.id
        assert vintages["release_time"].max() <= fetched_at, dataset.id
