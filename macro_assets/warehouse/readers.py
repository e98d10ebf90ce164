"""Point-in-time reads, one reader per shape, all with one vocabulary.

Every read takes one id or a list of ids, an `as_of` instant (None: now; naive: UTC) and returns rows ordered by
id, key and release time: the id column, the key columns, the values, release_time and release_basis, as pandas
(the default), polars or arrow.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import re
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa

from macro_assets.errors import InvalidInput, UnknownDataset
from macro_assets.shapes import BARS, CURVE_POINTS, OBSERVATIONS, Shape
from macro_assets.timeutil import Moment, parse_date, parse_instant
from macro_assets.warehouse import frames
from macro_assets.warehouse.db import Database, distinct_ids_sql, first_key, joined
from macro_assets.warehouse.wire import Wire

Ids = str | Sequence[str]
Frame = pd.DataFrame | pl.DataFrame | pa.Table
# Connections one read may use at once (the server scans one id's rows on one core; connect() pools four), and the
# fewest ids worth a connection of their own.
READ_CONNECTIONS = 4
IDS_PER_CONNECTION = 16


class Reader:
    """Reads of one shape's table."""

    def __init__(self, db: Database, shape: Shape):
        self._db = db
        self.shape = shape
        self._stored: set[str] = set()  # ids seen stored: the tables are append-only, so they stay stored
        self._columns = frames.read_columns(shape)
        self._schema = frames.read_schema(shape)
        self._wire = Wire(shape, self._columns, self._schema)
        table, ident, first = shape.table, shape.id_column, first_key(shape)
        keys, values = shape.key_columns, shape.value_columns
        columns = joined(self._columns)
        window = f"{ident} = wanted.id AND {first} BETWEEN %(first)s AND %(last)s AND release_time <= %(instant)s"
        published = f"num_nonnulls({joined(values)}) > 0"

        # One index scan of the primary key per id (the subquery is correlated with the id, and ordered): nothing
        # is sorted. Sorting every vintage (what one DISTINCT ON over all the ids is planned as) was most of the
        # time of a read. The newest vintage of each key comes first in a backward scan, so DISTINCT ON keeps it;
        # those rows arrive newest first and are turned round on the client.
        self._as_of_sql = self._wire.select(
            f"SELECT * FROM (SELECT DISTINCT ON ({joined(keys)}) {columns} FROM {table} WHERE {window}"
            f" ORDER BY {joined(f'{k} DESC' for k in keys)}, release_time DESC) latest WHERE {published}"
        )
        self._first_release_sql = self._wire.select(
            f"SELECT DISTINCT ON ({joined(keys)}) {columns} FROM {table} WHERE {window} AND {published}"
            f" ORDER BY {joined(keys)}, release_time"
        )
        self._vintages_sql = self._wire.select(
            f"SELECT {columns} FROM {table} WHERE {window} ORDER BY {joined(keys)}, release_time"
        )
        distinct_keys = keys[0] if len(keys) == 1 else f"ROW({joined(keys)})"
        self._info_sql = (
            f"SELECT min({first}), max({first}), count(DISTINCT {distinct_keys}), count(*),"
            f" count(*) FILTER (WHERE NOT {published}), min(release_time), max(release_time)"
            f" FROM {table} WHERE {ident} = %(id)s"
        )
        self._vintage_dates_sql = (
            f"SELECT DISTINCT release_time FROM {table}"
            f" WHERE {ident} = %(id)s AND release_time <= %(instant)s ORDER BY 1"
        )
        self._list_sql = distinct_ids_sql(shape)
        self._stored_sql = (
            f"SELECT wanted FROM unnest(%(ids)s::text[]) AS wanted"
            f" WHERE EXISTS (SELECT 1 FROM {table} WHERE {ident} = wanted)"
        )

    # ------------------------------------------------------------------------------------------ the verbs
    def as_of(
        self,
        ids: Ids,
        as_of: Moment | None = None,
        start: Moment | None = None,
        end: Moment | None = None,
        *,
        output: str = "pandas",
    ) -> Frame:
        """For each key in [start, end], the latest vintage released at or before `as_of` (now by default).

        Keys not yet released at that instant are absent, and so are keys whose latest vintage then was a
        withdrawal.
        """
        return frames.to_output(self._as_of(ids, as_of, start, end, output), output)

    def latest(
        self, ids: Ids, start: Moment | None = None, end: Moment | None = None, *, output: str = "pandas"
    ) -> Frame:
        """The newest vintage of every key released by now: what the source says today."""
        return self.as_of(ids, None, start, end, output=output)

    def first_release(
        self,
        ids: Ids,
        start: Moment | None = None,
        end: Moment | None = None,
        as_of: Moment | None = None,
        *,
        output: str = "pandas",
    ) -> Frame:
        """The first published (non-null) vintage of every key among those released by `as_of`: what a real-time
        observer saw at release."""
        frames.check_output(output)
        params = self._params(ids, start, end, as_of)
        return frames.to_output(self._read(self._first_release_sql, params), output)

    def vintages(
        self,
        ids: Ids,
        start: Moment | None = None,
        end: Moment | None = None,
        as_of: Moment | None = None,
        *,
        output: str = "pandas",
    ) -> Frame:
        """Every stored vintage released by `as_of`, withdrawals included (as nulls), by key then release time."""
        frames.check_output(output)
        params = self._params(ids, start, end, as_of)
        return frames.to_output(self._read(self._vintages_sql, params), output)

    def vintage_dates(self, id: str, as_of: Moment | None = None) -> list[dt.datetime]:
        """The distinct release instants of a dataset up to `as_of`, oldest first (aware, UTC)."""
        self._require_known(self._ids(id))
        with self._db.cursor() as cursor:
            cursor.execute(self._vintage_dates_sql, {"id": id, "instant": parse_instant(as_of, field="as_of")})
            return [row[0].astimezone(dt.UTC) for row in cursor.fetchall()]

    def info(self, id: str) -> dict:
        """Stored facts about one dataset: its first and last key (start, end), how many keys, vintages and
        withdrawals it has, and its first and last release instants."""
        self._require_known(self._ids(id))
        with self._db.cursor() as cursor:
            cursor.execute(self._info_sql, {"id": id})
            start, end, keys, vintages, withdrawals, first_release, last_release = cursor.fetchone()
        return {
            "id": id,
            "shape": self.shape.name,
            "start": _utc(start),
            "end": _utc(end),
            "keys": keys,
            "vintages": vintages,
            "withdrawals": withdrawals,
            "first_release_time": _utc(first_release),
            "last_release_time": _utc(last_release),
        }

    def list(self) -> list[str]:
        """Every id stored in this shape's table, sorted."""
        with self._db.cursor() as cursor:
            cursor.execute(self._list_sql)
            return [row[0] for row in cursor.fetchall()]

    def search(self, text: str) -> list[str]:
        """The stored ids containing `text`, case-insensitively."""
        needle = text.casefold()
        return [i for i in self.list() if needle in i.casefold()]

    # ------------------------------------------------------------------------------------------- internals
    def _as_of(self, ids: Ids, as_of: Moment | None, start: Moment | None, end: Moment | None, output: str) -> pa.Table:
        frames.check_output(output)
        return self._read(self._as_of_sql, self._params(ids, start, end, as_of), reverse=True)

    def _params(self, ids: Ids, start: Moment | None, end: Moment | None, as_of: Moment | None) -> dict:
        wanted = self._ids(ids)
        first, last = self._window(start, end)
        instant = parse_instant(as_of, field="as_of")
        self._require_known(wanted)
        return {"ids": sorted(set(wanted)), "first": first, "last": last, "instant": instant}

    @staticmethod
    def _ids(ids: Ids) -> list[str]:
        wanted = [ids] if isinstance(ids, str) else list(ids)
        if not wanted:
            raise InvalidInput("ids: give at least one id")
        bad = [i for i in wanted if not isinstance(i, str)]
        if bad:
            raise InvalidInput(f"ids: {bad!r} are not ids (strings)")
        return wanted

    def _window(self, start: Moment | None, end: Moment | None) -> tuple:
        """The inclusive bounds of the first key; 'infinity' where none is given. A time key (a bar's start, a
        record's event time) is bounded by instants, a bare date being its whole UTC day."""
        if isinstance(self.shape.key_schema[first_key(self.shape)], pl.Datetime):
            first = _instant_bound(start, "start", end_of_day=False)
            last = _instant_bound(end, "end", end_of_day=True)
        else:
            first, last = parse_date(start, field="start"), parse_date(end, field="end")
        if first is not None and last is not None and first > last:
            raise InvalidInput(f"start {first} is after end {last}")
        return first if first is not None else "-infinity", last if last is not None else "infinity"

    def _require_known(self, ids: list[str]) -> None:
        unknown = [i for i in ids if i not in self._stored and i not in self._db.known()]
        if not unknown:
            return
        with self._db.cursor() as cursor:
            cursor.execute(self._stored_sql, {"ids": unknown})
            self._stored.update(row[0] for row in cursor.fetchall())
        missing = [i for i in unknown if i not in self._stored]
        if missing:
            raise UnknownDataset(
                f"unknown {self.shape.name} dataset(s) {', '.join(map(repr, missing))}: "
                "not known to this warehouse and never stored"
            )

    def _read(self, query: str, params: dict, reverse: bool = False) -> pa.Table:
        """The rows of `query` for params["ids"], id by id; many ids are read by a few connections at once (the
        server scans each id's rows on one core), each taking a contiguous run of the ids."""
        ids = params["ids"]
        runs = min(READ_CONNECTIONS, len(ids) // IDS_PER_CONNECTION) or 1
        if runs == 1:
            return self._copy(query, params, reverse)
        cut = np.linspace(0, len(ids), runs + 1).astype(int)
        chunks = [ids[a:b] for a, b in itertools.pairwise(cut)]
        with ThreadPoolExecutor(runs) as pool:
            tables = pool.map(lambda chunk: self._copy(query, {**params, "ids": chunk}, reverse), chunks)
            return pa.concat_tables(list(tables))

    def _copy(self, query: str, params: dict, reverse: bool) -> pa.Table:
        buffer = io.BytesIO()
        with self._db.cursor() as cursor:
            statement = cursor.mogrify(query, params).decode()
            cursor.copy_expert(f"COPY ({statement}) TO STDOUT WITH (FORMAT binary)", buffer)
        return self._wire.decode(buffer.getvalue(), params["ids"], reverse=reverse)


def _utc(value):
    return value.astimezone(dt.UTC) if isinstance(value, dt.datetime) else value


class ObservationsReader(Reader):
    """Observations: one value per series and date (`start`/`end` bound obs_date)."""

    def __init__(self, db: Database):
        super().__init__(db, OBSERVATIONS)

    def revisions(self, id: str, obs_date: Moment, as_of: Moment | None = None, *, output: str = "pandas") -> Frame:
        """Every vintage of one observation released by `as_of`, oldest first; a withdrawal shows as null."""
        day = parse_date(obs_date, field="obs_date")
        if day is None:
            raise InvalidInput("obs_date: a date is required")
        return self.vintages(id, day, day, as_of, output=output)


class CurvesReader(Reader):
    """Curves: one row per point of a curve on a curve date (`start`/`end` bound curve_date)."""

    def __init__(self, db: Database):
        super().__init__(db, CURVE_POINTS)
        self._maturity_schema = self._schema.append(pa.field("days_to_maturity", pa.int64())).append(
            pa.field("business_days_to_maturity", pa.int64())
        )

    def as_of(
        self,
        ids: Ids,
        as_of: Moment | None = None,
        start: Moment | None = None,
        end: Moment | None = None,
        *,
        holidays: Iterable[dt.date] | None = None,
        output: str = "pandas",
    ) -> Frame:
        """The curve points known at `as_of`, plus days_to_maturity (calendar days from curve_date to
        maturity_date), business_days_to_maturity (weekdays in [curve_date, maturity_date) that are not in
        `holidays`, by default the curve's own calendar when connect() was given one) and tenor_years (the stored
        tenor when set, else days_to_maturity / 365.25)."""
        table = pl.from_arrow(self._as_of(ids, as_of, start, end, output))
        curve = table["curve_date"].to_numpy().astype("datetime64[D]")
        # busday_count takes no missing dates: a point without a maturity counts zero days, then becomes null.
        matures = table["maturity_date"].fill_null(table["curve_date"]).to_numpy().astype("datetime64[D]")
        counts = np.zeros(table.height, dtype=np.int64)
        ids = table[self.shape.id_column]
        for curve_id in ids.unique().to_list():
            rows = (ids == curve_id).to_numpy()
            offdays = self._offdays(curve_id, holidays, curve[rows], matures[rows])
            counts[rows] = np.busday_count(curve[rows], matures[rows], holidays=offdays)
        business = pl.Series(counts, dtype=pl.Int64)
        table = table.with_columns(
            days_to_maturity=(pl.col("maturity_date") - pl.col("curve_date")).dt.total_days(),
            business_days_to_maturity=pl.when(pl.col("maturity_date").is_not_null()).then(pl.lit(business)),
        ).with_columns(tenor_years=pl.col("tenor_years").fill_null(pl.col("days_to_maturity") / 365.25))
        return frames.to_output(table.to_arrow().cast(self._maturity_schema), output)

    def _offdays(self, curve_id: str, holidays, curve: np.ndarray, matures: np.ndarray) -> np.ndarray:
        if holidays is None and self._db.holidays_for is not None and len(curve):
            first, last = curve.min().astype(dt.date), matures.max().astype(dt.date)
            holidays = self._db.holidays_for(curve_id, first, last)
        return np.array(
            [np.datetime64(parse_date(d, field="holidays"), "D") for d in holidays or ()], dtype="datetime64[D]"
        )


_RESAMPLE = re.compile(r"[1-9][0-9]*[mhd]")


class BarsReader(Reader):
    """Bars: one row per bar start (`start`/`end` bound bar_time: a bare date is its whole UTC day)."""

    def __init__(self, db: Database):
        super().__init__(db, BARS)

    def as_of(
        self,
        ids: Ids,
        as_of: Moment | None = None,
        start: Moment | None = None,
        end: Moment | None = None,
        *,
        resample: str | None = None,
        output: str = "pandas",
    ) -> Frame:
        """The bars known at `as_of`; `resample` ("5m", "1h", "1d": minutes, hours, UTC days) aggregates them at
        read time: open first, high max, low min, close and adj_close last, volume and dividend summed,
        split_ratio multiplied, release_time the latest of the bars it was built from."""
        if resample is not None and not _RESAMPLE.fullmatch(resample):
            raise InvalidInput(f"resample: {resample!r} is not a number of minutes, hours or days (e.g. '1h')")
        table = self._as_of(ids, as_of, start, end, output)
        if resample is not None:
            table = _resample(pl.from_arrow(table), resample).to_arrow().cast(self._schema)
        return frames.to_output(table, output)


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _instant_bound(value: Moment | None, field: str, *, end_of_day: bool) -> dt.datetime | None:
    if value is None:
        return None
    whole_day = (isinstance(value, dt.date) and not isinstance(value, dt.datetime)) or (
        isinstance(value, str) and _ISO_DATE.fullmatch(value.strip())
    )
    instant = parse_instant(value, field=field)
    if whole_day and end_of_day:
        return instant + dt.timedelta(days=1, microseconds=-1)
    return instant


def _sum_or_null(column: str, how: str = "sum") -> pl.Expr:
    """A sum (or product) that stays null when every bar lacks the value, instead of becoming 0 (or 1)."""
    total = pl.col(column).sum() if how == "sum" else pl.col(column).product()
    return pl.when(pl.col(column).count() > 0).then(total).otherwise(None).alias(column)


def _resample(bars: pl.DataFrame, every: str) -> pl.DataFrame:
    ident = BARS.id_column
    grouped = bars.sort(ident, "bar_time").group_by_dynamic(
        "bar_time", every=every, group_by=ident, closed="left", label="left"
    )
    return grouped.agg(
        pl.col("open").first(),
        pl.col("high").max(),
        pl.col("low").min(),
        pl.col("close").last(),
        pl.col("adj_close").last(),
        _sum_or_null("volume"),
        _sum_or_null("dividend"),
        _sum_or_null("split_ratio", "product"),
        pl.col("release_time").max(),
        pl.col("release_basis").last(),
    ).select(frames.read_columns(BARS))
