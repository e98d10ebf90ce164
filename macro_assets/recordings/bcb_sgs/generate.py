"""Deterministic generator of the BCB SGS recordings (series 432, 12, 1, 433 and two captures of 24363), replayed offline.

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
