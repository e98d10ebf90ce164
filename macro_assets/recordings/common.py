"""What every recording generator shares: the manifest's bytes, writing the generated files, the command line,
and the small pieces several generators draw their synthetic series with (date ranges, the anchored random walk,
one manifest exchange).

Each source's `generate.py` builds its bodies and manifest deterministically (`build() -> {name: bytes}`);
`python -m macro_assets.recordings.<source>.generate [DIR]` rewrites them byte for byte.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
from collections.abc import Callable, Iterator
from pathlib import Path

from macro_assets.catalog.calendars import add_months

ONE_DAY = dt.timedelta(days=1)


def manifest_bytes(manifest: dict) -> bytes:
    return (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def write_files(files: dict[str, bytes], out_dir: Path | str) -> list[str]:
    """Write every generated file under out_dir; the names written, sorted."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, body in files.items():
        (out / name).write_bytes(body)
    return sorted(files)


def generator_main(
    generate: Callable[[Path | str], list[str]], default_dir: Path, description: str, argv: list[str] | None = None
) -> int:
    parser = argparse.ArgumentParser(description=description.splitlines()[0])
    parser.add_argument("out_dir", nargs="?", default=str(default_dir), help="output directory (default: this one)")
    for name in generate(parser.parse_args(argv).out_dir):
        print(name)
    return 0


def exchange(
    url: str, params: dict, headers: dict, body_file: str, captured_at: str, provenance: str, note: str
) -> dict:
    """One manifest exchange: a GET answered 200 with the body in body_file (relative to the manifest)."""
    return {
        "request": {"method": "GET", "url": url, "params": dict(params)},
        "response": {"status": 200, "headers": dict(headers), "body_file": body_file},
        "captured_at": captured_at,
        "provenance": provenance,
        "note": note,
    }


def days(start: dt.date, end: dt.date) -> Iterator[dt.date]:
    """Every calendar day in [start, end]."""
    day = start
    while day <= end:
        yield day
        day += ONE_DAY


def month_starts(start: dt.date, end: dt.date) -> list[dt.date]:
    """The first day of every month from start's month while <= end."""
    out, day = [], start.replace(day=1)
    while day <= end:
        out.append(day)
        day = add_months(day, 1)
    return out


def nearest_index(seq: list[dt.date], target: dt.date) -> int:
    """Index of the last element <= target."""
    return [i for i, day in enumerate(seq) if day <= target][-1]


def bridge(rng: random.Random, anchors: list[tuple[int, float]], sigma: float) -> list[float]:
    """Gaussian random walk pinned to (index, level) anchors (Brownian bridge per segment)."""
    anchors = sorted(anchors)
    out = [anchors[0][1]]
    for (i0, a), (i1, b) in zip(anchors, anchors[1:]):
        n = i1 - i0
        walk, s = [], 0.0
        for _ in range(n):
            s += rng.gauss(0.0, sigma)
            walk.append(s)
        drift = (b - a) - walk[-1]
        out.extend(a + w + drift * (k + 1) / n for k, w in enumerate(walk))
    return out
