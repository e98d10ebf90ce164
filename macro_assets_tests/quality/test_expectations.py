"""Quality rules of Focus expectation datasets over the stored vintages (a polars frame as the warehouse reads it):
the shared rules first, then the statistics' order, which passes and fails on specific values; the recorded
payloads pass every rule."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from macro_assets.catalog import load_catalog
from macro_assets.quality import CheckOutcome, Judged, common
from macro_assets.quality.expectations import RULES
from macro_assets.shapes import EXPECTATIONS, UTC_DATETIME
from macro_assets.sources import bcb_focus
from macro_assets_tests.paths import RECORDINGS
from macro_assets_tests.sources import payloads

CATALOG = load_catalog()
IPCA = CATALOG.get("bcb_focus.IPCA_annual")  # plausible [-10, 50]
READ_SCHEMA = {
    "dataset_id": pl.String,
    **EXPECTATIONS.key_schema,
    "release_time": UTC_DATETIME,
    **EXPECTATIONS.value_schema,
    "release_basis": pl.String,
}
SURVEY = dt.date(2018, 10, 26)
JUDGED_AT = dt.datetime(2019, 1, 7, 12, tzinfo=dt.UTC)


def survey(reference: str = "2018", basis: int = 0, **values) -> dict:
    """A vintage as the connector writes it: IPCA 2018 on a Friday, released with the Monday report."""
    statistics = {"median": 4.4, "mean": 4.43, "std_dev": 0.21, "minimum": 3.9, "maximum": 5.1, "respondents": 98}
    return {
        "dataset_id": str(IPCA.id),
        "survey_date": SURVEY,
        "reference": reference,
        "calculation_basis": basis,
        "release_time": bcb_focus.release_time(IPCA, SURVEY),
        "release_basis": "vintage",
        **statistics,
        **values,
    }


def vintages(rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=READ_SCHEMA)


def judge(name: str, frame: pl.DataFrame, at: dt.datetime = JUDGED_AT) -> CheckOutcome:
    rule = next(rule for rule in RULES if rule.name == name)
    return rule.judge(Judged(IPCA, frame, SURVEY, SURVEY, at))


def test_the_rules_are_the_shared_ones_then_the_focus_statistics():
    assert RULES[: len(common.RULES)] == common.RULES
    assert [(rule.name, rule.severity) for rule in RULES] == [
        ("no_duplicate_vintages", "ERROR"),
        ("values_in_plausible_range", "ERROR"),
        ("no_future_vintages", "ERROR"),
        ("focus_statistics_consistent", "ERROR"),
    ]


def test_statistics_in_order_pass_with_a_single_respondent_and_a_withdrawal():
    lone = survey("2019", median=4.2, mean=4.2, std_dev=0.0, minimum=4.2, maximum=4.2, respondents=1)
    withdrawn = survey("2020", **dict.fromkeys(EXPECTATIONS.value_columns))
    outcome = judge("focus_statistics_consistent", vintages([survey(), survey(basis=1), lone, withdrawn]))
    assert outcome.passed
    assert outcome.metadata == {
        "checked_vintages": 3,
        "inconsistent_vintages": 0,
        "median_outside_min_max": 0,
        "mean_outside_min_max": 0,
        "negative_std_dev": 0,
        "no_respondents": 0,
        "sample": [],
    }


@pytest.mark.parametrize(
    "values, failed",
    [
        ({"minimum": 4.5}, "median_outside_min_max"),  # min above the median (and the mean)
        ({"maximum": 4.41}, "mean_outside_min_max"),  # the mean 4.43 above the max
        ({"median": 5.2}, "median_outside_min_max"),
        ({"std_dev": -0.1}, "negative_std_dev"),
        ({"respondents": 0}, "no_respondents"),
        ({"mean": None}, "mean_outside_min_max"),  # a partial vintage cannot be checked: it fails
    ],
)
def test_each_broken_order_fails_naming_the_vintage(values, failed):
    outcome = judge("focus_statistics_consistent", vintages([survey(), survey("2019", **values)]))
    assert not outcome.passed
    assert outcome.metadata["checked_vintages"] == 2 and outcome.metadata["inconsistent_vintages"] == 1
    assert outcome.metadata[failed] == 1
    assert outcome.metadata["sample"][0].startswith(f"2018-10-26 2019 basis 0: {failed}")


def test_a_minimum_above_the_median_reports_both_broken_orders():
    outcome = judge("focus_statistics_consistent", vintages([survey(minimum=4.5)]))
    assert outcome.metadata["sample"] == [
        "2018-10-26 2018 basis 0: median_outside_min_max, mean_outside_min_max "
        "(min 4.5, median 4.4, mean 4.43, max 5.1, std 0.21, respondents 98)"
    ]


def test_the_shared_rules_judge_the_three_part_key_and_the_plausible_range():
    both_bases = [survey(), survey(basis=1)]
    assert judge("no_duplicate_vintages", vintages(both_bases)).passed
    twice = judge("no_duplicate_vintages", vintages([survey(), survey(median=4.5)]))
    assert not twice.passed and twice.metadata["duplicate_rows"] == 2
    assert twice.metadata["sample"][0].startswith("survey_date=2018-10-26 reference=2018 calculation_basis=0")
    implausible = judge("values_in_plausible_range", vintages([survey(maximum=75.0)]))
    assert not implausible.passed and implausible.metadata["out_of_range"] == 1
    # Released Monday 29 October 08:25 BRT: judged the Sunday before, the vintage is from the future.
    early = judge("no_future_vintages", vintages([survey()]), at=dt.datetime(2018, 10, 28, tzinfo=dt.UTC))
    assert not early.passed and early.metadata["future_vintages"] == 1


@pytest.mark.parametrize("name", ["IPCA_annual_2018.json", "Selic_meetings_2017.json", "USDBRL_monthly_2015.json"])
def test_the_recorded_payloads_pass_every_rule(name):
    spec = CATALOG.get(f"bcb_focus.{name.split('_20')[0]}")
    fetched = payloads.fetched(str(spec.id), (RECORDINGS / "bcb_focus" / name).read_bytes())
    rows = bcb_focus.connector.parse(spec, fetched).rows
    frame = rows.with_columns(dataset_id=pl.lit(str(spec.id))).select(list(READ_SCHEMA))
    year = int(name[-9:-5])
    judged = Judged(spec, frame, dt.date(year, 1, 1), dt.date(year, 12, 31), JUDGED_AT)
    outcomes = {rule.name: rule.judge(judged) for rule in RULES}
    assert all(outcome.passed for outcome in outcomes.values()), {n: o.metadata for n, o in outcomes.items()}
    assert outcomes["focus_statistics_consistent"].metadata["checked_vintages"] == frame.height > 0
