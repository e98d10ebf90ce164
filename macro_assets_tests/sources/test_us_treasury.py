"""US Treasury connector: the recorded CSVs and feeds, every format quirk, the request per year, the real samples,
and the recording generator. Pure: no database, no Dagster."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import httpx
import polars as pl
import pytest

from macro_assets.catalog import load_catalog
from macro_assets.errors import CatalogError, SourcePayloadError
from macro_assets.http.client import HttpClient
from macro_assets.http.replay import ReplayTransport
from macro_assets.provenance import Fetched
from macro_assets.sources.base import SourceSession
from macro_assets.sources.us_treasury import CSV_URL, connector, maturity, request_years, tenor_years
from macro_assets_tests.sources import payloads

REPO = Path(__file__).resolve().parents[2]
RECORDINGS = REPO / "macro_assets" / "recordings"
RECORDED = RECORDINGS / "us_treasury"
FIXTURES = REPO / "macro_assets_tests" / "fixtures" / "us_treasury"
SHARED_SAMPLES = REPO / ".." / "shared" / "reference" / "samples" / "treasury"
CATALOG = load_catalog()
NOMINAL = CATALOG.get("us_treasury.par_nominal")
REAL = CATALOG.get("us_treasury.par_real")
FEED_OPEN = (
    b'<?xml version="1.0" encoding="utf-8" standalone="yes"?>\n<feed xmlns="http://www.w3.org/2005/Atom" '
    b'xmlns:d="http://schemas.microsoft.com/ado/2007/08/dataservices" '
    b'xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata">\n'
)


def fetched(dataset, body: bytes, status: int = 200) -> Fetched:
    return payloads.fetched(
        str(dataset.id),
        body,
        status=status,
        content_type="text/csv",
    )


def parse(dataset, body: bytes, status: int = 200):
    return connector.parse(dataset, fetched(dataset, body, status))


def curve(parsed, day: dt.date) -> dict[str, float]:
    return dict(parsed.rows.filter(pl.col("curve_date") == day).select("point", "rate").iter_rows())


def recorded(name: str) -> bytes:
    return (RECORDED / name).read_bytes()


def refused(dataset, body: bytes, status: int = 200) -> SourcePayloadError:
    with pytest.raises(SourcePayloadError) as caught:
        parse(dataset, body, status)
    return caught.value


# ------------------------------------------------------------------------------------------ recorded CSVs
def test_recorded_2018_par_csv_reads_every_tenor_by_name_and_2_mo_from_2018_10_16():
    parsed = parse(NOMINAL, recorded("daily_treasury_yield_curve_2018.csv"))
    assert (parsed.records, parsed.missing, parsed.quarantine, parsed.rows.height) == (251, 0, [], 251 * 11 + 52)
    # The first line of the body, newest first: 12/31/2018,2.48,2.47,2.45,2.42,2.41,2.48,2.56,2.64,2.67,2.69,2.83,3.02
    assert curve(parsed, dt.date(2018, 12, 31)) == {
        "1M": 2.48,
        "2M": 2.47,
        "3M": 2.45,
        "6M": 2.42,
        "1Y": 2.41,
        "2Y": 2.48,
        "3Y": 2.56,
        "5Y": 2.64,
        "7Y": 2.67,
        "10Y": 2.69,
        "20Y": 2.83,
        "30Y": 3.02,
    }
    two_month = parsed.rows.filter(pl.col("point") == "2M")["curve_date"]
    assert (two_month.min(), two_month.len()) == (dt.date(2018, 10, 16), 52)
    assert "2M" not in curve(parsed, dt.date(2018, 10, 15)) and len(curve(parsed, dt.date(2018, 10, 15))) == 11


def test_recorded_rows_carry_tenor_maturity_and_the_estimated_release_at_18_00_new_york():
    parsed = parse(NOMINAL, recorded("daily_treasury_yield_curve_2018.csv"))
    row = parsed.rows.filter((pl.col("curve_date") == dt.date(2018, 12, 31)) & (pl.col("point") == "1M")).row(
        0, named=True
    )
    assert row["maturity_date"] == dt.date(2019, 1, 31) and row["tenor_years"] == pytest.approx(1 / 12)
    assert row["release_time"] == dt.datetime(2018, 12, 31, 23, 0, tzinfo=dt.UTC)  # EST, UTC-5
    assert row["release_basis"] == "estimated"
    summer = parsed.rows.filter(pl.col("curve_date") == dt.date(2018, 7, 2))["release_time"].unique().to_list()
    assert summer == [dt.datetime(2018, 7, 2, 22, 0, tzinfo=dt.UTC)]  # EDT, UTC-4
    assert (
        parsed.rows.select("buy_rate", "sell_rate", "buy_price", "sell_price", "base_price").null_count().row(0)
        == (parsed.rows.height,) * 5
    )


def test_recorded_2015_par_csv_has_the_eleven_tenors_of_its_header():
    parsed = parse(NOMINAL, recorded("daily_treasury_yield_curve_2015.csv"))
    assert (parsed.records, parsed.missing, parsed.rows.height) == (252, 0, 252 * 11)
    assert sorted(parsed.rows["point"].unique()) == sorted(
        ["1M", "3M", "6M", "1Y", "2Y", "3Y", "5Y", "7Y", "10Y", "20Y", "30Y"]
    )


def test_a_date_with_every_tenor_blank_is_missing_not_a_curve():
    parsed = parse(NOMINAL, recorded("daily_treasury_yield_curve_2016.csv"))
    assert (parsed.records, parsed.missing, parsed.quarantine) == (251, 1, [])
    assert parsed.rows["curve_date"].n_unique() == 250
    assert curve(parsed, dt.date(2016, 3, 25)) == {}  # "03/25/2016,,,,,,,,,,," (bond market closed)
    assert len(curve(parsed, dt.date(2016, 3, 24))) == 11


def test_recorded_real_yield_csv_reads_the_capital_yr_labels():
    parsed = parse(REAL, recorded("daily_treasury_real_yield_curve_2018.csv"))
    assert (parsed.records, parsed.missing, parsed.rows.height) == (251, 0, 251 * 5)
    # 12/31/2018,0.92,0.95,0.98,1.04,1.05 under Date,"5 YR","7 YR","10 YR","20 YR","30 YR"
    assert curve(parsed, dt.date(2018, 12, 31)) == {"5Y": 0.92, "7Y": 0.95, "10Y": 0.98, "20Y": 1.04, "30Y": 1.05}
    assert parse(REAL, recorded("daily_treasury_real_yield_curve_2017.csv")).missing == 1  # 2017-04-14


def test_row_order_does_not_matter():
    body = recorded("daily_treasury_yield_curve_2017.csv").decode()
    header, *lines = body.splitlines()
    oldest_first = "\n".join([header, *reversed(lines)]).encode()
    expected = parse(NOMINAL, body.encode()).rows.sort("curve_date", "point")
    assert parse(NOMINAL, oldest_first).rows.sort("curve_date", "point").equals(expected)


def test_the_second_capture_revises_one_day_only():
    first = parse(NOMINAL, recorded("daily_treasury_yield_curve_2018.csv")).rows
    second = parse(NOMINAL, recorded("daily_treasury_yield_curve_2018_captured_2019-01-14.csv")).rows
    changed = (
        first.join(second, on=["curve_date", "point"], suffix="_revised")
        .filter(pl.col("rate") != pl.col("rate_revised"))
        .sort("point")
    )
    assert changed.select("curve_date", "point", "rate", "rate_revised").rows() == [
        (dt.date(2018, 12, 14), "10Y", 2.73, 2.75),
        (dt.date(2018, 12, 14), "5Y", 2.68, 2.70),
        (dt.date(2018, 12, 14), "7Y", 2.71, 2.73),
    ]
    assert first.height == second.height


# ------------------------------------------------------------------------------------------ CSV quirks
def test_columns_are_read_by_name_whatever_their_order_unknown_columns_ignored():
    parsed = parse(NOMINAL, (FIXTURES / "csv_columns_by_name_2025-06.csv").read_bytes())
    assert (parsed.records, parsed.missing, parsed.quarantine, parsed.rows.height) == (2, 0, [], 28)
    june6 = curve(parsed, dt.date(2025, 6, 6))
    assert (june6["30Y"], june6["1M"], june6["1.5M"], june6["4M"], june6["20Y"]) == (4.97, 4.28, 4.31, 4.38, 4.99)
    six_weeks = parsed.rows.filter(pl.col("point") == "1.5M").sort("curve_date").row(-1, named=True)
    assert (six_weeks["tenor_years"], six_weeks["maturity_date"]) == (0.125, dt.date(2025, 7, 21))


def test_a_blank_tenor_is_absent_the_30_year_gap():
    parsed = parse(NOMINAL, (FIXTURES / "csv_30_yr_gap_2006-02.csv").read_bytes())
    assert (parsed.records, parsed.missing, parsed.quarantine) == (4, 0, [])
    counts = dict(parsed.rows.group_by("curve_date").len().iter_rows())
    assert counts == {
        dt.date(2006, 2, 10): 11,
        dt.date(2006, 2, 9): 11,
        dt.date(2006, 2, 8): 10,
        dt.date(2006, 2, 7): 10,
    }
    assert "30Y" not in curve(parsed, dt.date(2006, 2, 8)) and curve(parsed, dt.date(2006, 2, 9))["30Y"] == 4.51


def test_a_renamed_date_column_refuses_the_payload_naming_it():
    error = refused(NOMINAL, (FIXTURES / "csv_renamed_date.csv").read_bytes())
    assert (error.source, error.dataset_id, error.field) == ("us_treasury", "us_treasury.par_nominal", "Date")
    assert "Record Date" in error.problem


def test_a_header_without_a_known_tenor_is_refused():
    error = refused(NOMINAL, (FIXTURES / "csv_bill_rates_no_known_tenor.csv").read_bytes())
    assert error.field == "<tenors>" and "4 WEEKS BANK DISCOUNT" in error.problem


def test_the_real_yield_feed_is_not_read_as_the_par_curve():
    # The feed names its curve (BC_ par, TC_ real); a CSV does not, so its request type is what tells them apart.
    error = refused(NOMINAL, recorded("daily_treasury_real_yield_curve_2018.xml"))
    assert error.field == "<tenors>" and "TC_10YEAR" in error.problem


def test_an_html_page_is_refused_with_its_title():
    error = refused(NOMINAL, (FIXTURES / "html_error_page.html").read_bytes())
    assert error.field == "<body>" and "Page Not Found | U.S. Department of the Treasury" in error.problem


def test_a_truncated_csv_is_refused():
    body = recorded("daily_treasury_yield_curve_2018.csv")
    cut = body[: body.index(b"\n", 500) + 12]  # inside the cells of a line
    error = refused(NOMINAL, cut)
    assert error.field == "<body>" and "truncated" in error.problem


def test_a_line_of_another_width_inside_the_file_is_quarantined_and_a_repeated_date_too():
    body = (
        b'Date,"1 Mo","3 Mo","10 Yr"\n12/31/2018,2.44,2.45,2.69\n12/28/2018,2.41\n12/31/2018,2.40,2.41,2.60\n'
        b"12/27/2018,2.41,2.40,2.77\n"
    )
    parsed = parse(NOMINAL, body)
    assert [(q.record_index, q.field) for q in parsed.quarantine] == [(1, "<line>"), (2, "Date")]
    assert "already read from record 0" in parsed.quarantine[1].reason
    assert curve(parsed, dt.date(2018, 12, 31)) == {"1M": 2.44, "3M": 2.45, "10Y": 2.69}
    assert parsed.rows["curve_date"].n_unique() == 2 and parsed.records == 4


def test_a_non_200_status_is_refused():
    assert "HTTP 503" in refused(NOMINAL, recorded("daily_treasury_yield_curve_2018.csv"), status=503).problem


def test_a_dataset_with_an_unknown_data_param_is_a_catalog_error():
    from dataclasses import replace

    with pytest.raises(CatalogError, match="params.data"):
        parse(replace(NOMINAL, params={"data": "daily_treasury_bill_rates"}), b"Date\n")


# ------------------------------------------------------------------------------------------ Atom feed
def test_the_feed_reads_nulls_absent_elements_unsorted_entries_and_quarantines_the_all_zero_curve():
    parsed = parse(NOMINAL, (FIXTURES / "feed_quirks_2017-04.xml").read_bytes())
    assert (parsed.records, parsed.missing) == (5, 1)  # 2017-04-11: every element m:null
    assert [(q.record_index, q.field) for q in parsed.quarantine] == [(2, "<tenors>"), (3, "BC_5YEAR")]
    assert "every tenor of 2017-04-14 is 0" in parsed.quarantine[0].reason
    assert "'N/A'" in parsed.quarantine[1].reason
    assert sorted(parsed.rows["curve_date"].unique()) == [
        dt.date(2017, 4, 12),
        dt.date(2017, 4, 13),
        dt.date(2017, 4, 17),
    ]
    assert len(curve(parsed, dt.date(2017, 4, 17))) == 11 and "2M" not in curve(parsed, dt.date(2017, 4, 17))
    assert len(curve(parsed, dt.date(2017, 4, 12))) == 11  # no BC_2MONTH element at all
    thirteenth = curve(parsed, dt.date(2017, 4, 13))
    assert len(thirteenth) == 10 and "5Y" not in thirteenth and thirteenth["10Y"] == 2.24


def test_the_recorded_feed_and_csv_of_2018_hold_the_same_rows():
    for dataset, data in ((NOMINAL, "daily_treasury_yield_curve"), (REAL, "daily_treasury_real_yield_curve")):
        feed = parse(dataset, recorded(f"{data}_2018.xml"))
        table = parse(dataset, recorded(f"{data}_2018.csv"))
        assert feed.records == table.records == 251 and feed.quarantine == []
        assert feed.rows.sort("curve_date", "point").equals(table.rows.sort("curve_date", "point"))


def test_a_feed_without_new_date_refuses_the_payload_naming_it():
    body = (FIXTURES / "feed_quirks_2017-04.xml").read_bytes().replace(b"NEW_DATE", b"RECORD_DATE")
    error = refused(NOMINAL, body)
    assert error.field == "NEW_DATE" and "RECORD_DATE" in error.problem


def test_a_truncated_feed_is_refused():
    body = recorded("daily_treasury_yield_curve_2018.xml")
    error = refused(NOMINAL, body[: len(body) // 2])
    assert error.field == "<body>" and "not well-formed XML" in error.problem


def test_another_xml_document_is_refused():
    error = refused(NOMINAL, b'<?xml version="1.0"?><error><message>Service unavailable</message></error>')
    assert error.field == "<body>" and "expected an Atom feed" in error.problem


# ------------------------------------------------------------------------------------------ tenor arithmetic
@pytest.mark.parametrize(
    ("day", "label", "expected"),
    [
        (dt.date(2018, 1, 31), "1M", dt.date(2018, 2, 28)),
        (dt.date(2018, 1, 31), "1.5M", dt.date(2018, 3, 15)),
        (dt.date(2018, 12, 31), "6M", dt.date(2019, 6, 30)),
        (dt.date(2016, 2, 29), "30Y", dt.date(2046, 2, 28)),
        (dt.date(2018, 3, 15), "2M", dt.date(2018, 5, 15)),
    ],
)
def test_maturity_is_the_curve_date_plus_calendar_months(day, label, expected):
    assert maturity(day, label) == expected


def test_tenor_years():
    assert [tenor_years(label) for label in ("1M", "1.5M", "6M", "1Y", "30Y")] == [1 / 12, 0.125, 0.5, 1.0, 30.0]


# ------------------------------------------------------------------------------------------ the real samples
shared = pytest.mark.skipif(not SHARED_SAMPLES.is_dir(), reason="the shared reference samples are not here")


@shared
def test_the_real_csv_samples_parse():
    old = parse(NOMINAL, (SHARED_SAMPLES / "par_yield_curve_csv_2000_old_columns.csv").read_bytes())
    assert (old.records, old.rows.height) == (2, 20)
    assert curve(old, dt.date(2000, 12, 29)) == {
        "3M": 5.89,
        "6M": 5.70,
        "1Y": 5.32,
        "2Y": 5.11,
        "3Y": 5.06,
        "5Y": 4.99,
        "7Y": 5.16,
        "10Y": 5.12,
        "20Y": 5.59,
        "30Y": 5.46,
    }
    july = parse(NOMINAL, (SHARED_SAMPLES / "par_yield_curve_csv_2023-07.csv").read_bytes())
    assert (july.records, july.rows.height) == (5, 65)
    assert curve(july, dt.date(2023, 7, 7))["10Y"] == 4.06 and curve(july, dt.date(2023, 7, 7))["4M"] == 5.52
    recent = parse(NOMINAL, (SHARED_SAMPLES / "par_yield_curve_csv_2025_with_1_5_month.csv").read_bytes())
    ours = parse(NOMINAL, (FIXTURES / "csv_columns_by_name_2025-06.csv").read_bytes())
    assert curve(recent, dt.date(2025, 6, 6)) == curve(ours, dt.date(2025, 6, 6))  # same row, columns reordered
    assert curve(recent, dt.date(2025, 6, 6))["1.5M"] == 4.31


@shared
def test_the_retired_feed_fragments_parse_the_all_zero_entry_quarantined():
    # The quoted fragments lack the feed around them: the namespaces are declared the way the feed declares them.
    zeros = FEED_OPEN + (SHARED_SAMPLES / "OLD_FEED_par_entry_2017-04-14_zeros.xml").read_bytes() + b"</feed>"
    parsed = parse(NOMINAL, zeros)
    assert (parsed.records, parsed.missing, parsed.rows.height) == (1, 0, 0)
    assert [q.field for q in parsed.quarantine] == ["<tenors>"] and "2017-04-14" in parsed.quarantine[0].reason
    real = (
        FEED_OPEN
        + b'<entry><content type="application/xml">'
        + (SHARED_SAMPLES / "OLD_FEED_real_yield_entry_2020-05-01.xml").read_bytes()
        + b"</content></entry></feed>"
    )
    parsed = parse(REAL, real)
    assert curve(parsed, dt.date(2020, 5, 1)) == {
        "5Y": -0.315825,
        "7Y": -0.399095,
        "10Y": -0.420718,
        "20Y": -0.262226,
        "30Y": -0.121836,
    }


# ------------------------------------------------------------------------------------------ fetch
class CountingReplay(ReplayTransport):
    def __init__(self, *roots, clock=None):
        super().__init__(*roots, clock=clock)
        self.requests: list[httpx.URL] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request.url)
        return super().handle_request(request)


def session(transport) -> SourceSession:
    return SourceSession(client=HttpClient(transport, sleep=lambda _: None), live=False)


def test_request_years_split_a_window_by_calendar_year():
    assert request_years(dt.date(2016, 11, 15), dt.date(2018, 2, 1)) == [2016, 2017, 2018]
    assert request_years(dt.date(2018, 3, 1), dt.date(2018, 3, 1)) == [2018]


def test_fetch_asks_for_one_csv_per_year_of_the_window():
    transport = CountingReplay(RECORDED)
    payloads = connector.fetch(session(transport), NOMINAL, dt.date(2016, 11, 15), dt.date(2018, 2, 1))
    assert [(url.path, dict(url.params)) for url in transport.requests] == [
        (
            f"/resource-center/data-chart-center/interest-rates/daily-treasury-rates.csv/{year}/all",
            {"type": "daily_treasury_yield_curve", "field_tdr_date_value": str(year), "page": "", "_format": "csv"},
        )
        for year in (2016, 2017, 2018)
    ]
    assert str(transport.requests[0]).startswith(CSV_URL.format(year=2016))
    assert [(p.window_start, p.window_end) for p in payloads] == [
        (dt.date(2016, 11, 15), dt.date(2016, 12, 31)),
        (dt.date(2017, 1, 1), dt.date(2017, 12, 31)),
        (dt.date(2018, 1, 1), dt.date(2018, 2, 1)),
    ]
    assert payloads[0].body == recorded("daily_treasury_yield_curve_2016.csv")
    assert payloads[2].body == recorded("daily_treasury_yield_curve_2018_captured_2019-01-14.csv")  # the latest
    assert payloads[2].fetched_at == dt.datetime(2019, 1, 14, 12, tzinfo=dt.UTC)


def test_a_replay_before_the_revision_serves_the_first_capture():
    transport = CountingReplay(RECORDED, clock=dt.datetime(2019, 1, 8, tzinfo=dt.UTC))
    [payload] = connector.fetch(session(transport), NOMINAL, dt.date(2018, 12, 14), dt.date(2018, 12, 14))
    assert payload.body == recorded("daily_treasury_yield_curve_2018.csv")
    assert curve(connector.parse(NOMINAL, payload), dt.date(2018, 12, 14))["10Y"] == 2.73


def test_fetch_of_the_real_curve_asks_for_its_type():
    transport = CountingReplay(RECORDED)
    [payload] = connector.fetch(session(transport), REAL, dt.date(2015, 3, 2), dt.date(2015, 3, 31))
    assert dict(transport.requests[0].params)["type"] == "daily_treasury_real_yield_curve"
    assert connector.parse(REAL, payload).rows.height == 252 * 5


# ------------------------------------------------------------------------------------------ the recordings
def generated_names() -> set[str]:
    return {p.name for p in RECORDED.iterdir() if p.is_file() and p.name not in ("generate.py", "__init__.py")}


def test_the_manifest_lists_every_body_synthetic_captured_after_its_last_date():
    manifest = json.loads((RECORDED / "manifest.json").read_text())
    exchanges = manifest["exchanges"]
    assert {e["response"]["body_file"] for e in exchanges} == generated_names() - {"manifest.json"}
    assert all(e["provenance"] == "synthetic" and "SYNTHETIC" in e["note"] for e in exchanges)
    captured = [dt.datetime.fromisoformat(e["captured_at"]) for e in exchanges]
    assert captured == sorted(captured) and captured[-1] == dt.datetime(2019, 1, 14, 12, tzinfo=dt.UTC)
    for exchange, at in zip(exchanges, captured, strict=True):
        data = exchange["request"]["params"].get("type") or exchange["request"]["params"]["data"]
        dataset = NOMINAL if data == "daily_treasury_yield_curve" else REAL
        rows = parse(dataset, (RECORDED / exchange["response"]["body_file"]).read_bytes()).rows
        assert rows["release_time"].max() < at
    assert sum((RECORDED / name).stat().st_size for name in generated_names()) < 3_000_000


def test_the_recorded_dates_are_the_federal_reserve_business_days():
    from macro_assets.catalog.calendars import business_days

    dates = set()
    for year in (2015, 2016, 2017, 2018):
        body = recorded(f"daily_treasury_yield_curve_{year}.csv").decode()
        dates |= {dt.datetime.strptime(line.split(",")[0], "%m/%d/%Y").date() for line in body.splitlines()[1:]}
    assert dates == set(business_days("US", dt.date(2015, 1, 1), dt.date(2018, 12, 31)))
    assert len(dates) == 1005 and dt.date(2017, 4, 14) in dates and dt.date(2018, 11, 12) not in dates


def test_the_recorded_yields_move_in_plausible_ranges():
    rows = pl.concat(parse(NOMINAL, recorded(f"daily_treasury_yield_curve_{y}.csv")).rows for y in range(2015, 2019))
    ten = rows.filter(pl.col("point") == "10Y")
    assert 1.3 <= ten["rate"].min() <= 1.45 and 3.15 <= ten["rate"].max() <= 3.3
    assert rows["rate"].min() == 0.0 and rows["rate"].max() <= 3.5
    real = pl.concat(parse(REAL, recorded(f"daily_treasury_real_yield_curve_{y}.csv")).rows for y in range(2015, 2019))
    assert -0.5 < real["rate"].min() < 0 < 1.2 < real["rate"].max() < 1.4
