"""CFTC Commitments of Traders: the positions of each trader category in one futures market, every Tuesday.

A dataset is one market and report of the catalog's `params`: `contract_market_code` (the CFTC's code, "102741"
Brazilian real, "043602" 10-year T-note), `report` ("legacy", "tff" Traders in Financial Futures, "disaggregated")
and `futures_only` (true: futures-only positions; false: futures and options combined).

Two formats carry the same reports; both are read through one field map per report type (REPORTS) and one parse:

- The public reporting API (Socrata), what `fetch` asks:
  `https://publicreporting.cftc.gov/resource/<dataset>.json?$select=...&$where=...&$order=...&$limit=&$offset=`,
  a JSON array of flat objects, every value a string (`"open_interest_all":"409899"`), the report date a floating
  timestamp `"2015-01-06T00:00:00.000"`. A suppressed value is left out of its object: it reads as null, never 0.
  Field names keep the CFTC's typos: `noncomm_postions_spread_all` ("postions"), `swap__positions_short_all` and
  `swap__positions_spread_all` (double underscore). Errors are an object `{"error": true, "message": ...}`.
- The text files (history zips' annual.txt / f_year.txt / FinFutYY.txt, and the current week's deafut.txt,
  f_disagg.txt, FinFutWk.txt), comma-separated with the market name quoted: the legacy history files have a
  header of quoted names with spaces ("Noncommercial Positions-Long (All)"), the TFF and disaggregated ones
  underscore names (`Swap__Positions_Short_All`, sometimes `..._ALL`), matched case-insensitively; the current
  week's files have no header, and their columns are read in the history files' order. Numbers are padded with
  leading spaces and codes with trailing ones (`CBT `, `001 `); cells are stripped. `parse` reads such a payload
  too (a downloaded file or a file a user records), telling the formats apart by the first byte.

Requests: one per calendar year the window touches, the whole year whatever part of it the window covers: a year
is ~52 records of one market (one page of $limit=1000), and the same request serves every weekly partition of the
year. Pages are asked with $offset until one comes back shorter than $limit, ordered by report date then `id` so
that pages never overlap. An app token, optional (the API throttles requests without one), is sent live from
CFTC_APP_TOKEN as the X-App-Token header, never in the URL, so it reaches no log, payload record or object key.

Categories: legacy "noncommercial" (long, short, spreading), "commercial" and "nonreportable" (long, short); TFF
"dealer", "asset_manager", "leveraged_funds", "other_reportables" (long, short, spreading) and "nonreportable";
disaggregated "producer_merchant" (long, short), "swap_dealers", "managed_money", "other_reportables" (long,
short, spreading) and "nonreportable". The source's total reportable positions are not stored: they are the sum of
the reportable categories, and quality/positions.py checks that the categories add up to open interest instead.
Every row carries the report's open interest.

Release time: positions as of Tuesday are published on the Friday of the same week at 15:30 New York time (the
catalog's release rule: 3 days after the Tuesday at 15:30 America/New_York, daylight saving time by zoneinfo).
When a federal holiday falls on a weekday of that week, the CFTC publishes on the next federal business day after
the Friday instead (Monday; Tuesday when that Monday is a holiday too). Good Friday is no federal holiday: that
week's report comes out on the Friday. When the Tuesday itself is a holiday the positions are as of the Monday
before, released by the same rule. The API keeps no publication dates and overwrites a corrected report, so this
schedule is an estimate (basis 'estimated'): the ingest pipeline dates a report first seen, or seen changed (a
correction CFTC re-published), by a later fetch at that fetch.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import httpx

from macro_assets.catalog import DatasetSpec, calendars
from macro_assets.errors import MissingCredentials
from macro_assets.http.client import HttpClient
from macro_assets.provenance import Fetched
from macro_assets.sources.base import Parsed, SourceSession, fetched_from_response
from macro_assets.sources.records import (
    RecordReader,
    decode_json,
    decode_text,
    parse_decimal,
    payload_error,
    read_csv,
    refuse_html,
)

SOURCE = "cftc_cot"
RESOURCE_URL = "https://publicreporting.cftc.gov/resource/{dataset}.json"
APP_TOKEN_ENV = "CFTC_APP_TOKEN"
APP_TOKEN_HEADER = "X-App-Token"
APP_TOKEN_PATTERN = "[A-Za-z0-9]{16,64}"
PAGE_SIZE = 1000
REPORT_DATE, MARKET_CODE, MARKET_NAME = (
    "report_date_as_yyyy_mm_dd",
    "cftc_contract_market_code",
    "market_and_exchange_names",
)
API_DATE_FORMAT = "%Y-%m-%dT%H:%M:%S.%f"
FILE_DATE_FORMAT = "%Y-%m-%d"
TUESDAY, MONDAY, FRIDAY = 1, 0, 4
# What a text file writes for a value it does not publish (the API leaves the field out instead).
SUPPRESSED = ("", ".")


@dataclass(frozen=True)
class Field:
    """One value of a report: its API field name and its text files' header cell."""

    api: str
    header: str


@dataclass(frozen=True)
class Category:
    name: str
    long: Field
    short: Field
    spreading: Field | None = None

    @property
    def fields(self) -> tuple[Field, ...]:
        return (self.long, self.short) if self.spreading is None else (self.long, self.short, self.spreading)


@dataclass(frozen=True)
class Report:
    """A report type: its API datasets (futures only, combined), the text files' header style and its categories.

    `columns` are the header cells of the text files' first columns, in file order: the current week's files,
    which have no header, are read with them."""

    name: str
    datasets: Mapping[bool, str]  # futures_only -> Socrata dataset id
    date: Field
    code: Field
    open_interest: Field
    categories: tuple[Category, ...]
    columns: tuple[str, ...]

    @property
    def fields(self) -> tuple[Field, ...]:
        return (self.open_interest, *(f for category in self.categories for f in category.fields))


def _legacy() -> Report:
    def spaced(what: str) -> str:
        return f"{what} (All)"

    categories = (
        Category(
            "noncommercial",
            Field("noncomm_positions_long_all", spaced("Noncommercial Positions-Long")),
            Field("noncomm_positions_short_all", spaced("Noncommercial Positions-Short")),
            Field("noncomm_postions_spread_all", spaced("Noncommercial Positions-Spreading")),
        ),
        Category(
            "commercial",
            Field("comm_positions_long_all", spaced("Commercial Positions-Long")),
            Field("comm_positions_short_all", spaced("Commercial Positions-Short")),
        ),
        Category(
            "nonreportable",
            Field("nonrept_positions_long_all", spaced("Nonreportable Positions-Long")),
            Field("nonrept_positions_short_all", spaced("Nonreportable Positions-Short")),
        ),
    )
    noncommercial, commercial, nonreportable = (c.fields for c in categories)
    return Report(
        name="legacy",
        datasets={True: "6dca-aqww", False: "jun7-fc8e"},
        date=Field(REPORT_DATE, "As of Date in Form YYYY-MM-DD"),
        code=Field(MARKET_CODE, "CFTC Contract Market Code"),
        open_interest=Field("open_interest_all", spaced("Open Interest")),
        categories=categories,
        columns=(
            "Market and Exchange Names",
            "As of Date in Form YYMMDD",
            "As of Date in Form YYYY-MM-DD",
            "CFTC Contract Market Code",
            "CFTC Market Code in Initials",
            "CFTC Region Code",
            "CFTC Commodity Code",
            spaced("Open Interest"),
            *(f.header for f in noncommercial),
            *(f.header for f in commercial),
            spaced("Total Reportable Positions-Long"),
            spaced("Total Reportable Positions-Short"),
            *(f.header for f in nonreportable),
        ),
    )


def _cell(api: str) -> str:
    """The TFF and disaggregated files' header cell of an API field: the same words with the `_All` suffix the API
    drops from some names (`asset_mgr_positions_long` is `Asset_Mgr_Positions_Long_All`), typos included
    (`Swap__Positions_Short_All`); matched case-insensitively, as the files vary (`M_Money_Positions_Long_ALL`)."""
    return api if api.endswith("_all") else f"{api}_all"


def _underscored(
    name: str, datasets: Mapping[bool, str], reportable: tuple[tuple[str, str, str, str | None], ...]
) -> Report:
    """A TFF or disaggregated report from its reportable categories (name, API long, short, spreading or None)."""
    categories = tuple(
        Category(
            label,
            Field(long, _cell(long)),
            Field(short, _cell(short)),
            None if spreading is None else Field(spreading, _cell(spreading)),
        )
        for label, long, short, spreading in (
            *reportable,
            ("nonreportable", "nonrept_positions_long_all", "nonrept_positions_short_all", None),
        )
    )
    *reportables, nonreportable = categories
    return Report(
        name=name,
        datasets=datasets,
        date=Field(REPORT_DATE, "Report_Date_as_YYYY-MM-DD"),
        code=Field(MARKET_CODE, "CFTC_Contract_Market_Code"),
        open_interest=Field("open_interest_all", "Open_Interest_All"),
        categories=categories,
        columns=(
            "Market_and_Exchange_Names",
            "As_of_Date_In_Form_YYMMDD",
            "Report_Date_as_YYYY-MM-DD",
            "CFTC_Contract_Market_Code",
            "CFTC_Market_Code",
            "CFTC_Region_Code",
            "CFTC_Commodity_Code",
            "Open_Interest_All",
            *(f.header for c in reportables for f in c.fields),
            "Tot_Rept_Positions_Long_All",
            "Tot_Rept_Positions_Short_All",
            *(f.header for f in nonreportable.fields),
        ),
    )


REPORTS = {
    report.name: report
    for report in (
        _legacy(),
        _underscored(
            "tff",
            {True: "gpe5-46if", False: "yw9f-hn96"},
            (
                ("dealer", "dealer_positions_long_all", "dealer_positions_short_all", "dealer_positions_spread_all"),
                (
                    "asset_manager",
                    "asset_mgr_positions_long",
                    "asset_mgr_positions_short",
                    "asset_mgr_positions_spread",
                ),
                (
                    "leveraged_funds",
                    "lev_money_positions_long",
                    "lev_money_positions_short",
                    "lev_money_positions_spread",
                ),
                (
                    "other_reportables",
                    "other_rept_positions_long",
                    "other_rept_positions_short",
                    "other_rept_positions_spread",
                ),
            ),
        ),
        _underscored(
            "disaggregated",
            {True: "72hh-3qpy", False: "kh3c-gbw2"},
            (
                ("producer_merchant", "prod_merc_positions_long", "prod_merc_positions_short", None),
                ("swap_dealers", "swap_positions_long_all", "swap__positions_short_all", "swap__positions_spread_all"),
                (
                    "managed_money",
                    "m_money_positions_long_all",
                    "m_money_positions_short_all",
                    "m_money_positions_spread",
                ),
                (
                    "other_reportables",
                    "other_rept_positions_long",
                    "other_rept_positions_short",
                    "other_rept_positions_spread",
                ),
            ),
        ),
    )
}


@dataclass(frozen=True)
class Market:
    """What a dataset's params name: a market's code, its report type and whether options are combined in."""

    code: str
    report: Report
    futures_only: bool

    @property
    def dataset(self) -> str:
        return self.report.datasets[self.futures_only]


def market(spec: DatasetSpec) -> Market:
    params = spec.params
    code, report, futures_only = params.get("contract_market_code"), params.get("report"), params.get("futures_only")
    if not isinstance(code, str) or not re.fullmatch("[0-9A-Z+]{6}", code):
        raise ValueError(f"{spec.id} params {dict(params)}: contract_market_code must be the CFTC's 6-character code")
    if report not in REPORTS:
        raise ValueError(f"{spec.id} params {dict(params)}: report must be one of {sorted(REPORTS)}, got {report!r}")
    if not isinstance(futures_only, bool):
        raise ValueError(f"{spec.id} params {dict(params)}: futures_only must be true or false")
    return Market(code, REPORTS[report], futures_only)


# ------------------------------------------------------------------------------------------ requests
def request_years(start: dt.date, end: dt.date) -> list[int]:
    return list(range(start.year, end.year + 1))


def _timestamp(day: dt.date) -> str:
    return f"'{day.isoformat()}T00:00:00.000'"


def query(place: Market, year: int, offset: int = 0, page_size: int = PAGE_SIZE) -> dict[str, str]:
    """The SoQL query of one page of a market's reports dated in `year`."""
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    return {
        "$select": ",".join((MARKET_NAME, REPORT_DATE, MARKET_CODE, *(f.api for f in place.report.fields))),
        "$where": f"{MARKET_CODE} = '{place.code}' AND {REPORT_DATE} "
        f"between {_timestamp(first)} and {_timestamp(last)}",
        "$order": f"{REPORT_DATE},id",
        "$limit": str(page_size),
        "$offset": str(offset),
    }


def _page_length(response: httpx.Response) -> int | None:
    """How many records a page holds; None when the body is not an array (the parse says why)."""
    try:
        document = json.loads(response.content)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    return len(document) if response.status_code == 200 and isinstance(document, list) else None


def fetch_pages(
    client: HttpClient, url: str, params: Mapping[str, str], headers: Mapping[str, str] | None = None
) -> list[httpx.Response]:
    """Every page of a query: $offset advances by $limit until a page holds fewer than $limit records (or is not
    an array: that page is kept for the parse to refuse)."""
    limit = int(params["$limit"])
    offset = int(params["$offset"])
    pages = []
    while True:
        response = client.get(SOURCE, url, params={**params, "$offset": str(offset)}, headers=headers)
        pages.append(response)
        length = _page_length(response)
        if length is None or length < limit:
            return pages
        offset += limit


def _app_token(session: SourceSession) -> dict[str, str] | None:
    """The X-App-Token header live, when CFTC_APP_TOKEN is set; replays need none."""
    token = os.environ.get(APP_TOKEN_ENV, "").strip()
    if not session.live or not token:
        return None
    if not re.fullmatch(APP_TOKEN_PATTERN, token):
        raise MissingCredentials(
            f"{SOURCE}: {APP_TOKEN_ENV} is set but malformed (expected {APP_TOKEN_PATTERN}); value not shown"
        )
    return {APP_TOKEN_HEADER: token}


# ------------------------------------------------------------------------------------------ release time
def release_time(spec: DatasetSpec, report_date: dt.date) -> dt.datetime:
    """When the report of `report_date` is published: the catalog's lag after the Tuesday of its week (the Friday)
    at its clock, or the next business day of the dataset's calendar after that Friday when a holiday of the
    calendar falls on a weekday of the week (UTC)."""
    monday = report_date - dt.timedelta(days=report_date.weekday())
    friday = monday + dt.timedelta(days=TUESDAY + spec.release.lag_days)
    week = [monday + dt.timedelta(days=i) for i in range(FRIDAY + 1)]
    closed = calendars.holidays(spec.calendar, monday.year, friday.year + 1)
    day = friday
    if any(d in closed for d in week):
        day = friday + dt.timedelta(days=1)
        while not calendars.is_business_day(spec.calendar, day):
            day += dt.timedelta(days=1)
    return spec.release.at_clock(day)


def _report_day_problem(spec: DatasetSpec, day: dt.date) -> str | None:
    """Why a report date cannot be a COT report's: positions are as of Tuesday, or of the Monday before a Tuesday
    that is a holiday."""
    if day.weekday() == TUESDAY:
        return None
    after = day + dt.timedelta(days=1)
    if day.weekday() == MONDAY and not calendars.is_business_day(spec.calendar, after):
        return None
    return f"report date {day} is a {day:%A}: positions are as of a Tuesday (a Monday when the Tuesday is a holiday)"


# ------------------------------------------------------------------------------------------ payloads
def _api_records(fetched: Fetched) -> list:
    document = decode_json(fetched)
    if isinstance(document, dict) and ("error" in document or "message" in document):
        detail = document.get("message", document)
        raise payload_error(fetched, "<body>", f"API error (HTTP {fetched.status}): {detail}")
    if fetched.status != 200:
        raise payload_error(fetched, "<body>", f"unexpected HTTP {fetched.status} with a JSON body")
    if not isinstance(document, list):
        raise payload_error(fetched, "<body>", f"expected a JSON array of records, got {type(document).__name__}")
    return document


def _normal(cell: str) -> str:
    return cell.strip().casefold()


def _file_records(fetched: Fetched, report: Report) -> list:
    """The records of a text file keyed by API field name (the header's names, or the known columns of a file
    without a header); a line too short for those columns stays its text, for the reader to quarantine."""
    text = decode_text(fetched, "a CFTC text file or JSON", ("utf-8-sig", "latin-1"))
    first = next((cells for cells in csv.reader(io.StringIO(text)) if cells), [""])
    names = {_normal(f.header): f.api for f in (report.date, report.code, *report.fields)}
    if _normal(first[0]) == _normal(report.columns[0]):
        table = read_csv(fetched, text)
        header = [names.get(_normal(cell)) for cell in table.header]
        missing = [f.header for f in (report.date, report.code, report.open_interest) if f.api not in header]
        if missing:
            raise payload_error(fetched, missing[0], f"missing from the header (the header is {list(table.header)})")
        return [
            {api: record[cell] for cell, api in zip(table.header, header, strict=True) if api}
            if isinstance(record, dict)
            else record
            for record in table.records
        ]
    columns = [names.get(_normal(cell)) for cell in report.columns]
    records: list = []
    for cells in csv.reader(io.StringIO(text, newline="")):
        if not cells:
            continue
        if len(cells) < len(columns):
            records.append(",".join(cells))
        else:
            records.append({api: cell.strip() for api, cell in zip(columns, cells) if api})
    return records


def _records(fetched: Fetched, report: Report) -> tuple[list, str]:
    """(records keyed by API field name, report date format) of either format."""
    if fetched.body.lstrip()[:1] in (b"[", b"{"):
        return _api_records(fetched), API_DATE_FORMAT
    refuse_html(fetched, "a CFTC text file or JSON")
    if fetched.status != 200:
        raise payload_error(fetched, "<body>", f"unexpected HTTP {fetched.status} with a text body")
    return _file_records(fetched, report), FILE_DATE_FORMAT


def _lines(reader: RecordReader) -> Iterator[tuple[int, dict]]:
    """Every record that is a mapping; the text lines too short for the report's columns are quarantined."""
    for index, record in enumerate(reader.records):
        if isinstance(record, dict):
            yield index, record
        else:
            reader.reject(index, "<line>", record, "the line has fewer cells than the report's columns")


class CftcCot:
    source = SOURCE

    def fetch(self, session: SourceSession, spec: DatasetSpec, start: dt.date, end: dt.date) -> list[Fetched]:
        place = market(spec)
        headers = _app_token(session)
        url = RESOURCE_URL.format(dataset=place.dataset)
        fetched = []
        for year in request_years(start, end):
            first, last = max(start, dt.date(year, 1, 1)), min(end, dt.date(year, 12, 31))
            for response in fetch_pages(session.client, url, query(place, year), headers):
                fetched.append(fetched_from_response(spec, response, first, last))
        return fetched

    def parse(self, spec: DatasetSpec, fetched: Fetched) -> Parsed:
        place = market(spec)
        records, date_format = _records(fetched, place.report)
        reader = RecordReader(spec, fetched, records, ())
        seen: set[dt.date] = set()
        for index, record in _lines(reader):
            if str(record.get(MARKET_CODE, "")).strip() != place.code:  # another market of a text file
                continue
            if (day := _report_date(spec, reader, index, record, date_format)) is None:
                continue
            if day in seen:  # the same report twice (a page repeated) would be two rows of one key
                reader.reject(index, REPORT_DATE, record, f"a second report of {day}")
                continue
            values = _values(reader, index, record, place.report)
            if values is None:
                continue
            seen.add(day)
            released = release_time(spec, day)
            for category in place.report.categories:
                row = {
                    "long": values[category.long.api],
                    "short": values[category.short.api],
                    "spreading": None if category.spreading is None else values[category.spreading.api],
                }
                if all(value is None for value in row.values()):  # a category wholly suppressed: no row
                    continue
                reader.add(
                    report_date=day,
                    category=category.name,
                    **row,
                    open_interest=values[place.report.open_interest.api],
                    release_time=released,
                    release_basis="estimated",
                )
        return reader.parsed()


def _report_date(spec: DatasetSpec, reader: RecordReader, index: int, record: dict, date_format: str) -> dt.date | None:
    if REPORT_DATE not in record:
        reader.reject(index, REPORT_DATE, record, f"the record has no {REPORT_DATE}")
        return None
    if (day := reader.date(index, record, REPORT_DATE, date_format)) is None:
        return None
    if problem := _report_day_problem(spec, day):
        reader.reject(index, REPORT_DATE, record, problem)
        return None
    return day


def _values(reader: RecordReader, index: int, record: dict, report: Report) -> dict[str, float | None] | None:
    """Every value of the report as a number, a suppressed one (absent, null, blank or the files' ".") as None;
    None when one is not a number, the record then quarantined naming every such field."""
    values: dict[str, float | None] = {}
    bad = []
    for field in report.fields:
        raw = record.get(field.api)
        if raw is None or (isinstance(raw, str) and raw.strip() in SUPPRESSED):
            values[field.api] = None
            reader.missing += 1
            continue
        number = parse_decimal(raw)
        if isinstance(number, str):
            bad.append(f"{field.api}: {number}")
        values[field.api] = number
    if bad:
        reader.reject(index, "/".join(b.partition(":")[0] for b in bad), record, "; ".join(bad))
        return None
    return values


connector = CftcCot()
