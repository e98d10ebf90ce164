"""Replay manifests written by a test: recorded exchanges in the format of macro_assets/recordings/README.md."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from macro_assets.http.replay import ReplayTransport


@dataclass(frozen=True)
class Exchange:
    url: str
    params: dict[str, str]
    body: Path
    status: int = 200
    content_type: str = "application/json"
    captured_at: str = "2019-01-07T12:00:00Z"
    note: str = field(default="written by a test")


def write_manifest(root: Path, source: str, exchanges: list[Exchange]) -> Path:
    """`root/<source>/manifest.json` plus a copy of every body next to it; returns `root` for ReplayTransport."""
    directory = root / source
    directory.mkdir(parents=True, exist_ok=True)
    entries = []
    for index, exchange in enumerate(exchanges):
        body_file = f"{index:02d}_{exchange.body.name}"
        shutil.copyfile(exchange.body, directory / body_file)
        entries.append(
            {
                "request": {"method": "GET", "url": exchange.url, "params": exchange.params},
                "response": {
                    "status": exchange.status,
                    "headers": {"Content-Type": exchange.content_type},
                    "body_file": body_file,
                },
                "captured_at": exchange.captured_at,
                "provenance": "test",
                "note": exchange.note,
            }
        )
    (directory / "manifest.json").write_text(json.dumps({"source": source, "exchanges": entries}, indent=1))
    return root


class CountingReplay(ReplayTransport):
    """The replay transport over one or more roots, remembering the query parameters of every request it served."""

    def __init__(self, *roots: Path):
        super().__init__(*roots)
        self.queries: list[dict[str, str]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.queries.append(dict(request.url.params.multi_items()))
        return super().handle_request(request)
