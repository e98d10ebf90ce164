"""Every source's recordings are generated reproducibly: its generator rewrites each committed file byte for
byte, in process and as `python -m macro_assets.recordings.<source>.generate DIR`."""

import importlib
import subprocess
import sys

import pytest

from macro_assets_tests.paths import RECORDINGS, REPO_ROOT

GENERATED = sorted(p.parent.name for p in RECORDINGS.glob("*/generate.py"))
HAND_WRITTEN = {"README.md", "generate.py", "__init__.py"}


def committed(source: str) -> dict[str, bytes]:
    """The generated files of a source: every file directly in its folder but the hand-written ones (folders, such
    as fred/verbatim/ with its hand-copied real responses, are not generated)."""
    return {
        p.name: p.read_bytes() for p in (RECORDINGS / source).iterdir() if p.is_file() and p.name not in HAND_WRITTEN
    }


@pytest.mark.parametrize("source", GENERATED)
def test_the_generator_rewrites_every_recorded_file_byte_for_byte(source, tmp_path):
    generate = importlib.import_module(f"macro_assets.recordings.{source}.generate")
    files = committed(source)
    assert set(generate.generate(tmp_path)) == set(files)
    for name, data in files.items():
        assert (tmp_path / name).read_bytes() == data, name


@pytest.mark.parametrize("source", GENERATED)
def test_the_generator_runs_as_a_module(source, tmp_path):
    subprocess.run(
        [sys.executable, "-m", f"macro_assets.recordings.{source}.generate", str(tmp_path)],
        check=True,
        capture_output=True,
        cwd=REPO_ROOT,
    )
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == committed(source)
