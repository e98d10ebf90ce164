"""Where things live, read from the environment when asked (never at import time)."""

from __future__ import annotations

import os
from pathlib import Path

MODES = ("offline", "live")


def home() -> Path:
    """Local state: the embedded warehouse, the local object store and the Dagster instance."""
    return Path(os.environ.get("MACRO_ASSETS_HOME") or Path.cwd() / ".macro_assets").resolve()


def warehouse_url() -> str | None:
    """The warehouse's SQLAlchemy URL; None selects the embedded PostgreSQL server."""
    return os.environ.get("MACRO_ASSETS_WAREHOUSE_URL") or None


def object_store_url() -> str:
    return os.environ.get("MACRO_ASSETS_OBJECT_STORE_URL") or str(home() / "objects")


def s3_endpoint_url() -> str | None:
    return os.environ.get("MACRO_ASSETS_S3_ENDPOINT_URL") or None


def mode() -> str:
    value = os.environ.get("MACRO_ASSETS_MODE", "offline").strip().lower() or "offline"
    if value not in MODES:
        raise ValueError(f"MACRO_ASSETS_MODE is {value!r}; expected one of {MODES}")
    return value


def extra_recordings() -> list[str]:
    """Directories of recordings in the project's manifest format (MACRO_ASSETS_RECORDINGS, separated like
    PATH) replayed offline beside the packaged ones: a user's own captures go through the real path."""
    value = os.environ.get("MACRO_ASSETS_RECORDINGS", "")
    return [part for part in value.split(os.pathsep) if part.strip()]
