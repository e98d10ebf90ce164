"""Warehouse throughput and latency against raw PostgreSQL, measured in one run on one server.

    python benchmarks/bench_warehouse.py [--url URL] [--rows N] [--repeat R]

URL names a server and the database to create and drop fresh databases from (default: the machine's PostgreSQL,
postgresql+psycopg2://postgres@127.0.0.1:5432/postgres). Every figure is printed next to its baseline: the append
path against a bare COPY of the same rows into the same table, and the point-in-time reads against the obvious
hand-written DISTINCT ON query fetched with a cursor into pandas. See benchmarks/README.md for the figures.
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
import pandas as pd
import sqlalchemy as sa

from macro_assets.warehouse import connect, resolve_url
from macro_assets.warehouse.frames import WRITE_COLUMNS, normalize_for_write

DEFAULT_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
APPEND_SERIES = 200
DAILY_DATES = pd.date_range("2010-01-01", "2024-12-31", freq="D")  # 15 years: 5,479 dates
PANEL_SERIES, PANEL_MONTHS = 500, pd.date_range("2010-01-01", periods=180, freq="MS")
# A first estimate a day after the date, a revision a month later and an annual benchmark revision.
VINTAGE_LAGS = (pd.Timedelta(days=1), pd.Timedelta(days=30), pd.Timedelta(days=365))
READ_INSTANT = pd.Timestamp("2025-06-30", tz="UTC")

NAIVE_AS_OF = """
    SELECT series_id, obs_date, value, release_time, release_basis FROM (
        SELECT DISTINCT ON (series_id, obs_date) series_id, obs_date, value, release_time, release_basis
        FROM observations WHERE series_id = ANY(%(ids)s) AND release_time <= %(instant)s
        ORDER BY series_id, obs_date, release_time DESC
    ) latest WHERE value IS NOT NULL"""


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


def append_frame(rows: int, seed: int = 1) -> pd.DataFrame:
    """`rows` observations of APPEND_SERIES series, one vintage each, released 30 days after their date."""
    dates = pd.date_range("2000-01-01", periods=rows // APPEND_SERIES, freq="D")
    series = np.repeat([f"bench.s{i:04d}" for i in range(APPEND_SERIES)], len(dates))
    obs_dates = np.tile(dates.values, APPEND_SERIES)
    return pd.DataFrame(
        {
            "series_id": series,
            "obs_date": obs_dates,
            "value": np.random.default_rng(seed).normal(100, 10, len(series)).round(4),
            "release_time": pd.DatetimeIndex(obs_dates).tz_localize("UTC")
            + pd.Timedelta(days=30, hours=13, minutes=30),
            "release_basis": "vintage",
        }
    )


def revised(frame: pd.DataFrame, share: float = 0.1) -> pd.DataFrame:
    """The next vintage of every row a week later, with `share` of the values changed."""
    changed = np.random.default_rng(2).random(len(frame)) < share
    return frame.assign(
        value=np.where(changed, frame["value"] + 1.0, frame["value"]),
        release_time=frame["release_time"] + pd.Timedelta(days=7),
    )


def vintage_history(series_ids: list[str], dates: pd.DatetimeIndex) -> pd.DataFrame:
    """Three vintages of every date of every series, each vintage a different value."""
    parts = []
    for k, lag in enumerate(VINTAGE_LAGS):
        series = np.repeat(series_ids, len(dates))
        obs_dates = np.tile(dates.values, len(series_ids))
        parts.append(
            pd.DataFrame(
                {
                    "series_id": series,
                    "obs_date": obs_dates,
                    "value": np.arange(len(series), dtype="float64") + k / 10,
                    "release_time": pd.DatetimeIndex(obs_dates).tz_localize("UTC")
                    + lag
                    + pd.Timedelta(hours=13, minutes=30),
                    "release_basis": "vintage",
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def seconds(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def timings(action: Callable[[], object], runs: int, warmup: int) -> list[float]:
    for _ in range(warmup):
        action()
    return [seconds(action) for _ in range(runs)]


def p95(values: list[float]) -> float:
    return float(np.percentile(values, 95))


# ----------------------------------------------------------------------------------------------- appends
def measure_appends(server_url: str, rows: int, repeat: int) -> dict[str, float]:
    frame = append_frame(rows)
    next_vintage = revised(frame)
    csv = io.BytesIO()
    normalize_for_write(frame).select(WRITE_COLUMNS).write_csv(csv, include_header=False)
    csv_bytes = csv.getvalue()
    fast, overlapping, copies = [], [], []
    for _ in range(repeat):
        with fresh_database(server_url) as url, connect(url) as wh:
            fast.append(seconds(lambda: wh.append(frame)))
            started = time.perf_counter()
            second = wh.append(next_vintage)
            overlapping.append(time.perf_counter() - started)
        with fresh_database(server_url) as url, connect(url) as wh:
            copies.append(seconds(lambda: raw_copy(wh, csv_bytes)))
        print(
            f"  append {fast[-1]:.2f} s, overlapping append {overlapping[-1]:.2f} s (added {second.added:,},"
            f" unchanged {second.unchanged:,}), raw COPY {copies[-1]:.2f} s",
            flush=True,
        )
    return {
        "append": rows / statistics.median(fast),
        "overlapping": rows / statistics.median(overlapping),
        "copy": rows / statistics.median(copies),
    }


def raw_copy(wh, csv_bytes: bytes) -> None:
    with wh.engine.raw_connection() as connection:
        with connection.cursor() as cursor:
            cursor.copy_expert(
                f"COPY observations ({', '.join(WRITE_COLUMNS)}) FROM STDIN WITH (FORMAT csv)", io.BytesIO(csv_bytes)
            )
        connection.commit()


# -------------------------------------------------------------------------------------------------- reads
def naive_as_of(wh, ids: list[str], instant: pd.Timestamp) -> pd.DataFrame:
    with wh.engine.raw_connection() as connection, connection.cursor() as cursor:
        cursor.execute(NAIVE_AS_OF, {"ids": ids, "instant": instant.to_pydatetime()})
        columns = [c.name for c in cursor.description]
        return pd.DataFrame(cursor.fetchall(), columns=columns)


def measure_reads(server_url: str) -> dict[str, float]:
    daily, panel = "bench.daily", [f"bench.p{i:04d}" for i in range(PANEL_SERIES)]
    with fresh_database(server_url) as url, connect(url) as wh:
        wh.append(vintage_history([daily], DAILY_DATES))
        wh.append(vintage_history(panel, PANEL_MONTHS))
        # What autovacuum does to a real warehouse soon after a load: fresh statistics and visibility map.
        with wh.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(sa.text("VACUUM ANALYZE observations"))
        one, many = wh.as_of(daily, as_of=READ_INSTANT), wh.as_of(panel, as_of=READ_INSTANT)
        assert len(one) == len(DAILY_DATES) and len(many) == PANEL_SERIES * len(PANEL_MONTHS)
        assert len(naive_as_of(wh, [daily], READ_INSTANT)) == len(one)

        daily_runs = timings(lambda: wh.as_of(daily, as_of=READ_INSTANT), runs=50, warmup=5)
        daily_naive = timings(lambda: naive_as_of(wh, [daily], READ_INSTANT), runs=50, warmup=5)
        panel_runs = timings(lambda: wh.as_of(panel, as_of=READ_INSTANT), runs=10, warmup=2)
        panel_naive = timings(lambda: naive_as_of(wh, panel, READ_INSTANT), runs=10, warmup=2)
    return {
        "daily_median": statistics.median(daily_runs),
        "daily_p95": p95(daily_runs),
        "daily_naive_median": statistics.median(daily_naive),
        "panel_median": statistics.median(panel_runs),
        "panel_naive_median": statistics.median(panel_naive),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=DEFAULT_URL, help="server URL; its database is used to create fresh ones")
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows per append (default 1,000,000)")
    parser.add_argument("--repeat", type=int, default=3, help="fresh-database repetitions of the append figures")
    args = parser.parse_args()
    server_url = resolve_url(args.url)

    print(f"server: {sa.make_url(server_url).render_as_string(hide_password=True)}, rows: {args.rows:,}")
    appends = measure_appends(server_url, args.rows, args.repeat)
    reads = measure_reads(server_url)

    append_ratio = appends["append"] / appends["copy"]
    overlap_ratio = appends["overlapping"] / appends["copy"]
    daily_ms, daily_p95_ms = reads["daily_median"] * 1e3, reads["daily_p95"] * 1e3
    figures = [
        ("raw COPY into observations (rows/s)", f"{appends['copy']:,.0f}", "baseline", ""),
        ("append, empty table (rows/s)", f"{appends['append']:,.0f}", "", ""),
        ("append / raw COPY", f"{append_ratio:.2f}", ">= 0.70", append_ratio >= 0.7),
        ("append, 10% revised, staging (rows/s)", f"{appends['overlapping']:,.0f}", "", ""),
        ("overlapping append / raw COPY", f"{overlap_ratio:.2f}", "", ""),
        ("as_of daily 15y x 3 vintages, median (ms)", f"{daily_ms:.2f}", "<= 2 ms", daily_ms <= 2),
        ("as_of daily, p95 (ms)", f"{daily_p95_ms:.2f}", "", ""),
        ("naive DISTINCT ON + fetchall, median (ms)", f"{reads['daily_naive_median'] * 1e3:.2f}", "baseline", ""),
        ("as_of daily / naive", f"{reads['daily_median'] / reads['daily_naive_median']:.2f}", "< 1", ""),
        (
            "as_of 500 monthly series, median (s)",
            f"{reads['panel_median']:.3f}",
            "<= 0.5 s",
            reads["panel_median"] <= 0.5,
        ),
        ("naive panel, median (s)", f"{reads['panel_naive_median']:.3f}", "baseline", ""),
        ("as_of panel / naive", f"{reads['panel_median'] / reads['panel_naive_median']:.2f}", "< 1", ""),
    ]
    width = max(len(f[0]) for f in figures)
    print(f"\n{'figure':<{width}}  {'value':>12}  {'goal':>9}  met?")
    for name, value, goal, met in figures:
        verdict = "" if met == "" else ("yes" if met else "NO")
        print(f"{name:<{width}}  {value:>12}  {goal:>9}  {verdict}")


if __name__ == "__main__":
    main()
