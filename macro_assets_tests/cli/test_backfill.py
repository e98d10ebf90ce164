"""`macro-assets backfill`: the plan (chunks cover the window exactly, once), the ledger (what succeeded is skipped on
--resume, what failed runs again), and a small real backfill through the CLI entry point on the embedded server,
read back from the warehouse."""

import datetime as dt
import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from macro_assets.cli.backfill import (
    Chunk,
    CostModel,
    Ledger,
    Outcome,
    Partition,
    chunks_to_run,
    ledger_path,
    matching_keys,
    plan_job,
)
from macro_assets.cli.main import main
from macro_assets.errors import InvalidInput
from macro_assets.warehouse import connect, embedded


def business_days(first: dt.date, last: dt.date) -> list[Partition]:
    days = (first + dt.timedelta(days=n) for n in range((last - first).days + 1))
    return [Partition(day.isoformat(), day, day) for day in days if day.weekday() < 5]


PARTITIONS = business_days(dt.date(2015, 1, 1), dt.date(2018, 12, 31))


def covered(chunks: list[Chunk]) -> list[str]:
    keys = [p.key for p in PARTITIONS]
    return [key for chunk in chunks for key in keys[keys.index(chunk.first) : keys.index(chunk.last) + 1]]


@pytest.mark.parametrize("size", [1, 7, 250, 5000])
def test_chunks_cover_the_window_exactly_once(size):
    plan = plan_job("materialize_daily", "sel", 3, PARTITIONS, dt.date(2016, 3, 5), dt.date(2017, 8, 9), size)

    wanted = [p.key for p in PARTITIONS if dt.date(2016, 3, 5) <= p.first_day <= dt.date(2017, 8, 9)]
    assert covered(plan.chunks) == wanted  # in order, no gap, no partition twice
    assert [c.partitions for c in plan.chunks] == [len(covered([c])) for c in plan.chunks]
    assert all(c.partitions <= size and c.assets == 3 for c in plan.chunks)
    assert plan.window == (dt.date(2016, 3, 7), dt.date(2017, 8, 9))
    assert (plan.checks.first, plan.checks.last, plan.checks.partitions) == (wanted[0], wanted[-1], len(wanted))
    assert sum(c.asset_partitions for c in plan.chunks) == 3 * len(wanted)
    assert plan.uncovered == []


def test_chunks_sit_on_a_grid_from_the_first_partition_so_another_window_finds_them():
    year = plan_job("job", "sel", 1, PARTITIONS, dt.date(2015, 1, 1), dt.date(2015, 12, 31), 100)
    longer = plan_job("job", "sel", 1, PARTITIONS, dt.date(2015, 1, 1), dt.date(2016, 6, 30), 100)

    assert [c.key for c in year.chunks[:-1]] == [c.key for c in longer.chunks[: len(year.chunks) - 1]]
    assert year.chunks[0].first == "2015-01-01" and year.chunks[0].partitions == 100


def test_dates_outside_the_partitions_are_reported_not_planned():
    plan = plan_job("job", "sel", 2, PARTITIONS, dt.date(2010, 1, 1), dt.date(2026, 12, 1), 500)

    assert covered(plan.chunks) == [p.key for p in PARTITIONS]
    assert plan.available == (dt.date(2015, 1, 1), dt.date(2018, 12, 31))
    assert plan.uncovered == [
        (dt.date(2010, 1, 1), dt.date(2014, 12, 31)),
        (dt.date(2019, 1, 1), dt.date(2026, 12, 1)),
    ]


def test_bad_windows_and_selections_are_refused_by_name():
    with pytest.raises(InvalidInput, match="--end 2015-01-01 is before --start 2016-01-01"):
        plan_job("job", "sel", 1, PARTITIONS, dt.date(2016, 1, 1), dt.date(2015, 1, 1), 10)
    with pytest.raises(InvalidInput, match="--chunk-partitions must be at least 1"):
        plan_job("job", "sel", 1, PARTITIONS, dt.date(2016, 1, 1), dt.date(2016, 2, 1), 0)
    keys = ["fred/GDP", "fred/DGS10", "bcb_sgs/432"]
    assert matching_keys(keys, ["fred"]) == {"fred/GDP", "fred/DGS10"}
    assert matching_keys(keys, ["bcb_sgs.432", "fred.GDP"]) == {"bcb_sgs/432", "fred/GDP"}
    assert matching_keys(keys, []) == set(keys)
    with pytest.raises(InvalidInput, match="--select 'fred.GPD' names no source or dataset"):
        matching_keys(keys, ["fred.GPD"])


def outcome(succeeded: bool, seconds: float, asset_partitions: int) -> Outcome:
    return Outcome(succeeded, seconds, "run", asset_partitions, "2026-12-02T00:00:00+00:00")


def test_resume_skips_what_succeeded_and_runs_failed_and_new_chunks_again(tmp_path):
    chunks = plan_job("job", "sel", 2, PARTITIONS, dt.date(2015, 1, 1), dt.date(2015, 12, 31), 100).chunks
    ledger = Ledger(tmp_path / "ledger.json")
    ledger.record(chunks[0], outcome(True, 3.0, 200))
    ledger.record(chunks[1], outcome(False, 1.0, 200))

    reloaded = Ledger.load(tmp_path / "ledger.json")
    assert chunks_to_run(chunks, reloaded, resume=True) == chunks[1:]
    assert chunks_to_run(chunks, reloaded, resume=False) == chunks
    other_selection = [Chunk("job", "other", c.first, c.last, c.partitions, 1) for c in chunks]
    assert chunks_to_run(other_selection, reloaded, resume=True) == other_selection


def test_the_cost_model_learns_from_the_ledger(tmp_path):
    chunks = plan_job("job", "sel", 1, PARTITIONS, dt.date(2015, 1, 1), dt.date(2015, 12, 31), 100).chunks
    ledger = Ledger(tmp_path / "ledger.json")
    assert CostModel.from_ledger(ledger).basis.startswith("measured by benchmarks/bench_backfill.py")
    # 1 s per run and 10 ms per asset-partition, on chunks of two sizes; the failed chunk teaches nothing.
    ledger.record(chunks[0], outcome(True, 2.0, 100))
    ledger.record(chunks[1], outcome(True, 3.0, 200))
    ledger.record(chunks[2], outcome(False, 50.0, 100))

    model = CostModel.from_ledger(ledger)
    assert model.run_seconds == pytest.approx(1.0)
    assert model.per_asset_partition == {"job": pytest.approx(0.01)}
    assert model.seconds(Chunk("job", "sel", "a", "b", 400, 1)) == pytest.approx(5.0)
    assert model.basis == "from 2 chunks in the ledger"


def test_an_unreadable_ledger_is_refused_with_its_path(tmp_path):
    path = tmp_path / "ledger.json"
    path.write_text("{not json")
    with pytest.raises(InvalidInput, match="ledger.json: unreadable"):
        Ledger.load(path)


@pytest.fixture
def backfill_home(monkeypatch):
    """A fresh MACRO_ASSETS_HOME outside pytest's temporary root (whose permissions another pytest session resets,
    locking the embedded server's user out, as in conftest). The backfill points this process's environment at its
    Dagster instance, as the CLI does: undone after."""
    home = Path(tempfile.mkdtemp(prefix="macro-backfill-"))
    monkeypatch.setenv("MACRO_ASSETS_HOME", str(home))
    saved = dict(os.environ)
    yield home
    embedded.stop_server(home)
    os.environ.clear()
    os.environ.update(saved)
    shutil.rmtree(home, ignore_errors=True)


def test_a_small_backfill_through_the_cli_fails_a_chunk_then_resumes_it(backfill_home, capsys):
    # 2018-01-01 is business day 782 (from 0) of the recorded window: a chunk of 17 partitions starts there.
    window = ["--select", "fred.DGS10", "bcb_sgs.432", "--start", "2018-01-01", "--chunk-partitions", "17"]
    assert main(["backfill", *window, "--end", "2018-01-23"]) == 0
    first = capsys.readouterr().out
    assert "materialize_daily: 2 assets x 17 partitions in 1 chunk(s) and a checks run (0 of 2 runs done)" in first
    assert "[1/2] materialize_daily 2018-01-01 .. 2018-01-23: 17 partitions x 2 assets done" in first
    assert "[2/2] quality_checks 2018-01-01 .. 2018-01-23: 17 partitions x 2 assets done" in first

    # The second chunk fails for real (its warehouse does not exist); the first is not run again.
    os.environ["MACRO_ASSETS_WAREHOUSE_URL"] = embedded.ensure_server().replace("/postgres?", "/absent?", 1)
    assert main(["backfill", *window, "--end", "2018-01-31", "--resume"]) == 1
    failed = capsys.readouterr().out
    assert "(1 of 3 runs done)" in failed and "[1/2] materialize_daily 2018-01-24 .. 2018-01-31" in failed
    assert "FAILED (retried by --resume)" in failed
    assert "[2/2] quality_checks of 1 chunks not done: not run" in failed and "2 runs not done" in failed

    del os.environ["MACRO_ASSETS_WAREHOUSE_URL"]
    assert main(["backfill", *window, "--end", "2018-01-31", "--resume", "--dry-run"]) == 0
    assert "to run: 2 runs, 12 asset-partitions" in capsys.readouterr().out
    assert main(["backfill", *window, "--end", "2018-01-31", "--resume"]) == 0
    resumed = capsys.readouterr().out
    assert "[1/2] materialize_daily 2018-01-24 .. 2018-01-31: 6 partitions x 2 assets done" in resumed
    assert "[2/2] quality_checks 2018-01-01 .. 2018-01-31: 23 partitions x 2 assets done" in resumed

    stored = json.loads(ledger_path().read_text())["chunks"]
    assert all(value["succeeded"] for value in stored.values()) and len(stored) == 4  # checks of both windows
    with connect() as warehouse:
        dgs10 = warehouse.observations.as_of("fred.DGS10", start=dt.date(2018, 1, 1), end=dt.date(2018, 1, 31))
        sgs = warehouse.observations.as_of("bcb_sgs.432", start=dt.date(2018, 1, 1), end=dt.date(2018, 1, 31))
    # Every business day of both chunks but New Year's Day and Martin Luther King Day (US holidays, no Treasury
    # yield); the Selic target is listed for every calendar day.
    holidays = {dt.date(2018, 1, 1), dt.date(2018, 1, 15)}
    january = [p.first_day for p in business_days(dt.date(2018, 1, 1), dt.date(2018, 1, 31))]
    assert dgs10["obs_date"].dt.date.tolist() == [day for day in january if day not in holidays]
    assert sgs["obs_date"].dt.date.tolist() == [dt.date(2018, 1, day) for day in range(1, 32)]
