"""BCB SGS connector: parsing recorded and quirky payloads into rows with estimated release times, and request
windows."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import polars as pl
import pytest

from macro_assets.catalog import load_catalog
from macro_assets.errors import SourcePayloadError
from macro_assets.http.client import HttpClient
from macro_assets.provenance import Fetched
from macro_assets.shapes import UTC_DATETIME
from macro_assets.sources.base import SourceSession, parsed_schema
from macro_assets.sources.bcb_sgs import BASE_URL, connector, request_windows
from macro_assets_tests import paths
from macro_assets_tests.sources import payloads
from macro_assets_tests.sources.replay import CountingReplay, Exchange, write_manifest

FIXTURES = paths.FIXTURES / "bcb_sgs"
RECORDED = paths.RECORDINGS / "bcb_sgs"
CATALOG = load_catalog()
SELIC = CATALOG.get("bcb_sgs.432")
IPCA = CATALOG.get("bcb_sgs.433")
IBC_BR = CATALOG.get("bcb_sgs.24363")
CDI = CATALOG.get("bcb_sgs.12")
FETCHED_AT = dt.datetime(2019, 1, 7, 12, 0, tzinfo=dt.UTC)


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def fetched(spec, body: bytes, status: int = 200) -> Fetched:
    return payloads.fetched(
        str(spec.id),
        body,
        status=status,
        fetched_at=FETCHED_AT,
        request=f"GET {BASE_URL.format(code=spec.code)}",
    )


def parse_file(spec, path, status: int = 200):
    return connector.parse(spec, fetched(spec, path.read_bytes(), status))


def records(path) -> list[dict]:
    return json.loads(path.read_bytes())


def sgs_date(text: str) -> dt.date:
    return dt.datetime.strptime(text, "%d/%m/%Y").date()


def released(parsed, day: dt.date) -> tuple[dt.datetime, str]:
    return parsed.rows.filter(pl.col("obs_date") == day).select("release_time", "release_basis").row(0)


# ------------------------------------------------------------------------------------------ recorded payloads
@pytest.mark.parametrize(
    "name",
    [
        "error_404_empty_window.json",
        "error_406_daily_window_over_10y.json",
        "error_400_ultimos_max_20.json",
        "RECONSTRUCTED_433_ipca_2021-01_2021-05.json",
    ],
)
def test_copied_samples_are_byte_identical_to_the_research_samples(name):
    samples = paths.shared("reference", "samples", "bcb_sgs")
    assert (FIXTURES / name).read_bytes() == (samples / name).read_bytes()


def test_recorded_432_parses_every_row_including_the_future_dated_ones():
    path = RECORDED / "432_2015-01-01_2018-12-31.json"
    parsed = parse_file(SELIC, path)
    assert parsed.rows.height == len(records(path)) == parsed.records == 1498
    assert parsed.quarantine == [] and parsed.missing == 0
    assert parsed.rows.schema == pl.Schema(parsed_schema(SELIC.shape))
    assert parsed.rows["obs_date"].max() == dt.date(2019, 2, 6)  # beyond dataFinal and after the capture
    assert parsed.rows.filter(pl.col("obs_date") == dt.date(2019, 2, 6))["value"].item() == 6.5
    assert parsed.rows["release_basis"].unique().to_list() == ["estimated"]  # SGS has no vintages


def test_recorded_433_parses_into_the_real_ipca_values():
    path = RECORDED / "433_2015-01-01_2018-12-31.json"
    parsed = parse_file(IPCA, path)
    assert parsed.rows.height == parsed.records == 48 and parsed.quarantine == [] and parsed.missing == 0
    values = dict(zip(parsed.rows["obs_date"], parsed.rows["value"], strict=True))
    assert values[dt.date(2015, 1, 1)] == 1.24
    assert values[dt.date(2018, 9, 1)] == 0.48
    assert values == {sgs_date(r["data"]): float(r["valor"]) for r in records(path)}


@pytest.mark.parametrize("capture, months", [("2019-01-07", 46), ("2019-02-20", 47)])
def test_recorded_24363_captures_parse_fully(capture, months):
    path = RECORDED / f"24363_2015-01-01_2018-12-31_captured_{capture}.json"
    parsed = parse_file(IBC_BR, path)
    assert parsed.rows.height == parsed.records == months and parsed.quarantine == [] and parsed.missing == 0
    assert parsed.rows["obs_date"].to_list() == [sgs_date(r["data"]) for r in records(path)]


def test_reconstructed_ipca_sample_parses():
    parsed = parse_file(IPCA, FIXTURES / "RECONSTRUCTED_433_ipca_2021-01_2021-05.json")
    assert parsed.rows["value"].to_list() == [0.25, 0.86, 0.93, 0.31, 0.83]
    assert parsed.rows["obs_date"].to_list() == [dt.date(2021, m, 1) for m in range(1, 6)]


# ------------------------------------------------------------------------------------------ release times
def test_history_is_released_at_period_end_plus_lag_in_sao_paulo_time():
    parsed = parse_file(IPCA, RECORDED / "433_2015-01-01_2018-12-31.json")
    # IPCA June 2018: 30 Jun + 10 days = 10 Jul 2018, 09:00 BRT (UTC-3, no summer time) = 12:00 UTC.
    assert released(parsed, dt.date(2018, 6, 1)) == (utc(2018, 7, 10, 12), "estimated")
    assert parsed.rows.schema["release_time"] == UTC_DATETIME
    cdi = parse_file(CDI, RECORDED / "12_2015-01-01_2018-12-31.json")
    # CDI of 15 Jan 2016: + 1 day = 16 Jan 2016, 09:00 BRST (Brazilian summer time, UTC-2) = 11:00 UTC.
    assert released(cdi, dt.date(2016, 1, 15)) == (utc(2016, 1, 16, 11), "estimated")
    selic = parse_file(SELIC, RECORDED / "432_2015-01-01_2018-12-31.json")
    # Selic target of 5 Mar 2015: lag 0 at 00:00 BRT = 03:00 UTC the same day.
    assert released(selic, dt.date(2015, 3, 5)) == (utc(2015, 3, 5, 3), "estimated")


def test_every_row_gets_the_catalogs_estimate_even_after_the_fetch():
    # IPCA December 2018 is estimated at 10 Jan 2019 09:00 BRST = 11:00 UTC, after the fetch of 7 Jan: the parse
    # gives the source's rule, and bounding it by the fetch is the ingest pipeline's job.
    parsed = parse_file(IPCA, RECORDED / "433_2015-01-01_2018-12-31.json")
    assert released(parsed, dt.date(2018, 12, 1)) == (utc(2019, 1, 10, 11), "estimated")
    assert released(parsed, dt.date(2018, 12, 1))[0] > FETCHED_AT
    expected = [IPCA.estimated_release(day) for day in parsed.rows["obs_date"]]
    assert parsed.rows["release_time"].to_list() == expected


# ------------------------------------------------------------------------------------------ error envelopes
def test_404_value_not_found_is_an_empty_window_not_an_error():
    parsed = parse_file(IPCA, FIXTURES / "error_404_empty_window.json", status=404)
    assert parsed.rows.is_empty() and parsed.quarantine == [] and parsed.missing == 0 and parsed.records == 0
    assert parsed.rows.schema == pl.Schema(parsed_schema(IPCA.shape))


@pytest.mark.parametrize("status", [406, 200], ids=["http-406", "object-in-http-200"])
def test_daily_window_over_10_years_envelope_is_a_payload_error_quoting_the_api(status):
    with pytest.raises(SourcePayloadError) as raised:
        parse_file(SELIC, FIXTURES / "error_406_daily_window_over_10y.json", status=status)
    message = str(raised.value)
    assert message.startswith("bcb_sgs dataset bcb_sgs.432: field '<body>': ")
    assert f"HTTP {status}" in message
    assert "O sistema aceita uma janela de consulta de, no máximo, 10 anos" in message


def test_400_envelope_is_a_payload_error_quoting_the_detail():
    with pytest.raises(SourcePayloadError) as raised:
        parse_file(SELIC, FIXTURES / "error_400_ultimos_max_20.json", status=400)
    assert (raised.value.source, raised.value.dataset_id, raised.value.field) == ("bcb_sgs", "bcb_sgs.432", "<body>")
    assert "SGSNegocioException: A quantidade máxima de valores deve ser 20" in str(raised.value)


def test_html_page_with_http_200_is_a_payload_error_mentioning_html():
    with pytest.raises(SourcePayloadError, match="HTML") as raised:
        parse_file(IBC_BR, FIXTURES / "quirk_html_unknown_series_200.html")
    assert "bcb_sgs.24363" in str(raised.value) and "Página não encontrada" in str(raised.value)


def test_renamed_value_field_is_a_payload_error_naming_valor():
    with pytest.raises(SourcePayloadError) as raised:
        parse_file(IPCA, FIXTURES / "quirk_renamed_field_value_433.json")
    assert raised.value.field == "valor"
    assert "'valor'" in str(raised.value) and "bcb_sgs.433" in str(raised.value)


def test_truncated_body_is_a_payload_error_saying_truncated():
    with pytest.raises(SourcePayloadError, match="truncated"):
        parse_file(IPCA, FIXTURES / "quirk_truncated_433.json")


# ------------------------------------------------------------------------------------------ record quirks
@pytest.mark.parametrize(
    "name, spec, bad_index, bad_value, good",
    [
        ("quirk_comma_decimal_432.json", SELIC, 1, "5,25", {dt.date(2021, 8, 4): 4.25, dt.date(2021, 8, 6): 5.25}),
        ("quirk_dash_value_433.json", IPCA, 1, "-", {dt.date(2021, 1, 1): 0.25, dt.date(2021, 3, 1): 0.93}),
    ],
    ids=["comma-decimal", "dash"],
)
def test_unreadable_value_is_quarantined_and_the_other_records_parse(name, spec, bad_index, bad_value, good):
    body = (FIXTURES / name).read_bytes()
    parsed = connector.parse(spec, fetched(spec, body))
    assert dict(zip(parsed.rows["obs_date"], parsed.rows["value"], strict=True)) == good
    [record] = parsed.quarantine
    assert (record.source, record.dataset_id) == ("bcb_sgs", str(spec.id))
    assert (record.field, record.record_index) == ("valor", bad_index)
    assert record.payload_sha256 == hashlib.sha256(body).hexdigest()
    assert bad_value in record.raw_record and bad_value in record.reason
    assert parsed.missing == 0 and parsed.records == 3


def test_comma_decimal_reason_says_comma():
    [record] = parse_file(SELIC, FIXTURES / "quirk_comma_decimal_432.json").quarantine
    assert "comma decimal" in record.reason


def test_empty_valor_is_missing_not_quarantined_and_not_an_observation():
    parsed = parse_file(IPCA, FIXTURES / "quirk_empty_valor_433.json")
    assert parsed.missing == 1 and parsed.quarantine == [] and parsed.records == 3
    assert parsed.rows["obs_date"].to_list() == [dt.date(2021, 3, 1), dt.date(2021, 5, 1)]


# ------------------------------------------------------------------------------------------ requests
DAILY_WINDOWS = [
    (dt.date(2000, 1, 1), dt.date(2009, 12, 31)),
    (dt.date(2010, 1, 1), dt.date(2019, 12, 31)),
    (dt.date(2020, 1, 1), dt.date(2026, 11, 24)),
]


def test_daily_range_splits_into_consecutive_windows_of_at_most_ten_years():
    windows = request_windows(SELIC, dt.date(2000, 1, 1), dt.date(2026, 11, 24))
    assert windows == DAILY_WINDOWS
    assert windows[0][0] == dt.date(2000, 1, 1) and windows[-1][1] == dt.date(2026, 11, 24)
    for (_, end), (next_start, _) in zip(windows, windows[1:], strict=False):
        assert next_start == end + dt.timedelta(days=1)
    for start, end in windows:
        assert end < start.replace(year=start.year + 10)


def test_a_window_starting_on_29_february_ends_ten_years_on_28_february():
    assert request_windows(SELIC, dt.date(2004, 2, 29), dt.date(2016, 1, 1)) == [
        (dt.date(2004, 2, 29), dt.date(2014, 2, 28)),
        (dt.date(2014, 3, 1), dt.date(2016, 1, 1)),
    ]


def test_monthly_range_is_one_window():
    assert request_windows(IPCA, dt.date(1980, 1, 1), dt.date(2026, 11, 24)) == [
        (dt.date(1980, 1, 1), dt.date(2026, 11, 24))
    ]


def test_fetch_issues_one_request_per_window_with_dd_mm_yyyy_dates(tmp_path):
    wanted = [
        {"formato": "json", "dataInicial": start.strftime("%d/%m/%Y"), "dataFinal": end.strftime("%d/%m/%Y")}
        for start, end in DAILY_WINDOWS
    ]
    assert wanted[0] == {"formato": "json", "dataInicial": "01/01/2000", "dataFinal": "31/12/2009"}
    root = write_manifest(
        tmp_path,
        "bcb_sgs",
        [
            Exchange(
                url=BASE_URL.format(code="432"),
                params=params,
                body=FIXTURES / "error_404_empty_window.json",
                status=404,
                captured_at="2026-11-25T12:00:00Z",
            )
            for params in wanted
        ],
    )
    transport = CountingReplay(root)
    result = connector.fetch(
        SourceSession(HttpClient(transport), live=False), SELIC, dt.date(2000, 1, 1), dt.date(2026, 11, 24)
    )
    assert transport.queries == wanted
    assert [(f.window_start, f.window_end) for f in result] == DAILY_WINDOWS
    assert all(f.status == 404 and f.fetched_at == utc(2026, 11, 25, 12) for f in result)
    assert all(f.dataset_id == "bcb_sgs.432" and f.source == "bcb_sgs" for f in result)
    assert result[0].request == (
        "GET https://api.bcb.gov.br/dados/serie/bcdata.sgs.432/dados?formato=json&dataInicial=01%2F01%2F2000"
        "&dataFinal=31%2F12%2F2009"
    )
