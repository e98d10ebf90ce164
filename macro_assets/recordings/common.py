"""What every recording generator shares: the manifest's bytes, writing the generated files, the command line.

Each source's `generate.py` builds its bodies and manifest deterministically (`build() -> {name: bytes}`);
`python -m macro_assets.recordings.<source>.generate [DIR]` rewrites them byte for byte.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path


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
