"""Data-quality rules per shape: pure functions of the stored vintages of a dataset over a materialized window.

Each shape's module (observations, curves, bars) exports RULES; a rule carries its own function. Rules judge at
the instant the data was fetched, so a replay of old payloads is judged as it would have been then.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import polars as pl

from macro_assets.catalog import DatasetSpec

SAMPLE = 5  # offending keys listed in a failed rule's metadata


@dataclass(frozen=True)
class Judged:
    """What a rule looks at: every stored vintage of the dataset's rows in [start, end] (withdrawals as nulls,
    as the warehouse's `vintages` read returns them, in polars), judged at `judged_at`."""

    dataset: DatasetSpec
    vintages: pl.DataFrame
    start: dt.date
    end: dt.date
    judged_at: dt.datetime
    companions: dict[str, pl.DataFrame] = field(default_factory=dict)  # other datasets' vintages, by id


@dataclass(frozen=True)
class CheckOutcome:
    passed: bool
    metadata: dict = field(default_factory=dict)


@dataclass(frozen=True)
class CheckRule:
    name: str
    description: str
    severity: str  # "ERROR" when a failure makes the data wrong, "WARN" when it makes it incomplete
    judge: Callable[[Judged], CheckOutcome]
    # The other datasets (ids) the rule compares this one with, read over the same window: none by default.
    companions: Callable[[DatasetSpec], list[str]] = lambda dataset: []


def sample(values) -> list[str]:
    return [str(v) for v in list(values)[:SAMPLE]]
