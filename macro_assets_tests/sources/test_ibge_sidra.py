"""IBGE SIDRA connector: the header row names the dimensions (in any order), values are strings with markers for
zero and missing, plain-text errors refuse the payload, bad records are quarantined, requests stay under the
100,000-values limit in the table covering their period, and rows are dated by the catalog's release rule (Brasília
time with its summer time until 2019)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import polars as pl
import pytest

from macro_assets.catalog import load_catalog
from macro_assets.errors import CatalogError, SourcePayloadError
from macro_assets.http.client import HttpClient
from macro_assets.http.replay import ReplayTransport
from macro_assets.ingest.pipeline import ingest
from macro_assets.object_store import LocalObjectStore
from macro_assets.sources.base import SourceSession, parsed_schema
from macro_assets.sources.ibge_sidra import (
    VALUES_LIMIT,
    component_level,
    connector,
    periods_per_request,
    query,
    request_url,
    requests,
)
from macro_assets_tests import paths
from macro_assets_tests.sources import payloads
from macro_assets_tests.sources.replay import Exchange, write_manifest

RECORDED = paths.RECORDINGS / "ibge_sidra"
CATALOG = load_catalog()
COMPONENTS = CATALOG.get("ibge_sidra.ipca_components")
IPCA = CATALOG.get("ibge_sidra.ipca_mom")
PIM = CATALOG.get("ibge_sidra.industrial_production_mom_sa")
GDP = CATALOG.get("ibge_sidra.gdp_qoq_sa")
UNEMPLOYMENT = CATALOG.get("ibge_sidra.unemployment_rate")
CLASSIFICATION = "Geral, grupo, subgrupo, item e subitem"


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def parse(spec, body: bytes, status: int = 200):
    return connector.parse(spec, payloads.fetched(str(spec.id), body, status=status, content_type="text/plain"))


def recorded(name: str) -> bytes:
    return (RECORDED / name).read_bytes()


def header(order: tuple[str, ...]) -> dict:
    """The header row with the dimensions in `order` (territory, variable, period, classification)."""
    labels = {"territory": "Brasil", "variable": "Variável", "period": "Mês", "classification": CLASSIFICATION}
    row = {"NC": "Nível Territorial (Código)", "NN": "Nível Territorial", "MC": "Unidade de Medida (Código)"}
    row.update({"MN": "Unidade de Medida", "V": "Valor"})
    for position, dimension in enumerate(order, start=1):
        row.update({f"D{position}C": f"{labels[dimension]} (Código)", f"D{position}N": labels[dimension]})
    return row


def cell(order: tuple[str, ...], value: str, variable: str, period: str, category: tuple[str, str]) -> dict:
    cells = {
        "territory": ("1", "Brasil"),
        "variable": (variable, {"63": "IPCA - Variação mensal", "66": "IPCA - Peso mensal"}.get(variable, "?")),
        "period": (period, "?"),
        "classification": category,
    }
    row = {"NC": "1", "NN": "Brasil", "MC": "2", "MN": "%", "V": value}
    for position, dimension in enumerate(order, start=1):
        code, name = cells[dimension]
        row.update({f"D{position}C": code, f"D{position}N": name})
    return row


URL_ORDER = ("territory", "variable", "period", "classification")
REORDERED = ("period", "classification", "territory", "variable")
RICE = ("7173", "1101002.Arroz")
GENERAL = ("7169", "Índice geral")


def components(order, cells: list[tuple[str, str, str, tuple[str, str]]]) -> bytes:
    return json.dumps([header(order), *(cell(order, *c) for c in cells)], ensure_ascii=False).encode()


# ------------------------------------------------------------------------------------------ header row
def test_the_reconstructed_sample_parses_by_its_header_row():
    sample = paths.shared("reference", "samples", "sidra", "RECONSTRUCTED_values_t1737_n1_v63_p202101-202102.json")
    parsed = parse(IPCA, sample.read_bytes())
    # Released the 10th of the next month at 09:00 Brasília (UTC-3, no summer time since 2019).
    assert parsed.rows.select("obs_date", "value", "release_time").rows() == [
        (dt.date(2021, 1, 1), 0.25, utc(2021, 2, 10, 12)),
        (dt.date(2021, 2, 1), 0.86, utc(2021, 3, 10, 12)),
    ]
    assert parsed.rows["release_basis"].to_list() == ["estimated", "estimated"]
    assert parsed.rows.schema == pl.Schema(parsed_schema(IPCA.shape))
    assert (parsed.records, parsed.missing, parsed.quarantine) == (2, 0, [])


@pytest.mark.parametrize("order", [URL_ORDER, REORDERED], ids=["url order", "reordered"])
def test_dimensions_are_found_by_their_labels_in_any_order(order):
    body = components(
        order,
        [
            ("0.29", "63", "201801", GENERAL),
            ("100.0000", "66", "201801", GENERAL),
            ("-1.61", "63", "201801", RICE),
            ("0.5233", "66", "201801", RICE),
        ],
    )
    parsed = parse(COMPONENTS, body)
    assert parsed.rows.drop("release_time", "release_basis").rows() == [
        (dt.date(2018, 1, 1), "7169", 0.29, 100.0, "Índice geral", "general"),
        (dt.date(2018, 1, 1), "7173", -1.61, 0.5233, "1101002.Arroz", "subitem"),
    ]
    assert parsed.rows["release_time"].unique().to_list() == [utc(2018, 2, 10, 11)]  # 09:00 BRST, UTC-2


def test_a_payload_without_the_header_row_is_refused():
    body = json.dumps([cell(URL_ORDER, "0.29", "63", "201801", GENERAL)]).encode()  # as /h/n answers
    with pytest.raises(SourcePayloadError, match="not the header row") as raised:
        parse(COMPONENTS, body)
    assert (raised.value.source, raised.value.dataset_id, raised.value.field) == (
        "ibge_sidra",
        "ibge_sidra.ipca_components",
        "<header>",
    )


def test_a_header_without_the_period_or_with_a_classification_too_many_is_refused():
    with pytest.raises(SourcePayloadError, match="no quarterly period dimension"):
        parse(GDP, recorded("ipca_mom_t1737_201501-201512.json"))
    with pytest.raises(SourcePayloadError, match="1 classification dimensions"):
        parse(IPCA, recorded("industrial_production_mom_sa_t8888_201501-201512.json"))
    with pytest.raises(SourcePayloadError, match="empty array"):
        parse(IPCA, b"[]")


def test_a_header_row_alone_is_an_empty_answer():
    parsed = parse(IPCA, json.dumps([header(URL_ORDER[:3])]).encode())
    assert parsed.rows.is_empty() and parsed.records == 0


# ------------------------------------------------------------------------------------------ values and markers
def test_markers_are_zero_or_missing_never_numbers():
    body = components(
        URL_ORDER,
        [
            ("-", "63", "201803", RICE),  # a true zero
            ("0.5200", "66", "201803", RICE),
            ("...", "63", "201803", ("7174", "1101073.Feijão - carioca (rajado)")),  # not surveyed: weight kept
            ("0.4100", "66", "201803", ("7174", "1101073.Feijão - carioca (rajado)")),
            ("X", "63", "201803", ("7175", "1102006.Macarrão")),  # suppressed, and no weight either: no row
            ("..", "66", "201803", ("7175", "1102006.Macarrão")),
        ],
    )
    parsed = parse(COMPONENTS, body)
    assert parsed.rows.select("component", "value", "weight").rows() == [("7173", 0.0, 0.52), ("7174", None, 0.41)]
    assert (parsed.records, parsed.missing, parsed.quarantine) == (6, 3, [])


def test_a_series_marker_is_a_missing_value_without_a_row():
    body = json.dumps(
        [
            header(URL_ORDER[:3]),
            *(cell(URL_ORDER[:3], v, "63", p, GENERAL) for v, p in (("...", "201801"), ("-", "201802"))),
        ]
    ).encode()
    parsed = parse(IPCA, body)
    assert parsed.rows.select("obs_date", "value").rows() == [(dt.date(2018, 2, 1), 0.0)]
    assert parsed.missing == 1


def test_recorded_components_hold_every_level_with_weights_summing_to_100():
    parsed = parse(COMPONENTS, recorded("ipca_components_t1419_201801-201812.json"))
    assert parsed.quarantine == [] and parsed.records == 2 * parsed.rows.height
    june = parsed.rows.filter(pl.col("obs_date") == dt.date(2018, 6, 1))
    assert june.filter(pl.col("level") == "general")["value"].to_list() == [1.26]  # the real June 2018 IPCA
    for level in ("group", "subgroup", "item", "subitem"):
        assert june.filter(pl.col("level") == level)["weight"].sum() == pytest.approx(100, abs=0.01)
    assert set(parsed.rows["level"]) == {"general", "group", "subgroup", "item", "subitem"}
    # A subitem not surveyed in March ("...") and one suppressed in July ("X"): weights stored, changes not.
    assert parsed.missing == 2
    assert parsed.rows.filter(pl.col("value").is_null())["name"].to_list() == ["6201002.Dentista", "7201006.Cinema"]


def test_moving_quarters_and_quarters_are_dated_on_their_first_day():
    unemployment = parse(UNEMPLOYMENT, recorded("unemployment_rate_t6381_201501-201512.json"))
    assert unemployment.rows["obs_date"].to_list()[:2] == [dt.date(2015, 1, 1), dt.date(2015, 2, 1)]
    gdp = parse(GDP, recorded("gdp_qoq_sa_t5932_201801-201804.json"))
    assert gdp.rows["obs_date"].to_list() == [dt.date(2018, m, 1) for m in (1, 4, 7, 10)]
    # The fourth quarter ends on 31 December: out 62 days later, 09:00 Brasília time (summer time ended on 17
    # February 2019: UTC-3); the third, out on 1 December 2018, in summer time (UTC-2).
    assert gdp.rows["release_time"].to_list()[-2:] == [utc(2018, 12, 1, 11), utc(2019, 3, 3, 12)]


@pytest.mark.parametrize(
    "name, level",
    [
        ("Índice geral", "general"),
        ("1.Alimentação e bebidas", "group"),
        ("11.Alimentação no domicílio", "subgroup"),
        ("1101.Cereais, leguminosas e oleaginosas", "item"),
        ("1101002.Arroz", "subitem"),
        ("110100.Arroz", None),
        ("1101002Arroz", None),
        ("Arroz", None),
    ],
)
def test_the_level_comes_from_the_digits_of_the_structural_code(name, level):
    assert component_level(name) == level


# ------------------------------------------------------------------------------------------ errors and quarantine
def test_the_values_limit_message_refuses_the_payload_with_its_text():
    message = "Tabela 1419: A consulta excede o limite de 100.000 valores. Reduza o número de períodos ou categorias."
    with pytest.raises(SourcePayloadError) as raised:
        parse(COMPONENTS, message.encode(), status=400)
    assert raised.value.field == "<body>"
    assert "API error (HTTP 400)" in str(raised.value) and "excede o limite de 100.000 valores" in str(raised.value)
    assert "split the request" in str(raised.value)
    with pytest.raises(SourcePayloadError, match=r"HTTP 500.*Período 202613 inválido"):
        parse(IPCA, "Período 202613 inválido".encode("latin-1"), status=500)


def test_broken_records_are_quarantined_with_their_reason():
    body = components(
        URL_ORDER,
        [
            ("0.29", "63", "201801", GENERAL),
            ("0,29", "66", "201801", GENERAL),  # comma decimal
            ("0.10", "69", "201801", RICE),  # a variable not asked for
            ("0.10", "63", "2018-01", RICE),  # not a period code
            ("0.10", "63", "201801", ("7999", "Arroz")),  # no structural code
            ("-1.61", "63", "201801", RICE),
            ("-1.60", "63", "201801", RICE),  # the same cell twice
        ],
    )
    parsed = parse(COMPONENTS, body)
    assert parsed.rows.select("component", "value", "weight").rows() == [("7169", 0.29, None), ("7173", -1.61, None)]
    reasons = [q.reason for q in parsed.quarantine]
    assert len(reasons) == 5
    assert "comma decimal separator" in reasons[0]
    assert "variable '69' was not asked for" in reasons[1]
    assert "period code '2018-01' is not a monthly one" in reasons[2]
    assert "has no IBGE structural code" in reasons[3]
    assert "a second value for 2018-01-01 7173" in reasons[4]


def test_a_category_not_asked_for_is_quarantined():
    body = recorded("industrial_production_mom_sa_t8888_201501-201512.json").replace(b'"D4C":"129314"', b'"D4C":"1"', 1)
    parsed = parse(PIM, body)
    assert parsed.rows.height == 11 and "category '1' was not asked for" in parsed.quarantine[0].reason


# ------------------------------------------------------------------------------------------ requests
def test_the_components_table_switches_from_1419_to_7060_in_january_2020():
    urls = [request_url(COMPONENTS, r) for r in requests(COMPONENTS, dt.date(2019, 11, 1), dt.date(2020, 2, 29))]
    assert urls == [
        "https://apisidra.ibge.gov.br/values/t/1419/n1/all/v/63,66/p/201901-201912/c315/all",
        "https://apisidra.ibge.gov.br/values/t/7060/n1/all/v/63,66/p/202001-202012/c315/all",
    ]
    assert requests(COMPONENTS, dt.date(2010, 1, 1), dt.date(2011, 12, 31)) == []  # before table 1419


def test_every_partition_of_a_year_asks_the_same_whole_year():
    assert {
        request_url(IPCA, r) for m in range(1, 13) for r in requests(IPCA, dt.date(2017, m, 1), dt.date(2017, m, 1))
    } == {"https://apisidra.ibge.gov.br/values/t/1737/n1/all/v/63/p/201701-201712"}
    assert [request_url(GDP, r) for r in requests(GDP, dt.date(2018, 4, 1), dt.date(2018, 4, 30))] == [
        "https://apisidra.ibge.gov.br/values/t/5932/n1/all/v/6564/p/201801-201804/c11255/90707"
    ]


def with_classification(at_most: int):
    params = {**COMPONENTS.params, "classification": {"id": 315, "categories": "all", "at_most": at_most}}
    return dataclasses.replace(COMPONENTS, params=params)


@pytest.mark.parametrize("at_most, months", [(500, 12), (4000, 12), (5000, 6), (10000, 4), (40000, 1)])
def test_windows_split_into_equal_parts_of_a_year_under_the_limit(at_most, months):
    spec = with_classification(at_most)
    assert periods_per_request(spec, query(spec)) == months
    blocks = requests(spec, dt.date(2015, 1, 1), dt.date(2016, 12, 31))
    assert len(blocks) == 24 // months
    for block in blocks:
        periods = (block.last.year - block.first.year) * 12 + block.last.month - block.first.month + 1
        assert periods == months and periods * 2 * at_most <= VALUES_LIMIT


def test_a_query_over_the_limit_in_one_period_or_malformed_params_fail_naming_the_field():
    with pytest.raises(CatalogError, match="one period alone asks 120000 values"):
        requests(with_classification(60000), dt.date(2015, 1, 1), dt.date(2015, 12, 31))
    with pytest.raises(CatalogError, match="classification.at_most"):
        query(with_classification(0))
    broken = dataclasses.replace(IPCA, params={"tables": [{"table": 1737, "from": "2015"}], "variables": {"value": 63}})
    with pytest.raises(CatalogError, match="ibge_sidra.ipca_mom: params field 'tables.from'"):
        query(broken)


# ------------------------------------------------------------------------------------------ release time
@pytest.mark.parametrize(
    "month, released",
    [
        (dt.date(2018, 5, 1), utc(2018, 6, 10, 12)),  # June: BRT, UTC-3
        (dt.date(2018, 10, 1), utc(2018, 11, 10, 11)),  # November 2018: summer time (from 4 Nov), UTC-2
        (dt.date(2019, 1, 1), utc(2019, 2, 10, 11)),  # summer time until 17 Feb 2019
        (dt.date(2019, 10, 1), utc(2019, 11, 10, 12)),  # no summer time from 2019 on
    ],
)
def test_the_release_rule_is_the_10th_at_9_brasilia_time_across_summer_time(month, released):
    body = json.dumps([header(URL_ORDER[:3]), cell(URL_ORDER[:3], "0.45", "63", f"{month:%Y%m}", GENERAL)]).encode()
    assert parse(IPCA, body).rows["release_time"].to_list() == [released]


@pytest.mark.parametrize(
    "captured_at, basis, release_time",
    [
        ("2018-11-10T11:00:00Z", "estimated", utc(2018, 11, 10, 11)),  # fetched the second it was due: as due
        ("2018-11-10T10:59:59Z", "observed", utc(2018, 11, 10, 10, 59, 59)),  # a second early: seen by this fetch
    ],
)
def test_a_fetch_at_the_release_second_keeps_the_estimate_and_one_before_dates_it_observed(
    tmp_path, captured_at, basis, release_time
):
    url = "https://apisidra.ibge.gov.br/values/t/1737/n1/all/v/63/p/201801-201812"
    root = write_manifest(
        tmp_path / "recordings",
        "ibge_sidra",
        [Exchange(url, {}, RECORDED / "ipca_mom_t1737_201801-201812.json", captured_at=captured_at)],
    )
    session = SourceSession(HttpClient(ReplayTransport(root)), live=False)
    batch = ingest(
        IPCA, dt.date(2018, 10, 1), dt.date(2018, 10, 31), session, LocalObjectStore(tmp_path / "o"), lambda _: []
    )
    assert batch.rows.select("obs_date", "value", "release_time", "release_basis").rows() == [
        (dt.date(2018, 10, 1), 0.45, release_time, basis)
    ]
    assert batch.outside_window == 11


def test_the_recordings_replay_every_year_of_every_dataset():
    session = SourceSession(HttpClient(ReplayTransport(paths.RECORDINGS)), live=False)
    for spec in (COMPONENTS, GDP, PIM):
        fetched = connector.fetch(session, spec, dt.date(2015, 1, 1), dt.date(2018, 12, 31))
        assert [f.window_start.year for f in fetched] == [2015, 2016, 2017, 2018]
        assert fetched[-1].window_end == dt.date(2018, 12, 31)
        rows = pl.concat([connector.parse(spec, f).rows for f in fetched])
        assert rows["obs_date"].n_unique() == (16 if spec is GDP else 48)
    assert rows.height == 48 and rows["value"].is_not_null().all()
