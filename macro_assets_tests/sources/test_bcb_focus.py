"""BCB Focus connector: the reconstructed sample and the recordings parse into survey vintages released with the
Monday Focus report (08:25 Brasília, summer time and holiday Mondays included), keyed by survey date, reference and
calculation basis; unusable payloads are refused, bad records quarantined, and the requests have the real API's
shape, paged with $top/$skip."""

from __future__ import annotations

import datetime as dt
import json

import httpx
import polars as pl
import pytest

from macro_assets.catalog import load_catalog
from macro_assets.catalog.calendars import business_days
from macro_assets.errors import SourcePayloadError
from macro_assets.http.client import HttpClient
from macro_assets.provenance import Fetched
from macro_assets.sources.base import SourceSession, parsed_schema
from macro_assets.sources.bcb_focus import connector, release_time, report_day, request, request_windows
from macro_assets_tests import paths
from macro_assets_tests.sources import payloads
from macro_assets_tests.sources.replay import CountingReplay

RECORDED = paths.RECORDINGS / "bcb_focus"
CATALOG = load_catalog()
IPCA = CATALOG.get("bcb_focus.IPCA_annual")
TRADE = CATALOG.get("bcb_focus.trade_balance_annual")
GDP = CATALOG.get("bcb_focus.GDP_annual")
IPCA_MONTHLY = CATALOG.get("bcb_focus.IPCA_monthly")
IPCA_12M = CATALOG.get("bcb_focus.IPCA_12m_smoothed")
SELIC = CATALOG.get("bcb_focus.Selic_meetings")
BASE = "https://olinda.bcb.gov.br/olinda/servico/Expectativas/versao/v1/odata/"
CONTEXT = "https://was-p.bcnet.bcb.gov.br/olinda/servico/Expectativas/versao/v1/odata$metadata#ExpectativasMercadoSelic"
KEY_AND_VALUES = ("survey_date", "reference", "calculation_basis", "median", "mean", "std_dev", "minimum", "maximum")


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def parse(spec, body: bytes, status: int = 200):
    return connector.parse(spec, payloads.fetched(str(spec.id), body, status=status, request=f"GET {BASE}..."))


def recorded(spec, name: str):
    return parse(spec, (RECORDED / name).read_bytes())


def envelope(records: list) -> bytes:
    return json.dumps({"@odata.context": CONTEXT, "value": records}, ensure_ascii=False).encode()


def selic(**fields) -> dict:
    """A Selic record of the reconstructed sample's shape (Data 2022-03-18, R2/2024), fields overridden."""
    record = {
        "Indicador": "Selic",
        "Data": "2022-03-18",
        "Reuniao": "R2/2024",
        "Media": 8.5648,
        "Mediana": 8.5,
        "DesvioPadrao": 0.7776,
        "Minimo": 7.0,
        "Maximo": 10.75,
        "numeroRespondentes": 27,
        "baseCalculo": 0,
    }
    return {**record, **fields}


# ------------------------------------------------------------------------------------------ the sample
def test_the_reconstructed_selic_sample_parses_into_vintages_of_the_monday_report():
    sample = paths.shared("reference", "samples", "bcb_focus", "RECONSTRUCTED_ExpectativasMercadoSelic_2022-03-18.json")
    parsed = parse(SELIC, sample.read_bytes())
    assert parsed.rows.select(*KEY_AND_VALUES, "respondents").rows() == [
        (dt.date(2022, 3, 18), "R2/2024", 0, 8.5, 8.5648, 0.7776, 7.0, 10.75, 27),
        (dt.date(2022, 3, 18), "R1/2024", 0, 8.5, 8.6306, 1.0661, 5.5, 12.75, 94),
    ]
    # Friday 18 March 2022: the report of Monday 21 March, 08:25 Brasília (UTC-3, no summer time since 2019).
    assert parsed.rows["release_time"].unique().to_list() == [utc(2022, 3, 21, 11, 25)]
    assert parsed.rows["release_basis"].unique().to_list() == ["vintage"]
    assert parsed.rows.schema == pl.Schema(parsed_schema(SELIC.shape))
    assert (parsed.records, parsed.quarantine, parsed.missing) == (2, [], 0)


# ------------------------------------------------------------------------------------------ release time
@pytest.mark.parametrize(
    "survey, released",
    [
        (dt.date(2018, 10, 26), utc(2018, 10, 29, 11, 25)),  # a Friday: Monday 08:25 BRT (UTC-3)
        (dt.date(2018, 11, 1), utc(2018, 11, 5, 10, 25)),  # Thursday before Finados: summer time began 4 Nov (UTC-2)
        (dt.date(2017, 10, 6), utc(2017, 10, 9, 11, 25)),  # the week before summer time (began Sunday 15 Oct)
        (dt.date(2017, 10, 13), utc(2017, 10, 16, 10, 25)),  # the Monday after it began: 08:25 BRST
        (dt.date(2018, 2, 9), utc(2018, 2, 14, 10, 25)),  # Carnival Monday and Tuesday: Ash Wednesday, still BRST
        (dt.date(2018, 2, 16), utc(2018, 2, 19, 11, 25)),  # summer time ended Sunday 18 Feb: 08:25 BRT
        (dt.date(2015, 2, 13), utc(2015, 2, 18, 10, 25)),  # Carnival 2015
        (dt.date(2017, 12, 29), utc(2018, 1, 2, 10, 25)),  # Monday 1 January: the Tuesday
        (dt.date(2016, 3, 1), utc(2016, 3, 7, 11, 25)),  # a daily survey (Tuesday): the next week's Monday
        (dt.date(2016, 3, 7), utc(2016, 3, 14, 11, 25)),  # a Monday survey waits a whole week
        (dt.date(2016, 1, 9), utc(2016, 1, 11, 10, 25)),  # a Saturday belongs to its Monday-to-Sunday week
    ],
)
def test_a_survey_is_released_with_the_focus_report_of_the_monday_after_its_week(survey, released):
    assert release_time(IPCA, survey) == released


def test_the_release_is_the_catalogs_friday_estimate_unless_monday_is_a_holiday():
    friday, carnival_friday = dt.date(2018, 10, 26), dt.date(2018, 2, 9)
    assert release_time(IPCA, friday) == IPCA.estimated_release(friday)  # lag 3 days at 08:25
    assert release_time(IPCA, carnival_friday) > IPCA.estimated_release(carnival_friday)
    assert report_day(carnival_friday, "BR") == dt.date(2018, 2, 14)
    assert report_day(carnival_friday, "US") == dt.date(2018, 2, 12)  # the dataset's calendar decides


# ------------------------------------------------------------------------------------------ recordings
def test_a_two_page_year_is_fetched_by_skip_and_every_daily_survey_kept_with_both_bases():
    replay = CountingReplay(paths.RECORDINGS)
    client = HttpClient(transport=replay, sleep=lambda _: None)
    try:
        fetched = connector.fetch(SourceSession(client, live=False), IPCA, dt.date(2018, 7, 6), dt.date(2018, 7, 12))
    finally:
        client.close()
    assert [query["$skip"] for query in replay.queries] == ["0", "1000"]
    assert {query["$filter"] for query in replay.queries} == {
        "Indicador eq 'IPCA' and Data ge '2018-01-01' and Data le '2018-12-31'"
    }
    assert [(f.window_start, f.window_end) for f in fetched] == [(dt.date(2018, 1, 1), dt.date(2018, 12, 31))] * 2
    pages = [connector.parse(IPCA, item) for item in fetched]
    assert [page.records for page in pages] == [1000, 200] and all(not page.quarantine for page in pages)
    rows = pl.concat([page.rows for page in pages])
    # Weekly surveys until June, every business day from July: 4 years ahead, both bases, on each.
    days = rows["survey_date"].unique().sort()
    second_half = business_days("BR", dt.date(2018, 7, 1), dt.date(2018, 12, 31))
    assert days.filter(days < dt.date(2018, 7, 1)).len() == 26
    assert days.filter(days >= dt.date(2018, 7, 1)).to_list() == second_half
    assert rows.group_by("survey_date").len()["len"].unique().to_list() == [8]
    tuesday = rows.filter(pl.col("survey_date") == dt.date(2018, 7, 10)).sort("reference", "calculation_basis")
    assert tuesday.select("reference", "calculation_basis").rows() == [
        (year, basis) for year in ("2018", "2019", "2020", "2021") for basis in (0, 1)
    ]
    assert tuesday["release_time"].unique().to_list() == [utc(2018, 7, 16, 11, 25)]
    assert rows.select(pl.struct("survey_date", "reference", "calculation_basis").is_unique().all()).item()


def test_a_null_detail_and_a_named_detail_are_each_their_own_datasets_records():
    ipca = recorded(IPCA, "IPCA_annual_2016.json")
    assert b'"IndicadorDetalhe":null' in (RECORDED / "IPCA_annual_2016.json").read_bytes()
    assert ipca.rows.height == ipca.records == 52 * 4 * 2 and not ipca.quarantine
    saldo = recorded(TRADE, "trade_balance_annual_2016.json")
    assert saldo.rows.height == 52 * 2 and saldo.rows["calculation_basis"].unique().to_list() == [0]
    # The exports dataset asked IndicadorDetalhe eq 'Exportações': a Saldo record reaching it is quarantined.
    exports = parse(CATALOG.get("bcb_focus.exports_annual"), (RECORDED / "trade_balance_annual_2016.json").read_bytes())
    assert exports.rows.is_empty() and len(exports.quarantine) == 104
    assert {q.field for q in exports.quarantine} == {"IndicadorDetalhe"}
    assert "'Saldo' is not the dataset's 'Exportações'" in exports.quarantine[0].reason


def test_a_holiday_friday_is_surveyed_on_the_thursday_and_released_after_summer_time_began():
    rows = recorded(GDP, "GDP_annual_2018.json").rows
    november = rows.filter(pl.col("survey_date").is_between(dt.date(2018, 10, 29), dt.date(2018, 11, 9)))
    assert sorted(set(november["survey_date"].to_list())) == [dt.date(2018, 11, 1), dt.date(2018, 11, 9)]
    assert november.filter(pl.col("survey_date") == dt.date(2018, 11, 1))["release_time"].unique().to_list() == [
        utc(2018, 11, 5, 10, 25)
    ]


def test_recorded_references_follow_each_entity_sets_format():
    monthly = recorded(IPCA_MONTHLY, "IPCA_monthly_2017.json").rows
    assert monthly.filter(pl.col("survey_date") == dt.date(2017, 12, 29))["reference"].to_list() == [
        "01/2018",
        "12/2017",
    ]
    twelve = recorded(IPCA_12M, "IPCA_12m_smoothed_2017.json").rows
    assert twelve["reference"].unique().to_list() == ["12m"] and twelve.height == 52
    meetings = recorded(SELIC, "Selic_meetings_2018.json").rows
    last = meetings.filter(pl.col("survey_date") == dt.date(2018, 12, 28), pl.col("calculation_basis") == 0)
    assert last["reference"].to_list() == ["R1/2019", "R2/2019", "R3/2019", "R4/2019"]
    assert last["median"].unique().to_list() == [6.5]


@pytest.mark.parametrize("name", sorted(p.name for p in RECORDED.glob("*.json") if p.name != "manifest.json"))
def test_every_recorded_body_parses_plausibly_and_never_releases_before_the_catalog_allows(name):
    spec = CATALOG.get(f"bcb_focus.{name.split('_20')[0]}")
    parsed = recorded(spec, name)
    low, high = spec.plausible_range
    assert parsed.quarantine == [] and parsed.rows.height == parsed.records > 0
    assert low <= parsed.rows["minimum"].min() and parsed.rows["maximum"].max() <= high
    # Not before the survey day could be known, nor before the catalog's estimate (survey + 3 days at 08:25).
    for survey, released in parsed.rows.select("survey_date", "release_time").unique().iter_rows():
        assert released >= max(spec.earliest_possible_release(survey), spec.estimated_release(survey))
        assert released.astimezone(spec.release.timezone).time() == spec.release.clock


def test_an_empty_value_array_is_an_empty_window():
    parsed = parse(SELIC, b'{"@odata.context":"x","value":[]}')
    assert parsed.rows.is_empty() and (parsed.records, parsed.quarantine, parsed.missing) == (0, [], 0)
    assert parsed.rows.schema == pl.Schema(parsed_schema(SELIC.shape))


# ------------------------------------------------------------------------------------------ quarantine
def test_bad_records_are_quarantined_with_their_reason_and_the_others_parse():
    records = [
        selic(),
        selic(Data="18/03/2022"),
        selic(Reuniao="2024-R2"),
        selic(Reuniao="R9/2024"),
        selic(Mediana="8,5", Reuniao="R3/2024"),
        selic(Media=None, Reuniao="R4/2024"),
        selic(numeroRespondentes=0, Reuniao="R5/2024"),
        selic(numeroRespondentes=2.5, Reuniao="R6/2024"),
        selic(baseCalculo=2),
        selic(Indicador="IPCA"),
        selic(Mediana=8.75),
        {"Indicador": "Selic", "Data": "2022-03-18"},
        selic(baseCalculo=1, Media=8.6, numeroRespondentes=12),
    ]
    parsed = parse(SELIC, envelope(records))
    assert parsed.rows.select("reference", "calculation_basis", "median", "respondents").rows() == [
        ("R2/2024", 0, 8.5, 27),
        ("R2/2024", 1, 8.5, 12),  # both bases of one survey and meeting are two keys
    ]
    assert [(q.record_index, q.field) for q in parsed.quarantine] == [
        (1, "Data"),
        (2, "Reuniao"),
        (3, "Reuniao"),
        (4, "Mediana"),
        (5, "Media"),
        (6, "numeroRespondentes"),
        (7, "numeroRespondentes"),
        (8, "baseCalculo"),
        (9, "Indicador"),
        (10, "Data"),
        (11, "Indicador/Data/Reuniao/Media/Mediana/DesvioPadrao/Minimo/Maximo/numeroRespondentes/baseCalculo"),
    ]
    reasons = [q.reason for q in parsed.quarantine]
    assert "does not match %Y-%m-%d" in reasons[0] and "unknown reference '2024-R2'" in reasons[1]
    assert "comma decimal" in reasons[3] and "None" in reasons[4]
    assert "0 is not a positive whole number" in reasons[5] and "2.5 is not a positive whole number" in reasons[6]
    assert "a second record of 2022-03-18 R2/2024 basis 0" in reasons[9]
    assert parsed.records == 13


# ------------------------------------------------------------------------------------------ refused payloads
@pytest.mark.parametrize(
    "body, status, field, words",
    [
        (b"<html><head><title>Erro 500</title></head></html>", 500, "<body>", "'Erro 500'"),
        (b'{"@odata.context":"x","value":[{"Indicador":"Sel', 200, "<body>", "truncated"),
        (
            b'{"error":{"code":"400","message":"The query specified in the URI is not valid."}}',
            400,
            "<body>",
            "400: The query specified in the URI is not valid.",
        ),
        (b'{"@odata.context":"x","value":{"Indicador":"Selic"}}', 200, "value", "expected an array"),
        (
            envelope([{("mediana" if name == "Mediana" else name): value for name, value in selic().items()}]),
            200,
            "Mediana",
            "missing from every record",
        ),
    ],
    ids=["html", "truncated", "odata-error", "value-not-array", "renamed-field"],
)
def test_unusable_payloads_are_refused_naming_source_dataset_and_field(body, status, field, words):
    with pytest.raises(SourcePayloadError) as raised:
        parse(SELIC, body, status)
    assert (raised.value.source, raised.value.dataset_id, raised.value.field) == (
        "bcb_focus",
        "bcb_focus.Selic_meetings",
        field,
    )
    assert words in str(raised.value)


# ------------------------------------------------------------------------------------------ requests
def test_a_request_filters_the_indicator_and_a_years_survey_dates_and_pages_by_1000():
    url, params = request(SELIC.params, dt.date(2016, 1, 1), dt.date(2016, 12, 31))
    assert url == BASE + "ExpectativasMercadoSelic"
    assert params == {
        "$top": "1000",
        "$skip": "0",
        "$format": "json",
        "$select": "Indicador,Data,Reuniao,Media,Mediana,DesvioPadrao,Minimo,Maximo,numeroRespondentes,baseCalculo",
        "$filter": "Indicador eq 'Selic' and Data ge '2016-01-01' and Data le '2016-12-31'",
        "$orderby": "Data,Reuniao,baseCalculo",
    }


def test_detail_smoothing_and_the_monthly_sets_singular_name_reach_the_request():
    url, params = request(TRADE.params, dt.date(2016, 1, 1), dt.date(2016, 12, 31))
    assert url == BASE + "ExpectativasMercadoAnuais"
    assert params["$filter"] == (
        "Indicador eq 'Balança comercial' and IndicadorDetalhe eq 'Saldo'"
        " and Data ge '2016-01-01' and Data le '2016-12-31'"
    )
    assert params["$select"].startswith("Indicador,IndicadorDetalhe,Data,DataReferencia,")
    url, params = request(IPCA_MONTHLY.params, dt.date(2017, 1, 1), dt.date(2017, 12, 31))
    assert url == BASE + "ExpectativaMercadoMensais" and params["$orderby"] == "Data,DataReferencia,baseCalculo"
    url, params = request(IPCA_12M.params, dt.date(2017, 1, 1), dt.date(2017, 12, 31))
    assert url == BASE + "ExpectativasMercadoInflacao12Meses"
    assert params["$filter"].startswith("Indicador eq 'IPCA' and Suavizada eq 'S' and Data ge")
    assert (
        params["$select"]
        == "Indicador,Data,Suavizada,Media,Mediana,DesvioPadrao,Minimo,Maximo,numeroRespondentes,baseCalculo"
    )
    assert params["$orderby"] == "Data,baseCalculo"
    _, params = request({**IPCA.params, "indicator": "d'Or"}, dt.date(2017, 1, 1), dt.date(2017, 12, 31))
    assert params["$filter"].startswith("Indicador eq 'd''Or' and")


@pytest.mark.parametrize(
    "params, words",
    [
        ({"entity_set": "ExpectativasMercadoMensais", "indicator": "IPCA"}, "entity_set must be one of"),
        ({"entity_set": "ExpectativasMercadoAnuais", "indicator": ""}, "indicator must be"),
        ({"entity_set": "ExpectativasMercadoSelic", "indicator": "Selic", "detail": "x"}, "detail is an"),
        ({"entity_set": "ExpectativasMercadoInflacao12Meses", "indicator": "IPCA"}, "smoothed must be one of"),
        ({"entity_set": "ExpectativasMercadoAnuais", "indicator": "IPCA", "smoothed": "S"}, "only for the 12-month"),
    ],
)
def test_bad_params_are_refused_before_any_request(params, words):
    with pytest.raises(ValueError, match=words):
        request(params, dt.date(2016, 1, 1), dt.date(2016, 12, 31))


def test_windows_are_whole_calendar_years():
    assert request_windows(dt.date(2015, 12, 25), dt.date(2016, 1, 7)) == [
        (dt.date(2015, 1, 1), dt.date(2015, 12, 31)),
        (dt.date(2016, 1, 1), dt.date(2016, 12, 31)),
    ]
    assert request_windows(dt.date(2016, 3, 4), dt.date(2016, 3, 10)) == [(dt.date(2016, 1, 1), dt.date(2016, 12, 31))]


def test_fetch_pages_each_year_until_a_short_page():
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        top, skip = int(request.url.params["$top"]), int(request.url.params["$skip"])
        full = "'2016-01-01'" in request.url.params["$filter"] and skip < 2 * top
        return httpx.Response(200, content=envelope([selic()] * (top if full else 3)))

    client = HttpClient(transport=httpx.MockTransport(answer), sleep=lambda _: None)
    out = connector.fetch(SourceSession(client, live=True), SELIC, dt.date(2015, 12, 25), dt.date(2016, 1, 7))
    assert [(r.url.params["$filter"][-12:], r.url.params["$skip"]) for r in seen] == [
        ("'2015-12-31'", "0"),
        ("'2016-12-31'", "0"),
        ("'2016-12-31'", "1000"),
        ("'2016-12-31'", "2000"),
    ]
    assert all(isinstance(f, Fetched) and f.dataset_id == "bcb_focus.Selic_meetings" for f in out)
    assert [f.window_start.year for f in out] == [2015, 2016, 2016, 2016]
