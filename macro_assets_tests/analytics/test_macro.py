"""YoY chain-linking, diffusion, trimmed mean and surprises on small hand examples."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from macro_assets.analytics import macro

UTC = dt.UTC


def monthly(values, start_year=2023):
    dates = [dt.date(start_year + (m // 12), m % 12 + 1, 1) for m in range(len(values))]
    return pl.DataFrame({"series_id": "ibge_sidra.ipca_mom", "obs_date": dates, "value": values})


def test_twelve_months_of_half_a_percent_are_6_1678_percent():
    yoy = macro.yoy_from_mom(monthly([0.5] * 13))["yoy"].to_list()
    assert yoy[:11] == [None] * 11
    assert yoy[11] == pytest.approx(6.1678, abs=5e-5)
    assert yoy[11] == pytest.approx((1.005**12 - 1) * 100, rel=1e-12)


def test_yoy_needs_twelve_consecutive_months():
    frame = monthly([0.5] * 14).filter(pl.col("obs_date") != dt.date(2023, 6, 1))
    assert macro.yoy_from_mom(frame)["yoy"].to_list() == [None] * 13


def components(rows):
    return pl.DataFrame(
        [
            {
                "dataset_id": "ibge_sidra.ipca_components",
                "obs_date": dt.date(2024, 1, 1),
                "component": code,
                "value": value,
                "weight": weight,
                "name": code,
                "level": level,
            }
            for code, value, weight, level in rows
        ]
    )


SUBITEMS = [
    ("a", 0.5, 10.0, "subitem"),
    ("b", -0.2, 20.0, "subitem"),
    ("c", 0.0, 30.0, "subitem"),
    ("d", 1.0, 60.0, "subitem"),
    ("general", 0.4, 100.0, "general"),
]


def test_diffusion_unweighted_and_weighted():
    row = macro.diffusion_index(components(SUBITEMS)).row(0, named=True)
    assert row["components"] == 4  # the general index is not a subitem
    assert row["diffusion"] == pytest.approx(50.0)  # a and d rise; c unchanged does not count
    assert row["weighted_diffusion"] == pytest.approx((10 + 60) / 120 * 100)


def test_trimmed_mean_cuts_a_fifth_of_the_weight_from_each_tail():
    # Weights rescale to 5, 25, 40, 20, 10 (sum 100). Cut [0, 20] and [80, 100] of the cumulative weight: a keeps
    # nothing, b keeps 20..30 (10), c keeps 40, d keeps 70..80 (10), e nothing.
    rows = [
        ("a", -1.0, 2.5, "subitem"),
        ("b", 0.5, 12.5, "subitem"),
        ("c", 1.0, 20.0, "subitem"),
        ("d", 2.0, 10.0, "subitem"),
        ("e", 10.0, 5.0, "subitem"),
        ("general", 0.9, 100.0, "general"),
    ]
    row = macro.trimmed_mean(components(rows), trim=20.0).row(0, named=True)
    assert row["trimmed_mean"] == pytest.approx((0.5 * 10 + 1.0 * 40 + 2.0 * 10) / 60)
    untrimmed = macro.trimmed_mean(components(rows), trim=0.0)["trimmed_mean"][0]
    assert untrimmed == pytest.approx((-1 * 2.5 + 0.5 * 12.5 + 20 + 20 + 50) / 50)


def expectations(rows):
    return pl.DataFrame(
        [
            {
                "dataset_id": "bcb_focus.IPCA_monthly",
                "survey_date": survey,
                "reference": reference,
                "calculation_basis": basis,
                "median": median,
                "release_time": released,
            }
            for survey, reference, basis, median, released in rows
        ]
    )


def test_surprise_uses_the_latest_survey_released_before_the_actual():
    released = dt.datetime(2024, 2, 9, 12, 0, 0, tzinfo=UTC)
    actuals = pl.DataFrame(
        {
            "series_id": "ibge_sidra.ipca_mom",
            "obs_date": [dt.date(2024, 1, 1)],
            "value": [0.42],
            "release_time": [released],
        }
    )
    focus = expectations(
        [
            (dt.date(2024, 1, 26), "01/2024", 0, 0.35, dt.datetime(2024, 1, 29, 11, 25, tzinfo=UTC)),
            (dt.date(2024, 2, 1), "01/2024", 0, 0.40, dt.datetime(2024, 2, 5, 11, 25, tzinfo=UTC)),
            (dt.date(2024, 2, 2), "01/2024", 0, 0.41, dt.datetime(2024, 2, 5, 11, 25, tzinfo=UTC)),
            (dt.date(2024, 2, 2), "01/2024", 1, 0.45, dt.datetime(2024, 2, 5, 11, 25, tzinfo=UTC)),
            (dt.date(2024, 2, 2), "02/2024", 0, 0.90, dt.datetime(2024, 2, 5, 11, 25, tzinfo=UTC)),
            # Released one second after the actual: it could have seen it, so it is not the expectation.
            (dt.date(2024, 2, 9), "01/2024", 0, 0.50, released + dt.timedelta(seconds=1)),
        ]
    )
    row = macro.surprises(actuals, focus).row(0, named=True)
    assert row["reference"] == "01/2024"
    assert row["survey_date"] == dt.date(2024, 2, 2)  # the later of two surveys published in one report
    assert row["expected"] == pytest.approx(0.41)
    assert row["surprise"] == pytest.approx(0.01)
    assert macro.surprises(actuals, focus, calculation_basis=1)["expected"][0] == pytest.approx(0.45)


def test_annual_surprise_matches_the_year_and_none_before_any_survey():
    actuals = pl.DataFrame(
        {
            "series_id": "ipca_annual",
            "obs_date": [dt.date(2023, 1, 1), dt.date(2024, 1, 1)],
            "value": [4.62, 4.83],
            "release_time": [dt.datetime(2024, 1, 11, 12, tzinfo=UTC), dt.datetime(2025, 1, 10, 12, tzinfo=UTC)],
        }
    )
    focus = expectations([(dt.date(2024, 1, 5), "2023", 0, 4.5, dt.datetime(2024, 1, 8, 11, 25, tzinfo=UTC))])
    out = macro.surprises(actuals, focus, "annual")
    assert out["surprise"].to_list() == [pytest.approx(0.12), None]
