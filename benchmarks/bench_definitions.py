"""How the size of the catalog weighs on loading the definitions: the import of macro_assets.definitions (which
builds every asset, check and job) and `dagster definitions validate`, with today's full catalog against the
foundation's 10-series catalog (the first five SGS and the first five FRED series), measured side by side in one
run.

Both catalogs run from copies of this checkout's package (the baseline's with only those ten datasets in its
catalog), each command a fresh process, the two catalogs alternating round by round so the machine's noise falls
on both. It is a script, not a test:

    .venv/bin/python benchmarks/bench_definitions.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
BASELINE = {"bcb_sgs.yaml": 5, "fred.yaml": 5}  # the foundation's catalog: datasets kept per source file


# The statement of defs/__init__.py that lists the graph's parts; the baseline keeps the dataset assets only.
ASSET_PARTS_LINE = re.compile(r"^ASSET_PARTS = \(.*?\)$", re.MULTILINE | re.DOTALL)
DATASETS_ONLY = "ASSET_PARTS = (dataset_definitions,)"


def package_copy(root: Path, keep: dict[str, int] | None) -> Path:
    """A copy of the package under root; with `keep`, its catalog holds only the first datasets of those files and
    its graph only their assets (the foundation had no derived assets, and today's read series the ten lack)."""
    shutil.copytree(REPO / "macro_assets", root / "macro_assets", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "sql", root / "sql")
    if keep is not None:
        for path in (root / "macro_assets" / "catalog" / "datasets").glob("*.yaml"):
            if path.name not in keep:
                path.unlink()
                continue
            document = yaml.safe_load(path.read_text(encoding="utf-8"))
            document["datasets"] = document["datasets"][: keep[path.name]]
            path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
        parts = root / "macro_assets" / "defs" / "__init__.py"
        source = parts.read_text(encoding="utf-8")
        baseline, found = ASSET_PARTS_LINE.subn(DATASETS_ONLY, source)
        if found != 1:
            raise SystemExit(f"bench_definitions: {parts.relative_to(root)} has no `ASSET_PARTS = (...)`")
        parts.write_text(baseline, encoding="utf-8")
    return root


COMMANDS = {
    "import definitions": [
        sys.executable,
        "-c",
        "import macro_assets.definitions as d; print(len(d.defs.resolve_asset_graph().get_all_asset_keys()))",
    ],
    "definitions validate": [
        str(Path(sys.executable).with_name("dagster")),
        "definitions",
        "validate",
        "-m",
        "macro_assets.definitions",
    ],
}


def timed(command: list[str], root: Path, home: Path) -> tuple[float, str]:
    environment = {**os.environ, "PYTHONPATH": str(root), "DAGSTER_HOME": str(home), "MACRO_ASSETS_HOME": str(home)}
    started = time.perf_counter()
    done = subprocess.run(command, cwd=root, env=environment, capture_output=True, text=True, check=True)
    return time.perf_counter() - started, done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args().rounds
    with tempfile.TemporaryDirectory(prefix="bench_definitions_") as scratch:
        scratch = Path(scratch)
        home = scratch / "home"
        home.mkdir()
        trees = {
            "10-series catalog": package_copy(scratch / "baseline", BASELINE),
            "full catalog": package_copy(scratch / "full", None),
        }
        assets = {name: timed(COMMANDS["import definitions"], root, home)[1] for name, root in trees.items()}
        figures = {(c, t): [] for c in COMMANDS for t in trees}
        for _ in range(rounds):
            for command, argv in COMMANDS.items():
                for tree, root in trees.items():
                    figures[command, tree].append(timed(argv, root, home)[0])
    print(f"assets: {', '.join(f'{tree} {count}' for tree, count in assets.items())}; {rounds} rounds, median")
    for command in COMMANDS:
        base, full = (statistics.median(figures[command, tree]) for tree in trees)
        print(f"{command:22} 10-series {base:6.2f} s   full {full:6.2f} s   ratio {full / base:5.2f}")


if __name__ == "__main__":
    main()
