"""One series over one window: fetch, archive verbatim, parse, date the vintages. Pure orchestration over the
connector, the object store and the warehouse; the Dagster asset only wires it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

import polars as pl

from macro_assets.catalog import SeriesSpec
from macro_assets.object_store import ObjectStore
from macro_assets.sources import connector_for
from macro_assets.sources.base import Fetched, Session, SourcePayloadError, quarantine_record
from macro_assets.warehouse import PayloadRecord, QuarantineRecord, Warehouse
from macro_assets.warehouse.frames import WRITE_COLUMNS, WRITE_SCHEMA

_EXTENSIONS = {"json": "json", "html": "html", "xml": "xml", "csv": "csv"}


@dataclass
class IngestBatch:
    """Everything one run of a series asset hands to the warehouse IO manager, written in one transaction."""

    series_id: str
    window_start: dt.date
    window_end: dt.date
    observations: pl.DataFrame
    payloads: list[PayloadRecord]
    quarantine: list[QuarantineRecord]
    records_read: int
    missing: int
    outside_window: int
    fetched_at: dt.datetime | None = field(default=None)


def archive_key(fetched: Fetched) -> str:
    """raw/<source>/<series>/<window>/<fetch time>-<sha256 prefix>.<ext>: no request parameters, so no secrets."""
    extension = next((ext for marker, ext in _EXTENSIONS.items() if marker in fetched.content_type.lower()), "bin")
    series_code = fetched.series_id.partition(".")[2]
    stamp = fetched.fetched_at.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return (f"raw/{fetched.source}/{series_code}/{fetched.window_start}_{fetched.window_end}/"
            f"{stamp}-{fetched.sha256[:16]}.{extension}")


def archive(store: ObjectStore, fetched: Fetched) -> PayloadRecord:
    key = archive_key(fetched)
    store.put(key, fetched.body, fetched.content_type or "application/octet-stream")
    return PayloadRecord(
        object_key=key, payload_sha256=fetched.sha256, source=fetched.source, series_id=fetched.series_id,
        request=fetched.request, http_status=fetched.status, bytes=len(fetched.body),
        window_start=fetched.window_start, window_end=fetched.window_end, fetched_at=fetched.fetched_at,
    )


def ingest(spec: SeriesSpec, start: dt.date, end: dt.date, session: Session, store: ObjectStore,
           warehouse: Warehouse) -> IngestBatch:
    """Observations dated in [start, end], with release times; unusable payloads are quarantined and raise."""
    connector = connector_for(spec.source)
    fetched = connector.fetch(session, spec, start, end)
    payloads = [archive(store, f) for f in fetched]
    frames, quarantine = [], []
    records_read = missing = outside = 0
    for item in fetched:
        try:
            parsed = connector.parse(spec, item)
        except SourcePayloadError as error:
            # The payloads are already archived; record why nothing of this run is stored, change nothing else,
            # then fail loudly.
            record = quarantine_record(spec, item, -1, error.field, item.body.decode("utf-8", "replace"), str(error))
            refused = [replace(p, refused=str(error) if p.payload_sha256 == item.sha256 else
                               f"not stored: another payload of the same run was refused ({error.field})")
                       for p in payloads]
            warehouse.append(pl.DataFrame(schema=WRITE_SCHEMA), payloads=refused, quarantine=[record])
            raise
        records_read += parsed.rows.height + len(parsed.quarantine) + parsed.missing
        missing += parsed.missing
        quarantine.extend(parsed.quarantine)
        covered = warehouse.fetch_coverage(spec.id, before=item.fetched_at)
        rows = connector.release_times(spec, parsed.rows, item.fetched_at, covered)
        in_window = rows.filter(pl.col("obs_date").is_between(start, end))
        # Rows beyond the window (SGS 432 lists the target until the next meeting) belong to later partitions.
        outside += rows.height - in_window.height
        frames.append(in_window.with_columns(
            # Nothing is public later than the moment we held it: a vintage dated today at a clock still ahead
            # (a source that published early) is known from the fetch on.
            release_time=pl.min_horizontal("release_time", pl.lit(item.fetched_at, dtype=pl.Datetime("us", "UTC"))),
            series_id=pl.lit(spec.id), payload_sha256=pl.lit(item.sha256),
        ).select(WRITE_COLUMNS))
    observations = pl.concat(frames) if frames else pl.DataFrame(schema=WRITE_SCHEMA)
    return IngestBatch(
        series_id=spec.id, window_start=start, window_end=end, observations=observations, payloads=payloads,
        quarantine=quarantine, records_read=records_read, missing=missing, outside_window=outside,
        fetched_at=max((f.fetched_at for f in fetched), default=None),
    )

