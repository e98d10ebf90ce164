"""Deterministic generator of the Yahoo chart recordings replayed offline (all synthetic; see README.md here).

Run ``python -m macro_assets.recordings.yahoo.generate [OUT_DIR]`` (default: this directory). It writes
``manifest.json`` and one chart v8 body per catalog dataset for the request the connector makes for 2015-01-01 ..
2018-12-31, plus a second, later capture of USD/BRL in which one bar is corrected.

No network. Every draw comes from a ``random.Random`` seeded with a fixed string per dataset, the calendars and
time zones from the catalog, the requests from the connector itself (``chart_params``), so a re-run reproduces
every file byte for byte.

Format rules (those of the real API as far as known, api-formats.md §11): compact JSON, no trailing newline; the
result's keys in Yahoo's order (meta, timestamp, events, indicators); prices are float32 values printed as
doubles (``2.686800003051758``), as Yahoo stores them; each daily bar is stamped at the instant Yahoo uses for its
asset type (00:00 London for FX, the session open for indices and ETFs, 00:00 New York for DXY and futures);
meta's prices are plain decimals; FX and index volumes are 0 where Yahoo has none; ``adjclose`` is the close
adjusted backward for dividends.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random
import struct
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from macro_assets.catalog import DatasetSpec, load_catalog
from macro_assets.catalog.calendars import business_days
from macro_assets.recordings.common import bridge, generator_main, manifest_bytes, write_files
from macro_assets.sources.yahoo import CHART_URL, chart_params

OUT_DIR = Path(__file__).resolve().parent
SEED = "macro_assets.recordings.yahoo/2019-01-02"
WINDOW = (dt.date(2015, 1, 1), dt.date(2018, 12, 31))
CAPTURED_AT = dt.datetime(2019, 1, 2, 6, 0, tzinfo=dt.UTC)
CORRECTED_AT = dt.datetime(2019, 2, 1, 6, 0, tzinfo=dt.UTC)
HEADERS = {"Content-Type": "application/json;charset=utf-8"}
WINDOW_PARAMS = {"start": "period1", "end": "period2", "format": "unix"}
VALID_RANGES = ["1d", "5d", "1mo", "3mo", "6mo", "1y", "2y", "5y", "10y", "ytd", "max"]
QUOTE_ORDER = ("open", "low", "volume", "high", "close")  # one of the orders Yahoo answers in (it varies)

# USD/BRL's bad tick: the first capture's high of that day is off by this much; the later capture corrects it.
CORRECTED_CODE = "USDBRL_1d"
CORRECTED_DAY = dt.date(2018, 8, 23)
BAD_TICK = 0.2
# A B3 holiday Yahoo lists with null prices in the ^BVSP chart (Proclamação da República, a Wednesday).
NULL_DAY = ("IBOV_1d", dt.date(2017, 11, 15))
# Plausible EWZ semiannual distributions (ex-date, USD per share), not the real ones.
EWZ_DIVIDENDS = (
    (dt.date(2015, 6, 5), 0.429),
    (dt.date(2015, 12, 16), 0.2117),
    (dt.date(2016, 6, 7), 0.1765),
    (dt.date(2016, 12, 22), 0.4023),
    (dt.date(2017, 6, 7), 0.3951),
    (dt.date(2017, 12, 21), 0.4868),
    (dt.date(2018, 6, 7), 0.5233),
    (dt.date(2018, 12, 18), 0.6215),
)


@dataclass(frozen=True)
class Profile:
    """Yahoo's side of an instrument: how it names and stamps it, and the shape of its synthetic path."""

    exchange: str
    full_exchange: str
    instrument_type: str
    currency: str
    zone: str  # meta.exchangeTimezoneName
    zone_abbreviation: str  # meta.timezone at the capture (January)
    stamp: dt.time  # local time of a daily bar's timestamp
    decimals: int  # meta.priceHint
    daily_sigma: float  # of log returns
    volume: tuple[int, int] | None  # typical daily volume range; None: Yahoo reports 0
    long_name: str
    short_name: str
    first_trade: int
    anchors: tuple[tuple[str, float], ...]  # (date, close) the path passes through: the real levels, roughly


def _fx(name: str, decimals: int, sigma: float, anchors) -> Profile:
    return Profile(
        "CCY",
        "CCY",
        "CURRENCY",
        name[-3:],
        "Europe/London",
        "GMT",
        dt.time(0),
        decimals,
        sigma,
        None,
        name,
        name,
        1070236800,
        anchors,
    )


_NY_OPEN = dt.time(9, 30)
PROFILES = {
    "USDBRL_1d": _fx(
        "USD/BRL",
        4,
        0.009,
        (
            ("2015-01-02", 2.69),
            ("2015-03-19", 3.29),
            ("2015-05-14", 3.0),
            ("2015-09-23", 4.15),
            ("2015-12-31", 3.96),
            ("2016-01-21", 4.05),
            ("2016-06-30", 3.21),
            ("2016-12-29", 3.26),
            ("2017-05-18", 3.38),
            ("2017-12-29", 3.31),
            ("2018-05-31", 3.73),
            ("2018-09-13", 4.2),
            ("2018-10-31", 3.72),
            ("2018-12-28", 3.88),
        ),
    ),
    "USDCOP_1d": _fx(
        "USD/COP",
        2,
        0.008,
        (
            ("2015-01-02", 2392.0),
            ("2015-03-12", 2650.0),
            ("2015-08-24", 3180.0),
            ("2015-12-31", 3150.0),
            ("2016-02-11", 3430.0),
            ("2016-05-03", 2900.0),
            ("2016-12-30", 3000.0),
            ("2017-12-29", 2984.0),
            ("2018-04-16", 2700.0),
            ("2018-09-03", 3060.0),
            ("2018-12-31", 3250.0),
        ),
    ),
    "USDMXN_1d": _fx(
        "USD/MXN",
        4,
        0.007,
        (
            ("2015-01-02", 14.75),
            ("2015-12-31", 17.25),
            ("2016-02-11", 19.18),
            ("2016-11-11", 20.75),
            ("2017-01-19", 21.91),
            ("2017-04-13", 18.5),
            ("2017-12-29", 19.66),
            ("2018-06-15", 20.85),
            ("2018-09-28", 18.7),
            ("2018-12-31", 19.65),
        ),
    ),
    "DXY_1d": Profile(
        "NYB",
        "ICE Futures",
        "INDEX",
        "USD",
        "America/New_York",
        "EST",
        dt.time(0),
        2,
        0.0045,
        None,
        "US Dollar/USDX - Index - Cash",
        "US Dollar/USDX - Index - Cash",
        31813200,
        (
            ("2015-01-02", 91.08),
            ("2015-03-13", 100.33),
            ("2015-12-31", 98.69),
            ("2016-05-03", 92.6),
            ("2016-12-20", 103.3),
            ("2017-09-08", 91.3),
            ("2017-12-29", 92.1),
            ("2018-02-15", 88.6),
            ("2018-11-12", 97.6),
            ("2018-12-31", 96.17),
        ),
    ),
    "VIX_1d": Profile(
        "CXI",
        "Cboe Indices",
        "INDEX",
        "USD",
        "America/New_York",
        "EST",
        _NY_OPEN,
        2,
        0.05,
        None,
        "CBOE Volatility Index",
        "CBOE Volatility Index",
        631290600,
        (
            ("2015-01-02", 17.8),
            ("2015-03-20", 13.0),
            ("2015-05-20", 12.1),
            ("2015-07-15", 12.0),
            ("2015-08-24", 40.7),
            ("2015-10-30", 15.1),
            ("2015-12-14", 22.7),
            ("2016-01-20", 27.6),
            ("2016-02-11", 28.1),
            ("2016-04-20", 13.3),
            ("2016-06-24", 25.8),
            ("2016-08-15", 11.8),
            ("2016-11-04", 22.5),
            ("2016-12-30", 14.0),
            ("2017-04-13", 16.0),
            ("2017-07-26", 9.6),
            ("2017-08-10", 16.0),
            ("2017-11-03", 9.1),
            ("2018-01-24", 11.5),
            ("2018-02-05", 37.3),
            ("2018-04-30", 15.9),
            ("2018-07-27", 13.0),
            ("2018-10-03", 11.6),
            ("2018-10-24", 25.2),
            ("2018-12-24", 36.1),
            ("2018-12-31", 25.4),
        ),
    ),
    "IBOV_1d": Profile(
        "SAO",
        "Sao Paulo",
        "INDEX",
        "BRL",
        "America/Sao_Paulo",
        "BRST",
        dt.time(10),
        2,
        0.015,
        (2_500_000, 6_000_000),
        "IBOVESPA",
        "IBOVESPA",
        735915600,
        (
            ("2015-01-02", 48512.0),
            ("2015-05-04", 58051.0),
            ("2015-09-24", 44336.0),
            ("2016-01-26", 37497.0),
            ("2016-10-31", 64924.0),
            ("2016-12-29", 60227.0),
            ("2017-05-17", 67540.0),
            ("2017-05-18", 61597.0),
            ("2017-10-13", 76990.0),
            ("2017-12-28", 76402.0),
            ("2018-02-26", 87653.0),
            ("2018-06-18", 69814.0),
            ("2018-09-10", 75000.0),
            ("2018-12-03", 89820.0),
            ("2018-12-28", 87887.0),
        ),
    ),
    "SPX_1d": Profile(
        "SNP",
        "SNP",
        "INDEX",
        "USD",
        "America/New_York",
        "EST",
        _NY_OPEN,
        2,
        0.0085,
        (2_500_000_000, 4_500_000_000),
        "S&P 500",
        "S&P 500",
        -1325583000,
        (
            ("2015-01-02", 2058.2),
            ("2015-05-21", 2130.8),
            ("2015-08-25", 1867.6),
            ("2015-12-31", 2043.9),
            ("2016-02-11", 1829.1),
            ("2016-08-15", 2190.2),
            ("2016-12-30", 2238.8),
            ("2017-12-29", 2673.6),
            ("2018-01-26", 2872.9),
            ("2018-02-08", 2581.0),
            ("2018-09-20", 2930.8),
            ("2018-12-24", 2351.1),
            ("2018-12-31", 2506.9),
        ),
    ),
    "BRENT_1d": Profile(
        "NYM",
        "NY Mercantile",
        "FUTURE",
        "USD",
        "America/New_York",
        "EST",
        dt.time(0),
        2,
        0.022,
        (5_000, 40_000),
        "Brent Crude Oil Last Day Financ",
        "Brent Crude Oil Last Day Financ",
        1185753600,
        (
            ("2015-01-02", 56.4),
            ("2015-05-13", 67.0),
            ("2015-08-24", 43.0),
            ("2015-12-31", 37.3),
            ("2016-01-20", 27.9),
            ("2016-06-08", 52.5),
            ("2016-10-10", 53.1),
            ("2016-12-30", 56.8),
            ("2017-06-21", 44.8),
            ("2017-09-29", 57.5),
            ("2017-12-29", 66.9),
            ("2018-05-17", 79.3),
            ("2018-07-27", 74.3),
            ("2018-10-03", 86.3),
            ("2018-12-24", 50.5),
            ("2018-12-31", 53.8),
        ),
    ),
    "WTI_1d": Profile(
        "NYM",
        "NY Mercantile",
        "FUTURE",
        "USD",
        "America/New_York",
        "EST",
        dt.time(0),
        2,
        0.025,
        (400_000, 900_000),
        "Crude Oil Feb 19",
        "Crude Oil Feb 19",
        967003200,
        (
            ("2015-01-02", 52.69),
            ("2015-06-10", 61.4),
            ("2015-08-24", 38.2),
            ("2015-12-31", 37.04),
            ("2016-02-11", 26.21),
            ("2016-06-08", 51.2),
            ("2016-12-30", 53.72),
            ("2017-06-21", 42.5),
            ("2017-12-29", 60.42),
            ("2018-10-03", 76.41),
            ("2018-12-24", 42.53),
            ("2018-12-31", 45.41),
        ),
    ),
    "GOLD_1d": Profile(
        "CMX",
        "COMEX",
        "FUTURE",
        "USD",
        "America/New_York",
        "EST",
        dt.time(0),
        1,
        0.009,
        (50, 600),
        "Gold Feb 19",
        "Gold Feb 19",
        967608000,
        (
            ("2015-01-02", 1186.0),
            ("2015-01-22", 1302.0),
            ("2015-12-17", 1049.6),
            ("2016-07-06", 1366.0),
            ("2016-12-15", 1129.0),
            ("2017-09-07", 1350.0),
            ("2017-12-29", 1309.0),
            ("2018-01-25", 1362.0),
            ("2018-08-16", 1175.0),
            ("2018-12-31", 1281.0),
        ),
    ),
    "COFFEE_1d": Profile(
        "NYB",
        "ICE Futures",
        "FUTURE",
        "USD",
        "America/New_York",
        "EST",
        dt.time(0),
        2,
        0.018,
        (10_000, 35_000),
        "Coffee Mar 19",
        "Coffee Mar 19",
        946875600,
        (
            ("2015-01-02", 167.0),
            ("2015-02-02", 185.0),
            ("2015-12-31", 126.7),
            ("2016-09-06", 155.0),
            ("2016-12-30", 137.7),
            ("2017-12-29", 126.2),
            ("2018-09-17", 95.5),
            ("2018-10-18", 122.0),
            ("2018-12-31", 101.9),
        ),
    ),
    "EWZ_1d": Profile(
        "PCX",
        "NYSEArca",
        "ETF",
        "USD",
        "America/New_York",
        "EST",
        _NY_OPEN,
        2,
        0.023,
        (15_000_000, 45_000_000),
        "iShares MSCI Brazil ETF",
        "iShares MSCI Brazil ETF",
        963840600,
        (
            ("2015-01-02", 36.0),
            ("2015-04-24", 38.9),
            ("2015-09-24", 20.5),
            ("2016-01-21", 17.3),
            ("2016-10-24", 38.6),
            ("2016-12-30", 33.4),
            ("2017-05-17", 38.0),
            ("2017-05-18", 32.8),
            ("2017-09-19", 43.5),
            ("2017-12-29", 40.5),
            ("2018-01-26", 48.8),
            ("2018-06-18", 32.9),
            ("2018-09-13", 30.0),
            ("2018-12-03", 41.9),
            ("2018-12-31", 40.6),
        ),
    ),
    "TLT_1d": Profile(
        "NGM",
        "NasdaqGM",
        "ETF",
        "USD",
        "America/New_York",
        "EST",
        _NY_OPEN,
        2,
        0.008,
        (5_000_000, 15_000_000),
        "iShares 20+ Year Treasury Bond ETF",
        "iShares 20+ Year Treasury Bond",
        1027085400,
        (
            ("2015-01-02", 127.0),
            ("2015-01-30", 138.3),
            ("2015-06-10", 114.5),
            ("2015-12-31", 120.5),
            ("2016-07-08", 143.4),
            ("2016-12-30", 117.9),
            ("2017-09-07", 128.2),
            ("2017-12-29", 126.9),
            ("2018-05-17", 116.6),
            ("2018-10-05", 113.0),
            ("2018-12-31", 121.5),
        ),
    ),
}


def rng_for(name: str) -> random.Random:
    return random.Random(f"{SEED}/{name}")


def float32(value: float) -> float:
    """What Yahoo sends for a price: the float32 nearest the decimal price, printed as a double."""
    return struct.unpack("<f", struct.pack("<f", value))[0]


def unix(moment: dt.datetime) -> int:
    return int(moment.timestamp())


@dataclass
class Bar:
    day: dt.date
    stamp: int
    open: float
    high: float
    low: float
    close: float
    volume: int
    adjclose: float = 0.0


def _days(dataset: DatasetSpec, profile: Profile, period: tuple[int, int]) -> list[tuple[dt.date, int]]:
    """(session date, Yahoo timestamp) of every session whose timestamp lies in [period1, period2)."""
    zone = ZoneInfo(profile.zone)
    first, last = WINDOW[0] - dt.timedelta(days=2), WINDOW[1] + dt.timedelta(days=2)
    days = []
    for day in business_days(dataset.calendar, first, last):
        stamp = unix(dt.datetime.combine(day, profile.stamp, tzinfo=zone))
        if period[0] <= stamp < period[1]:
            days.append((day, stamp))
    return days


def _bars(code: str, dataset: DatasetSpec, profile: Profile, period: tuple[int, int]) -> list[Bar]:
    rng = rng_for(code)
    days = _days(dataset, profile, period)
    dates = [day for day, _ in days]
    anchors = [
        (max(i for i, d in enumerate(dates) if d <= dt.date.fromisoformat(day)), math.log(level))
        for day, level in profile.anchors
    ]
    anchors = [(0, anchors[0][1]), *anchors[1:]] if anchors[0][0] else anchors
    if anchors[-1][0] != len(dates) - 1:
        anchors.append((len(dates) - 1, anchors[-1][1]))
    if any(later <= earlier for (earlier, _), (later, _) in zip(anchors, anchors[1:], strict=False)):
        raise ValueError(f"{code}: two anchors fall on the same session; anchor session dates only")
    # Between anchors months apart a bridge with the full daily volatility wanders far past the real extremes;
    # 0.4 of it keeps the path near them (the day's range below still uses the full volatility).
    closes = [math.exp(x) for x in bridge(rng, anchors, profile.daily_sigma * 0.4)]
    bars, previous = [], closes[0]
    for (day, stamp), close in zip(days, closes, strict=True):
        sigma = profile.daily_sigma
        opening = previous * math.exp(rng.gauss(0.0, sigma * 0.25))
        high = max(opening, close) * math.exp(abs(rng.gauss(0.0, sigma * 0.5)))
        low = min(opening, close) * math.exp(-abs(rng.gauss(0.0, sigma * 0.5)))
        volume = 0
        if profile.volume:
            lo, hi = profile.volume
            volume = int(math.exp(rng.uniform(math.log(lo), math.log(hi))))
            if volume > 1_000_000_000:  # Yahoo's S&P volumes come rounded to ten thousand
                volume -= volume % 10_000
        places = profile.decimals
        bars.append(
            Bar(
                day,
                stamp,
                round(opening, places),
                round(high, places),
                round(low, places),
                round(close, places),
                volume,
            )
        )
        previous = close
    return bars


def _tlt_dividends(bars: list[Bar]) -> list[tuple[dt.date, float]]:
    """Monthly distributions on the first session of each month (plausible amounts, not the real ones)."""
    rng = rng_for("TLT_1d/dividends")
    firsts = {}
    for bar in bars:
        if WINDOW[0] <= bar.day <= WINDOW[1]:
            firsts.setdefault((bar.day.year, bar.day.month), bar.day)
    return [(day, round(rng.uniform(0.22, 0.27), 6)) for _, day in sorted(firsts.items())]


def _adjust(bars: list[Bar], dividends: list[tuple[dt.date, float]]) -> None:
    """Yahoo's backward dividend adjustment: every close before an ex-date times (1 - amount / previous close)."""
    factor = {bar.day: 1.0 for bar in bars}
    index = {bar.day: i for i, bar in enumerate(bars)}
    for day, amount in dividends:
        ratio = 1.0 - amount / bars[index[day] - 1].close
        for bar in bars[: index[day]]:
            factor[bar.day] *= ratio
    for bar in bars:
        bar.adjclose = bar.close * factor[bar.day]


def _trading_period(profile: Profile, zone: ZoneInfo, dataset: DatasetSpec) -> dict:
    """currentTradingPeriod on the capture day: the regular session, pre and post empty as Yahoo sends them for
    instruments without extended hours."""
    day = CAPTURED_AT.date()
    if profile.instrument_type in ("CURRENCY", "FUTURE") or profile.stamp == dt.time(0):
        start = dt.datetime.combine(day, dt.time(0), tzinfo=zone)
        end = start + dt.timedelta(hours=23, minutes=59)
    else:
        local = dataset.instrument.timezone
        start = dt.datetime.combine(day, dataset.instrument.session_open, tzinfo=local)
        end = dt.datetime.combine(day, dataset.instrument.session_close, tzinfo=local)
    offset = int(start.utcoffset().total_seconds())

    def period(first: dt.datetime, last: dt.datetime) -> dict:
        return {"timezone": profile.zone_abbreviation, "start": unix(first), "end": unix(last), "gmtoffset": offset}

    return {"pre": period(start, start), "regular": period(start, end), "post": period(end, end)}


def _body(symbol: str, dataset: DatasetSpec, profile: Profile, bars: list[Bar], dividends, market: dict) -> bytes:
    zone = ZoneInfo(profile.zone)
    last_year = [bar for bar in bars if bar.day >= WINDOW[1] - dt.timedelta(days=365)]
    meta = {
        "currency": profile.currency,
        "symbol": symbol,
        "exchangeName": profile.exchange,
        "fullExchangeName": profile.full_exchange,
        "instrumentType": profile.instrument_type,
        "firstTradeDate": profile.first_trade,
        "regularMarketTime": market["time"],
        "hasPrePostMarketData": False,
        "gmtoffset": int(CAPTURED_AT.astimezone(zone).utcoffset().total_seconds()),
        "timezone": profile.zone_abbreviation,
        "exchangeTimezoneName": profile.zone,
        "regularMarketPrice": market["price"],
        "fiftyTwoWeekHigh": max(bar.high for bar in last_year),
        "fiftyTwoWeekLow": min(bar.low for bar in last_year),
        "regularMarketDayHigh": market["high"],
        "regularMarketDayLow": market["low"],
        "regularMarketVolume": bars[-1].volume,
        "longName": profile.long_name,
        "shortName": profile.short_name,
        "chartPreviousClose": bars[0].open,
        "priceHint": profile.decimals,
        "currentTradingPeriod": _trading_period(profile, zone, dataset),
        "dataGranularity": "1d",
        "range": "",
        "validRanges": VALID_RANGES,
    }
    nulls = NULL_DAY[1] if NULL_DAY[0] == dataset.code else None
    rows = [(bar.stamp, bar) for bar in bars]
    if nulls:
        stamp = unix(dt.datetime.combine(nulls, profile.stamp, tzinfo=zone))
        rows = sorted([*rows, (stamp, None)], key=lambda row: row[0])

    def column(name: str) -> list:
        if name == "volume":
            return [None if bar is None else bar.volume for _, bar in rows]
        return [None if bar is None else float32(getattr(bar, name)) for _, bar in rows]

    result: dict = {"meta": meta, "timestamp": [stamp for stamp, _ in rows]}
    if dividends:
        stamps = {bar.day: bar.stamp for bar in bars}
        result["events"] = {
            "dividends": {str(stamps[day]): {"amount": amount, "date": stamps[day]} for day, amount in dividends}
        }
    result["indicators"] = {
        "quote": [{name: column(name) for name in QUOTE_ORDER}],
        "adjclose": [{"adjclose": column("adjclose")}],
    }
    return json.dumps({"chart": {"result": [result], "error": None}}, separators=(",", ":")).encode()


def _exchange(symbol: str, body_file: str, captured_at: dt.datetime, note: str) -> dict:
    return {
        "request": {"method": "GET", "url": CHART_URL.format(symbol=symbol), "params": chart_params(*WINDOW)},
        "response": {"status": 200, "headers": HEADERS, "body_file": body_file},
        "captured_at": captured_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "provenance": "synthetic",
        "note": note,
    }


def build() -> dict[str, bytes]:
    """Every generated file (path relative to the output directory) and its bytes."""
    catalog = load_catalog()
    params = chart_params(*WINDOW)
    period = (int(params["period1"]), int(params["period2"]))
    files: dict[str, bytes] = {}
    exchanges = []
    for code, profile in PROFILES.items():
        dataset = catalog.get(f"yahoo.{code}")
        symbol = str(dataset.params["symbol"])
        bars = _bars(code, dataset, profile, period)
        dividends = {"EWZ_1d": list(EWZ_DIVIDENDS), "TLT_1d": _tlt_dividends(bars)}.get(code, [])
        _adjust(bars, dividends)
        last = bars[-1]
        # The last quote of the last session: a minute before the bar is final.
        market = {
            "time": unix(dataset.estimated_release(last.day)) - 60,
            "price": last.close,
            "high": last.high,
            "low": last.low,
        }
        name = f"{code}_{WINDOW[0]}_{WINDOW[1]}.json"
        what = (
            f"SYNTHETIC Yahoo chart v8 daily bars of {symbol} ({dataset.name}), {len(bars)} sessions of the "
            f"{dataset.calendar} calendar stamped at {profile.stamp:%H:%M} {profile.zone}; path through the real "
            f"levels roughly, values made up"
        )
        extra = {
            "EWZ_1d": "; 8 semiannual dividends (plausible amounts) and their adjclose",
            "TLT_1d": "; 48 monthly dividends (plausible amounts) and their adjclose",
            "IBOV_1d": f"; an all-null entry on the B3 holiday {NULL_DAY[1]} (Yahoo lists some holidays so)",
            CORRECTED_CODE: f"; the high of {CORRECTED_DAY} is a bad tick (+{BAD_TICK}), corrected in the "
            f"capture of {CORRECTED_AT:%Y-%m-%d}",
        }.get(code, "")
        if code == CORRECTED_CODE:
            corrected = next(bar for bar in bars if bar.day == CORRECTED_DAY)
            corrected.high = round(corrected.high + BAD_TICK, profile.decimals)
        files[name] = _body(symbol, dataset, profile, bars, dividends, market)
        exchanges.append(
            _exchange(
                symbol,
                name,
                CAPTURED_AT,
                what + extra + ". No split in any recording (none of these instruments split in 2015-2018).",
            )
        )
        if code == CORRECTED_CODE:
            corrected.high = round(corrected.high - BAD_TICK, profile.decimals)
            later = f"{code}_{WINDOW[0]}_{WINDOW[1]}_captured_{CORRECTED_AT:%Y-%m-%d}.json"
            market = {
                "time": unix(dt.datetime(2019, 1, 31, 22, 59, tzinfo=ZoneInfo(profile.zone))),
                "price": 3.652,
                "high": 3.6712,
                "low": 3.6389,
            }
            files[later] = _body(symbol, dataset, profile, bars, dividends, market)
            exchanges.append(
                _exchange(
                    symbol,
                    later,
                    CORRECTED_AT,
                    (
                        f"SYNTHETIC later capture of the same request: every bar as in {name} except the high of "
                        f"{CORRECTED_DAY}, corrected by Yahoo (a new vintage of that bar offline); meta is the market of "
                        f"the capture day"
                    ),
                )
            )
    manifest = {"source": "yahoo", "window_params": WINDOW_PARAMS, "exchanges": exchanges}
    files["manifest.json"] = manifest_bytes(manifest)
    return files


def generate(out_dir: Path | str = OUT_DIR) -> list[str]:
    return write_files(build(), out_dir)


def main(argv: list[str] | None = None) -> int:
    return generator_main(generate, OUT_DIR, __doc__, argv)


if __name__ == "__main__":
    raise SystemExit(main())
