"""US Treasury daily par yield curve (nominal) and daily real yield curve, from home.treasury.gov.

Two formats serve the same records; `parse` accepts both, telling them apart by the payload:

- CSV, one calendar year per request (what `fetch` asks for):
  `.../daily-treasury-rates.csv/<year>/all?type=<data>&field_tdr_date_value=<year>&page&_format=csv`.
  Header `Date,"1 Mo","2 Mo",...,"30 Yr"` (the real yield curve: `Date,"5 YR",...,"30 YR"`), rows newest first,
  dates MM/DD/YYYY, percent with two decimals, a blank cell where a tenor has no value.
- The Atom feed `pages/xml?data=<data>&field_tdr_date_value=<year>`: one `<m:properties>` per entry with
  `<d:NEW_DATE>` and one element per tenor (`BC_1MONTH`, `BC_1_5MONTH`... `BC_30YEAR`; real: `TC_5YEAR`...);
  a tenor without a value is `m:null="true"` or absent; entries are not guaranteed in date order.

The tenor set changes over time (2 Mo from 2018-10-16, 4 Mo from 2022-10, 1.5 Month from 2025; no 30 Yr from
2002-02 to 2006-02), so tenors are read by column or element name, never by position; unknown columns are
ignored. A date whose every tenor is blank has no curve (counted missing); an all-zero curve (the retired feed's
placeholder for Good Friday 2017-04-14) is not a curve and its record is quarantined.

Release time: the Treasury keeps no vintages. Each curve gets its curve date at the catalog's release clock (18:00
New York, basis 'estimated'); the ingest pipeline dates a curve first seen, or seen changed, by a later fetch at
that fetch.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from macro_assets.catalog import DatasetSpec
from macro_assets.errors import CatalogError
from macro_assets.provenance import Fetched
from macro_assets.sources.base import Parsed, SourceSession, fetched_from_response
from macro_assets.sources.records import RecordReader, decode_text, payload_error, read_csv, refuse_html

SOURCE = "us_treasury"
RATES_PAGE = "https://home.treasury.gov/resource-center/data-chart-center/interest-rates"
CSV_URL = RATES_PAGE + "/daily-treasury-rates.csv/{year}/all"
XML_URL = RATES_PAGE + "/pages/xml"
CSV_DATE, CSV_DATE_FORMAT = "Date", "%m/%d/%Y"
XML_DATE, XML_DATE_FORMAT = "NEW_DATE", "%Y-%m-%dT%H:%M:%S"
ATOM = "http://www.w3.org/2005/Atom"
DATA_SERVICES = "http://schemas.microsoft.com/ado/2007/08/dataservices"
METADATA = DATA_SERVICES + "/metadata"

# "1 Mo", "1.5 Month", "10 Yr", "5 YR": the unit word varies between files and over time.
_CSV_TENOR = re.compile(r"^(\d+(?:\.\d+)?)\s*(mo|mos|month|months|yr|yrs|year|years)$", re.IGNORECASE)
# BC_1MONTH, BC_1_5MONTH, TC_10YEAR; BC_30YEARDISPLAY (the 30-year rate again, for display) does not match.
_XML_TENOR = re.compile(r"^([A-Z]+)_(\d+)(?:_(\d+))?(MONTH|YEAR)$")
_XML_HEAD = re.compile(rb"^(<\?xml|<feed[\s>]|<entry[\s>])")
_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class CurveType:
    """What one `data` value of the Treasury serves: the prefix of its feed elements and its tenors."""

    data: str
    xml_prefix: str
    tenors: tuple[str, ...]


CURVES = {
    curve.data: curve
    for curve in (
        CurveType(
            "daily_treasury_yield_curve",
            "BC",
            ("1M", "1.5M", "2M", "3M", "4M", "6M", "1Y", "2Y", "3Y", "5Y", "7Y", "10Y", "20Y", "30Y"),
        ),
        CurveType("daily_treasury_real_yield_curve", "TC", ("5Y", "7Y", "10Y", "20Y", "30Y")),
    )
}


def curve_type(dataset: DatasetSpec) -> CurveType:
    data = dataset.params.get("data")
    if data not in CURVES:
        raise CatalogError(
            f"catalog dataset {dataset.id}: field 'params.data' is {data!r}, expected one of {sorted(CURVES)}"
        )
    return CURVES[data]


def request_years(start: dt.date, end: dt.date) -> list[int]:
    """The calendar years a window overlaps: the Treasury serves one year per request."""
    return list(range(start.year, end.year + 1))


def csv_params(data: str, year: int) -> dict[str, str]:
    # `page` is sent empty, as the site's own download link has it.
    return {"type": data, "field_tdr_date_value": str(year), "page": "", "_format": "csv"}


def tenor_years(label: str) -> float:
    number, unit = float(label[:-1]), label[-1]
    return number / 12 if unit == "M" else number


def maturity(curve_date: dt.date, label: str) -> dt.date:
    """The curve date plus the tenor in calendar months or years (the month's last day when the day does not
    exist in it); the half month of 1.5M is 15 days."""
    number, unit = float(label[:-1]), label[-1]
    year, month = divmod(curve_date.year * 12 + curve_date.month - 1 + int(number) * (1 if unit == "M" else 12), 12)
    day = min(curve_date.day, calendar.monthrange(year, month + 1)[1])
    return dt.date(year, month + 1, day) + dt.timedelta(days=15 if number % 1 else 0)


@dataclass(frozen=True)
class _Payload:
    """The records of one payload in either format, and the names its date and tenors go by."""

    records: list
    rows: Callable[[RecordReader], Iterator[tuple[int, dict]]]
    date_field: str
    date_format: str
    tenor_fields: dict[str, str]  # field name -> tenor label


class UsTreasury:
    source = SOURCE

    def fetch(self, session: SourceSession, dataset: DatasetSpec, start: dt.date, end: dt.date) -> list[Fetched]:
        """One CSV per calendar year: the CSV is what the site's download link serves, a tenth of the feed's
        size, and its header names the tenors of the year (the feed repeats every name in every entry)."""
        data = curve_type(dataset).data
        fetched = []
        for year in request_years(start, end):
            response = session.client.get(SOURCE, CSV_URL.format(year=year), params=csv_params(data, year))
            fetched.append(
                fetched_from_response(
                    dataset, response, max(start, dt.date(year, 1, 1)), min(end, dt.date(year, 12, 31))
                )
            )
        return fetched

    def parse(self, dataset: DatasetSpec, fetched: Fetched) -> Parsed:
        curves = curve_type(dataset)
        is_feed = bool(_XML_HEAD.match(fetched.body.removeprefix(_BOM).lstrip()[:64]))
        if not is_feed:
            refuse_html(fetched, "CSV or an Atom feed")
        if fetched.status != 200:
            raise payload_error(fetched, "<body>", f"unexpected HTTP {fetched.status} with a yield curve payload")
        return _read_curves(dataset, fetched, _feed(fetched, curves) if is_feed else _csv(fetched, curves))


def _csv(fetched: Fetched, curves: CurveType) -> _Payload:
    table = read_csv(fetched, decode_text(fetched, "CSV"), (CSV_DATE,))
    tenor_fields = {}
    for name in table.header:
        if (match := _CSV_TENOR.match(name)) and (label := f"{match[1]}{match[2][0].upper()}") in curves.tenors:
            tenor_fields[name] = label
    _require_tenors(fetched, tenor_fields, table.header, curves)
    return _Payload(table.records, table.well_formed, CSV_DATE, CSV_DATE_FORMAT, tenor_fields)


def _feed(fetched: Fetched, curves: CurveType) -> _Payload:
    try:
        root = ET.fromstring(fetched.body)
    except ET.ParseError as exc:
        raise payload_error(
            fetched, "<body>", f"not well-formed XML, the body may be truncated ({len(fetched.body)} bytes, {exc})"
        ) from None
    entries = list(root.iter(f"{{{METADATA}}}properties"))
    if not entries and root.tag not in (f"{{{ATOM}}}feed", f"{{{ATOM}}}entry"):
        raise payload_error(fetched, "<body>", f"expected an Atom feed of m:properties entries, got <{root.tag}>")
    records = []
    for entry in entries:
        record = {}
        for element in entry:
            # m:null="true" and an empty element both mean the tenor has no value that day.
            null = element.get(f"{{{METADATA}}}null") == "true" or not (element.text or "").strip()
            record[element.tag.rpartition("}")[2]] = None if null else element.text.strip()
        records.append(record)
    names = sorted({name for record in records for name in record})
    if records and XML_DATE not in names:
        raise payload_error(fetched, XML_DATE, f"missing from every entry (entries have {names})")
    tenor_fields = {}
    for name in names:
        match = _XML_TENOR.match(name)
        if match and match[1] == curves.xml_prefix:
            number = f"{match[2]}.{match[3]}" if match[3] else match[2]
            if (label := f"{number}{match[4][0]}") in curves.tenors:
                tenor_fields[name] = label
    if records:
        _require_tenors(fetched, tenor_fields, names, curves)
    return _Payload(records, lambda reader: enumerate(records), XML_DATE, XML_DATE_FORMAT, tenor_fields)


def _require_tenors(fetched: Fetched, tenor_fields: dict[str, str], names, curves: CurveType) -> None:
    """Extra columns are ignored, but a payload naming none of the curve's tenors is another dataset or format."""
    if not tenor_fields:
        raise payload_error(fetched, "<tenors>", f"none of the tenors {list(curves.tenors)} is named in {list(names)}")
    repeated = sorted({label for label in tenor_fields.values() if list(tenor_fields.values()).count(label) > 1})
    if repeated:
        raise payload_error(fetched, "<tenors>", f"tenor {repeated[0]} is named by more than one of {list(names)}")


def _read_curves(dataset: DatasetSpec, fetched: Fetched, payload: _Payload) -> Parsed:
    reader = RecordReader(dataset, fetched, payload.records, ())
    date_field = payload.date_field
    seen: dict[dt.date, int] = {}
    for index, record in payload.rows(reader):
        if record.get(date_field) is None:
            reader.reject(index, date_field, record, f"the record has no {date_field}")
            continue
        if (day := reader.date(index, record, date_field, payload.date_format)) is None:
            continue
        if day in seen:
            reader.reject(index, date_field, record, f"curve date {day} already read from record {seen[day]}")
            continue
        seen[day] = index
        rates, unreadable = {}, False
        for field, label in payload.tenor_fields.items():
            if record.get(field) in (None, ""):
                continue
            if (value := reader.decimal(index, record, field)) is None:
                unreadable = True  # quarantined with its field; the date keeps its other tenors
            else:
                rates[label] = value
        if not rates:
            if not unreadable:
                reader.missing += 1  # the source lists the date with every tenor blank: no curve that day
            continue
        if all(value == 0 for value in rates.values()):
            reader.reject(index, "<tenors>", record, f"every tenor of {day} is 0: a placeholder, not a curve")
            continue
        release_time = dataset.estimated_release(day)
        for label, value in rates.items():
            reader.add(
                curve_date=day,
                point=label,
                maturity_date=maturity(day, label),
                tenor_years=tenor_years(label),
                rate=value,
                release_time=release_time,
                release_basis="estimated",
            )
    return reader.parsed()


connector = UsTreasury()
