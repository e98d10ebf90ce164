"""Checks every analytics function makes of the frames it is given."""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from macro_assets.errors import InvalidInput


def require_columns(frame: pl.DataFrame, columns: Iterable[str], what: str) -> None:
    """Refuses a frame lacking any of `columns`, naming them and what the frame was meant to be."""
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise InvalidInput(f"{what}: missing column(s) {', '.join(missing)} (has {', '.join(frame.columns)})")


def require_positive(value: float, field: str) -> None:
    if not value > 0:
        raise InvalidInput(f"{field}: must be positive, got {value!r}")
