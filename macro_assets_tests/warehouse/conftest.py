"""Fixtures of the warehouse tests: a case per shape (see cases.py) with ids of its own test, one shared database
per server and module, and helpers that look at the tables directly."""

from __future__ import annotations

import dataclasses
import itertools
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg2
import pytest

from macro_assets.warehouse import Warehouse, connect
from macro_assets.warehouse.engine import VintageEngine

from .cases import CASES, Case

_test_number = itertools.count()


@pytest.fixture(params=list(CASES))
def case(request) -> Case:
    """A shape's case with ids of this test alone, so tests can share one database (see `shared_url`)."""
    # A fixed-width suffix no random id shares: no test's id contains another's, so a search finds only its own.
    suffix = f"_t{next(_test_number):05d}"
    base = CASES[request.param]
    return dataclasses.replace(base, dataset=base.dataset + suffix, other=base.other + suffix)


@pytest.fixture(scope="module", params=["system", "embedded"])
def shared_url(request) -> Iterator[str]:
    """One migrated database per server and test module: a fresh database per test (the root `warehouse_url`)
    costs more than most of these tests, which keep apart by their own dataset ids instead."""
    admin = (
        os.environ.get("MACRO_ASSETS_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
        if request.param == "system"
        else request.getfixturevalue("embedded_admin_dsn")
    )
    name = f"macro_test_{uuid.uuid4().hex[:12]}"
    with _admin_cursor(admin) as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    base, _, query = admin.rpartition("/postgres")
    url = f"{base}/{name}{query}".replace("postgresql://", "postgresql+psycopg2://", 1)
    connect(url).close()
    yield url
    with _admin_cursor(admin) as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def _admin_cursor(dsn: str) -> Iterator:
    connection = psycopg2.connect(dsn)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            yield cursor
    finally:
        connection.close()


@pytest.fixture
def warehouse(shared_url, case) -> Iterator[Warehouse]:
    """The shared database, knowing this test's ids the way production knows the catalog's: they read empty
    before anything is stored, and any other id is unknown."""
    with connect(shared_url, migrate=False, known_ids=lambda: [case.dataset, case.other]) as wh:
        yield wh


def dsn(url: str) -> str:
    return url.replace("postgresql+psycopg2://", "postgresql://", 1)


@contextmanager
def cursor_on(url: str) -> Iterator:
    """A plain psycopg2 cursor on the test database, rolled back at the end."""
    connection = psycopg2.connect(dsn(url))
    try:
        with connection.cursor() as cursor:
            yield cursor
        connection.rollback()
    finally:
        connection.close()


def table_rows(url: str, table: str) -> list[tuple]:
    with cursor_on(url) as cursor:
        cursor.execute(f"SELECT * FROM {table} AS row ORDER BY row")
        return cursor.fetchall()


@pytest.fixture
def write_paths(monkeypatch) -> list[str]:
    """The write path each append took, in order: proves a test exercises the path it claims to."""
    taken: list[str] = []
    for name in ("_copy_new", "_merge_through_staging"):
        original = getattr(VintageEngine, name)

        def spy(self, *args, _original=original, _name=name):
            taken.append(_name)
            return _original(self, *args)

        monkeypatch.setattr(VintageEngine, name, spy)
    return taken
