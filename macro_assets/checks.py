"""Data-quality rules of a series over a materialized window: pure functions of the stored vintages."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import pandas as pd

from macro_assets.catalog import SeriesSpec

# A release may run late by this much before the series counts as stale.
STALENESS_GRACE = dt.timedelta(days=5)
SAMPLE = 5


@dataclass(frozen=True)
class CheckRule:
    name: str
    description: str
    severity: str  # "ERROR" for rules whose failure makes the data wrong, "WARN" for ones that make it incomplete


RULES = (
    CheckRule("no_duplicate_vintages", "No two vintages share (series, date, release time).", "ERROR"),
    CheckRule("values_in_plausible_range", "Every stored value is finite and inside the catalog's plausible range.",
              "ERROR"),
    CheckRule("no_calendar_gaps", "Every date of the series' calendar released by the fetch has a value.", "WARN"),
    CheckRule("no_look_ahead", "No vintage is released before its observation period ends (its last day begins).",
              "ERROR"),
    CheckRule("not_stale", "The latest observation is as recent as the release schedule says it should be.", "WARN"),
)


@dataclass(frozen=True)
class CheckOutcome:
    rule: CheckRule
    passed: bool
    metadata: dict = field(default_factory=dict)


def evaluate(spec: SeriesSpec, vintages: pd.DataFrame, start: dt.date, end: dt.date,
             evaluated_at: dt.datetime) -> list[CheckOutcome]:
    """All rules over the vintages of [start, end] (as `Warehouse.vintages` returns them), judged at the instant
    the data was fetched, so a replay of old payloads is judged as it would have been then."""
    latest = _latest_values(vintages)
    return [
        _duplicates(vintages),
        _plausible(spec, vintages),
        _gaps(spec, latest, start, end, evaluated_at),
        _look_ahead(spec, vintages),
        _staleness(spec, latest, start, end, evaluated_at),
    ]


def _rule(name: str) -> CheckRule:
    return next(r for r in RULES if r.name == name)


def _latest_values(vintages: pd.DataFrame) -> pd.DataFrame:
    last = vintages.sort_values(["obs_date", "release_time"]).groupby("obs_date", as_index=False).tail(1)
    return last[last["value"].notna()]


def _dates(values) -> list[str]:
    return [pd.Timestamp(v).date().isoformat() for v in list(values)[:SAMPLE]]


def _duplicates(vintages: pd.DataFrame) -> CheckOutcome:
    duplicated = vintages[vintages.duplicated(["obs_date", "release_time"], keep=False)]
    return CheckOutcome(_rule("no_duplicate_vintages"), duplicated.empty,
                        {"duplicate_rows": len(duplicated), "sample_dates": _dates(duplicated["obs_date"].drop_duplicates())})


def _plausible(spec: SeriesSpec, vintages: pd.DataFrame) -> CheckOutcome:
    low, high = spec.plausible_range
    values = vintages["value"].dropna()
    bad = vintages.loc[values.index[~values.map(lambda v: math.isfinite(v) and low <= v <= high)]]
    return CheckOutcome(_rule("values_in_plausible_range"), bad.empty, {
        "plausible_range": f"[{low}, {high}]", "out_of_range": len(bad),
        "sample": [f"{pd.Timestamp(d).date()}={v}" for d, v in zip(bad["obs_date"][:SAMPLE], bad["value"][:SAMPLE])],
    })


def _released_expected_dates(spec: SeriesSpec, start: dt.date, end: dt.date,
                             evaluated_at: dt.datetime) -> list[dt.date]:
    return [d for d in spec.expected_dates(start, end) if spec.estimated_release(d) + STALENESS_GRACE <= evaluated_at]


def _gaps(spec: SeriesSpec, latest: pd.DataFrame, start: dt.date, end: dt.date,
          evaluated_at: dt.datetime) -> CheckOutcome:
    present = {pd.Timestamp(d).date() for d in latest["obs_date"]}
    expected = _released_expected_dates(spec, start, end, evaluated_at)
    missing = [d for d in expected if d not in present]
    return CheckOutcome(_rule("no_calendar_gaps"), not missing, {
        "calendar": spec.calendar or spec.frequency, "expected_dates": len(expected), "missing_dates": len(missing),
        "sample_missing": [d.isoformat() for d in missing[:SAMPLE]],
    })


def _look_ahead(spec: SeriesSpec, vintages: pd.DataFrame) -> CheckOutcome:
    earliest = vintages["obs_date"].map(lambda d: spec.earliest_possible_release(pd.Timestamp(d).date()))
    early = vintages[vintages["release_time"] < pd.to_datetime(earliest, utc=True)]
    return CheckOutcome(_rule("no_look_ahead"), early.empty,
                        {"early_vintages": len(early), "sample_dates": _dates(early["obs_date"])})


def _staleness(spec: SeriesSpec, latest: pd.DataFrame, start: dt.date, end: dt.date,
               evaluated_at: dt.datetime) -> CheckOutcome:
    expected = _released_expected_dates(spec, start, end, evaluated_at)
    newest = pd.Timestamp(latest["obs_date"].max()).date() if not latest.empty else None
    due = expected[-1] if expected else None
    stale = due is not None and (newest is None or newest < due)
    following = spec.next_period(newest) if newest else None
    return CheckOutcome(_rule("not_stale"), not stale, {
        "latest_observation": newest.isoformat() if newest else "none",
        "latest_due_by_fetch": due.isoformat() if due else "none in window",
        "next_expected_release": spec.estimated_release(following).isoformat() if following else "unknown",
        "evaluated_at": evaluated_at.isoformat(),
    })
