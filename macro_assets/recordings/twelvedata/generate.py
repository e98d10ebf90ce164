"""Deterministic generator of the TwelveData time_series recordings replayed offline (all synthetic; see README.md).

Run ``python -m macro_assets.recordings.twelvedata.generate [OUT_DIR]`` (default: this directory). It writes
``manifest.json`` and the bodies of the requests the connector makes for USD/COP 5-minute bars of December 2018
(the offline intraday window; four years would be ~60k session bars and, with TwelveData's 24/5 bars, ~300k):

- the two windows of 2018-12-01 .. 2018-12-31 (the 5000-bar outputsize splits the month), captured 2019-01-02,
  with five bars of the 2018-12-12 session missing (10:15-10:35 Bogota);
- the gap window the connector computes from those two answers, captured a day later, holding the five bars.

No network. Every draw comes from one seeded ``random.Random``; the requests and the gap come from the connector
itself (``request_windows``, ``gap_windows``, ``window_params``), the session from the catalog's instrument.

Format rules (api-formats.md §12): compact JSON, no trailing newline, keys meta, values, status; values newest
first, ``datetime`` in UTC (the timezone the connector asks for), prices as strings with 5 decimals of a price
quoted to the centavo, no ``volume`` (forex). Bars cover TwelveData's forex week (Sunday 22:00 to Friday 22:00
UTC) outside the session too, sparser at night; none on Christmas Day.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random
from pathlib import Path

from macro_assets.catalog import load_catalog
from macro_assets.recordings.common import generator_main, manifest_bytes, write_files
from macro_assets.sources.twelvedata import (
    DATETIME_FORMAT,
    TIME_SERIES_URL,
    expected_bar_times,
    gap_windows,
    request_windows,
    window_params,
)

OUT_DIR = Path(__file__).resolve().parent
SEED = "macro_assets.recordings.twelvedata/2019-01-02"
DATASET = "twelvedata.USDCOP_5min"
MONTH = (dt.date(2018, 12, 1), dt.date(2018, 12, 31))
RECORDED_WINDOW = {"start": "2018-12-03", "end": "2018-12-31"}  # the first and last partitions with a session
CAPTURED_AT = dt.datetime(2019, 1, 2, 12, 0, tzinfo=dt.UTC)
GAP_CAPTURED_AT = dt.datetime(2019, 1, 3, 12, 0, tzinfo=dt.UTC)
GAP_DAY, GAP_FIRST, GAP_BARS = dt.date(2018, 12, 12), dt.time(10, 15), 5  # local (Bogota) start of the gap
HEADERS = {"Content-Type": "application/json; charset=utf-8"}
WINDOW_PARAMS = {"start": "start_date", "end": "end_date", "format": DATETIME_FORMAT}
META = {
    "symbol": "USD/COP",
    "interval": "5min",
    "currency_base": "US Dollar",
    "currency_quote": "Colombian Peso",
    "type": "Physical Currency",
}
WEEK_OPEN, WEEK_CLOSE = (6, dt.time(22)), (4, dt.time(22))  # (weekday, UTC time): Sunday and Friday 22:00
CLOSED_DAYS = (dt.date(2018, 12, 25),)
# Closes at the session open (13:00 UTC) of these days: USD/COP in December 2018, roughly.
ANCHORS = (
    ("2018-12-03", 3195.0),
    ("2018-12-07", 3150.0),
    ("2018-12-12", 3165.0),
    ("2018-12-14", 3175.0),
    ("2018-12-19", 3170.0),
    ("2018-12-21", 3180.0),
    ("2018-12-26", 3235.0),
    ("2018-12-28", 3250.0),
    ("2018-12-31", 3250.0),
)
SESSION_SIGMA, NIGHT_SIGMA = 0.0008, 0.00025  # of 5-minute log returns
NIGHT_PRESENCE = 0.85  # share of out-of-session slots with a bar


def _open(moment: dt.datetime) -> bool:
    """Whether TwelveData's forex week is open at `moment` (UTC)."""
    weekday, time = moment.weekday(), moment.time()
    if moment.date() in CLOSED_DAYS or weekday == 5:
        return False
    if weekday == WEEK_OPEN[0]:
        return time >= WEEK_OPEN[1]
    return weekday != WEEK_CLOSE[0] or time < WEEK_CLOSE[1]


def _pinned_walk(rng: random.Random, sigmas: list[float], anchors: list[tuple[int, float]]) -> list[float]:
    """A random walk with per-step volatility, bent linearly between anchors so it passes through each, and
    shifted to the last anchor after it (the first anchor is step 0)."""
    walk, level = [0.0], 0.0
    for sigma in sigmas[1:]:
        level += rng.gauss(0.0, sigma)
        walk.append(level)
    last, target = anchors[-1]
    out = [value + target - walk[last] for value in walk]
    for (i0, a), (i1, b) in zip(anchors, anchors[1:], strict=False):
        for k in range(i0, i1 + 1):
            share = (k - i0) / (i1 - i0)
            out[k] = walk[k] + (a - walk[i0]) * (1 - share) + (b - walk[i1]) * share
    return out


def _bars(session: frozenset[dt.datetime], step: dt.timedelta) -> dict[dt.datetime, dict[str, str]]:
    """Every bar TwelveData has in December 2018 (from the first anchor), by start instant (UTC)."""
    rng = random.Random(SEED)
    first = dt.datetime.combine(dt.date.fromisoformat(ANCHORS[0][0]), dt.time(13), tzinfo=dt.UTC)
    stop = dt.datetime.combine(MONTH[1] + dt.timedelta(days=1), dt.time(0), tzinfo=dt.UTC)
    slots = [first + i * step for i in range(int((stop - first) / step)) if _open(first + i * step)]
    index = {slot: i for i, slot in enumerate(slots)}
    anchors = [
        (index[dt.datetime.combine(dt.date.fromisoformat(day), dt.time(13), tzinfo=dt.UTC)], math.log(level))
        for day, level in ANCHORS
    ]
    sigmas = [SESSION_SIGMA if slot in session else NIGHT_SIGMA for slot in slots]
    path = [math.exp(x) for x in _pinned_walk(rng, sigmas, anchors)]
    bars = {}
    for i, slot in enumerate(slots):
        present = slot in session or rng.random() < NIGHT_PRESENCE
        opening, close, sigma = path[max(i - 1, 0)], path[i], sigmas[i]
        high = max(opening, close) * math.exp(abs(rng.gauss(0.0, sigma * 0.4)))
        low = min(opening, close) * math.exp(-abs(rng.gauss(0.0, sigma * 0.4)))
        if present:
            bars[slot] = {
                "datetime": slot.strftime(DATETIME_FORMAT),
                **{
                    name: f"{round(value, 2):.5f}"
                    for name, value in (("open", opening), ("high", high), ("low", low), ("close", close))
                },
            }
    return bars


def _body(
    bars: dict[dt.datetime, dict[str, str]],
    window: tuple[dt.datetime, dt.datetime],
    leave_out: frozenset[dt.datetime] = frozenset(),
) -> bytes:
    values = [
        bars[slot] for slot in sorted(bars, reverse=True) if window[0] <= slot < window[1] and slot not in leave_out
    ]
    return json.dumps({"meta": META, "values": values, "status": "ok"}, separators=(",", ":")).encode()


def _exchange(params: dict[str, str], body_file: str, captured_at: dt.datetime, note: str) -> dict:
    return {
        "request": {"method": "GET", "url": TIME_SERIES_URL, "params": params},
        "response": {"status": 200, "headers": HEADERS, "body_file": body_file},
        "captured_at": captured_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "provenance": "synthetic",
        "note": note,
    }


def _name(window: tuple[dt.datetime, dt.datetime]) -> str:
    return f"USDCOP_5min_{window[0]:%Y-%m-%dT%H%M}_{window[1]:%Y-%m-%dT%H%M}.json"


def build() -> dict[str, bytes]:
    """Every generated file (path relative to the output directory) and its bytes."""
    dataset = load_catalog().get(DATASET)
    step = dt.timedelta(minutes=5)
    expected = expected_bar_times(dataset, *MONTH)
    bars = _bars(frozenset(expected), step)
    gap_start = dt.datetime.combine(GAP_DAY, GAP_FIRST, tzinfo=dataset.instrument.timezone).astimezone(dt.UTC)
    gap = frozenset(gap_start + i * step for i in range(GAP_BARS))
    files: dict[str, bytes] = {}
    exchanges = []
    stored: list[dt.datetime] = []
    for window in request_windows(dataset, *MONTH):
        name = _name(window)
        files[name] = _body(bars, window, gap)
        stored.extend(bar for bar in expected if window[0] <= bar < window[1] and bar not in gap)
        answered = [slot for slot in bars if window[0] <= slot < window[1] and slot not in gap]
        outside = sum(slot not in expected for slot in answered)
        exchanges.append(
            _exchange(
                window_params(dataset, *window),
                name,
                CAPTURED_AT,
                (
                    f"SYNTHETIC USD/COP 5-minute bars {window[0]:%Y-%m-%d %H:%M} .. {window[1]:%Y-%m-%d %H:%M} UTC, one of "
                    f"the two requests of the connector for December 2018 (outputsize 5000): {len(answered)} bars, "
                    f"{outside} of them outside the 08:00-12:55 Bogota session (TwelveData's 24/5 aggregation)"
                    + (
                        f"; the session of {GAP_DAY} lacks its {GAP_BARS} bars from {GAP_FIRST:%H:%M} Bogota (a gap the "
                        f"later capture fills)"
                        if any(window[0] <= bar < window[1] for bar in gap)
                        else ""
                    )
                ),
            )
        )
    [window] = gap_windows(expected, stored, step)
    name = _name(window)
    files[name] = _body(bars, window)
    exchanges.append(
        _exchange(
            window_params(dataset, *window),
            name,
            GAP_CAPTURED_AT,
            (
                f"SYNTHETIC answer to the gap-backfill request the connector computes from the two captures above: the "
                f"{GAP_BARS} bars of {GAP_DAY} from {GAP_FIRST:%H:%M} Bogota, which TwelveData had by the next day"
            ),
        )
    )
    manifest = {
        "source": "twelvedata",
        "recorded_window": RECORDED_WINDOW,
        "window_params": WINDOW_PARAMS,
        "exchanges": exchanges,
    }
    files["manifest.json"] = manifest_bytes(manifest)
    return files


def generate(out_dir: Path | str = OUT_DIR) -> list[str]:
    return write_files(build(), out_dir)


def main(argv: list[str] | None = None) -> int:
    return generator_main(generate, OUT_DIR, __doc__, argv)


if __name__ == "__main__":
    raise SystemExit(main())
