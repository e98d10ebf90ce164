"""Curve fits per second of the batched Nelson-Siegel(-Svensson) fitter over a synthetic daily history, beside the
reference package nelson-siegel-svensson (calibrate_nss_ols, one date at a time) on the same dates when it is
installed (`pip install nelson-siegel-svensson==0.5.0`; the figure is left out, and said so, when it is not).

    python benchmarks/bench_curve_fits.py [--dates N] [--noise BP] [--seed S]

The history: N business days (default 2,500, ten years) of a 12-tenor curve (1 month to 30 years, the Treasury's
tenors), NSS parameters following a random walk around a realistic level, slope and curvature, plus Gaussian noise
(default 2 bp). A failed fit is one that raises or returns a non-finite parameter; the batched fitter's status
must be "fitted" on every date. The RMSE columns compare the quality of the fits.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
import warnings

import numpy as np
import polars as pl

from macro_assets.analytics import curves

TENORS = np.array([1 / 12, 2 / 12, 3 / 12, 0.5, 1, 2, 3, 5, 7, 10, 20, 30])


def synthetic_history(dates: int, noise_bp: float, seed: int) -> tuple[pl.DataFrame, np.ndarray]:
    """Zero rates (continuous, decimal) of `dates` curve dates, long (curve_id, curve_date, tenor, zero_rate), and
    the same as a (dates, tenors) matrix."""
    rng = np.random.default_rng(seed)
    steps = rng.normal(0, [0.0008, 0.0008, 0.0015, 0.0015, 0.01, 0.03], (dates, 6))
    walk = np.cumsum(steps, axis=0)
    beta0 = 0.045 + walk[:, 0]
    beta1 = -0.015 + walk[:, 1]
    beta2 = 0.01 + walk[:, 2]
    beta3 = -0.01 + walk[:, 3]
    tau1 = np.clip(1.5 * np.exp(walk[:, 4]), 0.3, 5)
    tau2 = np.clip(8.0 * np.exp(walk[:, 5]), 5.5, 25)
    t = TENORS[None, :]
    first = (1 - np.exp(-t / tau1[:, None])) / (t / tau1[:, None])
    second = (1 - np.exp(-t / tau2[:, None])) / (t / tau2[:, None])
    rates = (
        beta0[:, None]
        + beta1[:, None] * first
        + beta2[:, None] * (first - np.exp(-t / tau1[:, None]))
        + beta3[:, None] * (second - np.exp(-t / tau2[:, None]))
        + rng.normal(0, noise_bp * 1e-4, (dates, len(TENORS)))
    )
    days = pl.date_range(pl.date(2015, 1, 1), pl.date(2045, 1, 1), "1d", eager=True)
    days = days.filter(days.dt.weekday() <= 5).head(dates)
    frame = pl.DataFrame(
        {
            "curve_id": "synthetic.par",
            "curve_date": days.gather(np.repeat(np.arange(dates), len(TENORS))),
            "tenor": np.tile(TENORS, dates),
            "zero_rate": rates.ravel(),
        }
    )
    return frame, rates


def batched(frame: pl.DataFrame, model: str, repeat: int) -> dict:
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        fit = curves.fit_curves(frame, model)
        timings.append(time.perf_counter() - started)
    finite = fit.select(pl.all_horizontal(pl.col(["beta0", "beta1", "beta2", "tau1"]).is_finite())).to_series()
    failed = int((fit["status"] != curves.FITTED).sum() + (~finite.fill_null(False)).sum())
    return {"seconds": min(timings), "fits": fit.height, "failed": failed, "rmse": fit["rmse"].to_numpy()}


def reference(rates: np.ndarray) -> dict | None:
    try:
        from nelson_siegel_svensson.calibrate import calibrate_nss_ols
    except ImportError:
        return None
    failed, rmse = 0, []
    started = time.perf_counter()
    with _quiet():
        for row in rates:
            try:
                curve, _ = calibrate_nss_ols(TENORS.copy(), row)
                errors = curve(TENORS.copy()) - row
            except Exception:  # noqa: BLE001 - counting the reference's failures, whatever they raise, is the point
                failed += 1
                continue
            if not np.isfinite([curve.beta0, curve.beta1, curve.beta2, curve.beta3, curve.tau1, curve.tau2]).all():
                failed += 1
                continue
            rmse.append(float(np.sqrt(np.mean(errors**2))))
    return {"seconds": time.perf_counter() - started, "fits": len(rates), "failed": failed, "rmse": np.array(rmse)}


@contextlib.contextmanager
def _quiet():
    """Silences the reference's numpy warnings and the LAPACK messages its failing lstsq prints (to stdout)."""
    sys.stdout.flush()
    saved = os.dup(1)
    with open(os.devnull, "w") as devnull, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        os.dup2(devnull.fileno(), 1)
        try:
            yield
        finally:
            os.dup2(saved, 1)
            os.close(saved)


def line(name: str, result: dict) -> str:
    rate = result["fits"] / result["seconds"]
    median, worst = np.percentile(result["rmse"] * 1e4, [50, 99])
    return (
        f"{name:<38} {result['fits']:>6,} dates  {result['seconds']:>8.3f} s  {rate:>9,.0f} fits/s"
        f"  failed {result['failed']:>4}  RMSE median {median:.2f} bp, p99 {worst:.2f} bp"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dates", type=int, default=2500)
    parser.add_argument("--noise", type=float, default=2.0, help="noise standard deviation, basis points")
    parser.add_argument("--seed", type=int, default=20240101)
    parser.add_argument("--repeat", type=int, default=3, help="batched runs; the fastest is reported")
    args = parser.parse_args()
    frame, rates = synthetic_history(args.dates, args.noise, args.seed)
    print(f"synthetic history: {args.dates:,} dates x {len(TENORS)} tenors, noise {args.noise} bp")
    print(line("batched NSS (macro_assets.analytics)", batched(frame, "nss", args.repeat)))
    print(line("batched NS (macro_assets.analytics)", batched(frame, "ns", args.repeat)))
    found = reference(rates)
    if found is None:
        print("nelson-siegel-svensson is not installed: its calibrate_nss_ols figure is left out")
    else:
        print(line("nelson-siegel-svensson calibrate_nss_ols", found))


if __name__ == "__main__":
    main()
