"""BCB SGS: https://api.bcb.gov.br/dados/serie/bcdata.sgs.{code}/dados

Format: a JSON array of {"data": "dd/MM/yyyy", "valor": "<dot-decimal string>"}; monthly series dated on the 1st.
Daily series accept windows of at most 10 years (406 beyond); an empty window answers 404 "Value(s) not found";
an empty `valor` is a missing value; series 432 lists future-dated rows (the target until the next meeting).

Release time: SGS keeps no vintages, so a row gets period end + the catalog's lag at its release clock (basis
'estimated'); the ingest pipeline dates a value first seen, or seen changed, by a later fetch at that fetch.
"""

from __future__ import annotations

import datetime as dt

from macro_assets.catalog import DatasetSpec
from macro_assets.provenance import Fetched
from macro_assets.sources.base import Parsed, SourceSession, fetched_from_response
from macro_assets.sources.records import RecordReader, decode_json, payload_error

SOURCE = "bcb_sgs"
BASE_URL = "https://api.bcb.gov.br/dados/serie/bcdata.sgs.{code}/dados"
EMPTY_WINDOW = "Value(s) not found"


def request_windows(spec: DatasetSpec, start: dt.date, end: dt.date) -> list[tuple[dt.date, dt.date]]:
    """Daily series in consecutive windows of at most 10 years (the API's limit); others in one request."""
    if spec.frequency != "daily":
        return [(start, end)]
    windows = []
    while start <= end:
        try:
            limit = start.replace(year=start.year + 10) - dt.timedelta(days=1)
        except ValueError:  # 29 February
            limit = start.replace(year=start.year + 10, day=28)
        windows.append((start, min(end, limit)))
        start = windows[-1][1] + dt.timedelta(days=1)
    return windows


class BcbSgs:
    source = SOURCE

    def fetch(self, session: SourceSession, spec: DatasetSpec, start: dt.date, end: dt.date) -> list[Fetched]:
        fetched = []
        for first, last in request_windows(spec, start, end):
            response = session.client.get(
                SOURCE,
                BASE_URL.format(code=spec.code),
                params={
                    "formato": "json",
                    "dataInicial": first.strftime("%d/%m/%Y"),
                    "dataFinal": last.strftime("%d/%m/%Y"),
                },
            )
            fetched.append(fetched_from_response(spec, response, first, last))
        return fetched

    def parse(self, spec: DatasetSpec, fetched: Fetched) -> Parsed:
        document = decode_json(fetched)
        if isinstance(document, dict):
            detail = _error_detail(document)
            if fetched.status == 404 and EMPTY_WINDOW in detail:
                return Parsed.empty(spec.shape)
            raise payload_error(fetched, "<body>", f"API error (HTTP {fetched.status}): {detail}")
        if fetched.status != 200:
            raise payload_error(fetched, "<body>", f"unexpected HTTP {fetched.status} with a JSON array")
        if not isinstance(document, list):
            raise payload_error(fetched, "<body>", f"expected a JSON array, got {type(document).__name__}")
        reader = RecordReader(spec, fetched, document, ("data", "valor"))
        for index, record in reader:
            day = reader.date(index, record, "data", "%d/%m/%Y")
            if day is None:
                continue
            if record["valor"] == "":  # SGS's way of saying the value is missing
                reader.missing += 1
            elif (value := reader.decimal(index, record, "valor")) is not None:
                reader.add(
                    obs_date=day, value=value, release_time=spec.estimated_release(day), release_basis="estimated"
                )
        return reader.parsed()


def _error_detail(document: dict) -> str:
    """The message of SGS's two error envelopes: {"erro": {"detail": ...}} and {"error": ..., "message": ...}."""
    if isinstance(document.get("erro"), dict):
        return str(document["erro"].get("detail", document["erro"]))
    if "error" in document:
        return str(document["error"])
    return f"unexpected JSON object with keys {sorted(document)}"


connector = BcbSgs()
