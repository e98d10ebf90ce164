"""Tesouro Direto connector: the recorded file, every format quirk, the one request, the real sample, and the
recording generator. Pure: no database, no Dagster."""

from __future__ import annotations

import bisect
import datetime as dt
import json
from dataclasses import replace
from functools import cache
from pathlib import Path

import httpx
import polars as pl
import pytest

from macro_assets.catalog import load_catalog
from macro_assets.catalog.calendars import business_days
from macro_assets.errors import SourcePayloadError
from macro_assets.http.client import HttpClient
from macro_assets.http.replay import ReplayTransport
from macro_assets.provenance import Fetched
from macro_assets.sources.base import Parsed, SourceSession
from macro_assets.sources.tesouro_direto import FILE_URL, connector
from macro_assets_tests.sources import payloads

REPO = Path(__file__).resolve().parents[2]
RECORDINGS = REPO / "macro_assets" / "recordings"
RECORDED = RECORDINGS / "tesouro_direto"
BODY = RECORDED / "precotaxatesourodireto_2015-2018_captured_2019-01-07.csv"
FIXTURES = REPO / "macro_assets_tests" / "fixtures" / "tesouro_direto"
SHARED_SAMPLES = REPO / ".." / "shared" / "reference" / "samples" / "tesouro_direto"
CATALOG = load_catalog()
NOMINAL = CATALOG.get("tesouro_direto.br_nominal")
REAL = CATALOG.get("tesouro_direto.br_real")
# The file's other bonds, as a family that named them would read them.
OTHERS = replace(NOMINAL, params={"bond_types": ["LFT", "NTN-C", "Tesouro Educa+"]})


def fetched(dataset, body: bytes, status: int = 200) -> Fetched:
    return payloads.fetched(
        str(dataset.id),
        body,
        status=status,
        content_type="text/csv",
    )


def parse(dataset, body: bytes, status: int = 200):
    return connector.parse(dataset, fetched(dataset, body, status))


def row(parsed, day: dt.date, point: str) -> dict:
    [found] = parsed.rows.filter((pl.col("curve_date") == day) & (pl.col("point") == point)).to_dicts()
    return found


def values(found: dict) -> tuple:
    return tuple(found[c] for c in ("rate", "buy_rate", "sell_rate", "buy_price", "sell_price", "base_price"))


@cache
def recorded(code: str) -> Parsed:
    """The recorded file as one dataset reads it (parsed once per test session)."""
    return parse({"br_nominal": NOMINAL, "br_real": REAL, "others": OTHERS}[code], BODY.read_bytes())


def refused(dataset, body: bytes, status: int = 200) -> SourcePayloadError:
    with pytest.raises(SourcePayloadError) as caught:
        parse(dataset, body, status)
    return caught.value


# ------------------------------------------------------------------------------------------ the recorded file
def test_the_recorded_file_splits_into_the_two_curves():
    nominal, real = recorded("br_nominal"), recorded("br_real")
    assert (nominal.records, nominal.missing, nominal.quarantine, nominal.rows.height) == (21629, 0, [], 9353)
    assert (real.records, real.missing, real.quarantine, real.rows.height) == (21629, 0, [], 9070)
    assert set(nominal.rows["point"].str.extract(r"^(.*) \d{4}-").unique()) == {"LTN", "NTN-F"}
    assert set(real.rows["point"].str.extract(r"^(.*) \d{4}-").unique()) == {"NTN-B", "NTN-B Principal"}
    assert (nominal.rows["curve_date"].min(), nominal.rows["curve_date"].max()) == (
        dt.date(2015, 1, 2),
        dt.date(2018, 12, 28),
    )


def test_a_recorded_row_reads_its_rates_prices_maturity_and_release():
    # Tesouro Prefixado;01/01/2021;28/12/2017;9,21;9,24;769,35;768,72;768,51 (line 16 of the body)
    found = row(recorded("br_nominal"), dt.date(2017, 12, 28), "LTN 2021-01-01")
    assert values(found) == (9.21, 9.21, 9.24, 769.35, 768.72, 768.51)
    assert (found["maturity_date"], found["tenor_years"]) == (dt.date(2021, 1, 1), None)
    assert found["release_time"] == dt.datetime(2017, 12, 28, 20, 0, tzinfo=dt.UTC)  # 18:00 BRST (UTC-2)
    assert found["release_basis"] == "estimated"
    winter = row(recorded("br_nominal"), dt.date(2018, 7, 2), "LTN 2021-01-01")
    assert winter["release_time"] == dt.datetime(2018, 7, 2, 21, 0, tzinfo=dt.UTC)  # 18:00 BRT (UTC-3)


def test_a_bond_not_offered_for_purchase_has_no_buy_side_and_its_rate_is_the_sell_rate():
    # Tesouro Prefixado;01/01/2019;28/12/2017;0,00;8,06;0,00;925,98;925,90
    found = row(recorded("br_nominal"), dt.date(2017, 12, 28), "LTN 2019-01-01")
    assert values(found) == (8.06, None, 8.06, None, 925.98, 925.90)


def test_the_rows_of_the_recorded_file_are_not_in_date_order_and_the_order_does_not_matter():
    header, *lines = BODY.read_bytes().decode("latin-1").splitlines()
    dates = [dt.datetime.strptime(line.split(";")[2], "%d/%m/%Y").date() for line in lines]
    assert dates[0] == dt.date(2017, 12, 28) and dates != sorted(dates) and dates != sorted(dates, reverse=True)
    resorted = "\n".join([header, *sorted(lines)]).encode("latin-1")
    expected = recorded("br_real").rows.sort("curve_date", "point")
    assert parse(REAL, resorted).rows.sort("curve_date", "point").equals(expected)


# ------------------------------------------------------------------------------------------ quirks
def test_the_quirks_file_in_latin_1():
    parsed = parse(NOMINAL, (FIXTURES / "quirks_latin1.csv").read_bytes())
    assert (parsed.records, parsed.missing, parsed.rows.height) == (15, 1, 4)  # record 11: every value 0,00
    assert [(q.record_index, q.field) for q in parsed.quarantine] == [
        (5, "Tipo Titulo"),
        (7, "Taxa Compra Manha"),
        (8, "Data Base"),
        (12, "Tipo Titulo"),
        (13, "<line>"),
    ]
    unknown, dot, date, duplicate, short = (q.reason for q in parsed.quarantine)
    assert "unknown bond type 'Tesouro Renda+ Previdência'" in unknown  # decoded from latin-1 byte 0xEA
    assert "not a comma-decimal number: '9.75'" in dot
    assert "'31/02/2018' does not match %d/%m/%Y" in date
    assert "2018-01-02 LTN 2021-01-01 already read from record 1" in duplicate
    assert "the header's 8 cells" in short
    assert values(row(parsed, dt.date(2018, 1, 2), "LTN 2021-01-01")) == (9.22, 9.22, 9.26, 769.14, 768.30, 768.09)
    assert values(row(parsed, dt.date(2018, 1, 3), "LTN 2019-01-01")) == (8.06, None, 8.06, None, 925.98, 925.90)
    assert row(parsed, dt.date(2018, 1, 3), "NTN-F 2027-01-01")["rate"] == 10.16


def test_the_quirks_file_for_the_real_curve_keeps_its_bonds_and_quarantines_the_unknown_type_again():
    parsed = parse(REAL, (FIXTURES / "quirks_latin1.csv").read_bytes())
    assert (parsed.records, parsed.missing, parsed.rows.height) == (15, 0, 2)
    assert [(q.record_index, q.field) for q in parsed.quarantine] == [(5, "Tipo Titulo"), (13, "<line>")]
    assert values(row(parsed, dt.date(2018, 1, 3), "NTN-B 2050-08-15")) == (5.31, 5.31, 5.41, 3572.76, 3521.78, 3516.75)
    assert row(parsed, dt.date(2018, 1, 2), "NTN-B Principal 2035-05-15")["sell_price"] == 1349.46


def test_a_zero_buy_rate_with_a_price_is_a_rate_of_zero_and_the_other_types_keep_their_names():
    parsed = parse(OTHERS, (FIXTURES / "quirks_latin1.csv").read_bytes())
    assert sorted(parsed.rows["point"]) == ["LFT 2021-03-01", "NTN-C 2031-01-01", "Tesouro Educa+ 2030-12-15"]
    assert values(row(parsed, dt.date(2018, 1, 2), "LFT 2021-03-01")) == (0.0, 0.0, 0.04, 9211.23, 9203.81, 9200.96)
    assert values(row(parsed, dt.date(2018, 1, 2), "NTN-C 2031-01-01")) == (5.55, None, 5.55, None, 5686.39, 5682.17)


def test_utf8_with_a_bom_and_crlf_lines():
    body = (FIXTURES / "utf8_bom_crlf.csv").read_bytes()
    assert body.startswith(b"\xef\xbb\xbf") and b"\r\n" in body
    assert values(row(parse(NOMINAL, body), dt.date(2018, 12, 28), "LTN 2025-01-01")) == (
        10.01,
        10.01,
        10.07,
        520.11,
        518.54,
        518.20,
    )
    assert row(parse(REAL, body), dt.date(2018, 12, 28), "NTN-B Principal 2045-05-15")["buy_price"] == 1016.15


def test_a_renamed_header_column_refuses_the_payload_naming_it():
    error = refused(NOMINAL, (FIXTURES / "renamed_header_manha_tilde.csv").read_bytes())
    assert (error.source, error.dataset_id, error.field) == (
        "tesouro_direto",
        "tesouro_direto.br_nominal",
        "Taxa Compra Manha",
    )
    assert "Taxa Compra Manhã" in error.problem


def test_an_html_page_is_refused_with_its_title():
    error = refused(NOMINAL, (FIXTURES / "html_error_page.html").read_bytes(), status=404)
    assert error.field == "<body>" and "Erro 404 - Tesouro Transparente" in error.problem and "404" in error.problem


def test_a_truncated_file_is_refused():
    body = BODY.read_bytes()
    error = refused(REAL, body[: body.index(b"\n", 5000) + 40])
    assert error.field == "<body>" and "truncated" in error.problem


def test_an_empty_body_is_refused():
    assert "empty response body" in refused(NOMINAL, b"").problem


# ------------------------------------------------------------------------------------------ the real sample
@pytest.mark.skipif(not SHARED_SAMPLES.is_dir(), reason="the shared reference samples are not here")
def test_the_real_file_head_parses():
    body = (SHARED_SAMPLES / "PrecoTaxaTesouroDireto_head.csv").read_bytes()
    nominal, real, others = parse(NOMINAL, body), parse(REAL, body), parse(OTHERS, body)
    assert (nominal.records, nominal.rows.height, real.rows.height, others.rows.height) == (27, 11, 7, 9)
    assert nominal.quarantine == real.quarantine == [] and nominal.missing == 0
    assert values(row(real, dt.date(2010, 3, 26), "NTN-B 2011-05-15")) == (5.43, 5.43, 5.45, 1955.06, 1954.65, 1953.30)
    # Tesouro Selic;07/03/2013;25/03/2010;0,00;0,03;4176,53;4172,85;4171,46: a real rate of zero
    assert values(row(others, dt.date(2010, 3, 25), "LFT 2013-03-07")) == (0.0, 0.0, 0.03, 4176.53, 4172.85, 4171.46)
    assert row(nominal, dt.date(2010, 3, 25), "LTN 2013-01-01")["rate"] == 12.20


# ------------------------------------------------------------------------------------------ fetch
def test_fetch_is_one_get_of_the_whole_file():
    urls: list[httpx.URL] = []

    class Counting(ReplayTransport):
        def handle_request(self, request):
            urls.append(request.url)
            return super().handle_request(request)

    transport = Counting(RECORDED)
    client = SourceSession(client=HttpClient(transport, sleep=lambda _: None), live=False)
    [payload] = connector.fetch(client, REAL, dt.date(2016, 3, 1), dt.date(2016, 3, 31))
    assert [str(url) for url in urls] == [FILE_URL]
    assert (payload.window_start, payload.window_end) == (dt.date(2016, 3, 1), dt.date(2016, 3, 31))
    assert payload.body == BODY.read_bytes() and payload.fetched_at == dt.datetime(2019, 1, 7, 12, tzinfo=dt.UTC)


# ------------------------------------------------------------------------------------------ the recording
def generated_names() -> set[str]:
    return {p.name for p in RECORDED.iterdir() if p.is_file() and p.name not in ("generate.py", "__init__.py")}


def test_the_manifest_says_synthetic_and_captures_after_the_last_base_date():
    [exchange] = json.loads((RECORDED / "manifest.json").read_text())["exchanges"]
    assert exchange["request"] == {"method": "GET", "url": FILE_URL, "params": {}}
    assert exchange["provenance"] == "synthetic" and "SYNTHETIC" in exchange["note"]
    captured = dt.datetime.fromisoformat(exchange["captured_at"])
    assert recorded("br_nominal").rows["release_time"].max() < captured
    assert BODY.stat().st_size < 3_000_000
    assert BODY.read_bytes().decode("latin-1").splitlines()[0] == (
        "Tipo Titulo;Data Vencimento;Data Base;Taxa Compra Manha;Taxa Venda Manha;PU Compra Manha;PU Venda Manha;"
        "PU Base Manha"
    )


@cache
def recorded_rows() -> pl.DataFrame:
    return pl.concat([recorded(code).rows for code in ("br_nominal", "br_real", "others")]).with_columns(
        bond=pl.col("point").str.extract(r"^(.*) \d{4}-"), year=pl.col("curve_date").dt.year()
    )


def test_the_recorded_dates_are_b3_business_days():
    dates = set(recorded_rows()["curve_date"])
    assert dates == set(business_days("BR", dt.date(2015, 1, 1), dt.date(2018, 12, 31)))
    assert dt.date(2018, 2, 13) not in dates  # Carnival


def test_the_recorded_maturities_fall_in_the_months_of_their_bond_type():
    months = recorded_rows().group_by("bond").agg(pl.col("maturity_date").dt.month().unique().sort())
    assert {bond: list(m) for bond, m in months.iter_rows()} == {
        "LTN": [1, 7],
        "NTN-F": [1],
        "NTN-B": [5, 8],
        "NTN-B Principal": [5, 8],
        "LFT": [3, 9],
        "NTN-C": [1],
    }


def test_the_recorded_rates_follow_the_path_of_the_period():
    rows = recorded_rows()
    nominal = rows.filter(pl.col("bond").is_in(["LTN", "NTN-F"]))
    early, late = nominal.filter(pl.col("year") <= 2016)["rate"], nominal.filter(pl.col("year") == 2018)["rate"]
    assert 11 < early.min() and early.max() < 17 and 6.5 < late.min() and late.max() < 11.5
    real = rows.filter(pl.col("bond").is_in(["NTN-B", "NTN-B Principal"]))["rate"]
    assert 4 < real.min() and real.max() < 7.8
    lft = rows.filter(pl.col("bond") == "LFT")
    assert lft["buy_rate"].min() == 0.0 and lft["sell_rate"].max() < 0.2
    both = rows.drop_nulls("buy_rate")
    assert (both["sell_rate"] >= both["buy_rate"]).all() and (both["buy_price"] >= both["sell_price"]).all()


def test_the_recorded_ltn_prices_are_1000_discounted_at_the_rate_over_business_days():
    days = business_days("BR", dt.date(2015, 1, 1), dt.date(2026, 1, 1))
    ltn = recorded_rows().filter((pl.col("bond") == "LTN") & pl.col("buy_rate").is_not_null())
    assert ltn.height > 2000
    for day, due, rate, price in ltn.select("curve_date", "maturity_date", "buy_rate", "buy_price").iter_rows():
        du = bisect.bisect_left(days, due) - bisect.bisect_left(days, day)
        assert price == pytest.approx(1000 / (1 + rate / 100) ** (du / 252), abs=0.006)
