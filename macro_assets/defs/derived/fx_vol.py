"""The USD/BRL vol surface from quote files dropped into the object store, as point-in-time vintages.

A desk drops files under `fx_vol_quotes/usdbrl/<quote_date>/<file>.csv|.parquet` (the format is
macro_assets/recordings/fx_vol_quotes/README.md: QUOTE_COLUMNS of analytics/fx_vol.py, one row per tenor). A
sensor lists the prefix and requests the partition (quote date) of every file that arrived since its cursor. The
asset copies each arrival of its partition's files to an immutable archive key stamped with the arrival instant
(the object's LastModified), so a file dropped again under the same key (a correction) does not erase the vintage
it replaces; it then computes the strike-space smile of every archived arrival with fx_vol.smile_strikes, each
vintage released at its file's arrival.

Storage: Parquet frames in the object store, one object per quote date holding every vintage (release_time per
row), through the frames IO manager. A smile row has tenor, pillar, time, forward, delta, vol and strike: no
warehouse shape holds that without scattering one surface over dozens of observation series, and a surface is
read whole. The object is a function of the immutable archive, so rewriting it on a re-run loses nothing;
as_of(T) is the latest vintage per (quote_date, tenor, pillar) released at or before T.
"""

import datetime as dt
import hashlib
import io
import json
import re
from dataclasses import dataclass

import dagster as dg
import pandas as pd
import polars as pl

from macro_assets import settings
from macro_assets.analytics import pit
from macro_assets.analytics.fx_vol import QUOTE_COLUMNS, smile_strikes
from macro_assets.defs.io_managers import AS_OF_TAG, ParquetObjectStoreIOManager, run_read_instant
from macro_assets.defs.partitions import LIVE_START, inclusive_dates, partitions
from macro_assets.defs.previews import smile_chart
from macro_assets.defs.resources import ObjectStoreResource, WarehouseResource
from macro_assets.errors import SourcePayloadError
from macro_assets.object_store import ObjectStore
from macro_assets.provenance import QuarantineRecord
from macro_assets.recordings import RECORDED_WINDOW, packaged_recordings
from macro_assets.shapes import OBSERVATIONS, UTC_DATETIME

QUOTES_SOURCE = "fx_vol_quotes"
SURFACE_ID = "derived.usdbrl_vol_surface"
QUOTES_PREFIX = "fx_vol_quotes/usdbrl/"
ARCHIVE_PREFIX = "fx_vol_quotes_archive/usdbrl/"
SURFACE_KEY = dg.AssetKey(["derived", "usdbrl_vol_surface"])
SAMPLE_KEY = dg.AssetKey(["fx_vol", "usdbrl_sample_quotes"])
FX_VOL_FRAMES_IO_MANAGER = "fx_vol_frames_io_manager"
SMILE_KEY = ["quote_date", "tenor", "pillar"]
SMILE_VALUES = ["time", "forward", "delta", "vol", "strike"]
_QUOTE_KEY = re.compile(r"(?P<date>\d{4}-\d{2}-\d{2})/(?P<name>[^/]+\.(csv|parquet))")
_ARCHIVE_KEY = re.compile(r"(?P<date>\d{4}-\d{2}-\d{2})/(?P<arrival>\d{8}T\d{12}Z)__(?P<name>[^/]+\.(csv|parquet))")
_ARRIVAL_FORMAT = "%Y%m%dT%H%M%S%fZ"
_NUMERIC = [c for c in QUOTE_COLUMNS if c not in ("quote_date", "tenor")]


@dataclass(frozen=True)
class QuoteFile:
    key: str
    quote_date: dt.date
    arrival: dt.datetime  # aware, UTC: when the object store received this content


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def quote_partitions() -> dg.PartitionsDefinition:
    """Quote dates share the daily business-day partitions (a weekend quote falls in the Friday's window)."""
    if settings.mode() == "live":
        return partitions("daily", LIVE_START, None)
    return partitions("daily", *RECORDED_WINDOW)


# ---------------------------------------------------------------------------------------------- the object store
def dropped_quote_files(store: ObjectStore) -> tuple[list[QuoteFile], list[str]]:
    """The quote files under the drop prefix, and the keys there that do not name one (wrong folder or suffix)."""
    files, strays = [], []
    for key, modified in store.list_modified(QUOTES_PREFIX):
        match = _QUOTE_KEY.fullmatch(key.removeprefix(QUOTES_PREFIX))
        day = _iso_date(match["date"]) if match else None
        if day is None:
            strays.append(key)
        else:
            files.append(QuoteFile(key, day, modified))
    return files, strays


def archived_quote_files(store: ObjectStore, start: dt.date, end: dt.date) -> list[QuoteFile]:
    archived = []
    for key in store.list(ARCHIVE_PREFIX):
        match = _ARCHIVE_KEY.fullmatch(key.removeprefix(ARCHIVE_PREFIX))
        day = _iso_date(match["date"]) if match else None
        if day is not None and start <= day <= end:
            arrival = dt.datetime.strptime(match["arrival"], _ARRIVAL_FORMAT).replace(tzinfo=dt.UTC)
            archived.append(QuoteFile(key, day, arrival))
    return sorted(archived, key=lambda f: (f.quote_date, f.arrival, f.key))


def archive_key(dropped: QuoteFile) -> str:
    name = dropped.key.rsplit("/", 1)[1]
    return f"{ARCHIVE_PREFIX}{dropped.quote_date}/{dropped.arrival.strftime(_ARRIVAL_FORMAT)}__{name}"


def _iso_date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


# ---------------------------------------------------------------------------------------------- parsing, pure
@dataclass(frozen=True)
class ParsedQuotes:
    rows: pl.DataFrame  # QUOTE_COLUMNS typed, plus row_number
    rejected: list[tuple[int, str, str, str]]  # (row number, field, raw row as JSON, reason)


def _row_rules(folder_date: dt.date) -> list[tuple[str, pl.Expr, str]]:
    """(field, expression true on a bad row, reason), in the order a row is judged: the first that fails names it."""
    number = {c: pl.col(c).cast(pl.Float64, strict=False) for c in _NUMERIC}
    rules = [
        ("quote_date", pl.col("quote_date").str.to_date("%Y-%m-%d", strict=False).is_null(), "not an ISO date"),
        (
            "quote_date",
            pl.col("quote_date").str.to_date("%Y-%m-%d", strict=False) != folder_date,
            f"is not the date of the file's folder ({folder_date})",
        ),
        ("tenor", pl.col("tenor").str.strip_chars().fill_null("") == "", "is empty"),
        ("tenor", pl.col("tenor").is_duplicated(), "repeats within the file"),
    ]
    rules += [(c, ~number[c].is_finite().fill_null(False), "is not a finite number") for c in _NUMERIC]
    rules += [
        ("time", number["time"] <= 0, "must be a positive year fraction"),
        ("spot", number["spot"] <= 0, "must be positive"),
        ("rate_domestic", number["rate_domestic"].abs() >= 1, "must be a decimal rate in (-1, 1)"),
        ("rate_foreign", number["rate_foreign"].abs() >= 1, "must be a decimal rate in (-1, 1)"),
        ("atm_vol", (number["atm_vol"] <= 0) | (number["atm_vol"] >= 2), "must be a decimal vol in (0, 2)"),
    ]
    for size in ("25", "10"):
        wing = number["atm_vol"] + number[f"bf{size}"]
        half = number[f"rr{size}"].abs() / 2
        rules.append((f"rr{size}", wing - half <= 0, f"with bf{size} gives a non-positive {size}-delta vol"))
    return rules


def parse_quote_file(key: str, folder_date: dt.date, data: bytes) -> ParsedQuotes:
    """A quote file's rows as QUOTE_COLUMNS, the rows that break a rule set aside with the field and the reason.
    A file that cannot be read or lacks a column raises SourcePayloadError naming the file and the field."""
    try:
        if key.endswith(".parquet"):
            raw = pl.read_parquet(io.BytesIO(data))
            raw = raw.with_columns(pl.all().cast(pl.String))
        else:
            raw = pl.read_csv(io.BytesIO(data), infer_schema=False)
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise _refused(key, "(file)", f"cannot be read as {key.rsplit('.', 1)[1]} ({exc})") from None
    missing = [c for c in QUOTE_COLUMNS if c not in raw.columns]
    if missing:
        raise _refused(key, missing[0], f"missing column(s) {', '.join(missing)} (has {', '.join(raw.columns)})")
    raw = raw.select(QUOTE_COLUMNS).with_row_index("row_number", offset=1)
    rules = _row_rules(folder_date)
    failed = raw.with_columns(
        failed=pl.coalesce([pl.when(bad.fill_null(True)).then(pl.lit(i)) for i, (_, bad, _) in enumerate(rules)])
    )
    rejected = [
        (
            row["row_number"],
            rules[row["failed"]][0],
            json.dumps({c: row[c] for c in QUOTE_COLUMNS}),
            rules[row["failed"]][2],
        )
        for row in failed.filter(pl.col("failed").is_not_null()).iter_rows(named=True)
    ]
    rows = failed.filter(pl.col("failed").is_null()).select(
        "row_number",
        pl.col("quote_date").str.to_date("%Y-%m-%d"),
        pl.col("tenor").str.strip_chars(),
        *(pl.col(c).cast(pl.Float64) for c in _NUMERIC),
    )
    return ParsedQuotes(rows, rejected)


def _refused(key: str, field: str, problem: str) -> SourcePayloadError:
    return SourcePayloadError(QUOTES_SOURCE, SURFACE_ID, field, f"file {key}: {problem}")


def surface_vintages(arrivals: list[tuple[QuoteFile, pl.DataFrame]]) -> pl.DataFrame:
    """The smile of every arrival's quotes, released at its arrival. A tenor quoted again with the same values
    adds no vintage (as in the warehouse); quote_date, tenor, pillar, release_time, the smile, source_key."""
    quotes = [
        rows.drop("row_number").with_columns(
            release_time=pl.lit(arrival.arrival, dtype=UTC_DATETIME), source_key=pl.lit(arrival.key)
        )
        for arrival, rows in arrivals
        if rows.height
    ]
    if not quotes:
        return pl.DataFrame(
            schema={"quote_date": pl.Date, "tenor": pl.String, "pillar": pl.String, "release_time": UTC_DATETIME}
            | dict.fromkeys(SMILE_VALUES, pl.Float64)
            | {"source_key": pl.String}
        )
    changed = [c for c in QUOTE_COLUMNS if c not in ("quote_date", "tenor")]
    quotes = (
        pl.concat(quotes)
        .sort("quote_date", "tenor", "release_time")
        .filter(
            pl.any_horizontal(pl.col(c).ne_missing(pl.col(c).shift(1)) for c in changed).over("quote_date", "tenor")
            | (pl.int_range(pl.len()) == 0).over("quote_date", "tenor")
        )
    )
    smiles = [
        smile_strikes(group.drop("release_time", "source_key")).with_columns(
            release_time=pl.lit(group["release_time"][0], dtype=UTC_DATETIME), source_key=pl.lit(group["source_key"][0])
        )
        for _, group in quotes.group_by("release_time", "source_key", maintain_order=True)
    ]
    return (
        pl.concat(smiles)
        .select(*SMILE_KEY, "release_time", *SMILE_VALUES, "source_key")
        .sort("quote_date", "time", "release_time", "strike")
    )


def surface_as_of(vintages: pl.DataFrame, instant: dt.datetime) -> pl.DataFrame:
    """The surface known at `instant`: each (quote_date, tenor, pillar)'s latest vintage released by then."""
    return pit.as_of(vintages.drop("source_key"), instant, id_column="quote_date", key_columns=("tenor", "pillar"))


# ---------------------------------------------------------------------------------------------- Dagster wiring
@dataclass(frozen=True)
class ReadArrivals:
    arrivals: list[tuple[QuoteFile, pl.DataFrame]]
    quarantined: list[QuarantineRecord]
    refusal: SourcePayloadError | None  # the first file that could not be read at all; reading stopped there


def _read_arrivals(store: ObjectStore, files: list[QuoteFile]) -> ReadArrivals:
    arrivals, quarantined = [], []
    for archived in files:
        data = store.get(archived.key)
        sha256 = hashlib.sha256(data).hexdigest()
        try:
            parsed = parse_quote_file(archived.key, archived.quote_date, data)
        except SourcePayloadError as error:
            raw = data[:2000].decode("utf-8", "replace")
            quarantined.append(QuarantineRecord(QUOTES_SOURCE, SURFACE_ID, sha256, -1, error.field, raw, str(error)))
            return ReadArrivals(arrivals, quarantined, error)
        arrivals.append((archived, parsed.rows))
        quarantined += [
            QuarantineRecord(QUOTES_SOURCE, SURFACE_ID, sha256, row, field, raw, f"file {archived.key}: {field} {why}")
            for row, field, raw, why in parsed.rejected
        ]
    return ReadArrivals(arrivals, quarantined, None)


def build_sample_quotes_asset() -> dg.AssetsDefinition:
    samples = packaged_recordings() / "fx_vol_quotes" / "usdbrl"

    @dg.asset(
        key=SAMPLE_KEY,
        group_name="fx_vol",
        description="Offline default only: uploads the hand-made sample quote files "
        "(macro_assets/recordings/fx_vol_quotes, not market data) of the run's quote dates to the drop prefix, "
        "where the surface reads them like any dropped file. A file already there with the same bytes is left "
        "alone, so its arrival (and the surface's vintage) stays the first upload's.",
        partitions_def=quote_partitions(),
        backfill_policy=dg.BackfillPolicy.single_run(),
        kinds={"s3"},
        owners=["team:macro-research"],
        tags={"shape": "files"},
    )
    def usdbrl_sample_quotes(
        context: dg.AssetExecutionContext, object_store: ObjectStoreResource
    ) -> dg.MaterializeResult:
        start, end = inclusive_dates(context.partition_time_window)
        store = object_store.open()
        uploaded, unchanged = [], 0
        for path in sorted(samples.glob("*/*.csv")):
            day = _iso_date(path.parent.name)
            if day is None or not start <= day <= end:
                continue
            key, data = f"{QUOTES_PREFIX}{day}/{path.name}", path.read_bytes()
            if store.exists(key) and store.get(key) == data:
                unchanged += 1
                continue
            store.put(key, data, content_type="text/csv")
            uploaded.append(key)
        context.add_asset_metadata(
            {"uploaded": dg.MetadataValue.json(uploaded), "unchanged": unchanged},
            partition_key=context.partition_keys[-1],
        )
        return dg.MaterializeResult()

    return usdbrl_sample_quotes


def build_surface_asset() -> dg.AssetsDefinition:
    @dg.asset(
        key=SURFACE_KEY,
        group_name="fx_vol",
        description="USD/BRL implied vols in strike space (10P, 25P, ATM DNS, 25C, 10C per tenor; Garman-Kohlhagen, "
        "forward delta, premium not adjusted) from the quote files dropped under fx_vol_quotes/usdbrl/<date>/. "
        "Every arrival of a file is a vintage released at its arrival (object LastModified). Parquet per quote date.",
        deps=[SAMPLE_KEY] if settings.mode() == "offline" else [],
        partitions_def=quote_partitions(),
        backfill_policy=dg.BackfillPolicy.single_run(),
        io_manager_key=FX_VOL_FRAMES_IO_MANAGER,
        kinds={"parquet", "s3", "python"},
        owners=["team:macro-research"],
        tags={"freq": "daily", "shape": "vol_surface"},
        metadata={"dataset_id": SURFACE_ID, "quote_prefix": QUOTES_PREFIX, "quote_columns": ", ".join(QUOTE_COLUMNS)},
    )
    def usdbrl_surface(
        context: dg.AssetExecutionContext, object_store: ObjectStoreResource, warehouse: WarehouseResource
    ) -> pd.DataFrame:
        start, end = inclusive_dates(context.partition_time_window)
        # Files are the only input, and the offline default uploads them in the same run: without an as-of tag the
        # store is read as it is when the asset lists it (one instant for all its reads), not at the run's creation.
        tags = context.run.tags
        instant = run_read_instant(context.instance, context.run.run_id, tags) if AS_OF_TAG in tags else now()
        store = object_store.open()
        dropped, strays = dropped_quote_files(store)
        for file in dropped:
            if start <= file.quote_date <= end and file.arrival <= instant and not store.exists(archive_key(file)):
                store.put(archive_key(file), store.get(file.key))
        archived = [f for f in archived_quote_files(store, start, end) if f.arrival <= instant]
        read = _read_arrivals(store, archived)
        if read.quarantined:  # recorded before a refusal fails the run, as for a refused payload
            warehouse.open().pipeline.append(OBSERVATIONS, OBSERVATIONS.empty(), quarantine=read.quarantined)
        if read.refusal is not None:
            raise read.refusal
        vintages = surface_vintages(read.arrivals)
        metadata = {
            "read_instant": instant.isoformat(),
            "files_read": len(read.arrivals),
            "vintages": vintages.select("quote_date", "tenor", "release_time").n_unique(),
            "rows_quarantined": len(read.quarantined),
            "stray_keys": dg.MetadataValue.json(strays[:20]),
        }
        if vintages.height:
            metadata["chart"] = dg.MetadataValue.md(
                f"![vol smile](data:image/png;base64,{smile_chart(surface_as_of(vintages, instant))})"
            )
        context.add_asset_metadata(metadata, partition_key=context.partition_keys[-1])
        return vintages.to_pandas()

    return usdbrl_surface


def stored_frames(io_manager: ParquetObjectStoreIOManager, key: dg.AssetKey) -> pl.DataFrame | None:
    """Every current partition object of a frames asset (not the as-of runs' copies), or None when none is; the
    IO manager's date column back as dates (pandas wrote it as datetimes)."""
    store = io_manager.object_store.open()
    prefix = f"{io_manager.prefix}/{'/'.join(key.path)}/"
    keys = [k for k in store.list(prefix) if "/" not in k.removeprefix(prefix)]
    parts = [pl.read_parquet(io.BytesIO(store.get(k))) for k in keys]
    parts = [part for part in parts if part.height]
    if not parts:
        return None
    return pl.concat(parts).with_columns(pl.col(io_manager.date_column).cast(pl.Date))


def build_surface_check() -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=SURFACE_KEY,
        name="as_of_equals_recomputation",
        description="At every instant a stored vintage was released, the stored surface as of that instant equals "
        "smile_strikes of the archived quote files arrived by then; and every smile is ordered (strikes rise "
        "10P < 25P < ATM < 25C < 10C) with finite, positive vols.",
    )
    def surface_check(
        fx_vol_frames_io_manager: dg.ResourceParam[ParquetObjectStoreIOManager], object_store: ObjectStoreResource
    ) -> dg.AssetCheckResult:
        stored = stored_frames(fx_vol_frames_io_manager, SURFACE_KEY)
        if stored is None:
            return dg.AssetCheckResult(passed=True, metadata={"instants_compared": 0, "note": "nothing stored yet"})
        store = object_store.open()
        first, last = stored["quote_date"].min(), stored["quote_date"].max()
        arrivals = _read_arrivals(store, archived_quote_files(store, first, last)).arrivals
        mismatches = []
        instants = stored["release_time"].unique().sort().to_list()
        for instant in instants:
            held = surface_as_of(stored, instant)
            recomputed = surface_as_of(surface_vintages([a for a in arrivals if a[0].arrival <= instant]), instant)
            if not _same_surface(held, recomputed):
                mismatches.append(instant.isoformat())
        unordered = (
            stored.sort("quote_date", "tenor", "release_time", "strike")
            .group_by("quote_date", "tenor", "release_time")
            .agg(ordered=pl.col("pillar").str.join(",") == "10P,25P,ATM,25C,10C", sane=(pl.col("vol") > 0).all())
            .filter(~pl.col("ordered") | ~pl.col("sane"))
        )
        return dg.AssetCheckResult(
            passed=not mismatches
            and unordered.is_empty()
            and all(stored.select(pl.col(SMILE_VALUES).is_finite().all()).row(0)),
            metadata={
                "instants_compared": len(instants),
                "mismatches": dg.MetadataValue.json(mismatches[:5]),
                "unordered_smiles": unordered.height,
            },
        )

    return surface_check


def _same_surface(held: pl.DataFrame, recomputed: pl.DataFrame) -> bool:
    keys = ["quote_date", "tenor", "pillar", "release_time"]
    if held.height != recomputed.height:
        return False
    joined = held.join(recomputed, on=keys, how="left", suffix="_recomputed")
    return bool(
        joined.select(
            pl.all_horizontal(
                ((pl.col(c) - pl.col(f"{c}_recomputed")).abs() <= 1e-12).fill_null(False) for c in SMILE_VALUES
            ).all()
        ).item()
    )


def _partition_of(definition: dg.TimeWindowPartitionsDefinition, day: dt.date) -> str | None:
    """The partition whose window holds the quote date, None outside the partitions."""
    key = definition.get_partition_key_for_timestamp(dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC).timestamp())
    return key if definition.has_partition_key(key) else None


def build_quotes_sensor() -> dg.SensorDefinition:
    @dg.sensor(
        name="usdbrl_vol_quotes_sensor",
        target=dg.AssetSelection.assets(SURFACE_KEY),
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Lists fx_vol_quotes/usdbrl/ and requests the quote-date partition of every file that arrived "
        "after the cursor (the newest LastModified seen, with the keys seen at that instant). S3 stamps "
        "LastModified to the second: a key dropped twice within one second is one arrival.",
    )
    def usdbrl_vol_quotes_sensor(context: dg.SensorEvaluationContext, object_store: ObjectStoreResource):
        cursor = json.loads(context.cursor) if context.cursor else {"modified": None, "keys": []}
        seen = dt.datetime.fromisoformat(cursor["modified"]) if cursor["modified"] else None
        files, strays = dropped_quote_files(object_store.open())
        new = [
            f for f in files if seen is None or f.arrival > seen or (f.arrival == seen and f.key not in cursor["keys"])
        ]
        for key in strays:
            context.log.warning(f"{key}: not a quote file (expected {QUOTES_PREFIX}<YYYY-MM-DD>/<name>.csv|.parquet)")
        if not new:
            return dg.SkipReason("no quote file arrived since the cursor")
        definition = quote_partitions()
        by_partition: dict[str, list[QuoteFile]] = {}
        for file in new:
            partition = _partition_of(definition, file.quote_date)
            if partition is None:
                context.log.warning(f"{file.key}: quote date {file.quote_date} is outside the partitions")
                continue
            by_partition.setdefault(partition, []).append(file)
        newest = max(f.arrival for f in new)
        at_newest = {f.key for f in new if f.arrival == newest} | (set(cursor["keys"]) if newest == seen else set())
        requests = [
            dg.RunRequest(
                run_key=f"{partition}@{max(f.arrival for f in arrived).isoformat()}",
                partition_key=partition,
                asset_selection=[SURFACE_KEY],
            )
            for partition, arrived in sorted(by_partition.items())
        ]
        return dg.SensorResult(
            run_requests=requests, cursor=json.dumps({"modified": newest.isoformat(), "keys": sorted(at_newest)})
        )

    return usdbrl_vol_quotes_sensor


def fx_vol_definitions() -> dg.Definitions:
    offline = settings.mode() == "offline"
    return dg.Definitions(
        assets=[*([build_sample_quotes_asset()] if offline else []), build_surface_asset()],
        asset_checks=[build_surface_check()],
        sensors=[build_quotes_sensor()],
        resources={
            FX_VOL_FRAMES_IO_MANAGER: ParquetObjectStoreIOManager(
                object_store=ObjectStoreResource(), date_column="quote_date"
            )
        },
    )
