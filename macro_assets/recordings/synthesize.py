"""Deterministic generator of the recorded API payloads ("cassettes") replayed by the offline default.

Run ``python -m macro_assets.recordings.synthesize [OUT_DIR]`` (default: this package directory).
It writes, under OUT_DIR:

- ``bcb_sgs/manifest.json`` and the SGS bodies (series 432, 12, 1, 433, 24363 x2 captures);
- ``fred/manifest.json`` and the FRED/ALFRED bodies (GDP derived from the verbatim sample,
  CPIAUCSL, PAYEMS, UNRATE, DGS10 synthetic).

No network. Every random draw comes from a ``random.Random`` seeded per series with a fixed
string (stdlib Mersenne Twister, stable across Python versions), so re-running reproduces every
file byte-for-byte (``macro_assets_tests/test_recordings.py`` checks this).

The only input file is the verbatim ALFRED GDP sample in ``fred/verbatim/`` (hand-copied,
not generated; see ``fred/verbatim/README.md``). Hand-written files (``README.md``,
``fred/verbatim/*``) are never touched by this script.

Body byte conventions (see README.md): compact JSON (``separators=(",", ":")``), key order as the
real APIs send it, no trailing newline (the verbatim samples are body strings with surrounding
whitespace stripped, so a trailing newline is not part of the known format); FRED strings escape
``/`` as ``\\/`` like the real API (no observation field contains one).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import random
from collections.abc import Callable, Iterable
from decimal import ROUND_HALF_EVEN, Context, Decimal
from pathlib import Path

import holidays

RECORDINGS_DIR = Path(__file__).resolve().parent
GDP_VERBATIM = RECORDINGS_DIR / "fred" / "verbatim" / "series_observations_GDP_realtime_1776-07-04_to_2019-01-01.json"

SEED = "macro_assets.recordings/2019-01-07"
WINDOW_START = dt.date(2015, 1, 1)
WINDOW_END = dt.date(2018, 12, 31)

# ---------------------------------------------------------------------------------------------
# Request shapes (exactly what the connectors send)
# ---------------------------------------------------------------------------------------------
SGS_URL = "https://api.bcb.gov.br/dados/serie/bcdata.sgs.{code}/dados"
SGS_PARAMS = {
    "formato": "json",
    "dataInicial": WINDOW_START.strftime("%d/%m/%Y"),
    "dataFinal": WINDOW_END.strftime("%d/%m/%Y"),
}
SGS_HEADERS = {"Content-Type": "application/json"}

FRED_URL = "https://api.stlouisfed.org/fred/series/observations"
FRED_REALTIME_START = "1776-07-04"
FRED_REALTIME_END = "9999-12-31"
FRED_HEADERS = {"Content-Type": "application/json; charset=UTF-8"}

SGS_CAPTURE = "2019-01-07T12:00:00Z"
IPCA_CAPTURE = "2019-01-14T12:00:00Z"  # after IBGE published Dec-2018 IPCA (2019-01-11)
IBCBR_CAPTURES = ("2019-01-07T12:00:00Z", "2019-02-20T12:00:00Z")
GDP_CAPTURE = "2019-01-01T23:00:00Z"
FRED_CAPTURE = "2019-01-07T14:00:00Z"
FRED_CAPTURE_DATE = dt.date(2019, 1, 7)

ONE_DAY = dt.timedelta(days=1)


def rng_for(name: str) -> random.Random:
    """One independent, stable RNG stream per series (str seeds hash with SHA-512, not hash())."""
    return random.Random(f"{SEED}/{name}")


# ---------------------------------------------------------------------------------------------
# Calendars
# ---------------------------------------------------------------------------------------------
YEARS = range(2014, 2020)
BR_HOLIDAYS = holidays.country_holidays("BR", years=YEARS)  # national holidays only (brief)
FED_HOLIDAYS = holidays.financial_holidays("FED", years=YEARS)  # Federal Reserve / H.15 calendar
US_HOLIDAYS = holidays.country_holidays("US", years=YEARS)  # federal (observed) - BLS release shifts


def days(start: dt.date, end: dt.date) -> Iterable[dt.date]:
    d = start
    while d <= end:
        yield d
        d += ONE_DAY


def br_business_days(start: dt.date, end: dt.date) -> list[dt.date]:
    return [d for d in days(start, end) if d.weekday() < 5 and d not in BR_HOLIDAYS]


def fed_business_day(d: dt.date) -> bool:
    return d.weekday() < 5 and d not in FED_HOLIDAYS


def next_fed_business_day(d: dt.date) -> dt.date:
    d += ONE_DAY
    while not fed_business_day(d):
        d += ONE_DAY
    return d


def month_starts(start: dt.date, end: dt.date) -> list[dt.date]:
    out, d = [], start.replace(day=1)
    while d <= end:
        out.append(d)
        d = add_months(d, 1)
    return out


def add_months(d: dt.date, n: int) -> dt.date:
    y, m = divmod(d.year * 12 + (d.month - 1) + n, 12)
    return dt.date(y, m + 1, 1)


def month_index(d: dt.date) -> int:
    return d.year * 12 + d.month - 1


# ---------------------------------------------------------------------------------------------
# Serialisation
# ---------------------------------------------------------------------------------------------
def sgs_body(rows: list[tuple[dt.date, str]]) -> bytes:
    """SGS: JSON array of {"data":"dd/MM/yyyy","valor":"<dot-decimal string>"}, ascending, compact."""
    dates = [d for d, _ in rows]
    assert dates == sorted(dates) and len(set(dates)) == len(dates)
    payload = [{"data": d.strftime("%d/%m/%Y"), "valor": v} for d, v in rows]
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def fred_dumps(obj) -> bytes:
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
    return text.replace("/", "\\/").encode("utf-8")  # FRED escapes "/" (none occur in observations)


def fred_observations_body(observations: list[dict]) -> bytes:
    """The exact header echo of /fred/series/observations for our ALFRED request."""
    header = {
        "realtime_start": FRED_REALTIME_START,
        "realtime_end": FRED_REALTIME_END,
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


def fred_params(series_id: str) -> dict:
    return {
        "series_id": series_id,
        "file_type": "json",
        "realtime_start": FRED_REALTIME_START,
        "realtime_end": FRED_REALTIME_END,
        "observation_start": WINDOW_START.isoformat(),
        "observation_end": WINDOW_END.isoformat(),
    }


def exchange(url, params, headers, body_file, captured_at, provenance, note) -> dict:
    return {
        "request": {"method": "GET", "url": url, "params": dict(params)},
        "response": {"status": 200, "headers": dict(headers), "body_file": body_file},
        "captured_at": captured_at,
        "provenance": provenance,
        "note": note,
    }


# The query parameters that bound each source's observation window: the replay answers a request for a window
# inside a recorded one with that recording (see macro_assets.http.ReplayTransport).
WINDOW_PARAMS = {
    "bcb_sgs": {"start": "dataInicial", "end": "dataFinal", "format": "%d/%m/%Y"},
    "fred": {"start": "observation_start", "end": "observation_end", "format": "%Y-%m-%d"},
}


def manifest_bytes(source: str, exchanges: list[dict]) -> bytes:
    manifest = {"source": source, "window_params": WINDOW_PARAMS[source], "exchanges": exchanges}
    return (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


# ---------------------------------------------------------------------------------------------
# Path helpers
# ---------------------------------------------------------------------------------------------
def bridge(rng: random.Random, anchors: list[tuple[int, float]], sigma: float) -> list[float]:
    """Gaussian random walk pinned to (index, level) anchors (Brownian bridge per segment)."""
    anchors = sorted(anchors)
    out = [anchors[0][1]]
    for (i0, a), (i1, b) in zip(anchors, anchors[1:]):
        n = i1 - i0
        walk, s = [], 0.0
        for _ in range(n):
            s += rng.gauss(0.0, sigma)
            walk.append(s)
        drift = (b - a) - walk[-1]
        out.extend(a + w + drift * (k + 1) / n for k, w in enumerate(walk))
    return out


def nearest_index(seq: list[dt.date], target: dt.date) -> int:
    """Index of the last element <= target."""
    idx = [i for i, d in enumerate(seq) if d <= target]
    return idx[-1]


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
            "realtime_end": FRED_REALTIME_END if e is None else e.isoformat(),
            "date": od.isoformat(),
            "value": val,
        }
        for od, s, e, val in rows
    ]


# ---------------------------------------------------------------------------------------------
# BCB SGS
# ---------------------------------------------------------------------------------------------
# Copom Selic target path: (first effective day, % a.a.). Valid until the next meeting.
SELIC_TARGET_PATH = [
    (dt.date(2014, 12, 4), "11.75"),
    (dt.date(2015, 1, 22), "12.25"),
    (dt.date(2015, 3, 5), "12.75"),
    (dt.date(2015, 4, 30), "13.25"),
    (dt.date(2015, 6, 4), "13.75"),
    (dt.date(2015, 7, 30), "14.25"),
    (dt.date(2016, 10, 20), "14.00"),
    (dt.date(2016, 12, 1), "13.75"),
    (dt.date(2017, 1, 12), "13.00"),
    (dt.date(2017, 2, 23), "12.25"),
    (dt.date(2017, 4, 13), "11.25"),
    (dt.date(2017, 6, 1), "10.25"),
    (dt.date(2017, 7, 27), "9.25"),
    (dt.date(2017, 9, 7), "8.25"),
    (dt.date(2017, 10, 26), "7.50"),
    (dt.date(2017, 12, 7), "7.00"),
    (dt.date(2018, 2, 8), "6.75"),
    (dt.date(2018, 3, 22), "6.50"),
]
# Capture 2019-01-07: the 6.50 target is listed until the next Copom decision day (2019-02-06).
SELIC_LISTED_UNTIL = dt.date(2019, 2, 6)


def selic_target(d: dt.date) -> str:
    val = None
    for start, v in SELIC_TARGET_PATH:
        if d >= start:
            val = v
    assert val is not None
    return val


def sgs_432() -> list[tuple[dt.date, str]]:
    return [(d, selic_target(d)) for d in days(WINDOW_START, SELIC_LISTED_UNTIL)]


def cdi_daily(target: str) -> str:
    ctx = Context(prec=40)
    annual = ctx.divide(ctx.subtract(Decimal(target), Decimal("0.10")), Decimal(100))
    daily = ctx.subtract(ctx.power(ctx.add(Decimal(1), annual), ctx.divide(Decimal(1), Decimal(252))), Decimal(1))
    pct = ctx.multiply(daily, Decimal(100))
    return str(pct.quantize(Decimal("0.000001"), rounding=ROUND_HALF_EVEN))


def sgs_12() -> list[tuple[dt.date, str]]:
    return [(d, cdi_daily(selic_target(d))) for d in br_business_days(WINDOW_START, WINDOW_END)]


def sgs_1() -> list[tuple[dt.date, str]]:
    bd = br_business_days(WINDOW_START, WINDOW_END)
    anchors_dates = [  # year-ends from the brief; mid-year pins keep the shape close to the real one
        (bd[0], 2.69),
        (dt.date(2015, 9, 23), 4.15),
        (dt.date(2015, 12, 31), 3.96),
        (dt.date(2016, 6, 30), 3.21),
        (dt.date(2016, 12, 31), 3.26),
        (dt.date(2017, 6, 30), 3.31),
        (dt.date(2017, 12, 31), 3.31),
        (dt.date(2018, 9, 13), 4.19),
        (dt.date(2018, 12, 31), 3.87),
    ]
    anchors = [(nearest_index(bd, d), math.log(v)) for d, v in anchors_dates]
    path = bridge(rng_for("sgs_1_ptax"), anchors, sigma=0.008)
    return [(d, f"{math.exp(x):.4f}") for d, x in zip(bd, path)]


IPCA_MM = {
    2015: ["1.24", "1.22", "1.32", "0.71", "0.74", "0.79", "0.62", "0.22", "0.54", "0.82", "1.01", "0.96"],
    2016: ["1.27", "0.90", "0.43", "0.61", "0.78", "0.35", "0.52", "0.44", "0.08", "0.26", "0.18", "0.30"],
    2017: ["0.38", "0.33", "0.25", "0.14", "0.31", "-0.23", "0.24", "0.19", "0.16", "0.42", "0.28", "0.44"],
    2018: ["0.29", "0.32", "0.09", "0.22", "0.40", "1.26", "0.33", "-0.09", "0.48", "0.45", "-0.21", "0.15"],
}


def sgs_433() -> list[tuple[dt.date, str]]:
    return [(dt.date(y, m + 1, 1), v) for y, vals in sorted(IPCA_MM.items()) for m, v in enumerate(vals)]


# Multiplicative seasonal pattern of the (not seasonally adjusted) IBC-Br, % deviation by month.
IBCBR_SEASONAL = [-3.0, -4.0, 2.5, -1.0, 1.0, -0.5, 1.5, 2.5, -0.5, 2.0, -0.5, 0.0]


def sgs_24363() -> tuple[list[tuple[dt.date, str]], list[tuple[dt.date, str]]]:
    """Two captures: through 2018-10 (2019-01-07) and through 2018-11 with 2018-08..10 revised (2019-02-20)."""
    rng = rng_for("sgs_24363_ibcbr")
    months = month_starts(WINDOW_START, dt.date(2018, 11, 1))
    anchors = [(0, math.log(143.0)), (23, math.log(136.5)), (35, math.log(138.5)), (len(months) - 1, math.log(140.0))]
    trend = bridge(rng, anchors, sigma=0.004)
    levels = {}
    for m, x in zip(months, trend):
        lvl = math.exp(x) * (1 + IBCBR_SEASONAL[m.month - 1] / 100) * (1 + rng.gauss(0.0, 0.004))
        levels[m] = round(lvl * 100)  # hundredths, as int
    first_months = [m for m in months if m <= dt.date(2018, 10, 1)]
    first = [(m, f"{levels[m] / 100:.2f}") for m in first_months]
    revised = dict(levels)
    for m in (dt.date(2018, 8, 1), dt.date(2018, 9, 1), dt.date(2018, 10, 1)):
        delta = rng.randint(3, 40) * rng.choice((-1, 1))  # a few hundredths to tenths
        revised[m] = levels[m] + delta
    second = [(m, f"{revised[m] / 100:.2f}") for m in months]
    return first, second


# ---------------------------------------------------------------------------------------------
# FRED / ALFRED
# ---------------------------------------------------------------------------------------------
def fred_gdp_derived() -> list[dict]:
    """What ALFRED returns for our request if called on 2019-01-01, derived from the verbatim clip."""
    sample = json.loads(GDP_VERBATIM.read_text(encoding="utf-8"))
    assert sample["realtime_end"] == "2019-01-01"
    out = []
    for o in sample["observations"]:
        if not (WINDOW_START.isoformat() <= o["date"] <= WINDOW_END.isoformat()):
            continue
        row = dict(o)  # key order and value strings untouched
        if row["realtime_end"] == "2019-01-01":
            row["realtime_end"] = FRED_REALTIME_END
        out.append(row)
    return out


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


def fred_cpiaucsl() -> list[dict]:
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
    # Annual seasonal-factor revision with the January CPI (released in February of year Y):
    # revises the prior five years of SA data, i.e. every earlier observation inside our window.
    sa_rev = {}
    for y in (2016, 2017, 2018):  # the February-2019 revision comes after the capture
        for m in months:
            if dt.date(y - 5, 1, 1) <= m <= dt.date(y - 1, 12, 1):
                sd = 25 if m >= dt.date(y - 1, 1, 1) else 12
                sa_rev[(y, m)] = round(rng.gauss(0.0, sd))
    sa_vintage = {y: release[dt.date(y, 1, 1)] for y in (2016, 2017, 2018)}
    return seasonally_revised_rows(months, base, release, sa_rev, sa_vintage, lambda x: f"{x / 1000:.3f}")


def seasonally_revised_rows(
    months: list[dt.date],
    base: dict[dt.date, int],
    release: dict[dt.date, dt.date],
    sa_rev: dict[tuple[int, dt.date], int],
    sa_vintage: dict[int, dt.date],
    formatted,
) -> list[dict]:
    """ALFRED rows of a series whose only revisions are the annual seasonal-factor ones (in integer units)."""

    def value(m: dt.date, v: dt.date) -> str:
        return formatted(base[m] + sum(sa_rev.get((y, m), 0) for y, vd in sa_vintage.items() if vd <= v))

    obs = [m for m in months if release[m] <= FRED_CAPTURE_DATE]
    vintages = sorted({release[m] for m in obs})
    return alfred_rows(obs, release, vintages, value)


def fred_payems() -> list[dict]:
    rng = rng_for("fred_PAYEMS")
    months = month_starts(WINDOW_START, WINDOW_END)
    base = [round(x) for x in bridge(rng, [(0, 140600.0), (47, 150200.0)], sigma=55.0)]
    base = dict(zip(months, base))
    release = {m: bls_first_friday_release(m) for m in months}
    # first print and second print errors; the third print is the (pre-benchmark) base value
    err = {m: (round(rng.gauss(0.0, 35.0)), round(rng.gauss(0.0, 18.0))) for m in months}
    # Annual benchmark with the January report (first Friday of February of year Y): level shift B
    # wedged in from April of Y-2 (0) to March of Y-1 (full) and carried forward, plus small
    # seasonal-adjustment revisions to the previously published months.
    bench = {}
    for y in (2016, 2017, 2018):  # the February-2019 benchmark comes after the capture
        shift = round(rng.gauss(0.0, 110.0))
        wedge_start = month_index(dt.date(y - 2, 3, 1))
        sa = {}
        for m in months:
            if m <= dt.date(y - 1, 12, 1):
                sa[m] = round(rng.gauss(0.0, 4.0))
        bench[y] = (shift, wedge_start, sa)
    bench_vintage = {y: release[dt.date(y, 1, 1)] for y in bench}
    release_dates = sorted(set(release.values()))

    def value(m: dt.date, v: dt.date) -> str:
        k = sum(1 for r in release_dates if release[m] <= r <= v) - 1  # releases since the first
        x = base[m] + (err[m][k] if k < 2 else 0)
        for y, vd in bench_vintage.items():
            if vd <= v:
                shift, w0, sa = bench[y]
                w = min(max((month_index(m) - w0) / 12.0, 0.0), 1.0)
                x += round(shift * w) + sa.get(m, 0)
        return str(x)

    obs = [m for m in months if release[m] <= FRED_CAPTURE_DATE]
    vintages = [r for r in release_dates if r <= FRED_CAPTURE_DATE]
    return alfred_rows(obs, release, vintages, value)


def fred_unrate() -> list[dict]:
    rng = rng_for("fred_UNRATE")
    months = month_starts(WINDOW_START, WINDOW_END)
    anchors = [(0, 5.7), (11, 5.0), (23, 4.7), (35, 4.1), (47, 3.9)]
    base = dict(zip(months, (round(x * 10) for x in bridge(rng, anchors, sigma=0.07))))  # tenths
    release = {m: bls_first_friday_release(m) for m in months}
    # Annual SA revision with the December report (January of year Y): prior five years, +-0.1 here and there.
    sa_rev = {}
    for y in (2016, 2017, 2018, 2019):
        for m in months:
            if dt.date(y - 5, 1, 1) <= m <= dt.date(y - 1, 11, 1) and rng.random() < 0.25:
                sa_rev[(y, m)] = rng.choice((-1, 1))
    sa_vintage = {y: release[dt.date(y - 1, 12, 1)] for y in (2016, 2017, 2018, 2019)}
    return seasonally_revised_rows(months, base, release, sa_rev, sa_vintage, lambda x: f"{x / 10:.1f}")


def fred_dgs10() -> list[dict]:
    """Daily; a row for every weekday, "." on FED holidays; published next business day, never revised."""
    rng = rng_for("fred_DGS10")
    weekdays = [d for d in days(WINDOW_START, WINDOW_END) if d.weekday() < 5]
    bd = [d for d in weekdays if d not in FED_HOLIDAYS]
    anchor_dates = [
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
    anchors = [(nearest_index(bd, d), v) for d, v in anchor_dates]
    level = dict(zip(bd, bridge(rng, anchors, sigma=0.035)))
    rows = []
    for d in weekdays:
        rows.append(
            {
                "realtime_start": next_fed_business_day(d).isoformat(),
                "realtime_end": FRED_REALTIME_END,
                "date": d.isoformat(),
                "value": f"{level[d]:.2f}" if d in level else ".",
            }
        )
    return rows


# ---------------------------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------------------------
def build() -> dict[str, bytes]:
    """All generated files: relative path -> bytes."""
    files: dict[str, bytes] = {}
    win = f"{WINDOW_START.isoformat()}_{WINDOW_END.isoformat()}"

    # ---- BCB SGS ----
    sgs = []

    def add_sgs(code, rows, captured_at, provenance, note, suffix=""):
        name = f"{code}_{win}{suffix}.json"
        files[f"bcb_sgs/{name}"] = sgs_body(rows)
        sgs.append(exchange(SGS_URL.format(code=code), SGS_PARAMS, SGS_HEADERS, name, captured_at, provenance, note))

    add_sgs(
        432,
        sgs_432(),
        SGS_CAPTURE,
        "synthetic",
        "SYNTHETIC payload, real values: Selic target (meta Copom, % a.a.), one row per calendar day, real "
        "Copom target path 2015-2018 (from the published decisions). Reproduces the real 432 quirk: the "
        "response lists FUTURE-DATED rows 01/01/2019..06/02/2019 (target 6.50 valid until the next Copom "
        "decision), i.e. rows beyond dataFinal=31/12/2018 and after the capture date. Used to test the "
        "connector/loader clipping of rows outside the requested window and after knowledge time.",
    )
    add_sgs(
        12,
        sgs_12(),
        SGS_CAPTURE,
        "synthetic",
        "SYNTHETIC: CDI daily (% a.d.), one row per Brazilian business day (weekdays minus "
        "holidays.country_holidays('BR') national holidays), value = ((1 + (selic_target - 0.10)/100)"
        "**(1/252) - 1)*100 with 6 decimals, derived from the real Selic target path; not real CDI "
        "prints. For daily-rate loading, business-day gap checks and CDI/Selic consistency tests.",
    )
    add_sgs(
        1,
        sgs_1(),
        SGS_CAPTURE,
        "synthetic",
        "SYNTHETIC: USD/BRL PTAX sell (R$/US$), 4 decimals, one row per Brazilian business day; deterministic "
        "random walk (daily log-vol 0.8%) pinned near real levels (2.69 Jan-2015, 4.15 Sep-2015, 3.96 "
        "end-2015, 3.21 Jun-2016, 3.26 end-2016, 3.31 mid/end-2017, 4.19 Sep-2018, 3.87 end-2018). Not real "
        "PTAX prints. For FX loading and gap checks.",
    )
    add_sgs(
        433,
        sgs_433(),
        IPCA_CAPTURE,
        "synthetic",
        "Synthetic payload, real published values: IPCA m/m (%), monthly dated 01/MM/yyyy, 2015-01..2018-12 "
        "(IBGE IPCA monthly change as published). Captured after the Dec-2018 IPCA release "
        "(IBGE, 2019-01-11) so the last row is point-in-time consistent. For monthly-series loading.",
    )
    ibc1, ibc2 = sgs_24363()
    add_sgs(
        24363,
        ibc1,
        IBCBR_CAPTURES[0],
        "synthetic",
        "SYNTHETIC: IBC-Br (index, not seasonally adjusted), monthly, made-up levels ~135-145 with seasonality. "
        "Capture 1 of 2 of the same request: values 2015-01..2018-10 (IBC-Br lags ~45 days). SGS "
        "overwrites revisions, so the platform sees them only by comparing snapshots.",
        suffix="_captured_2019-01-07",
    )
    add_sgs(
        24363,
        ibc2,
        IBCBR_CAPTURES[1],
        "synthetic",
        "SYNTHETIC: IBC-Br capture 2 of 2 of the same request: values 2015-01..2018-11; 2018-08, 2018-09 and "
        "2018-10 are REVISED versus capture 1 (by a few hundredths to tenths), all earlier months "
        "identical. For snapshot-diff vintage building (SGS has no vintages).",
        suffix="_captured_2019-02-20",
    )
    files["bcb_sgs/manifest.json"] = manifest_bytes("bcb_sgs", sgs)

    # ---- FRED / ALFRED ----
    fred = []

    def add_fred(series_id, observations, captured_at, provenance, note):
        name = f"{series_id}_{win}.json"
        files[f"fred/{name}"] = fred_observations_body(observations)
        fred.append(exchange(FRED_URL, fred_params(series_id), FRED_HEADERS, name, captured_at, provenance, note))

    add_fred(
        "GDP",
        fred_gdp_derived(),
        GDP_CAPTURE,
        "derived",
        "DERIVED from the verbatim ALFRED sample fred/verbatim/series_observations_GDP_realtime_1776-07-04_"
        "to_2019-01-01.json (real response clipped at realtime_end=2019-01-01): what ALFRED returns for our "
        "request (realtime 1776-07-04..9999-12-31, observations 2015-01-01..2018-12-31) if called on "
        "2019-01-01. Kept only rows with date in the window; rows whose realtime_end was 2019-01-01 (the "
        "clip) became 9999-12-31 (they were the current vintage that day); header echo set to realtime "
        "1776-07-04/9999-12-31, observation 2015-01-01/2018-12-31, count = number of rows. Value strings, "
        "dates and realtime_start copied unchanged (not reformatted).",
    )
    add_fred(
        "CPIAUCSL",
        fred_cpiaucsl(),
        FRED_CAPTURE,
        "synthetic",
        "SYNTHETIC ALFRED vintages of CPIAUCSL (index, 3 decimals, ~234.7 -> ~252.8; not real values). "
        "Each month first appears at a release in the 2nd/3rd week of M+1; the February release (January "
        "data) revises all earlier months slightly (annual seasonal-factor revision). Captured 2019-01-07, "
        "before the Dec-2018 CPI release, so the last observation is 2018-11-01. For vintage/PIT tests.",
    )
    add_fred(
        "PAYEMS",
        fred_payems(),
        FRED_CAPTURE,
        "synthetic",
        "SYNTHETIC ALFRED vintages of PAYEMS (thousands, integer strings, ~140600 -> ~150200; not real "
        "values). Released first Friday of M+1 (previous weekday if a federal holiday), revised in each of "
        "the next two releases, annual benchmark (wedged level shift + small SA revisions) with the "
        "February release. For vintage/PIT and revision tests.",
    )
    add_fred(
        "UNRATE",
        fred_unrate(),
        FRED_CAPTURE,
        "synthetic",
        "SYNTHETIC ALFRED vintages of UNRATE (%, 1 decimal, 5.7 -> 3.9; not real values). Released first "
        "Friday of M+1; revised only by the annual seasonal-adjustment revision published with the "
        "December report in January (prior five years, +-0.1 on some months). For vintage/PIT tests.",
    )
    add_fred(
        "DGS10",
        fred_dgs10(),
        FRED_CAPTURE,
        "synthetic",
        "SYNTHETIC ALFRED rows of DGS10 (%, 2 decimals; path ~2.1 in 2015, ~1.4 Jul-2016, ~3.2 Nov-2018, "
        "~2.7 end-2018; not real values). A row for every weekday; '.' on Federal Reserve holidays "
        "(holidays.financial_holidays('FED')) as FRED does for market holidays; realtime_start = next FED "
        "business day; never revised (single open interval per date). For daily US-rate loading.",
    )
    files["fred/manifest.json"] = manifest_bytes("fred", fred)
    return files


def generate(out_dir: Path | str = RECORDINGS_DIR) -> list[str]:
    """Write every generated file under out_dir; returns the relative paths written (sorted)."""
    out_dir = Path(out_dir)
    files = build()
    for rel, data in files.items():
        path = out_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return sorted(files)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "out_dir", nargs="?", default=str(RECORDINGS_DIR), help="output directory (default: the recordings package)"
    )
    args = parser.parse_args(argv)
    for rel in generate(args.out_dir):
        print(rel)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
