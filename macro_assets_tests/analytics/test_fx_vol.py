"""Garman-Kohlhagen and the delta-quoted smile, against published examples and the defining identities."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import polars as pl
import pytest

from macro_assets.analytics import fx_vol
from macro_assets.errors import InvalidInput

CONVENTIONS = [("forward", False), ("spot", False), ("forward", True), ("spot", True)]


def test_hull_four_month_pound_call():
    # Hull, Options, Futures and Other Derivatives: 4-month GBP call, S=K=1.6, r=8%, r_f=11%, σ=20% → 0.0639.
    price = fx_vol.garman_kohlhagen(1.6, 1.6, 0.08, 0.11, 0.20, 4 / 12, True)
    assert round(float(price), 4) == 0.0639


def test_haug_six_month_call():
    # Haug, The Complete Guide to Option Pricing Formulas, Garman-Kohlhagen example: S=1.56, X=1.60, T=0.5,
    # r=6%, r_f=8%, σ=12% → call 0.0291.
    price = fx_vol.garman_kohlhagen(1.56, 1.60, 0.06, 0.08, 0.12, 0.5, True)
    assert round(float(price), 4) == 0.0291


def test_put_call_parity():
    spot, strike, r_d, r_f, vol, time = 5.0, np.array([4.5, 5.0, 5.6]), 0.11, 0.05, 0.15, 0.75
    call = fx_vol.garman_kohlhagen(spot, strike, r_d, r_f, vol, time, True)
    put = fx_vol.garman_kohlhagen(spot, strike, r_d, r_f, vol, time, False)
    np.testing.assert_allclose(call - put, spot * math.exp(-r_f * time) - strike * math.exp(-r_d * time), atol=1e-12)


@pytest.mark.parametrize("is_call", [True, False])
def test_spot_delta_is_the_price_derivative(is_call):
    spot, strike, r_d, r_f, vol, time, bump = 5.0, 5.2, 0.11, 0.05, 0.15, 0.5, 1e-5
    up = fx_vol.garman_kohlhagen(spot + bump, strike, r_d, r_f, vol, time, is_call)
    down = fx_vol.garman_kohlhagen(spot - bump, strike, r_d, r_f, vol, time, is_call)
    delta = fx_vol.gk_delta(spot, strike, r_d, r_f, vol, time, is_call, "spot")
    assert float(delta) == pytest.approx(float(up - down) / (2 * bump), abs=1e-8)
    # Premium-adjusted spot delta is the price derivative less the premium converted to foreign currency.
    adjusted = fx_vol.gk_delta(spot, strike, r_d, r_f, vol, time, is_call, "spot", premium_adjusted=True)
    premium = fx_vol.garman_kohlhagen(spot, strike, r_d, r_f, vol, time, is_call)
    assert float(adjusted) == pytest.approx(float(delta - premium / spot), abs=1e-10)
    # Forward delta is the spot delta undiscounted by the foreign rate.
    forward = fx_vol.gk_delta(spot, strike, r_d, r_f, vol, time, is_call, "forward")
    assert float(forward) == pytest.approx(float(delta) * math.exp(r_f * time), abs=1e-12)


def quotes(**overrides) -> pl.DataFrame:
    rows = {
        "quote_date": [dt.date(2024, 3, 1), dt.date(2024, 3, 1), dt.date(2024, 3, 4)],
        "tenor": ["1M", "1Y", "1M"],
        "time": [1 / 12, 1.0, 1 / 12],
        "spot": [4.95, 4.95, 4.97],
        "rate_domestic": [0.105, 0.10, 0.104],
        "rate_foreign": [0.053, 0.049, 0.053],
        "atm_vol": [0.12, 0.14, 0.125],
        "rr25": [0.015, 0.025, 0.016],
        "bf25": [0.003, 0.005, 0.003],
        "rr10": [0.030, 0.050, 0.031],
        "bf10": [0.010, 0.018, 0.011],
    }
    rows.update(overrides)
    return pl.DataFrame(rows)


@pytest.mark.parametrize(("delta_type", "premium_adjusted"), CONVENTIONS)
def test_pillar_strikes_round_trip_their_delta(delta_type, premium_adjusted):
    frame = quotes()
    smile = fx_vol.smile_strikes(frame, delta_type, premium_adjusted)
    assert smile.height == 5 * frame.height
    assert smile["pillar"].to_list()[:5] == list(fx_vol.PILLARS)
    inputs = smile.join(frame, on=["quote_date", "tenor", "time"])
    wings = inputs.filter(pl.col("pillar") != "ATM")
    recomputed = fx_vol.gk_delta(
        wings["spot"].to_numpy(),
        wings["strike"].to_numpy(),
        wings["rate_domestic"].to_numpy(),
        wings["rate_foreign"].to_numpy(),
        wings["vol"].to_numpy(),
        wings["time"].to_numpy(),
        wings["pillar"].str.ends_with("C").to_numpy(),
        delta_type,
        premium_adjusted,
    )
    expected = wings["pillar"].replace_strict({"10P": -0.10, "25P": -0.25, "25C": 0.25, "10C": 0.10}).to_numpy()
    np.testing.assert_allclose(recomputed, expected, atol=1e-10)
    # The strikes increase from the 10Δ put to the 10Δ call in every smile.
    assert smile.group_by("quote_date", "tenor").agg(pl.col("strike").diff().drop_nulls().min())["strike"].min() > 0


@pytest.mark.parametrize(("delta_type", "premium_adjusted"), CONVENTIONS)
def test_atm_is_delta_neutral_straddle(delta_type, premium_adjusted):
    frame = quotes()
    atm = fx_vol.smile_strikes(frame, delta_type, premium_adjusted).filter(pl.col("pillar") == "ATM")
    args = [frame[c].to_numpy() for c in ("spot",)] + [atm["strike"].to_numpy()]
    rest = [frame[c].to_numpy() for c in ("rate_domestic", "rate_foreign", "atm_vol", "time")]
    call = fx_vol.gk_delta(*args, *rest, True, delta_type, premium_adjusted)
    put = fx_vol.gk_delta(*args, *rest, False, delta_type, premium_adjusted)
    np.testing.assert_allclose(call + put, 0, atol=1e-12)


def test_unadjusted_atm_strike_is_forward_times_half_variance():
    frame = quotes()
    atm = fx_vol.smile_strikes(frame).filter(pl.col("pillar") == "ATM")
    t = frame["time"].to_numpy()
    forward = frame["spot"].to_numpy() * np.exp((frame["rate_domestic"] - frame["rate_foreign"]).to_numpy() * t)
    np.testing.assert_allclose(atm["strike"].to_numpy(), forward * np.exp(frame["atm_vol"].to_numpy() ** 2 * t / 2))


def test_pillar_vols_are_smile_strangle():
    smile = fx_vol.smile_strikes(quotes()).filter(pl.col("quote_date") == dt.date(2024, 3, 1), pl.col("tenor") == "1Y")
    assert smile["vol"].to_list() == pytest.approx([0.14 + 0.018 - 0.025, 0.14 + 0.005 - 0.0125, 0.14, 0.1575, 0.183])


def test_vol_at_strike_passes_through_pillars_and_is_flat_beyond():
    smile = fx_vol.smile_strikes(quotes()).filter(pl.col("quote_date") == dt.date(2024, 3, 1), pl.col("tenor") == "1Y")
    np.testing.assert_allclose(fx_vol.vol_at_strike(smile, smile["strike"].to_numpy()), smile["vol"].to_numpy())
    beyond = fx_vol.vol_at_strike(smile, [smile["strike"].min() / 2, smile["strike"].max() * 2])
    np.testing.assert_allclose(beyond, [smile["vol"][0], smile["vol"][-1]])


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"atm_vol": [0.12, -0.14, 0.125]}, "2024-03-01 1Y: atm_vol"),
        ({"spot": [4.95, 4.95, 0.0]}, "2024-03-04 1M: spot"),
        ({"time": [0.0, 1.0, 1 / 12]}, "2024-03-01 1M: time"),
        ({"rr10": [0.030, 0.35, 0.031]}, "2024-03-01 1Y: vol of pillar 10P"),
    ],
)
def test_bad_quotes_name_the_field(overrides, message):
    with pytest.raises(InvalidInput, match=message):
        fx_vol.smile_strikes(quotes(**overrides))


def test_missing_column_is_named():
    with pytest.raises(InvalidInput, match="missing column.*bf10"):
        fx_vol.smile_strikes(quotes().drop("bf10"))


def test_negative_vol_in_price_is_named():
    with pytest.raises(InvalidInput, match="vol: must be positive"):
        fx_vol.garman_kohlhagen(5.0, 5.0, 0.1, 0.05, -0.1, 1.0, True)
