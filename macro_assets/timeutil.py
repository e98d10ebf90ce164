"""The one parser of instants and dates, and the one rule that bounds a release time by the fetch that held it.

Naive datetimes mean UTC; a bare date as an instant means its midnight UTC.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import polars as pl

from macro_assets.errors import InvalidInput

Moment = str | dt.date | dt.datetime | pd.Timestamp
UTC_DATETIME = pl.Datetime("us", "UTC")


def _timestamp(value: Moment, field: str) -> pd.Timestamp:
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise InvalidInput(f"{field}: {value!r} is not a date or datetime ({exc})") from None
    if pd.isna(stamp):
        raise InvalidInput(f"{field}: {value!r} is not a date or datetime")
    return stamp


def parse_instant(value: Moment | None, *, field: str) -> dt.datetime:
    """An aware UTC datetime; None means now."""
    if value is None:
        return dt.datetime.now(dt.UTC)
    stamp = _timestamp(value, field)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.to_pydatetime()


def parse_date(value: Moment | None, *, field: str) -> dt.date | None:
    return None if value is None else _timestamp(value, field).date()


def as_utc(moment: dt.datetime) -> dt.datetime:
    """RFC 7231 dates and manifest timestamps without an offset are UTC by definition."""
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def not_after_fetch(release_time: pl.Expr, fetched_at: dt.datetime) -> pl.Expr:
    """Nothing is public later than the moment we held it: a release time past the fetch (a clock still ahead
    on the release day, a source that published early) becomes the fetch time."""
    return pl.min_horizontal(release_time, pl.lit(as_utc(fetched_at), dtype=UTC_DATETIME))
