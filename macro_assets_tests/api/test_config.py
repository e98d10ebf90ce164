"""The API's settings from the environment."""

from __future__ import annotations

import pytest

from macro_assets.api.config import ApiSettings
from macro_assets.errors import MissingCredentials


def test_settings_come_from_the_environment_and_empty_means_unset(monkeypatch):
    monkeypatch.setenv("MACRO_ASSETS_REDIS_URL", "redis://cache:6379/0")
    monkeypatch.setenv("MACRO_ASSETS_API_JWT_SECRET", "")
    settings = ApiSettings.from_environment()
    assert (settings.warehouse_url, settings.redis_url, settings.jwt_secret) == (None, "redis://cache:6379/0", None)


def test_a_short_jwt_secret_is_refused_without_being_shown(monkeypatch):
    monkeypatch.setenv("MACRO_ASSETS_API_JWT_SECRET", "hunter2")
    with pytest.raises(MissingCredentials, match="MACRO_ASSETS_API_JWT_SECRET is shorter than 32") as refused:
        ApiSettings.from_environment()
    assert "hunter2" not in str(refused.value)
