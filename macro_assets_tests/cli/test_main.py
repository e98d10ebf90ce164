"""From a shell, as a user would: `dagster asset materialize` on the offline default (embedded warehouse, local
object store, recorded payloads), then `macro-assets read`."""

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from macro_assets.catalog import load_catalog
from macro_assets.warehouse import embedded
from macro_assets_tests.paths import RECORDINGS

BIN = Path(sys.executable).parent


def gdp_known_at(instant: str) -> dict[str, float]:
    """What the verbatim ALFRED sample says was known at `instant`, for the dates of the recorded window."""
    sample = json.loads(
        (
            RECORDINGS / "fred" / "verbatim" / "series_observations_GDP_realtime_1776-07-04_to_2019-01-01.json"
        ).read_text()
    )
    known = {}
    for row in sample["observations"]:
        if "2015-01-01" <= row["date"] <= "2018-12-31" and row["realtime_start"] < instant[:10]:
            known[row["date"]] = row  # rows come oldest vintage first
    return {date: float(row["value"]) for date, row in known.items() if row["value"] != "."}


@pytest.fixture
def offline_shell(tmp_path, monkeypatch):
    """The environment of a fresh shell: only MACRO_ASSETS_HOME and the Dagster instance the CLI sets up."""
    home = tmp_path / "home"
    monkeypatch.setenv("MACRO_ASSETS_HOME", str(home))
    from macro_assets.cli.main import dagster_environment

    environment = {**os.environ, **dagster_environment()}
    yield environment
    embedded.stop_server(home)


def run(arguments, environment, cwd):
    return subprocess.run(arguments, env=environment, cwd=cwd, capture_output=True, text=True, timeout=600)


def test_materialize_from_the_shell_then_read_point_in_time(offline_shell, tmp_path):
    materialize = run(
        [
            str(BIN / "dagster"),
            "asset",
            "materialize",
            "-m",
            "macro_assets.definitions",
            "--select",
            "fred/GDP,fred/CPIAUCSL,fred/PAYEMS,fred/UNRATE",
            "--partition-range",
            "2015-01-01...2018-12-01",
        ],
        offline_shell,
        tmp_path,
    )
    assert materialize.returncode == 0, materialize.stderr[-3000:]
    assert "RUN_SUCCESS" in materialize.stderr

    read = run(
        [str(BIN / "macro-assets"), "read", "fred.GDP", "--as-of", "2018-06-01", "--start", "2015-01-01"],
        offline_shell,
        tmp_path,
    )
    assert read.returncode == 0, read.stderr
    frame = pd.read_csv(io.StringIO(read.stdout))
    assert frame.columns.tolist() == ["series_id", "obs_date", "value", "release_time", "release_basis"]
    assert dict(zip(frame["obs_date"], frame["value"])) == gdp_known_at("2018-06-01")

    revisions = run(
        [str(BIN / "macro-assets"), "read", "fred.GDP", "--revisions", "2018-01-01"], offline_shell, tmp_path
    )
    assert pd.read_csv(io.StringIO(revisions.stdout))["value"].tolist() == [19965.326, 19956.811, 19960.097, 20041.047]
    # Every read mode honours --as-of: the revisions known on 2018-06-01 are the first two estimates.
    known = run(
        [str(BIN / "macro-assets"), "read", "fred.GDP", "--revisions", "2018-01-01", "--as-of", "2018-06-01"],
        offline_shell,
        tmp_path,
    )
    assert pd.read_csv(io.StringIO(known.stdout))["value"].tolist() == [19965.326, 19956.811]
    first = run(
        [
            str(BIN / "macro-assets"),
            "read",
            "fred.GDP",
            "--first-release",
            "--as-of",
            "2018-05-01",
            "--start",
            "2018-01-01",
        ],
        offline_shell,
        tmp_path,
    )
    assert pd.read_csv(io.StringIO(first.stdout))["value"].tolist() == [19965.326]
    mid_quarter = run(
        [str(BIN / "macro-assets"), "read", "fred.GDP", "--revisions", "2018-02-15"], offline_shell, tmp_path
    )
    assert mid_quarter.returncode == 2 and "use --revisions 2018-01-01" in mid_quarter.stderr
    objects = list((Path(offline_shell["MACRO_ASSETS_HOME"]) / "objects" / "raw" / "fred").rglob("*.json"))
    assert len(objects) == 4  # GDP, CPIAUCSL, PAYEMS, UNRATE payloads archived verbatim

    stop = run([str(BIN / "macro-assets"), "stop"], offline_shell, tmp_path)
    assert stop.returncode == 0 and stop.stdout.strip().endswith("stopped")
    assert not (Path(offline_shell["MACRO_ASSETS_HOME"]) / "pgdata" / "postmaster.pid").exists()


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["read", "fred.GPD"], "unknown dataset 'fred.GPD'"),
        (["read", "fred.GDP", "--as-of", "someday"], "as_of: 'someday' is not a date"),
        (["read", "fred.GDP", "--start", "2019-01-01", "--end", "2018-01-01"], "start 2019-01-01 is after end"),
    ],
)
def test_read_errors_are_clear_and_exit_non_zero(offline_shell, tmp_path, arguments, message):
    result = run([str(BIN / "macro-assets"), *arguments], offline_shell, tmp_path)
    assert result.returncode == 2
    assert message in result.stderr and result.stdout == ""


def test_unknown_arguments_are_refused_except_by_dev(capsys):
    from macro_assets.cli.main import build_parser, main

    with pytest.raises(SystemExit) as refused:
        main(["read", "fred.GDP", "--bogus"])
    assert refused.value.code == 2 and "unrecognized arguments: --bogus" in capsys.readouterr().err
    args, extra = build_parser().parse_known_args(["dev", "-p", "3001", "-h", "0.0.0.0"])
    assert args.passes_extra_arguments and extra == ["-p", "3001", "-h", "0.0.0.0"]  # -h is dagster dev's host


def test_the_main_job_materializes_every_shape_tells_the_recorded_story_and_evaluates_every_check(
    offline_shell, tmp_path
):
    """README command 1 after the install: every asset over its recorded window, then every check once."""
    import psycopg2

    result = run([str(BIN / "macro-assets"), "materialize"], offline_shell, tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert sum(line.startswith("==> [") for line in lines) >= 4  # a line per run, as it starts
    assert "macro_assets — materialized in" in result.stdout

    storage = offline_shell["DAGSTER_PG_URL"].replace("postgresql+psycopg2://", "postgresql://", 1)
    with psycopg2.connect(storage) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT execution_status, count(*) FROM asset_check_executions GROUP BY 1")
        statuses = dict(cursor.fetchall())
    assert "PLANNED" not in statuses and statuses["SUCCEEDED"] > 100  # every planned check ended evaluated
    # The warnings the README expects, and no other failure: the Treasury curves' Good Fridays, and the COT reports
    # the federal shutdown held back past their capture.
    failed = {line.split("failed: ", 1)[1] for line in lines if line.strip().startswith("failed: ")}
    cot = {
        f"cftc_cot/{spec.code}:fresh_by_release_calendar (WARN)"
        for spec in load_catalog().datasets.values()
        if spec.source == "cftc_cot"
    }
    good_fridays = {f"us_treasury/{code}:no_missing_curves (WARN)" for code in ("par_nominal", "par_real")}
    assert failed == cot | good_fridays

    from macro_assets.warehouse import connect

    with connect() as warehouse:
        # The revision story of the recordings: IBC-Br revised by BCB's second capture, a corrected USD/BRL bar,
        # a re-published Treasury curve, and the five USD/COP bars the first capture lacked.
        ibc = warehouse.observations.vintages("bcb_sgs.24363")
        assert (ibc["release_basis"] == "observed").sum() >= 1
        assert len(warehouse.bars.vintages("yahoo.USDBRL_1d", "2018-08-23", "2018-08-23")) == 2
        republished = warehouse.curves.vintages("us_treasury.par_nominal", "2018-12-14", "2018-12-14")
        assert (republished["point"] == "10Y").sum() == 2 and (republished["point"] == "2Y").sum() == 1
        assert len(warehouse.bars.as_of("twelvedata.USDCOP_5min", start="2018-12-12", end="2018-12-12")) == 60
