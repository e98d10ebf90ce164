"""Olinda OData helpers shared by the BCB services: URLs, literals, query options, the envelope and its errors,
and pagination with $top/$skip."""

from __future__ import annotations

import datetime as dt
import json

import httpx
import pytest

from macro_assets.errors import SourcePayloadError
from macro_assets.http.client import HttpClient
from macro_assets.provenance import Fetched
from macro_assets.sources import olinda
from macro_assets_tests import paths
from macro_assets_tests.sources import payloads

CONTEXT = "https://was-p.bcnet.bcb.gov.br/olinda/servico/PTAX/versao/v1/odata$metadata#_CotacaoDolarPeriodo(x)"


def fetched(body: bytes, status: int = 200) -> Fetched:
    return payloads.fetched(
        "bcb_ptax.USD_sell_close",
        body,
        status=status,
        window=(dt.date(2015, 1, 1), dt.date(2015, 12, 31)),
        request="GET https://olinda.bcb.gov.br/...",
    )


def envelope(records: list) -> bytes:
    return json.dumps({"@odata.context": CONTEXT, "value": records}).encode()


# ------------------------------------------------------------------------------------------ request shapes
def test_function_url_passes_every_parameter_as_an_alias_of_the_same_name():
    url = olinda.function_url("PTAX", "CotacaoDolarPeriodo", ("dataInicial", "dataFinalCotacao"))
    assert url == (
        "https://olinda.bcb.gov.br/olinda/servico/PTAX/versao/v1/odata/"
        "CotacaoDolarPeriodo(dataInicial=@dataInicial,dataFinalCotacao=@dataFinalCotacao)"
    )
    assert (
        olinda.service_url("Expectativas") == "https://olinda.bcb.gov.br/olinda/servico/Expectativas/versao/v1/odata/"
    )


def test_dates_are_quoted_month_first_and_strings_double_their_quotes():
    assert olinda.date_literal(dt.date(2015, 1, 2)) == "'01-02-2015'"  # 2 January, US order
    assert olinda.date_literal(dt.date(2016, 12, 31)) == "'12-31-2016'"
    assert olinda.string_literal("EUR") == "'EUR'"
    assert olinda.string_literal("d'Or") == "'d''Or'"


def test_query_prefixes_aliases_and_always_asks_for_json_pages():
    params = olinda.query(
        {"dataInicial": "'01-02-2015'"},
        select=("cotacaoCompra", "dataHoraCotacao"),
        filter="tipoBoletim eq 'Abertura'",
        orderby="dataHoraCotacao desc",
        top=100,
    )
    assert params == {
        "@dataInicial": "'01-02-2015'",
        "$top": "100",
        "$skip": "0",
        "$format": "json",
        "$select": "cotacaoCompra,dataHoraCotacao",
        "$filter": "tipoBoletim eq 'Abertura'",
        "$orderby": "dataHoraCotacao desc",
    }
    assert olinda.query() == {"$top": "10000", "$skip": "0", "$format": "json"}


def test_the_encoded_url_keeps_the_literal_quotes():
    request = httpx.Request("GET", olinda.service_url("PTAX") + "Moedas", params=olinda.query({"d": "'01-02-2015'"}))
    assert dict(request.url.params) == {"@d": "'01-02-2015'", "$top": "10000", "$skip": "0", "$format": "json"}
    assert "%40d=%2701-02-2015%27" in str(request.url)


# ------------------------------------------------------------------------------------------ pagination
def paged_client(total: int, seen: list[httpx.Request], body: bytes | None = None) -> HttpClient:
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if body is not None:
            return httpx.Response(200, content=body)
        top, skip = int(request.url.params["$top"]), int(request.url.params["$skip"])
        return httpx.Response(200, content=envelope([{"n": n} for n in range(skip, min(total, skip + top))]))

    return HttpClient(transport=httpx.MockTransport(answer), sleep=lambda _: None)


@pytest.mark.parametrize("total, pages", [(0, 1), (3, 1), (4, 2), (9, 3)])
def test_pages_are_asked_with_skip_until_a_short_page(total, pages):
    seen: list[httpx.Request] = []
    client = paged_client(total, seen)
    responses = olinda.fetch_pages(client, "bcb_ptax", "https://olinda.test/odata/F()", olinda.query(top=4))
    assert len(responses) == pages
    assert [r.url.params["$skip"] for r in seen] == [str(4 * k) for k in range(pages)]
    assert {r.url.params["$top"] for r in seen} == {"4"}
    records = [record["n"] for response in responses for record in json.loads(response.content)["value"]]
    assert records == list(range(total))


def test_paging_stops_at_a_page_that_is_not_the_envelope():
    seen: list[httpx.Request] = []
    client = paged_client(0, seen, body=b"<html>manuten\xc3\xa7\xc3\xa3o</html>")
    assert len(olinda.fetch_pages(client, "bcb_ptax", "https://olinda.test/odata/F()", olinda.query(top=4))) == 1


# ------------------------------------------------------------------------------------------ envelope
def test_records_of_the_quoted_sample():
    sample = paths.shared(
        "reference", "samples", "bcb_ptax", "CotacaoDolarPeriodo_select_cotacaoCompra_dataHoraCotacao_2023-09-05.json"
    )
    assert olinda.records(fetched(sample.read_bytes())) == [
        {"cotacaoCompra": 4.9699, "dataHoraCotacao": "2023-09-05 13:02:32.338"}
    ]


def test_an_empty_value_array_is_no_records():
    assert olinda.records(fetched(envelope([]))) == []


@pytest.mark.parametrize(
    "body, status, field, words",
    [
        (b'{"error":{"code":"400","message":"Parametro invalido"}}', 400, "<body>", "400: Parametro invalido"),
        (b'{"error":{"code":"400","message":"Parametro invalido"}}', 200, "<body>", "API error (HTTP 200)"),
        (envelope([]), 500, "<body>", "unexpected HTTP 500"),
        (b"<html><title>Manuten\xc3\xa7\xc3\xa3o</title></html>", 200, "<body>", "HTML page (title: 'Manutenção')"),
        (b"<html>manuten\xc3\xa7\xc3\xa3o</html>", 503, "<body>", "an HTML document (HTTP 503)"),
        (envelope([{"a": 1}, {"a": 2}])[:40], 200, "<body>", "truncated"),
        (b'{"@odata.context":"x","valor":[]}', 200, "value", "missing from the OData envelope"),
        (b'{"@odata.context":"x","value":{}}', 200, "value", "expected an array, got dict"),
        (b"[]", 200, "<body>", "expected the OData envelope object, got list"),
    ],
    ids=["error-400", "error-200", "http-500", "html-title", "html-503", "truncated", "renamed", "object", "array"],
)
def test_unusable_answers_are_refused_naming_source_dataset_and_field(body, status, field, words):
    with pytest.raises(SourcePayloadError) as raised:
        olinda.records(fetched(body, status))
    assert (raised.value.source, raised.value.dataset_id, raised.value.field) == (
        "bcb_ptax",
        "bcb_ptax.USD_sell_close",
        field,
    )
    assert words in str(raised.value)
