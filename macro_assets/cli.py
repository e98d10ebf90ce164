"""`macro-assets`: materialize the slice, read series point-in-time, and start Dagster on a persistent instance."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from macro_assets import settings
from macro_assets.catalog import UnknownSeries, load_catalog

REPO_ROOT = Path(__file__).resolve().parents[1]
DAILY_RANGE = "2015-01-01...2018-12-31"  # the window the packaged recordings cover
MONTHLY_RANGE = "2015-01-01...2018-12-01"
# In process: the steps are light and a process per step costs more than it saves on 2 cores. INFO: the DEBUG
# console lines are one per partition (thousands per run); every event is still stored on the instance.
RUN_CONFIG = '{"execution": {"config": {"in_process": {}}}, "loggers": {"console": {"config": {"log_level": "INFO"}}}}'


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
    environment = dagster_environment()
    started = time.monotonic()
    plans = [("tag:freq=daily", args.daily_range), ("tag:freq=monthly", args.monthly_range)]
    failures = 0
    # `dagster asset materialize` is the command the project promises to work; Dagster's notice that it is
    # superseded by `dg launch`, and its beta labels, are not news to whoever runs this.
    quiet = {**environment, "PYTHONWARNINGS": "ignore"}
    for selection, partition_range in plans:
        print(f"==> dagster asset materialize --select '{selection}' --partition-range {partition_range}", flush=True)
        code = _run_dagster(["asset", "materialize", "-m", "macro_assets.definitions", "--select", selection,
                             "--partition-range", partition_range, "--config-json", RUN_CONFIG], quiet)
        failures += code != 0
    os.environ.update(environment)
    from macro_assets.summary import print_summary

    print_summary(elapsed=time.monotonic() - started)
    return 1 if failures else 0


def command_read(args: argparse.Namespace) -> int:
    from macro_assets.warehouse import connect

    try:
        load_catalog().get(args.series)
        with connect() as warehouse:
            if args.revisions:
                frame = warehouse.revisions(args.series, args.revisions)
            elif args.first_release:
                frame = warehouse.first_release(args.series, args.start, args.end)
            elif args.latest:
                frame = warehouse.latest(args.series, args.start, args.end)
            else:
                frame = warehouse.as_of(args.series, args.as_of, args.start, args.end)
    except (UnknownSeries, ValueError) as error:
        print(f"macro-assets read: {error}", file=sys.stderr)
        return 2
    frame.assign(obs_date=frame["obs_date"].dt.strftime("%Y-%m-%d")).to_csv(sys.stdout, index=False)
    return 0


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
    return _run_dagster(["dev", *args.extra], dagster_environment())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="macro-assets", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    materialize = commands.add_parser("materialize", help="materialize every asset over the recorded window")
    materialize.add_argument("--daily-range", default=DAILY_RANGE, help=f"daily partitions (default {DAILY_RANGE})")
    materialize.add_argument("--monthly-range", default=MONTHLY_RANGE,
                             help=f"monthly partitions (default {MONTHLY_RANGE})")
    materialize.set_defaults(handler=command_materialize)

    read = commands.add_parser("read", help="a series as known at an instant, as CSV on stdout")
    read.add_argument("series", help="series id, e.g. fred.GDP or bcb_sgs.433")
    read.add_argument("--as-of", help="instant (date or datetime; naive = UTC); default now")
    read.add_argument("--start", help="first observation date")
    read.add_argument("--end", help="last observation date")
    mode = read.add_mutually_exclusive_group()
    mode.add_argument("--first-release", action="store_true", help="the first published value of each date")
    mode.add_argument("--latest", action="store_true", help="the newest vintage of each date")
    mode.add_argument("--revisions", metavar="DATE", help="every vintage of one observation date")
    read.set_defaults(handler=command_read)

    env = commands.add_parser("env", help="print the exports that point Dagster at the persistent instance")
    env.set_defaults(handler=command_env)

    stop = commands.add_parser("stop", help="stop the embedded PostgreSQL server (it outlives the commands that start it)")
    stop.set_defaults(handler=command_stop)

    dev = commands.add_parser("dev", help="dagster dev on the persistent instance (other args go to dagster dev)")
    dev.set_defaults(handler=command_dev, passes_extra_arguments=True)
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
