"""Garman-Kohlhagen FX options and the delta-quoted smile turned into strikes.

Spot S is domestic currency per unit of foreign (USD/BRL: BRL per USD, so BRL is domestic, USD foreign); rates r_d
and r_f are continuously compounded; vol and time (years) are annual. Prices are in domestic per unit of foreign
notional. The forward is F = S·exp((r_d − r_f)·T).

Delta conventions (parameters `delta_type` and `premium_adjusted`), with φ = +1 for a call, −1 for a put:
  spot, unadjusted:            φ·exp(−r_f·T)·N(φ·d1)
  forward, unadjusted:         φ·N(φ·d1)
  spot, premium-adjusted:      φ·exp(−r_f·T)·(K/F)·N(φ·d2)
  forward, premium-adjusted:   φ·(K/F)·N(φ·d2)
For USD/BRL a common assumption for tenors up to one year is forward delta, premium not adjusted: that is the
default here, but it is an assumption about the quoting desk, so callers pass the convention their source uses.

Smile from delta quotes: the ATM quote is the delta-neutral straddle (DNS), and 25Δ/10Δ risk reversals and
butterflies are read as "smile strangle" quotes, i.e. vol_call = atm + bf + rr/2 and vol_put = atm + bf − rr/2
(the market-strangle calibration is not done). Each pillar's strike inverts its delta at its own vol.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import polars as pl
from scipy.interpolate import PchipInterpolator
from scipy.optimize import brentq
from scipy.stats import norm

from macro_assets.analytics.frames import require_columns, require_positive
from macro_assets.errors import InvalidInput

DeltaType = Literal["spot", "forward"]

QUOTE_COLUMNS = (
    "quote_date",
    "tenor",
    "time",
    "spot",
    "rate_domestic",
    "rate_foreign",
    "atm_vol",
    "rr25",
    "bf25",
    "rr10",
    "bf10",
)
PILLARS = ("10P", "25P", "ATM", "25C", "10C")
# Pillar → (φ, |delta|, risk reversal column, butterfly column); ATM is the DNS and has no delta of its own.
_WING_PILLARS = {
    "10P": (-1.0, 0.10, "rr10", "bf10"),
    "25P": (-1.0, 0.25, "rr25", "bf25"),
    "25C": (1.0, 0.25, "rr25", "bf25"),
    "10C": (1.0, 0.10, "rr10", "bf10"),
}
# The premium-adjusted call delta's maximum has d2 where σ√T·N(d2) = n(d2); d2 outside ±_D2_BOUND is unreachable
# for any σ√T below it (an FX vol of 800% over a year).
_D2_BOUND = 8.0


def _phi(is_call) -> np.ndarray:
    return np.where(np.asarray(is_call, dtype=bool), 1.0, -1.0)


def forward_rate(spot, rate_domestic, rate_foreign, time) -> np.ndarray:
    return np.asarray(spot, dtype=float) * np.exp((np.asarray(rate_domestic) - np.asarray(rate_foreign)) * time)


def _d1_d2(forward, strike, vol, time) -> tuple[np.ndarray, np.ndarray]:
    total_vol = np.asarray(vol, dtype=float) * np.sqrt(time)
    d1 = (np.log(np.asarray(forward, dtype=float) / strike) + 0.5 * total_vol**2) / total_vol
    return d1, d1 - total_vol


def _require_option_inputs(spot, strike, vol, time) -> None:
    for value, field in ((spot, "spot"), (strike, "strike"), (vol, "vol"), (time, "time")):
        _require_positive_array(value, field)


def garman_kohlhagen(spot, strike, rate_domestic, rate_foreign, vol, time, is_call) -> np.ndarray:
    """Price of a European FX option in domestic currency per unit of foreign notional (arrays broadcast)."""
    _require_option_inputs(spot, strike, vol, time)
    phi = _phi(is_call)
    forward = forward_rate(spot, rate_domestic, rate_foreign, time)
    d1, d2 = _d1_d2(forward, strike, vol, time)
    discount_domestic = np.exp(-np.asarray(rate_domestic) * time)
    return phi * discount_domestic * (forward * norm.cdf(phi * d1) - np.asarray(strike) * norm.cdf(phi * d2))


def gk_delta(
    spot,
    strike,
    rate_domestic,
    rate_foreign,
    vol,
    time,
    is_call,
    delta_type: DeltaType = "forward",
    premium_adjusted: bool = False,
) -> np.ndarray:
    """Garman-Kohlhagen delta in the convention given (see the module docstring for the four formulas)."""
    _require_option_inputs(spot, strike, vol, time)
    phi = _phi(is_call)
    forward = forward_rate(spot, rate_domestic, rate_foreign, time)
    d1, d2 = _d1_d2(forward, strike, vol, time)
    if premium_adjusted:
        delta = phi * (np.asarray(strike) / forward) * norm.cdf(phi * d2)
    else:
        delta = phi * norm.cdf(phi * d1)
    return delta * _delta_discount(rate_foreign, time, delta_type)


def _delta_discount(rate_foreign, time, delta_type: str) -> np.ndarray:
    if delta_type == "spot":
        return np.exp(-np.asarray(rate_foreign, dtype=float) * time)
    if delta_type == "forward":
        return np.ones_like(np.asarray(time, dtype=float))
    raise InvalidInput(f"delta_type: 'spot' or 'forward', got {delta_type!r}")


def dns_strike(forward, vol, time, premium_adjusted: bool = False) -> np.ndarray:
    """Strike of the delta-neutral straddle: call and put deltas cancel, whatever the spot/forward convention."""
    half_variance = 0.5 * np.asarray(vol, dtype=float) ** 2 * np.asarray(time, dtype=float)
    return np.asarray(forward, dtype=float) * np.exp(-half_variance if premium_adjusted else half_variance)


def strike_from_delta(
    delta,
    forward,
    rate_foreign,
    vol,
    time,
    is_call,
    delta_type: DeltaType = "forward",
    premium_adjusted: bool = False,
) -> np.ndarray:
    """Strike whose delta (signed: negative for puts) at `vol` equals `delta`.

    Unadjusted deltas invert in closed form. Premium-adjusted ones are found by Brent's method on log-strike in a
    bracket that holds exactly one root: below the unadjusted strike (paying the premium in foreign lowers the
    delta) and, for calls, above the strike of the largest reachable delta (the adjusted call delta is not
    monotone in the strike, and only the upper branch is the market's).
    """
    phi = _phi(is_call)
    forward, rate_foreign, vol, time, delta, phi = np.broadcast_arrays(
        np.asarray(forward, dtype=float), rate_foreign, vol, time, np.asarray(delta, dtype=float), phi
    )
    forward_delta = delta / _delta_discount(rate_foreign, time, delta_type)
    if np.any((phi * forward_delta <= 0) | (phi * forward_delta >= 1)):
        raise InvalidInput("delta: must have the option's sign and lie strictly inside (-1, 1) after discounting")
    total_vol = vol * np.sqrt(time)
    unadjusted = forward * np.exp(-phi * norm.ppf(phi * forward_delta) * total_vol + 0.5 * total_vol**2)
    if not premium_adjusted:
        return unadjusted
    strikes = np.empty_like(unadjusted)
    for i in np.ndindex(unadjusted.shape):
        strikes[i] = _premium_adjusted_strike(forward_delta[i], forward[i], total_vol[i], phi[i], unadjusted[i])
    return strikes


def _premium_adjusted_strike(forward_delta, forward, total_vol, phi, unadjusted_strike) -> float:
    def excess(log_moneyness: float) -> float:
        d2 = -log_moneyness / total_vol - 0.5 * total_vol
        return phi * np.exp(log_moneyness) * norm.cdf(phi * d2) - forward_delta

    upper = np.log(unadjusted_strike / forward)
    if phi > 0:
        d2_at_max = brentq(lambda d2: total_vol * norm.cdf(d2) - norm.pdf(d2), -_D2_BOUND, _D2_BOUND)
        lower = -total_vol * (d2_at_max + 0.5 * total_vol)
        if excess(lower) < 0:
            raise InvalidInput(
                f"delta: premium-adjusted call delta {forward_delta:g} exceeds the largest reachable at this vol"
            )
    else:
        lower = upper - total_vol
        while excess(lower) < 0:  # the adjusted put delta tends to 0 as the strike falls, so this ends
            lower -= total_vol
    return float(forward * np.exp(brentq(excess, lower, upper, xtol=1e-14)))


def smile_strikes(
    quotes: pl.DataFrame, delta_type: DeltaType = "forward", premium_adjusted: bool = False
) -> pl.DataFrame:
    """Delta-space quotes (one row per quote_date, tenor) → strike-space smile, five pillars per row.

    `quotes` has QUOTE_COLUMNS: vols, risk reversals and butterflies as decimals (0.15, not 15), `time` in years.
    Returns quote_date, tenor, time, forward, pillar, delta, vol, strike, sorted by date, tenor and strike order
    of the pillars. The ATM row's delta is its call delta in the convention given.
    """
    require_columns(quotes, QUOTE_COLUMNS, "fx vol quotes")
    _require_no_nulls(quotes)
    spot, rate_domestic, rate_foreign, atm_vol, time = (
        quotes[column].cast(pl.Float64).to_numpy()
        for column in ("spot", "rate_domestic", "rate_foreign", "atm_vol", "time")
    )
    for values, field in ((spot, "spot"), (time, "time"), (atm_vol, "atm_vol")):
        _require_positive_rows(quotes, values, field)
    forward = forward_rate(spot, rate_domestic, rate_foreign, time)

    pillars = []
    for pillar in PILLARS:
        if pillar == "ATM":
            vol = atm_vol
            strike = dns_strike(forward, vol, time, premium_adjusted)
            delta = gk_delta(spot, strike, rate_domestic, rate_foreign, vol, time, True, delta_type, premium_adjusted)
        else:
            phi, size, risk_reversal, butterfly = _WING_PILLARS[pillar]
            vol = atm_vol + quotes[butterfly].to_numpy() + phi * 0.5 * quotes[risk_reversal].to_numpy()
            _require_positive_rows(quotes, vol, f"vol of pillar {pillar} (atm + bf ± rr/2)")
            delta = np.full_like(vol, phi * size)
            strike = strike_from_delta(delta, forward, rate_foreign, vol, time, phi > 0, delta_type, premium_adjusted)
        pillars.append(
            quotes.select("quote_date", "tenor", "time").with_columns(
                forward=pl.Series(forward),
                pillar=pl.lit(pillar),
                delta=pl.Series(delta),
                vol=pl.Series(vol),
                strike=pl.Series(strike),
            )
        )
    order = pl.col("pillar").replace_strict({pillar: i for i, pillar in enumerate(PILLARS)}, return_dtype=pl.Int8)
    return pl.concat(pillars).sort(pl.col("quote_date"), pl.col("tenor"), order)


def vol_at_strike(smile: pl.DataFrame, strike) -> np.ndarray:
    """Vol at `strike` from one (quote_date, tenor) smile of smile_strikes: monotone cubic (PCHIP) in
    log-moneyness across the pillars, flat beyond the outer pillars rather than extrapolating the cubic."""
    require_columns(smile, ("quote_date", "tenor", "forward", "strike", "vol"), "fx smile")
    if smile.select("quote_date", "tenor").n_unique() != 1:
        raise InvalidInput("fx smile: pass the pillars of one quote_date and tenor")
    _require_positive_array(strike, "strike")
    ordered = smile.sort("strike")
    forward = ordered["forward"][0]
    log_moneyness = np.log(ordered["strike"].to_numpy() / forward)
    interpolator = PchipInterpolator(log_moneyness, ordered["vol"].to_numpy(), extrapolate=False)
    target = np.clip(np.log(np.asarray(strike, dtype=float) / forward), log_moneyness[0], log_moneyness[-1])
    return interpolator(target)


def _require_positive_array(values, field: str) -> None:
    values = np.asarray(values, dtype=float)
    if values.size and not np.all(values > 0):
        require_positive(float(values.flat[np.argmin(np.where(np.isnan(values), -np.inf, values))]), field)


def _require_positive_rows(quotes: pl.DataFrame, values: np.ndarray, field: str) -> None:
    bad = np.flatnonzero(~(values > 0))
    if bad.size:
        row = quotes.row(int(bad[0]), named=True)
        require_positive(float(values[bad[0]]), f"fx vol quotes {row['quote_date']} {row['tenor']}: {field}")


def _require_no_nulls(quotes: pl.DataFrame) -> None:
    counts = quotes.select(pl.col(QUOTE_COLUMNS).null_count()).row(0, named=True)
    missing = [column for column, count in counts.items() if count]
    if missing:
        raise InvalidInput(f"fx vol quotes: null values in column(s) {', '.join(missing)}")
