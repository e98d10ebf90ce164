"""What a backfill costs in Dagster: the same partitions of the same daily datasets as one range run and as a run
per partition, the per-partition overhead of a range run under Dagster's event settings, the Dagster storage each
partition leaves, and from those a projection of the full catalog from 2010 on this machine.

Every configuration runs the backfill's own path (macro_assets.cli.backfill plans the chunk, main_job.execute_run
executes it in process) on fresh databases of one PostgreSQL server: a warehouse and a Dagster storage each, so the
storage figures are those of that configuration alone. Offline (the recorded payloads), in one process, one after
the other. It is a script, not a test:

    .venv/bin/python benchmarks/bench_backfill.py [--partitions 520] [--rounds 2] [--single-runs 8] [--datasets ...]
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import shutil
import statistics
import tempfile
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg2

REPO = Path(__file__).resolve().parents[1]
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_DATASETS = ["fred.DGS10", "fred.DGS2", "fred.DGS5", "fred.DFF"]
FIRST_DAY = dt.date(2017, 1, 2)  # inside every daily recording (2015 .. 2018)


@dataclass(frozen=True)
class Configuration:
    name: str
    fast_events: bool
    pooled: bool


CONFIGURATIONS = [
    Configuration("Dagster defaults", fast_events=False, pooled=False),
    Configuration("subset planned events + batch 1000", fast_events=True, pooled=False),
    Configuration("... + a held storage connection", fast_events=True, pooled=True),
]


def _database(admin: str, prefix: str) -> tuple[str, callable]:
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    connection = psycopg2.connect(admin)
    connection.autocommit = True
    connection.cursor().execute(f'CREATE DATABASE "{name}"')
    connection.close()

    def drop() -> None:
        connection = psycopg2.connect(admin)
        connection.autocommit = True
        connection.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.close()

    base = admin.rpartition("/")[0]
    return f"{base}/{name}", drop


def storage_bytes(url: str) -> dict[str, int]:
    """pg_total_relation_size (table, indexes, TOAST) of every table of Dagster's storage."""
    connection = psycopg2.connect(url)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, pg_total_relation_size(c.oid) FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND n.nspname = 'public'"
        )
        sizes = dict(cursor.fetchall())
    connection.close()
    return sizes


def database_bytes(url: str) -> int:
    connection = psycopg2.connect(url)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_database_size(current_database())")
        (size,) = cursor.fetchone()
    connection.close()
    return size


def event_counts(url: str) -> dict[str, int]:
    connection = psycopg2.connect(url)
    with connection.cursor() as cursor:
        cursor.execute("SELECT dagster_event_type, count(*) FROM event_logs GROUP BY 1 ORDER BY 2 DESC")
        counts = {kind or "log": count for kind, count in cursor.fetchall()}
    connection.close()
    return counts


@contextmanager
def fresh_instance(admin: str, configuration: Configuration, root: Path):
    """A Dagster instance on a fresh storage database, a fresh warehouse and object store, the event settings of
    `configuration` in the environment (Dagster reads them at each write)."""
    import dagster as dg

    from macro_assets.cli.backfill import HELD_CONNECTION
    from macro_assets.cli.main import FAST_EVENTS
    from macro_assets.warehouse import connect

    warehouse_url, drop_warehouse = _database(admin, "bench_backfill_wh")
    dagster_url, drop_dagster = _database(admin, "bench_backfill_dagster")
    home = root / uuid.uuid4().hex[:8]
    home.mkdir()
    shutil.copyfile(REPO / "dagster.yaml", home / "dagster.yaml")
    saved = dict(os.environ)
    os.environ.update(
        {
            "DAGSTER_PG_URL": dagster_url.replace("postgresql://", "postgresql+psycopg2://", 1),
            "MACRO_ASSETS_WAREHOUSE_URL": warehouse_url.replace("postgresql://", "postgresql+psycopg2://", 1),
            "MACRO_ASSETS_OBJECT_STORE_URL": str(home / "objects"),
        }
    )
    for name, value in FAST_EVENTS.items():
        if configuration.fast_events:
            os.environ[name] = value
        else:
            os.environ.pop(name, None)
    try:
        connect().close()  # the warehouse's migrations, outside the timings
        instance = dg.DagsterInstance.from_config(str(home))
        if configuration.pooled:
            instance.optimize_for_webserver(**HELD_CONNECTION)
        yield instance, dagster_url, warehouse_url
        instance.dispose()
    finally:
        os.environ.clear()
        os.environ.update(saved)
        drop_warehouse()
        drop_dagster()


@dataclass(frozen=True)
class Measured:
    configuration: Configuration
    range_seconds: float
    single_seconds: list[float]
    checks_seconds: float
    dagster_bytes: int  # what the range run added to Dagster's storage
    dagster_tables: dict[str, int]
    warehouse_bytes: int  # what it added to the warehouse
    events: dict[str, int]


def timed_run(execution, instance) -> float:
    from macro_assets.defs.main_job import execute_run

    began = time.perf_counter()
    result = execute_run(execution.job, instance, execution.tags, execution.partition_range)
    if not result.success:
        raise SystemExit(f"bench_backfill: the run of {execution.job.name} failed: run {result.run_id}")
    return time.perf_counter() - began


def measure(admin: str, configuration: Configuration, plan, executions, single_runs: int, root: Path) -> Measured:
    """The chunk as one range run on fresh databases, then the checks run over it; its first partitions as a run
    each on other fresh ones: the same work."""
    from macro_assets.defs.backfill import Execution

    [chunk] = plan.chunks
    execution = executions[chunk.key]
    with fresh_instance(admin, configuration, root) as (instance, dagster_url, warehouse_url):
        empty, empty_warehouse = storage_bytes(dagster_url), database_bytes(warehouse_url)
        range_seconds = timed_run(execution, instance)
        after, warehouse = storage_bytes(dagster_url), database_bytes(warehouse_url) - empty_warehouse
        events = event_counts(dagster_url)
        checks_seconds = timed_run(executions[plan.checks.key], instance)
    keys = execution.job.partitions_def.get_partition_keys()
    wanted = keys[keys.index(chunk.first) : keys.index(chunk.last) + 1][:single_runs]
    with fresh_instance(admin, configuration, root) as (instance, _, _):
        singles = [timed_run(Execution(execution.job, {}, (key, key)), instance) for key in wanted]
    delta = {table: after.get(table, 0) - empty.get(table, 0) for table in after}
    return Measured(
        configuration, range_seconds, singles, checks_seconds, sum(delta.values()), delta, warehouse, events
    )


@dataclass(frozen=True)
class Figures:
    """The medians of one configuration's rounds, and what they give per partition and for the catalog."""

    configuration: Configuration
    range_seconds: float
    single_seconds: float
    marginal: float  # seconds a range run spends per asset-partition beyond a run of one partition
    checks_seconds: float
    dagster_bytes: float  # per asset-partition
    warehouse_bytes: float

    @classmethod
    def of(cls, rounds: list[Measured], asset_partitions: int, assets: int) -> Figures:
        range_seconds = statistics.median(m.range_seconds for m in rounds)
        single = statistics.median(s for m in rounds for s in m.single_seconds)
        return cls(
            rounds[0].configuration,
            range_seconds,
            single,
            max(range_seconds - single, 0.0) / (asset_partitions - assets),
            statistics.median(m.checks_seconds for m in rounds),
            statistics.median(m.dagster_bytes for m in rounds) / asset_partitions,
            statistics.median(m.warehouse_bytes for m in rounds) / asset_partitions,
        )


def catalog_projection(chunk_partitions: int) -> tuple[int, int]:
    """(asset-partitions, runs) of the whole catalog from 2010 to today, live: each dataset's partitions, and one
    run per chunk of each partitions definition."""
    from macro_assets.catalog import load_catalog
    from macro_assets.defs.partitions import partitions_for

    previous = os.environ.get("MACRO_ASSETS_MODE")
    os.environ["MACRO_ASSETS_MODE"] = "live"
    try:
        definitions, asset_partitions = {}, 0
        for spec in load_catalog().datasets.values():
            definition = partitions_for(spec)
            count = len(definition.get_partition_keys())
            definitions[id(definition)] = count
            asset_partitions += count
    finally:
        if previous is None:
            os.environ.pop("MACRO_ASSETS_MODE")
        else:
            os.environ["MACRO_ASSETS_MODE"] = previous
    return asset_partitions, sum(math.ceil(count / chunk_partitions) for count in definitions.values())


def kilobytes(value: float) -> str:
    return f"{value / 1024:,.1f} kB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_URL, help="a server and its admin database (fresh ones are made)")
    parser.add_argument("--datasets", nargs="+", default=DEFAULT_DATASETS, help="daily datasets of one range job")
    parser.add_argument("--partitions", type=int, default=520, help="business days from 2017-01-02 (default 520)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of every configuration (default 2)")
    parser.add_argument("--single-runs", type=int, default=8, help="runs of one partition each (default 8)")
    args = parser.parse_args()

    from macro_assets.cli.backfill import DEFAULT_CHUNK_PARTITIONS
    from macro_assets.definitions import defs
    from macro_assets.defs.backfill import backfill_runs
    from macro_assets.defs.partitions import inclusive_dates

    # The job's partitions from FIRST_DAY on, then the plan of exactly --partitions of them, as one chunk.
    [plan], executions = backfill_runs(defs, FIRST_DAY, FIRST_DAY, args.datasets, chunk_partitions=10**6)
    job = executions[plan.chunks[0].key].job
    keys = job.partitions_def.get_partition_keys()
    first = keys.index(plan.chunks[0].first)
    if first + args.partitions > len(keys):
        raise SystemExit(f"bench_backfill: --partitions {args.partitions}: {len(keys) - first} from {FIRST_DAY}")
    end = inclusive_dates(job.partitions_def.time_window_for_partition_key(keys[first + args.partitions - 1]))[1]
    [plan], executions = backfill_runs(defs, FIRST_DAY, end, args.datasets, chunk_partitions=10**6)
    chunk = plan.chunks[0]
    assets = chunk.assets
    print(
        f"{assets} daily datasets ({', '.join(args.datasets)}) x {chunk.partitions} partitions "
        f"({chunk.first} .. {chunk.last}) = {chunk.asset_partitions:,} asset-partitions; server {args.url}",
        flush=True,
    )
    root = Path(tempfile.mkdtemp(prefix="bench_backfill_"))
    rounds: dict[str, list[Measured]] = {c.name: [] for c in CONFIGURATIONS}
    try:
        for number in range(1, args.rounds + 1):  # the configurations alternate: the machine's noise falls on all
            for configuration in CONFIGURATIONS:
                measured = measure(args.url, configuration, plan, executions, args.single_runs, root)
                rounds[configuration.name].append(measured)
                print(
                    f"  round {number}: {configuration.name}: range run {measured.range_seconds:.1f} s, a run per "
                    f"partition {statistics.median(measured.single_seconds):.2f} s",
                    flush=True,
                )
    finally:
        shutil.rmtree(root, ignore_errors=True)
    figures = [Figures.of(rounds[c.name], chunk.asset_partitions, chunk.assets) for c in CONFIGURATIONS]

    print()
    print(
        "| Dagster settings | range run | a run per partition | per partition: a run each ÷ in the range | "
        "range overhead per asset-partition | checks run | Dagster storage per asset-partition | "
        "warehouse per asset-partition |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for figure in figures:
        in_range = figure.range_seconds / chunk.partitions
        print(
            f"| {figure.configuration.name} | {figure.range_seconds:.1f} s | {figure.single_seconds:.2f} s | "
            f"**{figure.single_seconds / in_range:.0f}x** | {figure.marginal * 1000:.2f} ms | "
            f"{figure.checks_seconds:.1f} s | "
            f"{kilobytes(figure.dagster_bytes)} | {kilobytes(figure.warehouse_bytes)} |"
        )
    last = rounds[CONFIGURATIONS[-1].name][-1]
    print()
    print(f"Dagster storage added by the range run ({CONFIGURATIONS[-1].name}), largest tables:")
    for table, size in sorted(last.dagster_tables.items(), key=lambda item: -item[1])[:5]:
        print(f"  {table}: {kilobytes(size)}")
    for configuration in CONFIGURATIONS:
        print(f"  events ({configuration.name}): {rounds[configuration.name][-1].events}")

    asset_partitions, runs = catalog_projection(DEFAULT_CHUNK_PARTITIONS)
    print()
    print(
        f"Full catalog from 2010 to {dt.date.today()} (live partitions of every catalog dataset): "
        f"{asset_partitions:,} asset-partitions in {runs} runs of at most {DEFAULT_CHUNK_PARTITIONS} partitions"
    )
    # Two projections: the fixed cost per run plus the marginal cost (the model of the backfill's ledger), and the
    # whole measured range run per asset-partition, which charges every 2,080 asset-partitions a run's fixed cost
    # again (the catalog's runs hold up to 30 k): an upper bound that the noise of a difference cannot shrink.
    for figure in figures:
        modelled = runs * figure.single_seconds + asset_partitions * figure.marginal
        bound = asset_partitions * figure.range_seconds / chunk.asset_partitions
        print(
            f"  {figure.configuration.name}: {modelled / 3600:.2f} h ({runs} x {figure.single_seconds:.2f} s + "
            f"{asset_partitions:,} x {figure.marginal * 1000:.2f} ms), at most {bound / 3600:.2f} h "
            f"({figure.range_seconds / chunk.asset_partitions * 1000:.2f} ms per asset-partition); Dagster storage "
            f"{asset_partitions * figure.dagster_bytes / 2**20:,.0f} MB, warehouse "
            f"{asset_partitions * figure.warehouse_bytes / 2**20:,.0f} MB"
        )


if __name__ == "__main__":
    main()
