"""Curve fits and what follows from them, against the textbook formulas written out here independently."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import polars as pl
import pytest

from macro_assets.analytics import curves

TENORS = np.array([0.25, 0.5, 1, 1.5, 2, 3, 4, 5, 7, 10, 15, 20, 25, 30])
DAY = dt.date(2024, 1, 2)


def textbook_zero(t, beta0, beta1, beta2, beta3=0.0, tau1=1.0, tau2=1.0):
    """Svensson (1994): the zero rate of the NSS model, continuously compounded."""
    t = np.asarray(t, dtype=float)
    first = (1 - np.exp(-t / tau1)) / (t / tau1)
    second = (1 - np.exp(-t / tau2)) / (t / tau2)
    return beta0 + beta1 * first + beta2 * (first - np.exp(-t / tau1)) + beta3 * (second - np.exp(-t / tau2))


def points(curves_by_date: dict[dt.date, np.ndarray], tenors=TENORS, curve_id="test.curve") -> pl.DataFrame:
    rows = [
        {"curve_id": curve_id, "curve_date": day, "tenor": float(t), "zero_rate": float(r)}
        for day, rates in curves_by_date.items()
        for t, r in zip(tenors, rates)
    ]
    return pl.DataFrame(rows)


def params_frame(**values) -> pl.DataFrame:
    """A fit_curves-shaped frame of given parameters (one curve date)."""
    row = {"curve_id": "given", "curve_date": DAY, "model": "nss", "beta3": 0.0, "tau2": None, "status": "fitted"}
    return pl.DataFrame([{**row, **values}], schema_overrides={"tau2": pl.Float64})


NS_CASES = [(0.05, -0.02, 0.01, 1.5), (0.11, 0.02, -0.03, 0.7), (0.03, -0.025, 0.04, 4.0)]
NSS_CASES = [(0.05, -0.02, 0.03, -0.02, 1.0, 8.0), (0.10, 0.03, -0.04, 0.05, 0.6, 5.0)]


def test_ns_recovers_known_parameters_of_textbook_curves():
    days = [DAY + dt.timedelta(days=i) for i in range(len(NS_CASES))]
    frame = points({day: textbook_zero(TENORS, b0, b1, b2, tau1=tau) for day, (b0, b1, b2, tau) in zip(days, NS_CASES)})
    fit = curves.fit_curves(frame, "ns").sort("curve_date")
    assert fit["status"].to_list() == ["fitted"] * len(NS_CASES)
    for row, (b0, b1, b2, tau) in zip(fit.iter_rows(named=True), NS_CASES):
        assert row["beta0"] == pytest.approx(b0, abs=1e-7)
        assert row["beta1"] == pytest.approx(b1, abs=1e-7)
        assert row["beta2"] == pytest.approx(b2, abs=1e-7)
        assert row["tau1"] == pytest.approx(tau, rel=1e-5)
        assert row["beta3"] is None and row["tau2"] is None
        assert row["rmse"] < 1e-9 and row["n_points"] == len(TENORS)


def test_nss_recovers_known_parameters_of_textbook_curves():
    days = [DAY + dt.timedelta(days=i) for i in range(len(NSS_CASES))]
    frame = points({day: textbook_zero(TENORS, *case) for day, case in zip(days, NSS_CASES)})
    fit = curves.fit_curves(frame, "nss").sort("curve_date")
    for row, case in zip(fit.iter_rows(named=True), NSS_CASES):
        found = [row[name] for name in curves.PARAMETERS]
        assert found == pytest.approx(list(case), rel=1e-4, abs=1e-6)
        assert row["rmse"] < 1e-9 and row["max_abs_error"] < 1e-9


def test_noisy_curves_are_fitted_to_within_the_noise():
    rng = np.random.default_rng(7)
    truth = {DAY + dt.timedelta(days=i): textbook_zero(TENORS, *NSS_CASES[i % 2]) for i in range(40)}
    noise = 0.0001  # 1 bp
    frame = points({day: rates + rng.normal(0, noise, len(rates)) for day, rates in truth.items()})
    fit = curves.fit_curves(frame, "nss")
    assert (fit["status"] == "fitted").all()
    # Least squares with 6 parameters over 14 points: the RMSE is about the noise's, never far above it.
    assert fit["rmse"].max() < 1.6 * noise
    fitted = curves.zero_rates(fit, TENORS.tolist()).sort("curve_date", "tenor")
    expected = np.concatenate([truth[day] for day in sorted(truth)])
    # The fitted curve stays within a few noise deviations of the true one (the worst of 560 points, edges included).
    assert np.abs(fitted["zero_rate"].to_numpy() - expected).max() < 5 * noise


def test_a_date_with_too_few_points_gets_a_status_not_an_error():
    short = DAY + dt.timedelta(days=1)
    frame = pl.concat(
        [
            points({DAY: textbook_zero(TENORS, *NSS_CASES[0])}),
            points({short: textbook_zero(TENORS[:5], *NSS_CASES[0])}, tenors=TENORS[:5]),
        ]
    )
    nss = curves.fit_curves(frame, "nss").sort("curve_date")
    assert nss["status"].to_list() == ["fitted", "too_few_points"]
    assert nss.filter(pl.col("curve_date") == short).select(curves.PARAMETERS).row(0) == (None,) * 6
    assert nss["n_points"].to_list() == [len(TENORS), 5]
    ns = curves.fit_curves(frame, "ns")
    assert (ns["status"] == "fitted").all()
    assert curves.zero_rates(nss)["curve_date"].unique().to_list() == [DAY]


@pytest.mark.parametrize("model", ["ns", "nss"])
def test_a_batched_fit_is_the_fit_of_each_date_alone(model):
    rng = np.random.default_rng(11)
    by_date = {}
    for i in range(25):
        b = (rng.normal(0.06, 0.02), rng.normal(-0.02, 0.02), rng.normal(0, 0.03), rng.normal(0, 0.03))
        tau1, tau2 = rng.uniform(0.3, 3), rng.uniform(4, 15)
        # More points than NSS's six parameters: with exactly six the fit can end in a valley flat to the last bit
        # (betas of +-30 to +-70 on one of these curves), where the padding's rounding moves its stop by 1e-5.
        tenors = np.sort(rng.choice(TENORS, size=rng.integers(7, len(TENORS) + 1), replace=False))
        rates = textbook_zero(tenors, *b, tau1=tau1, tau2=tau2) + rng.normal(0, 0.0003, len(tenors))
        by_date[DAY + dt.timedelta(days=i)] = points({DAY + dt.timedelta(days=i): rates}, tenors=tenors)
    batched = curves.fit_curves(pl.concat(by_date.values()), model).sort("curve_date")
    alone = pl.concat([curves.fit_curves(frame, model) for frame in by_date.values()]).sort("curve_date")
    assert batched.select("curve_date", "status", "n_points").equals(alone.select("curve_date", "status", "n_points"))
    # Each curve's refinement runs and stops on its own; only the padding of the batch's matrices differs, which
    # moves the last bits of sums and so where a curve stops within the convergence tolerance.
    np.testing.assert_allclose(
        curves.zero_rates(batched)["zero_rate"].to_numpy(), curves.zero_rates(alone)["zero_rate"].to_numpy(), atol=1e-9
    )
    for name in (*curves.PARAMETERS, "rmse"):
        np.testing.assert_allclose(
            batched[name].fill_null(0.0).to_numpy(), alone[name].fill_null(0.0).to_numpy(), rtol=1e-4, atol=1e-7
        )


def test_on_a_flat_curve_par_zero_and_forward_rates_are_one_rate():
    rate = 0.05
    flat = params_frame(beta0=rate, beta1=0.0, beta2=0.0, tau1=2.0)
    assert curves.zero_rates(flat)["zero_rate"].to_list() == pytest.approx([rate] * 10)
    assert curves.forward_rates(flat)["forward_rate"].to_list() == pytest.approx([rate] * 10)
    assert curves.forward_forward_rates(flat)["forward_rate"].to_list() == pytest.approx([rate] * 9)
    # A continuous rate r is e^r - 1 annually compounded and 2 (e^(r/2) - 1) semiannually.
    annual = curves.par_rates(flat, [1, 2, 5, 10, 30], frequency=1)["par_rate"].to_list()
    assert annual == pytest.approx([math.exp(rate) - 1] * 5, rel=1e-12)
    semiannual = curves.par_rates(flat, [0.5, 1, 2, 5, 10, 30], frequency=2)["par_rate"].to_list()
    assert semiannual == pytest.approx([2 * (math.exp(rate / 2) - 1)] * 6, rel=1e-12)


def test_par_and_forward_rates_from_known_discount_factors():
    b0, b1, b2, tau = 0.06, -0.02, 0.015, 1.8
    fit = params_frame(beta0=b0, beta1=b1, beta2=b2, tau1=tau)
    discount = {t: math.exp(-textbook_zero(t, b0, b1, b2, tau1=tau) * t) for t in (0.5, 1, 1.5, 2, 3)}
    annual_3y = (1 - discount[3]) / (discount[1] + discount[2] + discount[3])
    semiannual_2y = 2 * (1 - discount[2]) / (discount[0.5] + discount[1] + discount[1.5] + discount[2])
    assert curves.par_rates(fit, [3], frequency=1)["par_rate"][0] == pytest.approx(annual_3y, rel=1e-12)
    assert curves.par_rates(fit, [2], frequency=2)["par_rate"][0] == pytest.approx(semiannual_2y, rel=1e-12)
    # The 1y1y forward: ln(D(1) / D(2)) over one year.
    one_year_one_year = curves.forward_forward_rates(fit, [1.0], [2.0])["forward_rate"][0]
    assert one_year_one_year == pytest.approx(math.log(discount[1] / discount[2]), rel=1e-12)
    # The instantaneous forward is -d ln D / dt: a central difference of the textbook zero curve.
    h = 1e-5
    log_discount = lambda t: -textbook_zero(t, b0, b1, b2, tau1=tau) * t  # noqa: E731
    numeric = -(log_discount(3 + h) - log_discount(3 - h)) / (2 * h)
    assert curves.forward_rates(fit, [3.0])["forward_rate"][0] == pytest.approx(numeric, rel=1e-8)


def test_dv01_is_the_finite_difference_price_change_of_a_one_basis_point_shift():
    b = dict(beta0=0.045, beta1=-0.015, beta2=0.02, beta3=-0.01, tau1=1.2, tau2=7.0)
    fit = params_frame(**b)
    maturity, coupon = 7.25, 0.05
    times = np.array([0.25 + 0.5 * k for k in range(15)])  # semiannual, back from 7.25y: 0.25, 0.75, ..., 7.25

    def price(shift):
        zero = textbook_zero(times, **b) + shift
        flows = np.full(len(times), 100 * coupon / 2)
        flows[-1] += 100
        return float((flows * np.exp(-zero * times)).sum())

    row = curves.bullet_dv01(fit, maturity, coupon, frequency=2).row(0, named=True)
    assert row["dirty_price"] == pytest.approx(price(0.0), rel=1e-12)
    assert row["dv01"] == pytest.approx((price(-1e-4) - price(1e-4)) / 2, rel=1e-6)


def test_carry_and_rolldown_of_an_unchanged_curve():
    b0, b1, b2, tau = 0.05, -0.02, 0.01, 1.5
    fit = params_frame(beta0=b0, beta1=b1, beta2=b2, tau1=tau)
    z = lambda t: float(textbook_zero(t, b0, b1, b2, tau1=tau))  # noqa: E731
    horizon = 0.25
    rows = {row["tenor"]: row for row in curves.carry_and_rolldown(fit, horizon, [0.25, 2.0, 10.0]).to_dicts()}
    assert sorted(rows) == [2.0, 10.0]  # a tenor not beyond the horizon has no roll-down
    for tenor, row in rows.items():
        log_return = z(tenor) * tenor - z(tenor - horizon) * (tenor - horizon)
        assert row["total"] == pytest.approx(log_return - z(horizon) * horizon, rel=1e-12)
        assert row["carry"] == pytest.approx((z(tenor) - z(horizon)) * horizon, rel=1e-12)
        assert row["rolldown"] == pytest.approx((z(tenor) - z(tenor - horizon)) * (tenor - horizon), rel=1e-12)
    flat = curves.carry_and_rolldown(params_frame(beta0=0.05, beta1=0.0, beta2=0.0, tau1=1.0), horizon)
    assert flat.select(pl.col("carry", "rolldown").abs().max()).row(0) == pytest.approx((0.0, 0.0), abs=1e-15)


def test_breakeven_is_nominal_minus_real_on_common_dates():
    nominal = pl.concat(
        [
            params_frame(beta0=0.11, beta1=0.0, beta2=0.0, tau1=1.0),
            params_frame(beta0=0.12, beta1=0.0, beta2=0.0, tau1=1.0).with_columns(
                curve_date=pl.lit(dt.date(2024, 1, 3))
            ),
        ]
    )
    real = params_frame(beta0=0.06, beta1=0.0, beta2=0.0, tau1=1.0)
    breakeven = curves.breakeven_inflation(nominal, real, [1.0, 5.0])
    assert breakeven["curve_date"].to_list() == [DAY, DAY]
    assert breakeven["breakeven_rate"].to_list() == pytest.approx([0.05, 0.05])


def test_tesouro_rates_become_continuous_zero_rates_on_business_days_over_252():
    frame = pl.DataFrame(
        {
            "curve_id": "tesouro_direto.br_nominal",
            "curve_date": [DAY] * 3,
            "point": ["LTN 2025-01-01", "NTN-F 2027-01-01", "LTN 2024-01-02"],
            "business_days_to_maturity": [252, 756, 0],
            "rate": [10.0, 11.0, 9.0],
        }
    )
    zero = curves.tesouro_zero_points(frame)
    assert zero["tenor"].to_list() == [1.0, 3.0]  # a point maturing on the curve date is left out
    # (1 + 10%)^(252/252) = e^(z * 1).
    assert zero["zero_rate"].to_list() == pytest.approx([math.log(1.10), math.log(1.11)])
    assert curves.tesouro_zero_points(frame, bond_types=["LTN"])["point"].to_list() == ["LTN 2025-01-01"]


def _treasury_frame(tenors, par_percent):
    return pl.DataFrame(
        {
            "curve_id": "us_treasury.par_nominal",
            "curve_date": [DAY] * len(tenors),
            "point": [f"{t}Y" for t in tenors],
            "tenor_years": [float(t) for t in tenors],
            "rate": par_percent,
        }
    )


def test_treasury_par_yields_bootstrap_to_the_zero_curve_they_came_from():
    b0, b1, b2, tau = 0.045, -0.01, 0.02, 2.0
    zero = lambda t: float(textbook_zero(t, b0, b1, b2, tau1=tau))  # noqa: E731
    tenors = [1 / 12, 0.25, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0]
    par = []
    for t in tenors:
        if t <= 0.5:  # a bill: D = 1 / (1 + y t)
            par.append((math.exp(zero(t) * t) - 1) / t)
        else:  # a par bond paying y/2 every half year
            times = [0.5 * k for k in range(1, int(round(2 * t)) + 1)]
            discounts = [math.exp(-zero(s) * s) for s in times]
            par.append(2 * (1 - discounts[-1]) / sum(discounts))
    frame = _treasury_frame(tenors, [100 * p for p in par])
    bootstrapped = curves.treasury_zero_points(frame)
    assert bootstrapped["zero_rate"].to_list() == pytest.approx([zero(t) for t in tenors], rel=1e-10)


def test_a_flat_par_curve_is_a_flat_zero_curve_and_comes_back_as_par():
    semiannual = 5.0  # % bond-equivalent
    continuous = 2 * math.log(1 + semiannual / 200)
    tenors = [0.5, 1.0, 2.0, 3.0, 5.0, 7.0, 10.0, 20.0, 30.0]
    zero = curves.treasury_zero_points(_treasury_frame(tenors, [semiannual] * len(tenors)))
    assert zero["zero_rate"].to_list() == pytest.approx([continuous] * len(tenors), rel=1e-12)
    fit = curves.fit_curves(zero, "nss")
    par = curves.par_rates(fit, tenors, frequency=2)["par_rate"].to_list()
    assert par == pytest.approx([semiannual / 100] * len(tenors), abs=1e-9)


def _noisy_curve(rng, day, tenors):
    rates = textbook_zero(tenors, 0.05, -0.02, 0.03, -0.02, tau1=1.0, tau2=8.0) + rng.normal(0, 0.0003, len(tenors))
    return points({day: rates}, tenors=tenors)


@pytest.mark.parametrize("model", ["ns", "nss"])
def test_fitting_by_point_count_gives_a_curve_the_same_bits_whatever_is_fitted_with_it(model):
    rng = np.random.default_rng(5)
    alone = _noisy_curve(rng, DAY, TENORS[:9])
    # Two bonds maturing on one day: the curve's rows in two orders.
    tied = pl.concat([alone, alone.head(1).with_columns(zero_rate=pl.col("zero_rate") + 0.001)])
    wider = _noisy_curve(rng, DAY + dt.timedelta(days=1), TENORS)
    reference = curves.fit_curves_by_point_count(tied, model)
    for batch in (pl.concat([wider, tied]), pl.concat([tied.reverse(), wider]).sample(fraction=1.0, seed=3)):
        fitted = curves.fit_curves_by_point_count(batch, model).filter(pl.col("curve_date") == DAY)
        assert fitted.equals(reference)
    # The plain batched fit pads the shorter curve to the wider one's points, which moves its last bits.
    padded = curves.fit_curves(pl.concat([wider, tied]), model).filter(pl.col("curve_date") == DAY)
    assert padded.select(curves.PARAMETERS[:3]).to_numpy() == pytest.approx(
        reference.select(curves.PARAMETERS[:3]).to_numpy(), abs=1e-6
    )


def _vintages(rows):
    """Curve-point vintages of one curve from (curve date, point, rate, release hour on 2 Jan 2024)."""
    return pl.DataFrame(
        [
            {
                "curve_id": "test.curve",
                "curve_date": day,
                "point": point,
                "rate": rate,
                "release_time": dt.datetime(2024, 1, 2, hour, tzinfo=dt.UTC),
            }
            for day, point, rate, hour in rows
        ]
    )


def test_curve_states_are_what_as_of_returns_from_each_release_of_a_date():
    other = DAY - dt.timedelta(days=1)
    vintages = _vintages(
        [
            (DAY, "1Y", 5.0, 10),
            (DAY, "2Y", 5.5, 10),
            (DAY, "2Y", 5.6, 12),  # a correction of one point
            (DAY, "1Y", None, 14),  # a withdrawal of the other
            (other, "1Y", 4.0, 11),
        ]
    )
    states = curves.curve_states(vintages)
    by_state = {
        (day, instant.hour): dict(zip(group["point"], group["rate"]))
        for (day, instant), group in states.group_by("curve_date", "state", maintain_order=True)
    }
    assert by_state == {
        (other, 11): {"1Y": 4.0},
        (DAY, 10): {"1Y": 5.0, "2Y": 5.5},
        (DAY, 12): {"1Y": 5.0, "2Y": 5.6},
        (DAY, 14): {"2Y": 5.6},
    }


def test_breakeven_vintages_are_nominal_minus_real_as_known_at_each_release_of_either():
    def zero(rows):
        return _vintages([(DAY, "5Y", rate, hour) for rate, hour in rows]).select(
            "curve_date", "release_time", tenor=pl.lit(5.0), zero_rate="rate"
        )

    nominal = zero([(0.10, 10), (0.11, 13)])
    real = zero([(0.05, 9), (0.06, 12), (None, 15)])
    breakeven = curves.breakeven_vintages(nominal, real)
    assert [t.hour for t in breakeven["release_time"]] == [9, 10, 12, 13, 15]
    assert breakeven["breakeven_rate"].to_list() == pytest.approx([None, 0.05, 0.04, 0.05, None], nan_ok=False)
