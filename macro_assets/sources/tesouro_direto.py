"""Tesouro Direto: PrecoTaxaTesouroDireto.csv from Tesouro Transparente (CKAN), one file with the whole history.

Format: `;`-separated, decimal comma (`5,43`, `1955,06`), dates dd/mm/yyyy, no quoting, latin-1/windows-1252 or
UTF-8 with a BOM; header `Tipo Titulo;Data Vencimento;Data Base;Taxa Compra Manha;Taxa Venda Manha;PU Compra
Manha;PU Venda Manha;PU Base Manha` (columns read by name). One row per bond and base date (the morning snapshot),
in no chronological order. A bond is named by its long name (`Tesouro Prefixado` is LTN...); a point is
"<bond type> <maturity ISO date>". `Taxa Compra Manha` 0,00 with `PU Compra Manha` 0,00 means the bond is not
offered for purchase (sale only): the buy rate and price are null, and the point's rate, the buy rate by the
shape's rule, falls back to the sell rate, so bonds only bought back keep their place on the curve. An LFT's buy
rate of 0,00 with a price is a real rate of zero.

Release time: the file keeps no vintages (each base date's row is overwritten in place). Each row gets its base
date at the catalog's release clock (18:00 Sao Paulo, basis 'estimated'); the ingest pipeline dates a curve first
seen, or seen changed, by a later fetch at that fetch. `fetch` downloads the whole file; the pipeline keeps the
window.
"""

from __future__ import annotations

import datetime as dt

from macro_assets.catalog import DatasetSpec
from macro_assets.provenance import Fetched
from macro_assets.sources.base import Parsed, SourceSession, fetched_from_response
from macro_assets.sources.records import RecordReader, decode_text, payload_error, read_csv

SOURCE = "tesouro_direto"
FILE_URL = (
    "https://www.tesourotransparente.gov.br/ckan/dataset/df56aa42-484a-4a59-8184-7676580c81e3/resource/"
    "796d2059-14e9-44e3-80c9-2d9e30b405c1/download/precotaxatesourodireto.csv"
)
TYPE, MATURITY, BASE_DATE = "Tipo Titulo", "Data Vencimento", "Data Base"
BUY_RATE, SELL_RATE = "Taxa Compra Manha", "Taxa Venda Manha"
BUY_PRICE, SELL_PRICE, BASE_PRICE = "PU Compra Manha", "PU Venda Manha", "PU Base Manha"
COLUMNS = (TYPE, MATURITY, BASE_DATE, BUY_RATE, SELL_RATE, BUY_PRICE, SELL_PRICE, BASE_PRICE)
DATE_FORMAT = "%d/%m/%Y"
# UTF-8 first: a windows-1252 file with accents fails it, and latin-1 decodes the bytes windows-1252 leaves undefined.
ENCODINGS = ("utf-8-sig", "windows-1252", "latin-1")

BOND_TYPES = {
    "Tesouro Prefixado": "LTN",
    "Tesouro Prefixado com Juros Semestrais": "NTN-F",
    "Tesouro IPCA+": "NTN-B Principal",
    "Tesouro IPCA+ com Juros Semestrais": "NTN-B",
    "Tesouro Selic": "LFT",
    "Tesouro IGPM+ com Juros Semestrais": "NTN-C",
    "Tesouro Educa+": "Tesouro Educa+",
    "Tesouro Renda+ Aposentadoria Extra": "Tesouro Renda+ Aposentadoria Extra",
}


def point(bond_type: str, maturity: dt.date) -> str:
    return f"{bond_type} {maturity.isoformat()}"


class TesouroDireto:
    source = SOURCE

    def fetch(self, session: SourceSession, dataset: DatasetSpec, start: dt.date, end: dt.date) -> list[Fetched]:
        """One GET: the file is the whole history, whatever the window."""
        return [fetched_from_response(dataset, session.client.get(SOURCE, FILE_URL), start, end)]

    def parse(self, dataset: DatasetSpec, fetched: Fetched) -> Parsed:
        text = decode_text(fetched, "the PrecoTaxaTesouroDireto CSV", ENCODINGS)
        if fetched.status != 200:
            raise payload_error(fetched, "<body>", f"unexpected HTTP {fetched.status} with a CSV body")
        table = read_csv(fetched, text, COLUMNS, delimiter=";")
        wanted = set(dataset.params.get("bond_types", ()))
        reader = RecordReader(dataset, fetched, table.records, ())
        seen: dict[str, int] = {}
        # The whole history repeats a few thousand dates over its rows: each is parsed (and released) once.
        dates: dict[str, dt.date] = {}
        releases: dict[dt.date, dt.datetime] = {}

        def date(index: int, record: dict, field: str) -> dt.date | None:
            if record[field] not in dates and (day := reader.date(index, record, field, DATE_FORMAT)) is not None:
                dates[record[field]] = day
            return dates.get(record[field])

        for index, record in table.well_formed(reader):
            bond_type = BOND_TYPES.get(record[TYPE])
            if bond_type is None:
                reader.reject(index, TYPE, record, f"unknown bond type {record[TYPE]!r} (known: {sorted(BOND_TYPES)})")
                continue
            if bond_type not in wanted:
                continue  # another dataset's bond
            if (day := date(index, record, BASE_DATE)) is None or (maturity := date(index, record, MATURITY)) is None:
                continue
            values = [reader.decimal(index, record, field, decimal_comma=True) for field in COLUMNS[3:]]
            if None in values:
                continue  # quarantined with the field that did not read
            buy_rate, sell_rate, buy_price, sell_price, base_price = values
            buy_rate, buy_price = _side(buy_rate, buy_price)
            sell_rate, sell_price = _side(sell_rate, sell_price)
            base_price = base_price or None
            if buy_rate is None and sell_rate is None and base_price is None:
                reader.missing += 1  # every value 0,00: the file lists the bond without a price that day
                continue
            name = point(bond_type, maturity)
            key = f"{day} {name}"
            if key in seen:
                reader.reject(index, TYPE, record, f"{key} already read from record {seen[key]}")
                continue
            seen[key] = index
            if day not in releases:
                releases[day] = dataset.estimated_release(day)
            reader.add(
                curve_date=day,
                point=name,
                maturity_date=maturity,
                rate=buy_rate if buy_rate is not None else sell_rate,
                buy_rate=buy_rate,
                sell_rate=sell_rate,
                buy_price=buy_price,
                sell_price=sell_price,
                base_price=base_price,
                release_time=releases[day],
                release_basis="estimated",
            )
        return reader.parsed()


def _side(rate: float, price: float) -> tuple[float | None, float | None]:
    """(rate, price) of one side of the book; 0,00 and 0,00 is a side the bond is not traded on, and a price of
    0,00 is no price (an LFT's rate of 0,00 with a price is a rate)."""
    if rate == 0 and price == 0:
        return None, None
    return rate, price or None


connector = TesouroDireto()
