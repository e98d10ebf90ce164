"""The verbatim archive: every payload's bytes in the object store before anything parses them."""

from __future__ import annotations

import datetime as dt

from macro_assets.catalog import DatasetId
from macro_assets.object_store import ObjectStore
from macro_assets.provenance import Fetched, PayloadRecord

_EXTENSIONS = {"json": "json", "html": "html", "xml": "xml", "csv": "csv", "text/plain": "txt", "zip": "zip"}


def archive_key(fetched: Fetched) -> str:
    """raw/<source>/<code>/<window>/<fetch time>-<sha256 prefix>.<ext>: no request parameters, so no secrets."""
    extension = next((ext for marker, ext in _EXTENSIONS.items() if marker in fetched.content_type.lower()), "bin")
    code = DatasetId.parse(fetched.dataset_id).code
    stamp = fetched.fetched_at.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    window = f"{_day(fetched.window_start)}_{_day(fetched.window_end)}"
    return f"raw/{fetched.source}/{code}/{window}/{stamp}-{fetched.sha256[:16]}.{extension}"


def _day(moment: dt.date) -> str:
    # Intraday windows are datetimes; the key keeps the second, without characters object stores dislike.
    return moment.strftime("%Y%m%dT%H%M%S") if isinstance(moment, dt.datetime) else moment.isoformat()


def archive(store: ObjectStore, fetched: Fetched) -> PayloadRecord:
    key = archive_key(fetched)
    store.put(key, fetched.body, fetched.content_type or "application/octet-stream")
    return PayloadRecord(
        object_key=key,
        payload_sha256=fetched.sha256,
        source=fetched.source,
        dataset_id=fetched.dataset_id,
        request=fetched.request,
        http_status=fetched.status,
        bytes=len(fetched.body),
        window_start=_as_date(fetched.window_start),
        window_end=_as_date(fetched.window_end),
        fetched_at=fetched.fetched_at,
    )


def _as_date(moment: dt.date) -> dt.date:
    return moment.date() if isinstance(moment, dt.datetime) else moment
