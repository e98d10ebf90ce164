"""One dataset over one window: fetch, archive verbatim, parse, date the releases, set aside what can never be
right. Pure orchestration over the connector and the object store: ingest never writes the warehouse. What it
returns, the refusal of a payload included, goes through the IO manager, the one write door.

Release-time rules applied here, for every source and shape:
- a row the source dates itself (basis 'vintage') keeps its release time;
- a row with an estimated release (sources without vintages: period end + the catalog's lag at its clock) keeps
  it when no earlier fetch covered its date; a row whose date an earlier fetch already covered, or whose estimate
  lies after the fetch, was not public before this fetch: it gets the fetch time (basis 'observed'), so the
  platform keeps revisions a source overwrites (unchanged values add no vintage in the warehouse);
- nothing is dated later than the fetch that held it (timeutil.not_after_fetch).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

import polars as pl

from macro_assets.catalog import DatasetSpec
from macro_assets.errors import SourcePayloadError
from macro_assets.ingest.archive import archive
from macro_assets.object_store import ObjectStore
from macro_assets.provenance import Fetched, PayloadRecord, QuarantineRecord, quarantine_record
from macro_assets.shapes import UTC_DATETIME, Shape
from macro_assets.sources import connector_for
from macro_assets.sources.base import FillsGaps, SourceSession
from macro_assets.timeutil import not_after_fetch

Coverage = Callable[[dt.datetime], list[tuple[dt.date, dt.date]]]


@dataclass
class Batch:
    """Everything one run of a dataset asset hands to the warehouse IO manager, written in one transaction.

    `refusal` is set when a payload was unusable: the IO manager then records the payloads (marked refused) and
    the quarantined payload, stores no rows, and fails the run with it."""

    dataset: DatasetSpec
    window_start: dt.date
    window_end: dt.date
    rows: pl.DataFrame
    payloads: list[PayloadRecord]
    quarantine: list[QuarantineRecord]
    records_read: int = 0
    missing: int = 0
    outside_window: int = 0
    implausible: int = 0
    fetched_at: dt.datetime | None = None
    refusal: SourcePayloadError | None = field(default=None)

    @property
    def shape(self) -> Shape:
        return self.dataset.shape


def row_dates(dataset: DatasetSpec, rows: pl.DataFrame) -> pl.Expr:
    """The date each row belongs to: its observation or curve date, a bar's session date in its time zone, or the
    UTC day of a market-data record's receipt (ts_recv, nanoseconds): the day whose request returns it, as
    Databento's ranges filter on ts_recv; a definition's ts_event can be days older."""
    if "ts_recv" in dataset.shape.value_schema:
        return pl.from_epoch(pl.col("ts_recv"), time_unit="ns").dt.date()
    first_key = dataset.shape.key_columns[0]
    if dataset.shape.key_schema[first_key] == UTC_DATETIME:
        zone = dataset.instrument.timezone.key if dataset.instrument else "UTC"
        return pl.col(first_key).dt.convert_time_zone(zone).dt.date()
    return pl.col(first_key)


def ingest(
    dataset: DatasetSpec,
    start: dt.date,
    end: dt.date,
    session: SourceSession,
    store: ObjectStore,
    coverage: Coverage,
    stored_keys: Callable[[], Iterable] | None = None,
) -> Batch:
    """The dataset's rows dated in [start, end], with release times. `coverage(before)` lists the windows of the
    dataset's payloads stored before an instant, and `stored_keys()` the first key of the rows stored for the
    window (reads of the warehouse): a connector that fills gaps fetches only the windows those keys leave open."""
    connector = connector_for(dataset.source)
    if isinstance(connector, FillsGaps) and stored_keys is not None:
        windows = connector.missing_windows(dataset, start, end, stored_keys())
        fetched = [item for first, stop in windows for item in connector.fetch(session, dataset, first, stop)]
    else:
        fetched = connector.fetch(session, dataset, start, end)
    payloads = [archive(store, item) for item in fetched]
    batch = Batch(
        dataset=dataset,
        window_start=start,
        window_end=end,
        rows=dataset.shape.empty(),
        payloads=payloads,
        quarantine=[],
        fetched_at=max((item.fetched_at for item in fetched), default=None),
    )
    frames = []
    for item in fetched:
        try:
            parsed = connector.parse(dataset, item)
        except SourcePayloadError as error:
            return _refused(batch, item, error)
        batch.records_read += parsed.records
        batch.missing += parsed.missing
        batch.quarantine.extend(parsed.quarantine)
        rows = _released(parsed.rows, item.fetched_at, coverage(item.fetched_at), dataset)
        in_window = rows.filter(row_dates(dataset, rows).is_between(start, end))
        # Rows beyond the window (SGS 432 lists the target until the next meeting) belong to other partitions.
        batch.outside_window += rows.height - in_window.height
        plausible, implausible = _split_implausible(dataset, in_window)
        batch.implausible += len(implausible)
        batch.quarantine.extend(quarantine_record(item, -1, column, row, reason) for column, row, reason in implausible)
        frames.append(
            plausible.with_columns(
                pl.lit(str(dataset.id)).alias(dataset.shape.id_column), payload_sha256=pl.lit(item.sha256)
            )
        )
    if frames:
        batch.rows = pl.concat(frames).select(list(dataset.shape.write_schema))
    return batch


def _released(
    rows: pl.DataFrame, fetched_at: dt.datetime, covered: list[tuple[dt.date, dt.date]], dataset: DatasetSpec
) -> pl.DataFrame:
    fetch_time = pl.lit(fetched_at, dtype=UTC_DATETIME)
    day = row_dates(dataset, rows)
    seen_before = pl.lit(False)
    for first, last in covered:
        seen_before = seen_before | day.is_between(first, last)
    observed = (pl.col("release_basis") == "estimated") & (seen_before | (pl.col("release_time") > fetch_time))
    return rows.with_columns(
        release_time=not_after_fetch(pl.when(observed).then(fetch_time).otherwise(pl.col("release_time")), fetched_at),
        release_basis=pl.when(observed).then(pl.lit("observed")).otherwise(pl.col("release_basis")),
    )


def _split_implausible(dataset: DatasetSpec, rows: pl.DataFrame) -> tuple[pl.DataFrame, list[tuple[str, dict, str]]]:
    """Rows whose ranged values fall outside the catalog's plausible range can never be right, and the store
    cannot forget: they are set aside with the reason instead of appended."""
    low, high = dataset.plausible_range
    columns = [c for c in dataset.shape.ranged if c in rows.columns]
    if not columns:  # trades and definitions: no value a price range applies to
        return rows, []
    outside = pl.any_horizontal([pl.col(c).is_not_null() & ~pl.col(c).is_between(low, high) for c in columns])
    bad = rows.filter(outside)
    reasons = []
    for row in bad.iter_rows(named=True):
        column = next(c for c in columns if row[c] is not None and not low <= row[c] <= high)
        record = json.loads(json.dumps(row, default=str))
        reasons.append((column, record, f"{column} {row[column]} is outside the plausible range [{low}, {high}]"))
    return rows.filter(~outside), reasons


def _refused(batch: Batch, item: Fetched, error: SourcePayloadError) -> Batch:
    """The payloads are archived; record why nothing of this run is stored and change nothing else."""
    record = quarantine_record(item, -1, error.field, item.body.decode("utf-8", "replace"), str(error))
    refused = [
        replace(
            p,
            refused=str(error)
            if p.payload_sha256 == item.sha256
            else f"not stored: another payload of the same run was refused ({error.field})",
        )
        for p in batch.payloads
    ]
    return replace(batch, rows=batch.dataset.shape.empty(), payloads=refused, quarantine=[record], refusal=error)
