"""The connector contract, the same for every shape.

A connector is real code for the real API. `fetch` turns a window into requests through the shared client (live
network, the source's own SDK behind a transport, or recorded replay: the connector cannot tell) and keeps each
exchange verbatim; `parse` turns one payload into rows of the dataset's shape, each with the release time the
source's rule gives it. What is done with the rows (window, fetch-time bound, SGS-style observed vintages,
plausibility) is the ingest pipeline's, the same for every source.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import httpx
import polars as pl

from macro_assets.catalog import DatasetSpec
from macro_assets.errors import MissingCredentials
from macro_assets.http.client import HttpClient, response_time
from macro_assets.http.redaction import redact_url
from macro_assets.http.replay import REPLAYED_FROM_HEADER
from macro_assets.provenance import Fetched, QuarantineRecord
from macro_assets.shapes import UTC_DATETIME, Shape

# The release time a source's rule gives a row: 'vintage' (the source dates its vintages) or 'estimated' (period
# end + the catalog's lag at its clock; ingest turns it into 'observed' when a later fetch sees the row first or
# changed).
RELEASE_SCHEMA = {"release_time": UTC_DATETIME, "release_basis": pl.String}


def parsed_schema(shape: Shape) -> dict[str, pl.DataType]:
    return {**shape.parsed_schema, **RELEASE_SCHEMA}


@dataclass(frozen=True)
class SourceSession:
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


def fetched_from_response(dataset: DatasetSpec, response: httpx.Response, start: dt.date, end: dt.date) -> Fetched:
    request = f"{response.request.method} {redact_url(response.request.url)}"
    if REPLAYED_FROM_HEADER in response.headers:
        request += f" (replayed from the recording of {response.headers[REPLAYED_FROM_HEADER]})"
    return Fetched(
        source=dataset.source,
        dataset_id=str(dataset.id),
        request=request,
        status=response.status_code,
        body=response.content,
        content_type=response.headers.get("Content-Type", ""),
        fetched_at=response_time(response),
        window_start=start,
        window_end=end,
    )


@dataclass
class Parsed:
    """Rows read from one payload (the dataset shape's keys and values, release_time, release_basis), and what
    could not be read: `records` counts the payload's records, `missing` those the source marks as having no
    value (kept as rows with null values when they withdraw a vintage)."""

    rows: pl.DataFrame
    quarantine: list[QuarantineRecord] = field(default_factory=list)
    records: int = 0
    missing: int = 0

    @classmethod
    def empty(cls, shape: Shape) -> Parsed:
        return cls(rows=pl.DataFrame(schema=parsed_schema(shape)))


class Connector(Protocol):
    source: str

    def fetch(self, session: SourceSession, dataset: DatasetSpec, start: dt.date, end: dt.date) -> list[Fetched]:
        """Every request needed for the dataset's rows dated in [start, end]."""

    def parse(self, dataset: DatasetSpec, fetched: Fetched) -> Parsed:
        """Payload bytes -> rows with release times; raises SourcePayloadError for an unusable payload."""


@runtime_checkable
class FillsGaps(Protocol):
    """A connector whose source charges per request (TwelveData's credits) asks only for what is not stored: the
    windows it returns are fetched instead of the whole range."""

    def missing_windows(
        self, dataset: DatasetSpec, start: dt.date, end: dt.date, stored_keys: Iterable
    ) -> list[tuple[dt.datetime, dt.datetime]]:
        """Request windows covering the expected keys of [start, end] that are not in `stored_keys`."""
