"""Writers in other processes, on both servers and every shape at once: one killed in the middle of its
transaction leaves nothing and blocks nobody; two racing over the same datasets add each change exactly once."""

from __future__ import annotations

import multiprocessing
import queue
import signal
import subprocess
import sys
import textwrap
import time

import pandas as pd
import pytest

from macro_assets.warehouse import connect

from .cases import CASES
from .conftest import table_rows

RELEASE = pd.Timestamp("2021-01-08 13:30", tz="UTC")


def batch(name: str) -> pd.DataFrame:
    """300 keys of one shape, one vintage each."""
    return CASES[name].frame([(i, RELEASE, 1.0) for i in range(300)])


KILLED_WRITER = textwrap.dedent("""
    import sys, time
    import psycopg2
    from macro_assets.warehouse.engine import VintageEngine
    from macro_assets.warehouse.frames import normalize_for_write
    from macro_assets_tests.warehouse.cases import CASES
    from macro_assets_tests.warehouse.test_writers import batch

    connection = psycopg2.connect(sys.argv[1])
    with connection.cursor() as cursor:
        for name, case in CASES.items():
            VintageEngine(case.shape).write(cursor, normalize_for_write(case.shape, batch(name)))
    print("written", flush=True)
    time.sleep(60)
""")


@pytest.mark.timeout(60)
def test_a_writer_killed_mid_transaction_leaves_nothing_and_blocks_nobody(warehouse_url):
    with connect(warehouse_url) as wh:
        dsn = warehouse_url.replace("postgresql+psycopg2://", "postgresql://", 1)
        writer = subprocess.Popen(
            [sys.executable, "-c", KILLED_WRITER, dsn], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        try:
            assert writer.stdout.readline().strip() == "written", writer.stderr.read()
        finally:
            writer.send_signal(signal.SIGKILL)
            writer.wait()
            writer.stdout.close()
            writer.stderr.close()

        assert [len(table_rows(warehouse_url, CASES[name].shape.table)) for name in CASES] == [0] * len(CASES)
        # The same rows again: the dead writer's advisory locks and uncommitted rows must not be in the way.
        assert [wh.pipeline.append(name, batch(name)).added for name in CASES] == [300] * len(CASES)


# Per round: the two writers' windows of keys, overlapping by half, and how many vintages each key has by then.
# A first load of keys nothing is stored for races on the COPY path; the re-fetch after it races on the staging path.
WRITER_ROUNDS = [
    ((0, 600), (300, 900), 1),
    ((0, 600), (300, 900), 2),
    ((1200, 1800), (1500, 2100), 1),
    ((1200, 1800), (1500, 2100), 3),
]


def rows_of(window: tuple[int, int], vintages: int) -> list[tuple]:
    """Every vintage so far of a window of keys: even keys are revised at every release, odd keys never, so a
    re-fetch brings both new vintages and vintages the append rule must drop."""
    return [
        (i, pd.Timestamp("2024-06-01", tz="UTC") + pd.Timedelta(days=k), i + (0.25 * k if i % 2 == 0 else 0.0))
        for i in range(*window)
        for k in range(vintages)
    ]


def round_frames(name: str, window: tuple[int, int], vintages: int) -> pd.DataFrame:
    case = CASES[name]
    return pd.concat([case.frame(rows_of(window, vintages), dataset=d) for d in (case.dataset, case.other)])


def changes(name: str, rows: list[tuple]) -> set[tuple]:
    """The vintages that change their key's level, worked out independently of the warehouse, as
    (dataset, key..., release_time, level)."""
    case, result = CASES[name], set()
    for dataset in (case.dataset, case.other):
        last = {}
        for i, release, level in sorted(set(rows), key=lambda r: (r[0], r[1])):
            if last.get(i) != level:
                result.add((dataset, *case.key(i).values(), release, level))
            last[i] = level
    return result


def _append_in_rounds(url: str, barrier, results) -> None:
    with connect(url) as wh:
        for round_number, (first, second, vintages) in enumerate(WRITER_ROUNDS):
            window = first if barrier.wait(timeout=60) == 0 else second
            for name in CASES:
                results.put((round_number, name, wh.pipeline.append(name, round_frames(name, window, vintages))))


def collect_outcomes(results, writers, count: int) -> list[tuple]:
    """The writers' results; fails as soon as a writer dies instead of waiting for results that never come."""
    outcomes = []
    deadline = time.monotonic() + 90
    while len(outcomes) < count:
        try:
            outcomes.append(results.get(timeout=0.5))
        except queue.Empty:
            failed = [w.exitcode for w in writers if w.exitcode not in (None, 0)]
            assert not failed, f"a writer failed (exit codes {failed}); its traceback is on stderr"
            assert time.monotonic() < deadline, f"writers gave {len(outcomes)} of {count} results"
    return outcomes


@pytest.mark.timeout(120)
def test_concurrent_writers_of_the_same_datasets_add_each_change_once(warehouse_url):
    connect(warehouse_url).close()  # migrated before the race
    context = multiprocessing.get_context("spawn")  # fork is unsafe once polars' thread pool is running
    barrier, results = context.Barrier(2), context.Queue()
    writers = [context.Process(target=_append_in_rounds, args=(warehouse_url, barrier, results)) for _ in range(2)]
    for writer in writers:
        writer.start()
    try:
        outcomes = collect_outcomes(results, writers, 2 * len(WRITER_ROUNDS) * len(CASES))
    finally:
        for writer in writers:
            writer.join(timeout=10)
            if writer.is_alive():
                writer.kill()

    for name, case in CASES.items():
        expected_so_far: set[tuple] = set()
        for r, (first, second, vintages) in enumerate(WRITER_ROUNDS):
            round_results = [result for number, shape, result in outcomes if number == r and shape == name]
            assert [result.conflicts for result in round_results] == [0, 0]
            rows = rows_of(first, vintages) + rows_of(second, vintages)
            assert sorted(result.added + result.unchanged for result in round_results) == [
                2 * len(rows_of(first, vintages)),
                2 * len(rows_of(second, vintages)),
            ]
            known_before = len(expected_so_far)
            expected_so_far |= changes(name, rows)
            assert sum(result.added for result in round_results) == len(expected_so_far) - known_before
        with connect(warehouse_url) as wh:
            stored = case.read(wh).vintages([case.dataset, case.other])
        keys = [case.id_column, *case.shape.key_columns, "release_time", case.level_column]
        assert set(stored[keys].itertuples(index=False, name=None)) == expected_so_far
        assert len(stored) == len(expected_so_far)
