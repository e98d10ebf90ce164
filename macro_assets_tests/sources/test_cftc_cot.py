"""CFTC Commitments of Traders connector: the API's string values, suppressed fields and typo'd names, its paging,
the text files (the real deafut.txt line, padded cells, both header styles), the release schedule with its holiday
weeks and daylight saving time, and the quarantine of records that can never be a report."""

from __future__ import annotations

import datetime as dt
import json

import httpx
import polars as pl
import pytest

from macro_assets.catalog import load_catalog
from macro_assets.errors import MissingCredentials, SourcePayloadError
from macro_assets.http.client import HttpClient
from macro_assets.sources.base import SourceSession, parsed_schema
from macro_assets.sources.cftc_cot import (
    APP_TOKEN_ENV,
    REPORTS,
    RESOURCE_URL,
    connector,
    fetch_pages,
    market,
    query,
    release_time,
)
from macro_assets_tests import paths
from macro_assets_tests.sources import payloads
from macro_assets_tests.sources.replay import CountingReplay, Exchange, write_manifest

RECORDED = paths.RECORDINGS / "cftc_cot"
CATALOG = load_catalog()
BRL_LEGACY = CATALOG.get("cftc_cot.BRL_legacy")
BRL_TFF = CATALOG.get("cftc_cot.BRL_tff")
JPY_LEGACY = CATALOG.get("cftc_cot.JPY_legacy")
GOLD_DISAGGREGATED = CATALOG.get("cftc_cot.GOLD_disaggregated")
UST10Y_TFF = CATALOG.get("cftc_cot.UST10Y_tff")


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def parse(spec, body: bytes, status: int = 200, content_type: str = "application/json"):
    return connector.parse(spec, payloads.fetched(str(spec.id), body, status=status, content_type=content_type))


def positions(parsed) -> dict[str, tuple]:
    return {row[0]: row[1:] for row in parsed.rows.select("category", "long", "short", "spreading").rows()}


def api_record(day: str = "2016-11-15", **fields: str) -> dict[str, str]:
    return {
        "market_and_exchange_names": "BRAZILIAN REAL - CHICAGO MERCANTILE EXCHANGE",
        "report_date_as_yyyy_mm_dd": f"{day}T00:00:00.000",
        "cftc_contract_market_code": "102741",
        "open_interest_all": "41000",
        "noncomm_positions_long_all": "15000",
        "noncomm_positions_short_all": "12000",
        "noncomm_postions_spread_all": "2000",
        "comm_positions_long_all": "20000",
        "comm_positions_short_all": "23000",
        "nonrept_positions_long_all": "4000",
        "nonrept_positions_short_all": "4000",
        **fields,
    }


def body(*records: dict) -> bytes:
    return json.dumps(list(records)).encode()


# ------------------------------------------------------------------------------------------ the API's JSON
def test_a_legacy_record_of_strings_becomes_one_row_per_category_with_the_typo_field_as_spreading():
    parsed = parse(BRL_LEGACY, body(api_record()))
    assert parsed.rows.schema == pl.Schema(parsed_schema(BRL_LEGACY.shape))
    assert positions(parsed) == {
        "noncommercial": (15000.0, 12000.0, 2000.0),  # spreading from noncomm_postions_spread_all ("postions")
        "commercial": (20000.0, 23000.0, None),
        "nonreportable": (4000.0, 4000.0, None),
    }
    assert parsed.rows["open_interest"].to_list() == [41000.0] * 3  # the report's, on every row
    assert parsed.rows["report_date"].unique().to_list() == [dt.date(2016, 11, 15)]
    # Tuesday 15 Nov 2016 -> Friday 18 Nov at 15:30 EST.
    assert parsed.rows["release_time"].unique().to_list() == [utc(2016, 11, 18, 20, 30)]
    assert parsed.rows["release_basis"].unique().to_list() == ["estimated"]
    assert (parsed.records, parsed.missing, parsed.quarantine) == (1, 0, [])


def test_a_suppressed_field_is_null_never_zero():
    record = api_record()
    del record["noncomm_postions_spread_all"], record["comm_positions_short_all"]
    parsed = parse(BRL_LEGACY, body(record))
    by_category = positions(parsed)
    assert by_category["noncommercial"] == (15000.0, 12000.0, None)
    assert by_category["commercial"] == (20000.0, None, None)
    assert parsed.missing == 2 and parsed.quarantine == []


def test_the_disaggregated_swap_fields_keep_their_double_underscore():
    record = {
        "report_date_as_yyyy_mm_dd": "2017-03-07T00:00:00.000",
        "cftc_contract_market_code": "088691",
        "open_interest_all": "500",
        "prod_merc_positions_long": "50",
        "prod_merc_positions_short": "150",
        "swap_positions_long_all": "60",
        "swap__positions_short_all": "70",
        "swap__positions_spread_all": "10",
        "m_money_positions_long_all": "200",
        "m_money_positions_short_all": "80",
        "m_money_positions_spread": "20",
        "other_rept_positions_long": "100",
        "other_rept_positions_short": "90",
        "other_rept_positions_spread": "30",
        "nonrept_positions_long_all": "30",
        "nonrept_positions_short_all": "40",
    }
    by_category = positions(parse(GOLD_DISAGGREGATED, body(record)))
    assert by_category["swap_dealers"] == (60.0, 70.0, 10.0)
    assert by_category["producer_merchant"] == (50.0, 150.0, None)
    assert list(by_category) == [c.name for c in REPORTS["disaggregated"].categories]


def test_the_recorded_brl_tff_year_parses_with_its_suppressed_spreading():
    parsed = parse(BRL_TFF, (RECORDED / "BRL_tff_2017.json").read_bytes())
    assert parsed.records == 52 and parsed.quarantine == []
    assert parsed.missing > 0  # asset managers' spreading left out of a few reports
    asset_managers = parsed.rows.filter(pl.col("category") == "asset_manager")
    assert asset_managers["spreading"].null_count() == parsed.missing
    assert asset_managers["long"].null_count() == 0
    assert set(parsed.rows["category"]) == {
        "dealer",
        "asset_manager",
        "leveraged_funds",
        "other_reportables",
        "nonreportable",
    }
    # Every complete report adds up to its open interest on both sides.
    for (day,), report in parsed.rows.group_by(["report_date"]):
        if report["spreading"].null_count() == 1:  # only the nonreportable row lacks spreading
            spreading = report["spreading"].sum()
            interest = report["open_interest"][0]
            assert report["long"].sum() + spreading == interest == report["short"].sum() + spreading, day


def test_the_request_asks_one_year_of_one_market_with_the_typo_fields_selected():
    params = query(market(GOLD_DISAGGREGATED), 2016)
    assert params["$where"] == (
        "cftc_contract_market_code = '088691' AND report_date_as_yyyy_mm_dd "
        "between '2016-01-01T00:00:00.000' and '2016-12-31T00:00:00.000'"
    )
    assert "swap__positions_short_all" in params["$select"].split(",")
    assert (params["$order"], params["$limit"], params["$offset"]) == ("report_date_as_yyyy_mm_dd,id", "1000", "0")
    assert market(UST10Y_TFF).dataset == "gpe5-46if" and market(BRL_LEGACY).dataset == "6dca-aqww"


def test_pages_are_asked_with_offset_until_a_short_one(tmp_path):
    records = [api_record(day) for day in ("2016-11-01", "2016-11-08", "2016-11-15", "2016-11-22", "2016-11-29")]
    url = RESOURCE_URL.format(dataset="6dca-aqww")
    params = query(market(BRL_LEGACY), 2016, page_size=2)
    exchanges = []
    for offset in (0, 2, 4):
        page = tmp_path / f"page_{offset}.json"
        page.write_bytes(body(*records[offset : offset + 2]))
        exchanges.append(Exchange(url, {**params, "$offset": str(offset)}, page))
    transport = CountingReplay(write_manifest(tmp_path / "recordings", "cftc_cot", exchanges))
    pages = fetch_pages(HttpClient(transport), url, params)
    assert [q["$offset"] for q in transport.queries] == ["0", "2", "4"]
    rows = [parse(BRL_LEGACY, page.content).rows for page in pages]
    assert pl.concat(rows)["report_date"].unique().len() == 5


def test_an_app_token_goes_in_a_header_never_the_url(monkeypatch):
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=[api_record()])

    token = "abcDEF0123456789xyz"
    monkeypatch.setenv(APP_TOKEN_ENV, token)
    session = SourceSession(HttpClient(httpx.MockTransport(answer)), live=True)
    fetched = connector.fetch(session, BRL_LEGACY, dt.date(2016, 11, 15), dt.date(2016, 11, 21))
    assert seen[0].headers["X-App-Token"] == token
    assert token not in str(seen[0].url) and token not in fetched[0].request
    monkeypatch.setenv(APP_TOKEN_ENV, "not a token!")
    with pytest.raises(MissingCredentials, match=f"{APP_TOKEN_ENV} is set but malformed") as raised:
        connector.fetch(session, BRL_LEGACY, dt.date(2016, 11, 15), dt.date(2016, 11, 21))
    assert "not a token" not in str(raised.value)


@pytest.mark.parametrize(
    "payload, status, problem",
    [
        (b'{"error":true,"message":"No such column: noncomm_positions_spread_all"}', 400, "No such column"),
        (b"<html><head><title>Service Unavailable</title></head></html>", 503, "Service Unavailable"),
        (b'{"rows":[]}', 200, "expected a JSON array"),
    ],
)
def test_an_error_or_an_unexpected_body_is_refused_naming_the_dataset(payload, status, problem):
    with pytest.raises(SourcePayloadError, match=problem) as raised:
        parse(BRL_LEGACY, payload, status=status)
    assert (raised.value.source, raised.value.dataset_id) == ("cftc_cot", "cftc_cot.BRL_legacy")


# ------------------------------------------------------------------------------------------ quarantine
def test_records_that_can_never_be_a_report_are_quarantined_with_their_reason():
    parsed = parse(
        BRL_LEGACY,
        body(
            api_record("2016-11-01", comm_positions_long_all="n/a"),
            api_record("2016-11-08", open_interest_all="41,000"),
            api_record("2016-11-09"),  # a Wednesday
            {**api_record(), "report_date_as_yyyy_mm_dd": "15/11/2016"},
            api_record("2017-07-03"),  # the Monday before Independence Day: that week's report
            api_record("2016-11-22"),
            api_record("2016-11-22"),  # the same report twice
        ),
    )
    reasons = {q.record_index: (q.field, q.reason) for q in parsed.quarantine}
    assert reasons[0] == ("comm_positions_long_all", "comm_positions_long_all: not a number: 'n/a'")
    assert reasons[1][0] == "open_interest_all"
    assert reasons[2] == (
        "report_date_as_yyyy_mm_dd",
        "report date 2016-11-09 is a Wednesday: positions are as of a Tuesday (a Monday when the Tuesday is a holiday)",
    )
    assert "does not match" in reasons[3][1]
    assert reasons[6][1] == "a second report of 2016-11-22"
    assert sorted(parsed.rows["report_date"].unique()) == [dt.date(2016, 11, 22), dt.date(2017, 7, 3)]


# ------------------------------------------------------------------------------------------ text files
def test_the_real_deafut_line_parses_with_its_padded_cells_and_skips_other_markets():
    sample = paths.shared("reference", "samples", "cftc", "legacy_futures_only_deafut_line.txt").read_bytes()
    parsed = parse(JPY_LEGACY, sample, content_type="text/plain")
    assert positions(parsed) == {
        "noncommercial": (107590.0, 259715.0, 18031.0),
        "commercial": (254110.0, 99212.0, None),
        "nonreportable": (44065.0, 46838.0, None),
    }
    assert parsed.rows["open_interest"].unique().to_list() == [423796.0]
    # Tuesday 21 Jul 2026 -> Friday 24 Jul at 15:30 EDT.
    assert parsed.rows["release_time"].unique().to_list() == [utc(2026, 7, 24, 19, 30)]
    assert (parsed.records, parsed.quarantine) == (2, [])  # the wheat line is another market's


LEGACY_HEADER = (
    '"Market and Exchange Names","As of Date in Form YYMMDD","As of Date in Form YYYY-MM-DD",'
    '"CFTC Contract Market Code","CFTC Market Code in Initials","CFTC Region Code","CFTC Commodity Code",'
    '"Open Interest (All)","Noncommercial Positions-Long (All)","Noncommercial Positions-Short (All)",'
    '"Noncommercial Positions-Spreading (All)","Commercial Positions-Long (All)","Commercial Positions-Short (All)",'
    '" Total Reportable Positions-Long (All)","Total Reportable Positions-Short (All)",'
    '"Nonreportable Positions-Long (All)","Nonreportable Positions-Short (All)","Open Interest (Old)"'
)


def test_a_legacy_history_file_is_read_by_its_quoted_spaced_header():
    text = "\n".join(
        [
            LEGACY_HEADER,
            '"BRAZILIAN REAL - CHICAGO MERCANTILE EXCHANGE",161115,2016-11-15,102741,CME ,12,102 ,'
            "   41000,   15000,   12000,    2000,   20000,   23000,   37000,   37000,    4000,    4000,   41000",
            '"BRAZILIAN REAL - CHICAGO MERCANTILE EXCHANGE",161122,2016-11-22,102741,CME ,12,102 ,'
            "   42000,   15000,   12000,    2000,   21000,   24000,   38000,   38000,    4000,  .   ,   42000",
        ]
    ).encode()
    parsed = parse(BRL_LEGACY, text, content_type="text/plain")
    first = parsed.rows.filter(pl.col("report_date") == dt.date(2016, 11, 15))
    assert first.filter(pl.col("category") == "noncommercial").select("long", "short", "spreading").row(0) == (
        15000.0,
        12000.0,
        2000.0,
    )
    # "." is what the files print for a value they do not publish: null, as the API's absent field.
    second = parsed.rows.filter(pl.col("report_date") == dt.date(2016, 11, 22), pl.col("category") == "nonreportable")
    assert second.select("long", "short").row(0) == (4000.0, None)
    assert (parsed.records, parsed.missing, parsed.quarantine) == (2, 1, [])


def test_tff_and_disaggregated_files_are_read_by_underscore_headers_whatever_their_case():
    tff = (
        b"Market_and_Exchange_Names,As_of_Date_In_Form_YYMMDD,Report_Date_as_YYYY-MM-DD,CFTC_Contract_Market_Code,"
        b"CFTC_Market_Code,CFTC_Region_Code,CFTC_Commodity_Code,Open_Interest_All,Dealer_Positions_Long_All,"
        b"Dealer_Positions_Short_All,Dealer_Positions_Spread_All,Asset_Mgr_Positions_Long_All,"
        b"Asset_Mgr_Positions_Short_All,Asset_Mgr_Positions_Spread_All,Lev_Money_Positions_Long_ALL,"
        b"Lev_Money_Positions_Short_ALL,Lev_Money_Positions_Spread_ALL,Other_Rept_Positions_Long_All,"
        b"Other_Rept_Positions_Short_All,Other_Rept_Positions_Spread_All,Tot_Rept_Positions_Long_All,"
        b"Tot_Rept_Positions_Short_All,NonRept_Positions_Long_All,NonRept_Positions_Short_All\n"
        b'"10-YEAR U.S. TREASURY NOTES - CHICAGO BOARD OF TRADE",180612,2018-06-12,043602,CBT ,01,043 ,'
        b" 3500000, 300000, 500000, 20000,1300000, 400000, 30000, 500000,1200000, 40000, 900000, 700000, 60000,"
        b" 3190000, 3250000, 310000, 250000\n"
    )
    by_category = positions(parse(UST10Y_TFF, tff, content_type="text/plain"))
    assert by_category["leveraged_funds"] == (500000.0, 1200000.0, 40000.0)
    assert by_category["nonreportable"] == (310000.0, 250000.0, None)
    disaggregated = (
        b"Market_and_Exchange_Names,Report_Date_as_YYYY-MM-DD,CFTC_Contract_Market_Code,Open_Interest_All,"
        b"Prod_Merc_Positions_Long_All,Prod_Merc_Positions_Short_All,Swap_Positions_Long_All,"
        b"Swap__Positions_Short_All,Swap__Positions_Spread_All,M_Money_Positions_Long_All,"
        b"M_Money_Positions_Short_All,M_Money_Positions_Spread_All,Other_Rept_Positions_Long_All,"
        b"Other_Rept_Positions_Short_All,Other_Rept_Positions_Spread_All,NonRept_Positions_Long_All,"
        b"NonRept_Positions_Short_All\n"
        b'"GOLD - COMMODITY EXCHANGE INC.",2017-03-07,088691,  500,  50,  150,  60,  70,  10,  200,  80,  20,'
        b"  100,  90,  30,  30,  40\n"
    )
    assert positions(parse(GOLD_DISAGGREGATED, disaggregated, content_type="text/plain"))["swap_dealers"] == (
        60.0,
        70.0,
        10.0,
    )


def test_a_headerless_line_too_short_for_the_report_is_quarantined():
    line = b'"JAPANESE YEN - CHICAGO MERCANTILE EXCHANGE",260721,2026-07-21,097741,CME ,00,097 ,  423796,  107590\n'
    parsed = parse(JPY_LEGACY, line, content_type="text/plain")
    assert parsed.rows.is_empty() and [q.field for q in parsed.quarantine] == ["<line>"]


def test_a_file_without_the_report_date_column_is_refused():
    header = LEGACY_HEADER.replace('"As of Date in Form YYYY-MM-DD",', "")
    with pytest.raises(SourcePayloadError) as raised:
        parse(BRL_LEGACY, (header + "\n").encode(), content_type="text/plain")
    assert raised.value.field == "As of Date in Form YYYY-MM-DD"


# ------------------------------------------------------------------------------------------ release schedule
@pytest.mark.parametrize(
    "report, released",
    [
        # A normal week: Friday 15:30 EST.
        (dt.date(2016, 11, 15), utc(2016, 11, 18, 20, 30)),
        # Good Friday (25 Mar 2016) is no federal holiday: the CFTC publishes that Friday (EDT, after the change).
        (dt.date(2016, 3, 22), utc(2016, 3, 25, 19, 30)),
        # Daylight saving time began Sunday 13 Mar 2016: the week before releases at 20:30 UTC, the week after 19:30.
        (dt.date(2016, 3, 8), utc(2016, 3, 11, 20, 30)),
        (dt.date(2016, 3, 15), utc(2016, 3, 18, 19, 30)),
        # It ended Sunday 6 Nov 2016: 19:30 UTC before, 20:30 after (Veterans Day, Friday 11 Nov, delays that
        # week's report to Monday).
        (dt.date(2016, 11, 1), utc(2016, 11, 4, 19, 30)),
        (dt.date(2016, 11, 8), utc(2016, 11, 14, 20, 30)),
        # Thanksgiving week: the report of Tuesday 22 Nov comes out Monday 28 Nov.
        (dt.date(2016, 11, 22), utc(2016, 11, 28, 20, 30)),
        # Christmas on Friday 25 Dec 2015 and New Year's Day on Friday 1 Jan 2016: the following Mondays.
        (dt.date(2015, 12, 22), utc(2015, 12, 28, 20, 30)),
        (dt.date(2015, 12, 29), utc(2016, 1, 4, 20, 30)),
        # Christmas on Monday 25 Dec 2017, and New Year's Day on the Monday after: Tuesday 2 Jan 2018.
        (dt.date(2017, 12, 26), utc(2018, 1, 2, 20, 30)),
        # Independence Day observed on Friday 3 Jul 2015 (the 4th a Saturday): the federal calendar, not the Fed's.
        (dt.date(2015, 6, 30), utc(2015, 7, 6, 19, 30)),
        # A Tuesday holiday (4 Jul 2017): positions as of Monday 3 Jul, released Monday 10 Jul.
        (dt.date(2017, 7, 3), utc(2017, 7, 10, 19, 30)),
    ],
)
def test_release_time_by_hand(report, released):
    assert release_time(BRL_LEGACY, report) == released
