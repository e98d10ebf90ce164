"""Rules for Commitments of Traders positions (CFTC): the rules every shape shares, then its own.

A report is read as it stood at each of its release instants: the latest vintage of every category released by
then (a correction may re-publish some categories only; the warehouse stores a category again only when it
changed). At each such instant the report's categories must add up to its open interest on both sides, longs plus
spreading and shorts plus spreading, as CFTC's own totals do, and no position or open interest may be negative.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from macro_assets.quality import CheckOutcome, CheckRule, Judged, common, sample
from macro_assets.sources.cftc_cot import REPORTS, Report

VALUES = ("long", "short", "spreading", "open_interest")
# Contracts a side may differ from open interest by: third-party reconciliations of the API allow 1-2 (TFF rows).
TOLERANCE = 2
UNVERIFIABLE = "unverifiable"


def report_states(vintages: pl.DataFrame) -> dict[tuple[dt.date, dt.datetime], dict[str, dict]]:
    """(report date, release instant) -> category -> its latest vintage at that instant, withdrawals left out."""
    states: dict[tuple[dt.date, dt.datetime], dict[str, dict]] = {}
    for (day,), rows in vintages.sort("release_time").group_by(["report_date"], maintain_order=True):
        current: dict[str, dict] = {}
        for instant, changed in rows.group_by(["release_time"], maintain_order=True):
            for row in changed.iter_rows(named=True):
                if all(row[c] is None for c in VALUES):
                    current.pop(row["category"], None)
                else:
                    current[row["category"]] = row
            states[(day, instant[0])] = dict(current)
    return states


def _imbalance(state: dict[str, dict], report: Report) -> str | None:
    """Why a report does not add up: None when it does, UNVERIFIABLE when it cannot be told (a category absent,
    or a position the source suppressed)."""
    if set(state) != {c.name for c in report.categories}:
        return UNVERIFIABLE
    interests = {row["open_interest"] for row in state.values()}
    if len(interests) != 1:
        return f"open interest differs between categories ({sorted(i for i in interests if i is not None)})"
    (interest,) = interests
    sides = [state[c.name][side] for c in report.categories for side in ("long", "short")]
    spreading = [state[c.name]["spreading"] for c in report.categories if c.spreading is not None]
    if interest is None or None in sides or None in spreading:
        return UNVERIFIABLE
    longs = sum(state[c.name]["long"] for c in report.categories) + sum(spreading)
    shorts = sum(state[c.name]["short"] for c in report.categories) + sum(spreading)
    if abs(longs - interest) > TOLERANCE or abs(shorts - interest) > TOLERANCE:
        return f"longs+spreading {longs:.0f}, shorts+spreading {shorts:.0f}, open interest {interest:.0f}"
    return None


def _sums(judged: Judged) -> CheckOutcome:
    report = REPORTS[judged.dataset.params["report"]]
    checked, unverifiable, bad = 0, 0, []
    for (day, instant), state in sorted(report_states(judged.vintages).items()):
        problem = _imbalance(state, report)
        if problem == UNVERIFIABLE:
            unverifiable += 1
            continue
        checked += 1
        if problem:
            bad.append(f"{day} as released {instant.isoformat()}: {problem}")
    return CheckOutcome(
        not bad,
        {
            "checked_reports": checked,
            "unverifiable_reports": unverifiable,
            "unbalanced_reports": len(bad),
            "tolerance_contracts": TOLERANCE,
            "sample": sample(bad),
        },
    )


def _not_negative(judged: Judged) -> CheckOutcome:
    melted = judged.vintages.unpivot(
        index=["report_date", "category"], on=list(VALUES), variable_name="field"
    ).drop_nulls("value")
    bad = melted.filter(pl.col("value") < 0).sort("report_date", "category", "field")
    return CheckOutcome(
        bad.is_empty(),
        {
            "checked_values": melted.height,
            "negative": bad.height,
            "sample": sample(f"{d} {c} {f}={v:g}" for d, c, f, v in bad.iter_rows()),
        },
    )


RULES = (
    *common.RULES,
    CheckRule(
        "positions_sum_to_open_interest",
        "At every release of a report, its categories' longs plus spreading, and shorts plus spreading, each equal "
        f"the report's open interest (within {TOLERANCE} contracts), on every row the same; reports with a "
        "suppressed position are counted unverifiable.",
        "ERROR",
        _sums,
    ),
    CheckRule(
        "no_negative_positions",
        "No stored position (long, short, spreading) or open interest is negative.",
        "ERROR",
        _not_negative,
    ),
)
