"""Where every stored row came from: the verbatim payload, its archive record, and rows set aside with a reason.

These records are handed on by every layer (connectors make them, ingest collects them, the warehouse stores
them) and owned by none.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

RAW_RECORD_MAX_CHARS = 2000


@dataclass(frozen=True)
class Fetched:
    """One exchange with a source, kept verbatim: the bytes are archived before anything parses them."""

    source: str
    dataset_id: str
    request: str  # "GET <url>" with secrets redacted, plus where a replay came from
    status: int
    body: bytes
    content_type: str
    fetched_at: dt.datetime
    window_start: dt.date
    window_end: dt.date

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest()


@dataclass(frozen=True)
class PayloadRecord:
    """One archived payload: where its verbatim bytes are and which request and window produced them."""

    object_key: str
    payload_sha256: str
    source: str
    dataset_id: str
    request: str
    http_status: int
    bytes: int
    window_start: dt.date
    window_end: dt.date
    fetched_at: dt.datetime
    refused: str | None = None  # why nothing of this payload was stored; None when its rows were offered


@dataclass(frozen=True)
class QuarantineRecord:
    """A record that was not stored, with the reason. record_index is the record's position in its payload, or -1
    for the payload as a whole, a merge conflict, or a parsed row set aside after parsing (outside the plausible
    range), whose raw_record is then the parsed row."""

    source: str
    dataset_id: str
    payload_sha256: str
    record_index: int
    field: str
    raw_record: str
    reason: str


def quarantine_record(fetched: Fetched, index: int, field: str, record: object, reason: str) -> QuarantineRecord:
    raw = record if isinstance(record, str) else json.dumps(record, ensure_ascii=False, default=str)
    return QuarantineRecord(
        source=fetched.source,
        dataset_id=fetched.dataset_id,
        payload_sha256=fetched.sha256,
        record_index=index,
        field=field,
        raw_record=raw[:RAW_RECORD_MAX_CHARS],
        reason=reason,
    )
