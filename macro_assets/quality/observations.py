"""Rules for observation datasets (series): duplicates, plausibility, calendar gaps, look-ahead, staleness."""

from __future__ import annotations

import datetime as dt

import polars as pl

from macro_assets.quality import CheckOutcome, CheckRule, Judged, sample

# A release may run late by this much before a date counts as missing or the series as stale.
STALENESS_GRACE = dt.timedelta(days=5)


def _dated(vintages: pl.DataFrame) -> pl.DataFrame:
    return vintages.with_columns(pl.col("obs_date").cast(pl.Date))


def latest_values(vintages: pl.DataFrame) -> pl.DataFrame:
    """The newest vintage of each date, withdrawn dates left out."""
    last = _dated(vintages).sort("obs_date", "release_time").group_by("obs_date", maintain_order=True).last()
    return last.filter(pl.col("value").is_not_null())


def released_expected_dates(judged: Judged) -> list[dt.date]:
    spec = judged.dataset
    return [
        d
        for d in spec.expected_dates(judged.start, judged.end)
        if spec.estimated_release(d) + STALENESS_GRACE <= judged.judged_at
    ]


def _duplicates(judged: Judged) -> CheckOutcome:
    vintages = _dated(judged.vintages)
    duplicated = vintages.filter(pl.struct("obs_date", "release_time").is_duplicated())
    return CheckOutcome(
        duplicated.is_empty(),
        {
            "duplicate_rows": duplicated.height,
            "sample_dates": sample(duplicated["obs_date"].unique(maintain_order=True)),
        },
    )


def _plausible(judged: Judged) -> CheckOutcome:
    low, high = judged.dataset.plausible_range
    vintages = _dated(judged.vintages).filter(pl.col("value").is_not_null())
    bad = vintages.filter(~pl.col("value").is_finite() | ~pl.col("value").is_between(low, high))
    return CheckOutcome(
        bad.is_empty(),
        {
            "plausible_range": f"[{low}, {high}]",
            "out_of_range": bad.height,
            "sample": [f"{d}={v}" for d, v in bad.select("obs_date", "value").head(5).iter_rows()],
        },
    )


def _gaps(judged: Judged) -> CheckOutcome:
    present = set(latest_values(judged.vintages)["obs_date"].to_list())
    expected = released_expected_dates(judged)
    missing = [d for d in expected if d not in present]
    return CheckOutcome(
        not missing,
        {
            "calendar": judged.dataset.calendar or judged.dataset.frequency,
            "expected_dates": len(expected),
            "missing_dates": len(missing),
            "sample_missing": sample(missing),
        },
    )


def _look_ahead(judged: Judged) -> CheckOutcome:
    spec = judged.dataset
    vintages = _dated(judged.vintages)
    earliest = {d: spec.earliest_possible_release(d) for d in vintages["obs_date"].unique().to_list()}
    early = (
        vintages.filter(
            pl.col("release_time") < pl.col("obs_date").replace_strict(earliest, return_dtype=pl.Datetime("us", "UTC"))
        )
        if earliest
        else vintages
    )
    return CheckOutcome(early.is_empty(), {"early_vintages": early.height, "sample_dates": sample(early["obs_date"])})


def _staleness(judged: Judged) -> CheckOutcome:
    spec = judged.dataset
    expected = released_expected_dates(judged)
    latest = latest_values(judged.vintages)
    newest = latest["obs_date"].max() if latest.height else None
    due = expected[-1] if expected else None
    stale = due is not None and (newest is None or newest < due)
    following = spec.next_period(newest) if newest else None
    return CheckOutcome(
        not stale,
        {
            "latest_observation": newest.isoformat() if newest else "none",
            "latest_due_by_fetch": due.isoformat() if due else "none in window",
            "next_expected_release": spec.estimated_release(following).isoformat() if following else "unknown",
            "judged_at": judged.judged_at.isoformat(),
        },
    )


RULES = (
    CheckRule("no_duplicate_vintages", "No two vintages share (series, date, release time).", "ERROR", _duplicates),
    CheckRule(
        "values_in_plausible_range",
        "Every stored value is finite and inside the catalog's plausible range.",
        "ERROR",
        _plausible,
    ),
    CheckRule(
        "no_calendar_gaps", "Every date of the series' calendar released by the fetch has a value.", "WARN", _gaps
    ),
    CheckRule(
        "no_look_ahead",
        "No vintage is released before its observation period ends (its last day begins).",
        "ERROR",
        _look_ahead,
    ),
    CheckRule(
        "not_stale",
        "The latest observation is as recent as the release schedule says it should be.",
        "WARN",
        _staleness,
    ),
)
