"""The API served by uvicorn on a free loopback port, over one fresh warehouse database per module (the machine's
PostgreSQL) and the machine's Redis under a key prefix of its own; one catalog dataset per shape."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import uuid
from collections.abc import Iterator

import httpx
import polars as pl
import pytest
import redis
import uvicorn

from macro_assets.api.app import create_app, open_database
from macro_assets.api.auth import ApiKeys
from macro_assets.api.config import ApiSettings
from macro_assets.shapes import SHAPES
from macro_assets.warehouse import Warehouse, connect
from macro_assets_tests.conftest import SYSTEM_PG, _create_database
from macro_assets_tests.warehouse.cases import Case

REDIS_URL = "redis://127.0.0.1:6379/0"
JWT_SECRET = "test-secret-" + "x" * 32
# A catalog dataset of each shape (the API reads catalog ids), with the warehouse attribute that reads it.
DATASETS = {
    "observations": ("observations", "fred.GDP"),
    "curve_points": ("curves", "us_treasury.par_nominal"),
    "bars": ("bars", "yahoo.USDBRL_1d"),
    "expectations": ("expectations", "bcb_focus.IPCA_annual"),
    "index_components": ("index_components", "ibge_sidra.ipca_components"),
    "positions": ("positions", "cftc_cot.BRL_legacy"),
    "trades": ("trades", "databento.ESH1_trades"),
    "tbbo": ("tbbo", "databento.ESH1_tbbo"),
    "instrument_statistics": ("instrument_statistics", "databento.ESH1_statistics"),
    "instrument_definitions": ("instrument_definitions", "databento.ESH1_definition"),
}


def case_of(shape_name: str, dataset: str | None = None) -> Case:
    """The warehouse tests' row builder for a catalog dataset; the level is the first float value column (an
    integer one where the shape has none)."""
    shape = SHAPES[shape_name]
    reader, catalog_id = DATASETS[shape_name]
    numeric = [c for c, t in shape.value_schema.items() if t == pl.Float64 and c != "tenor_years"]
    level = (numeric or [c for c, t in shape.value_schema.items() if t == pl.Int64])[0]
    return Case(shape, reader, dataset or catalog_id, catalog_id, level)


@pytest.fixture(scope="module")
def warehouse_url(request) -> str:
    url, drop = _create_database(SYSTEM_PG)
    request.addfinalizer(drop)
    connect(url).close()
    return url


@pytest.fixture(scope="module")
def warehouse(warehouse_url) -> Iterator[Warehouse]:
    with connect(warehouse_url, migrate=False) as wh:
        yield wh


@pytest.fixture(scope="module")
def keys(warehouse_url) -> dict[str, str]:
    """A key per scope, and a revoked one."""
    store = ApiKeys(open_database(warehouse_url))
    made = {scope: store.create(f"test {scope}", [scope])[0] for scope in ("read:series", "read:all", "admin")}
    revoked, record = store.create("test revoked", ["read:all"])
    store.revoke(record.key_id)
    return {**made, "revoked": revoked}


def free_port() -> int:
    """A loopback port nothing listens on (now)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def serving(settings: ApiSettings) -> Iterator[str]:
    """uvicorn in a thread on a free loopback port; yields the base URL."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(settings), log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        listener.close()


def flush_prefix(prefix: str) -> None:
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(match=prefix + "*", count=1000):
        client.delete(key)
    client.close()


@pytest.fixture(scope="module")
def cache_prefix() -> Iterator[str]:
    prefix = f"macro_assets_test:{uuid.uuid4().hex[:12]}:"
    yield prefix
    flush_prefix(prefix)


@pytest.fixture(scope="module")
def base_url(warehouse_url, cache_prefix) -> Iterator[str]:
    settings = ApiSettings(
        warehouse_url=warehouse_url, redis_url=REDIS_URL, jwt_secret=JWT_SECRET, cache_prefix=cache_prefix
    )
    with serving(settings) as url:
        yield url


@pytest.fixture(scope="module")
def client(base_url, keys) -> Iterator[httpx.Client]:
    """A client with the read:all key."""
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {keys['read:all']}"}) as http:
        yield http
