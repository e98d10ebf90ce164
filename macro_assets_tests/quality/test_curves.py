"""Quality rules of curve datasets over the stored vintages (a polars frame as the warehouse reads it): each rule
passes and fails on specific values, and the recorded payloads pass every rule but the gaps the recordings hold."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from macro_assets.catalog import load_catalog
from macro_assets.provenance import Fetched
from macro_assets.quality import SAMPLE, CheckOutcome, Judged
from macro_assets.quality.curves import RULES, latest
from macro_assets.shapes import CURVE_POINTS, UTC_DATETIME
from macro_assets.sources import tesouro_direto, us_treasury

REPO = Path(__file__).resolve().parents[2]
RECORDED = REPO / "macro_assets" / "recordings"
CATALOG = load_catalog()
PAR = CATALOG.get("us_treasury.par_nominal")  # plausible [-2, 25], US calendar, 18:00 New York
BR_NOMINAL = CATALOG.get("tesouro_direto.br_nominal")  # plausible [0, 60], BR calendar
READ_SCHEMA = {
    "curve_id": pl.String,
    **CURVE_POINTS.key_schema,
    "release_time": UTC_DATETIME,
    **CURVE_POINTS.value_schema,
    "release_basis": pl.String,
}
JUDGED_AT = dt.datetime(2019, 1, 7, 12, tzinfo=dt.UTC)
DAY = dt.date(2018, 12, 28)
DAY_2 = dt.timedelta(days=2)  # a revision two days after the release


def released(day: dt.date, dataset=PAR, later: dt.timedelta = dt.timedelta(0)) -> dt.datetime:
    return dataset.estimated_release(day) + later


def par(day: dt.date, point: str, rate: float | None, **values) -> dict:
    """A par-curve vintage as the connector writes it: maturity and tenor from the label."""
    maturity = us_treasury.maturity(day, point) if rate is not None else None
    tenor = us_treasury.tenor_years(point) if rate is not None else None
    return {
        "curve_date": day,
        "point": point,
        "release_time": released(day),
        "maturity_date": maturity,
        "tenor_years": tenor,
        "rate": rate,
        **values,
    }


def bond(
    day: dt.date,
    point: str,
    buy: float | None,
    sell: float | None,
    buy_price: float | None,
    sell_price: float | None,
    **values,
) -> dict:
    maturity = dt.date.fromisoformat(point.rsplit(" ", 1)[1])
    return {
        "curve_date": day,
        "point": point,
        "release_time": released(day, BR_NOMINAL),
        "maturity_date": maturity,
        "rate": buy if buy is not None else sell,
        "buy_rate": buy,
        "sell_rate": sell,
        "buy_price": buy_price,
        "sell_price": sell_price,
        "base_price": sell_price,
        **values,
    }


def vintages(rows: list[dict], dataset=PAR) -> pl.DataFrame:
    """A frame as the warehouse's vintages read returns it."""
    full = [{"curve_id": str(dataset.id), "release_basis": "estimated", **row} for row in rows]
    return pl.DataFrame(full, schema=READ_SCHEMA)


def judge(name: str, frame: pl.DataFrame, dataset=PAR, start=DAY, end=DAY, at=JUDGED_AT) -> CheckOutcome:
    rule = next(rule for rule in RULES if rule.name == name)
    return rule.judge(Judged(dataset=dataset, vintages=frame, start=start, end=end, judged_at=at))


def curve(day: dt.date = DAY) -> list[dict]:
    return [par(day, "1M", 2.41), par(day, "3M", 2.44), par(day, "2Y", 2.49), par(day, "10Y", 2.72)]


def test_the_rules_and_their_severities():
    assert [(rule.name, rule.severity) for rule in RULES] == [
        ("curve_points_unique", "ERROR"),
        ("curve_points_have_maturities", "ERROR"),
        ("rates_in_plausible_range", "ERROR"),
        ("prices_positive", "ERROR"),
        ("no_missing_curves", "WARN"),
        ("sell_rate_not_below_buy_rate", "ERROR"),
        ("tenors_increase_with_maturity", "ERROR"),
    ]


def test_latest_keeps_the_newest_vintage_and_drops_a_withdrawal():
    frame = vintages(
        [
            par(DAY, "10Y", 2.72),
            {**par(DAY, "10Y", 2.75), "release_time": released(DAY, later=DAY_2)},
            par(DAY, "2Y", 2.49),
            {**par(DAY, "2Y", None), "release_time": released(DAY, later=DAY_2)},
        ]
    )
    assert latest(frame).select("point", "rate").rows() == [("10Y", 2.75)]


# ------------------------------------------------------------------------------------------ unique
def test_unique_passes_on_a_revision_and_fails_on_two_latest_vintages_of_a_point():
    revision = {**par(DAY, "10Y", 2.75), "release_time": released(DAY, later=DAY_2)}
    assert judge("curve_points_unique", vintages([*curve(), revision])).passed
    twin = par(DAY, "10Y", 2.80)
    outcome = judge("curve_points_unique", vintages([*curve(), twin]))
    assert not outcome.passed and outcome.metadata == {"repeated_points": 1, "sample": ["2018-12-28 10Y"]}


# ------------------------------------------------------------------------------------------ maturities
def test_maturities_pass_on_connector_rows_and_fail_on_a_label_that_disagrees_or_a_past_maturity():
    good = [
        bond(DAY, "LTN 2021-01-01", 9.22, 9.26, 769.14, 768.30),
        bond(DAY, "NTN-F 2021-01-01", 9.3, 9.35, 1067.7, 1067.4),
    ]
    assert judge("curve_points_have_maturities", vintages(good, BR_NOMINAL), BR_NOMINAL).metadata == {
        "checked_points": 2,
        "bad_maturities": 0,
        "sample": [],
    }
    wrong_label = {**bond(DAY, "LTN 2025-01-01", 10.0, 10.06, 520.1, 518.5), "maturity_date": dt.date(2024, 1, 1)}
    swapped = {
        **bond(DAY, "LTN 2020-01-01", 8.76, 8.79, 846.2, 845.8),
        "curve_date": dt.date(2020, 1, 1),
        "maturity_date": DAY,
    }  # Data Base and Data Vencimento exchanged by a bad file
    outcome = judge("curve_points_have_maturities", vintages([*good, wrong_label, swapped], BR_NOMINAL), BR_NOMINAL)
    assert not outcome.passed and outcome.metadata["bad_maturities"] == 2
    assert outcome.metadata["sample"] == [
        "2018-12-28 LTN 2025-01-01 matures 2024-01-01",
        "2020-01-01 LTN 2020-01-01 matures 2018-12-28",
    ]


def test_a_par_point_without_a_maturity_fails():
    undated = {**par(DAY, "5Y", 2.6), "maturity_date": None}
    outcome = judge("curve_points_have_maturities", vintages([*curve(), undated]))
    assert not outcome.passed and outcome.metadata["sample"] == ["2018-12-28 5Y matures None"]


# ------------------------------------------------------------------------------------------ plausible range
def test_rates_in_range_pass_at_the_bounds_and_fail_outside_or_on_nan():
    edges = [par(DAY, "1M", -2.0), par(DAY, "30Y", 25.0)]
    assert judge("rates_in_plausible_range", vintages(edges)).metadata == {
        "plausible_range": "[-2.0, 25.0]",
        "checked_values": 2,
        "out_of_range": 0,
        "sample": [],
    }
    bad = [par(DAY, "1M", -2.01), par(DAY, "10Y", 27.2), par(DAY, "30Y", float("nan"))]
    outcome = judge("rates_in_plausible_range", vintages([*edges, *bad]))
    assert not outcome.passed and outcome.metadata["out_of_range"] == 3
    assert sorted(outcome.metadata["sample"]) == [
        "2018-12-28 10Y rate=27.2",
        "2018-12-28 1M rate=-2.01",
        "2018-12-28 30Y rate=nan",
    ]


def test_buy_and_sell_rates_are_range_checked_too():
    row = bond(DAY, "LTN 2021-01-01", 9.22, 61.0, 769.14, 768.30)
    outcome = judge("rates_in_plausible_range", vintages([row], BR_NOMINAL), BR_NOMINAL)
    assert not outcome.passed and outcome.metadata["sample"] == ["2018-12-28 LTN 2021-01-01 sell_rate=61.0"]
    assert outcome.metadata["checked_values"] == 3  # rate, buy rate, sell rate


def test_a_superseded_vintage_out_of_range_still_fails():
    old = par(DAY, "10Y", 272.0)
    fixed = {**par(DAY, "10Y", 2.72), "release_time": released(DAY, later=DAY_2)}
    assert judge("rates_in_plausible_range", vintages([old, fixed])).metadata["sample"] == ["2018-12-28 10Y rate=272.0"]


# ------------------------------------------------------------------------------------------ prices
def test_prices_pass_when_positive_or_absent_and_fail_on_zero_negative_or_nan():
    sale_only = bond(DAY, "LTN 2019-01-01", None, 8.06, None, 925.98)
    assert judge("prices_positive", vintages([sale_only], BR_NOMINAL), BR_NOMINAL).metadata == {
        "checked_prices": 2,
        "not_positive": 0,
        "sample": [],
    }
    bad = [
        bond(DAY, "LTN 2021-01-01", 9.22, 9.26, 0.0, 768.30),
        {**bond(DAY, "LTN 2023-01-01", 9.75, 9.8, 630.58, -629.16), "base_price": 628.88},
        {**bond(DAY, "LTN 2025-01-01", 10.0, 10.06, 520.1, 518.5), "base_price": float("nan")},
    ]
    outcome = judge("prices_positive", vintages([sale_only, *bad], BR_NOMINAL), BR_NOMINAL)
    assert not outcome.passed and (outcome.metadata["checked_prices"], outcome.metadata["not_positive"]) == (11, 3)
    assert outcome.metadata["sample"] == [
        "2018-12-28 LTN 2021-01-01 buy_price=0.0",
        "2018-12-28 LTN 2023-01-01 sell_price=-629.16",
        "2018-12-28 LTN 2025-01-01 base_price=nan",
    ]


# ------------------------------------------------------------------------------------------ missing curves
WEEK = (dt.date(2018, 12, 24), dt.date(2018, 12, 31))  # US business days 24, 26, 27, 28, 31 (25 Christmas)


def test_no_missing_curves_passes_when_every_released_business_day_has_one():
    days = [dt.date(2018, 12, d) for d in (24, 26, 27, 28, 31)]
    outcome = judge("no_missing_curves", vintages([p for day in days for p in curve(day)]), start=WEEK[0], end=WEEK[1])
    assert outcome.passed and outcome.metadata == {
        "calendar": "US",
        "expected_curves": 5,
        "missing_curves": 0,
        "sample_missing": [],
    }


def test_no_missing_curves_names_the_missing_and_the_withdrawn_dates():
    rows = [p for d in (24, 26, 28) for p in curve(dt.date(2018, 12, d))]
    withdrawn = [
        {**par(dt.date(2018, 12, 31), p, None), "release_time": released(dt.date(2018, 12, 31), later=DAY_2)}
        for p in ("1M", "3M", "2Y", "10Y")
    ]
    rows += [*curve(dt.date(2018, 12, 31)), *withdrawn]
    outcome = judge("no_missing_curves", vintages(rows), start=WEEK[0], end=WEEK[1])
    assert not outcome.passed and outcome.metadata["missing_curves"] == 2
    assert outcome.metadata["sample_missing"] == ["2018-12-27", "2018-12-31"]


def test_a_curve_not_yet_released_at_the_judging_instant_is_not_missing():
    rows = [p for d in (24, 26, 27) for p in curve(dt.date(2018, 12, d))]
    before_28 = dt.datetime(2018, 12, 28, 22, 59, tzinfo=dt.UTC)  # 17:59 New York
    outcome = judge("no_missing_curves", vintages(rows), start=WEEK[0], end=WEEK[1], at=before_28)
    assert outcome.passed and outcome.metadata["expected_curves"] == 3  # the 28th is not out yet
    at_release = judge("no_missing_curves", vintages(rows), start=WEEK[0], end=WEEK[1], at=released(DAY))
    assert at_release.metadata["sample_missing"] == ["2018-12-28"]


# ------------------------------------------------------------------------------------------ Tesouro convention
def test_sell_rate_not_below_buy_rate_passes_on_the_convention_and_on_sale_only_bonds():
    rows = [
        bond(DAY, "LTN 2021-01-01", 9.22, 9.26, 769.14, 768.30),
        bond(DAY, "LTN 2020-01-01", 8.79, 8.79, 845.78, 845.78),
        bond(DAY, "LTN 2019-01-01", None, 8.06, None, 925.98),
    ]
    assert judge("sell_rate_not_below_buy_rate", vintages(rows, BR_NOMINAL), BR_NOMINAL).metadata == {
        "checked_points": 2,
        "sell_rate_below_buy_rate": 0,
        "buy_price_below_sell_price": 0,
        "sample": [],
    }


def test_sell_rate_below_buy_rate_or_buy_price_below_sell_price_fails():
    rows = [
        bond(DAY, "LTN 2021-01-01", 9.26, 9.22, 768.30, 769.14),  # columns swapped by a bad file
        bond(DAY, "NTN-F 2027-01-01", 10.16, 10.22, 1042.38, 1045.70),
    ]
    outcome = judge("sell_rate_not_below_buy_rate", vintages(rows, BR_NOMINAL), BR_NOMINAL)
    assert not outcome.passed
    assert (outcome.metadata["sell_rate_below_buy_rate"], outcome.metadata["buy_price_below_sell_price"]) == (1, 2)
    assert outcome.metadata["sample"] == [
        "2018-12-28 LTN 2021-01-01 sell 9.22 < buy 9.26",
        "2018-12-28 LTN 2021-01-01 buy price 768.3 < sell price 769.14",
        "2018-12-28 NTN-F 2027-01-01 buy price 1042.38 < sell price 1045.7",
    ]


# ------------------------------------------------------------------------------------------ Treasury convention
def test_tenors_increase_with_maturity_passes_on_a_curve_and_ignores_bond_points():
    assert judge("tenors_increase_with_maturity", vintages(curve())).metadata == {
        "checked_points": 4,
        "out_of_order": 0,
        "sample": [],
    }
    bonds = [bond(DAY, "LTN 2021-01-01", 9.22, 9.26, 769.14, 768.30)]
    assert (
        judge("tenors_increase_with_maturity", vintages(bonds, BR_NOMINAL), BR_NOMINAL).metadata["checked_points"] == 0
    )


def test_a_tenor_out_of_order_with_its_maturity_fails():
    swapped = {**par(DAY, "2Y", 2.49), "tenor_years": 0.5}  # a 6-month tenor on the 2-year maturity
    outcome = judge("tenors_increase_with_maturity", vintages([*curve()[:2], swapped, par(DAY, "1Y", 2.6), curve()[3]]))
    assert not outcome.passed and outcome.metadata["out_of_order"] == 1
    assert outcome.metadata["sample"] == ["2018-12-28 1Y (2019-12-28, 1y) then 2Y (2020-12-28, 0.5y)"]


def test_two_tenors_on_one_maturity_fail_but_a_superseded_vintage_does_not():
    same_day = {**par(DAY, "3M", 2.44), "point": "13W"}
    assert judge("tenors_increase_with_maturity", vintages([*curve(), same_day])).metadata["out_of_order"] == 1
    old = {**par(DAY, "2Y", 2.49), "maturity_date": dt.date(2018, 12, 31)}
    fixed = {**par(DAY, "2Y", 2.49), "release_time": released(DAY, later=DAY_2)}
    assert judge("tenors_increase_with_maturity", vintages([*curve()[:2], curve()[3], old, fixed])).passed


def test_an_empty_window_fails_only_for_its_missing_curves():
    outcomes = {rule.name: rule.judge(Judged(PAR, vintages([]), WEEK[0], WEEK[1], JUDGED_AT)) for rule in RULES}
    assert [name for name, outcome in outcomes.items() if not outcome.passed] == ["no_missing_curves"]
    assert outcomes["no_missing_curves"].metadata["missing_curves"] == 5


def test_samples_are_capped():
    rows = [par(DAY, f"{n}M", 30.0 + n) for n in range(1, 12)]
    assert len(judge("rates_in_plausible_range", vintages(rows)).metadata["sample"]) == SAMPLE


# ------------------------------------------------------------------------------------------ recorded payloads
def parsed(connector, dataset, path: Path) -> pl.DataFrame:
    fetched = Fetched(
        source=dataset.source,
        dataset_id=str(dataset.id),
        request="GET (test)",
        status=200,
        body=path.read_bytes(),
        content_type="text/csv",
        fetched_at=JUDGED_AT,
        window_start=dt.date(2015, 1, 1),
        window_end=dt.date(2018, 12, 31),
    )
    rows = connector.parse(dataset, fetched).rows
    return rows.with_columns(curve_id=pl.lit(str(dataset.id))).select(list(READ_SCHEMA))


@pytest.mark.parametrize("year", [2016, 2018])
def test_the_recorded_par_curves_pass_every_rule_but_the_days_without_a_curve(year):
    rows = parsed(us_treasury.connector, PAR, RECORDED / "us_treasury" / f"daily_treasury_yield_curve_{year}.csv")
    judged = Judged(PAR, rows, dt.date(year, 1, 1), dt.date(year, 12, 31), JUDGED_AT)
    outcomes = {rule.name: rule.judge(judged) for rule in RULES}
    assert [name for name, outcome in outcomes.items() if not outcome.passed] == (
        ["no_missing_curves"] if year == 2016 else []
    )
    assert outcomes["no_missing_curves"].metadata["sample_missing"] == (["2016-03-25"] if year == 2016 else [])
    assert outcomes["tenors_increase_with_maturity"].metadata["checked_points"] == rows.height


def test_the_recorded_tesouro_file_passes_every_rule():
    body = RECORDED / "tesouro_direto" / "precotaxatesourodireto_2015-2018_captured_2019-01-07.csv"
    rows = parsed(tesouro_direto.connector, BR_NOMINAL, body)
    judged = Judged(BR_NOMINAL, rows, dt.date(2015, 1, 1), dt.date(2018, 12, 31), JUDGED_AT)
    outcomes = {rule.name: rule.judge(judged) for rule in RULES}
    assert all(outcome.passed for outcome in outcomes.values()), {n: o.metadata for n, o in outcomes.items()}
    assert outcomes["no_missing_curves"].metadata["expected_curves"] == 998
    assert outcomes["sell_rate_not_below_buy_rate"].metadata["checked_points"] == rows.drop_nulls("buy_rate").height
