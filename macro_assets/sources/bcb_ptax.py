"""BCB PTAX exchange rates, from the Olinda OData service PTAX/versao/v1 (see olinda.py for what it shares).

Format: the USD closing fixing comes from `CotacaoDolarPeriodo(dataInicial, dataFinalCotacao)`, one record per
business day `{"cotacaoCompra": 5.0405, "cotacaoVenda": 5.0411, "dataHoraCotacao": "2023-09-05 13:02:32.338"}`; the
bulletins of other currencies from `CotacaoMoedaPeriodo(moeda, dataInicial, dataFinalCotacao)`, several records a
day, each with `tipoBoletim` "Abertura" (~10:00), "Intermediário" (~11:00, 12:00, 13:00) or "Fechamento PTAX"
(~13:05-13:11; also seen as "Fechamento"). Rates are JSON numbers in BRL per unit of the currency (up to 5
decimals), `dataHoraCotacao` is Brasília local time without a zone, with 1 to 6 fractional digits. Weekends and
holidays have no record; a window without business days answers an empty `value` array.

A dataset is one (currency, side, bulletin) of the catalog's `params`: `currency` (ISO code), `side` ("buy" or
"sell": cotacaoCompra or cotacaoVenda) and `bulletin` ("open", "intermediate" or "close"). USD's close is read from
CotacaoDolarPeriodo, everything else from CotacaoMoedaPeriodo (every bulletin of the currency in one request, the
same for all its datasets; the parse keeps the dataset's kind).

Requests: one per calendar year of the window. The API answers longer periods, but a year of bulletins (~1300
records) keeps each answer on one page of $top=10000 and each body near 200 KB.

Release time: a bulletin is a vintage released at its own `dataHoraCotacao` (America/Sao_Paulo, with Brazil's
summer time until 2019, converted to UTC; basis 'vintage'), dated on that local day. A day with two records of the
same kind (several intermediates, a re-published fixing) gives one row per instant; the warehouse stores a later one
only when its value differs.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from zoneinfo import ZoneInfo

from macro_assets.catalog import DatasetSpec
from macro_assets.provenance import Fetched
from macro_assets.sources import olinda
from macro_assets.sources.base import Parsed, SourceSession
from macro_assets.sources.records import RecordReader

SOURCE = "bcb_ptax"
SERVICE = "PTAX"
LOCAL_TIME = ZoneInfo("America/Sao_Paulo")
DOLLAR_FUNCTION = "CotacaoDolarPeriodo"
CURRENCY_FUNCTION = "CotacaoMoedaPeriodo"
PERIOD = ("dataInicial", "dataFinalCotacao")
SIDES = {"buy": "cotacaoCompra", "sell": "cotacaoVenda"}
BULLETINS = {"Abertura": "open", "Intermediário": "intermediate", "Fechamento PTAX": "close", "Fechamento": "close"}
INSTANT_FIELD, BULLETIN_FIELD = "dataHoraCotacao", "tipoBoletim"
_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?$")


def request_windows(start: dt.date, end: dt.date) -> list[tuple[dt.date, dt.date]]:
    """[start, end] cut at the turn of each calendar year."""
    windows = []
    while start <= end:
        windows.append((start, min(end, dt.date(start.year, 12, 31))))
        start = dt.date(start.year + 1, 1, 1)
    return windows


def _choice(params: Mapping[str, object], name: str, choices) -> str:
    value = params.get(name)
    if value not in choices:
        raise ValueError(f"bcb_ptax params {dict(params)}: {name} must be one of {sorted(choices)}, got {value!r}")
    return value


def _is_dollar_close(params: Mapping[str, object]) -> bool:
    return params.get("currency") == "USD" and params.get("bulletin") == "close"


def request(params: Mapping[str, object], first: dt.date, last: dt.date) -> tuple[str, dict[str, str]]:
    """(URL, query parameters) of the first page of the window [first, last] of a dataset's `params`."""
    _choice(params, "side", SIDES)
    _choice(params, "bulletin", set(BULLETINS.values()))
    period = {PERIOD[0]: olinda.date_literal(first), PERIOD[1]: olinda.date_literal(last)}
    if _is_dollar_close(params):
        url = olinda.function_url(SERVICE, DOLLAR_FUNCTION, PERIOD)
        return url, olinda.query(period, select=(*SIDES.values(), INSTANT_FIELD))
    currency = params.get("currency")
    if not isinstance(currency, str) or not re.fullmatch("[A-Z]{3}", currency):
        raise ValueError(f"bcb_ptax params {dict(params)}: currency must be an ISO currency code, got {currency!r}")
    url = olinda.function_url(SERVICE, CURRENCY_FUNCTION, ("moeda", *PERIOD))
    aliases = {"moeda": olinda.string_literal(currency), **period}
    return url, olinda.query(aliases, select=(*SIDES.values(), INSTANT_FIELD, BULLETIN_FIELD))


def release_instant(text: str) -> dt.datetime | None:
    """A `dataHoraCotacao` as the UTC instant it names (Brasília local time); None if it is not one."""
    if not isinstance(text, str) or not _INSTANT.match(text):
        return None
    return dt.datetime.fromisoformat(text).replace(tzinfo=LOCAL_TIME).astimezone(dt.UTC)


class BcbPtax:
    source = SOURCE

    def fetch(self, session: SourceSession, spec: DatasetSpec, start: dt.date, end: dt.date) -> list[Fetched]:
        return olinda.fetch_windows(session, SOURCE, spec, request_windows(start, end), request)

    def parse(self, spec: DatasetSpec, fetched: Fetched) -> Parsed:
        value_field = SIDES[_choice(spec.params, "side", SIDES)]
        bulletin = _choice(spec.params, "bulletin", set(BULLETINS.values()))
        dollar_close = _is_dollar_close(spec.params)
        required = (INSTANT_FIELD, value_field) if dollar_close else (INSTANT_FIELD, value_field, BULLETIN_FIELD)
        reader = RecordReader(spec, fetched, olinda.records(fetched), required)
        seen: set[dt.datetime] = set()
        for index, record in reader:
            if not dollar_close:
                kind = BULLETINS.get(record[BULLETIN_FIELD])
                if kind is None:
                    reader.reject(index, BULLETIN_FIELD, record, f"unknown bulletin {record[BULLETIN_FIELD]!r}")
                    continue
                if kind != bulletin:  # another dataset's bulletin
                    continue
            released = release_instant(record[INSTANT_FIELD])
            if released is None:
                reason = f"{INSTANT_FIELD} {record[INSTANT_FIELD]!r} is not 'YYYY-MM-DD HH:MM:SS[.f]'"
                reader.reject(index, INSTANT_FIELD, record, reason)
                continue
            if released in seen:  # the same bulletin twice (overlapping pages) would be two rows of one key
                reader.reject(index, INSTANT_FIELD, record, f"a second {bulletin} bulletin at {record[INSTANT_FIELD]}")
                continue
            if (value := reader.decimal(index, record, value_field)) is not None:
                seen.add(released)
                day = released.astimezone(LOCAL_TIME).date()
                reader.add(obs_date=day, value=value, release_time=released, release_basis="vintage")
        return reader.parsed()


connector = BcbPtax()
