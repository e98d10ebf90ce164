"""Release sensors: one per source and partitions definition, for the sources that answer a short recent window
cheaply (BCB SGS, FRED/ALFRED). A tick asks the source, through its connector's real request path (live network,
or offline the replay of the recordings captured by the replay clock), for each dataset's last values, and
requests a run of only the partitions whose values changed against the warehouse: a revision or a new release,
never a re-download of history.

The cursor holds the digest of each dataset's last answer the warehouse already held, so a dataset whose answer
did not change costs one request and no warehouse read. The window is the last 20 values the release calendar
says are out: SGS's own last-values endpoint (`/ultimos/N`) answers at most 20, and 20 months hold the revisions
SGS and ALFRED publish for monthly series. The endpoints made for this (FRED's series `last_updated`, SGS
`/ultimos/N`) have no recording in the offline window; the window request is one both modes answer alike.

They start STOPPED: live, they call the sources' APIs.
"""

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

import dagster as dg
import polars as pl

from macro_assets import settings
from macro_assets.catalog import DatasetSpec, load_catalog
from macro_assets.catalog.loader import WEEKDAYS
from macro_assets.defs.checks import RANGE_END, RANGE_START
from macro_assets.defs.datasets import asset_key
from macro_assets.defs.partitions import inclusive_dates, partitions_for
from macro_assets.defs.resources import REPLAY_TAG, SourcesResource, WarehouseResource
from macro_assets.errors import SourcePayloadError, UnknownDataset
from macro_assets.http.client import SourceHTTPError
from macro_assets.ingest.pipeline import row_dates
from macro_assets.releases import changed_dates, last_dates, latest_due
from macro_assets.sources import connector_for
from macro_assets.sources.base import SourceSession
from macro_assets.timeutil import parse_instant
from macro_assets.warehouse import connect

RELEASE_SENSOR_SOURCES = ("bcb_sgs", "fred")
PROBED_VALUES = 20
SENSOR_INTERVAL_SECONDS = 15 * 60


@dataclass(frozen=True)
class Probe:
    """A dataset's window as the source answers it now."""

    start: dt.date
    end: dt.date
    digest: str
    rows: pl.DataFrame


def sensor_instant(sources: SourcesResource) -> dt.datetime | None:
    """The instant a tick looks from: now live; offline the replay clock, None for the latest captures."""
    if (sources.mode or settings.mode()) == "live":
        return dt.datetime.now(dt.UTC)
    return parse_instant(sources.replay_clock, field="replay_clock") if sources.replay_clock else None


def probe_window(spec: DatasetSpec, instant: dt.datetime | None) -> tuple[dt.date, dt.date] | None:
    """The last PROBED_VALUES dates due at `instant` (None: up to the last partition), inside the partitions."""
    definition = partitions_for(spec)
    first = inclusive_dates(definition.time_window_for_partition_key(definition.get_first_partition_key()))[0]
    last = inclusive_dates(definition.time_window_for_partition_key(definition.get_last_partition_key()))[1]
    due = latest_due(spec, instant) if instant is not None else last
    if due is None or due < first:
        return None
    dates = last_dates(spec, min(due, last), PROBED_VALUES)
    return (max(dates[0], first), min(due, last)) if dates else None


def probe(spec: DatasetSpec, session: SourceSession, start: dt.date, end: dt.date) -> Probe:
    connector = connector_for(spec.source)
    fetched = connector.fetch(session, spec, start, end)
    digest = hashlib.sha256("".join(f.sha256 for f in fetched).encode()).hexdigest()
    parsed = [connector.parse(spec, f).rows for f in fetched]
    rows = pl.concat(parsed) if parsed else spec.shape.empty()
    return Probe(start, end, digest, rows.filter(row_dates(spec, rows).is_between(start, end)))


def partitions_name(spec: DatasetSpec) -> str:
    """daily, monthly or weekly_<weekday>: what a sensor's or a schedule's assets share."""
    return spec.partitioning if spec.weekday is None else f"{spec.partitioning}_{WEEKDAYS[spec.weekday][:3]}"


def partition_keys(spec: DatasetSpec, dates: list[dt.date]) -> list[str]:
    definition = partitions_for(spec)
    keys = {
        definition.get_partition_key_for_timestamp(dt.datetime.combine(d, dt.time(), dt.UTC).timestamp()) for d in dates
    }
    return sorted(key for key in keys if definition.has_partition_key(key))


def build_release_sensor(name: str, datasets: list[DatasetSpec]) -> dg.SensorDefinition:
    """A sensor over datasets of one source sharing one partitions definition (a sensor's target is one job)."""
    source = datasets[0].source

    @dg.sensor(
        name=name,
        target=dg.AssetSelection.assets(*(asset_key(spec) for spec in datasets)),
        minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
        default_status=dg.DefaultSensorStatus.STOPPED,
        description=f"Asks {source} for each dataset's last {PROBED_VALUES} values and requests the partitions "
        "whose values changed against the warehouse (revisions and new releases).",
    )
    def release_sensor(context: dg.SensorEvaluationContext, sources: SourcesResource, warehouse: WarehouseResource):
        seen = json.loads(context.cursor) if context.cursor else {}
        instant = sensor_instant(sources)
        session = sources.session()
        ranges: dict[tuple[str, str], list[tuple[DatasetSpec, str]]] = {}
        with session.client, connect(warehouse.url) as stored:
            for spec in datasets:
                window = probe_window(spec, instant)
                if window is None:
                    continue
                try:
                    answer = probe(spec, session, *window)
                except (SourceHTTPError, SourcePayloadError) as error:  # one dataset's failure stops no other
                    context.log.warning(f"{spec.id}: not probed: {error}")
                    continue
                if seen.get(str(spec.id)) == answer.digest:
                    continue
                try:
                    held = stored.reader(spec.shape).latest(str(spec.id), answer.start, answer.end, output="polars")
                except UnknownDataset:  # nothing stored yet: every value answered is new
                    held = spec.shape.empty()
                keys = partition_keys(spec, changed_dates(spec, answer.rows, held, row_dates(spec, answer.rows)))
                if keys:
                    ranges.setdefault((keys[0], keys[-1]), []).append((spec, answer.digest))
                else:
                    # Only an answer the warehouse holds is passed over next time: until then a failed or queued
                    # run is asked for again, under the same run key.
                    seen[str(spec.id)] = answer.digest
        cursor = json.dumps(seen, sort_keys=True)
        if not ranges:
            return dg.SensorResult(skip_reason=f"no changed values in {len(datasets)} datasets", cursor=cursor)
        offline = (sources.mode or settings.mode()) != "live"
        replay = {REPLAY_TAG: sources.replay_clock} if offline and sources.replay_clock else {}
        requests = [
            dg.RunRequest(
                run_key=f"{name}:{first}..{last}:" + ",".join(digest[:12] for _, digest in answers),
                asset_selection=[asset_key(spec) for spec, _ in answers],
                tags={RANGE_START: first, RANGE_END: last, **replay},
            )
            for (first, last), answers in sorted(ranges.items())
        ]
        return dg.SensorResult(run_requests=requests, cursor=cursor)

    return release_sensor


def release_sensors() -> list[dg.SensorDefinition]:
    groups: dict[str, list[DatasetSpec]] = {}
    for spec in load_catalog().datasets.values():
        if spec.source in RELEASE_SENSOR_SOURCES:
            groups.setdefault(f"{spec.source}_{partitions_name(spec)}_releases", []).append(spec)
    return [build_release_sensor(name, specs) for name, specs in sorted(groups.items())]
