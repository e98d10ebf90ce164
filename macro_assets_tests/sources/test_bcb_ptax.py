"""BCB PTAX connector: the quoted samples and the recordings parse into vintages released at their own
dataHoraCotacao (Brasília time, summer time included), bulletins are told apart, unusable payloads are refused and
bad records quarantined, and the requests have the real API's shape."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import httpx
import polars as pl
import pytest

from macro_assets.catalog import load_catalog
from macro_assets.errors import SourcePayloadError
from macro_assets.http.client import HttpClient
from macro_assets.provenance import Fetched
from macro_assets.sources.base import SourceSession, parsed_schema
from macro_assets.sources.bcb_ptax import connector, release_instant, request, request_windows
from macro_assets_tests import paths
from macro_assets_tests.sources import payloads

FIXTURES = paths.FIXTURES / "bcb_ptax"
RECORDED = paths.RECORDINGS / "bcb_ptax"
CATALOG = load_catalog()
USD_SELL = CATALOG.get("bcb_ptax.USD_sell_close")
USD_BUY = CATALOG.get("bcb_ptax.USD_buy_close")
EUR_SELL = CATALOG.get("bcb_ptax.EUR_sell_close")
EUR_BUY = CATALOG.get("bcb_ptax.EUR_buy_close")
EUR_OPEN = CATALOG.get("bcb_ptax.EUR_sell_open")
EUR_INTERMEDIATE = CATALOG.get("bcb_ptax.EUR_sell_intermediate")
CONTEXT = "https://was-p.bcnet.bcb.gov.br/olinda/servico/PTAX/versao/v1/odata$metadata#_CotacaoMoedaPeriodo"
SAMPLES = (
    "CotacaoDolarPeriodo_select_compra_venda_4rows.json",
    "CotacaoDolarPeriodo_select_cotacaoCompra_dataHoraCotacao_2023-09-05.json",
    "RECONSTRUCTED_CotacaoMoedaDia_AUD_2022-01-31.json",
)


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def fetched(spec, body: bytes, status: int = 200) -> Fetched:
    return payloads.fetched(
        str(spec.id),
        body,
        status=status,
        request="GET https://olinda.bcb.gov.br/olinda/servico/PTAX/versao/v1/odata/...",
    )


def parse(spec, body: bytes, status: int = 200):
    return connector.parse(spec, fetched(spec, body, status))


def envelope(records: list) -> bytes:
    return json.dumps({"@odata.context": CONTEXT, "value": records}, ensure_ascii=False).encode()


def rows(parsed) -> list[tuple]:
    return parsed.rows.select("obs_date", "value", "release_time").rows()


# ------------------------------------------------------------------------------------------ samples
@pytest.mark.parametrize("name", SAMPLES)
def test_copied_samples_are_byte_identical_to_the_research_samples(name):
    assert (FIXTURES / name).read_bytes() == (paths.shared("reference", "samples", "bcb_ptax") / name).read_bytes()


def test_quoted_2023_sample_parses_into_a_vintage_at_its_instant():
    sample = paths.shared(
        "reference", "samples", "bcb_ptax", "CotacaoDolarPeriodo_select_cotacaoCompra_dataHoraCotacao_2023-09-05.json"
    )
    parsed = parse(USD_BUY, sample.read_bytes())
    # 13:02:32.338 Brasília (UTC-3, no summer time since 2019) = 16:02:32.338 UTC.
    assert rows(parsed) == [(dt.date(2023, 9, 5), 4.9699, dt.datetime(2023, 9, 5, 16, 2, 32, 338000, tzinfo=dt.UTC))]
    assert parsed.rows["release_basis"].to_list() == ["vintage"]
    assert parsed.rows.schema == pl.Schema(parsed_schema(USD_BUY.shape))
    assert (parsed.records, parsed.quarantine, parsed.missing) == (1, [], 0)


def test_a_sample_without_the_side_or_the_instant_is_refused_naming_the_field():
    with pytest.raises(SourcePayloadError) as raised:
        parse(USD_SELL, (FIXTURES / SAMPLES[1]).read_bytes())  # selects cotacaoCompra only
    assert raised.value.field == "cotacaoVenda"
    with pytest.raises(SourcePayloadError) as raised:
        parse(USD_SELL, (FIXTURES / SAMPLES[0]).read_bytes())  # no dataHoraCotacao: no release time
    assert (raised.value.source, raised.value.dataset_id, raised.value.field) == (
        "bcb_ptax",
        "bcb_ptax.USD_sell_close",
        "dataHoraCotacao",
    )


def test_reconstructed_bulletins_of_a_day_go_to_their_own_datasets():
    body = (FIXTURES / SAMPLES[2]).read_bytes()
    day = dt.date(2022, 1, 31)
    assert rows(parse(EUR_SELL, body)) == [(day, 3.778, dt.datetime(2022, 1, 31, 16, 7, 2, 511000, tzinfo=dt.UTC))]
    assert rows(parse(EUR_BUY, body)) == [(day, 3.7771, dt.datetime(2022, 1, 31, 16, 7, 2, 511000, tzinfo=dt.UTC))]
    assert rows(parse(EUR_OPEN, body)) == [(day, 3.8016, dt.datetime(2022, 1, 31, 13, 11, 20, 549000, tzinfo=dt.UTC))]
    # Three intermediates: three vintages of the day, the last 11 ms before the close.
    intermediate = parse(EUR_INTERMEDIATE, body)
    assert intermediate.rows["value"].to_list() == [3.7926, 3.7935, 3.7432]
    assert intermediate.rows["release_time"].to_list()[-1] == dt.datetime(2022, 1, 31, 16, 7, 2, 500000, tzinfo=dt.UTC)
    assert (intermediate.records, intermediate.quarantine) == (5, [])


# ------------------------------------------------------------------------------------------ release instants
@pytest.mark.parametrize(
    "text, instant",
    [
        ("2016-01-15 13:09:14.273", dt.datetime(2016, 1, 15, 15, 9, 14, 273000, tzinfo=dt.UTC)),  # BRST, UTC-2
        ("2016-07-15 13:03:10.013", dt.datetime(2016, 7, 15, 16, 3, 10, 13000, tzinfo=dt.UTC)),  # BRT, UTC-3
        ("2015-10-16 13:00:00.0", utc(2015, 10, 16, 16)),  # the Friday before summer time began (18 Oct 2015)
        ("2015-10-19 13:00:00.0", utc(2015, 10, 19, 15)),  # the Monday after
        ("2026-09-28 13:03:11.35885", dt.datetime(2026, 9, 28, 16, 3, 11, 358850, tzinfo=dt.UTC)),
        ("2023-09-05 13:02:32", utc(2023, 9, 5, 16, 2, 32)),
    ],
)
def test_release_instant_reads_brasilia_local_time(text, instant):
    assert release_instant(text) == instant


@pytest.mark.parametrize("text", ["2023-09-05T13:02:32.338", "05/09/2023 13:02", "2023-09-05", None, 1693929752])
def test_release_instant_refuses_other_shapes(text):
    assert release_instant(text) is None


def test_recorded_2016_fixings_are_vintages_in_summer_and_winter_time():
    parsed = parse(USD_SELL, (RECORDED / "USD_CotacaoDolarPeriodo_2016.json").read_bytes())
    assert parsed.rows.height == parsed.records == 251 and parsed.quarantine == []
    by_day = {day: (value, released) for day, value, released in rows(parsed)}
    assert by_day[dt.date(2016, 1, 15)] == (4.0425, dt.datetime(2016, 1, 15, 15, 9, 14, 273000, tzinfo=dt.UTC))
    assert by_day[dt.date(2016, 7, 15)] == (3.4701, dt.datetime(2016, 7, 15, 16, 3, 10, 13000, tzinfo=dt.UTC))
    assert parsed.rows["release_basis"].unique().to_list() == ["vintage"]
    buy = parse(USD_BUY, (RECORDED / "USD_CotacaoDolarPeriodo_2016.json").read_bytes())
    assert buy.rows.filter(pl.col("obs_date") == dt.date(2016, 1, 15))["value"].item() == 4.0419


def test_a_day_published_twice_keeps_both_instants_with_the_same_value():
    parsed = parse(USD_SELL, (RECORDED / "USD_CotacaoDolarPeriodo_2017.json").read_bytes())
    twice = parsed.rows.filter(pl.col("obs_date") == dt.date(2017, 5, 18))
    assert twice["value"].to_list() == [3.3803, 3.3803]  # the warehouse stores the second only if it differed
    assert twice["release_time"].to_list() == [
        dt.datetime(2017, 5, 18, 16, 7, 36, 679000, tzinfo=dt.UTC),
        dt.datetime(2017, 5, 18, 16, 38, 36, 679000, tzinfo=dt.UTC),
    ]
    assert parsed.rows.height == 250 and parsed.rows["obs_date"].n_unique() == 249


def test_recorded_eur_bulletins_split_one_open_three_intermediates_one_close_a_day():
    body = (RECORDED / "EUR_CotacaoMoedaPeriodo_2016.json").read_bytes()
    counts = {spec.code: parse(spec, body).rows.height for spec in (EUR_OPEN, EUR_INTERMEDIATE, EUR_SELL)}
    assert counts == {"EUR_sell_open": 251, "EUR_sell_intermediate": 753, "EUR_sell_close": 251}
    close = parse(EUR_SELL, body).rows.filter(pl.col("obs_date") == dt.date(2016, 1, 15))
    assert close.rows() == [
        (dt.date(2016, 1, 15), 3.9198, dt.datetime(2016, 1, 15, 15, 7, 32, 783000, tzinfo=dt.UTC), "vintage")
    ]


def test_two_different_closes_of_a_day_are_two_vintages():
    body = envelope(
        [
            {
                "cotacaoCompra": 3.7771,
                "cotacaoVenda": 3.778,
                "dataHoraCotacao": "2022-01-31 13:07:02.511",
                "tipoBoletim": "Fechamento PTAX",
            },  # noqa: E501
            {
                "cotacaoCompra": 3.7801,
                "cotacaoVenda": 3.781,
                "dataHoraCotacao": "2022-01-31 13:45:00.0",
                "tipoBoletim": "Fechamento",
            },  # noqa: E501
        ]
    )
    assert rows(parse(EUR_SELL, body)) == [
        (dt.date(2022, 1, 31), 3.778, dt.datetime(2022, 1, 31, 16, 7, 2, 511000, tzinfo=dt.UTC)),
        (dt.date(2022, 1, 31), 3.781, utc(2022, 1, 31, 16, 45)),
    ]


def test_an_empty_value_array_is_an_empty_window():
    parsed = parse(USD_SELL, b'{"@odata.context":"x","value":[]}')
    assert parsed.rows.is_empty() and (parsed.records, parsed.quarantine, parsed.missing) == (0, [], 0)
    assert parsed.rows.schema == pl.Schema(parsed_schema(USD_SELL.shape))


# ------------------------------------------------------------------------------------------ refused payloads
@pytest.mark.parametrize(
    "body, status, field, words",
    [
        (b"<html><head><title>Manuten\xc3\xa7\xc3\xa3o</title></head></html>", 200, "<body>", "'Manutenção'"),
        (b'{"@odata.context":"x","value":[{"cotacaoCompra":4.9', 200, "<body>", "truncated"),
        (b'{"error":{"code":"404","message":"Not found"}}', 404, "<body>", "404: Not found"),
        (
            envelope([{"cotacaoCompra": 4.1, "valorVenda": 4.2, "dataHoraCotacao": "2016-01-15 13:09:14.273"}]),
            200,
            "cotacaoVenda",
            "missing from every record",
        ),  # fmt: skip
    ],
    ids=["html", "truncated", "error-envelope", "renamed-field"],
)
def test_unusable_payloads_are_refused_naming_source_dataset_and_field(body, status, field, words):
    with pytest.raises(SourcePayloadError) as raised:
        parse(USD_SELL, body, status)
    assert (raised.value.source, raised.value.dataset_id, raised.value.field) == (
        "bcb_ptax",
        "bcb_ptax.USD_sell_close",
        field,
    )
    assert words in str(raised.value)


def test_renamed_tipo_boletim_is_refused_for_bulletin_datasets():
    body = envelope([{"cotacaoCompra": 4.1, "cotacaoVenda": 4.2, "dataHoraCotacao": "2016-01-15 13:09:14.273"}])
    with pytest.raises(SourcePayloadError) as raised:
        parse(EUR_OPEN, body)
    assert (raised.value.dataset_id, raised.value.field) == ("bcb_ptax.EUR_sell_open", "tipoBoletim")


def test_bad_records_are_quarantined_and_the_others_parse():
    good = {"cotacaoCompra": 4.1, "cotacaoVenda": 4.2, "tipoBoletim": "Fechamento PTAX"}
    records = [
        {**good, "dataHoraCotacao": "2016-01-15 13:09:14.273"},
        {**good, "dataHoraCotacao": "15/01/2016 13:09"},
        {**good, "cotacaoVenda": None, "dataHoraCotacao": "2016-01-18 13:09:00.0"},
        {**good, "cotacaoVenda": "4,25", "dataHoraCotacao": "2016-01-19 13:09:00.0"},
        {**good, "tipoBoletim": "Extra", "dataHoraCotacao": "2016-01-20 13:09:00.0"},
        {**good, "dataHoraCotacao": "2016-01-15 13:09:14.273"},
        {"cotacaoCompra": 4.1},
        {**good, "cotacaoVenda": 4.3, "dataHoraCotacao": "2016-01-21 13:09:00.0"},
    ]
    body = envelope(records)
    parsed = parse(EUR_SELL, body)
    assert [(day, value) for day, value, _ in rows(parsed)] == [
        (dt.date(2016, 1, 15), 4.2),
        (dt.date(2016, 1, 21), 4.3),
    ]
    assert [(q.record_index, q.field) for q in parsed.quarantine] == [
        (1, "dataHoraCotacao"),
        (2, "cotacaoVenda"),
        (3, "cotacaoVenda"),
        (4, "tipoBoletim"),
        (5, "dataHoraCotacao"),
        (6, "dataHoraCotacao/cotacaoVenda/tipoBoletim"),
    ]
    assert "comma decimal" in parsed.quarantine[2].reason and "'Extra'" in parsed.quarantine[3].reason
    assert parsed.records == 8
    assert {q.payload_sha256 for q in parsed.quarantine} == {hashlib.sha256(body).hexdigest()}


# ------------------------------------------------------------------------------------------ requests
def test_windows_are_cut_at_each_year():
    assert request_windows(dt.date(2015, 6, 1), dt.date(2017, 2, 10)) == [
        (dt.date(2015, 6, 1), dt.date(2015, 12, 31)),
        (dt.date(2016, 1, 1), dt.date(2016, 12, 31)),
        (dt.date(2017, 1, 1), dt.date(2017, 2, 10)),
    ]
    assert request_windows(dt.date(2016, 3, 1), dt.date(2016, 3, 1)) == [(dt.date(2016, 3, 1), dt.date(2016, 3, 1))]


def test_usd_close_asks_cotacao_dolar_periodo_with_month_first_dates():
    url, params = request(USD_SELL.params, dt.date(2015, 1, 2), dt.date(2015, 12, 31))
    assert url == (
        "https://olinda.bcb.gov.br/olinda/servico/PTAX/versao/v1/odata/"
        "CotacaoDolarPeriodo(dataInicial=@dataInicial,dataFinalCotacao=@dataFinalCotacao)"
    )
    assert params == {
        "@dataInicial": "'01-02-2015'",
        "@dataFinalCotacao": "'12-31-2015'",
        "$top": "10000",
        "$skip": "0",
        "$format": "json",
        "$select": "cotacaoCompra,cotacaoVenda,dataHoraCotacao",
    }
    assert request(USD_BUY.params, dt.date(2015, 1, 2), dt.date(2015, 12, 31)) == (url, params)


def test_every_eur_dataset_sends_the_same_cotacao_moeda_periodo_request():
    url, params = request(EUR_OPEN.params, dt.date(2016, 1, 1), dt.date(2016, 12, 31))
    assert url.endswith(
        "/CotacaoMoedaPeriodo(moeda=@moeda,dataInicial=@dataInicial,dataFinalCotacao=@dataFinalCotacao)"
    )
    assert params["@moeda"] == "'EUR'" and params["@dataInicial"] == "'01-01-2016'"
    assert params["$select"] == "cotacaoCompra,cotacaoVenda,dataHoraCotacao,tipoBoletim"
    for spec in (EUR_SELL, EUR_BUY, EUR_INTERMEDIATE):
        assert request(spec.params, dt.date(2016, 1, 1), dt.date(2016, 12, 31)) == (url, params)


def test_bad_params_are_refused_before_any_request():
    with pytest.raises(ValueError, match="side must be one of"):
        request({**EUR_SELL.params, "side": "mid"}, dt.date(2016, 1, 1), dt.date(2016, 1, 2))
    with pytest.raises(ValueError, match="ISO currency code"):
        request({**EUR_SELL.params, "currency": "euro"}, dt.date(2016, 1, 1), dt.date(2016, 1, 2))


def test_fetch_sends_one_request_per_year_and_pages_a_full_one():
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        top, skip = int(request.url.params["$top"]), int(request.url.params["$skip"])
        full = request.url.params["@dataInicial"] == "'01-01-2016'" and skip == 0
        record = {"cotacaoCompra": 4.0, "cotacaoVenda": 4.1, "dataHoraCotacao": "2016-01-15 13:09:14.273"}
        return httpx.Response(200, content=envelope([record] * (top if full else 1)))

    client = HttpClient(transport=httpx.MockTransport(answer), sleep=lambda _: None)
    out = connector.fetch(SourceSession(client, live=True), USD_SELL, dt.date(2015, 12, 1), dt.date(2016, 2, 29))
    assert [(r.url.params["@dataInicial"], r.url.params["@dataFinalCotacao"], r.url.params["$skip"]) for r in seen] == [
        ("'12-01-2015'", "'12-31-2015'", "0"),
        ("'01-01-2016'", "'02-29-2016'", "0"),
        ("'01-01-2016'", "'02-29-2016'", "10000"),
    ]
    assert [(f.window_start, f.window_end) for f in out] == [
        (dt.date(2015, 12, 1), dt.date(2015, 12, 31)),
        (dt.date(2016, 1, 1), dt.date(2016, 2, 29)),
        (dt.date(2016, 1, 1), dt.date(2016, 2, 29)),
    ]
    assert all(f.source == "bcb_ptax" and f.dataset_id == "bcb_ptax.USD_sell_close" for f in out)
