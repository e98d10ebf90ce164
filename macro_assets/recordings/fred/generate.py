"""Deterministic generator of the FRED/ALFRED recordings (GDP derived from the verbatim sample; every other catalog
series synthetic: revised monthly, weekly and quarterly series with their vintages, market series with one vintage
each), replayed offline.

Run ``python -m macro_assets.recordings.fred.generate [OUT_DIR]`` (default: this directory); it rewrites
``manifest.json`` and every body byte for byte. No network: every random draw comes from a ``random.Random`` seeded
per series with a fixed string (stdlib Mersenne Twister, stable across Python versions), the calendars from
``holidays`` (``financial_holidays("FED")``, ``country_holidays("US")``).

The only input file is the verbatim ALFRED GDP sample in ``verbatim/`` (hand-copied, not generated; see
``verbatim/README.md``), which this generator never writes.

Body byte conventions (see README.md): compact JSON (``separators=(",", ":")``), key order as the real API sends
it, no trailing newline (the verbatim samples are body strings with surrounding whitespace stripped, so a trailing
newline is not part of the known format); strings escape ``/`` as ``\\/`` like the real API (no observation field
contains one).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path

import holidays

from macro_assets.catalog.calendars import add_months
from macro_assets.recordings.common import (
    ONE_DAY,
    bridge,
    days,
    exchange,
    generator_main,
    manifest_bytes,
    month_starts,
    nearest_index,
    write_files,
)
from macro_assets.sources.fred import ALL_VINTAGES, OBSERVATIONS_URL, SOURCE

HERE = Path(__file__).resolve().parent
GDP_VERBATIM = HERE / "verbatim" / "series_observations_GDP_realtime_1776-07-04_to_2019-01-01.json"
SEED = "macro_assets.recordings/2019-01-07"  # the seed the BCB SGS and FRED recordings were first generated with
WINDOW_START = dt.date(2015, 1, 1)
WINDOW_END = dt.date(2018, 12, 31)
WINDOW = f"{WINDOW_START.isoformat()}_{WINDOW_END.isoformat()}"
OPEN_END = ALL_VINTAGES["realtime_end"]  # the realtime_end of the current vintage

HEADERS = {"Content-Type": "application/json; charset=UTF-8"}
# The query parameters that bound the observation window: the replay answers a request for a window inside the
# recorded one with that recording (see macro_assets.http.ReplayTransport).
WINDOW_PARAMS = {"start": "observation_start", "end": "observation_end", "format": "%Y-%m-%d"}

GDP_CAPTURED_AT = "2019-01-01T23:00:00Z"  # the verbatim sample's realtime_end, 2019-01-01
CAPTURED_AT = "2019-01-07T14:00:00Z"
CAPTURE_DATE = dt.date(2019, 1, 7)

YEARS = range(2014, 2020)
FED_HOLIDAYS = holidays.financial_holidays("FED", years=YEARS)  # Federal Reserve / H.15 calendar
US_HOLIDAYS = holidays.country_holidays("US", years=YEARS)  # federal (observed) - BLS release shifts

DGS10_ANCHORS = [
    (dt.date(2015, 1, 2), 2.12),
    (dt.date(2015, 6, 10), 2.49),
    (dt.date(2015, 12, 31), 2.27),
    (dt.date(2016, 7, 8), 1.37),
    (dt.date(2016, 12, 30), 2.45),
    (dt.date(2017, 12, 29), 2.40),
    (dt.date(2018, 5, 17), 3.11),
    (dt.date(2018, 11, 8), 3.24),
    (dt.date(2018, 12, 31), 2.69),
]


def rng_for(name: str) -> random.Random:
    """One independent, stable RNG stream per series (str seeds hash with SHA-512, not hash())."""
    return random.Random(f"{SEED}/{name}")


def month_index(d: dt.date) -> int:
    return d.year * 12 + d.month - 1


def fed_business_day(d: dt.date) -> bool:
    return d.weekday() < 5 and d not in FED_HOLIDAYS


def next_fed_business_day(d: dt.date) -> dt.date:
    d += ONE_DAY
    while not fed_business_day(d):
        d += ONE_DAY
    return d


def bls_first_friday_release(m: dt.date) -> dt.date:
    """Employment Situation: first Friday of M+1.

    If that Friday is a federal holiday: New Year's Day (the 1st) -> the next Friday (as Jan-2016),
    otherwise the previous weekday (as Thursday 2015-07-02 for the observed Independence Day).
    """
    d = add_months(m, 1)
    while d.weekday() != 4:
        d += ONE_DAY
    if d in US_HOLIDAYS:
        if d.day == 1:
            d += dt.timedelta(days=7)
        else:
            d -= ONE_DAY
            while d in US_HOLIDAYS or d.weekday() >= 5:
                d -= ONE_DAY
    return d


def alfred_rows(
    obs_dates: list[dt.date],
    release: dict[dt.date, dt.date],
    vintages: list[dt.date],
    value: Callable[[dt.date, dt.date], str],
) -> list[dict]:
    """ALFRED output_type=1: one row per (date, real-time period); equal consecutive values merge.

    Each observation first appears at its release date; the last interval is open (9999-12-31).
    """
    rows = []
    for od in obs_dates:
        current = None  # [start, value]
        for v in vintages:
            if v < release[od]:
                continue
            val = value(od, v)
            if current is None:
                current = [v, val]
            elif val != current[1]:
                rows.append((od, current[0], v - ONE_DAY, current[1]))
                current = [v, val]
        rows.append((od, current[0], None, current[1]))
    return [
        {
            "realtime_start": s.isoformat(),
            "realtime_end": OPEN_END if e is None else e.isoformat(),
            "date": od.isoformat(),
            "value": val,
        }
        for od, s, e, val in rows
    ]


@dataclass(frozen=True)
class SeasonallyRevised:
    """A monthly series whose only revisions are the annual seasonal-factor ones, in integer units of 10**-decimals.

    base: first-print value per month; revisions: (revision year, month) -> change; published: revision year -> the
    release that publishes it.
    """

    base: dict[dt.date, int]
    release: dict[dt.date, dt.date]
    revisions: dict[tuple[int, dt.date], int]
    published: dict[int, dt.date]
    decimals: int

    def value(self, m: dt.date, v: dt.date) -> str:
        units = self.base[m] + sum(self.revisions.get((y, m), 0) for y, vd in self.published.items() if vd <= v)
        return f"{units / 10**self.decimals:.{self.decimals}f}"

    def rows(self) -> list[dict]:
        obs = [m for m in self.base if self.release[m] <= CAPTURE_DATE]
        vintages = sorted({self.release[m] for m in obs})
        return alfred_rows(obs, self.release, vintages, self.value)


@dataclass(frozen=True)
class Payrolls:
    """PAYEMS: first and second print errors, the third print the base; an annual benchmark from each February.

    errors: month -> (first print error, second print error); benchmarks: year -> (level shift, month index the
    wedge starts from, small SA revisions per month); published: year -> the release that publishes its benchmark.
    """

    base: dict[dt.date, int]
    release: dict[dt.date, dt.date]
    errors: dict[dt.date, tuple[int, int]]
    benchmarks: dict[int, tuple[int, int, dict[dt.date, int]]]
    published: dict[int, dt.date]

    @cached_property
    def release_dates(self) -> list[dt.date]:
        return sorted(set(self.release.values()))

    def value(self, m: dt.date, v: dt.date) -> str:
        k = sum(1 for r in self.release_dates if self.release[m] <= r <= v) - 1  # releases since the first
        x = self.base[m] + (self.errors[m][k] if k < 2 else 0)
        for y, vd in self.published.items():
            if vd <= v:
                shift, w0, sa = self.benchmarks[y]
                w = min(max((month_index(m) - w0) / 12.0, 0.0), 1.0)
                x += round(shift * w) + sa.get(m, 0)
        return str(x)

    def rows(self) -> list[dict]:
        obs = [m for m in self.base if self.release[m] <= CAPTURE_DATE]
        vintages = [r for r in self.release_dates if r <= CAPTURE_DATE]
        return alfred_rows(obs, self.release, vintages, self.value)


def gdp_rows() -> list[dict]:
    """What ALFRED returns for our request if called on 2019-01-01, derived from the verbatim clip."""
    sample = json.loads(GDP_VERBATIM.read_text(encoding="utf-8"))
    assert sample["realtime_end"] == "2019-01-01"
    out = []
    for o in sample["observations"]:
        if not (WINDOW_START.isoformat() <= o["date"] <= WINDOW_END.isoformat()):
            continue
        row = dict(o)  # key order and value strings untouched
        if row["realtime_end"] == "2019-01-01":
            row["realtime_end"] = OPEN_END
        out.append(row)
    return out


def cpi_draws() -> tuple[random.Random, list[dt.date], dict[dt.date, int], dict[dt.date, dt.date]]:
    """(the CPI stream after its path and release draws, months, base values, release days)."""
    rng = rng_for("fred_CPIAUCSL")
    months = month_starts(WINDOW_START, WINDOW_END)
    anchors = [
        (0, math.log(234.75)),
        (11, math.log(237.8)),
        (23, math.log(242.6)),
        (35, math.log(247.8)),
        (47, math.log(252.8)),
    ]
    path = bridge(rng, anchors, sigma=0.0015)
    base = {m: round(math.exp(x) * 1000) for m, x in zip(months, path)}  # thousandths
    release = {}
    for m in months:  # a weekday in the 2nd/3rd week of M+1
        nxt = add_months(m, 1)
        cands = [d for d in days(nxt.replace(day=10), nxt.replace(day=18)) if d.weekday() < 5 and d not in US_HOLIDAYS]
        release[m] = rng.choice(cands)
    return rng, months, base, release


@cache
def cpi_release() -> dict[dt.date, dt.date]:
    """The CPI release days (core CPI comes out in the same release)."""
    return cpi_draws()[3]


def cpi_rows() -> list[dict]:
    rng, months, base, release = cpi_draws()
    # Annual seasonal-factor revision with the January CPI (released in February of year Y):
    # revises the prior five years of SA data, i.e. every earlier observation inside our window.
    revisions = {}
    for y in (2016, 2017, 2018):  # the February-2019 revision comes after the capture
        for m in months:
            if dt.date(y - 5, 1, 1) <= m <= dt.date(y - 1, 12, 1):
                sd = 25 if m >= dt.date(y - 1, 1, 1) else 12
                revisions[(y, m)] = round(rng.gauss(0.0, sd))
    published = {y: release[dt.date(y, 1, 1)] for y in (2016, 2017, 2018)}
    return SeasonallyRevised(base, release, revisions, published, decimals=3).rows()


def payems_rows() -> list[dict]:
    rng = rng_for("fred_PAYEMS")
    months = month_starts(WINDOW_START, WINDOW_END)
    base = dict(zip(months, (round(x) for x in bridge(rng, [(0, 140600.0), (47, 150200.0)], sigma=55.0))))
    release = {m: bls_first_friday_release(m) for m in months}
    # first print and second print errors; the third print is the (pre-benchmark) base value
    errors = {m: (round(rng.gauss(0.0, 35.0)), round(rng.gauss(0.0, 18.0))) for m in months}
    # Annual benchmark with the January report (first Friday of February of year Y): level shift B
    # wedged in from April of Y-2 (0) to March of Y-1 (full) and carried forward, plus small
    # seasonal-adjustment revisions to the previously published months.
    benchmarks = {}
    for y in (2016, 2017, 2018):  # the February-2019 benchmark comes after the capture
        shift = round(rng.gauss(0.0, 110.0))
        wedge_start = month_index(dt.date(y - 2, 3, 1))
        sa = {m: round(rng.gauss(0.0, 4.0)) for m in months if m <= dt.date(y - 1, 12, 1)}
        benchmarks[y] = (shift, wedge_start, sa)
    published = {y: release[dt.date(y, 1, 1)] for y in benchmarks}
    return Payrolls(base, release, errors, benchmarks, published).rows()


def unrate_rows() -> list[dict]:
    rng = rng_for("fred_UNRATE")
    months = month_starts(WINDOW_START, WINDOW_END)
    anchors = [(0, 5.7), (11, 5.0), (23, 4.7), (35, 4.1), (47, 3.9)]
    base = dict(zip(months, (round(x * 10) for x in bridge(rng, anchors, sigma=0.07))))  # tenths
    release = {m: bls_first_friday_release(m) for m in months}
    # Annual SA revision with the December report (January of year Y): prior five years, +-0.1 here and there.
    revisions = {}
    for y in (2016, 2017, 2018, 2019):
        for m in months:
            if dt.date(y - 5, 1, 1) <= m <= dt.date(y - 1, 11, 1) and rng.random() < 0.25:
                revisions[(y, m)] = rng.choice((-1, 1))
    published = {y: release[dt.date(y - 1, 12, 1)] for y in (2016, 2017, 2018, 2019)}
    return SeasonallyRevised(base, release, revisions, published, decimals=1).rows()


# ------------------------------------------------------------------------------------------ the scale-up series
NYSE_HOLIDAYS = holidays.financial_holidays("XNYS", years=YEARS)  # CBOE (VIX) and NYMEX (WTI) sessions
SOFR_START = dt.date(2018, 4, 2)  # the first SOFR the New York Fed published (on 2018-04-03)
# Effective fed funds: (first day of a FOMC target range, typical effective rate).
EFFR_PATH = [
    (dt.date(2014, 12, 1), 0.12),
    (dt.date(2015, 12, 17), 0.36),
    (dt.date(2016, 12, 15), 0.66),
    (dt.date(2017, 3, 16), 0.91),
    (dt.date(2017, 6, 15), 1.16),
    (dt.date(2017, 12, 14), 1.42),
    (dt.date(2018, 3, 22), 1.68),
    (dt.date(2018, 6, 14), 1.91),
    (dt.date(2018, 9, 27), 2.18),
    (dt.date(2018, 12, 20), 2.40),
]
Anchors = list[tuple[dt.date, float]]
D = dt.date
MARKET_ANCHORS: dict[str, Anchors] = {
    "DGS3MO": [(D(2015, 1, 2), 0.02), (D(2015, 12, 31), 0.16), (D(2016, 12, 30), 0.51), (D(2017, 12, 29), 1.39),
               (D(2018, 12, 31), 2.45)],
    "DTB3": [(D(2015, 1, 2), 0.03), (D(2015, 12, 31), 0.16), (D(2016, 12, 30), 0.50), (D(2017, 12, 29), 1.37),
             (D(2018, 12, 31), 2.36)],
    "DGS2": [(D(2015, 1, 2), 0.66), (D(2015, 12, 31), 1.06), (D(2016, 7, 8), 0.58), (D(2016, 12, 30), 1.20),
             (D(2017, 12, 29), 1.89), (D(2018, 11, 8), 2.98), (D(2018, 12, 31), 2.48)],
    "DGS5": [(D(2015, 1, 2), 1.61), (D(2015, 12, 31), 1.76), (D(2016, 7, 8), 0.94), (D(2016, 12, 30), 1.93),
             (D(2017, 12, 29), 2.20), (D(2018, 11, 8), 3.09), (D(2018, 12, 31), 2.51)],
    "DGS30": [(D(2015, 1, 2), 2.60), (D(2015, 1, 30), 2.25), (D(2015, 12, 31), 3.01), (D(2016, 7, 8), 2.11),
              (D(2016, 12, 30), 3.06), (D(2017, 12, 29), 2.74), (D(2018, 11, 8), 3.45), (D(2018, 12, 31), 3.02)],
    "T5YIE": [(D(2015, 1, 2), 1.30), (D(2015, 12, 31), 1.22), (D(2016, 2, 11), 0.95), (D(2016, 12, 30), 1.83),
              (D(2017, 12, 29), 1.96), (D(2018, 5, 17), 2.10), (D(2018, 12, 31), 1.59)],
    "T10YIE": [(D(2015, 1, 2), 1.66), (D(2015, 12, 31), 1.54), (D(2016, 2, 11), 1.20), (D(2016, 12, 30), 1.97),
               (D(2017, 12, 29), 1.98), (D(2018, 5, 17), 2.18), (D(2018, 12, 31), 1.71)],
    "SOFR": [(SOFR_START, 1.80), (D(2018, 6, 29), 2.09), (D(2018, 9, 28), 2.25), (D(2018, 12, 28), 2.46),
             (D(2018, 12, 31), 3.15)],
    "BAMLH0A0HYM2": [(D(2015, 1, 2), 5.00), (D(2015, 12, 31), 6.95), (D(2016, 2, 11), 8.87), (D(2016, 12, 30), 4.09),
                     (D(2017, 12, 29), 3.43), (D(2018, 10, 3), 3.16), (D(2018, 12, 31), 5.33)],
    "BAMLC0A0CM": [(D(2015, 1, 2), 1.35), (D(2016, 2, 11), 2.15), (D(2016, 12, 30), 1.29), (D(2017, 12, 29), 0.95),
                   (D(2018, 12, 31), 1.53)],
    "VIXCLS": [(D(2015, 1, 2), 17.79), (D(2015, 8, 24), 40.74), (D(2015, 12, 31), 18.21), (D(2016, 2, 11), 28.14),
               (D(2016, 12, 30), 14.04), (D(2017, 12, 29), 11.04), (D(2018, 2, 5), 37.32), (D(2018, 12, 24), 36.07),
               (D(2018, 12, 31), 25.42)],
    "DCOILWTICO": [(D(2015, 1, 2), 52.72), (D(2015, 6, 10), 61.4), (D(2015, 12, 31), 37.04), (D(2016, 2, 11), 26.21),
                   (D(2016, 12, 30), 53.75), (D(2017, 6, 21), 42.5), (D(2017, 12, 29), 60.46), (D(2018, 10, 3), 76.4),
                   (D(2018, 12, 24), 42.53), (D(2018, 12, 31), 45.15)],
    "DCOILBRENTEU": [(D(2015, 1, 2), 55.27), (D(2015, 12, 31), 36.61), (D(2016, 1, 20), 26.01),
                     (D(2016, 12, 30), 54.96), (D(2017, 12, 29), 66.73), (D(2018, 10, 3), 86.07),
                     (D(2018, 12, 24), 50.57), (D(2018, 12, 31), 50.57)],
    "DTWEXBGS": [(D(2015, 1, 2), 108.0), (D(2015, 12, 31), 119.5), (D(2016, 1, 20), 122.0), (D(2016, 12, 30), 123.0),
                 (D(2017, 12, 29), 113.5), (D(2018, 2, 1), 110.0), (D(2018, 11, 12), 117.5), (D(2018, 12, 31), 116.5)],
}  # fmt: skip
LOG_WALKS = {"VIXCLS", "DCOILWTICO", "DCOILBRENTEU", "DTWEXBGS", "BAMLH0A0HYM2", "BAMLC0A0CM"}
DAILY_SIGMA = {"DTWEXBGS": 0.003, "VIXCLS": 0.03, "DCOILWTICO": 0.017, "DCOILBRENTEU": 0.016,
               "BAMLH0A0HYM2": 0.015, "BAMLC0A0CM": 0.012, "DGS3MO": 0.006, "DTB3": 0.006, "SOFR": 0.01,
               "T5YIE": 0.02, "T10YIE": 0.018}  # fmt: skip


def weekdays_in(start: dt.date, end: dt.date) -> list[dt.date]:
    return [d for d in days(start, end) if d.weekday() < 5]


def daily_levels(name: str, anchors: Anchors, sigma: float, closed, start: dt.date = WINDOW_START) -> dict:
    """A daily level on the open weekdays from `start`, a random walk (in logs for LOG_WALKS) pinned to anchors."""
    bd = [d for d in weekdays_in(start, WINDOW_END) if d not in closed]
    log = name in LOG_WALKS
    pins = [(nearest_index(bd, d), math.log(v) if log else v) for d, v in anchors]
    path = bridge(rng_for(f"fred_{name}"), pins, sigma)
    return dict(zip(bd, (math.exp(x) for x in path) if log else path))


def market_rows(
    values: dict[dt.date, str], release: Callable[[dt.date], dt.date], start: dt.date = WINDOW_START
) -> list[dict]:
    """Market data: a row for every weekday from `start`, "." where the market was closed, one vintage each."""
    return [
        {
            "realtime_start": release(d).isoformat(),
            "realtime_end": OPEN_END,
            "date": d.isoformat(),
            "value": values.get(d, "."),
        }
        for d in weekdays_in(start, WINDOW_END)
        if release(d) < CAPTURE_DATE
    ]


def formatted(levels: dict[dt.date, float], decimals: int = 2) -> dict[dt.date, str]:
    return {d: f"{x:.{decimals}f}" for d, x in levels.items()}


# A TIPS yield is its nominal twin less the breakeven inflation the market prices in.
TIPS = {"DFII5": ("DGS5", "T5YIE"), "DFII10": ("DGS10", "T10YIE")}
BILLS = {"DGS3MO", "DTB3"}  # no negative bill yields in 2015-2018, near zero in 2015


def yield_levels(name: str) -> dict[dt.date, float]:
    """A Treasury yield, FED business days: a walk pinned to anchors; TIPS as nominal less breakeven."""
    if name in TIPS:
        nominal, breakeven = (yield_levels(part) for part in TIPS[name])
        return {d: nominal[d] - breakeven[d] for d in nominal}
    anchors = DGS10_ANCHORS if name == "DGS10" else MARKET_ANCHORS[name]
    levels = daily_levels(name, anchors, DAILY_SIGMA.get(name, 0.035), FED_HOLIDAYS)
    return {d: max(x, 0.0) for d, x in levels.items()} if name in BILLS else levels


def treasury_values(name: str) -> dict[dt.date, str]:
    """A Treasury constant-maturity (or TIPS) yield as H.15 prints it, 2 decimals."""
    return formatted(yield_levels(name))


def spread_values(long: str, short: str) -> dict[dt.date, str]:
    """A spread FRED computes from two published yields (T10Y2Y, T10YIE, T5YIE): their difference, 2 decimals."""
    a, b = treasury_values(long), treasury_values(short)
    return {d: f"{float(a[d]) - float(b[d]):.2f}" for d in a}


def forward_breakeven_values() -> dict[dt.date, str]:
    """T5YIFR: the 5-year breakeven 5 years ahead, FRED's formula on the 5- and 10-year nominal and TIPS yields."""
    n5, n10, r5, r10 = (treasury_values(s) for s in ("DGS5", "DGS10", "DFII5", "DFII10"))
    out = {}
    for d in n10:
        ten = (1 + (float(n10[d]) - float(r10[d])) / 100) ** 10
        five = (1 + (float(n5[d]) - float(r5[d])) / 100) ** 5
        out[d] = f"{((ten / five) ** 0.2 - 1) * 100:.2f}"
    return out


def effective_fed_funds_rows() -> list[dict]:
    """DFF: a value for every calendar day (a weekend or holiday carries the last business day's rate), the day's
    rate a cent or two around the FOMC path, published the next FED business day."""
    rng = rng_for("fred_DFF")
    rows, rate = [], None
    for d in days(WINDOW_START, WINDOW_END):
        if fed_business_day(d) or rate is None:
            level = [v for start, v in EFFR_PATH if start <= d][-1]
            rate = level + rng.choice((-0.01, 0.0, 0.0, 0.0, 0.01)) - (0.03 if d == month_end(d) else 0.0)
        rows.append({"realtime_start": next_fed_business_day(d).isoformat(), "realtime_end": OPEN_END,
                     "date": d.isoformat(), "value": f"{rate:.2f}"})  # fmt: skip
    return rows


def month_end(d: dt.date) -> dt.date:
    return add_months(d.replace(day=1), 1) - ONE_DAY


def following_weekday(d: dt.date, weekday: int, closed) -> dt.date:
    """The given weekday of the week after d's (the next open day if that one is closed): weekly batches such as
    the H.10 dollar index (Monday) and EIA spot prices (Wednesday)."""
    out = d + dt.timedelta(days=7 - d.weekday() + weekday)
    while out in closed or out.weekday() >= 5:
        out += ONE_DAY
    return out


def us_business_day_from(d: dt.date) -> dt.date:
    """d, or the next weekday that is not a federal holiday (a statistical release's day)."""
    while d.weekday() >= 5 or d in US_HOLIDAYS:
        d += ONE_DAY
    return d


def release_around(months_after: int, day: int, weekday: int | None = None) -> Callable[[dt.date], dt.date]:
    """A monthly release on `day` of the month `months_after` the period's (or the next `weekday` from it)."""

    def release(m: dt.date) -> dt.date:
        d = add_months(m, months_after).replace(day=day)
        while weekday is not None and d.weekday() != weekday:
            d += ONE_DAY
        return us_business_day_from(d)

    return release


def business_day_of_month(n: int) -> Callable[[dt.date], dt.date]:
    """The n-th federal business day of the next month (the Monthly Treasury Statement: the 8th)."""

    def release(m: dt.date) -> dt.date:
        d = us_business_day_from(add_months(m, 1))
        for _ in range(n - 1):
            d = us_business_day_from(d + ONE_DAY)
        return d

    return release


@dataclass(frozen=True)
class Revised:
    """A series revised at its next releases and by annual revisions, in integer units of 10**-decimals.

    base: the settled value per date; release: each date's first release; schedule: every release of the series;
    errors: date -> the error of its first, second, ... print (later prints are the settled value); revisions:
    (revision year, date) -> change; published: revision year -> the release that publishes it.
    """

    base: dict[dt.date, int]
    release: dict[dt.date, dt.date]
    schedule: list[dt.date]
    errors: dict[dt.date, tuple[int, ...]]
    revisions: dict[tuple[int, dt.date], int]
    published: dict[int, dt.date]
    decimals: int

    def value(self, d: dt.date, v: dt.date) -> str:
        k = sum(1 for r in self.schedule if self.release[d] <= r <= v) - 1  # releases since the first
        error = self.errors.get(d, ())
        units = self.base[d] + (error[k] if k < len(error) else 0)
        units += sum(self.revisions.get((y, d), 0) for y, vd in self.published.items() if vd <= v)
        return str(units) if self.decimals == 0 else f"{units / 10**self.decimals:.{self.decimals}f}"

    def rows(self) -> list[dict]:
        obs = [d for d in self.base if self.release[d] <= CAPTURE_DATE]
        return alfred_rows(obs, self.release, [r for r in self.schedule if r <= CAPTURE_DATE], self.value)


@dataclass(frozen=True)
class Series:
    """How a revised series is drawn: its level path, when each date is first released, how far its next prints
    miss the settled value, and its annual revision (the month it comes out, how many years back it reaches and
    its size), all in units of 10**-decimals."""

    name: str
    anchors: Anchors
    sigma: float
    decimals: int
    release: Callable[[dt.date], dt.date]
    print_errors: tuple[float, ...] = ()
    annual: tuple[int, int, float] | None = None
    log: bool = False
    dates: Callable[[], list[dt.date]] = lambda: month_starts(WINDOW_START, WINDOW_END)

    def rows(self) -> list[dict]:
        rng = rng_for(f"fred_{self.name}")
        dates = self.dates()
        pins = [(nearest_index(dates, d), math.log(v) if self.log else v) for d, v in self.anchors]
        path = bridge(rng, pins, self.sigma)
        scale = 10**self.decimals
        base = {d: round((math.exp(x) if self.log else x) * scale) for d, x in zip(dates, path)}
        release = {d: self.release(d) for d in dates}
        schedule = sorted(set(release.values()))
        errors = {d: tuple(round(rng.gauss(0.0, sd)) for sd in self.print_errors) for d in dates}
        revisions, published = {}, {}
        if self.annual is not None:
            month, years_back, sd = self.annual
            for year in (2016, 2017, 2018):
                published[year] = next(r for r in schedule if r >= dt.date(year, month, 1))
                for d in dates:
                    if dt.date(year - years_back, 1, 1) <= d and release[d] < published[year]:
                        revisions[(year, d)] = round(rng.gauss(0.0, sd))
        return Revised(base, release, schedule, errors, revisions, published, self.decimals).rows()


def saturdays() -> list[dt.date]:
    return [d for d in days(WINDOW_START, WINDOW_END) if d.weekday() == 5]


def thursdays() -> list[dt.date]:
    return [d for d in days(WINDOW_START, WINDOW_END) if d.weekday() == 3]


def wednesdays() -> list[dt.date]:
    return [d for d in days(WINDOW_START, WINDOW_END) if d.weekday() == 2]


def quarter_starts() -> list[dt.date]:
    return [m for m in month_starts(WINDOW_START, WINDOW_END) if m.month % 3 == 1]


def claims_release(weeks_later: int) -> Callable[[dt.date], dt.date]:
    """Weekly claims for the week ending Saturday d: the Thursday after (continued claims a week later), the day
    before when that Thursday is a federal holiday."""

    def release(d: dt.date) -> dt.date:
        out = d + dt.timedelta(days=5 + 7 * weeks_later)
        while out in US_HOLIDAYS:
            out -= ONE_DAY
        return out

    return release


def same_day(d: dt.date) -> dt.date:
    """Freddie Mac's survey rate is dated on the Thursday it is published."""
    return d


@cache
def gdp_vintages() -> dict[dt.date, list[tuple[dt.date, dt.date | None, float]]]:
    """Per quarter, the (realtime_start, realtime_end or None when open, value) of the derived GDP recording."""
    out: dict[dt.date, list] = {}
    for row in gdp_rows():
        end = None if row["realtime_end"] == OPEN_END else dt.date.fromisoformat(row["realtime_end"])
        out.setdefault(dt.date.fromisoformat(row["date"]), []).append(
            (dt.date.fromisoformat(row["realtime_start"]), end, float(row["value"]))
        )
    return out


def bea_gdp_release(q: dt.date) -> dt.date:
    """The day BEA first released a quarter's GDP, read from the verbatim GDP vintages (real release dates)."""
    return gdp_vintages()[q][0][0]


def gdp_schedule() -> list[dt.date]:
    return sorted({start for vintages in gdp_vintages().values() for start, _, _ in vintages})


def real_gdp_rows() -> list[dict]:
    """GDPC1 on the real BEA calendar: released and revised on the days nominal GDP was."""
    rng = rng_for("fred_GDPC1")
    quarters = [q for q in quarter_starts() if q in gdp_vintages()]
    pins = [(0, 17800.0), (len(quarters) - 1, 18670.0)]
    base = {q: round(x * 1000) for q, x in zip(quarters, bridge(rng, pins, sigma=40.0))}  # thousandths
    release = {q: bea_gdp_release(q) for q in quarters}
    errors = {q: (round(rng.gauss(0.0, 25000.0)), round(rng.gauss(0.0, 12000.0))) for q in quarters}
    published, revisions = {}, {}
    for year in (2015, 2016, 2017, 2018):  # the annual revision with the July advance estimate
        published[year] = next(r for r in gdp_schedule() if r >= dt.date(year, 7, 20))
        for q in quarters:
            if dt.date(year - 3, 1, 1) <= q and release[q] < published[year]:
                revisions[(year, q)] = round(rng.gauss(0.0, 30000.0))
    return Revised(base, release, gdp_schedule(), errors, revisions, published, decimals=3).rows()


def federal_debt() -> dict[dt.date, int]:
    """GFDEBTN, total public debt at each quarter end (millions of USD), ~18.2 to ~21.5 trillion."""
    quarters = [q for q in quarter_starts() if q in gdp_vintages()]
    path = bridge(rng_for("fred_GFDEBTN"), [(0, 18152000.0), (len(quarters) - 1, 21516000.0)], sigma=60000.0)
    return {q: round(x) for q, x in zip(quarters, path)}


def federal_debt_rows() -> list[dict]:
    """GFDEBTN: first out with the quarter's advance GDP (assumed), not revised."""
    debt = federal_debt()
    release = {q: bea_gdp_release(q) for q in debt}
    return alfred_rows(list(debt), release, sorted(set(release.values())), lambda q, v: str(debt[q]))


def debt_to_gdp_rows() -> list[dict]:
    """GFDEGDQ188S: federal debt over nominal GDP as each GDP vintage had it, so it is revised whenever GDP is."""
    debt, vintages = federal_debt(), gdp_vintages()

    def value(q: dt.date, v: dt.date) -> str:
        gdp = next(x for start, end, x in vintages[q] if start <= v and (end is None or v <= end))
        return f"{debt[q] / 1000 / gdp * 100:.5f}"

    release = {q: bea_gdp_release(q) for q in debt}
    return alfred_rows(list(debt), release, gdp_schedule(), value)


# Monthly Treasury Statement surplus (+) or deficit (-) by calendar month, millions of USD: April's tax receipts,
# February's refunds.
MTS_MEAN = {1: -30000, 2: -195000, 3: -170000, 4: 150000, 5: -85000, 6: -20000, 7: -95000, 8: -110000, 9: 20000,
            10: -115000, 11: -150000, 12: -25000}  # fmt: skip


def treasury_statement_rows() -> list[dict]:
    """MTSDS133FMS: out on the 8th business day of the next month, not revised."""
    rng = rng_for("fred_MTSDS133FMS")
    months = month_starts(WINDOW_START, WINDOW_END)
    value = {m: str(round(rng.gauss(MTS_MEAN[m.month] * (1 + 0.08 * (m.year - 2015)), 18000.0))) for m in months}
    release = {m: business_day_of_month(8)(m) for m in months}
    obs = [m for m in months if release[m] <= CAPTURE_DATE]
    return alfred_rows(obs, release, sorted({release[m] for m in obs}), lambda m, v: value[m])


def next_open_day(closed) -> Callable[[dt.date], dt.date]:
    def release(d: dt.date) -> dt.date:
        d += ONE_DAY
        while d.weekday() >= 5 or d in closed:
            d += ONE_DAY
        return d

    return release


def h41_release(d: dt.date) -> dt.date:
    """The H.4.1 balance sheet as of Wednesday d: out on Thursday (the next business day if a holiday)."""
    return us_business_day_from(d + ONE_DAY)


M = dt.date
REVISED = {
    "CPILFESL": Series("CPILFESL", [(M(2015, 1, 1), 239.8), (M(2015, 12, 1), 244.6), (M(2016, 12, 1), 250.0),
                                    (M(2017, 12, 1), 254.4), (M(2018, 12, 1), 259.5)],
                       0.0012, 3, lambda m: cpi_release()[m], annual=(2, 5, 20.0), log=True),
    "PCEPI": Series("PCEPI", [(M(2015, 1, 1), 104.0), (M(2015, 12, 1), 104.8), (M(2016, 12, 1), 106.5),
                              (M(2017, 12, 1), 108.4), (M(2018, 12, 1), 110.2)],
                    0.0012, 3, release_around(1, 27), (30.0, 15.0), (7, 3, 40.0), log=True),
    "PCEPILFE": Series("PCEPILFE", [(M(2015, 1, 1), 104.4), (M(2015, 12, 1), 105.8), (M(2016, 12, 1), 107.6),
                                    (M(2017, 12, 1), 109.2), (M(2018, 12, 1), 111.3)],
                       0.0010, 3, release_around(1, 27), (25.0, 12.0), (7, 3, 35.0), log=True),
    "PPIACO": Series("PPIACO", [(M(2015, 1, 1), 192.5), (M(2015, 12, 1), 182.0), (M(2016, 2, 1), 179.0),
                                (M(2016, 12, 1), 186.0), (M(2017, 12, 1), 196.0), (M(2018, 10, 1), 204.0),
                                (M(2018, 12, 1), 199.0)],
                     0.006, 1, release_around(1, 13), (6.0, 4.0), log=True),
    "INDPRO": Series("INDPRO", [(M(2015, 1, 1), 103.5), (M(2016, 3, 1), 100.7), (M(2016, 12, 1), 102.2),
                                (M(2017, 12, 1), 106.0), (M(2018, 12, 1), 109.9)],
                     0.004, 4, release_around(1, 15), (2500.0, 1500.0, 800.0), (3, 5, 2000.0), log=True),
    "TCU": Series("TCU", [(M(2015, 1, 1), 78.9), (M(2016, 3, 1), 75.6), (M(2017, 12, 1), 77.4), (M(2018, 12, 1), 78.5)],
                  0.25, 4, release_around(1, 15), (2000.0, 1000.0), (3, 5, 1500.0)),
    "RSAFS": Series("RSAFS", [(M(2015, 1, 1), 435000.0), (M(2015, 12, 1), 450000.0), (M(2016, 12, 1), 470000.0),
                              (M(2017, 12, 1), 497000.0), (M(2018, 12, 1), 512000.0)],
                    0.005, 0, release_around(1, 13), (1500.0, 700.0), (4, 5, 1200.0), log=True),
    "HOUST": Series("HOUST", [(M(2015, 1, 1), 1080.0), (M(2016, 1, 1), 1120.0), (M(2016, 12, 1), 1250.0),
                              (M(2017, 12, 1), 1210.0), (M(2018, 12, 1), 1256.0)],
                    55.0, 0, release_around(1, 17), (30.0, 15.0)),
    "UMCSENT": Series("UMCSENT", [(M(2015, 1, 1), 98.1), (M(2015, 12, 1), 92.6), (M(2016, 12, 1), 98.2),
                                  (M(2017, 12, 1), 95.9), (M(2018, 12, 1), 98.3)],
                      1.5, 1, release_around(1, 26)),
    "DGORDER": Series("DGORDER", [(M(2015, 1, 1), 245000.0), (M(2016, 6, 1), 225000.0), (M(2017, 12, 1), 250000.0),
                                  (M(2018, 12, 1), 252000.0)],
                      0.02, 0, release_around(1, 24), (2500.0, 1200.0), (5, 3, 1500.0), log=True),
    "CIVPART": Series("CIVPART", [(M(2015, 1, 1), 62.9), (M(2015, 9, 1), 62.4), (M(2016, 12, 1), 62.7),
                                  (M(2017, 12, 1), 62.7), (M(2018, 12, 1), 63.1)],
                      0.08, 1, bls_first_friday_release, annual=(1, 5, 0.5)),
    "U6RATE": Series("U6RATE", [(M(2015, 1, 1), 11.3), (M(2015, 12, 1), 9.9), (M(2016, 12, 1), 9.2),
                                (M(2017, 12, 1), 8.1), (M(2018, 12, 1), 7.6)],
                     0.12, 1, bls_first_friday_release, annual=(1, 5, 0.5)),
    "CES0500000003": Series("CES0500000003", [(M(2015, 1, 1), 24.75), (M(2015, 12, 1), 25.26), (M(2016, 12, 1), 25.90),
                                              (M(2017, 12, 1), 26.55), (M(2018, 12, 1), 27.48)],
                            0.03, 2, bls_first_friday_release, (3.0, 2.0), (2, 2, 3.0)),
    "JTSJOL": Series("JTSJOL", [(M(2015, 1, 1), 5200.0), (M(2015, 12, 1), 5600.0), (M(2016, 12, 1), 5500.0),
                                (M(2017, 12, 1), 5900.0), (M(2018, 10, 1), 7100.0), (M(2018, 12, 1), 7000.0)],
                     120.0, 0, release_around(2, 6, weekday=1), (60.0,), (3, 5, 40.0)),
    "M2SL": Series("M2SL", [(M(2015, 1, 1), 11700.0), (M(2015, 12, 1), 12300.0), (M(2016, 12, 1), 13200.0),
                            (M(2017, 12, 1), 13800.0), (M(2018, 12, 1), 14400.0)],
                   0.002, 1, release_around(1, 20, weekday=3), (80.0, 40.0, 20.0), (2, 5, 60.0), log=True),
    "BOGMBASE": Series("BOGMBASE", [(M(2015, 1, 1), 4000.0), (M(2015, 12, 1), 3830.0), (M(2016, 12, 1), 3550.0),
                                    (M(2017, 12, 1), 3850.0), (M(2018, 12, 1), 3300.0)],
                       0.012, 1, release_around(1, 18, weekday=3), (50.0,), log=True),
    "BOPGSTB": Series("BOPGSTB", [(M(2015, 1, 1), -42000.0), (M(2015, 12, 1), -44000.0), (M(2016, 12, 1), -44000.0),
                                  (M(2017, 12, 1), -53000.0), (M(2018, 12, 1), -55500.0)],
                      1500.0, 0, release_around(2, 4), (700.0,), (6, 3, 500.0)),
    "IEABC": Series("IEABC", [(M(2015, 1, 1), -98000.0), (M(2016, 1, 1), -105000.0), (M(2017, 1, 1), -110000.0),
                              (M(2018, 7, 1), -124800.0), (M(2018, 10, 1), -130000.0)],
                    5000.0, 0, release_around(5, 17), (3000.0,), (6, 3, 2000.0), dates=quarter_starts),
    "ICSA": Series("ICSA", [(M(2015, 1, 3), 290000.0), (M(2015, 12, 26), 275000.0), (M(2016, 12, 31), 260000.0),
                            (M(2017, 12, 30), 240000.0), (M(2018, 9, 15), 205000.0), (M(2018, 12, 29), 225000.0)],
                   9000.0, 0, claims_release(0), (2500.0,), (4, 5, 1500.0), dates=saturdays),
    "CCSA": Series("CCSA", [(M(2015, 1, 3), 2400000.0), (M(2015, 12, 26), 2250000.0), (M(2016, 12, 31), 2050000.0),
                            (M(2017, 12, 30), 1850000.0), (M(2018, 12, 29), 1700000.0)],
                   25000.0, 0, claims_release(1), (8000.0,), (4, 5, 6000.0), dates=saturdays),
    "MORTGAGE30US": Series("MORTGAGE30US", [(M(2015, 1, 1), 3.87), (M(2015, 1, 29), 3.66), (M(2015, 7, 2), 4.08),
                                            (M(2016, 7, 7), 3.41), (M(2016, 12, 29), 4.32), (M(2017, 12, 28), 3.99),
                                            (M(2018, 11, 15), 4.94), (M(2018, 12, 27), 4.55)],
                           0.05, 2, same_day, dates=thursdays),
    "WALCL": Series("WALCL", [(M(2015, 1, 7), 4510000.0), (M(2015, 12, 30), 4490000.0), (M(2016, 12, 28), 4450000.0),
                              (M(2017, 12, 27), 4450000.0), (M(2018, 12, 26), 4076000.0)],
                    6000.0, 0, h41_release, dates=wednesdays),
}  # fmt: skip


def market(name: str, closed, release: Callable[[dt.date], dt.date], decimals: int = 2) -> Callable[[], list]:
    sigma = DAILY_SIGMA.get(name, 0.035)
    start = SOFR_START if name == "SOFR" else WINDOW_START
    return lambda: market_rows(
        formatted(daily_levels(name, MARKET_ANCHORS[name], sigma, closed, start), decimals), release, start
    )


def treasury(name: str) -> Callable[[], list]:
    return lambda: market_rows(treasury_values(name), next_fed_business_day)


def derived(values: Callable[[], dict[dt.date, str]]) -> Callable[[], list]:
    return lambda: market_rows(values(), next_fed_business_day)


def dgs10_rows() -> list[dict]:
    """Daily; a row for every weekday, "." on FED holidays; published next business day, never revised."""
    return market_rows(treasury_values("DGS10"), next_fed_business_day)


@dataclass(frozen=True)
class Recorded:
    """One recorded exchange: a series, how its observations are made, when it was captured and its note."""

    series_id: str
    observations: Callable[[], list[dict]]
    captured_at: str
    provenance: str
    note: str

    @property
    def body_file(self) -> str:
        return f"{self.series_id}_{WINDOW}.json"


RECORDED = (
    Recorded(
        "GDP",
        gdp_rows,
        GDP_CAPTURED_AT,
        "derived",
        "DERIVED from the verbatim ALFRED sample fred/verbatim/series_observations_GDP_realtime_1776-07-04_"
        "to_2019-01-01.json (real response clipped at realtime_end=2019-01-01): what ALFRED returns for our "
        "request (realtime 1776-07-04..9999-12-31, observations 2015-01-01..2018-12-31) if called on "
        "2019-01-01. Kept only rows with date in the window; rows whose realtime_end was 2019-01-01 (the "
        "clip) became 9999-12-31 (they were the current vintage that day); header echo set to realtime "
        "1776-07-04/9999-12-31, observation 2015-01-01/2018-12-31, count = number of rows. Value strings, "
        "dates and realtime_start copied unchanged (not reformatted).",
    ),
    Recorded(
        "CPIAUCSL",
        cpi_rows,
        CAPTURED_AT,
        "synthetic",
        "SYNTHETIC ALFRED vintages of CPIAUCSL (index, 3 decimals, ~234.7 -> ~252.8; not real values). "
        "Each month first appears at a release in the 2nd/3rd week of M+1; the February release (January "
        "data) revises all earlier months slightly (annual seasonal-factor revision). Captured 2019-01-07, "
        "before the Dec-2018 CPI release, so the last observation is 2018-11-01. For vintage/PIT tests.",
    ),
    Recorded(
        "PAYEMS",
        payems_rows,
        CAPTURED_AT,
        "synthetic",
        "SYNTHETIC ALFRED vintages of PAYEMS (thousands, integer strings, ~140600 -> ~150200; not real "
        "values). Released first Friday of M+1 (previous weekday if a federal holiday), revised in each of "
        "the next two releases, annual benchmark (wedged level shift + small SA revisions) with the "
        "February release. For vintage/PIT and revision tests.",
    ),
    Recorded(
        "UNRATE",
        unrate_rows,
        CAPTURED_AT,
        "synthetic",
        "SYNTHETIC ALFRED vintages of UNRATE (%, 1 decimal, 5.7 -> 3.9; not real values). Released first "
        "Friday of M+1; revised only by the annual seasonal-adjustment revision published with the "
        "December report in January (prior five years, +-0.1 on some months). For vintage/PIT tests.",
    ),
    Recorded(
        "DGS10",
        dgs10_rows,
        CAPTURED_AT,
        "synthetic",
        "SYNTHETIC ALFRED rows of DGS10 (%, 2 decimals; path ~2.1 in 2015, ~1.4 Jul-2016, ~3.2 Nov-2018, "
        "~2.7 end-2018; not real values). A row for every weekday; '.' on Federal Reserve holidays "
        "(holidays.financial_holidays('FED')) as FRED does for market holidays; realtime_start = next FED "
        "business day; never revised (single open interval per date). For daily US-rate loading.",
    ),
    *(
        Recorded(
            series_id,
            observations,
            CAPTURED_AT,
            "synthetic",
            f"SYNTHETIC ALFRED rows of {series_id}: {note}; not real values.",
        )
        for series_id, observations, note in (
            (
                "CPILFESL",
                REVISED["CPILFESL"].rows,
                "core CPI (index, 3 decimals, ~239.8 -> ~259), released with "
                "CPIAUCSL on the same days; the February release revises five years of SA data",
            ),
            (
                "PCEPI",
                REVISED["PCEPI"].rows,
                "PCE price index (2012=100, 3 decimals), out near the end of M+1, "
                "revised in the next two releases and by the annual revision at the end of July (three years back)",
            ),
            (
                "PCEPILFE",
                REVISED["PCEPILFE"].rows,
                "core PCE price index (2012=100, 3 decimals), out with PCEPI, revised like it",
            ),
            (
                "PPIACO",
                REVISED["PPIACO"].rows,
                "PPI all commodities (1982=100, NSA, 1 decimal), out mid M+1, revised in the next two releases",
            ),
            (
                "INDPRO",
                REVISED["INDPRO"].rows,
                "industrial production (2012=100, 4 decimals), out mid M+1, revised "
                "in the next three releases and by the annual revision in the spring (five years back)",
            ),
            ("TCU", REVISED["TCU"].rows, "capacity utilization (%, 4 decimals), out with INDPRO, revised like it"),
            (
                "RSAFS",
                REVISED["RSAFS"].rows,
                "advance retail sales (millions of USD), out mid M+1, revised in the "
                "next two releases and by the annual revision in April",
            ),
            (
                "HOUST",
                REVISED["HOUST"].rows,
                "housing starts (thousands, SAAR), noisy, out ~17th of M+1, revised in the next two releases",
            ),
            (
                "UMCSENT",
                REVISED["UMCSENT"].rows,
                "University of Michigan consumer sentiment (index, 1 decimal), on "
                "FRED a month after the survey month (the source's delay), not revised",
            ),
            (
                "DGORDER",
                REVISED["DGORDER"].rows,
                "durable goods new orders (millions of USD), advance report ~24th of "
                "M+1, revised in the next two releases and annually in May",
            ),
            (
                "CIVPART",
                REVISED["CIVPART"].rows,
                "labor force participation rate (%, 1 decimal), released first "
                "Friday of M+1, revised only by the January SA revision",
            ),
            (
                "U6RATE",
                REVISED["U6RATE"].rows,
                "U-6 unemployment rate (%, 1 decimal), released with UNRATE, revised only by the January SA revision",
            ),
            (
                "CES0500000003",
                REVISED["CES0500000003"].rows,
                "average hourly earnings, total private (USD, 2 "
                "decimals), released with payrolls, revised in the next two releases and by the February benchmark",
            ),
            (
                "JTSJOL",
                REVISED["JTSJOL"].rows,
                "JOLTS job openings (thousands), out ~5 weeks after the month (on a "
                "Tuesday), revised the next month and annually in March",
            ),
            (
                "M2SL",
                REVISED["M2SL"].rows,
                "M2 money stock (billions of USD, 1 decimal), monthly averages out on a "
                "Thursday of M+1, revised in the next three releases and by the February benchmark",
            ),
            (
                "BOGMBASE",
                REVISED["BOGMBASE"].rows,
                "monetary base (billions of USD, 1 decimal), out on a Thursday of M+1, revised the next month",
            ),
            (
                "BOPGSTB",
                REVISED["BOPGSTB"].rows,
                "trade balance, goods and services (millions of USD), negative, out "
                "early M+2, revised the next month and annually in June",
            ),
            (
                "IEABC",
                REVISED["IEABC"].rows,
                "current account balance, quarterly (millions of USD), negative, out "
                "~2.5 months after the quarter, revised the next quarter and annually in June",
            ),
            (
                "ICSA",
                REVISED["ICSA"].rows,
                "initial claims, weekly (persons), dated on the Saturday ending the week, "
                "released the next Thursday (Wednesday if a federal holiday), revised the week after and by the "
                "spring seasonal revision",
            ),
            (
                "CCSA",
                REVISED["CCSA"].rows,
                "continued claims, weekly (persons), dated on the Saturday ending the "
                "week, released a week after the initial claims of that week, revised like ICSA",
            ),
            (
                "MORTGAGE30US",
                REVISED["MORTGAGE30US"].rows,
                "30-year fixed mortgage rate (Freddie Mac PMMS, %, 2 "
                "decimals), weekly, dated on the Thursday it is published (realtime_start = the date), not revised",
            ),
            (
                "WALCL",
                REVISED["WALCL"].rows,
                "Federal Reserve total assets (millions of USD), weekly as of "
                "Wednesday, released on Thursday (H.4.1), not revised",
            ),
            (
                "GDPC1",
                real_gdp_rows,
                "real GDP (billions of chained 2012 USD, 3 decimals, ~17800 -> ~18670), on the "
                "REAL BEA calendar: its vintages are the days the verbatim nominal GDP sample changed; advance, second "
                "and third estimates, then the July annual revision",
            ),
            (
                "GFDEBTN",
                federal_debt_rows,
                "federal debt, total public debt (millions of USD, ~18.2 -> ~21.5 "
                "trillion), quarterly, first out with the quarter's advance GDP (assumed), not revised",
            ),
            (
                "GFDEGDQ188S",
                debt_to_gdp_rows,
                "federal debt as % of GDP (5 decimals): GFDEBTN over each vintage of "
                "the verbatim nominal GDP, so it is revised whenever GDP is",
            ),
            (
                "MTSDS133FMS",
                treasury_statement_rows,
                "monthly federal surplus (+) or deficit (-), Monthly Treasury "
                "Statement (millions of USD), seasonal (April surplus, February deficit), out on the 8th business day "
                "of M+1, not revised",
            ),
            (
                "DFF",
                effective_fed_funds_rows,
                "effective federal funds rate (%, 2 decimals), a row for EVERY calendar "
                "day (weekends and holidays carry the last business day's rate, as FRED's DFF does), within a cent or "
                "two of the real FOMC path, month-end dips; published the next FED business day, never revised",
            ),
            (
                "SOFR",
                market("SOFR", FED_HOLIDAYS, next_fed_business_day),
                "SOFR (%, 2 decimals), rows only from "
                "2018-04-02, the first rate the New York Fed published, near the real path (3.15 on 2018-12-31); "
                "published the next business day, never revised",
            ),
            *(
                (
                    name,
                    treasury(name),
                    f"{title} (%, 2 decimals), a row per weekday, '.' on FED holidays, "
                    "realtime_start = next FED business day, never revised",
                )
                for name, title in (
                    ("DGS3MO", "3-month Treasury constant maturity"),
                    ("DGS2", "2-year Treasury constant maturity"),
                    ("DGS5", "5-year Treasury constant maturity"),
                    ("DGS30", "30-year Treasury constant maturity"),
                    ("DFII5", "5-year TIPS real yield (negative in 2016)"),
                    ("DFII10", "10-year TIPS real yield"),
                    ("DTB3", "3-month Treasury bill, secondary market"),
                )
            ),
            (
                "T10Y2Y",
                derived(lambda: spread_values("DGS10", "DGS2")),
                "10-year minus 2-year Treasury spread (%), "
                "computed from the DGS10 and DGS2 recordings as FRED computes it",
            ),
            (
                "T10YIE",
                derived(lambda: spread_values("DGS10", "DFII10")),
                "10-year breakeven inflation (%), DGS10 minus DFII10 from those recordings",
            ),
            (
                "T5YIE",
                derived(lambda: spread_values("DGS5", "DFII5")),
                "5-year breakeven inflation (%), DGS5 minus DFII5 from those recordings",
            ),
            (
                "T5YIFR",
                derived(forward_breakeven_values),
                "5-year, 5-year forward breakeven (%), FRED's formula on the DGS5, DGS10, DFII5 and DFII10 recordings",
            ),
            (
                "BAMLH0A0HYM2",
                market("BAMLH0A0HYM2", FED_HOLIDAYS, next_fed_business_day),
                "ICE BofA US high yield "
                "OAS (%, 2 decimals), 8.87 at the Feb-2016 peak, 5.33 at end-2018; next-business-day vintage",
            ),
            (
                "BAMLC0A0CM",
                market("BAMLC0A0CM", FED_HOLIDAYS, next_fed_business_day),
                "ICE BofA US corporate (investment grade) OAS (%, 2 decimals); next-business-day vintage",
            ),
            (
                "VIXCLS",
                market("VIXCLS", NYSE_HOLIDAYS, next_open_day(NYSE_HOLIDAYS)),
                "CBOE VIX close (2 decimals), "
                "'.' on NYSE holidays, spikes of Aug-2015, Feb-2016, Feb-2018 and Dec-2018 pinned near real closes",
            ),
            (
                "DTWEXBGS",
                market("DTWEXBGS", FED_HOLIDAYS, lambda d: following_weekday(d, 0, FED_HOLIDAYS), 4),
                "broad trade-weighted dollar index (4 decimals, made-up levels with the real shape: dollar rally of "
                "2015, peak early 2016, 2017 decline, 2018 rebound); the H.10 weekly batch: a week's days out the "
                "next Monday",
            ),
            (
                "DCOILWTICO",
                market("DCOILWTICO", NYSE_HOLIDAYS, lambda d: following_weekday(d, 2, US_HOLIDAYS)),
                "WTI spot (USD/bbl, 2 decimals), '.' on NYSE holidays, the EIA weekly batch: a week's days out the "
                "next Wednesday, so the last days of 2018 are not in the capture",
            ),
            (
                "DCOILBRENTEU",
                market("DCOILBRENTEU", NYSE_HOLIDAYS, lambda d: following_weekday(d, 2, US_HOLIDAYS)),
                "Brent spot (USD/bbl, 2 decimals), published like WTI (closed days approximated by the NYSE calendar)",
            ),
        )
    ),
)


def params(series_id: str) -> dict[str, str]:
    """The request the connector sends for the recorded window (without api_key)."""
    return {
        "series_id": series_id,
        "file_type": "json",
        **ALL_VINTAGES,
        "observation_start": WINDOW_START.isoformat(),
        "observation_end": WINDOW_END.isoformat(),
    }


def fred_dumps(obj) -> bytes:
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
    return text.replace("/", "\\/").encode("utf-8")  # FRED escapes "/" (none occur in observations)


def observations_body(observations: list[dict]) -> bytes:
    """The exact header echo of /fred/series/observations for our ALFRED request."""
    header = {
        **ALL_VINTAGES,
        "observation_start": WINDOW_START.isoformat(),
        "observation_end": WINDOW_END.isoformat(),
        "units": "lin",
        "output_type": 1,
        "file_type": "json",
        "order_by": "observation_date",
        "sort_order": "asc",
        "count": len(observations),
        "offset": 0,
        "limit": 100000,
        "observations": observations,
    }
    return fred_dumps(header)


def recorded_exchange(recorded: Recorded) -> dict:
    return exchange(
        OBSERVATIONS_URL,
        params(recorded.series_id),
        HEADERS,
        recorded.body_file,
        recorded.captured_at,
        recorded.provenance,
        recorded.note,
    )


def build() -> dict[str, bytes]:
    """Every generated file: name -> bytes (nothing under verbatim/)."""
    files = {recorded.body_file: observations_body(recorded.observations()) for recorded in RECORDED}
    manifest = {
        "source": SOURCE,
        "window_params": WINDOW_PARAMS,
        "exchanges": [recorded_exchange(recorded) for recorded in RECORDED],
    }
    files["manifest.json"] = manifest_bytes(manifest)
    return files


def generate(out_dir: Path | str = HERE) -> list[str]:
    return write_files(build(), out_dir)


def main(argv: list[str] | None = None) -> int:
    return generator_main(generate, HERE, __doc__, argv)


if __name__ == "__main__":
    raise SystemExit(main())
