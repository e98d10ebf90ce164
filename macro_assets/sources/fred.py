"""FRED / ALFRED: https://api.stlouisfed.org/fred/series/observations with every vintage.

Requested with realtime_start=1776-07-04 and realtime_end=9999-12-31, ALFRED returns one row per observation and
vintage interval: {"realtime_start", "realtime_end", "date", "value"}, values as strings. A "." inside a vintage
means the value was withdrawn from that vintage (GDP 1946-1958 vanish in the 1996 revision and return later).
Pages hold at most 100000 rows (`count`, `offset`).

Release time: each vintage's realtime_start at the catalog's release clock in the source's time zone, stored in
UTC (basis 'vintage'). A withdrawal is a vintage too: its row carries no value.
"""

from __future__ import annotations

import datetime as dt
import json

from macro_assets.catalog import DatasetSpec
from macro_assets.http.redaction import redact_text
from macro_assets.provenance import Fetched
from macro_assets.sources.base import Parsed, SourceSession, fetched_from_response
from macro_assets.sources.records import RecordReader, decode_json, payload_error

SOURCE = "fred"
OBSERVATIONS_URL = "https://api.stlouisfed.org/fred/series/observations"
API_KEY_ENV = "FRED_API_KEY"
API_KEY_PATTERN = "[a-z0-9]{32}"
ALL_VINTAGES = {"realtime_start": "1776-07-04", "realtime_end": "9999-12-31"}
WITHDRAWN = "."
REQUIRED_FIELDS = ("realtime_start", "date", "value")


class Fred:
    source = SOURCE

    def fetch(self, session: SourceSession, spec: DatasetSpec, start: dt.date, end: dt.date) -> list[Fetched]:
        api_key = session.credential(
            SOURCE, API_KEY_ENV, API_KEY_PATTERN, "https://fred.stlouisfed.org/docs/api/api_key.html"
        )
        params = {
            "series_id": spec.code,
            "file_type": "json",
            **ALL_VINTAGES,
            "observation_start": start.isoformat(),
            "observation_end": end.isoformat(),
        }
        if api_key:
            params["api_key"] = api_key
        pages: list[Fetched] = []
        offset = 0
        while True:
            page_params = params if offset == 0 else {**params, "offset": str(offset)}
            response = session.client.get(SOURCE, OBSERVATIONS_URL, params=page_params)
            pages.append(fetched_from_response(spec, response, start, end))
            rows, total = _page_size(response.content)
            offset += rows
            if response.status_code != 200 or rows == 0 or offset >= total:
                return pages

    def parse(self, spec: DatasetSpec, fetched: Fetched) -> Parsed:
        document = decode_json(fetched)
        if not isinstance(document, dict):
            raise payload_error(fetched, "<body>", f"expected a JSON object, got {type(document).__name__}")
        if fetched.status != 200 or "error_message" in document:
            message = redact_text(str(document.get("error_message", document)))
            raise payload_error(fetched, "<body>", f"API error (HTTP {fetched.status}): {message}")
        observations = document.get("observations")
        if not isinstance(observations, list):
            raise payload_error(fetched, "observations", f"missing or not a list (object has keys {sorted(document)})")
        reader = RecordReader(spec, fetched, observations, REQUIRED_FIELDS)
        released: dict[dt.date, dt.datetime] = {}
        for index, record in reader:
            if (
                (day := reader.date(index, record, "date", "%Y-%m-%d")) is None
                or (vintage := reader.date(index, record, "realtime_start", "%Y-%m-%d")) is None
                or not _possible(reader, index, record, day, vintage)
            ):
                continue
            if vintage not in released:
                released[vintage] = spec.release.at_clock(vintage)
            if record["value"] == WITHDRAWN:  # missing in, or withdrawn from, this vintage: a vintage with no value
                reader.missing += 1
                reader.add(obs_date=day, value=None, release_time=released[vintage], release_basis="vintage")
            elif (value := reader.decimal(index, record, "value")) is not None:
                reader.add(obs_date=day, value=value, release_time=released[vintage], release_basis="vintage")
        return reader.parsed()


def _possible(reader: RecordReader, index: int, record: dict, day: dt.date, vintage: dt.date) -> bool:
    """A vintage cannot carry an observation dated after it, nor end before it starts: such a record can never be
    right and the store cannot forget, so it is quarantined instead of stored."""
    if day > vintage:
        reader.reject(index, "date", record, f"observation {day} is dated after the vintage {vintage} that carries it")
        return False
    end = record.get("realtime_end")
    if isinstance(end, str) and end < record["realtime_start"]:
        reader.reject(index, "realtime_end", record, f"vintage ends ({end}) before it starts ({vintage})")
        return False
    return True


def _page_size(body: bytes) -> tuple[int, int]:
    """(rows in this page, total rows) of an observations page; (0, 0) when the body is not one."""
    try:
        document = json.loads(body)
        return len(document["observations"]), int(document["count"])
    except (ValueError, KeyError, TypeError):
        return 0, 0


connector = Fred()
