"""`macro-assets backfill`: the catalog's history as a handful of range runs, chunked, resumable, with progress and a
projection of its time.

Every range job of the main job (one per partitions definition) is cut into chunks of consecutive partitions; each
chunk is one run executed in process, as the main job runs them. A progress ledger under MACRO_ASSETS_HOME records
each chunk's outcome and time: `--resume` skips the chunks that succeeded and runs the failed and missing ones again
(a re-run appends nothing twice: rows that change nothing add no vintage), and the recorded times feed the cost model
of the next projection.

Offline, a dataset's partitions are exactly the recorded window of its source (defs/partitions.py), so a partition
outside it does not exist to run: the plan is clipped to it and says so. A partition inside it whose request has no
recording fails its run with the replay's RecordingNotFound; its chunk is reported failed, never counted done.
The offline backfill replays the latest capture of each request, what the source answers today, as live would.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from macro_assets import settings
from macro_assets.errors import InvalidInput, MacroAssetsError

# The cost model before the ledger holds a chunk of a job: measured by benchmarks/bench_backfill.py on this 2-core
# box (2026-12-02, benchmarks/README.md): a run's fixed cost (a run of one partition), and a range run's cost per
# asset-partition on top of it.
MEASURED_RUN_SECONDS = 0.8
MEASURED_ASSET_PARTITION_SECONDS = 0.0008
DEFAULT_CHUNK_PARTITIONS = 500
# Dagster's PostgreSQL storage opens a connection per storage call unless told to hold one, as its webserver does
# (instance.optimize_for_webserver). With the range's events batched (FAST_EVENTS) what is left of those calls is a
# run's own: held, a run of one partition took 0.75 s instead of 1.44 s and a checks run 0.5 s instead of 2.7 s
# (bench_backfill.py). No statement timeout: a backfill's writes are not a webserver's reads.
HELD_CONNECTION = {"statement_timeout": 0, "pool_recycle": 3600, "max_overflow": 20}


@dataclass(frozen=True)
class Partition:
    key: str
    first_day: dt.date
    last_day: dt.date  # inclusive


@dataclass(frozen=True)
class Chunk:
    """One run: `assets` assets of `job` over partitions `first` .. `last` (`partitions` of them)."""

    job: str
    selection: str  # a digest of the mode and the assets the run materializes: another selection is another chunk
    first: str
    last: str
    partitions: int
    assets: int

    @property
    def key(self) -> str:
        return f"{self.job}[{self.selection}]:{self.first}...{self.last}"

    @property
    def asset_partitions(self) -> int:
        return self.partitions * self.assets


@dataclass(frozen=True)
class JobPlan:
    """A range job's part of the backfill: its chunks, the run of its assets' checks over the dates they cover
    (once every chunk succeeded), and the requested dates its partitions do not cover."""

    job: str
    assets: int
    available: tuple[dt.date, dt.date]
    chunks: list[Chunk]
    window: tuple[dt.date, dt.date] | None  # the dates of the chunks' partitions
    checks: Chunk | None
    uncovered: list[tuple[dt.date, dt.date]]


def selection_digest(mode: str, asset_keys: Iterable[str]) -> str:
    return hashlib.sha256("\n".join([mode, *sorted(asset_keys)]).encode()).hexdigest()[:10]


def plan_job(
    job: str,
    selection: str,
    assets: int,
    partitions: Sequence[Partition],
    start: dt.date,
    end: dt.date,
    chunk_partitions: int,
    checks_job: str = "quality_checks",
) -> JobPlan:
    """The partitions overlapping `start` .. `end`, in consecutive chunks of at most `chunk_partitions`, then one
    run of `checks_job` over them.

    Chunks are cut on a grid counted from the job's first partition, not from `start`: a later backfill over
    another window (a later --end) finds the same chunks in the ledger, only its edge chunks differ."""
    if end < start:
        raise InvalidInput(f"backfill: --end {end} is before --start {start}")
    if chunk_partitions < 1:
        raise InvalidInput(f"backfill: --chunk-partitions must be at least 1, got {chunk_partitions}")
    if not partitions:
        raise InvalidInput(f"backfill: job {job} has no partitions")
    cells: dict[int, list[Partition]] = {}
    for index, partition in enumerate(partitions):
        if partition.last_day >= start and partition.first_day <= end:
            cells.setdefault(index // chunk_partitions, []).append(partition)
    chunks = [Chunk(job, selection, cell[0].key, cell[-1].key, len(cell), assets) for cell in cells.values()]
    window = checks = None
    if chunks:
        first, last = cells[min(cells)][0], cells[max(cells)][-1]
        window = (first.first_day, last.last_day)
        checks = Chunk(checks_job, selection, first.key, last.key, sum(c.partitions for c in chunks), assets)
    available = (partitions[0].first_day, partitions[-1].last_day)
    gaps = []
    if start < available[0]:
        gaps.append((start, min(end, available[0] - dt.timedelta(days=1))))
    if end > available[1]:
        gaps.append((max(start, available[1] + dt.timedelta(days=1)), end))
    # A gap shorter than a partition is a period not yet complete (this week) or the grid's alignment, not history.
    span = partitions[0].last_day - partitions[0].first_day
    uncovered = [(first, last) for first, last in gaps if last - first > span]
    return JobPlan(job, assets, available, chunks, window, checks, uncovered)


@dataclass(frozen=True)
class Outcome:
    succeeded: bool
    seconds: float
    run_id: str
    asset_partitions: int
    finished_at: str


class Ledger:
    """Which chunks ran, how they ended and how long they took: a JSON file, rewritten whole after every chunk
    (atomically, so a killed backfill leaves the last complete state)."""

    def __init__(self, path: Path, outcomes: dict[str, Outcome] | None = None):
        self.path = path
        self.outcomes = outcomes or {}

    @classmethod
    def load(cls, path: Path) -> Ledger:
        if not path.exists():
            return cls(path)
        try:
            stored = json.loads(path.read_text())
            return cls(path, {key: Outcome(**value) for key, value in stored["chunks"].items()})
        except (ValueError, KeyError, TypeError) as error:
            raise InvalidInput(f"backfill ledger {path}: unreadable ({error}); move it away to start afresh") from None

    def record(self, chunk: Chunk, outcome: Outcome) -> None:
        self.outcomes[chunk.key] = outcome
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_suffix(".partial")
        partial.write_text(json.dumps({"chunks": {k: asdict(v) for k, v in self.outcomes.items()}}, indent=1))
        os.replace(partial, self.path)

    def succeeded(self, chunk: Chunk) -> bool:
        outcome = self.outcomes.get(chunk.key)
        return outcome is not None and outcome.succeeded


def ledger_path() -> Path:
    return settings.home() / "backfill" / "ledger.json"


def runs_of(plans: Sequence[JobPlan]) -> list[Chunk]:
    """Every run of the plans in order: a job's chunks, then its checks."""
    return [chunk for plan in plans for chunk in [*plan.chunks, *([plan.checks] if plan.checks else [])]]


def chunks_to_run(chunks: Sequence[Chunk], ledger: Ledger, resume: bool) -> list[Chunk]:
    """Every chunk, or with `resume` those that have not succeeded (failed ones and those never run)."""
    return [chunk for chunk in chunks if not (resume and ledger.succeeded(chunk))]


@dataclass(frozen=True)
class CostModel:
    """Seconds of a chunk: a fixed cost per run plus a cost per asset-partition. Both come from the ledger's
    succeeded chunks where it has them (the fixed cost fitted over chunks of different sizes, the rate per job, else
    over every job), else from the benchmark's measurement."""

    run_seconds: float
    per_asset_partition: dict[str, float]
    default_per_asset_partition: float
    basis: str

    @classmethod
    def from_ledger(cls, ledger: Ledger) -> CostModel:
        done = [(key.partition("[")[0], o) for key, o in ledger.outcomes.items() if o.succeeded and o.asset_partitions]
        if not done:
            basis = "measured by benchmarks/bench_backfill.py; no chunk in the ledger yet"
            return cls(MEASURED_RUN_SECONDS, {}, MEASURED_ASSET_PARTITION_SECONDS, basis)
        run_seconds = fixed_cost([(o.asset_partitions, o.seconds) for _, o in done])
        totals: dict[str, list[float]] = {}
        for job, outcome in done:
            total = totals.setdefault(job, [0.0, 0.0])
            total[0] += max(outcome.seconds - run_seconds, 0.0)
            total[1] += outcome.asset_partitions
        rates = {job: seconds / count for job, (seconds, count) in totals.items()}
        overall = sum(seconds for seconds, _ in totals.values()) / sum(count for _, count in totals.values())
        return cls(run_seconds, rates, overall, f"from {len(done)} chunks in the ledger")

    def seconds(self, chunk: Chunk) -> float:
        rate = self.per_asset_partition.get(chunk.job, self.default_per_asset_partition)
        return self.run_seconds + rate * chunk.asset_partitions


def fixed_cost(points: Sequence[tuple[int, float]]) -> float:
    """The intercept of seconds against asset-partitions (least squares) over runs of at least two sizes, else the
    measured fixed cost; never negative, never above the cheapest run."""
    sizes = {size for size, _ in points}
    if len(sizes) < 2:
        return min(MEASURED_RUN_SECONDS, min(seconds for _, seconds in points))
    mean_n = sum(size for size, _ in points) / len(points)
    mean_s = sum(seconds for _, seconds in points) / len(points)
    slope = sum((n - mean_n) * (s - mean_s) for n, s in points) / sum((n - mean_n) ** 2 for n, _ in points)
    return min(max(mean_s - slope * mean_n, 0.0), min(seconds for _, seconds in points))


def duration(seconds: float) -> str:
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    return f"{hours} h {rest // 60:02d} min" if hours else f"{rest // 60} min {rest % 60:02d} s"


def describe_plan(plans: Sequence[JobPlan], todo: Sequence[Chunk], model: CostModel, mode: str) -> list[str]:
    """The plan as lines: per job its window, chunks and clipped dates, then the projected time of what is to run."""
    lines = []
    pending = {chunk.key for chunk in todo}
    for plan in plans:
        partitions = sum(chunk.partitions for chunk in plan.chunks)
        runs = runs_of([plan])
        to_run = [chunk for chunk in runs if chunk.key in pending]
        lines.append(
            f"{plan.job}: {plan.assets} assets x {partitions} partitions in {len(plan.chunks)} chunk(s)"
            f"{' and a checks run' if plan.checks else ''} ({len(runs) - len(to_run)} of {len(runs)} runs done), "
            f"projected {duration(sum(map(model.seconds, to_run)))}"
        )
        for first, last in plan.uncovered:
            why = "outside the recorded window of its sources (offline)" if mode == "offline" else "no partitions"
            lines.append(
                f"    {first} .. {last}: not planned, {why}; partitions are {plan.available[0]} .. {plan.available[1]}"
            )
    total = sum(map(model.seconds, todo))
    asset_partitions = sum(chunk.asset_partitions for plan in plans for chunk in plan.chunks if chunk.key in pending)
    lines.append(
        f"to run: {len(todo)} runs, {asset_partitions:,} asset-partitions, projected {duration(total)} "
        f"(cost model {model.run_seconds:.1f} s per run + {model.default_per_asset_partition * 1000:.2f} ms per "
        f"asset-partition, {model.basis})"
    )
    return lines


def progress_line(number: int, count: int, chunk: Chunk, outcome: Outcome, elapsed: float, remaining: float) -> str:
    state = "done" if outcome.succeeded else "FAILED (retried by --resume)"
    return (
        f"[{number}/{count}] {chunk.job} {chunk.first} .. {chunk.last}: {chunk.partitions} partitions x "
        f"{chunk.assets} assets {state} in {outcome.seconds:.1f} s (run {outcome.run_id[:8]}); "
        f"elapsed {duration(elapsed)}, ETA {duration(remaining)}"
    )


def matching_keys(asset_keys: Iterable[str], select: Sequence[str]) -> set[str]:
    """Asset keys (user strings, `fred/GDP`) named by a source (`fred`) or a dataset id (`fred.GDP`); every name
    must match something."""
    keys = set(asset_keys)
    if not select:
        return keys
    chosen = set()
    for name in select:
        path = name.replace(".", "/")
        found = {key for key in keys if key == path or key.startswith(path + "/")}
        if not found:
            raise InvalidInput(f"backfill: --select {name!r} names no source or dataset of the catalog")
        chosen |= found
    return chosen


# Dagster from here on: the range jobs of the definitions as plans, and the chunks as in-process runs.


def command_backfill(args) -> int:
    """Plan, project, then (unless --dry-run) run the chunks still to run; exit 1 if a chunk failed."""
    from macro_assets.cli.main import FAST_EVENTS, dagster_environment
    from macro_assets.timeutil import parse_date

    try:
        start = parse_date(args.start, field="--start")
        end = parse_date(args.end, field="--end") if args.end else dt.date.today()
    except MacroAssetsError as error:
        print(f"macro-assets backfill: {error}", file=sys.stderr)
        return 2
    if not args.dry_run:  # a dry run reads the definitions and the ledger only: no server is started
        os.environ.update({**dagster_environment(), **FAST_EVENTS})
    from macro_assets.definitions import defs
    from macro_assets.defs.backfill import backfill_runs, run_chunks

    try:
        plans, executions = backfill_runs(defs, start, end, args.select, args.chunk_partitions)
        ledger = Ledger.load(ledger_path())
    except MacroAssetsError as error:
        print(f"macro-assets backfill: {error}", file=sys.stderr)
        return 2
    chunks = runs_of(plans)
    todo = chunks_to_run(chunks, ledger, args.resume)
    model = CostModel.from_ledger(ledger)
    mode = settings.mode()
    print(f"backfill {start} .. {end} ({mode}), ledger {ledger.path}", flush=True)
    for line in describe_plan(plans, todo, model, mode):
        print(line, flush=True)
    if args.dry_run or not todo:
        return 0
    succeeded = run_chunks(executions, todo, ledger, model, lambda line: print(line, flush=True))
    failed = [chunk for chunk in chunks if not ledger.succeeded(chunk)]
    if failed:
        print(
            f"{len(failed)} runs not done: see their runs in the UI, then `macro-assets backfill --resume` with "
            "the same arguments",
            flush=True,
        )
    return 0 if succeeded and not failed else 1


def add_backfill_command(commands) -> None:
    backfill = commands.add_parser(
        "backfill", help="the catalog's history as chunked range runs: resumable, with progress and a projection"
    )
    backfill.add_argument("--start", default="2010-01-01", help="first date (default 2010-01-01)")
    backfill.add_argument("--end", help="last date (default today)")
    backfill.add_argument(
        "--select", nargs="+", default=[], metavar="SOURCE_OR_DATASET", help="sources (fred) or datasets (fred.GDP)"
    )
    backfill.add_argument(
        "--chunk-partitions",
        type=int,
        default=DEFAULT_CHUNK_PARTITIONS,
        help=f"partitions per run (default {DEFAULT_CHUNK_PARTITIONS}): a failure loses one chunk",
    )
    backfill.add_argument("--resume", action="store_true", help="skip the chunks the ledger records as succeeded")
    backfill.add_argument("--dry-run", action="store_true", help="print the plan and its projected time only")
    backfill.set_defaults(handler=command_backfill)
