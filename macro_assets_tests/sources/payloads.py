"""A payload as a connector's fetch would have kept it, for parser tests that feed bytes directly."""

from __future__ import annotations

import datetime as dt

from macro_assets.catalog import DatasetId
from macro_assets.provenance import Fetched


def fetched(
    dataset_id: str,
    body: bytes,
    *,
    status: int = 200,
    content_type: str = "application/json",
    fetched_at: dt.datetime = dt.datetime(2019, 1, 7, 12, tzinfo=dt.UTC),
    window: tuple[dt.date, dt.date] = (dt.date(2015, 1, 1), dt.date(2018, 12, 31)),
    request: str = "GET (test)",
) -> Fetched:
    return Fetched(
        source=DatasetId.parse(dataset_id).source,
        dataset_id=dataset_id,
        request=request,
        status=status,
        body=body,
        content_type=content_type,
        fetched_at=fetched_at,
        window_start=window[0],
        window_end=window[1],
    )
