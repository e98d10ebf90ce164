"""BCB SGS: https://api.bcb.gov.br/dados/serie/bcdata.sgs.{code}/dados

Format: a JSON array of {"data": "dd/MM/yyyy", "valor": "<dot-decimal string>"}; monthly series dated on the 1st.
Daily series accept windows of at most 10 years (406 beyond); an empty window answers 404 "Value(s) not found";
an empty `valor` is a missing value; series 432 lists future-dated rows (the target until the next meeting).
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from macro_assets.catalog import SeriesSpec
from macro_assets.sources.base import Fetched, Parsed, RecordReader, Session, SourcePayloadError, decode_json

SOURCE = "bcb_sgs"
BASE_URL = "https://api.bcb.gov.br/dados/serie/bcdata.sgs.{code}/dados"
EMPTY_WINDOW = "Value(s) not found"


def request_windows(spec: SeriesSpec, start: dt.date, end: dt.date) -> list[tuple[dt.date, dt.date]]:
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

    def fetch(self, session: Session, spec: SeriesSpec, start: dt.date, end: dt.date) -> list[Fetched]:
        fetched = []
        for first, last in request_windows(spec, start, end):
            response = session.client.get(SOURCE, BASE_URL.format(code=spec.code), params={
                "formato": "json", "dataInicial": first.strftime("%d/%m/%Y"), "dataFinal": last.strftime("%d/%m/%Y"),
            })
            fetched.append(Fetched.from_response(spec, response, first, last))
        return fetched

    def parse(self, spec: SeriesSpec, fetched: Fetched) -> Parsed:
        document = decode_json(spec, fetched)
        if isinstance(document, dict):
            detail = _error_detail(document)
            if fetched.status == 404 and EMPTY_WINDOW in detail:
                return Parsed.empty()
            raise SourcePayloadError(SOURCE, spec.id, "<body>", f"API error (HTTP {fetched.status}): {detail}")
        if fetched.status != 200:
            raise SourcePayloadError(SOURCE, spec.id, "<body>", f"unexpected HTTP {fetched.status} with a JSON array")
        if not isinstance(document, list):
            raise SourcePayloadError(SOURCE, spec.id, "<body>", f"expected a JSON array, got {type(document).__name__}")
        reader = RecordReader(spec, fetched, document, ("data", "valor"))
        for index, record in reader:
            day = reader.date(index, record, "data", "%d/%m/%Y")
            if day is None:
                continue
            if record["valor"] == "":  # SGS's way of saying the value is missing
                reader.missing += 1
            elif (value := reader.decimal(index, record, "valor")) is not None:
                reader.add(day, value)
        return reader.parsed()

    def release_times(self, spec: SeriesSpec, rows: pl.DataFrame, fetched_at: dt.datetime,
                      covered: list[tuple[dt.date, dt.date]]) -> pl.DataFrame:
        """SGS overwrites revisions and keeps no vintages, so the platform makes them:

        - a date no earlier fetch covered is history: released at period end + the catalog's lag, at the release
          clock (basis 'estimated'), but never later than the fetch that saw it (then basis 'observed');
        - a date an earlier fetch already covered gets this fetch's time (basis 'observed'): a value first seen,
          or seen changed, now was not public at the earlier fetch. Unchanged values add no vintage.
        """
        times, bases = [], []
        for day in rows["obs_date"]:
            estimated = spec.estimated_release(day)
            if any(first <= day <= last for first, last in covered) or estimated > fetched_at:
                times.append(fetched_at)
                bases.append("observed")
            else:
                times.append(estimated)
                bases.append("estimated")
        return rows.with_columns(
            release_time=pl.Series(times, dtype=pl.Datetime("us", "UTC")),
            release_basis=pl.Series(bases, dtype=pl.String),
        )


def _error_detail(document: dict) -> str:
    """The message of SGS's two error envelopes: {"erro": {"detail": ...}} and {"error": ..., "message": ...}."""
    if isinstance(document.get("erro"), dict):
        return str(document["erro"].get("detail", document["erro"]))
    if "error" in document:
        return str(document["error"])
    return f"unexpected JSON object with keys {sorted(document)}"


connector = BcbSgs()
