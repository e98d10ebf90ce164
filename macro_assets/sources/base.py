"""What every connector shares: the fetched payload, the parse result, bad-input handling.

A connector is real code for the real API. It turns a partition window into HTTP requests through the shared
client (live network or recorded replay: the connector cannot tell), parses the verbatim bytes into an
observation frame, and states the release-time rule of its source.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

import httpx
import polars as pl

from macro_assets.catalog import SeriesSpec
from macro_assets.http import REPLAYED_FROM_HEADER, HttpClient, redact_url, response_time
from macro_assets.warehouse import QuarantineRecord

PARSED_SCHEMA = {"obs_date": pl.Date, "value": pl.Float64, "vintage_date": pl.Date}


class SourcePayloadError(ValueError):
    """Bad input that makes a whole payload unusable. The message names the source, the series and the field."""

    def __init__(self, source: str, series_id: str, field: str, problem: str):
        self.source, self.series_id, self.field, self.problem = source, series_id, field, problem
        super().__init__(f"{source} series {series_id}: field {field!r}: {problem}")


class MissingCredentials(RuntimeError):
    pass


@dataclass(frozen=True)
class Session:
    """The HTTP client of a run and whether it reaches the live APIs (credentials are needed only then)."""

    client: HttpClient
    live: bool

    def credential(self, source: str, env_var: str, pattern: str, help_url: str) -> str | None:
        """The secret in `env_var`; in live mode a missing or malformed one stops the run before any request.
        Replay ignores secret parameters, so offline runs need none."""
        value = os.environ.get(env_var, "").strip()
        if not self.live:
            return value or None
        if not value:
            raise MissingCredentials(f"{source}: live mode needs the environment variable {env_var} ({help_url})")
        if not re.fullmatch(pattern, value):
            raise MissingCredentials(f"{source}: {env_var} is set but malformed (expected {pattern}); value not shown")
        return value


@dataclass(frozen=True)
class Fetched:
    """One HTTP exchange, kept verbatim: the bytes are archived before anything parses them."""

    source: str
    series_id: str
    request: str  # "GET <url>" with secrets redacted
    status: int
    body: bytes
    content_type: str
    fetched_at: dt.datetime
    window_start: dt.date
    window_end: dt.date

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest()

    @classmethod
    def from_response(cls, spec: SeriesSpec, response: httpx.Response, start: dt.date, end: dt.date) -> Fetched:
        request = f"GET {redact_url(response.request.url)}"
        if REPLAYED_FROM_HEADER in response.headers:
            request += f" (replayed from the recording of {response.headers[REPLAYED_FROM_HEADER]})"
        return cls(
            source=spec.source, series_id=spec.id, request=request,
            status=response.status_code, body=response.content,
            content_type=response.headers.get("Content-Type", ""), fetched_at=response_time(response),
            window_start=start, window_end=end,
        )


@dataclass
class Parsed:
    """Observations read from one payload, and what could not be read.

    `rows` has obs_date, value (null = missing in, or withdrawn from, that vintage) and vintage_date (the
    source's own vintage date, null for sources without vintages).
    """

    rows: pl.DataFrame
    quarantine: list[QuarantineRecord] = field(default_factory=list)
    missing: int = 0  # records the source marks as having no value

    @classmethod
    def empty(cls) -> Parsed:
        return cls(rows=pl.DataFrame(schema=PARSED_SCHEMA))


class Connector(Protocol):
    source: str

    def fetch(self, session: Session, spec: SeriesSpec, start: dt.date, end: dt.date) -> list[Fetched]:
        """Every request needed for observations dated in [start, end]."""

    def parse(self, spec: SeriesSpec, fetched: Fetched) -> Parsed:
        """Payload bytes -> observations; raises SourcePayloadError for an unusable payload."""

    def release_times(self, spec: SeriesSpec, rows: pl.DataFrame, fetched_at: dt.datetime,
                      covered: list[tuple[dt.date, dt.date]]) -> pl.DataFrame:
        """Add release_time (UTC) and release_basis to parsed rows (see each source's rule)."""


_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


def decode_json(spec: SeriesSpec, fetched: Fetched):
    """The payload as JSON, or a SourcePayloadError saying what came instead (HTML page, truncated body...)."""
    body = fetched.body.lstrip()
    if not body:
        raise SourcePayloadError(spec.source, spec.id, "<body>", f"empty response body (HTTP {fetched.status})")
    if body[:1] == b"<":
        title = _TITLE.search(body)
        what = f"an HTML/XML page (title: {title.group(1).decode(errors='replace').strip()!r})" if title else \
            "an HTML/XML document"
        raise SourcePayloadError(spec.source, spec.id, "<body>", f"expected JSON, got {what} (HTTP {fetched.status})")
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SourcePayloadError(
            spec.source, spec.id, "<body>",
            f"not valid JSON, the body may be truncated ({len(fetched.body)} bytes, {exc.msg} at char {exc.pos})"
            if isinstance(exc, json.JSONDecodeError) else f"not UTF-8 ({exc})",
        ) from None


_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def parse_decimal(text: object) -> float | str:
    """A dot-decimal string as a float, or the reason it is not one (comma decimals, placeholders...)."""
    if not isinstance(text, str):
        return f"expected a decimal string, got {type(text).__name__} {text!r}"
    stripped = text.strip()
    if _NUMBER.match(stripped):
        number = float(stripped)
        return number if math.isfinite(number) else f"non-finite number {text!r}"
    if re.fullmatch(r"[+-]?\d+,\d+", stripped):
        return f"comma decimal separator in {text!r} (the API sends dot decimals)"
    return f"not a number: {text!r}"


def quarantine_record(spec: SeriesSpec, fetched: Fetched, index: int, field: str, record: object,
                      reason: str) -> QuarantineRecord:
    raw = record if isinstance(record, str) else json.dumps(record, ensure_ascii=False)
    return QuarantineRecord(source=spec.source, series_id=spec.id, payload_sha256=fetched.sha256,
                            record_index=index, field=field, raw_record=raw[:2000], reason=reason)


class RecordReader:
    """Walks the records of a payload for a connector: each record becomes an observation, a missing value or a
    quarantined row with its reason; none is dropped silently.

    A required field absent from every record is a renamed field: the whole payload is refused.
    """

    def __init__(self, spec: SeriesSpec, fetched: Fetched, records: list, required: tuple[str, ...]):
        self.spec, self.fetched, self.records, self.required = spec, fetched, records, required
        mappings = [r for r in records if isinstance(r, dict)]
        for name in required:
            if records and not any(name in r for r in mappings):
                keys = sorted({k for r in mappings for k in r})
                raise SourcePayloadError(spec.source, spec.id, name, f"missing from every record (records have {keys})")
        self.quarantine: list[QuarantineRecord] = []
        self.missing = 0
        self._dates: list[dt.date] = []
        self._values: list[float | None] = []
        self._vintages: list[dt.date | None] = []

    def __iter__(self) -> Iterator[tuple[int, dict]]:
        """(index, record) of every record that has the required fields; the others are quarantined."""
        for index, record in enumerate(self.records):
            if isinstance(record, dict) and all(name in record for name in self.required):
                yield index, record
            else:
                self.reject(index, "/".join(self.required), record, f"record lacks one of the fields {self.required}")

    def reject(self, index: int, field: str, record: object, reason: str) -> None:
        self.quarantine.append(quarantine_record(self.spec, self.fetched, index, field, record, reason))

    def date(self, index: int, record: dict, field: str, date_format: str) -> dt.date | None:
        try:
            return dt.datetime.strptime(str(record[field]), date_format).date()
        except ValueError:
            self.reject(index, field, record, f"{field} {record[field]!r} does not match {date_format}")
            return None

    def decimal(self, index: int, record: dict, field: str) -> float | None:
        value = parse_decimal(record[field])
        if isinstance(value, str):
            self.reject(index, field, record, value)
            return None
        return value

    def add(self, obs_date: dt.date, value: float | None, vintage_date: dt.date | None = None) -> None:
        self._dates.append(obs_date)
        self._values.append(value)
        self._vintages.append(vintage_date)

    def parsed(self) -> Parsed:
        rows = pl.DataFrame({"obs_date": self._dates, "value": self._values, "vintage_date": self._vintages},
                            schema=PARSED_SCHEMA)
        return Parsed(rows=rows, quarantine=self.quarantine, missing=self.missing)
