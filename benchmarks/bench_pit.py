"""Point-in-time derivation, incremental against naive, side by side in one run: the vintages of a rolling z-score
of a daily series, from derive_vintages (only the dates whose window holds a changed input are recomputed at a
release) and from derive_vintages_naive (every date recomputed at every release instant), checked to be the same
vintages.

    python benchmarks/bench_pit.py [--dates N] [--window W] [--revised SHARE] [--seed S]

The input: N business days (default 2,500, ten years) of a random walk, each date first released at 18:00 UTC on
its own day, and SHARE of the dates (default 5%) revised once, at 09:00 UTC 1 to 30 business days later. Every
compute call is counted: how many calls, and how many input rows and derived dates they computed (a derived date
computed and discarded counts: it is work done).
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

import numpy as np
import polars as pl
from polars.testing import assert_frame_equal

from macro_assets.analytics import pit


def synthetic_vintages(dates: int, revised: float, seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    days = pl.date_range(dt.date(2015, 1, 1), dt.date(2045, 1, 1), "1d", eager=True)
    days = days.filter(days.dt.weekday() <= 5).head(dates)
    first = pl.DataFrame(
        {
            "series_id": "synthetic.daily",
            "obs_date": days,
            "value": 100 + np.cumsum(rng.normal(0, 1, dates)),
            "release_time": days.cast(pl.Datetime("us", "UTC")) + dt.timedelta(hours=18),
        }
    )
    chosen = np.sort(rng.choice(dates, int(round(revised * dates)), replace=False))
    later = np.minimum(chosen + rng.integers(1, 31, len(chosen)), dates - 1)
    revisions = pl.DataFrame(
        {
            "series_id": "synthetic.daily",
            "obs_date": days.gather(chosen),
            "value": first["value"].gather(chosen) + rng.normal(0, 0.5, len(chosen)),
            "release_time": days.gather(later).cast(pl.Datetime("us", "UTC")) + dt.timedelta(hours=9),
        }
    )
    return pl.concat([first, revisions]).sort("obs_date", "release_time")


class Counted:
    """A compute function that counts its calls, the input rows it was given and the derived dates it returned."""

    def __init__(self, compute):
        self.compute = compute
        self.calls = self.rows = self.dates = 0

    def __call__(self, known: pl.DataFrame) -> pl.DataFrame:
        result = self.compute(known)
        self.calls += 1
        self.rows += known.height
        self.dates += result.height
        return result


def measure(engine, derivation: pit.Derivation, vintages: pl.DataFrame) -> tuple[pl.DataFrame, float, Counted]:
    counted = Counted(derivation.compute)
    counting = pit.Derivation(derivation.name, derivation.inputs, counted, derivation.window, derivation.values)
    started = time.perf_counter()
    derived = engine(counting, vintages, "2100-01-01")
    return derived, time.perf_counter() - started, counted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dates", type=int, default=2500)
    parser.add_argument("--window", type=int, default=60)
    parser.add_argument("--revised", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    vintages = synthetic_vintages(args.dates, args.revised, args.seed)
    derivation = pit.zscore_derivation("synthetic.daily_z", "synthetic.daily", args.window)
    instants = vintages["release_time"].n_unique()
    print(
        f"input: {args.dates:,} dates, {vintages.height:,} vintages ({vintages.height - args.dates:,} revisions),"
        f" {instants:,} release instants; {args.window}-observation rolling z-score"
    )
    incremental, incremental_s, incremental_n = measure(pit.derive_vintages, derivation, vintages)
    naive, naive_s, naive_n = measure(pit.derive_vintages_naive, derivation, vintages)
    assert_frame_equal(incremental, naive, check_exact=False, rel_tol=pit.UNCHANGED_RTOL)
    print(f"derived vintages: {incremental.height:,} (the same from both, checked)")
    print(f"{'':12} {'seconds':>9} {'compute calls':>14} {'input rows read':>16} {'dates computed':>15}")
    for label, seconds, counted in (("incremental", incremental_s, incremental_n), ("naive", naive_s, naive_n)):
        print(f"{label:12} {seconds:9.3f} {counted.calls:14,} {counted.rows:16,} {counted.dates:15,}")
    print(
        f"naive / incremental: time {naive_s / incremental_s:.1f}x,"
        f" input rows {naive_n.rows / incremental_n.rows:.1f}x,"
        f" dates computed {naive_n.dates / incremental_n.dates:.1f}x"
    )


if __name__ == "__main__":
    main()
