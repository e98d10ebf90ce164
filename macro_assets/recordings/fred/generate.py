"""Deterministic generator of the FRED/ALFRED recordings (GDP derived from the verbatim sample; CPIAUCSL, PAYEMS,
UNRATE and DGS10 synthetic), replayed offline.

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
from functools import cached_property
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


def cpi_rows() -> list[dict]:
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


def dgs10_rows() -> list[dict]:
    """Daily; a row for every weekday, "." on FED holidays; published next business day, never revised."""
    rng = rng_for("fred_DGS10")
    weekdays = [d for d in days(WINDOW_START, WINDOW_END) if d.weekday() < 5]
    bd = [d for d in weekdays if d not in FED_HOLIDAYS]
    anchors = [(nearest_index(bd, d), v) for d, v in DGS10_ANCHORS]
    level = dict(zip(bd, bridge(rng, anchors, sigma=0.035)))
    return [
        {
            "realtime_start": next_fed_business_day(d).isoformat(),
            "realtime_end": OPEN_END,
            "date": d.isoformat(),
            "value": f"{level[d]:.2f}" if d in level else ".",
        }
        for d in weekdays
    ]


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
