"""BCB Focus market expectations, from the Olinda OData service Expectativas/versao/v1 (see olinda.py for what it
shares).

Format: one entity set per kind of reference, each record the statistics of one survey date (`Data`, an ISO date
string), one reference period and one `baseCalculo` (0: the forecasts updated in the last 30 days, 1: in the last 5
business days; both come for every survey and both are kept):

- `ExpectativasMercadoAnuais`: `Indicador, IndicadorDetalhe, Data, DataReferencia ("2026"), Media, Mediana,
  DesvioPadrao, Minimo, Maximo, numeroRespondentes, baseCalculo`;
- `ExpectativaMercadoMensais` (singular "Expectativa": the real name): the same, `DataReferencia` "08/2026";
- `ExpectativasMercadoInflacao12Meses`: `Indicador, Data, Suavizada ("S"/"N"), Media, ...`, the inflation of the 12
  months after the survey, so no reference field: its rows have the reference "12m";
- `ExpectativasMercadoSelic`: `Indicador, Data, Reuniao ("R2/2024": the 2nd Copom meeting of 2024), Media, ...`.

Field names keep the API's case (capitalised but `numeroRespondentes` and `baseCalculo`); statistics are JSON
numbers; `IndicadorDetalhe` is null for most indicators ("Balança comercial" has "Saldo", "Exportações"...).
Indicator names are Portuguese with their accents ("Câmbio", "Dívida líquida do setor público").

A dataset is one (entity set, indicator, detail, smoothing) of the catalog's `params`: `entity_set`, `indicator`
(Indicador), optional `detail` (IndicadorDetalhe, Anuais and Mensais only) and `smoothed` ("S"/"N": Suavizada, the
12-month set only, where it is required).

Requests: one per calendar year the window touches, for the whole year: `$filter` on the indicator (detail,
smoothing) and on `Data` from 1 January to 31 December (`Data` is a string: ISO dates compare as text), `$select`
of the entity set's fields, `$orderby` Data, reference, baseCalculo (a stable order for paging) and $top/$skip
pages of PAGE_SIZE records until a shorter page. Every partition of a year sends the same request; the pipeline
keeps the survey dates of its window.

Release time: the statistics of survey date D are made public with the weekly Focus report, published on the
Monday after D's week (Monday to Sunday) at the catalog's release clock, 08:25 America/Sao_Paulo (Brazil's summer
time until 2019 included); when that Monday is not a business day of the dataset's calendar (BR: Carnival Monday,
a holiday Monday), on the next business day. Basis 'vintage'. This is the conservative rule: the API may serve a
week's daily rows earlier, but dated at the report a row is never dated before the public could know it. Every
survey date (weekly and daily) is its own key, so a surprise is computed against the survey known before a
release.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass

from macro_assets.catalog import DatasetSpec, calendars
from macro_assets.provenance import Fetched
from macro_assets.sources import olinda
from macro_assets.sources.base import Parsed, SourceSession
from macro_assets.sources.records import RecordReader

SOURCE = "bcb_focus"
SERVICE = "Expectativas"
# ~200 bytes a record: a page near 200 KB (a year of daily surveys of an annual indicator, 4 years ahead on both
# bases, is ~2000 records).
PAGE_SIZE = 1000
INDICATOR, DETAIL, SURVEY_DATE, SMOOTHED = "Indicador", "IndicadorDetalhe", "Data", "Suavizada"
RESPONDENTS, BASIS = "numeroRespondentes", "baseCalculo"
# Shape column -> the API's field, in the API's field order.
STATISTICS = {"mean": "Media", "median": "Mediana", "std_dev": "DesvioPadrao", "minimum": "Minimo", "maximum": "Maximo"}
BASES = (0, 1)
TWELVE_MONTHS = "12m"
SMOOTHING = ("S", "N")


@dataclass(frozen=True)
class EntitySet:
    """One Focus entity set: where its reference period is read from and which filters its records take."""

    name: str
    reference_field: str | None  # None: every record has the same reference, `fixed_reference`
    reference_format: re.Pattern | None
    detailed: bool = False  # has IndicadorDetalhe
    smoothed: bool = False  # has Suavizada
    fixed_reference: str | None = None

    @property
    def fields(self) -> tuple[str, ...]:
        """The fields asked with $select, in the API's order."""
        return (
            INDICATOR,
            *((DETAIL,) if self.detailed else ()),
            SURVEY_DATE,
            *((self.reference_field,) if self.reference_field else ()),
            *((SMOOTHED,) if self.smoothed else ()),
            *STATISTICS.values(),
            RESPONDENTS,
            BASIS,
        )


ENTITY_SETS = {
    entity.name: entity
    for entity in (
        EntitySet("ExpectativasMercadoAnuais", "DataReferencia", re.compile(r"^\d{4}$"), detailed=True),
        EntitySet("ExpectativaMercadoMensais", "DataReferencia", re.compile(r"^(0[1-9]|1[0-2])/\d{4}$"), detailed=True),
        EntitySet("ExpectativasMercadoInflacao12Meses", None, None, smoothed=True, fixed_reference=TWELVE_MONTHS),
        EntitySet("ExpectativasMercadoSelic", "Reuniao", re.compile(r"^R[1-8]/\d{4}$")),
    )
}


@dataclass(frozen=True)
class Selection:
    """What a dataset's `params` select: the entity set and the values its records must carry."""

    entity: EntitySet
    indicator: str
    detail: str | None
    smoothed: str | None

    @classmethod
    def of(cls, params: Mapping[str, object]) -> Selection:
        def refuse(problem: str) -> ValueError:
            return ValueError(f"bcb_focus params {dict(params)}: {problem}")

        entity = ENTITY_SETS.get(params.get("entity_set"))
        if entity is None:
            raise refuse(f"entity_set must be one of {sorted(ENTITY_SETS)}, got {params.get('entity_set')!r}")
        indicator, detail, smoothed = params.get("indicator"), params.get("detail"), params.get("smoothed")
        if not isinstance(indicator, str) or not indicator.strip():
            raise refuse(f"indicator must be the API's Indicador, got {indicator!r}")
        if detail is not None and (not entity.detailed or not isinstance(detail, str)):
            raise refuse(f"detail is an IndicadorDetalhe string of an entity set that has one, got {detail!r}")
        if entity.smoothed != (smoothed is not None) or (smoothed is not None and smoothed not in SMOOTHING):
            raise refuse(
                f"smoothed must be one of {SMOOTHING} for {entity.name}"
                if entity.smoothed
                else f"smoothed is only for the 12-month set, got {smoothed!r}"
            )
        return cls(entity, indicator, detail, smoothed)

    def filter(self, first: dt.date, last: dt.date) -> str:
        terms = [f"{INDICATOR} eq {olinda.string_literal(self.indicator)}"]
        if self.detail is not None:
            terms.append(f"{DETAIL} eq {olinda.string_literal(self.detail)}")
        if self.smoothed is not None:
            terms.append(f"{SMOOTHED} eq {olinda.string_literal(self.smoothed)}")
        terms.append(f"{SURVEY_DATE} ge {olinda.string_literal(first.isoformat())}")
        terms.append(f"{SURVEY_DATE} le {olinda.string_literal(last.isoformat())}")
        return " and ".join(terms)

    def mismatch(self, record: dict) -> tuple[str, str] | None:
        """(field, reason) when a record is not this dataset's (the request filtered it out: a filter ignored)."""
        wanted = {INDICATOR: self.indicator}
        if self.entity.detailed:
            wanted[DETAIL] = self.detail
        if self.entity.smoothed:
            wanted[SMOOTHED] = self.smoothed
        for name, value in wanted.items():
            if record.get(name) != value:
                return name, f"{name} {record.get(name)!r} is not the dataset's {value!r} (the request filters on it)"
        return None


def request_windows(start: dt.date, end: dt.date) -> list[tuple[dt.date, dt.date]]:
    """The whole calendar years [start, end] touches."""
    return [(dt.date(year, 1, 1), dt.date(year, 12, 31)) for year in range(start.year, end.year + 1)]


def request(params: Mapping[str, object], first: dt.date, last: dt.date) -> tuple[str, dict[str, str]]:
    """(URL, query parameters) of the first page of the survey dates [first, last] of a dataset's `params`."""
    selection = Selection.of(params)
    entity = selection.entity
    order = (SURVEY_DATE, *((entity.reference_field,) if entity.reference_field else ()), BASIS)
    query = olinda.query(
        select=entity.fields, filter=selection.filter(first, last), orderby=",".join(order), top=PAGE_SIZE
    )
    return olinda.service_url(SERVICE) + entity.name, query


def report_day(survey_date: dt.date, calendar: str) -> dt.date:
    """The day the Focus report carrying `survey_date` comes out: the Monday after its week, or the next business
    day of `calendar` when that Monday is not one."""
    day = survey_date + dt.timedelta(days=7 - survey_date.weekday())
    while not calendars.is_business_day(calendar, day):
        day += dt.timedelta(days=1)
    return day


def release_time(spec: DatasetSpec, survey_date: dt.date) -> dt.datetime:
    """When the statistics of `survey_date` are public: the report day at the dataset's release clock (UTC)."""
    return spec.release.at_clock(report_day(survey_date, spec.calendar))


class BcbFocus:
    source = SOURCE

    def fetch(self, session: SourceSession, spec: DatasetSpec, start: dt.date, end: dt.date) -> list[Fetched]:
        return olinda.fetch_windows(session, SOURCE, spec, request_windows(start, end), request)

    def parse(self, spec: DatasetSpec, fetched: Fetched) -> Parsed:
        selection = Selection.of(spec.params)
        entity = selection.entity
        reader = RecordReader(spec, fetched, olinda.records(fetched), entity.fields)
        seen: set[tuple[dt.date, str, int]] = set()
        for index, record in reader:
            if (wrong := selection.mismatch(record)) is not None:
                reader.reject(index, wrong[0], record, wrong[1])
                continue
            survey = reader.date(index, record, SURVEY_DATE, "%Y-%m-%d")
            if survey is None:
                continue
            reference = entity.fixed_reference or record[entity.reference_field]
            if entity.reference_format and not (
                isinstance(reference, str) and entity.reference_format.match(reference)
            ):
                reason = f"unknown reference {reference!r} (expected {entity.reference_format.pattern})"
                reader.reject(index, entity.reference_field, record, reason)
                continue
            basis = record[BASIS]
            if isinstance(basis, bool) or basis not in BASES:
                reader.reject(index, BASIS, record, f"{BASIS} {basis!r} is not one of {BASES}")
                continue
            respondents = record[RESPONDENTS]
            if isinstance(respondents, bool) or not isinstance(respondents, int) or respondents <= 0:
                reason = f"{RESPONDENTS} {respondents!r} is not a positive whole number"
                reader.reject(index, RESPONDENTS, record, reason)
                continue
            if (key := (survey, reference, basis)) in seen:  # overlapping pages would give one key two rows
                reader.reject(index, SURVEY_DATE, record, f"a second record of {survey} {reference} basis {basis}")
                continue
            if (values := reader.decimals(index, record, tuple(STATISTICS.values()))) is None:
                continue
            seen.add(key)
            reader.add(
                survey_date=survey,
                reference=reference,
                calculation_basis=basis,
                **{column: values[name] for column, name in STATISTICS.items()},
                respondents=respondents,
                release_time=release_time(spec, survey),
                release_basis="vintage",
            )
        return reader.parsed()


connector = BcbFocus()
