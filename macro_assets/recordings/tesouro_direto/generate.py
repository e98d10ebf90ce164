"""Deterministic generator of the Tesouro Direto recording (PrecoTaxaTesouroDireto.csv, base dates 2015..2018).

Run ``python -m macro_assets.recordings.tesouro_direto.generate [OUT_DIR]`` (default: this directory); it
rewrites ``manifest.json`` and the body byte for byte. No network: the values come from seeded ``random.Random``
streams and the calendar from ``macro_assets.catalog.calendars`` (B3's, via ``holidays``).

The body is SYNTHETIC in the real format (api-formats.md §8 and the quoted file head in the samples): the exact
header, `;`, decimal comma with two decimals, dd/mm/yyyy, latin-1 bytes (the names carry no accent, so they are
ASCII), LF line ends with a final one (as the quoted head is saved), rows in no chronological order: blocks of one
bond type and base date, newest first within a year, the blocks of adjacent dates interleaved, the years in the
order 2017, 2015, 2018, 2016 (the real file starts with 2010 rows). A real capture on 2019-01-07 would also hold
2002..2014 and January 2019: the recording keeps the base dates of the recorded window only.

Bonds: LTN (January and July maturities), NTN-F (January), NTN-B (May and August), NTN-B Principal (May and August), LFT
(March and September) and one NTN-C (IGP-M+, in no curve dataset), each listed from its first sale to the day
before it matures; a handful are offered for purchase at a time, the others are sale-only (`Taxa Compra Manha`
0,00 and `PU Compra Manha` 0,00), as in the real file.

Values (made up, never real prints): buy rates on a curve level + slope x (1 - exp(-t/k)) whose level and slope
follow Brownian bridges pinned to approximate real paths (nominal ~12-16 % in 2015-2016 to ~7-10 % in 2018; real
~4-7.5 %), t in business days / 252; sell rate = buy rate + 0.02..0.10; base price at the sell rate + 0.01.
Prices: LTN 1000/(1+r)^(du/252) and NTN-F its 10 % coupons discounted the same way (exact for the model); NTN-B,
NTN-B Principal, LFT and NTN-C the same cash flows times a nominal value (VNA) grown at approximate yearly IPCA,
Selic and IGP-M rates (approximate: not the published VNA).
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
import random
from dataclasses import dataclass
from pathlib import Path

from macro_assets.catalog.calendars import business_days
from macro_assets.recordings.common import generator_main, manifest_bytes, write_files

HERE = Path(__file__).resolve().parent
SEED = "macro_assets.recordings.tesouro_direto/2019-01-07"
FIRST, LAST = dt.date(2015, 1, 1), dt.date(2018, 12, 31)
CAPTURED_AT = "2019-01-07T12:00:00Z"
URL = (
    "https://www.tesourotransparente.gov.br/ckan/dataset/df56aa42-484a-4a59-8184-7676580c81e3/resource/"
    "796d2059-14e9-44e3-80c9-2d9e30b405c1/download/precotaxatesourodireto.csv"
)
BODY = "precotaxatesourodireto_2015-2018_captured_2019-01-07.csv"
HEADER = (
    "Tipo Titulo;Data Vencimento;Data Base;Taxa Compra Manha;Taxa Venda Manha;PU Compra Manha;PU Venda Manha;"
    "PU Base Manha"
)
YEAR_ORDER = (2017, 2015, 2018, 2016)

LTN, NTNF = "Tesouro Prefixado", "Tesouro Prefixado com Juros Semestrais"
NTNB_P, NTNB = "Tesouro IPCA+", "Tesouro IPCA+ com Juros Semestrais"
LFT, NTNC = "Tesouro Selic", "Tesouro IGPM+ com Juros Semestrais"


@dataclass(frozen=True)
class Bond:
    name: str
    maturity: dt.date
    listed: dt.date  # first base date in the file
    offered: tuple[dt.date, dt.date] | None  # base dates it can be bought on


def _d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def _bond(name: str, maturity: str, listed: str = "2014-12-31", offered: tuple[str, str] | None = None) -> Bond:
    return Bond(name, _d(maturity), _d(listed), (_d(offered[0]), _d(offered[1])) if offered else None)


BONDS = (
    _bond(LTN, "2015-07-01"),
    _bond(LTN, "2016-01-01"),
    _bond(LTN, "2017-01-01"),
    _bond(LTN, "2018-01-01", offered=("2015-01-01", "2015-12-31")),
    _bond(LTN, "2019-01-01", "2016-01-04", ("2016-01-04", "2016-12-31")),
    _bond(LTN, "2020-01-01", "2017-01-02", ("2017-01-02", "2017-12-31")),
    _bond(LTN, "2021-01-01", offered=("2015-01-01", "2018-12-31")),
    _bond(LTN, "2023-01-01", "2016-01-04", ("2016-01-04", "2018-12-31")),
    _bond(LTN, "2025-01-01", "2018-01-02", ("2018-01-02", "2018-12-31")),
    _bond(NTNF, "2017-01-01"),
    _bond(NTNF, "2021-01-01"),
    _bond(NTNF, "2023-01-01"),
    _bond(NTNF, "2025-01-01", offered=("2015-01-01", "2016-12-31")),
    _bond(NTNF, "2027-01-01", "2016-01-04", ("2017-01-02", "2018-12-31")),
    _bond(NTNF, "2029-01-01", "2018-01-02", ("2018-01-02", "2018-12-31")),
    _bond(NTNB, "2020-08-15"),
    _bond(NTNB, "2024-08-15", offered=("2015-01-01", "2016-12-31")),
    _bond(NTNB, "2026-08-15", "2016-01-04", ("2016-01-04", "2018-12-31")),
    _bond(NTNB, "2035-05-15", offered=("2015-01-01", "2018-12-31")),
    _bond(NTNB, "2045-05-15"),
    _bond(NTNB, "2050-08-15", offered=("2015-01-01", "2018-12-31")),
    _bond(NTNB_P, "2015-05-15"),
    _bond(NTNB_P, "2019-05-15", offered=("2015-01-01", "2015-12-31")),
    _bond(NTNB_P, "2024-08-15", offered=("2015-01-01", "2018-12-31")),
    _bond(NTNB_P, "2035-05-15", offered=("2015-01-01", "2018-12-31")),
    _bond(NTNB_P, "2045-05-15", "2018-01-02", ("2018-01-02", "2018-12-31")),
    _bond(LFT, "2015-03-07"),
    _bond(LFT, "2017-03-07"),
    _bond(LFT, "2021-03-01", offered=("2015-01-01", "2018-12-31")),
    _bond(LFT, "2023-03-01", "2017-01-02"),
    _bond(LFT, "2024-09-01", "2018-07-02", ("2018-07-02", "2018-12-31")),
    _bond(NTNC, "2031-01-01"),
)

# (date, nominal level, nominal slope, real level, real slope) in % a.a.: approximate real paths.
CURVE_ANCHORS = (
    ("2015-01-02", 12.4, 0.0, 5.8, 0.3),
    ("2015-03-31", 13.3, -0.1, 6.1, 0.2),
    ("2015-06-30", 14.2, -1.3, 6.6, 0.0),
    ("2015-09-24", 15.6, 0.6, 7.4, 0.0),
    ("2015-12-30", 15.5, 0.8, 7.1, 0.1),
    ("2016-03-31", 14.1, -0.1, 6.8, -0.2),
    ("2016-06-30", 13.6, -1.4, 6.4, -0.3),
    ("2016-09-30", 13.3, -1.6, 6.0, -0.2),
    ("2016-12-29", 12.6, -1.1, 5.9, -0.2),
    ("2017-03-31", 10.3, -0.1, 5.3, 0.2),
    ("2017-06-30", 9.1, 1.5, 4.9, 0.5),
    ("2017-09-29", 7.8, 2.0, 4.5, 0.8),
    ("2017-12-28", 7.0, 3.2, 4.3, 1.0),
    ("2018-03-29", 6.5, 2.8, 4.3, 0.9),
    ("2018-06-15", 7.2, 3.6, 4.6, 1.4),
    ("2018-09-28", 7.6, 3.4, 4.9, 1.0),
    ("2018-12-28", 6.8, 2.6, 4.2, 0.8),
)
CURVE_SIGMAS = (0.06, 0.05, 0.025, 0.02)
CURVE_DECAYS = {"nominal": 2.5, "real": 6.0}
# Yearly rates the nominal values grow at (approximate): IPCA (NTN-B), Selic (LFT), IGP-M (NTN-C).
INDEX_RATES = {
    "ipca": {2015: 10.67, 2016: 6.29, 2017: 2.95, 2018: 3.75},
    "selic": {2015: 13.3, 2016: 14.0, 2017: 10.0, 2018: 6.5},
    "igpm": {2015: 10.5, 2016: 7.2, 2017: -0.5, 2018: 7.5},
}
INDEX_START = {"ipca": 2596.0, "selic": 6480.0, "igpm": 2950.0}  # VNA on 2015-01-01 (approximate)
COUPONS = {NTNF: 1.10**0.5 - 1, NTNB: 1.06**0.5 - 1, NTNC: 1.12**0.5 - 1}  # per semester
INDEXED = {NTNB_P: "ipca", NTNB: "ipca", LFT: "selic", NTNC: "igpm"}


def _bridge(rng: random.Random, days: list[dt.date], anchors: list[tuple[dt.date, float]], sigma: float) -> list[float]:
    """A Gaussian random walk pinned to each (date, level) anchor (a Brownian bridge per segment), flat before the
    first anchor and after the last."""
    index = {day: i for i, day in enumerate(days)}
    points = [(index[day], level) for day, level in anchors]
    path = [points[0][1]] * (points[0][0] + 1)
    for (i0, v0), (i1, v1) in zip(points, points[1:], strict=False):
        steps, walk = i1 - i0, [0.0]
        for _ in range(steps):
            walk.append(walk[-1] + rng.gauss(0.0, sigma))
        path.extend(v0 + (v1 - v0) * k / steps + walk[k] - walk[-1] * k / steps for k in range(1, steps + 1))
    return path + [points[-1][1]] * (len(days) - len(path))


class Calendar:
    """B3 business days far enough ahead for the longest bond, to count du (business days to a cash flow)."""

    def __init__(self, last: dt.date):
        self.days = business_days("BR", FIRST, last)

    def du(self, start: dt.date, flow: dt.date) -> int:
        return bisect.bisect_left(self.days, flow) - bisect.bisect_left(self.days, start)


def _flows(bond: Bond, day: dt.date) -> list[tuple[dt.date, float]]:
    """(date, amount per unit of face or nominal value) of the cash flows after `day`."""
    coupon = COUPONS.get(bond.name)
    if coupon is None:
        return [(bond.maturity, 1.0)]
    flows, pay = [], bond.maturity
    while pay > day:
        flows.append((pay, coupon + (1.0 if pay == bond.maturity else 0.0)))
        pay = (
            pay.replace(year=pay.year - 1, month=pay.month + 6) if pay.month <= 6 else pay.replace(month=pay.month - 6)
        )
    return flows


def _index_values(days: list[dt.date]) -> dict[str, dict[dt.date, float]]:
    """Each index's nominal value on each day, grown daily at its yearly rate."""
    values = {}
    for index, start in INDEX_START.items():
        level, previous, by_day = start, FIRST, {}
        for day in days:
            level *= (1 + INDEX_RATES[index][day.year] / 100) ** ((day - previous).days / 365)
            previous, by_day[day] = day, level
        values[index] = by_day
    return values


def _money(value: float) -> str:
    return f"{value:.2f}".replace(".", ",")


def rows() -> list[tuple[dt.date, str, str]]:
    """(base date, bond name, CSV line) of every bond listed on every B3 business day of the window."""
    calendar = Calendar(max(b.maturity for b in BONDS) + dt.timedelta(days=10))
    days = [d for d in calendar.days if d <= LAST]
    anchors = [(_d(a[0]), a[1:]) for a in CURVE_ANCHORS]
    paths = [
        _bridge(random.Random(f"{SEED}/curve{i}"), days, [(d, v[i]) for d, v in anchors], sigma)
        for i, sigma in enumerate(CURVE_SIGMAS)
    ]
    index = _index_values(days)
    noise, spreads = random.Random(f"{SEED}/bond_noise"), random.Random(f"{SEED}/spreads")
    out = []
    for i, day in enumerate(days):
        nominal_level, nominal_slope, real_level, real_slope = (path[i] for path in paths)
        for bond in BONDS:
            if not bond.listed <= day < bond.maturity:
                continue
            years = calendar.du(day, bond.maturity) / 252
            if bond.name == LFT:  # a spread over Selic, near zero
                buy = max(0.0, round(0.01 + 0.004 * years + noise.gauss(0.0, 0.008), 2))
            elif bond.name in (LTN, NTNF):
                curve = nominal_level + nominal_slope * (1 - math.exp(-years / CURVE_DECAYS["nominal"]))
                buy = round(curve + (0.05 if bond.name == NTNF else 0.0) + noise.gauss(0.0, 0.015), 2)
            else:
                curve = real_level + real_slope * (1 - math.exp(-years / CURVE_DECAYS["real"]))
                buy = round(curve + (0.3 if bond.name == NTNC else 0.0) + noise.gauss(0.0, 0.015), 2)
            sell = round(buy + min(0.10, 0.02 + 0.004 * years + spreads.choice((0.0, 0.01))), 2)
            flows = [(calendar.du(day, pay) / 252, amount) for pay, amount in _flows(bond, day)]
            scale = index[INDEXED[bond.name]][day] if bond.name in INDEXED else 1000.0

            def price(rate: float, flows=flows, scale=scale) -> float:
                return scale * sum(amount / (1 + rate / 100) ** t for t, amount in flows)

            offered = bond.offered is not None and bond.offered[0] <= day <= bond.offered[1]
            cells = [
                bond.name,
                bond.maturity.strftime("%d/%m/%Y"),
                day.strftime("%d/%m/%Y"),
                _money(buy) if offered else "0,00",
                _money(sell),
                _money(price(buy)) if offered else "0,00",
                _money(price(sell)),
                _money(price(sell + 0.01)),
            ]
            out.append((day, bond.name, ";".join(cells)))
    return out


def csv_body(lines: list[tuple[dt.date, str, str]]) -> bytes:
    """The real file's order: blocks of one bond type and base date, dates newest first within a year, the blocks
    of each pair of adjacent dates shuffled together, the rows of a block shuffled, the years out of order."""
    rng = random.Random(f"{SEED}/order")
    blocks: dict[tuple[dt.date, str], list[str]] = {}
    for day, name, line in lines:
        blocks.setdefault((day, name), []).append(line)
    ordered = []
    for year in YEAR_ORDER:
        dates = sorted({day for day, _ in blocks if day.year == year}, reverse=True)
        for pair in (dates[i : i + 2] for i in range(0, len(dates), 2)):
            keys = [key for key in blocks if key[0] in pair]
            rng.shuffle(keys)
            for key in keys:
                block = blocks[key]
                rng.shuffle(block)
                ordered.extend(block)
    return ("\n".join([HEADER, *ordered]) + "\n").encode("latin-1")


def build() -> dict[str, bytes]:
    """Every generated file: name -> bytes."""
    lines = rows()
    manifest = {
        "source": "tesouro_direto",
        "exchanges": [
            {
                "request": {"method": "GET", "url": URL, "params": {}},
                "response": {"status": 200, "headers": {"Content-Type": "text/csv"}, "body_file": BODY},
                "captured_at": CAPTURED_AT,
                "provenance": "synthetic",
                "note": (
                    f"SYNTHETIC PrecoTaxaTesouroDireto.csv in the real format (not real prices): {len(lines)} rows, "
                    f"base dates {FIRST}..{LAST} only (a real capture holds the whole history since 2002), LTN, NTN-F, "
                    "NTN-B, NTN-B Principal, LFT and one NTN-C, sale-only bonds with Taxa/PU Compra 0,00, rows in no "
                    "chronological order, latin-1. See generate.py."
                ),
            }
        ],
    }
    return {
        BODY: csv_body(lines),
        "manifest.json": manifest_bytes(manifest),
    }


def generate(out_dir: Path | str = HERE) -> list[str]:
    return write_files(build(), out_dir)


def main(argv: list[str] | None = None) -> int:
    return generator_main(generate, HERE, __doc__, argv)


if __name__ == "__main__":
    raise SystemExit(main())
