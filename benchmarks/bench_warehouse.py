"""Warehouse throughput and latency, measured in one run on one server, every figure beside its baseline.

    python benchmarks/bench_warehouse.py [--url URL] [--rows N] [--repeat R] [--panel-series N] [--skip-appends]

URL names a server and the database to create and drop fresh databases from (default: the machine's PostgreSQL,
postgresql+psycopg2://postgres@127.0.0.1:5432/postgres). Appends of every shape are set against a bare COPY of the
same rows into the same table; point-in-time reads against the obvious hand-written DISTINCT ON query fetched with a
cursor into pandas, and the observation reads also against DuckDB (arg_max over the same rows, in process) and
ArcticDB (read(as_of=version) of the same series, LMDB on local disk). duckdb and arcticdb are optional: a figure
whose library is missing is left out. See benchmarks/README.md for the figures.
"""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
import pandas as pd
import polars as pl
import psycopg2
import sqlalchemy as sa

from macro_assets.shapes import BARS, CURVE_POINTS, OBSERVATIONS, UTC_DATETIME, Shape
from macro_assets.warehouse import connect, resolve_url
from macro_assets.warehouse.frames import normalize_for_write

DEFAULT_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
# 15 years of weekdays (3,913 dates); a first estimate a day after the date, a revision a month later and an annual
# benchmark revision a year later.
DAILY_DATES = pd.bdate_range("2010-01-01", "2024-12-31")
VINTAGE_LAGS = (pd.Timedelta(days=1), pd.Timedelta(days=30), pd.Timedelta(days=365))
READ_INSTANT = pd.Timestamp("2025-06-30", tz="UTC")
CURVE_POINTS_PER_DATE = 30
BAR_YEAR = pd.date_range("2024-01-01", "2024-12-31 23:55", freq="5min", tz="UTC")  # 105,408 bars

NAIVE = {
    "observations": """
        SELECT series_id, obs_date, value, release_time, release_basis FROM (
            SELECT DISTINCT ON (series_id, obs_date) series_id, obs_date, value, release_time, release_basis
            FROM observations WHERE series_id = ANY(%(ids)s) AND release_time <= %(instant)s
            ORDER BY series_id, obs_date, release_time DESC
        ) latest WHERE value IS NOT NULL""",
    "curve_points": """
        SELECT DISTINCT ON (curve_id, curve_date, point) *
        FROM curve_points WHERE curve_id = ANY(%(ids)s) AND curve_date = %(day)s AND release_time <= %(instant)s
        ORDER BY curve_id, curve_date, point, release_time DESC""",
    "bars": """
        SELECT DISTINCT ON (dataset_id, bar_time) *
        FROM bars WHERE dataset_id = ANY(%(ids)s) AND bar_time BETWEEN %(start)s AND %(end)s
          AND release_time <= %(instant)s
        ORDER BY dataset_id, bar_time, release_time DESC""",
}


@contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    admin_url = sa.make_url(server_url)
    name = f"bench_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def dsn(url: str) -> str:
    return url.replace("postgresql+psycopg2://", "postgresql://", 1)


def seconds(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def interleaved(actions: dict[str, Callable[[], object]], runs: int, warmup: int = 1) -> dict[str, float]:
    """The median time of each action, run in turn (one of each per round), so that a change of load on a shared
    machine falls on all of them alike rather than on whichever ran at that moment."""
    for action in actions.values():
        for _ in range(warmup):
            action()
    times = {name: [] for name in actions}
    for _ in range(runs):
        for name, action in actions.items():
            times[name].append(seconds(action))
    return {name: statistics.median(values) for name, values in times.items()}


# ------------------------------------------------------------------------------------------------ data
def utc(instants: np.ndarray) -> pl.Series:
    return pl.Series(instants.astype("datetime64[us]")).dt.replace_time_zone("UTC")


def batch(shape: Shape, rows: int) -> pl.DataFrame:
    """`rows` distinct keys of 200 datasets of `shape`, one vintage each, every value column filled."""
    per_dataset = rows // 200
    ids = np.repeat([f"bench.d{i:04d}" for i in range(200)], per_dataset)
    step = np.tile(np.arange(per_dataset), 200)
    level = np.random.default_rng(1).normal(100, 10, len(ids)).round(4)
    start = np.datetime64("2000-01-01", "D")
    if shape is BARS:
        first = start + step * np.timedelta64(5, "m")
        keys = {"bar_time": utc(first)}
    elif shape is CURVE_POINTS:
        first = start + step // 20
        keys = {"curve_date": first, "point": [f"{k}Y" for k in range(1, 21)] * (len(ids) // 20)}
    else:
        first = start + step
        keys = {"obs_date": first}
    values = {
        column: start + step + 3650 if dtype == pl.Date else level + k
        for k, (column, dtype) in enumerate(shape.value_schema.items())
    }
    release = utc(first.astype("datetime64[m]") + np.timedelta64((30 * 24 + 13) * 60 + 30, "m"))
    return pl.DataFrame({shape.id_column: ids, **keys, "release_time": release, **values, "release_basis": "vintage"})


def revised(shape: Shape, frame: pl.DataFrame, share: float = 0.1) -> pl.DataFrame:
    """The next vintage of every row a week later, with `share` of the rows changed in their first value column."""
    column = shape.value_columns[0] if shape is not CURVE_POINTS else "rate"
    changed = pl.Series(np.random.default_rng(2).random(frame.height) < share)
    return frame.with_columns(
        pl.when(changed).then(pl.col(column) + 1.0).otherwise(pl.col(column)).alias(column),
        release_time=pl.col("release_time") + pl.duration(days=7),
    )


def vintage_history(series_ids: list[str], dates: pd.DatetimeIndex) -> pl.DataFrame:
    """Three vintages of every date of every series, each vintage a different value."""
    parts = []
    for k, lag in enumerate(VINTAGE_LAGS):
        obs_dates = np.tile(dates.values.astype("datetime64[D]"), len(series_ids))
        parts.append(
            pl.DataFrame(
                {
                    "series_id": np.repeat(series_ids, len(dates)),
                    "obs_date": obs_dates,
                    "value": np.arange(len(obs_dates), dtype="float64") + k / 10,
                    "release_time": utc(obs_dates + lag.to_numpy() + np.timedelta64(13 * 60 + 30, "m")),
                    "release_basis": "vintage",
                }
            )
        )
    return pl.concat(parts)


# ------------------------------------------------------------------------------------------------ appends
# The shapes whose keys `batch` synthesises; the later shapes run on the same engine with wider keys.
APPEND_SHAPES = (OBSERVATIONS, CURVE_POINTS, BARS)


def measure_appends(server_url: str, rows: int, repeat: int) -> dict[str, dict[str, float]]:
    figures = {}
    for shape in APPEND_SHAPES:
        name = shape.name
        frame = batch(shape, rows)
        next_vintage = revised(shape, frame)
        csv = io.BytesIO()
        normalize_for_write(shape, frame).write_csv(csv, include_header=False)
        fast, overlapping, copies = [], [], []
        for _ in range(repeat):
            with fresh_database(server_url) as url, connect(url) as wh:
                started = time.perf_counter()
                wh.pipeline.append(name, frame)
                fast.append(time.perf_counter() - started)
                second = wh.pipeline.append(name, next_vintage)
                overlapping.append(time.perf_counter() - started - fast[-1])
            with fresh_database(server_url) as url:
                connect(url).close()
                started = time.perf_counter()
                raw_copy(url, shape, csv.getvalue())
                copies.append(time.perf_counter() - started)
        print(
            f"  {name}: append {statistics.median(fast):.2f} s, overlapping append"
            f" {statistics.median(overlapping):.2f} s (added {second.added:,}, unchanged {second.unchanged:,}),"
            f" raw COPY {statistics.median(copies):.2f} s",
            flush=True,
        )
        figures[name] = {
            "append": rows / statistics.median(fast),
            "copy": rows / statistics.median(copies),
            "overlapping": rows / statistics.median(overlapping),
        }
    return figures


def raw_copy(url: str, shape: Shape, csv_bytes: bytes) -> None:
    connection = psycopg2.connect(dsn(url))
    try:
        with connection.cursor() as cursor:
            cursor.copy_expert(
                f"COPY {shape.table} ({', '.join(shape.write_schema)}) FROM STDIN WITH (FORMAT csv)",
                io.BytesIO(csv_bytes),
            )
        connection.commit()
    finally:
        connection.close()


# -------------------------------------------------------------------------------------------------- reads
def naive(url: str, shape: Shape, **params) -> pd.DataFrame:
    connection = psycopg2.connect(dsn(url))
    try:
        with connection.cursor() as cursor:
            cursor.execute(NAIVE[shape.name], params)
            return pd.DataFrame(cursor.fetchall(), columns=[c.name for c in cursor.description])
    finally:
        connection.close()


def vacuum(url: str) -> None:
    # What autovacuum does to a real warehouse soon after a load: fresh statistics and visibility map.
    connection = psycopg2.connect(dsn(url))
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    connection.close()


def duckdb_reader(history: pl.DataFrame):
    try:
        import duckdb
    except ImportError:
        return None
    con = duckdb.connect()
    con.register("history_arrow", history.to_arrow())
    con.execute("CREATE TABLE history AS SELECT * FROM history_arrow")
    con.unregister("history_arrow")
    query = """
        SELECT series_id, obs_date, arg_max(value, release_time) AS value, max(release_time) AS release_time,
               arg_max(release_basis, release_time) AS release_basis
        FROM history WHERE series_id IN (SELECT unnest(?)) AND release_time <= ?
        GROUP BY series_id, obs_date ORDER BY series_id, obs_date"""
    return lambda ids, instant: con.execute(query, [ids, instant.to_pydatetime()]).df()


def arctic_reader(history: pl.DataFrame, directory: str):
    """Each vintage written as a version of every series (version k: the k-th vintage of every date): ArcticDB
    versions are writes, with no release-time semantics, so as_of names the last version."""
    try:
        import arcticdb
        from arcticdb.version_store.library import ReadRequest, WritePayload
    except ImportError:
        return None
    library = arcticdb.Arctic(f"lmdb://{directory}?map_size=8GB").get_library("bench", create_if_missing=True)
    per_vintage = history.height // len(VINTAGE_LAGS)
    for k in range(len(VINTAGE_LAGS)):
        part = history.slice(k * per_vintage, per_vintage).to_pandas()
        payloads = [
            WritePayload(series, frame.set_index("obs_date").drop(columns="series_id"))
            for series, frame in part.groupby("series_id", sort=False)
        ]
        library.write_batch(payloads)
    last = len(VINTAGE_LAGS) - 1

    def read(ids: list[str]):
        if len(ids) == 1:
            return [library.read(ids[0], as_of=last).data]
        return [item.data for item in library.read_batch([ReadRequest(s, as_of=last) for s in ids])]

    return read


def measure_observation_reads(server_url: str, panel_series: int) -> dict[str, float]:
    panel = [f"bench.p{i:04d}" for i in range(panel_series)]
    one = panel[:1]
    history = vintage_history(panel, DAILY_DATES)
    print(
        f"  observations: {history.height:,} rows ({panel_series} daily series x {len(DAILY_DATES):,} dates x"
        f" {len(VINTAGE_LAGS)} vintages)",
        flush=True,
    )
    figures = {}
    with fresh_database(server_url) as url, connect(url) as wh, tempfile.TemporaryDirectory() as arctic_dir:
        wh.pipeline.append("observations", history)
        vacuum(url)
        duck, arctic = duckdb_reader(history), arctic_reader(history, arctic_dir)
        ours_one, ours_panel = (wh.observations.as_of(ids, as_of=READ_INSTANT) for ids in (one, panel))
        assert len(ours_one) == len(DAILY_DATES) and len(ours_panel) == len(panel) * len(DAILY_DATES)
        assert len(naive(url, OBSERVATIONS, ids=one, instant=READ_INSTANT)) == len(ours_one)
        if duck is not None:  # the same rows: same dates, values and release times
            theirs = duck(panel, READ_INSTANT)
            assert theirs["value"].tolist() == ours_panel["value"].tolist()
            assert (theirs["release_time"].dt.tz_convert("UTC") == ours_panel["release_time"]).all()
        if arctic is not None:
            assert sum(len(frame) for frame in arctic(panel)) == len(ours_panel)

        one_series = {
            "one": lambda: wh.observations.as_of(one, as_of=READ_INSTANT),
            "one_polars": lambda: wh.observations.as_of(one, as_of=READ_INSTANT, output="polars"),
            "one_naive": lambda: naive(url, OBSERVATIONS, ids=one, instant=READ_INSTANT),
        }
        whole_panel = {
            "panel": lambda: wh.observations.as_of(panel, as_of=READ_INSTANT),
            "panel_polars": lambda: wh.observations.as_of(panel, as_of=READ_INSTANT, output="polars"),
        }
        if duck is not None:
            one_series["one_duckdb"] = lambda: duck(one, READ_INSTANT)
            whole_panel["panel_duckdb"] = lambda: duck(panel, READ_INSTANT)
        if arctic is not None:
            one_series["one_arctic"] = lambda: arctic(one)
            whole_panel["panel_arctic"] = lambda: arctic(panel)
        figures |= interleaved(one_series, runs=30, warmup=3)
        figures |= interleaved(whole_panel, runs=7)
    return figures


def curve_history(curves: int) -> pl.DataFrame:
    """`curves` daily par curves of CURVE_POINTS_PER_DATE tenors over DAILY_DATES, published each evening and
    corrected the next morning (two vintages of every point)."""
    days = DAILY_DATES.values.astype("datetime64[D]")
    n = len(days) * CURVE_POINTS_PER_DATE
    parts = []
    for k, hours in enumerate((21, 33)):
        for c in range(curves):
            curve_dates = np.repeat(days, CURVE_POINTS_PER_DATE)
            parts.append(
                pl.DataFrame(
                    {
                        "curve_id": f"bench.curve{c}",
                        "curve_date": curve_dates,
                        "point": [f"{t}M" for t in range(1, CURVE_POINTS_PER_DATE + 1)] * len(days),
                        "release_time": utc(curve_dates + np.timedelta64(hours, "h")),
                        **{
                            column: pl.Series([None] * n, dtype=dtype)
                            for column, dtype in CURVE_POINTS.value_schema.items()
                        },
                    }
                ).with_columns(
                    tenor_years=pl.Series(np.tile(np.arange(1, 31) / 12, len(days))),
                    rate=pl.Series(np.linspace(3, 5, n) + k / 100),
                    release_basis=pl.lit("vintage"),
                )
            )
    return pl.concat(parts)


def bar_history() -> pl.DataFrame:
    """One year of 5-minute bars of two instruments, 1% of them revised a day later."""
    parts = []
    for instrument in ("bench.USDBRL_5min", "bench.USDCOP_5min"):
        close = 5 + np.cumsum(np.random.default_rng(3).normal(0, 0.001, len(BAR_YEAR)))
        frame = pl.DataFrame(
            {
                "dataset_id": instrument,
                "bar_time": pl.Series(BAR_YEAR).cast(UTC_DATETIME),
                "open": close,
                "high": close + 0.002,
                "low": close - 0.002,
                "close": close,
                "adj_close": close,
                "volume": 1000.0,
                "dividend": None,
                "split_ratio": None,
            }
        )
        frame = frame.with_columns(
            release_time=pl.col("bar_time") + pl.duration(minutes=5), release_basis=pl.lit("observed")
        )
        revisions = frame.gather_every(100).with_columns(
            close=pl.col("close") + 0.01, release_time=pl.col("release_time") + pl.duration(days=1)
        )
        parts += [frame, revisions]
    return pl.concat(parts, how="vertical_relaxed")


def measure_curve_and_bar_reads(server_url: str) -> dict[str, float]:
    figures = {}
    day, curve = pd.Timestamp("2020-06-15").date(), ["bench.curve0"]
    morning = pd.Timestamp("2020-06-16 06:00", tz="UTC")  # the evening curve, before the correction
    start, end = BAR_YEAR[0], BAR_YEAR[-1]
    with fresh_database(server_url) as url, connect(url) as wh:
        wh.pipeline.append("curve_points", curve_history(3))
        wh.pipeline.append("bars", bar_history())
        vacuum(url)
        ours = wh.curves.as_of(curve, as_of=morning, start=day, end=day)
        plain = naive(url, CURVE_POINTS, ids=curve, day=day, instant=morning)
        assert len(ours) == len(plain) == CURVE_POINTS_PER_DATE and (ours["rate"] == plain["rate"]).all()
        figures |= interleaved(
            {
                "curve": lambda: wh.curves.as_of(curve, as_of=morning, start=day, end=day),
                "curve_naive": lambda: naive(url, CURVE_POINTS, ids=curve, day=day, instant=morning),
            },
            runs=50,
        )
        bars = ["bench.USDBRL_5min"]
        ours = wh.bars.as_of(bars, start=start, end=end)
        plain = naive(url, BARS, ids=bars, start=start, end=end, instant=pd.Timestamp.now(tz="UTC"))
        assert len(ours) == len(plain) == len(BAR_YEAR) and (ours["close"] == plain["close"]).all()
        now = pd.Timestamp.now(tz="UTC")
        figures |= interleaved(
            {
                "bars": lambda: wh.bars.as_of(bars, start=start, end=end),
                "bars_hourly": lambda: wh.bars.as_of(bars, start=start, end=end, resample="1h"),
                "bars_naive": lambda: naive(url, BARS, ids=bars, start=start, end=end, instant=now),
            },
            runs=10,
        )
    return figures


# ---------------------------------------------------------------------------------------------- the table
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=DEFAULT_URL, help="server URL; its database is used to create fresh ones")
    parser.add_argument("--rows", type=int, default=400_000, help="rows per append of each shape (default 400,000)")
    parser.add_argument("--repeat", type=int, default=5, help="fresh-database repetitions of the append figures")
    parser.add_argument("--panel-series", type=int, default=500, help="daily series in the panel (default 500)")
    parser.add_argument("--skip-appends", action="store_true", help="measure the reads only")
    args = parser.parse_args()
    server_url = resolve_url(args.url)

    print(f"server: {sa.make_url(server_url).render_as_string(hide_password=True)}", flush=True)
    figures = []
    if not args.skip_appends:
        print(f"appends of {args.rows:,} rows per shape, median of {args.repeat}:", flush=True)
        for name, f in measure_appends(server_url, args.rows, args.repeat).items():
            figures += [
                (
                    f"{name}: append / raw COPY",
                    f"{f['append'] / f['copy']:.2f}",
                    ">= 0.70",
                    f["append"] >= 0.7 * f["copy"],
                ),
                (f"{name}: append, empty table (rows/s)", f"{f['append']:,.0f}", "", ""),
                (f"{name}: raw COPY (rows/s)", f"{f['copy']:,.0f}", "baseline", ""),
                (
                    f"{name}: append 10% revised, staging (rows/s)",
                    f"{f['overlapping']:,.0f}",
                    f"{f['overlapping'] / f['copy']:.2f} of COPY",
                    "",
                ),
            ]
    reads = measure_observation_reads(server_url, args.panel_series)
    reads |= measure_curve_and_bar_reads(server_url)

    def ms(key: str) -> str:
        return f"{reads[key] * 1e3:.1f} ms"

    figures += [
        ("as_of one daily series (3,913 dates), pandas", ms("one"), "", ""),
        ("  polars output", ms("one_polars"), "", ""),
        ("  naive DISTINCT ON + fetchall", ms("one_naive"), f"{reads['one'] / reads['one_naive']:.2f}x", ""),
    ]
    for key, label in (("one_duckdb", "  DuckDB arg_max"), ("one_arctic", "  ArcticDB read(as_of=version)")):
        if key in reads:
            figures.append((label, ms(key), f"{reads['one'] / reads[key]:.2f}x", ""))
    figures += [
        (f"as_of {args.panel_series}-series daily panel, pandas", f"{reads['panel']:.3f} s", "", ""),
        ("  polars output", f"{reads['panel_polars']:.3f} s", "", ""),
    ]
    if "panel_duckdb" in reads:
        ratio = reads["panel"] / reads["panel_duckdb"]
        figures.append(("  DuckDB arg_max", f"{reads['panel_duckdb']:.3f} s", f"{ratio:.2f}x", ratio <= 1))
    if "panel_arctic" in reads:
        figures.append(
            (
                "  ArcticDB read_batch",
                f"{reads['panel_arctic']:.3f} s",
                f"{reads['panel'] / reads['panel_arctic']:.2f}x",
                "",
            )
        )
    figures += [
        ("curve as of an instant, one date (30 points)", ms("curve"), "", ""),
        (
            "  naive DISTINCT ON + fetchall",
            ms("curve_naive"),
            f"{reads['curve'] / reads['curve_naive']:.2f}x",
            reads["curve"] <= reads["curve_naive"],
        ),
        ("one year of 5-minute bars (105,408)", ms("bars"), "", ""),
        ("  resampled to 1h at read time", ms("bars_hourly"), "", ""),
        (
            "  naive DISTINCT ON + fetchall",
            ms("bars_naive"),
            f"{reads['bars'] / reads['bars_naive']:.2f}x",
            reads["bars"] <= reads["bars_naive"],
        ),
    ]
    width = max(len(f[0]) for f in figures)
    print(f"\n{'figure':<{width}}  {'value':>14}  {'vs / goal':>14}  met?")
    for name, value, goal, met in figures:
        verdict = "" if met == "" else ("yes" if met else "NO")
        print(f"{name:<{width}}  {value:>14}  {goal:>14}  {verdict}")


if __name__ == "__main__":
    main()
