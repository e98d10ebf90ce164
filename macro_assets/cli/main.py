"""`macro-assets`: materialize the offline graph, read any dataset point-in-time, start Dagster on the instance."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from macro_assets import settings
from macro_assets.catalog import load_catalog
from macro_assets.cli.api_keys import add_api_commands
from macro_assets.cli.backfill import add_backfill_command
from macro_assets.errors import InvalidInput, MacroAssetsError
from macro_assets.timeutil import parse_date

REPO_ROOT = Path(__file__).resolve().parents[2]
# Dagster's own settings, read by the process that creates (and executes) a run: the planned events of a range
# run name the partition subset instead of one event per partition, and events are written in batches (1,000
# partitions: 49 s -> 3.7 s measured here). The price: a failed range run leaves its partitions shown missing, not
# failed (the run itself shows failed, and this command says so).
FAST_EVENTS = {"DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS": "1", "DAGSTER_EVENT_BATCH_SIZE": "1000"}


def dagster_environment() -> dict[str, str]:
    """DAGSTER_HOME (persistent, under MACRO_ASSETS_HOME) and DAGSTER_PG_URL (Dagster's storage on PostgreSQL:
    the one given, else a `dagster` database on the embedded server)."""
    from macro_assets.warehouse import embedded

    dagster_home = Path(os.environ.get("DAGSTER_HOME") or settings.home() / "dagster").resolve()
    dagster_home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(REPO_ROOT / "dagster.yaml", dagster_home / "dagster.yaml")
    storage_url = os.environ.get("DAGSTER_PG_URL") or embedded.dagster_storage_url()
    return {"DAGSTER_HOME": str(dagster_home), "DAGSTER_PG_URL": storage_url}


def _run_dagster(arguments: list[str], environment: dict[str, str]) -> int:
    command = [str(Path(sys.executable).with_name("dagster")), *arguments]
    return subprocess.call(command, env={**os.environ, **environment}, cwd=REPO_ROOT)


def command_materialize(args: argparse.Namespace) -> int:
    """The main job (macro_assets.defs.main_job): a handful of runs, a line per run, then a summary."""
    os.environ.update({**dagster_environment(), **FAST_EVENTS})
    from macro_assets.cli.summary import print_summary
    from macro_assets.definitions import defs
    from macro_assets.defs.main_job import run_main_job

    started = time.monotonic()
    succeeded = run_main_job(defs, lambda line: print(line, flush=True))
    print_summary(elapsed=time.monotonic() - started)
    return 0 if succeeded else 1


def command_read(args: argparse.Namespace) -> int:
    from macro_assets.warehouse import connect

    try:
        dataset = load_catalog().get(args.dataset)
        with connect() as warehouse:
            table = read(warehouse, dataset, args)
    except MacroAssetsError as error:
        print(f"macro-assets read: {error}", file=sys.stderr)
        return 2
    if args.parquet:
        import pyarrow.parquet as pq

        pq.write_table(table, args.parquet)
    else:
        as_csv(exact_pandas(table)).to_csv(sys.stdout, index=False)
    return 0


DATE_COLUMNS = ("obs_date", "curve_date", "maturity_date")


def exact_pandas(table):
    """The table in pandas with integer columns kept integers where they have nulls: a nanosecond timestamp
    (Databento's ts_ref) made a float would lose its last digits."""
    import pandas as pd
    import pyarrow as pa

    from macro_assets.warehouse.frames import to_output

    frame = to_output(table, "pandas")
    for field in table.schema:
        if pa.types.is_integer(field.type) and table.column(field.name).null_count:
            frame[field.name] = table.column(field.name).to_pandas(types_mapper={field.type: pd.Int64Dtype()}.get)
    return frame


def as_csv(frame):
    """Dates as YYYY-MM-DD, instants as ISO 8601 with their UTC offset."""
    columns = {}
    for name in frame.columns:
        column = frame[name]
        if name in DATE_COLUMNS:
            columns[name] = column.dt.strftime("%Y-%m-%d")
        elif hasattr(column, "dt") and getattr(column.dt, "tz", None) is not None:
            columns[name] = column.map(lambda moment: moment.isoformat() if moment == moment else "")
    return frame.assign(**columns)


def read(warehouse, dataset, args: argparse.Namespace):
    """The read mode asked for (an Arrow table), every one of them as known at --as-of (default now)."""
    reader = warehouse.reader(dataset.shape)
    dataset_id = str(dataset.id)
    if args.revisions:
        if dataset.kind != "observations":
            raise InvalidInput(f"--revisions is for series; {dataset_id} is a {dataset.kind}: use --vintages")
        day = parse_date(args.revisions, field="--revisions")
        period_start = {"monthly": day.replace(day=1), "quarterly": _quarter_start(day)}.get(dataset.frequency, day)
        if day != period_start:
            raise InvalidInput(
                f"--revisions {day}: {dataset_id} is {dataset.frequency} and its observations are "
                f"dated on the first day of their period; use --revisions {period_start}"
            )
        return reader.revisions(dataset_id, day, as_of=args.as_of, output="arrow")
    if args.first_release:
        return reader.first_release(dataset_id, args.start, args.end, as_of=args.as_of, output="arrow")
    if args.vintages:
        return reader.vintages(dataset_id, args.start, args.end, as_of=args.as_of, output="arrow")
    # --latest is the newest vintage known at --as-of: the as-of read itself.
    return reader.as_of(dataset_id, as_of=args.as_of, start=args.start, end=args.end, output="arrow")


def _quarter_start(day):
    return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)


def command_env(args: argparse.Namespace) -> int:
    for name, value in dagster_environment().items():
        print(f"export {name}='{value}'")
    return 0


def command_stop(args: argparse.Namespace) -> int:
    from macro_assets.warehouse import embedded

    stopped = embedded.stop_server()
    print(f"embedded PostgreSQL in {embedded.embedded_pgdata()}: {'stopped' if stopped else 'not running'}")
    return 0


def command_dev(args: argparse.Namespace) -> int:
    # The webserver and the daemon create the runs launched from the UI, sensors and backfills: they get the same
    # event settings as the main job.
    return _run_dagster(["dev", *args.extra], {**dagster_environment(), **FAST_EVENTS})


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="macro-assets", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    materialize = commands.add_parser(
        "materialize", help="materialize every asset over all its partitions (offline: the recorded window)"
    )
    materialize.set_defaults(handler=command_materialize)

    read = commands.add_parser("read", help="a dataset (series, curve or bars) as known at an instant, CSV on stdout")
    read.add_argument("dataset", help="dataset id, e.g. fred.GDP, us_treasury.par_nominal, yahoo.USDBRL_1d")
    read.add_argument("--as-of", help="instant (date or datetime; naive = UTC); default now; every mode honours it")
    read.add_argument("--start", help="first date (observation, curve or bar date)")
    read.add_argument("--end", help="last date")
    read.add_argument("--parquet", metavar="FILE", help="write Parquet to FILE instead of CSV on stdout")
    mode = read.add_mutually_exclusive_group()
    mode.add_argument("--first-release", action="store_true", help="the first published value of each date")
    mode.add_argument("--latest", action="store_true", help="the newest vintage of each date (known at --as-of)")
    mode.add_argument("--vintages", action="store_true", help="every vintage of the window (known at --as-of)")
    mode.add_argument("--revisions", metavar="DATE", help="every vintage of one observation date (series)")
    read.set_defaults(handler=command_read)

    env = commands.add_parser("env", help="print the exports that point Dagster at the persistent instance")
    env.set_defaults(handler=command_env)

    stop = commands.add_parser(
        "stop", help="stop the embedded PostgreSQL server (it outlives the commands that start it)"
    )
    stop.set_defaults(handler=command_stop)

    # No -h of its own: `macro-assets dev -h 0.0.0.0` passes the host to dagster dev.
    dev = commands.add_parser(
        "dev",
        add_help=False,
        help="dagster dev on the persistent instance (other args, -h included, go to dagster dev)",
    )
    dev.set_defaults(handler=command_dev, passes_extra_arguments=True)

    add_backfill_command(commands)
    add_api_commands(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and not getattr(args, "passes_extra_arguments", False):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.extra = extra
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
