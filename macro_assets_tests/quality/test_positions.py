"""Positions rules: every report adds up to its open interest at each of its releases (a correction included), a
report with a suppressed position cannot be told, and no position is negative."""

from __future__ import annotations

import datetime as dt

import polars as pl

from macro_assets.catalog import load_catalog
from macro_assets.quality import Judged
from macro_assets.quality.positions import RULES

SPEC = load_catalog().get("cftc_cot.BRL_legacy")
FIRST = dt.datetime(2016, 11, 18, 20, 30, tzinfo=dt.UTC)
CORRECTED = dt.datetime(2019, 2, 15, 12, tzinfo=dt.UTC)
DAY = dt.date(2016, 11, 15)
# (category, long, short, spreading): 15000 + 2000 + 20000 + 4000 = 41000 = 12000 + 2000 + 23000 + 4000.
BALANCED = (
    ("noncommercial", 15000.0, 12000.0, 2000.0),
    ("commercial", 20000.0, 23000.0, None),
    ("nonreportable", 4000.0, 4000.0, None),
)


def vintages(*reports: tuple[dt.date, dt.datetime, float, tuple]) -> pl.DataFrame:
    rows = [
        {
            "dataset_id": str(SPEC.id),
            "report_date": day,
            "category": category,
            "long": long,
            "short": short,
            "spreading": spreading,
            "open_interest": interest,
            "release_time": released,
            "release_basis": "estimated",
        }
        for day, released, interest, categories in reports
        for category, long, short, spreading in categories
    ]
    return pl.DataFrame(rows, schema_overrides={"release_time": pl.Datetime("us", "UTC")})


def judge(frame: pl.DataFrame) -> dict:
    judged = Judged(SPEC, frame, DAY, DAY, dt.datetime(2019, 3, 1, tzinfo=dt.UTC))
    return {rule.name: rule.judge(judged) for rule in RULES}


def test_a_balanced_report_passes_every_rule():
    outcomes = judge(vintages((DAY, FIRST, 41000.0, BALANCED)))
    assert all(outcome.passed for outcome in outcomes.values())
    assert outcomes["positions_sum_to_open_interest"].metadata["checked_reports"] == 1


def test_a_report_that_does_not_add_up_fails_naming_it():
    short_of_one_category = (*BALANCED[:2], ("nonreportable", 4000.0, 3000.0, None))
    outcome = judge(vintages((DAY, FIRST, 41000.0, short_of_one_category)))["positions_sum_to_open_interest"]
    assert not outcome.passed
    assert outcome.metadata["sample"] == [
        "2016-11-15 as released 2016-11-18T20:30:00+00:00: longs+spreading 41000, shorts+spreading 40000, "
        "open interest 41000"
    ]


def test_a_correction_is_judged_as_it_stood_at_each_release():
    """The correction adds 1,500 commercial contracts on both sides and to open interest: every row is re-published
    (open interest is on each), and both states add up; a correction that re-published commercial only would
    leave the other rows with the old open interest."""
    corrected = tuple(
        (c, lo + 1500, sh + 1500, sp) if c == "commercial" else (c, lo, sh, sp) for c, lo, sh, sp in BALANCED
    )
    both = vintages((DAY, FIRST, 41000.0, BALANCED), (DAY, CORRECTED, 42500.0, corrected))
    outcome = judge(both)["positions_sum_to_open_interest"]
    assert outcome.passed and outcome.metadata["checked_reports"] == 2
    partial = vintages((DAY, FIRST, 41000.0, BALANCED), (DAY, CORRECTED, 42500.0, corrected[1:2]))
    outcome = judge(partial)["positions_sum_to_open_interest"]
    assert not outcome.passed
    assert "open interest differs between categories ([41000.0, 42500.0])" in outcome.metadata["sample"][0]


def test_a_suppressed_position_makes_the_report_unverifiable_not_failed():
    suppressed = (("noncommercial", 15000.0, 12000.0, None), *BALANCED[1:])
    outcome = judge(vintages((DAY, FIRST, 41000.0, suppressed)))["positions_sum_to_open_interest"]
    assert outcome.passed
    assert (outcome.metadata["checked_reports"], outcome.metadata["unverifiable_reports"]) == (0, 1)


def test_a_negative_position_fails():
    negative = (("noncommercial", 15000.0, 12000.0, 2000.0), ("commercial", 20000.0, 23000.0, None))
    outcome = judge(vintages((DAY, FIRST, 41000.0, (*negative, ("nonreportable", -4000.0, 4000.0, None)))))
    assert not outcome["no_negative_positions"].passed
    assert outcome["no_negative_positions"].metadata["sample"] == ["2016-11-15 nonreportable long=-4000"]
