"""Fixtures of the HTTP tests (the classes behind them are in support.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from macro_assets_tests.http.support import RecordingSleep, ScriptedServer


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with ScriptedServer() as running:
        yield running


@pytest.fixture
def sleep() -> RecordingSleep:
    return RecordingSleep()
