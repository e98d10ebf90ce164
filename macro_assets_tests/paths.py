"""Where the tests find the repository's files and the shared reference material (tests import this, never
conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
RECORDINGS = REPO_ROOT / "macro_assets" / "recordings"
FIXTURES = REPO_ROOT / "macro_assets_tests" / "fixtures"
# The research material next to the repository (reference docs and the samples the fixtures were copied from);
# not every machine has it.
SHARED = REPO_ROOT.parent / "shared"
SHARED_SAMPLES = SHARED / "reference" / "samples"


def shared(*parts: str) -> Path:
    """A path under SHARED; skips the calling test when this machine does not have it."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is not on this machine (the shared reference material)")
    return path
