"""The API on a read-only replica (MACRO_ASSETS_API_WAREHOUSE_URL): it opens the warehouse without migrating and
serves every read as a role that may only SELECT, as a hot standby allows nothing else."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pandas as pd
import psycopg2
import pytest
from psycopg2 import sql
from sqlalchemy.engine import make_url

from macro_assets.api.config import ApiSettings

from .conftest import case_of, serving

RELEASED = pd.Timestamp("2024-01-02 21:00", tz="UTC")


@pytest.fixture(scope="module")
def select_only_url(warehouse_url) -> Iterator[str]:
    """The migrated warehouse as a new role granted SELECT on its tables and nothing more."""
    owner = make_url(warehouse_url)
    role, password = f"api_reader_{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    admin = psycopg2.connect(owner.set(drivername="postgresql").render_as_string(hide_password=False))
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD %s").format(sql.Identifier(role)), (password,))
        cursor.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(sql.Identifier(role)))
        cursor.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA public TO {}").format(sql.Identifier(role)))
    try:
        yield owner.set(username=role, password=password).render_as_string(hide_password=False)
    finally:
        with admin.cursor() as cursor:
            cursor.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
            cursor.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))
        admin.close()


def test_the_replica_url_is_opened_without_migrations(monkeypatch):
    monkeypatch.setenv("MACRO_ASSETS_WAREHOUSE_URL", "postgresql+psycopg2://primary/macro")
    assert ApiSettings.from_environment().migrate
    monkeypatch.setenv("MACRO_ASSETS_API_WAREHOUSE_URL", "postgresql+psycopg2://replica/macro")
    settings = ApiSettings.from_environment()
    assert (settings.warehouse_url, settings.migrate) == ("postgresql+psycopg2://replica/macro", False)


def test_the_api_serves_from_a_role_that_may_only_select(monkeypatch, warehouse, keys, select_only_url):
    case = case_of("observations")
    warehouse.pipeline.append("observations", case.frame([(0, RELEASED, 1.5)]))
    monkeypatch.setenv("MACRO_ASSETS_API_WAREHOUSE_URL", select_only_url)
    with psycopg2.connect(make_url(select_only_url).set(drivername="postgresql").render_as_string(False)) as probe:
        with probe.cursor() as cursor, pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cursor.execute("CREATE TABLE api_reader_probe (x int)")

    with serving(ApiSettings.from_environment()) as base:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {keys['read:all']}"}) as http:
            ready = http.get("/v1/ready")
            latest = http.get(f"/v1/datasets/{case.dataset}/latest")
            refused = http.get(f"/v1/datasets/{case.dataset}/latest", headers={"Authorization": "Bearer nope"})
    assert ready.status_code == 200
    assert latest.status_code == 200, latest.text
    assert [row["value"] for row in latest.json()["rows"]] == [1.5]
    assert refused.status_code == 401
