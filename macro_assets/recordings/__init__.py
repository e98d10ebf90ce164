"""Recorded API payloads replayed by the offline default; see README.md.

Each source's recordings cover the project's recorded window unless its manifest declares a narrower
`recorded_window` (intraday bars are recorded for a few weeks only)."""

from __future__ import annotations

import datetime as dt
import json
from functools import cache
from importlib import resources
from pathlib import Path

RECORDED_WINDOW = (dt.date(2015, 1, 1), dt.date(2018, 12, 31))


def packaged_recordings() -> Path:
    return Path(str(resources.files("macro_assets.recordings")))


@cache
def recorded_window(source: str) -> tuple[dt.date, dt.date]:
    manifest = packaged_recordings() / source / "manifest.json"
    window = json.loads(manifest.read_text()).get("recorded_window") if manifest.exists() else None
    if not window:
        return RECORDED_WINDOW
    return dt.date.fromisoformat(window["start"]), dt.date.fromisoformat(window["end"])
