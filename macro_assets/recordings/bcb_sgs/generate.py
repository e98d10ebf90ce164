"""Deterministic generator of the BCB SGS recordings (series 432, 12, 1, 433, two captures of 24363, and one capture of
every other catalog series: prices, rates, activity, external accounts, FX flow, public debt, credit), replayed
offline.

Run ``python -m macro_assets.recordings.bcb_sgs.generate [OUT_DIR]`` (default: this directory); it rewrites
``manifest.json`` and every body byte for byte. No network: every random draw comes from a ``random.Random`` seeded
per series with a fixed string (stdlib Mersenne Twister, stable across Python versions), the calendar from
``holidays`` (the national BR holidays only; see README.md, "Known assumptions").

Body byte conventions (see README.md): a compact JSON array of ``{"data":"dd/MM/yyyy","valor":"<dot-decimal>"}``,
ascending, no trailing newline.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Context, Decimal
from pathlib import Path

import holidays

from macro_assets.catalog.calendars import add_months
from macro_assets.recordings.common import (
    bridge,
    days,
    exchange,
    generator_main,
    manifest_bytes,
    month_starts,
    nearest_index,
    write_files,
)
from macro_assets.sources.bcb_sgs import BASE_URL, SOURCE

HERE = Path(__file__).resolve().parent
SEED = "macro_assets.recordings/2019-01-07"  # the seed the BCB SGS and FRED recordings were first generated with
WINDOW_START = dt.date(2015, 1, 1)
WINDOW_END = dt.date(2018, 12, 31)
WINDOW = f"{WINDOW_START.isoformat()}_{WINDOW_END.isoformat()}"

# The request the connector sends for the recorded window.
PARAMS = {
    "formato": "json",
    "dataInicial": WINDOW_START.strftime("%d/%m/%Y"),
    "dataFinal": WINDOW_END.strftime("%d/%m/%Y"),
}
HEADERS = {"Content-Type": "application/json"}
# The query parameters that bound the observation window: the replay answers a request for a window inside the
# recorded one with that recording (see macro_assets.http.ReplayTransport).
WINDOW_PARAMS = {"start": "dataInicial", "end": "dataFinal", "format": "%d/%m/%Y"}

CAPTURED_AT = "2019-01-07T12:00:00Z"
IPCA_CAPTURED_AT = "2019-01-14T12:00:00Z"  # after IBGE published Dec-2018 IPCA (2019-01-11)
IBCBR_CAPTURED_AT = ("2019-01-07T12:00:00Z", "2019-02-20T12:00:00Z")

BR_HOLIDAYS = holidays.country_holidays("BR", years=range(2014, 2020))  # national holidays only (brief)

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

# PTAX anchors: year-ends from the brief; mid-year pins keep the shape close to the real one.
PTAX_ANCHORS = [
    (dt.date(2015, 1, 2), 2.69),  # the first business day of the window
    (dt.date(2015, 9, 23), 4.15),
    (dt.date(2015, 12, 31), 3.96),
    (dt.date(2016, 6, 30), 3.21),
    (dt.date(2016, 12, 31), 3.26),
    (dt.date(2017, 6, 30), 3.31),
    (dt.date(2017, 12, 31), 3.31),
    (dt.date(2018, 9, 13), 4.19),
    (dt.date(2018, 12, 31), 3.87),
]

IPCA_MM = {
    2015: ["1.24", "1.22", "1.32", "0.71", "0.74", "0.79", "0.62", "0.22", "0.54", "0.82", "1.01", "0.96"],
    2016: ["1.27", "0.90", "0.43", "0.61", "0.78", "0.35", "0.52", "0.44", "0.08", "0.26", "0.18", "0.30"],
    2017: ["0.38", "0.33", "0.25", "0.14", "0.31", "-0.23", "0.24", "0.19", "0.16", "0.42", "0.28", "0.44"],
    2018: ["0.29", "0.32", "0.09", "0.22", "0.40", "1.26", "0.33", "-0.09", "0.48", "0.45", "-0.21", "0.15"],
}

# Multiplicative seasonal pattern of the (not seasonally adjusted) IBC-Br, % deviation by month.
IBCBR_SEASONAL = [-3.0, -4.0, 2.5, -1.0, 1.0, -0.5, 1.5, 2.5, -0.5, 2.0, -0.5, 0.0]
IBCBR_LAST_MONTH = dt.date(2018, 11, 1)  # in the second capture; the first ends a month earlier
IBCBR_FIRST_CAPTURE_LAST_MONTH = dt.date(2018, 10, 1)
IBCBR_REVISED_MONTHS = (dt.date(2018, 8, 1), dt.date(2018, 9, 1), dt.date(2018, 10, 1))

Rows = list[tuple[dt.date, str]]


def rng_for(name: str) -> random.Random:
    """One independent, stable RNG stream per series (str seeds hash with SHA-512, not hash())."""
    return random.Random(f"{SEED}/{name}")


def br_business_days(start: dt.date, end: dt.date) -> list[dt.date]:
    return [d for d in days(start, end) if d.weekday() < 5 and d not in BR_HOLIDAYS]


def selic_target(d: dt.date) -> str:
    val = None
    for start, v in SELIC_TARGET_PATH:
        if d >= start:
            val = v
    assert val is not None
    return val


def cdi_daily(target: str) -> str:
    ctx = Context(prec=40)
    annual = ctx.divide(ctx.subtract(Decimal(target), Decimal("0.10")), Decimal(100))
    daily = ctx.subtract(ctx.power(ctx.add(Decimal(1), annual), ctx.divide(Decimal(1), Decimal(252))), Decimal(1))
    pct = ctx.multiply(daily, Decimal(100))
    return str(pct.quantize(Decimal("0.000001"), rounding=ROUND_HALF_EVEN))


def selic_rows() -> Rows:
    """432: every calendar day, through the day the last target is listed until."""
    return [(d, selic_target(d)) for d in days(WINDOW_START, SELIC_LISTED_UNTIL)]


def cdi_rows() -> Rows:
    """12: every BR business day, from the Selic target."""
    return [(d, cdi_daily(selic_target(d))) for d in br_business_days(WINDOW_START, WINDOW_END)]


def ptax_rows() -> Rows:
    """1: every BR business day, a log random walk pinned to PTAX_ANCHORS."""
    bd = br_business_days(WINDOW_START, WINDOW_END)
    anchors = [(nearest_index(bd, d), math.log(v)) for d, v in PTAX_ANCHORS]
    path = bridge(rng_for("sgs_1_ptax"), anchors, sigma=0.008)
    return [(d, f"{math.exp(x):.4f}") for d, x in zip(bd, path)]


def ipca_rows() -> Rows:
    """433: the published monthly IPCA changes, dated day 01."""
    return [(dt.date(y, m + 1, 1), v) for y, vals in sorted(IPCA_MM.items()) for m, v in enumerate(vals)]


def ibcbr_levels() -> tuple[dict[dt.date, int], dict[dt.date, int]]:
    """(levels, revised levels) of 24363 in hundredths, every month through IBCBR_LAST_MONTH."""
    rng = rng_for("sgs_24363_ibcbr")
    months = month_starts(WINDOW_START, IBCBR_LAST_MONTH)
    anchors = [(0, math.log(143.0)), (23, math.log(136.5)), (35, math.log(138.5)), (len(months) - 1, math.log(140.0))]
    trend = bridge(rng, anchors, sigma=0.004)
    levels = {}
    for m, x in zip(months, trend):
        lvl = math.exp(x) * (1 + IBCBR_SEASONAL[m.month - 1] / 100) * (1 + rng.gauss(0.0, 0.004))
        levels[m] = round(lvl * 100)
    revised = dict(levels)
    for m in IBCBR_REVISED_MONTHS:
        delta = rng.randint(3, 40) * rng.choice((-1, 1))  # a few hundredths to tenths
        revised[m] = levels[m] + delta
    return levels, revised


def ibcbr_first_capture_rows() -> Rows:
    """24363 as captured on 2019-01-07: through 2018-10."""
    levels, _ = ibcbr_levels()
    return [(m, f"{levels[m] / 100:.2f}") for m in levels if m <= IBCBR_FIRST_CAPTURE_LAST_MONTH]


def ibcbr_second_capture_rows() -> Rows:
    """24363 as captured on 2019-02-20: through 2018-11, with IBCBR_REVISED_MONTHS revised."""
    _, revised = ibcbr_levels()
    return [(m, f"{revised[m] / 100:.2f}") for m in revised]


# ------------------------------------------------------------------------------------------ the scale-up series
CAPTURE_DATE = dt.date(2019, 1, 7)
# IPCA m/m of 2014 (IBGE, as published): the 12-month IPCA of 2015 compounds them.
IPCA_MM_2014 = ["0.55", "0.69", "0.92", "0.67", "0.46", "0.40", "0.01", "0.25", "0.57", "0.42", "0.51", "0.78"]
# Published calendar-year changes (%) the monthly draws of each price index add up to.
ANNUAL_CHANGES = {
    188: {2015: 11.28, 2016: 6.58, 2017: 2.07, 2018: 3.43},  # INPC (IBGE)
    189: {2015: 10.54, 2016: 7.17, 2017: -0.52, 2018: 7.54},  # IGP-M (FGV)
    190: {2015: 10.70, 2016: 7.15, 2017: -0.42, 2018: 7.10},  # IGP-DI (FGV)
    191: {2015: 10.53, 2016: 6.18, 2017: 3.23, 2018: 4.32},  # IPC-Br (FGV)
    7447: {2015: 10.6, 2016: 7.2, 2017: -0.7, 2018: 7.8},  # IGP-10 (FGV), approximate
    7450: {2015: 11.2, 2016: 7.7, 2017: -2.5, 2018: 9.9},  # IPA-M (FGV), approximate
    192: {2015: 7.5, 2016: 6.1, 2017: 4.2, 2018: 3.9},  # INCC (FGV), approximate
    11427: {2015: 7.0, 2016: 6.9, 2017: 3.6, 2018: 2.8},  # IPCA core EX0 (BCB), approximate
}
# TJLP (% a.a.) by the quarter it is valid in, as set by the CMN before each quarter.
TJLP_BY_QUARTER = {
    2015: ("5.50", "6.00", "6.50", "7.00"),
    2016: ("7.50", "7.50", "7.50", "7.50"),
    2017: ("7.50", "7.00", "7.00", "7.00"),
    2018: ("6.75", "6.60", "6.56", "6.98"),
}
# FX flow (US$ million, commercial and financial) pinned to the BCB's announced months (press coverage of the
# release of 2015-10-07): Aug-2015 total +4111 (its split made up), Sep-2015 commercial +1167, financial -1277.
FX_FLOW_PINS = {dt.date(2015, 8, 1): (3500, 611), dt.date(2015, 9, 1): (1167, -1277)}


def released_through(lag_days: int) -> dt.date:
    """The last month whose value, published `lag_days` after its end, is out before the capture."""
    month = WINDOW_END.replace(day=1)
    while add_months(month, 1) - dt.timedelta(days=1) + dt.timedelta(days=lag_days) >= CAPTURE_DATE:
        month = add_months(month, -1)
    return month


def monthly_path(
    name: str, anchors: list[tuple[dt.date, float]], sigma: float, decimals: int, lag_days: int, log: bool = False
) -> Rows:
    """A monthly level, a random walk (in logs if `log`) pinned to (month, level) anchors, through the last month
    out before the capture."""
    months = month_starts(WINDOW_START, released_through(lag_days))
    pins = [(nearest_index(months, d), math.log(v) if log else v) for d, v in anchors]
    path = bridge(rng_for(name), pins, sigma)
    return [(m, f"{math.exp(x) if log else x:.{decimals}f}") for m, x in zip(months, path)]


def monthly_changes(code: int, lag_days: int, sigma: float = 0.25) -> Rows:
    """Monthly % changes around the year's published total: noisy months shifted so they add up to it (over the
    months out by the capture, pro rata)."""
    rng = rng_for(f"sgs_{code}_changes")
    last = released_through(lag_days)
    rows = []
    for year, total in ANNUAL_CHANGES[code].items():
        months = [m for m in month_starts(dt.date(year, 1, 1), dt.date(year, 12, 1)) if m <= last]
        draws = [rng.gauss(total / 12, sigma) for _ in months]
        shift = (total * len(months) / 12 - sum(draws)) / len(months)
        rows += [(m, f"{x + shift:.2f}") for m, x in zip(months, draws)]
    return rows


def ipca_12m_rows() -> Rows:
    """13522: IPCA over 12 months, compounded from the real m/m changes (433 and 2014)."""
    changes = [Decimal(v) for v in IPCA_MM_2014] + [Decimal(v) for _, v in ipca_rows()]
    rows = []
    for i, (month, _) in enumerate(ipca_rows()):
        factor = math.prod(1 + float(c) / 100 for c in changes[i + 1 : i + 13])
        rows.append((month, f"{(factor - 1) * 100:.2f}"))
    return rows


def daily_rate(target: str, spread: str, decimals: str) -> Decimal:
    """(target - spread) in % a.a. compounded to one of 252 business days, in % a.d."""
    ctx = Context(prec=40)
    annual = ctx.divide(ctx.subtract(Decimal(target), Decimal(spread)), Decimal(100))
    daily = ctx.subtract(ctx.power(ctx.add(Decimal(1), annual), ctx.divide(Decimal(1), Decimal(252))), Decimal(1))
    return ctx.multiply(daily, Decimal(100)).quantize(Decimal(decimals), rounding=ROUND_HALF_EVEN)


def selic_daily_rows() -> Rows:
    """11: the Selic over rate (% a.d.), 0.09 below the target (the CDI runs 0.01 under it)."""
    return [
        (d, str(daily_rate(selic_target(d), "0.09", "0.000001"))) for d in br_business_days(WINDOW_START, WINDOW_END)
    ]


def annualized_rows(spread: str) -> Callable[[], Rows]:
    """1178 (Selic) and 4389 (CDI) annualized on 252 business days: the target less its spread, % a.a."""

    def rows() -> Rows:
        return [
            (d, f"{Decimal(selic_target(d)) - Decimal(spread):.2f}") for d in br_business_days(WINDOW_START, WINDOW_END)
        ]

    return rows


def selic_month_rows() -> Rows:
    """4390: the Selic over compounded over each month's business days, % in the month."""
    rows = []
    for month in month_starts(WINDOW_START, WINDOW_END):
        factor = math.prod(
            1 + float(daily_rate(selic_target(d), "0.09", "0.000001")) / 100
            for d in br_business_days(month, add_months(month, 1) - dt.timedelta(days=1))
        )
        rows.append((month, f"{(factor - 1) * 100:.2f}"))
    return rows


def tjlp_rows() -> Rows:
    """256: the TJLP of each month, constant over its quarter."""
    return [(m, TJLP_BY_QUARTER[m.year][(m.month - 1) // 3]) for m in month_starts(WINDOW_START, WINDOW_END)]


def ptax_buy_rows() -> Rows:
    """10813: USD/BRL buy, the sell rate (series 1) less the usual 0.0006 bid-ask spread."""
    return [(d, f"{Decimal(v) - Decimal('0.0006'):.4f}") for d, v in ptax_rows()]


def ibcbr_sa_rows() -> Rows:
    """24364: the IBC-Br of the first capture without its seasonal pattern."""
    levels, _ = ibcbr_levels()
    return [
        (m, f"{levels[m] / 100 / (1 + IBCBR_SEASONAL[m.month - 1] / 100):.2f}")
        for m in levels
        if m <= IBCBR_FIRST_CAPTURE_LAST_MONTH
    ]


def reserves_rows() -> Rows:
    """13621: international reserves (liquidity concept, US$ million), every BR business day."""
    bd = br_business_days(WINDOW_START, WINDOW_END)
    anchors = [(dt.date(2015, 1, 2), 363500), (dt.date(2016, 1, 4), 356500), (dt.date(2017, 1, 2), 365000),
               (dt.date(2018, 1, 2), 374000), (dt.date(2018, 12, 31), 374700)]  # fmt: skip
    path = bridge(rng_for("sgs_13621_reserves"), [(nearest_index(bd, d), v) for d, v in anchors], sigma=450.0)
    return [(d, f"{x:.0f}") for d, x in zip(bd, path)]


def fx_flow() -> dict[dt.date, tuple[int, int]]:
    """(commercial, financial) net FX contracting per month, US$ million: exports net positive most months, the
    financial account in outflow, deepest in December (year-end profit and dividend remittances)."""
    rng = rng_for("sgs_13961_fx_flow")
    flows = {}
    for m in month_starts(WINDOW_START, released_through(7)):
        commercial = round(rng.gauss(3200.0, 2300.0))
        financial = round(rng.gauss(-11000.0 if m.month == 12 else -2600.0, 3800.0))
        flows[m] = FX_FLOW_PINS.get(m, (commercial, financial))
    return flows


def fx_flow_rows(part: str) -> Callable[[], Rows]:
    """13967 commercial, 13970 financial, 13961 their total."""

    def rows() -> Rows:
        pick = {"commercial": lambda c, f: c, "financial": lambda c, f: f, "total": lambda c, f: c + f}[part]
        return [(m, str(pick(c, f))) for m, (c, f) in fx_flow().items()]

    return rows


def balance_of_payments(name: str, mean: dict[int, float], sd: float, lag_days: int = 26) -> Callable[[], Rows]:
    """A monthly BoP line (US$ million, 1 decimal) around a per-year mean."""

    def rows() -> Rows:
        rng = rng_for(name)
        months = month_starts(WINDOW_START, released_through(lag_days))
        return [(m, f"{rng.gauss(mean[m.year], sd):.1f}") for m in months]

    return rows


def goods_trade(name: str, exports: bool) -> Callable[[], Rows]:
    """22708 goods exports and 22709 goods imports (US$ million, 1 decimal), consistent with the 22707 balance."""

    def rows() -> Rows:
        rng = rng_for("sgs_22708_22709_goods")
        out = []
        for m, balance in balance_of_payments("sgs_22707_trade", TRADE_BALANCE_MEAN, 1500.0)():
            flows = rng.gauss(IMPORTS_MEAN[m.year], 1200.0)
            out.append((m, f"{flows + float(balance):.1f}" if exports else f"{flows:.1f}"))
        return out

    return rows


TRADE_BALANCE_MEAN = {2015: 1400.0, 2016: 3800.0, 2017: 5400.0, 2018: 4400.0}  # 2015-2018 annual ~17, 45, 64, 53 bn
IMPORTS_MEAN = {2015: 14300.0, 2016: 11500.0, 2017: 12500.0, 2018: 15000.0}


@dataclass(frozen=True)
class Recorded:
    """One recorded exchange: an SGS series, how its body's rows are made, when it was captured and its note."""

    code: int
    rows: Callable[[], Rows]
    captured_at: str
    note: str
    repeated: bool = False  # one of several captures of the same request: the body file names its capture date
    provenance: str = "synthetic"

    @property
    def body_file(self) -> str:
        return f"{self.code}_{WINDOW}" + (f"_captured_{self.captured_at[:10]}" if self.repeated else "") + ".json"


RECORDED = (
    Recorded(
        432,
        selic_rows,
        CAPTURED_AT,
        "SYNTHETIC payload, real values: Selic target (meta Copom, % a.a.), one row per calendar day, real "
        "Copom target path 2015-2018 (from the published decisions). Reproduces the real 432 quirk: the "
        "response lists FUTURE-DATED rows 01/01/2019..06/02/2019 (target 6.50 valid until the next Copom "
        "decision), i.e. rows beyond dataFinal=31/12/2018 and after the capture date. Used to test the "
        "connector/loader clipping of rows outside the requested window and after knowledge time.",
    ),
    Recorded(
        12,
        cdi_rows,
        CAPTURED_AT,
        "SYNTHETIC: CDI daily (% a.d.), one row per Brazilian business day (weekdays minus "
        "holidays.country_holidays('BR') national holidays), value = ((1 + (selic_target - 0.10)/100)"
        "**(1/252) - 1)*100 with 6 decimals, derived from the real Selic target path; not real CDI "
        "prints. For daily-rate loading, business-day gap checks and CDI/Selic consistency tests.",
    ),
    Recorded(
        1,
        ptax_rows,
        CAPTURED_AT,
        "SYNTHETIC: USD/BRL PTAX sell (R$/US$), 4 decimals, one row per Brazilian business day; deterministic "
        "random walk (daily log-vol 0.8%) pinned near real levels (2.69 Jan-2015, 4.15 Sep-2015, 3.96 "
        "end-2015, 3.21 Jun-2016, 3.26 end-2016, 3.31 mid/end-2017, 4.19 Sep-2018, 3.87 end-2018). Not real "
        "PTAX prints. For FX loading and gap checks.",
    ),
    Recorded(
        433,
        ipca_rows,
        IPCA_CAPTURED_AT,
        "Synthetic payload, real published values: IPCA m/m (%), monthly dated 01/MM/yyyy, 2015-01..2018-12 "
        "(IBGE IPCA monthly change as published). Captured after the Dec-2018 IPCA release "
        "(IBGE, 2019-01-11) so the last row is point-in-time consistent. For monthly-series loading.",
    ),
    Recorded(
        24363,
        ibcbr_first_capture_rows,
        IBCBR_CAPTURED_AT[0],
        "SYNTHETIC: IBC-Br (index, not seasonally adjusted), monthly, made-up levels ~135-145 with seasonality. "
        "Capture 1 of 2 of the same request: values 2015-01..2018-10 (IBC-Br lags ~45 days). SGS "
        "overwrites revisions, so the platform sees them only by comparing snapshots.",
        repeated=True,
    ),
    Recorded(
        24363,
        ibcbr_second_capture_rows,
        IBCBR_CAPTURED_AT[1],
        "SYNTHETIC: IBC-Br capture 2 of 2 of the same request: values 2015-01..2018-11; 2018-08, 2018-09 and "
        "2018-10 are REVISED versus capture 1 (by a few hundredths to tenths), all earlier months "
        "identical. For snapshot-diff vintage building (SGS has no vintages).",
        repeated=True,
    ),
    Recorded(
        13522,
        ipca_12m_rows,
        IPCA_CAPTURED_AT,
        "Synthetic payload computed from real published values: IPCA over 12 months (%), compounded from the real "
        "IBGE monthly changes of 2014-2018 (series 433 and the 2014 months), 2 decimals; may differ from the "
        "published 12-month figure (computed from index numbers) by 0.01. Captured with 433.",
    ),
    Recorded(
        188,
        lambda: monthly_changes(188, 10),
        CAPTURED_AT,
        "SYNTHETIC: INPC m/m (%), made-up months whose calendar-year sums are the published INPC changes "
        "(11.28, 6.58, 2.07, 3.43; pro rata for 2018, whose December is released after the capture).",
    ),
    Recorded(
        189,
        lambda: monthly_changes(189, 0, sigma=0.35),
        CAPTURED_AT,
        "SYNTHETIC: IGP-M m/m (%), made-up months whose calendar-year sums are the published IGP-M changes "
        "(10.54, 7.17, -0.52, 7.54); FGV publishes the month at its end, so December 2018 is in. Negative months "
        "are normal (2017 deflation).",
    ),
    Recorded(
        190,
        lambda: monthly_changes(190, 8, sigma=0.35),
        CAPTURED_AT,
        "SYNTHETIC: IGP-DI m/m (%), made-up months whose calendar-year sums are the published IGP-DI changes "
        "(10.70, 7.15, -0.42, 7.10), December 2018 published after the capture.",
    ),
    Recorded(
        191,
        lambda: monthly_changes(191, 2, sigma=0.2),
        CAPTURED_AT,
        "SYNTHETIC: IPC-Br m/m (%), made-up months whose calendar-year sums are the published IPC-Br changes "
        "(10.53, 6.18, 3.23, 4.32).",
    ),
    Recorded(
        7447,
        lambda: monthly_changes(7447, 0, sigma=0.35),
        CAPTURED_AT,
        "SYNTHETIC: IGP-10 m/m (%), made-up months adding up to approximate yearly changes (10.6, 7.2, -0.7, 7.8).",
    ),
    Recorded(
        7450,
        lambda: monthly_changes(7450, 0, sigma=0.5),
        CAPTURED_AT,
        "SYNTHETIC: IPA-M (wholesale prices) m/m (%), made-up months adding up to approximate yearly changes "
        "(11.2, 7.7, -2.5, 9.9); the most volatile of the FGV indices.",
    ),
    Recorded(
        192,
        lambda: monthly_changes(192, 8, sigma=0.2),
        CAPTURED_AT,
        "SYNTHETIC: INCC (construction costs) m/m (%), made-up months adding up to approximate yearly changes "
        "(7.5, 6.1, 4.2, 3.9).",
    ),
    Recorded(
        11427,
        lambda: monthly_changes(11427, 10, sigma=0.12),
        CAPTURED_AT,
        "SYNTHETIC: IPCA core EX0 m/m (%), made-up months adding up to approximate yearly changes "
        "(7.0, 6.9, 3.6, 2.8), published with the IPCA (December 2018 after the capture).",
    ),
    Recorded(
        11,
        selic_daily_rows,
        CAPTURED_AT,
        "SYNTHETIC: Selic over rate (% a.d.), one row per Brazilian business day, ((1 + (target - 0.09)/100)"
        "**(1/252) - 1)*100 with 6 decimals from the real Copom target path (the CDI, series 12, runs 0.01 below).",
    ),
    Recorded(
        1178,
        annualized_rows("0.09"),
        CAPTURED_AT,
        "SYNTHETIC: Selic over annualized on 252 business days (% a.a.), the real Copom target less 0.09, one row "
        "per Brazilian business day.",
    ),
    Recorded(
        4389,
        annualized_rows("0.10"),
        CAPTURED_AT,
        "SYNTHETIC: CDI annualized on 252 business days (% a.a.), the real Copom target less 0.10, one row per "
        "Brazilian business day (consistent with the daily CDI, series 12).",
    ),
    Recorded(
        4390,
        selic_month_rows,
        CAPTURED_AT,
        "SYNTHETIC: Selic accumulated in the month (%), series 11 compounded over each month's business days.",
    ),
    Recorded(
        256,
        tjlp_rows,
        CAPTURED_AT,
        "Synthetic payload, real published values: TJLP (% a.a.) per month, constant within each quarter as set "
        "by the CMN (5.50 in Q1-2015 to 7.50 in 2016, 6.98 in Q4-2018).",
    ),
    Recorded(
        10813,
        ptax_buy_rows,
        CAPTURED_AT,
        "SYNTHETIC: USD/BRL buy rate (R$/US$), 4 decimals, the series 1 sell rate less 0.0006, one row per "
        "Brazilian business day. Not real PTAX prints.",
    ),
    Recorded(
        24364,
        ibcbr_sa_rows,
        IBCBR_CAPTURED_AT[0],
        "SYNTHETIC: IBC-Br seasonally adjusted (index), the first capture of 24363 divided by its seasonal factor, "
        "2015-01..2018-10.",
    ),
    Recorded(
        24369,
        lambda: monthly_path(
            "sgs_24369_unemployment",
            [
                (dt.date(2015, 1, 1), 6.8),
                (dt.date(2015, 12, 1), 9.0),
                (dt.date(2016, 12, 1), 12.0),
                (dt.date(2017, 3, 1), 13.7),
                (dt.date(2017, 12, 1), 11.8),
                (dt.date(2018, 3, 1), 13.1),
                (dt.date(2018, 11, 1), 11.6),
            ],  # fmt: skip
            sigma=0.12,
            decimals=1,
            lag_days=30,
        ),
        CAPTURED_AT,
        "SYNTHETIC: PNAD Continua unemployment rate (%), rolling quarter ending in the month, pinned near real "
        "levels (6.8 Jan-2015, 12.0 Dec-2016, 13.7 Mar-2017, 11.6 Nov-2018); IBGE publishes a month ~30 days on.",
    ),
    Recorded(
        4380,
        lambda: monthly_path(
            "sgs_4380_gdp",
            [
                (dt.date(2015, 1, 1), 478000.0),
                (dt.date(2016, 1, 1), 494000.0),
                (dt.date(2017, 1, 1), 520000.0),
                (dt.date(2018, 1, 1), 540000.0),
                (dt.date(2018, 11, 1), 590000.0),
            ],  # fmt: skip
            sigma=9000.0,
            decimals=1,
            lag_days=30,
        ),
        CAPTURED_AT,
        "SYNTHETIC: monthly GDP at current prices (R$ million), made-up months near the real annual totals "
        "(~6.0 trillion in 2015 to ~7.0 trillion in 2018).",
    ),
    Recorded(
        22701,
        balance_of_payments(
            "sgs_22701_current_account", {2015: -4500.0, 2016: -2000.0, 2017: -600.0, 2018: -1200.0}, 2200.0
        ),  # fmt: skip
        CAPTURED_AT,
        "SYNTHETIC: current account (BPM6), monthly balance (US$ million, 1 decimal), made-up months around the "
        "real yearly deficits (~-54 bn 2015, ~-24 bn 2016, ~-7 bn 2017, ~-15 bn 2018). Negative values are normal.",
    ),
    Recorded(
        22707,
        balance_of_payments("sgs_22707_trade", TRADE_BALANCE_MEAN, 1500.0),
        CAPTURED_AT,
        "SYNTHETIC: goods trade balance in the balance of payments (BPM6), monthly (US$ million, 1 decimal), "
        "made-up months around the real yearly surpluses (~17, 45, 64, 53 bn).",
    ),
    Recorded(
        22708,
        goods_trade("sgs_22708_exports", exports=True),
        CAPTURED_AT,
        "SYNTHETIC: goods exports (BPM6), monthly (US$ million, 1 decimal); imports (22709) plus the 22707 balance.",
    ),
    Recorded(
        22709,
        goods_trade("sgs_22709_imports", exports=False),
        CAPTURED_AT,
        "SYNTHETIC: goods imports (BPM6), monthly (US$ million, 1 decimal), made-up months around ~11-15 bn.",
    ),
    Recorded(
        22719,
        balance_of_payments("sgs_22719_services", {2015: -3100.0, 2016: -2500.0, 2017: -2800.0, 2018: -2900.0}, 600.0),
        CAPTURED_AT,
        "SYNTHETIC: services balance (BPM6), monthly (US$ million, 1 decimal), always a deficit of ~2-4 bn.",
    ),
    Recorded(
        22800,
        balance_of_payments(
            "sgs_22800_primary_income", {2015: -3500.0, 2016: -3300.0, 2017: -3600.0, 2018: -4200.0}, 1800.0
        ),  # fmt: skip
        CAPTURED_AT,
        "SYNTHETIC: primary income balance (BPM6), monthly (US$ million, 1 decimal): interest, profits and "
        "dividends sent abroad, a deficit of ~1-8 bn a month.",
    ),
    Recorded(
        13621,
        reserves_rows,
        CAPTURED_AT,
        "SYNTHETIC: international reserves, liquidity concept (US$ million), one row per Brazilian business day, "
        "a random walk near the real ~356-380 bn of 2015-2018.",
    ),
    Recorded(
        13961,
        fx_flow_rows("total"),
        CAPTURED_AT,
        "SYNTHETIC: FX flow (fluxo cambial, contracted), total net, monthly (US$ million): commercial (13967) plus "
        "financial (13970). Aug-2015 (+4111) and Sep-2015 (-110) follow the BCB's announced figures, the rest is "
        "made up. Negative values (net outflows) are normal, deepest in December.",
    ),
    Recorded(
        13967,
        fx_flow_rows("commercial"),
        CAPTURED_AT,
        "SYNTHETIC: FX flow, commercial (trade) net, monthly (US$ million), Sep-2015 +1167 as announced by the BCB; "
        "the split of Aug-2015 and every other month made up.",
    ),
    Recorded(
        13970,
        fx_flow_rows("financial"),
        CAPTURED_AT,
        "SYNTHETIC: FX flow, financial net, monthly (US$ million), Sep-2015 -1277 as announced by the BCB, the rest "
        "made up; mostly outflows.",
    ),
    Recorded(
        4513,
        lambda: monthly_path(
            "sgs_4513_dlsp",
            [
                (dt.date(2015, 1, 1), 33.1),
                (dt.date(2015, 12, 1), 35.6),
                (dt.date(2016, 12, 1), 46.2),
                (dt.date(2017, 12, 1), 51.4),
                (dt.date(2018, 2, 1), 52.0),
                (dt.date(2018, 11, 1), 53.9),
            ],  # fmt: skip
            sigma=0.4,
            decimals=2,
            lag_days=30,
        ),
        CAPTURED_AT,
        "SYNTHETIC: net public sector debt (DLSP, % of GDP), monthly, pinned near the published path (35.6 "
        "end-2015, 46.2 end-2016, 51.4 end-2017, 52.0 Feb-2018); the BCB publishes a month ~30 days on.",
    ),
    Recorded(
        13762,
        lambda: monthly_path(
            "sgs_13762_dbgg",
            [
                (dt.date(2015, 1, 1), 57.2),
                (dt.date(2015, 12, 1), 65.5),
                (dt.date(2016, 12, 1), 69.9),
                (dt.date(2017, 12, 1), 74.0),
                (dt.date(2018, 1, 1), 74.5),
                (dt.date(2018, 2, 1), 75.1),
                (dt.date(2018, 11, 1), 76.9),
            ],  # fmt: skip
            sigma=0.4,
            decimals=2,
            lag_days=30,
        ),
        CAPTURED_AT,
        "SYNTHETIC: general government gross debt (DBGG, % of GDP), monthly, pinned near the published path "
        "(65.5 end-2015, 69.9 end-2016, 74.0 end-2017, 74.5 Jan-2018, 75.1 Feb-2018).",
    ),
    Recorded(
        20539,
        lambda: monthly_path(
            "sgs_20539_credit",
            [
                (dt.date(2015, 1, 1), 3020000.0),
                (dt.date(2015, 12, 1), 3220000.0),
                (dt.date(2016, 12, 1), 3110000.0),
                (dt.date(2017, 12, 1), 3090000.0),
                (dt.date(2018, 11, 1), 3230000.0),
            ],  # fmt: skip
            sigma=15000.0,
            decimals=0,
            lag_days=27,
        ),
        CAPTURED_AT,
        "SYNTHETIC: outstanding credit of the financial system, total (R$ million), monthly, near the real "
        "~3.0-3.3 trillion of 2015-2018.",
    ),
    Recorded(
        20540,
        lambda: monthly_path(
            "sgs_20540_credit_firms",
            [
                (dt.date(2015, 1, 1), 1580000.0),
                (dt.date(2015, 12, 1), 1700000.0),
                (dt.date(2016, 12, 1), 1540000.0),
                (dt.date(2017, 12, 1), 1430000.0),
                (dt.date(2018, 11, 1), 1440000.0),
            ],  # fmt: skip
            sigma=9000.0,
            decimals=0,
            lag_days=27,
        ),
        CAPTURED_AT,
        "SYNTHETIC: outstanding credit to firms (R$ million), monthly, shrinking from ~1.7 trillion in 2015.",
    ),
    Recorded(
        20541,
        lambda: monthly_path(
            "sgs_20541_credit_households",
            [
                (dt.date(2015, 1, 1), 1440000.0),
                (dt.date(2015, 12, 1), 1520000.0),
                (dt.date(2016, 12, 1), 1570000.0),
                (dt.date(2017, 12, 1), 1660000.0),
                (dt.date(2018, 11, 1), 1790000.0),
            ],  # fmt: skip
            sigma=6000.0,
            decimals=0,
            lag_days=27,
        ),
        CAPTURED_AT,
        "SYNTHETIC: outstanding credit to households (R$ million), monthly, growing from ~1.44 to ~1.8 trillion.",
    ),
)


def sgs_body(rows: Rows) -> bytes:
    """SGS: JSON array of {"data":"dd/MM/yyyy","valor":"<dot-decimal string>"}, ascending, compact."""
    dates = [d for d, _ in rows]
    assert dates == sorted(dates) and len(set(dates)) == len(dates)
    payload = [{"data": d.strftime("%d/%m/%Y"), "valor": v} for d, v in rows]
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def recorded_exchange(recorded: Recorded) -> dict:
    url = BASE_URL.format(code=recorded.code)
    return exchange(url, PARAMS, HEADERS, recorded.body_file, recorded.captured_at, recorded.provenance, recorded.note)


def build() -> dict[str, bytes]:
    """Every generated file: name -> bytes."""
    files = {recorded.body_file: sgs_body(recorded.rows()) for recorded in RECORDED}
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
