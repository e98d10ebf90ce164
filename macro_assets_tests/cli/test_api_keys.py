"""`macro-assets api-key create|list|revoke` on a real warehouse, and `macro-assets api` serving from the shell."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from macro_assets.api.app import open_database
from macro_assets.api.auth import ApiKeys, Unauthorized
from macro_assets.cli.main import main
from macro_assets_tests.api.conftest import free_port

BIN = Path(sys.executable).parent


def test_a_key_is_printed_once_listed_without_its_secret_and_revoked(system_warehouse_url, monkeypatch, capsys):
    monkeypatch.setenv("MACRO_ASSETS_WAREHOUSE_URL", system_warehouse_url)
    assert main(["api-key", "create", "--name", "notebooks", "--scope", "read:series", "--scope", "read:all"]) == 0
    created = capsys.readouterr()
    key = created.out.strip()
    key_id = key.split("_")[1]
    assert created.err.startswith(f"created API key {key_id} (notebooks) with scopes read:all, read:series")
    store = ApiKeys(open_database(system_warehouse_url))
    assert store.verify(key).scopes == {"read:series", "read:all"}

    assert main(["api-key", "list"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert listed[1].startswith(f"{key_id}\tnotebooks\tread:all,read:series\t") and listed[1].endswith("\t")
    assert key.split("_", 2)[2] not in "\n".join(listed)

    assert main(["api-key", "revoke", key_id]) == 0
    assert main(["api-key", "revoke", key_id]) == 1
    assert f"no active key '{key_id}'" in capsys.readouterr().err
    with pytest.raises(Unauthorized):
        store.verify(key)


def test_api_serves_what_the_compose_entry_serves(system_warehouse_url, tmp_path):
    port = free_port()
    environment = {**os.environ, "MACRO_ASSETS_WAREHOUSE_URL": system_warehouse_url}
    log = tmp_path / "api.log"
    server = subprocess.Popen(
        [str(BIN / "macro-assets"), "api", "--port", str(port)],
        env=environment,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health")
                break
            except httpx.ConnectError:
                assert server.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        assert health.json() == {"status": "ok"}
        assert httpx.get(f"http://127.0.0.1:{port}/v1/datasets").status_code == 401
    finally:
        server.terminate()
        server.wait(10)
