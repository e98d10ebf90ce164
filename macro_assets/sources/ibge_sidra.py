"""IBGE SIDRA, the legacy values API: https://apisidra.ibge.gov.br/values/t/{table}/n1/all/v/{variables}/p/{periods}
followed by /c{classification}/{categories} for a classified table.

Format: a JSON array whose first element is the header row, mapping every column key to its label
(`"D3C": "Mês (Código)"`), then one record per cell of the table: `NC/NN` the territorial level, `MC/MN` the unit,
`V` the value and `D1C/D1N ... DnC/DnN` the code and name of each dimension. The dimensions come in the order of the
URL, so the parse finds them by their header labels, never by position: the variable is labelled "Variável", the
period "Mês", "Trimestre Móvel" (PNAD Contínua: a moving quarter named by its last month) or "Trimestre", the
territory by the level's own name (the record's `NN`), and a classification by its name. Every value is a string
with a dot decimal; `V` may hold a marker instead of a number: "-" is a true zero, ".." not applicable, "..." not
available and "X" suppressed (the last three are missing values, counted and never stored as numbers). Period
codes are `YYYYMM` for months and `YYYY0Q` for quarters. An error (a query over the 100,000 values one request may
hold, a table or period that does not exist) is a plain-text message with HTTP 400 or 500.

A dataset's `params` name the query: `tables` (each `{table, from, until}`, months `YYYY-MM`, so a series IBGE
splits by basket spans its tables: IPCA components are table 1419 until 2019-12 and 7060 from 2020-01),
`variables` (the shape's value column -> variable code: `{value: 63, weight: 66}`) and an optional `classification`
(`{id, categories}`, a list of category codes or "all" with `at_most`, the most categories the table has).

Requests: the values a request asks for are the product of its periods, variables and categories; periods go in
blocks of whole calendar years or of equal parts of a year, the largest that stays under the limit (IPCA's ~460
categories x 2 variables fit a year, 11,040 values). A block is always requested whole, whatever part of it the
window needs, so every partition of a year asks the same request and one payload is one snapshot of the year.

Release time: SIDRA overwrites revisions and keeps no vintages, so a row gets period end + the catalog's lag at its
release clock (basis 'estimated'), IBGE's release calendar rule; the ingest pipeline dates a value first seen, or
seen changed, by a later fetch at that fetch.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass

from macro_assets.catalog import DatasetSpec
from macro_assets.catalog.calendars import add_months
from macro_assets.errors import CatalogError
from macro_assets.provenance import Fetched
from macro_assets.sources.base import Parsed, SourceSession, fetched_from_response
from macro_assets.sources.records import RecordReader, decode_json, decode_text, payload_error, refuse_html

SOURCE = "ibge_sidra"
BASE_URL = "https://apisidra.ibge.gov.br/values"
TERRITORY = "n1/all"  # Brazil
VALUES_LIMIT = 100_000
ZERO = "-"
MISSING = {"..": "not applicable", "...": "not available", "X": "suppressed"}
CODE_SUFFIX = " (Código)"
VARIABLE_LABEL = "Variável"
PERIOD_LABELS = {"monthly": ("Mês", "Trimestre Móvel"), "quarterly": ("Trimestre",)}
MONTHS_PER_PERIOD = {"monthly": 1, "quarterly": 3}
# A component's name carries IBGE's structural code, whose digits say its level ("1101002.Arroz" is a subitem);
# the general index is the one category without a code.
GENERAL_INDEX = "Índice geral"
LEVELS = {1: "group", 2: "subgroup", 4: "item", 7: "subitem"}
_STRUCTURAL_NAME = re.compile(r"^(\d+)\.\S")
_DIMENSION_KEY = re.compile(r"^D(\d+)C$")
_MONTH = re.compile(r"^(\d{4})(0[1-9]|1[0-2])$")
_QUARTER = re.compile(r"^(\d{4})0([1-4])$")
_YEAR_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class TableSpan:
    """A table and the months it covers (None: open-ended)."""

    table: str
    first: dt.date | None
    last: dt.date | None

    def clip(self, first: dt.date, last: dt.date) -> tuple[dt.date, dt.date] | None:
        """The part of the months [first, last] (first days) this table covers."""
        start = max(first, self.first) if self.first else first
        stop = min(last, self.last) if self.last else last
        return (start, stop) if start <= stop else None


@dataclass(frozen=True)
class Query:
    """What a dataset asks SIDRA for, read from its catalog params."""

    tables: tuple[TableSpan, ...]
    variables: dict[str, str]  # shape value column -> variable code
    classification: str | None
    categories: tuple[str, ...] | None  # None: all of them
    at_most: int  # categories one request can hold

    @property
    def values_per_period(self) -> int:
        return len(self.variables) * self.at_most


@dataclass(frozen=True)
class Request:
    table: str
    first: dt.date  # first day of the first period
    last: dt.date  # first day of the last period


def _params_error(spec: DatasetSpec, field: str, problem: str) -> CatalogError:
    return CatalogError(f"catalog dataset {spec.id}: params field {field!r} {problem}")


def _month(spec: DatasetSpec, field: str, text: object) -> dt.date | None:
    if text is None:
        return None
    if not isinstance(text, str) or not _YEAR_MONTH.match(text):
        raise _params_error(spec, field, f"is {text!r}, expected 'YYYY-MM'")
    return dt.date(int(text[:4]), int(text[5:]), 1)


def _code(spec: DatasetSpec, field: str, value: object) -> str:
    if isinstance(value, bool) or not re.fullmatch(r"\d+", str(value)):
        raise _params_error(spec, field, f"is {value!r}, expected a SIDRA code (digits)")
    return str(value)


def query(spec: DatasetSpec) -> Query:
    """The dataset's query, or a CatalogError naming the params field that is wrong."""
    params: Mapping[str, object] = spec.params
    tables = params.get("tables")
    if not isinstance(tables, list) or not tables or not all(isinstance(t, dict) for t in tables):
        raise _params_error(spec, "tables", "must be a list of {table, from, until}")
    spans = tuple(
        TableSpan(
            _code(spec, "tables.table", t.get("table")),
            _month(spec, "tables.from", t.get("from")),
            _month(spec, "tables.until", t.get("until")),
        )
        for t in tables
    )
    variables = params.get("variables")
    value_columns = spec.shape.value_columns
    if not isinstance(variables, dict) or not variables or not set(variables) <= set(value_columns):
        raise _params_error(spec, "variables", f"must map some of the columns {value_columns} to variable codes")
    classification = params.get("classification")
    if classification is None:
        return Query(spans, {c: _code(spec, "variables", v) for c, v in variables.items()}, None, None, 1)
    if not isinstance(classification, dict):
        raise _params_error(spec, "classification", "must be {id, categories[, at_most]}")
    categories = classification.get("categories")
    if categories == "all":
        at_most = classification.get("at_most")
        if isinstance(at_most, bool) or not isinstance(at_most, int) or at_most < 1:
            raise _params_error(spec, "classification.at_most", "must say how many categories 'all' can be")
        chosen = None
    elif isinstance(categories, list) and categories:
        chosen = tuple(_code(spec, "classification.categories", c) for c in categories)
        at_most = len(chosen)
    else:
        raise _params_error(spec, "classification.categories", "must be 'all' or a list of category codes")
    if spec.kind == "observations" and (chosen is None or len(chosen) != 1):
        raise _params_error(spec, "classification.categories", "must be one category for a series")
    return Query(
        spans,
        {c: _code(spec, "variables", v) for c, v in variables.items()},
        _code(spec, "classification.id", classification.get("id")),
        chosen,
        at_most,
    )


def periods_per_request(spec: DatasetSpec, wanted: Query) -> int:
    """The most periods a request holds: a year's, or the largest equal part of a year under the values limit."""
    per_year = 12 // MONTHS_PER_PERIOD[spec.frequency]
    for periods in sorted((d for d in range(1, per_year + 1) if per_year % d == 0), reverse=True):
        if periods * wanted.values_per_period <= VALUES_LIMIT:
            return periods
    raise _params_error(
        spec,
        "variables",
        f"one period alone asks {wanted.values_per_period} values, over SIDRA's limit of {VALUES_LIMIT}",
    )


def requests(spec: DatasetSpec, start: dt.date, end: dt.date) -> list[Request]:
    """The requests covering [start, end]: whole blocks of a year's periods, each in the table covering it."""
    wanted = query(spec)
    months = MONTHS_PER_PERIOD[spec.frequency]
    block = periods_per_request(spec, wanted) * months
    out = []
    for year in range(start.year, end.year + 1):
        for offset in range(0, 12, block):
            first = dt.date(year, 1 + offset, 1)
            last = add_months(first, block - months)
            if add_months(last, months) <= start or first > end:
                continue
            out.extend(Request(s.table, *clipped) for s in wanted.tables if (clipped := s.clip(first, last)))
    return out


def period_code(frequency: str, day: dt.date) -> str:
    if frequency == "quarterly":
        return f"{day.year}{(day.month - 1) // 3 + 1:02d}"
    return f"{day.year}{day.month:02d}"


def request_url(spec: DatasetSpec, request: Request) -> str:
    wanted = query(spec)
    first, last = period_code(spec.frequency, request.first), period_code(spec.frequency, request.last)
    periods = first if first == last else f"{first}-{last}"
    url = f"{BASE_URL}/t/{request.table}/{TERRITORY}/v/{','.join(wanted.variables.values())}/p/{periods}"
    if wanted.classification is not None:
        url += f"/c{wanted.classification}/{','.join(wanted.categories) if wanted.categories else 'all'}"
    return url


def period_date(frequency: str, code: object) -> dt.date | None:
    """The first day of the period a code names (`YYYYMM`, or `YYYY0Q` for quarters); None if it names none."""
    pattern = _QUARTER if frequency == "quarterly" else _MONTH
    match = pattern.match(code) if isinstance(code, str) else None
    if match is None:
        return None
    year, part = int(match.group(1)), int(match.group(2))
    return dt.date(year, part * 3 - 2 if frequency == "quarterly" else part, 1)


def component_level(name: object) -> str | None:
    """general, group, subgroup, item or subitem, from the structural code a component's name starts with."""
    if name == GENERAL_INDEX:
        return "general"
    match = _STRUCTURAL_NAME.match(name) if isinstance(name, str) else None
    return LEVELS.get(len(match.group(1))) if match else None


@dataclass(frozen=True)
class Columns:
    """The header row's dimensions: the record keys of the variable's, the period's and the classification's
    code (the name is the same key ending in N)."""

    variable: str
    period: str
    classification: str | None


def _document(fetched: Fetched) -> list:
    """The JSON array of a 200 answer; SIDRA's plain-text errors and any other body refuse the payload."""
    refuse_html(fetched, "a JSON array")
    if fetched.status != 200 or fetched.body.lstrip()[:1] != b"[":
        message = " ".join(decode_text(fetched, "a JSON array", ("utf-8", "latin-1")).split())[:300]
        hint = " (split the request: see periods_per_request)" if "limite" in message.lower() else ""
        raise payload_error(fetched, "<body>", f"API error (HTTP {fetched.status}): {message!r}{hint}")
    document = decode_json(fetched)
    if not document:
        raise payload_error(fetched, "<header>", "an empty array: not even the header row")
    return document


def _labels(fetched: Fetched, header: object) -> dict[str, str]:
    """Dimension label -> its code key, from the header row (the first element)."""
    labels = {}
    if isinstance(header, dict):
        labels = {
            label.removesuffix(CODE_SUFFIX): key
            for key, label in header.items()
            if _DIMENSION_KEY.match(key) and isinstance(label, str) and label.endswith(CODE_SUFFIX)
        }
    if not labels or "V" not in header:
        raise payload_error(
            fetched, "<header>", f"the first element is not the header row (got {str(header)[:200]!r}; was /h/n sent?)"
        )
    return labels


def _columns(spec: DatasetSpec, fetched: Fetched, labels: dict[str, str], records: list, wanted: Query) -> Columns:
    """Finds each dimension by its label: the variable's and the period's, the territory's by the level's name
    (the records' NN), the classification's as the one left."""
    if VARIABLE_LABEL not in labels:
        raise payload_error(fetched, "<header>", f"no {VARIABLE_LABEL!r} dimension among {sorted(labels)}")
    periods = [label for label in PERIOD_LABELS[spec.frequency] if label in labels]
    if not periods:
        raise payload_error(
            fetched,
            "<header>",
            f"no {spec.frequency} period dimension ({' or '.join(PERIOD_LABELS[spec.frequency])})"
            f" among {sorted(labels)}",
        )
    levels = {r.get("NN") for r in records if isinstance(r, dict)}
    others = [label for label in labels if label not in (VARIABLE_LABEL, periods[0]) and label not in levels]
    expected = 0 if wanted.classification is None else 1
    if len(others) != expected:
        raise payload_error(
            fetched,
            "<header>",
            f"{len(others)} classification dimensions {others}, expected {expected}"
            f" (territorial levels: {sorted(levels)})",
        )
    return Columns(labels[VARIABLE_LABEL][:-1], labels[periods[0]][:-1], labels[others[0]][:-1] if others else None)


class IbgeSidra:
    source = SOURCE

    def fetch(self, session: SourceSession, spec: DatasetSpec, start: dt.date, end: dt.date) -> list[Fetched]:
        fetched = []
        for request in requests(spec, start, end):
            response = session.client.get(SOURCE, request_url(spec, request))
            period_end = spec.period_end(request.last)
            fetched.append(fetched_from_response(spec, response, request.first, period_end))
        return fetched

    def parse(self, spec: DatasetSpec, fetched: Fetched) -> Parsed:
        wanted = query(spec)
        document = _document(fetched)
        labels, records = _labels(fetched, document[0]), document[1:]
        if not records:
            return Parsed.empty(spec.shape)
        columns = _columns(spec, fetched, labels, records, wanted)
        keys = [f"{columns.variable}C", f"{columns.period}C"]
        if columns.classification:
            keys += [f"{columns.classification}C", f"{columns.classification}N"]
        reader = RecordReader(spec, fetched, records, ("V", *keys))
        value_column = {code: column for column, code in wanted.variables.items()}
        cells: dict[tuple[dt.date, str], dict[str, object]] = {}
        for index, record in reader:
            variable = record[keys[0]]
            if variable not in value_column:
                reason = f"variable {variable!r} was not asked for (the query asks {sorted(value_column)})"
                reader.reject(index, keys[0], record, reason)
                continue
            day = period_date(spec.frequency, record[keys[1]])
            if day is None:
                reader.reject(index, keys[1], record, f"period code {record[keys[1]]!r} is not a {spec.frequency} one")
                continue
            category = record[keys[2]] if columns.classification else ""
            if wanted.categories is not None and category not in wanted.categories:
                reason = f"category {category!r} was not asked for (the query asks {list(wanted.categories)})"
                reader.reject(index, keys[2], record, reason)
                continue
            if spec.kind == "index_components" and component_level(record[keys[3]]) is None:
                reason = f"component name {record[keys[3]]!r} has no IBGE structural code (1, 2, 4 or 7 digits)"
                reader.reject(index, keys[3], record, reason)
                continue
            column = value_column[variable]
            cell = cells.setdefault((day, category), {"name": record.get(keys[3]) if columns.classification else None})
            if column in cell:
                reader.reject(index, "V", record, f"a second {column} for {day} {category}".rstrip())
                continue
            if record["V"] == ZERO:
                cell[column] = 0.0
            elif record["V"] in MISSING:
                reader.missing += 1
                cell[column] = None
            elif (number := reader.decimal(index, record, "V")) is not None:
                cell[column] = number
        for (day, category), cell in cells.items():
            values = {column: cell.get(column) for column in wanted.variables}
            if all(value is None for value in values.values()):
                continue
            released = {"release_time": spec.estimated_release(day), "release_basis": "estimated"}
            if spec.kind == "index_components":
                level = component_level(cell["name"])
                reader.add(obs_date=day, component=category, name=cell["name"], level=level, **values, **released)
            else:
                reader.add(obs_date=day, **values, **released)
        return reader.parsed()


connector = IbgeSidra()
