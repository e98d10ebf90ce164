"""Deterministic generator of the US Treasury recordings (par and real yield curves, 2015..2018), replayed offline.

Run ``python -m macro_assets.recordings.us_treasury.generate [OUT_DIR]`` (default: this directory); it rewrites
``manifest.json`` and every body byte for byte. No network: the values come from seeded ``random.Random`` streams
and the calendar from ``macro_assets.catalog.calendars`` (the Federal Reserve's, via ``holidays``).

What is recorded (every body SYNTHETIC, in the real formats of api-formats.md §9):

- the CSV the connector fetches, one per year and curve, ``daily-treasury-rates.csv/<year>/all?type=<data>
  &field_tdr_date_value=<year>&page&_format=csv``: header ``Date,"1 Mo",...`` (real: ``Date,"5 YR",...``), rows
  newest first, MM/DD/YYYY, two decimals, blank cells, LF line ends with a final one (as the samples are saved);
- the Atom feed of 2018 for both curves (``pages/xml?data=<data>&field_tdr_date_value=2018``), the same values as
  the 2018 CSVs, so the two formats can be compared; the feed envelope (ids, titles, links) follows the retired
  data.treasury.gov feed quoted in the samples, whose Id numbering it continues (Id 6832 = 2017-04-14);
- a second capture of the 2018 par CSV a week later, with the 2018-12-14 curve revised (5, 7 and 10 Yr +0.02):
  a re-published curve is a new vintage.

Choices (where the real files could not be checked):

- Dates: the Federal Reserve's business days. Good Friday is one, but the bond market closed fully on 2016-03-25
  and 2017-04-14 (early closes on 2015-04-03 and 2018-03-30): those two dates are listed with every tenor blank,
  as the CSV shows a date without a curve (the retired feed had zeros for 2017-04-14).
- Tenors: 1, 3, 6 Mo and 1..30 Yr throughout; the 2018 file adds "2 Mo", blank before 2018-10-16 (the feed:
  ``m:null="true"``). No 4 Mo or 1.5 Month (2022 and 2025). The real curve has 5, 7, 10, 20 and 30 YR.
- Values: a Nelson-Siegel-Svensson curve (decays 1 and 8 years) through the 3-month, 2-, 10- and 30-year yields of
  each day, which follow Brownian bridges pinned to approximately real levels (10 Yr 2.12 on 2015-01-02, 1.37 on
  2016-07-08, 3.24 on 2018-11-08, 2.69 on 2018-12-31); nominal yields floored at 0. Real yields: the 10-year real
  yield pinned to approximate TIPS levels (-0.05..1.14), the other tenors on a slope that flattens from 2015 to
  2018. Never real prints.
- Feed order: entries by date, except three early-close days (2018-07-03, 2018-11-23, 2018-12-24) listed last
  with later Ids, as a feed ordered by Id lists rows written late.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from pathlib import Path

from macro_assets.catalog.calendars import business_days
from macro_assets.recordings.common import generator_main, manifest_bytes, write_files

HERE = Path(__file__).resolve().parent
SEED = "macro_assets.recordings.us_treasury/2019-01-07"
YEARS = (2015, 2016, 2017, 2018)
CAPTURED_AT = "2019-01-07T12:00:00Z"
REVISED_AT = "2019-01-14T12:00:00Z"
REVISED_DAY = dt.date(2018, 12, 14)
REVISED_TENORS = ("5 Yr", "7 Yr", "10 Yr")
NO_CURVE_DAYS = (dt.date(2016, 3, 25), dt.date(2017, 4, 14))
TWO_MONTH_FROM = dt.date(2018, 10, 16)
LATE_FEED_ENTRIES = (dt.date(2018, 7, 3), dt.date(2018, 11, 23), dt.date(2018, 12, 24))
FEED_YEAR = 2018
FEED_ID_ORIGIN = (dt.date(2017, 4, 14), 6832)  # the retired feed's Id of Good Friday 2017 (samples/treasury)

RATES_PAGE = "https://home.treasury.gov/resource-center/data-chart-center/interest-rates"
CSV_URL = RATES_PAGE + "/daily-treasury-rates.csv/{year}/all"
XML_URL = RATES_PAGE + "/pages/xml"
CSV_HEADERS = {"Content-Type": "text/csv; charset=utf-8"}
XML_HEADERS = {"Content-Type": "application/xml; charset=utf-8"}
NOMINAL, REAL = "daily_treasury_yield_curve", "daily_treasury_real_yield_curve"

# (CSV label, feed element, years)
NOMINAL_TENORS = (
    ("1 Mo", "BC_1MONTH", 1 / 12),
    ("2 Mo", "BC_2MONTH", 2 / 12),
    ("3 Mo", "BC_3MONTH", 0.25),
    ("6 Mo", "BC_6MONTH", 0.5),
    ("1 Yr", "BC_1YEAR", 1),
    ("2 Yr", "BC_2YEAR", 2),
    ("3 Yr", "BC_3YEAR", 3),
    ("5 Yr", "BC_5YEAR", 5),
    ("7 Yr", "BC_7YEAR", 7),
    ("10 Yr", "BC_10YEAR", 10),
    ("20 Yr", "BC_20YEAR", 20),
    ("30 Yr", "BC_30YEAR", 30),
)
REAL_TENORS = (
    ("5 YR", "TC_5YEAR", 5),
    ("7 YR", "TC_7YEAR", 7),
    ("10 YR", "TC_10YEAR", 10),
    ("20 YR", "TC_20YEAR", 20),
    ("30 YR", "TC_30YEAR", 30),
)
# Where each real tenor sits relative to the 10-year, in units of the day's real slope.
REAL_LOADINGS = {5: -0.7, 7: -0.3, 10: 0.0, 20: 0.85, 30: 1.0}

# Approximate real levels: date, 3 Mo, 2 Yr, 10 Yr, 30 Yr, 10-year real yield, real slope.
ANCHORS = (
    ("2015-01-02", 0.03, 0.66, 2.12, 2.69, 0.42, 0.50),
    ("2015-01-30", 0.02, 0.47, 1.68, 2.25, 0.18, 0.50),
    ("2015-03-31", 0.03, 0.56, 1.94, 2.54, 0.19, 0.50),
    ("2015-06-10", 0.01, 0.72, 2.49, 3.19, 0.58, 0.49),
    ("2015-06-30", 0.01, 0.64, 2.35, 3.11, 0.50, 0.48),
    ("2015-09-30", 0.00, 0.64, 2.06, 2.87, 0.65, 0.47),
    ("2015-12-31", 0.16, 1.06, 2.27, 3.01, 0.73, 0.45),
    ("2016-02-11", 0.28, 0.64, 1.66, 2.50, 0.46, 0.45),
    ("2016-03-31", 0.21, 0.73, 1.78, 2.61, 0.18, 0.44),
    ("2016-06-30", 0.26, 0.58, 1.49, 2.30, 0.06, 0.43),
    ("2016-07-08", 0.29, 0.60, 1.37, 2.11, -0.05, 0.43),
    ("2016-09-30", 0.29, 0.77, 1.60, 2.32, 0.01, 0.42),
    ("2016-12-15", 0.51, 1.27, 2.60, 3.16, 0.62, 0.40),
    ("2016-12-30", 0.51, 1.20, 2.45, 3.06, 0.50, 0.40),
    ("2017-03-13", 0.75, 1.40, 2.62, 3.21, 0.55, 0.37),
    ("2017-06-30", 1.03, 1.38, 2.31, 2.84, 0.55, 0.33),
    ("2017-09-07", 1.03, 1.27, 2.05, 2.66, 0.27, 0.30),
    ("2017-12-29", 1.39, 1.89, 2.40, 2.74, 0.43, 0.25),
    ("2018-03-29", 1.73, 2.27, 2.74, 2.97, 0.74, 0.18),
    ("2018-05-17", 1.93, 2.58, 3.11, 3.25, 0.97, 0.12),
    ("2018-06-29", 1.93, 2.52, 2.85, 2.98, 0.74, 0.11),
    ("2018-09-28", 2.20, 2.81, 3.05, 3.19, 0.92, 0.10),
    ("2018-11-08", 2.35, 2.98, 3.24, 3.45, 1.14, 0.09),
    ("2018-12-31", 2.45, 2.48, 2.69, 3.02, 0.98, 0.08),
)
# Daily volatility of each anchored path: 3 Mo, 10-2 Yr spread, 10 Yr, 30-10 Yr spread, 10-year real, real slope.
SIGMAS = (0.008, 0.018, 0.035, 0.012, 0.03, 0.004)
DECAYS = (1.0, 8.0)  # the Svensson decay times, in years


def _bridge(rng: random.Random, days: list[dt.date], anchors: list[tuple[dt.date, float]], sigma: float) -> list[float]:
    """A Gaussian random walk pinned to each (date, level) anchor: a Brownian bridge per segment."""
    index = {day: i for i, day in enumerate(days)}
    points = [(index[day], level) for day, level in anchors]
    path = [points[0][1]]
    for (i0, v0), (i1, v1) in zip(points, points[1:], strict=False):
        steps, walk = i1 - i0, [0.0]
        for _ in range(steps):
            walk.append(walk[-1] + rng.gauss(0.0, sigma))
        path.extend(v0 + (v1 - v0) * k / steps + walk[k] - walk[-1] * k / steps for k in range(1, steps + 1))
    return path


def _svensson_loadings(years: float) -> list[float]:
    short, long = (years / decay for decay in DECAYS)
    hump = (1 - math.exp(-short)) / short
    return [1.0, hump, hump - math.exp(-short), (1 - math.exp(-long)) / long - math.exp(-long)]


def _solve(matrix: list[list[float]], values: list[float]) -> list[float]:
    """Gauss-Jordan elimination with partial pivoting (pure Python: bit-identical on every machine)."""
    rows = [[*row, value] for row, value in zip(matrix, values, strict=True)]
    size = len(rows)
    for col in range(size):
        pivot = max(range(col, size), key=lambda r: abs(rows[r][col]))
        rows[col], rows[pivot] = rows[pivot], rows[col]
        for r in range(size):
            if r != col:
                factor = rows[r][col] / rows[col][col]
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[col], strict=True)]
    return [rows[i][size] / rows[i][i] for i in range(size)]


FIT_TENORS = (0.25, 2.0, 10.0, 30.0)
FIT_MATRIX = [_svensson_loadings(t) for t in FIT_TENORS]


def curves() -> tuple[list[dt.date], dict[dt.date, dict[float, float]], dict[dt.date, dict[float, float]]]:
    """(days, nominal yields by tenor, real yields by tenor) of every Federal Reserve business day 2015..2018."""
    days = business_days("US", dt.date(YEARS[0], 1, 1), dt.date(YEARS[-1], 12, 31))
    anchors = [(dt.date.fromisoformat(a[0]), a[1:]) for a in ANCHORS]
    columns = [
        [(day, levels[0]) for day, levels in anchors],
        [(day, levels[2] - levels[1]) for day, levels in anchors],
        [(day, levels[2]) for day, levels in anchors],
        [(day, levels[3] - levels[2]) for day, levels in anchors],
        [(day, levels[4]) for day, levels in anchors],
        [(day, levels[5]) for day, levels in anchors],
    ]
    names = ("3m", "10y-2y", "10y", "30y-10y", "real10y", "real_slope")
    paths = [
        _bridge(random.Random(f"{SEED}/{name}"), days, column, sigma)
        for name, column, sigma in zip(names, columns, SIGMAS, strict=True)
    ]
    noise = random.Random(f"{SEED}/real_tenor_noise")
    nominal, real = {}, {}
    for i, day in enumerate(days):
        short, spread2, ten, spread30, real10, slope = (path[i] for path in paths)
        betas = _solve(FIT_MATRIX, [max(short, 0.0), ten - spread2, ten, ten + spread30])
        nominal[day] = {
            years: max(0.0, sum(b * x for b, x in zip(betas, _svensson_loadings(years), strict=True)))
            for _, _, years in NOMINAL_TENORS
        }
        real[day] = {
            years: real10 + slope * REAL_LOADINGS[years] + (noise.gauss(0.0, 0.008) if years != 10 else 0.0)
            for _, _, years in REAL_TENORS
        }
    return days, nominal, real


def _tenors(data: str, year: int) -> tuple[tuple[str, str, float], ...]:
    if data == REAL:
        return REAL_TENORS
    return tuple(t for t in NOMINAL_TENORS if t[0] != "2 Mo" or year >= TWO_MONTH_FROM.year)


def _cells(data: str, day: dt.date, values: dict[float, float]) -> dict[str, str]:
    """CSV label -> cell of one day ('' where the tenor has no value)."""
    cells = {}
    for label, _, years in _tenors(data, day.year):
        blank = day in NO_CURVE_DAYS or (label == "2 Mo" and day < TWO_MONTH_FROM)
        cells[label] = "" if blank else f"{values[years]:.2f}"
    return cells


def csv_body(data: str, year: int, rows: dict[dt.date, dict[str, str]]) -> bytes:
    labels = [label for label, _, _ in _tenors(data, year)]
    lines = ["Date," + ",".join(f'"{label}"' for label in labels)]
    for day in sorted((d for d in rows if d.year == year), reverse=True):
        lines.append(",".join([day.strftime("%m/%d/%Y"), *(rows[day][label] for label in labels)]))
    return ("\n".join(lines) + "\n").encode("utf-8")


def feed_body(data: str, year: int, days: list[dt.date], rows: dict[dt.date, dict[str, str]]) -> bytes:
    entity = "DailyTreasuryYieldCurveRate" if data == NOMINAL else "DailyTreasuryRealYieldCurveRate"
    origin_day, origin_id = FEED_ID_ORIGIN
    ordinal = {day: origin_id + i for i, day in enumerate(d for d in days if d >= origin_day)}
    dated = [d for d in days if d.year == year]
    ordered = [d for d in dated if d not in LATE_FEED_ENTRIES] + list(LATE_FEED_ENTRIES)
    ids = {day: ordinal[day] for day in dated if day not in LATE_FEED_ENTRIES}
    ids.update({day: ordinal[dated[-1]] + 1 + k for k, day in enumerate(LATE_FEED_ENTRIES)})
    base = f"{XML_URL}?data={data}&amp;field_tdr_date_value={year}"
    out = [
        '<?xml version="1.0" encoding="utf-8" standalone="yes"?>',
        f'<feed xml:base="{XML_URL}" xmlns:d="http://schemas.microsoft.com/ado/2007/08/dataservices" '
        'xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata" xmlns="http://www.w3.org/2005/Atom">',
        f'  <title type="text">{entity}Data</title>',
        f"  <id>{base}</id>",
        f"  <updated>{CAPTURED_AT}</updated>",
        f'  <link rel="self" title="{entity}Data" href="{entity}Data" />',
    ]
    for day in ordered:
        out += [
            "  <entry>",
            f"    <id>{XML_URL}/{entity}Data({ids[day]})</id>",
            '    <title type="text"></title>',
            f"    <updated>{CAPTURED_AT}</updated>",
            "    <author>",
            "      <name />",
            "    </author>",
            f'    <link rel="edit" title="{entity}Datum" href="{entity}Data({ids[day]})" />',
            f'    <category term="TreasuryDataWarehouseModel.{entity}Datum" '
            'scheme="http://schemas.microsoft.com/ado/2007/08/dataservices/scheme" />',
            '    <content type="application/xml">',
            "      <m:properties>",
            f'        <d:Id m:type="Edm.Int32">{ids[day]}</d:Id>',
            f'        <d:NEW_DATE m:type="Edm.DateTime">{day.isoformat()}T00:00:00</d:NEW_DATE>',
        ]
        cells = rows[day]
        for label, element, _ in _tenors(data, year):
            out.append(
                f'        <d:{element} m:null="true" />'
                if cells[label] == ""
                else f'        <d:{element} m:type="Edm.Double">{cells[label]}</d:{element}>'
            )
        if data == NOMINAL:  # the feed repeats the 30-year rate for display
            thirty = cells["30 Yr"]
            out.append(
                '        <d:BC_30YEARDISPLAY m:null="true" />'
                if thirty == ""
                else f'        <d:BC_30YEARDISPLAY m:type="Edm.Double">{thirty}</d:BC_30YEARDISPLAY>'
            )
        out += ["      </m:properties>", "    </content>", "  </entry>"]
    out.append("</feed>")
    return ("\n".join(out) + "\n").encode("utf-8")


def _exchange(
    url: str, params: dict[str, str], headers: dict[str, str], body_file: str, captured_at: str, note: str
) -> dict:
    return {
        "request": {"method": "GET", "url": url, "params": params},
        "response": {"status": 200, "headers": headers, "body_file": body_file},
        "captured_at": captured_at,
        "provenance": "synthetic",
        "note": note,
    }


def build() -> dict[str, bytes]:
    """Every generated file: name -> bytes."""
    days, nominal, real = curves()
    rows = {
        NOMINAL: {day: _cells(NOMINAL, day, nominal[day]) for day in days},
        REAL: {day: _cells(REAL, day, real[day]) for day in days},
    }
    files, exchanges = {}, []
    for data, what in ((NOMINAL, "par yield curve (nominal)"), (REAL, "real yield curve")):
        for year in YEARS:
            name = f"{data}_{year}.csv"
            files[name] = csv_body(data, year, rows[data])
            blanks = ", ".join(d.isoformat() for d in NO_CURVE_DAYS if d.year == year)
            exchanges.append(
                _exchange(
                    CSV_URL.format(year=year),
                    {"type": data, "field_tdr_date_value": str(year), "page": "", "_format": "csv"},
                    CSV_HEADERS,
                    name,
                    CAPTURED_AT,
                    f"SYNTHETIC {what} CSV for {year} in the real format (not real values): Federal Reserve business "
                    f"days, newest first"
                    + (f"; {blanks} listed with every tenor blank (bond market closed)" if blanks else "")
                    + ("; '2 Mo' blank before 2018-10-16" if data == NOMINAL and year == FEED_YEAR else "")
                    + ". See generate.py.",
                )
            )
    for data, what in ((NOMINAL, "par yield curve (nominal)"), (REAL, "real yield curve")):
        name = f"{data}_{FEED_YEAR}.xml"
        files[name] = feed_body(data, FEED_YEAR, days, rows[data])
        exchanges.append(
            _exchange(
                XML_URL,
                {"data": data, "field_tdr_date_value": str(FEED_YEAR)},
                XML_HEADERS,
                name,
                CAPTURED_AT,
                f"SYNTHETIC Atom feed of the {what} for {FEED_YEAR}, the same values as the {FEED_YEAR} CSV: m:null "
                f"for blank tenors, three entries out of date order at the end. Not what fetch requests (it asks for "
                f"CSV); kept to compare the formats. See generate.py.",
            )
        )
    revised = {day: dict(cells) for day, cells in rows[NOMINAL].items()}
    for label in REVISED_TENORS:
        revised[REVISED_DAY][label] = f"{float(revised[REVISED_DAY][label]) + 0.02:.2f}"
    name = f"{NOMINAL}_{FEED_YEAR}_captured_{REVISED_AT[:10]}.csv"
    files[name] = csv_body(NOMINAL, FEED_YEAR, revised)
    exchanges.append(
        _exchange(
            CSV_URL.format(year=FEED_YEAR),
            {"type": NOMINAL, "field_tdr_date_value": str(FEED_YEAR), "page": "", "_format": "csv"},
            CSV_HEADERS,
            name,
            REVISED_AT,
            f"SYNTHETIC second capture of the {FEED_YEAR} par yield curve CSV: identical to the first except "
            f"{REVISED_DAY} ({', '.join(REVISED_TENORS)} +0.02, a re-published curve: a new vintage). See generate.py.",
        )
    )
    manifest = {"source": "us_treasury", "exchanges": exchanges}
    files["manifest.json"] = manifest_bytes(manifest)
    return files


def generate(out_dir: Path | str = HERE) -> list[str]:
    return write_files(build(), out_dir)


def main(argv: list[str] | None = None) -> int:
    return generator_main(generate, HERE, __doc__, argv)


if __name__ == "__main__":
    raise SystemExit(main())
