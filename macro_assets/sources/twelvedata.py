"""TwelveData intraday bars: GET https://api.twelvedata.com/time_series (USD/COP 5-minute bars).

Request: symbol, interval, start_date and end_date ("YYYY-MM-DD HH:MM:SS"), timezone=UTC, outputsize=5000 (the
API's maximum), dp=5, and the API key from TWELVEDATA_API_KEY as `apikey` (live only; replay ignores it, and the
shared redaction hides it). UTC because the datetimes answered and the bounds sent are then unambiguous for any
instrument (Bogota has no DST, a New York session would repeat an hour each November); session membership is
decided in the instrument's time zone after conversion. end_date is sent one second before the window's end: the
docs do not say whether it is inclusive, and this keeps the window's last bar and never the next one either way.

Format: {"meta": {"symbol", "interval", "currency_base", "currency_quote", "type"}, "values": [{"datetime",
"open", "high", "low", "close"}, ...], "status": "ok"}: newest first, prices as strings with 5 decimals, no
`volume` for forex, `datetime` the bar's start in the requested time zone. Errors are {"code", "message",
"status": "error"}, often with HTTP 200: "No data is available on the specified dates" (400) is an empty window;
an unknown symbol (400), a bad key (401) or exhausted credits (429: 8 a minute on the free tier) refuse the payload.
The live transport turns an exhausted-credits answer into an HTTP 429 so the shared client retries it.

Sessions: TwelveData aggregates OTC quotes 24/5, so bars outside the instrument's session (USD/COP: 08:00-12:55
Bogota, Colombian business days) are expected, not errors: they are counted in `records`, logged, and not stored.

Gaps: `expected_bar_times` lists the session bars of a date range from the instrument's calendar; `gap_windows`
compares them with the bar times already stored and merges the missing ones into request windows the API can
answer in one request each; `fetch` takes such a window (UTC datetimes, [start, end)) or dates (every session bar
of the range), so a backfill asks only for what is missing.

Release time: a bar is public when it closes, its start + the interval (basis 'estimated'); the ingest pipeline
dates a bar first seen, or seen changed, by a later fetch at that fetch.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterable

import httpx

from macro_assets.catalog import DatasetSpec
from macro_assets.catalog.model import INTERVALS
from macro_assets.errors import InvalidInput
from macro_assets.http.client import live_transport
from macro_assets.http.redaction import redact_text
from macro_assets.provenance import Fetched
from macro_assets.sources.base import Parsed, SourceSession, fetched_from_response
from macro_assets.sources.records import RecordReader, decode_json, payload_error
from macro_assets.timeutil import as_utc

SOURCE = "twelvedata"
TIME_SERIES_URL = "https://api.twelvedata.com/time_series"
API_KEY_ENV = "TWELVEDATA_API_KEY"
API_KEY_PATTERN = "[A-Za-z0-9]{32}"
API_KEY_HELP = "https://twelvedata.com/account/api-keys"
MAX_OUTPUTSIZE = 5000
DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"
REQUEST_TIMEZONE = "UTC"
NO_DATA = "No data is available on the specified dates"
PRICES = ("open", "high", "low", "close")
CREDITS_EXHAUSTED = 429
# Credits are counted per clock minute: waiting a whole minute always reaches a fresh one.
CREDIT_MINUTE_SECONDS = 60
# Error bodies are a few hundred bytes; a time series is far larger and is not decoded twice to look for one.
ERROR_BODY_MAX_BYTES = 4096

Window = tuple[dt.datetime, dt.datetime]  # [start, end) in UTC

logger = logging.getLogger(__name__)


def _step(dataset: DatasetSpec) -> dt.timedelta:
    return INTERVALS[dataset.interval]


def expected_bar_times(dataset: DatasetSpec, start: dt.date, end: dt.date) -> list[dt.datetime]:
    """Start instants (UTC) of every session bar in [start, end]; none on a day the instrument's calendar is
    closed."""
    days = (start + dt.timedelta(days=i) for i in range((end - start).days + 1))
    return [bar for day in days for bar in dataset.instrument.bar_times(day, dataset.interval)]


def gap_windows(
    expected: list[dt.datetime], stored: Iterable[dt.datetime], step: dt.timedelta, max_bars: int = MAX_OUTPUTSIZE
) -> list[Window]:
    """The bars of `expected` (ascending) missing from `stored`, merged into request windows [start, end).

    A window opens at a missing bar and takes in each later missing bar while it spans at most `max_bars`
    intervals of wall-clock time: TwelveData answers about one bar per interval of a window, in session or not
    (24/5 aggregation), so bounding the span keeps every answer under `outputsize`. Merging across bars already
    stored costs bytes, not credits: a request is a credit whatever it spans.
    """
    have = {as_utc(bar) for bar in stored}
    windows: list[Window] = []
    for bar in expected:
        if bar in have:
            continue
        if windows and bar + step - windows[-1][0] <= max_bars * step:
            windows[-1] = (windows[-1][0], bar + step)
        else:
            windows.append((bar, bar + step))
    return windows


def _chunks(start: dt.datetime, end: dt.datetime, step: dt.timedelta, max_bars: int = MAX_OUTPUTSIZE) -> list[Window]:
    span = max_bars * step
    windows = []
    while start < end:
        windows.append((start, min(end, start + span)))
        start = windows[-1][1]
    return windows


def request_windows(dataset: DatasetSpec, start: dt.date | dt.datetime, end: dt.date | dt.datetime) -> list[Window]:
    """Datetimes: the window [start, end) itself, cut at the outputsize limit. Dates: every session bar of
    [start, end] in as few requests as the limit allows (none when the range has no session)."""
    timed = isinstance(start, dt.datetime), isinstance(end, dt.datetime)
    if all(timed):
        return _chunks(as_utc(start), as_utc(end), _step(dataset))
    if any(timed):
        raise InvalidInput(f"{dataset.id}: a window is two datetimes or two dates, got {start!r} and {end!r}")
    return gap_windows(expected_bar_times(dataset, start, end), (), _step(dataset))


def window_params(dataset: DatasetSpec, start: dt.datetime, end: dt.datetime) -> dict[str, str]:
    """The query of one request for the bars starting in [start, end) (UTC), without the API key."""
    return {
        "symbol": str(dataset.params["symbol"]),
        "interval": dataset.interval,
        "start_date": start.strftime(DATETIME_FORMAT),
        "end_date": (end - dt.timedelta(seconds=1)).strftime(DATETIME_FORMAT),
        "timezone": REQUEST_TIMEZONE,
        "outputsize": str(MAX_OUTPUTSIZE),
        "dp": "5",
    }


def _error_code(body: bytes) -> object:
    """The `code` of a small {"status": "error"} body, else None."""
    if len(body) > ERROR_BODY_MAX_BYTES:
        return None
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    return document.get("code") if isinstance(document, dict) and document.get("status") == "error" else None


class CreditAwareTransport(httpx.BaseTransport):
    """The network, with TwelveData's exhausted-credits answer (HTTP 200 carrying {"code": 429, ...}) turned into
    an HTTP 429 with Retry-After: the shared client then retries it after the credit minute, as any rate limit.
    The body is unchanged."""

    def __init__(self, inner: httpx.BaseTransport | None = None):
        self._inner = inner if inner is not None else live_transport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._inner.handle_request(request)
        if response.status_code != 200:
            return response
        body = response.read()
        if _error_code(body) != CREDITS_EXHAUSTED:
            return response
        response.close()
        # The body is decoded already: the encoding headers of the original must not make httpx decode it again.
        headers = [
            (name, value)
            for name, value in response.headers.multi_items()
            if name.lower() not in ("content-encoding", "content-length", "transfer-encoding")
        ]
        return httpx.Response(
            CREDITS_EXHAUSTED,
            headers=[*headers, ("Retry-After", str(CREDIT_MINUTE_SECONDS))],
            content=body,
            request=request,
        )


class TwelveData:
    source = SOURCE

    def live_transport(self) -> httpx.BaseTransport:
        return CreditAwareTransport()

    def missing_windows(
        self, dataset: DatasetSpec, start: dt.date, end: dt.date, stored_bar_times: Iterable[dt.datetime]
    ) -> list[Window]:
        """Request windows for the session bars of [start, end] not among `stored_bar_times`."""
        return gap_windows(expected_bar_times(dataset, start, end), stored_bar_times, _step(dataset))

    def fetch(
        self, session: SourceSession, dataset: DatasetSpec, start: dt.date | dt.datetime, end: dt.date | dt.datetime
    ) -> list[Fetched]:
        """One request per window of `request_windows`; each payload's window is the session dates it asked for."""
        api_key = session.credential(SOURCE, API_KEY_ENV, API_KEY_PATTERN, API_KEY_HELP)
        zone = dataset.instrument.timezone
        fetched = []
        for first, stop in request_windows(dataset, start, end):
            params = window_params(dataset, first, stop)
            if api_key:
                params["apikey"] = api_key
            response = session.client.get(SOURCE, TIME_SERIES_URL, params=params)
            fetched.append(
                fetched_from_response(
                    dataset, response, first.astimezone(zone).date(), (stop - _step(dataset)).astimezone(zone).date()
                )
            )
        return fetched

    def parse(self, dataset: DatasetSpec, fetched: Fetched) -> Parsed:
        return parse_time_series(dataset, fetched)


def _values(dataset: DatasetSpec, fetched: Fetched) -> list | None:
    """The `values` of an ok payload; None for TwelveData's empty window; a SourcePayloadError for any error."""
    document = decode_json(fetched)
    if not isinstance(document, dict):
        raise payload_error(fetched, "<body>", f"expected a JSON object, got {type(document).__name__}")
    if document.get("status") != "ok":
        message = redact_text(str(document.get("message", document)))
        if document.get("code") == 400 and NO_DATA in message:
            return None
        what = "API credits exhausted" if document.get("code") == CREDITS_EXHAUSTED else "API error"
        raise payload_error(
            fetched, "<body>", f"{what} (code {document.get('code')}, HTTP {fetched.status}): {message}"
        )
    if fetched.status != 200:
        raise payload_error(fetched, "<body>", f"unexpected HTTP {fetched.status} with status 'ok'")
    meta = document.get("meta") if isinstance(document.get("meta"), dict) else {}
    for name, wanted in (("symbol", dataset.params["symbol"]), ("interval", dataset.interval)):
        if meta.get(name) != wanted:
            raise payload_error(fetched, f"meta.{name}", f"is {meta.get(name)!r}, expected {wanted!r}")
    values = document.get("values")
    if not isinstance(values, list):
        raise payload_error(fetched, "values", f"missing or not a list (object has keys {sorted(document)})")
    return values


def parse_time_series(dataset: DatasetSpec, fetched: Fetched) -> Parsed:
    """time_series JSON -> the session's bars (see the module docstring). Pure."""
    values = _values(dataset, fetched)
    if values is None:
        return Parsed.empty(dataset.shape)
    step, instrument = _step(dataset), dataset.instrument
    reader = RecordReader(dataset, fetched, values, ("datetime", *PRICES))
    sessions: dict[dt.date, frozenset[dt.datetime]] = {}
    seen: set[dt.datetime] = set()
    outside = 0
    for index, record in reader:
        try:
            start = dt.datetime.strptime(str(record["datetime"]), DATETIME_FORMAT).replace(tzinfo=dt.UTC)
        except ValueError:
            reader.reject(index, "datetime", record, f"{record['datetime']!r} does not match {DATETIME_FORMAT}")
            continue
        day = start.astimezone(instrument.timezone).date()
        if day not in sessions:
            sessions[day] = frozenset(instrument.bar_times(day, dataset.interval))
        if start not in sessions[day]:
            outside += 1
            continue
        if start in seen:
            reader.reject(index, "datetime", record, f"a second bar for {record['datetime']} UTC")
            continue
        if (numbers := reader.decimals(index, record, PRICES, ("volume",))) is None:
            continue
        seen.add(start)
        reader.add(
            bar_time=start,
            open=numbers["open"],
            high=numbers["high"],
            low=numbers["low"],
            close=numbers["close"],
            volume=numbers.get("volume"),
            release_time=start + step,
            release_basis="estimated",
        )
    if outside:
        logger.info(
            "%s %s: %d bar(s) outside the %s session counted, not stored",
            SOURCE,
            dataset.id,
            outside,
            instrument.symbol,
        )
    parsed = reader.parsed()
    parsed.rows = parsed.rows.sort("bar_time")
    return parsed


connector = TwelveData()
