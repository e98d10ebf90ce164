"""Rules for bar datasets (OHLCV of an instrument at an interval): price consistency, volume, duplicates, session
coverage (every expected bar there, none outside the session) and plausible prices.

A bar's session date is its bar_time in the instrument's time zone. Intraday datasets expect every bar of
`Instrument.bar_times` on each business day, due once the bar has closed (start + interval); daily datasets expect
a bar on every business day of their calendar, due at its estimated release. A bar is present when its latest
vintage has prices (a withdrawal is not a bar).
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from macro_assets.catalog import DatasetSpec
from macro_assets.catalog.calendars import is_business_day
from macro_assets.catalog.model import INTERVALS
from macro_assets.quality import CheckOutcome, CheckRule, Judged, sample

PRICES = ("open", "high", "low", "close")


def _dated(dataset: DatasetSpec, vintages: pl.DataFrame) -> pl.DataFrame:
    return vintages.with_columns(
        session_date=pl.col("bar_time").dt.convert_time_zone(dataset.instrument.timezone.key).dt.date()
    )


def _priced(vintages: pl.DataFrame) -> pl.DataFrame:
    return vintages.filter(pl.any_horizontal([pl.col(name).is_not_null() for name in PRICES]))


def latest_bars(vintages: pl.DataFrame) -> pl.DataFrame:
    """The newest vintage of each bar, withdrawn bars left out."""
    return _priced(vintages.sort("bar_time", "release_time").group_by("bar_time", maintain_order=True).last())


def _bar(row: dict, *names: str) -> str:
    return f"{row['bar_time'].isoformat()} " + " ".join(f"{name}={row[name]}" for name in names)


def _ohlc(judged: Judged) -> CheckOutcome:
    low, high, opening, close = (pl.col(name) for name in ("low", "high", "open", "close"))
    bad = _priced(judged.vintages).filter(
        (low > opening) | (low > close) | (high < opening) | (high < close) | (low > high)
    )
    return CheckOutcome(
        bad.is_empty(),
        {
            "inconsistent_vintages": bad.height,
            "sample": [_bar(row, *PRICES) for row in bad.head(5).iter_rows(named=True)],
        },
    )


def _volume(judged: Judged) -> CheckOutcome:
    bad = judged.vintages.filter(pl.col("volume") < 0)
    return CheckOutcome(
        bad.is_empty(),
        {
            "negative_volumes": bad.height,
            "sample": [_bar(row, "volume") for row in bad.head(5).iter_rows(named=True)],
        },
    )


def _duplicates(judged: Judged) -> CheckOutcome:
    duplicated = judged.vintages.filter(pl.struct("bar_time", "release_time").is_duplicated())
    return CheckOutcome(
        duplicated.is_empty(),
        {
            "duplicate_rows": duplicated.height,
            "sample_bars": sample(t.isoformat() for t in duplicated["bar_time"].unique(maintain_order=True)),
        },
    )


def due_bars(judged: Judged) -> list[dt.datetime] | list[dt.date]:
    """The bars the window should hold by judged_at: bar start instants (intraday) or session dates (daily)."""
    spec = judged.dataset
    if spec.frequency == "intraday":
        step = INTERVALS[spec.interval]
        days = (judged.start + dt.timedelta(days=i) for i in range((judged.end - judged.start).days + 1))
        return [
            bar
            for day in days
            for bar in spec.instrument.bar_times(day, spec.interval)
            if bar + step <= judged.judged_at
        ]
    return [
        day for day in spec.expected_dates(judged.start, judged.end) if spec.estimated_release(day) <= judged.judged_at
    ]


def _missing(judged: Judged) -> CheckOutcome:
    spec = judged.dataset
    latest = _dated(spec, latest_bars(judged.vintages))
    present = set(latest["bar_time" if spec.frequency == "intraday" else "session_date"].to_list())
    due = due_bars(judged)
    missing = [bar for bar in due if bar not in present]
    return CheckOutcome(
        not missing,
        {
            "calendar": spec.calendar,
            "expected_bars": len(due),
            "missing_bars": len(missing),
            "sample_missing": sample(bar.isoformat() for bar in missing),
        },
    )


def _outside(judged: Judged) -> CheckOutcome:
    spec = judged.dataset
    bars = _dated(spec, _priced(judged.vintages)).select("bar_time", "session_date").unique(maintain_order=True)
    if spec.frequency == "intraday":
        sessions = {day: set(spec.instrument.bar_times(day, spec.interval)) for day in bars["session_date"].unique()}
        outside = [t for t, day in bars.iter_rows() if t not in sessions[day]]
    else:
        outside = [t for t, day in bars.iter_rows() if not is_business_day(spec.calendar, day)]
    return CheckOutcome(
        not outside,
        {
            "session": f"{spec.instrument.session_open:%H:%M}-{spec.instrument.session_close:%H:%M} "
            f"{spec.instrument.timezone.key}, {spec.calendar} business days",
            "bars_outside": len(outside),
            "sample_outside": sample(t.isoformat() for t in outside),
        },
    )


def _plausible(judged: Judged) -> CheckOutcome:
    spec = judged.dataset
    low, high = spec.plausible_range
    columns = spec.shape.ranged
    outside = pl.any_horizontal(
        [pl.col(c).is_not_null() & (~pl.col(c).is_finite() | ~pl.col(c).is_between(low, high)) for c in columns]
    )
    bad = judged.vintages.filter(outside)
    return CheckOutcome(
        bad.is_empty(),
        {
            "plausible_range": f"[{low}, {high}]",
            "out_of_range": bad.height,
            "sample": [_bar(row, *columns) for row in bad.head(5).iter_rows(named=True)],
        },
    )


RULES = (
    CheckRule("ohlc_consistent", "Every stored bar has low <= open, close <= high.", "ERROR", _ohlc),
    CheckRule("volume_non_negative", "No stored bar has a negative volume.", "ERROR", _volume),
    CheckRule(
        "no_duplicate_bars",
        "No two vintages share (bar time, release time): each bar has one latest vintage.",
        "ERROR",
        _duplicates,
    ),
    CheckRule(
        "no_missing_bars",
        "Every bar of the instrument's sessions (intraday) or every business day (daily) "
        "released by the fetch is present.",
        "WARN",
        _missing,
    ),
    CheckRule("no_bars_outside_session", "No stored bar lies outside the instrument's sessions.", "ERROR", _outside),
    CheckRule(
        "prices_in_plausible_range",
        "Every stored price is finite and inside the catalog's plausible range.",
        "ERROR",
        _plausible,
    ),
)
