"""Yahoo Finance daily bars: GET https://query2.finance.yahoo.com/v8/finance/chart/{symbol}, the chart API that
yfinance reads, reached live through yfinance's own session (cookie, crumb, consent page) behind the shared client.

Request: period1 and period2 in Unix seconds (period2 exclusive), interval=1d, events=div,splits,
includeAdjustedClose=true. Yahoo stamps a daily bar at an exchange-local instant the catalog cannot know before
the answer names the exchange (midnight London for FX, the session open for indices and ETFs, midnight New York
for futures), so the window is padded by a day on each side in UTC; the ingest pipeline keeps the window's bars.

Format: {"chart": {"result": [{"meta": {..., "exchangeTimezoneName", "dataGranularity"}, "timestamp": [...],
"events": {"dividends": {<ts>: {"amount", "date"}}, "splits": {<ts>: {"date", "numerator", "denominator",
"splitRatio"}}}, "indicators": {"quote": [{"open", "high", "low", "close", "volume"}], "adjclose":
[{"adjclose"}]}}], "error": null}}: parallel arrays, one entry per timestamp (Unix seconds of the bar's start),
floats Yahoo stores as float32. `close` carries no dividend adjustment (`adjclose` carries dividends and splits),
but Yahoo's prices are split-adjusted as of the fetch: after a split a later fetch sees every earlier bar changed,
stored as new vintages (the split's own bar has split_ratio). A window without bars has no `timestamp`. An
unknown symbol answers HTTP 404 {"chart": {"result": null, "error": {"code": "Not Found", "description": ...}}}.

Quirks: an entry whose prices are all null (a holiday Yahoo lists, a bar still forming) is missing, not a bar; the
last day may come twice (the day's bar and the live quote, both on the same exchange date): the later one is kept,
as yfinance does; an event is dated by its own `date` and lands on the bar of that exchange date.

Bar time: the session date, read from the timestamp in Yahoo's exchange time zone, at 00:00 in the instrument's
time zone (the catalog's), as UTC. Not the raw timestamp: Yahoo's stamping differs by asset type, and a key derived
from the date stays the same across fetches, so a corrected bar is a new vintage of the same bar. A bar on a day
the dataset's calendar is closed (Yahoo quotes FX on local holidays and fills some exchange holidays with a flat
bar) is outside the instrument's sessions: it is counted in `records`, logged, and not stored.

Release time: Yahoo keeps no vintages, so a bar gets `dataset.estimated_release(session date)`: the session date
plus the catalog's lag, at its clock (the session's close; for FX, London midnight after the date, as Yahoo's FX
bars are London days), basis 'estimated'; the ingest pipeline dates a bar first seen, or seen changed, by a later
fetch at that fetch.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx

from macro_assets.catalog import DatasetSpec, Instrument
from macro_assets.catalog.calendars import is_business_day
from macro_assets.provenance import Fetched
from macro_assets.sources.base import Parsed, SourceSession, fetched_from_response
from macro_assets.sources.records import RecordReader, decode_json, parse_decimal, payload_error

SOURCE = "yahoo"
CHART_URL = "https://query2.finance.yahoo.com/v8/finance/chart/{symbol}"
INTERVAL = "1d"
WINDOW_PADDING = dt.timedelta(days=1)  # exchange offsets lie within ±14 h of UTC
PRICES = ("open", "high", "low", "close")
QUOTE_FIELDS = (*PRICES, "volume")
# What of the response yfinance's session returns matters downstream: the media type, the server's clock (the
# fetch time) and a rate limit's back-off. Content-Encoding must not pass: the bytes are already decoded.
PASSED_HEADERS = ("Content-Type", "Date", "Retry-After")

logger = logging.getLogger(__name__)


def chart_params(start: dt.date, end: dt.date) -> dict[str, str]:
    """The query of a request for the bars dated in [start, end] (padded; see the module docstring)."""
    first = dt.datetime.combine(start - WINDOW_PADDING, dt.time(0), tzinfo=dt.UTC)
    stop = dt.datetime.combine(end + WINDOW_PADDING + dt.timedelta(days=1), dt.time(0), tzinfo=dt.UTC)
    return {
        "period1": str(int(first.timestamp())),
        "period2": str(int(stop.timestamp())),
        "interval": INTERVAL,
        "events": "div,splits",
        "includeAdjustedClose": "true",
    }


def daily_bar_time(instrument: Instrument, day: dt.date) -> dt.datetime:
    """A daily bar's key: its session date at 00:00 in the instrument's time zone, as UTC."""
    return dt.datetime.combine(day, dt.time(0), tzinfo=instrument.timezone).astimezone(dt.UTC)


class YfinanceTransport(httpx.BaseTransport):
    """Performs a GET with yfinance's session machinery (Yahoo's cookie and crumb, the consent page, curl_cffi's
    browser fingerprint) and hands back the bytes Yahoo returned as an httpx response, so the shared client's
    retries, rate limit and redaction apply and the payload is archived verbatim.

    The crumb yfinance adds stays inside yfinance: the request recorded with the payload is the connector's.
    `session` is for tests (a requests.Session with a local adapter); None lets yfinance make its own.
    """

    def __init__(self, session=None):
        self._session = session
        self._data = None
        self._lock = threading.Lock()

    def _yfinance(self):
        # yfinance (curl_cffi, bs4, peewee) is imported only by a live run that asks Yahoo. YfData is its
        # process-wide singleton: one cookie and crumb for every thread.
        from yfinance.data import YfData

        with self._lock:
            if self._data is None:
                self._data = YfData(session=self._session)
            return self._data

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        from yfinance.exceptions import YFRateLimitError  # live only, as above

        url = str(request.url.copy_with(query=None))
        timeout = request.extensions.get("timeout", {}).get("read") or 30
        try:
            answer = self._yfinance().get(url, params=dict(request.url.params.multi_items()), timeout=timeout)
        except YFRateLimitError as exc:
            # yfinance raises where Yahoo answered 429; the shared client retries a 429 with back-off.
            return httpx.Response(429, text=str(exc), request=request)
        except OSError as exc:  # curl_cffi's and requests' network errors: the client retries transport errors
            raise httpx.ConnectError(f"{type(exc).__name__}: {exc}", request=request) from exc
        headers = {name: answer.headers[name] for name in PASSED_HEADERS if answer.headers.get(name) is not None}
        return httpx.Response(answer.status_code, headers=headers, content=answer.content, request=request)


class Yahoo:
    source = SOURCE

    def live_transport(self, session=None) -> httpx.BaseTransport:
        return YfinanceTransport(session)

    def fetch(self, session: SourceSession, dataset: DatasetSpec, start: dt.date, end: dt.date) -> list[Fetched]:
        response = session.client.get(
            SOURCE, CHART_URL.format(symbol=dataset.params["symbol"]), params=chart_params(start, end)
        )
        return [fetched_from_response(dataset, response, start, end)]

    def parse(self, dataset: DatasetSpec, fetched: Fetched) -> Parsed:
        return parse_chart(dataset, fetched)


def _chart_result(fetched: Fetched) -> dict:
    """The one result of a chart payload, or a SourcePayloadError quoting Yahoo's error envelope."""
    document = decode_json(fetched)
    chart = document.get("chart") if isinstance(document, dict) else None
    if not isinstance(chart, dict):
        raise payload_error(
            fetched, "chart", f"missing: expected {{'chart': {{'result', 'error'}}}} (HTTP {fetched.status})"
        )
    error = chart.get("error")
    if error:
        detail = f"{error.get('code')}: {error.get('description')}" if isinstance(error, dict) else str(error)
        raise payload_error(fetched, "chart.error", f"API error (HTTP {fetched.status}): {detail}")
    result = chart.get("result")
    if not isinstance(result, list) or len(result) != 1 or not isinstance(result[0], dict):
        raise payload_error(fetched, "chart.result", f"expected a list of one series, got {result!r:.80}")
    if fetched.status != 200:
        raise payload_error(fetched, "chart.result", f"unexpected HTTP {fetched.status} with a chart result")
    return result[0]


def _exchange_zone(fetched: Fetched, meta: object) -> ZoneInfo:
    if not isinstance(meta, dict):
        raise payload_error(fetched, "meta", "missing or not an object")
    if meta.get("dataGranularity") != INTERVAL:
        raise payload_error(
            fetched, "meta.dataGranularity", f"is {meta.get('dataGranularity')!r}, expected {INTERVAL!r} bars"
        )
    try:
        return ZoneInfo(str(meta["exchangeTimezoneName"]))
    except (KeyError, ZoneInfoNotFoundError, ValueError):
        raise payload_error(
            fetched, "meta.exchangeTimezoneName", f"is {meta.get('exchangeTimezoneName')!r}, not a time zone"
        ) from None


def _arrays(fetched: Fetched, series: dict, length: int) -> dict[str, list]:
    """The quote and adjclose arrays, each as long as `timestamp`: a missing or short one refuses the payload."""
    indicators = series.get("indicators")
    if not isinstance(indicators, dict):
        raise payload_error(fetched, "indicators", "missing or not an object")
    sources = {name: ("quote", indicators.get("quote")) for name in QUOTE_FIELDS}
    sources["adjclose"] = ("adjclose", indicators.get("adjclose"))
    arrays = {}
    for name, (block, entries) in sources.items():
        values = (
            entries[0].get(name) if isinstance(entries, list) and entries and isinstance(entries[0], dict) else None
        )
        if not isinstance(values, list) or len(values) != length:
            found = f"{len(values)} values" if isinstance(values, list) else "missing"
            raise payload_error(
                fetched, f"indicators.{block}[0].{name}", f"{found}, expected one per timestamp ({length})"
            )
        arrays[name] = values
    return arrays


def _event_day(event: object, zone: ZoneInfo) -> dt.date | None:
    if not isinstance(event, dict) or not isinstance(event.get("date"), int):
        return None
    return dt.datetime.fromtimestamp(event["date"], dt.UTC).astimezone(zone).date()


def _events(reader: RecordReader, series: dict, zone: ZoneInfo) -> tuple[dict[dt.date, float], dict[dt.date, float]]:
    """(dividend per share, split ratio numerator/denominator) by exchange date; unreadable events quarantined."""
    events = series.get("events") or {}
    dividends: dict[dt.date, float] = {}
    splits: dict[dt.date, float] = {}
    for key, event in (events.get("dividends") or {}).items():
        day = _event_day(event, zone)
        amount = parse_decimal(event.get("amount")) if isinstance(event, dict) else "not an object"
        if day is None or isinstance(amount, str):
            reader.reject(
                -1,
                f"events.dividends.{key}",
                event,
                f"unreadable dividend event: {amount if isinstance(amount, str) else 'no Unix date'}",
            )
        else:
            dividends[day] = amount
    for key, event in (events.get("splits") or {}).items():
        day = _event_day(event, zone)
        ratio = [
            parse_decimal(event.get(part)) if isinstance(event, dict) else "not an object"
            for part in ("numerator", "denominator")
        ]
        if day is None or any(isinstance(part, str) or not part for part in ratio):
            reader.reject(
                -1,
                f"events.splits.{key}",
                event,
                "unreadable split event: needs a Unix date and non-zero numerator and denominator",
            )
        else:
            splits[day] = ratio[0] / ratio[1]
    return dividends, splits


def parse_chart(dataset: DatasetSpec, fetched: Fetched) -> Parsed:
    """Chart JSON -> one bar per session date (see the module docstring). Pure."""
    series = _chart_result(fetched)
    zone = _exchange_zone(fetched, series.get("meta"))
    timestamps = series.get("timestamp")
    if timestamps is None:  # Yahoo's answer for a window without bars
        return Parsed.empty(dataset.shape)
    if not isinstance(timestamps, list):
        raise payload_error(fetched, "timestamp", f"expected a list, got {type(timestamps).__name__}")
    arrays = _arrays(fetched, series, len(timestamps))
    records = [
        {"timestamp": stamp, **{name: values[i] for name, values in arrays.items()}}
        for i, stamp in enumerate(timestamps)
    ]
    reader = RecordReader(dataset, fetched, records, ("timestamp",))
    dividends, splits = _events(reader, series, zone)
    bars: dict[dt.date, tuple[int, dict]] = {}
    duplicated = closed = 0
    for index, record in reader:
        stamp = record["timestamp"]
        if not isinstance(stamp, int) or isinstance(stamp, bool):
            reader.reject(index, "timestamp", record, f"timestamp {stamp!r} is not Unix seconds")
            continue
        if all(record[name] is None for name in PRICES):
            reader.missing += 1
            continue
        if absent := [name for name in PRICES if record[name] is None]:
            reader.reject(index, "/".join(absent), record, f"incomplete bar: {', '.join(absent)} null, the rest set")
            continue
        if (values := reader.decimals(index, record, PRICES, ("volume", "adjclose"))) is None:
            continue
        day = dt.datetime.fromtimestamp(stamp, dt.UTC).astimezone(zone).date()
        if not is_business_day(dataset.calendar, day):
            closed += 1
            continue
        if day in bars:
            duplicated += 1
            if stamp < bars[day][0]:
                continue
        bars[day] = (stamp, values)
    for day in sorted(bars):
        values = bars[day][1]
        reader.add(
            bar_time=daily_bar_time(dataset.instrument, day),
            open=values["open"],
            high=values["high"],
            low=values["low"],
            close=values["close"],
            adj_close=values.get("adjclose"),
            volume=values.get("volume"),
            dividend=dividends.get(day),
            split_ratio=splits.get(day),
            release_time=dataset.estimated_release(day),
            release_basis="estimated",
        )
    for kind, events in (("dividends", dividends), ("splits", splits)):
        for day in sorted(set(events) - set(bars)):
            reader.reject(
                -1,
                f"events.{kind}",
                {"date": day.isoformat(), "value": events[day]},
                f"{kind[:-1]} dated {day} has no bar to land on",
            )
    if duplicated or closed:
        logger.info(
            "%s %s: %d bar(s) on days the %s calendar is closed not stored; %d duplicated day(s) kept once "
            "(the later quote)",
            SOURCE,
            dataset.id,
            closed,
            dataset.calendar,
            duplicated,
        )
    return reader.parsed()


connector = Yahoo()
