"""Deterministic generator of the CFTC Commitments of Traders recordings (public reporting API, 2015..2018).

Run ``python -m macro_assets.recordings.cftc_cot.generate [OUT_DIR]`` (default: this directory); it rewrites
``manifest.json`` and every body byte for byte. No network: the values come from seeded ``random.Random`` streams,
the calendar from ``macro_assets.catalog.calendars`` (US_FEDERAL, via ``holidays``).

What is recorded (every body SYNTHETIC, in the real format of api-formats.md §10): for every cftc_cot dataset of the
catalog, one request per calendar year exactly as the connector asks (``$select`` of the report's fields,
``$where`` on the market code and the year's report dates, ``$order=report_date_as_yyyy_mm_dd,id``,
``$limit=1000&$offset=0``), answered with a JSON array of one flat object per weekly report, keys in ``$select``
order, every value a string, report dates as floating timestamps ``2015-01-06T00:00:00.000``.

- Reports are dated every Tuesday, the Monday before when the Tuesday is a federal holiday (2017-07-03); the last
  is 2018-12-18: the federal shutdown from 22 December 2018 held back the later reports past the capture.
- Open interest follows a Brownian bridge in logs pinned near each market's real magnitudes (BRL 25-60k, MXN
  120-240k, UST 10Y 2.9-3.7M...), the same path in every report type of a market; the Ultra 10-year note starts
  trading in January 2016, so its 2015 answer is an empty array. Each category's share of open interest wanders
  around a base (an AR(1) multiplier within [0.7, 1.3]), and one category per side takes the rest, so that every
  report adds up: the long side (longs plus spreading) and the short side (shorts plus spreading) each equal open
  interest, to the contract.
- A few values are suppressed and left out of their object, as the API does (BRL and VIX TFF spreading of asset
  managers / other reportables in about one week in twenty); the hidden value still counts in the sums.
- A later capture (2019-02-15) of BRL legacy 2018 carries a correction CFTC re-published: the report of 2018-06-12
  with 1,500 more commercial contracts on both sides and in open interest.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random
from pathlib import Path

from macro_assets.catalog import load_catalog
from macro_assets.catalog.calendars import is_business_day
from macro_assets.recordings.common import bridge, exchange, generator_main, manifest_bytes, nearest_index, write_files
from macro_assets.sources import cftc_cot

HERE = Path(__file__).resolve().parent
SEED = "macro_assets.recordings.cftc_cot/2019-01-07"
YEARS = (2015, 2016, 2017, 2018)
CAPTURED_AT = "2019-01-07T12:00:00Z"
LAST_REPORT = dt.date(2018, 12, 18)
HEADERS = {"Content-Type": "application/json;charset=utf-8"}
CALENDAR = "US_FEDERAL"
# (dataset code, report date, contracts added to commercial long, short and open interest) of the correction.
CORRECTION = ("BRL_legacy", dt.date(2018, 6, 12), 1500)
CORRECTED_AT = ("2019-02-15T12:00:00Z", "2019-02-15")

# Market code -> (name in 2015-2018, first report, open interest anchors (date, contracts)).
MARKETS = {
    "102741": ("BRAZILIAN REAL - CHICAGO MERCANTILE EXCHANGE", None, (30_000, 60_000, 25_000, 55_000)),
    "095741": ("MEXICAN PESO - CHICAGO MERCANTILE EXCHANGE", None, (180_000, 240_000, 120_000, 200_000)),
    "099741": ("EURO FX - CHICAGO MERCANTILE EXCHANGE", None, (420_000, 450_000, 560_000, 520_000)),
    "097741": ("JAPANESE YEN - CHICAGO MERCANTILE EXCHANGE", None, (200_000, 170_000, 250_000, 230_000)),
    "098662": ("U.S. DOLLAR INDEX - ICE FUTURES U.S.", None, (60_000, 50_000, 45_000, 70_000)),
    "13874A": (
        "E-MINI S&P 500 STOCK INDEX - CHICAGO MERCANTILE EXCHANGE",
        None,
        (2_900_000, 3_100_000, 3_300_000, 2_800_000),
    ),
    "1170E1": ("VIX FUTURES - CBOE FUTURES EXCHANGE", None, (300_000, 450_000, 700_000, 450_000)),
    "042601": (
        "2-YEAR U.S. TREASURY NOTES - CHICAGO BOARD OF TRADE",
        None,
        (1_300_000, 1_700_000, 2_100_000, 2_600_000),
    ),
    "044601": (
        "5-YEAR U.S. TREASURY NOTES - CHICAGO BOARD OF TRADE",
        None,
        (2_600_000, 3_200_000, 3_900_000, 4_300_000),
    ),
    "043602": (
        "10-YEAR U.S. TREASURY NOTES - CHICAGO BOARD OF TRADE",
        None,
        (2_900_000, 3_300_000, 3_700_000, 3_600_000),
    ),
    "043607": (
        "ULTRA 10-YEAR U.S. T-NOTES - CHICAGO BOARD OF TRADE",
        dt.date(2016, 1, 12),
        (50_000, 350_000, 500_000, 600_000),
    ),
    "020601": ("U.S. TREASURY BONDS - CHICAGO BOARD OF TRADE", None, (600_000, 650_000, 800_000, 950_000)),
    "020604": ("ULTRA U.S. TREASURY BONDS - CHICAGO BOARD OF TRADE", None, (600_000, 800_000, 850_000, 950_000)),
    "088691": ("GOLD - COMMODITY EXCHANGE INC.", None, (400_000, 550_000, 480_000, 470_000)),
    "067651": (
        "CRUDE OIL, LIGHT SWEET - NEW YORK MERCANTILE EXCHANGE",
        None,
        (1_700_000, 2_100_000, 2_400_000, 2_100_000),
    ),
}
ANCHOR_DATES = ("2015-01-06", "2016-06-14", "2017-06-13", "2018-12-18")
# Report -> (base share of open interest of every field but the two that take the rest, long rest, short rest).
PROFILES = {
    "legacy": (
        {
            "noncomm_positions_long_all": 0.35,
            "noncomm_positions_short_all": 0.30,
            "noncomm_postions_spread_all": 0.08,
            "nonrept_positions_long_all": 0.10,
            "nonrept_positions_short_all": 0.09,
        },
        "comm_positions_long_all",
        "comm_positions_short_all",
    ),
    "tff": (
        {
            "dealer_positions_long_all": 0.08,
            "dealer_positions_short_all": 0.15,
            "dealer_positions_spread_all": 0.01,
            "asset_mgr_positions_long": 0.35,
            "asset_mgr_positions_short": 0.10,
            "asset_mgr_positions_spread": 0.02,
            "lev_money_positions_long": 0.12,
            "lev_money_positions_short": 0.30,
            "lev_money_positions_spread": 0.03,
            "other_rept_positions_spread": 0.02,
            "nonrept_positions_long_all": 0.06,
            "nonrept_positions_short_all": 0.07,
        },
        "other_rept_positions_long",
        "other_rept_positions_short",
    ),
    "disaggregated": (
        {
            "prod_merc_positions_long": 0.12,
            "prod_merc_positions_short": 0.30,
            "swap_positions_long_all": 0.15,
            "swap__positions_short_all": 0.08,
            "swap__positions_spread_all": 0.04,
            "m_money_positions_long_all": 0.18,
            "m_money_positions_short_all": 0.06,
            "m_money_positions_spread": 0.08,
            "other_rept_positions_spread": 0.05,
            "nonrept_positions_long_all": 0.05,
            "nonrept_positions_short_all": 0.04,
        },
        "other_rept_positions_long",
        "other_rept_positions_short",
    ),
}
# Dataset code -> the field left out of about one report in twenty.
SUPPRESSED = {"BRL_tff": "asset_mgr_positions_spread", "VIX_tff": "other_rept_positions_spread"}
SUPPRESSED_SHARE = 0.05


def report_dates() -> list[dt.date]:
    """Every report date of the recorded window: Tuesdays, the Monday before a holiday Tuesday."""
    first = dt.date(2015, 1, 6)
    tuesdays = [first + dt.timedelta(weeks=i) for i in range((LAST_REPORT - first).days // 7 + 1)]
    return [d if is_business_day(CALENDAR, d) else d - dt.timedelta(days=1) for d in tuesdays]


def open_interest(code: str, dates: list[dt.date]) -> list[int]:
    anchors = [
        (nearest_index(dates, dt.date.fromisoformat(day)), math.log(level))
        for day, level in zip(ANCHOR_DATES, MARKETS[code][2], strict=True)
    ]
    return [round(math.exp(level)) for level in bridge(random.Random(f"{SEED}/oi/{code}"), anchors, 0.04)]


def positions(dataset: str, report: str, interest: list[int]) -> list[dict[str, int]]:
    """Every field of every report of a dataset, each side adding up to open interest."""
    bases, long_rest, short_rest = PROFILES[report]
    rng = random.Random(f"{SEED}/shares/{dataset}")
    walks = dict.fromkeys(bases, 0.0)
    out = []
    for total in interest:
        values = {}
        for name, base in bases.items():
            walks[name] = 0.97 * walks[name] + rng.gauss(0.0, 0.08)
            values[name] = round(total * base * min(1.3, max(0.7, math.exp(walks[name]))))
        spreading = sum(v for name, v in values.items() if "spread" in name)
        longs = sum(v for name, v in values.items() if "long" in name)
        shorts = sum(v for name, v in values.items() if "short" in name)
        values[long_rest] = total - longs - spreading
        values[short_rest] = total - shorts - spreading
        out.append(values)
    return out


def record(place: cftc_cot.Market, day: dt.date, total: int, values: dict[str, int], hidden: str | None) -> str:
    fields = {
        cftc_cot.MARKET_NAME: MARKETS[place.code][0],
        cftc_cot.REPORT_DATE: f"{day.isoformat()}T00:00:00.000",
        cftc_cot.MARKET_CODE: place.code,
        "open_interest_all": str(total),
    }
    fields.update((f.api, str(values[f.api])) for f in place.report.fields[1:] if f.api != hidden)
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":"))


def bodies(spec) -> dict[int, list[str]]:
    """Year -> the records (JSON text) of a dataset's reports."""
    place = cftc_cot.market(spec)
    dates = report_dates()
    interest = open_interest(place.code, dates)
    values = positions(spec.code, place.report.name, interest)
    rng = random.Random(f"{SEED}/suppressed/{spec.code}")
    start = MARKETS[place.code][1]
    out: dict[int, list[str]] = {year: [] for year in YEARS}
    for day, total, fields in zip(dates, interest, values, strict=True):
        hidden = SUPPRESSED.get(spec.code) if rng.random() < SUPPRESSED_SHARE else None
        if start is None or day >= start:
            out[day.year].append(record(place, day, total, fields, hidden))
    return out


def corrected(text: str) -> str:
    """The corrected report: more commercial contracts on both sides and in open interest."""
    fields = json.loads(text)
    for name in ("open_interest_all", "comm_positions_long_all", "comm_positions_short_all"):
        fields[name] = str(int(fields[name]) + CORRECTION[2])
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":"))


def build() -> dict[str, bytes]:
    """Every generated file: name -> bytes."""
    specs = sorted((s for s in load_catalog().datasets.values() if s.source == cftc_cot.SOURCE), key=lambda s: s.code)
    files, exchanges, later = {}, [], []
    for spec in specs:
        place = cftc_cot.market(spec)
        url = cftc_cot.RESOURCE_URL.format(dataset=place.dataset)
        records = bodies(spec)
        for year in YEARS:
            name = f"{spec.code}_{year}.json"
            files[name] = ("[" + ",".join(records[year]) + "]").encode("utf-8")
            what = f"{len(records[year])} weekly reports of {MARKETS[place.code][0]} ({place.report.name})"
            exchanges.append(
                exchange(
                    url,
                    cftc_cot.query(place, year),
                    HEADERS,
                    name,
                    CAPTURED_AT,
                    "synthetic",
                    f"SYNTHETIC public reporting API answer for {year} in the real Socrata format (not real "
                    f"positions): {what}. See generate.py.",
                )
            )
            if spec.code == CORRECTION[0] and year == CORRECTION[1].year:
                stamp = f'"{cftc_cot.REPORT_DATE}":"{CORRECTION[1].isoformat()}T00:00:00.000"'
                fixed = [corrected(text) if stamp in text else text for text in records[year]]
                later_name = f"{spec.code}_{year}_captured_{CORRECTED_AT[1]}.json"
                files[later_name] = ("[" + ",".join(fixed) + "]").encode("utf-8")
                later.append(
                    exchange(
                        url,
                        cftc_cot.query(place, year),
                        HEADERS,
                        later_name,
                        CORRECTED_AT[0],
                        "synthetic",
                        f"SYNTHETIC later capture of the same request: the report of {CORRECTION[1]} corrected "
                        f"(re-published with {CORRECTION[2]} more commercial contracts long, short and in open "
                        "interest); every other report unchanged. See generate.py.",
                    )
                )
    files["manifest.json"] = manifest_bytes({"source": cftc_cot.SOURCE, "exchanges": [*exchanges, *later]})
    return files


def generate(out_dir: Path | str = HERE) -> list[str]:
    return write_files(build(), out_dir)


def main(argv: list[str] | None = None) -> int:
    return generator_main(generate, HERE, __doc__, argv)


if __name__ == "__main__":
    raise SystemExit(main())
