"""Observation frames: the one shape every source produces and every read returns.

Columns: series_id, obs_date, value, release_time, release_basis (+ payload_sha256 on the write path).
Naive datetimes mean UTC. Pure functions only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io

import pandas as pd
import polars as pl

RELEASE_BASES = ("vintage", "estimated", "observed")
READ_COLUMNS = ["series_id", "obs_date", "value", "release_time", "release_basis"]
WRITE_COLUMNS = ["series_id", "obs_date", "release_time", "value", "release_basis", "payload_sha256"]
WRITE_SCHEMA = {"series_id": pl.String, "obs_date": pl.Date, "release_time": pl.Datetime("us", "UTC"),
                "value": pl.Float64, "release_basis": pl.String, "payload_sha256": pl.String}
VINTAGE_KEY = ["series_id", "obs_date", "release_time"]


class FrameError(ValueError):
    """A frame handed to the write path is malformed; the message names the column."""


def _timestamp(value: str | dt.date | dt.datetime | pd.Timestamp, field: str) -> pd.Timestamp:
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{field}: {value!r} is not a date or datetime ({exc})") from None
    if pd.isna(stamp):
        raise ValueError(f"{field}: {value!r} is not a date or datetime")
    return stamp


def to_utc_timestamp(value: str | dt.date | dt.datetime | pd.Timestamp | None, *, field: str) -> dt.datetime:
    """Parse an instant; naive means UTC, a bare date means its midnight UTC, None means now."""
    if value is None:
        return dt.datetime.now(dt.UTC)
    stamp = _timestamp(value, field)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.to_pydatetime()


def to_date(value: str | dt.date | dt.datetime | pd.Timestamp | None, *, field: str) -> dt.date | None:
    return None if value is None else _timestamp(value, field).date()


def normalize_for_write(frame: pd.DataFrame | pl.DataFrame) -> pl.DataFrame:
    """Validate and type a frame for the append path.

    release_basis defaults to 'observed' and payload_sha256 to the hash of the frame itself, so a frame written by
    hand is still traceable to the exact rows that were appended.
    """
    table = frame if isinstance(frame, pl.DataFrame) else pl.from_pandas(frame.reset_index(drop=True))
    missing = [c for c in ("series_id", "obs_date", "value", "release_time") if c not in table.columns]
    if missing:
        raise FrameError(f"append: frame lacks column(s) {missing}; expected {WRITE_COLUMNS}")
    if "release_basis" not in table.columns:
        table = table.with_columns(release_basis=pl.lit("observed"))
    if "payload_sha256" not in table.columns:
        table = table.with_columns(payload_sha256=pl.lit(frame_sha256(table)))
    try:
        table = table.select(
            pl.col("series_id").cast(pl.String),
            pl.col("obs_date").str.to_date() if table.schema["obs_date"] == pl.String else pl.col("obs_date").cast(pl.Date),
            _utc(table.schema["release_time"]),
            pl.col("value").cast(pl.Float64),
            pl.col("release_basis").cast(pl.String),
            pl.col("payload_sha256").cast(pl.String),
        )
    except pl.exceptions.PolarsError as exc:
        raise FrameError(f"append: a column has the wrong type ({exc})") from None
    for column in ("series_id", "obs_date", "release_time", "release_basis", "payload_sha256"):
        if table[column].null_count():
            raise FrameError(f"append: column {column!r} has empty values")
    bad_basis = set(table["release_basis"].unique()) - set(RELEASE_BASES)
    if bad_basis:
        raise FrameError(f"append: column 'release_basis' has {sorted(bad_basis)}; expected one of {RELEASE_BASES}")
    if not table["value"].drop_nulls().is_finite().all():
        raise FrameError("append: column 'value' has a non-finite number (quarantine it before writing)")
    return table


def _utc(dtype: pl.DataType) -> pl.Expr:
    column = pl.col("release_time")
    if dtype == pl.String:
        column = column.str.to_datetime(time_zone="UTC", time_unit="us")
    elif isinstance(dtype, pl.Datetime) and dtype.time_zone is None:
        column = column.dt.replace_time_zone("UTC")
    return column.cast(pl.Datetime("us", "UTC")).dt.convert_time_zone("UTC")


def frame_sha256(table: pl.DataFrame) -> str:
    buffer = io.BytesIO()  # the same UTF-8 bytes as write_csv().encode(), without a round trip through str
    table.write_csv(buffer)
    return hashlib.sha256(buffer.getbuffer()).hexdigest()


def split_conflicting_duplicates(table: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Drop exact duplicate vintages; return (clean, conflicting) where conflicting rows share a vintage key
    with a different value and cannot be told apart."""
    if not table.select(pl.struct(VINTAGE_KEY).is_duplicated().any()).item():
        return table, table.clear()  # the usual batch: a third of the cost of the general case below
    table = table.unique(subset=[*VINTAGE_KEY, "value"], keep="first", maintain_order=True)
    duplicated = table.select(pl.struct(VINTAGE_KEY).is_duplicated()).to_series()
    return table.filter(~duplicated), table.filter(duplicated)


def collapse_unchanged_vintages(table: pl.DataFrame) -> pl.DataFrame:
    """The append rule applied within one batch: keep a vintage only when its value differs from the previous
    vintage of the same observation; a withdrawal (null) of something never published is no vintage at all."""
    ordered = table.sort(VINTAGE_KEY)
    # Once sorted, a row's previous vintage is the row above when both are of one observation: comparing
    # neighbours is some twenty times cheaper than the equivalent window functions over (series_id, obs_date).
    same_observation = ((pl.col("series_id") == pl.col("series_id").shift(1))
                        & (pl.col("obs_date") == pl.col("obs_date").shift(1))).fill_null(False)
    keep = (pl.when(same_observation).then(pl.col("value").ne_missing(pl.col("value").shift(1)))
            .otherwise(pl.col("value").is_not_null()))
    return ordered.filter(keep)


def empty_read_frame() -> pd.DataFrame:
    # "str" is what a non-empty read's text columns are: pandas' string dtype under pandas 3, object under 2.
    return pd.DataFrame({
        "series_id": pd.Series(dtype="str"),
        "obs_date": pd.Series(dtype="datetime64[us]"),
        "value": pd.Series(dtype="float64"),
        "release_time": pd.Series(dtype="datetime64[us, UTC]"),
        "release_basis": pd.Series(dtype="str"),
    })
