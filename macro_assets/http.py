"""The one HTTP layer shared by every data-source connector.

Connectors call ``HttpClient.get``; the transport decides where bytes come from.
Offline (the default) a ``ReplayTransport`` serves recorded exchanges from
``manifest.json`` files; live mode swaps in ``live_transport()`` and nothing else
changes. Retries, rate limiting and secret redaction therefore behave the same
in tests, offline runs and production.
"""

from __future__ import annotations

import json
import logging
import math
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import unquote_plus, urlsplit, urlunsplit

import httpx

__all__ = [
    "SECRET_PARAMS",
    "HttpClient",
    "RateLimiter",
    "RecordingNotFound",
    "ReplayTransport",
    "RetryPolicy",
    "SourceHTTPError",
    "live_transport",
    "parse_retry_after",
    "redact_text",
    "redact_url",
    "response_time",
]

logger = logging.getLogger("macro_assets.http")

SECRET_PARAMS: frozenset[str] = frozenset({"api_key", "apikey", "token", "access_key", "key"})

REDACTED = "***"
DETAIL_MAX_CHARS = 200
RECORDED_WINDOWS_SHOWN = 5

# Free text (log lines, error bodies) has no URL structure to parse, so secrets are
# found lexically; the look-behind keeps e.g. "monkey=" or "series_key=" intact while
# still catching a percent-encoded "%26api_key=" inside a nested URL.
_SECRET_IN_TEXT = re.compile(
    r"(?<![A-Za-z_])(" + "|".join(sorted(SECRET_PARAMS, key=len, reverse=True)) + r")=([^&#\s'\"<>]+)",
    re.IGNORECASE,
)

# httpcore logs on child loggers, and logger-level filters do not apply to records
# propagated from children, so every logger that emits records needs the filter.
_THIRD_PARTY_LOGGERS = (
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
)


def _is_secret_param(name: str) -> bool:
    return name.lower() in SECRET_PARAMS


def redact_url(url: str | httpx.URL) -> str:
    """The same URL with the value of every secret query parameter replaced by ``***``."""
    text = str(url)
    parts = urlsplit(text)
    if not parts.query:
        return text
    fields = []
    for field in parts.query.split("&"):
        name, separator, _ = field.partition("=")
        fields.append(f"{name}={REDACTED}" if separator and _is_secret_param(unquote_plus(name)) else field)
    return urlunsplit(parts._replace(query="&".join(fields)))


def redact_text(text: str) -> str:
    """Free text with every ``secret_name=value`` occurrence redacted."""
    return _SECRET_IN_TEXT.sub(lambda match: f"{match.group(1)}={REDACTED}", text)


def _as_utc(moment: datetime) -> datetime:
    # RFC 7231 dates and manifest timestamps without an offset are UTC by definition.
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _parse_http_date(value: str) -> datetime | None:
    try:
        return _as_utc(parsedate_to_datetime(value))
    except (TypeError, ValueError):
        return None


def response_time(response: httpx.Response) -> datetime:
    """When the server produced ``response`` (its ``Date`` header), as an aware UTC datetime.

    Falls back to the local clock when the header is absent or unparseable.
    """
    header = response.headers.get("Date")
    served_at = _parse_http_date(header) if header else None
    return served_at if served_at is not None else datetime.now(UTC)


_DELTA_SECONDS = re.compile(r"\d+(\.\d+)?")


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait according to a ``Retry-After`` header (delta-seconds or HTTP-date).

    Returns None when the header is absent or malformed; a date in the past means 0.
    """
    if value is None or not value.strip():
        return None
    value = value.strip()
    if _DELTA_SECONDS.fullmatch(value):
        return float(value)
    retry_at = _parse_http_date(value)
    if retry_at is None:
        return None
    reference = _as_utc(now) if now is not None else datetime.now(UTC)
    return max(0.0, (retry_at - reference).total_seconds())


class SourceHTTPError(Exception):
    """A source could not be fetched. ``url`` is always redacted."""

    def __init__(
        self,
        source: str,
        url: str,
        status: int | None,
        detail: str,
        *,
        method: str = "GET",
        attempts: int | None = None,
    ) -> None:
        self.source = source
        # Redacting is idempotent, so a caller that forgot to redact cannot leak a key here.
        self.url = redact_url(url)
        self.status = status
        self.detail = redact_text(detail)
        self.method = method
        self.attempts = attempts
        after = f" after {attempts} attempts" if attempts is not None else ""
        reason = f"HTTP {status} {self.detail}".rstrip() if status is not None else self.detail
        super().__init__(f"{source}: {method} {self.url} failed{after}: {reason}")

    def __reduce__(self) -> tuple[Any, ...]:
        # The default reduce re-calls __init__ with the message only, which would break
        # unpickling in process-pool executors.
        return (
            _rebuild_source_error,
            (type(self), self.source, self.url, self.status, self.detail, self.method, self.attempts),
        )


def _rebuild_source_error(
    error_type: type[SourceHTTPError],
    source: str,
    url: str,
    status: int | None,
    detail: str,
    method: str,
    attempts: int | None,
) -> SourceHTTPError:
    return error_type(source, url, status, detail, method=method, attempts=attempts)


class RecordingNotFound(SourceHTTPError):
    """Offline mode was asked for a request that has no recorded exchange."""


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = 120.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be >= 1, got {self.max_attempts}")
        if min(self.base_delay, self.max_delay, self.max_retry_after) < 0:
            raise ValueError("retry delays must be non-negative")

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        """Seconds to sleep after failed ``attempt`` (1-based).

        Full-jitter exponential backoff spreads concurrent retries apart; a server's
        Retry-After is a floor, capped so a hostile value cannot stall a run for hours.
        """
        # The exponent cap only keeps 2**n finite; max_delay is the real ceiling.
        envelope = min(self.max_delay, self.base_delay * 2 ** min(attempt - 1, 64))
        backoff = rng.uniform(0.0, envelope)
        if retry_after is None:
            return backoff
        return max(backoff, min(retry_after, self.max_retry_after))


class RateLimiter:
    """Spaces successive ``acquire`` returns at least ``1 / rate_per_second`` apart (thread-safe)."""

    def __init__(
        self,
        rate_per_second: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not rate_per_second > 0 or math.isinf(rate_per_second):
            raise ValueError(f"rate_per_second must be positive and finite, got {rate_per_second}")
        self._interval = 1.0 / rate_per_second
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next_slot: float | None = None

    def acquire(self) -> None:
        # Reserve a slot under the lock but sleep outside it, so waiting threads queue
        # up on distinct slots instead of serialising on the lock.
        with self._lock:
            now = self._clock()
            slot = now if self._next_slot is None else max(now, self._next_slot)
            self._next_slot = slot + self._interval
        wait = slot - now
        if wait > 0:
            self._sleep(wait)


class _SecretRedactingFilter(logging.Filter):
    """Rewrites secret query values in third-party log records (httpx logs full URLs)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is the emitter's problem; still redact its parts
            record.msg = redact_text(str(record.msg))
            record.args = tuple(redact_text(str(arg)) for arg in _record_args(record))
            return True
        redacted = redact_text(message)
        if redacted != message:
            record.msg = redacted
            record.args = ()
        return True


def _record_args(record: logging.LogRecord) -> Iterable[object]:
    if isinstance(record.args, Mapping):
        return record.args.values()
    return record.args or ()


_LOG_FILTER = _SecretRedactingFilter()
_LOG_FILTER_LOCK = threading.Lock()


def _install_log_redaction() -> None:
    with _LOG_FILTER_LOCK:
        for name in _THIRD_PARTY_LOGGERS:
            third_party_logger = logging.getLogger(name)
            if _LOG_FILTER not in third_party_logger.filters:
                third_party_logger.addFilter(_LOG_FILTER)


def _is_retryable_status(status: int) -> bool:
    return status == 429 or 500 <= status <= 599


def _one_line(text: str, limit: int = DETAIL_MAX_CHARS) -> str:
    return " ".join(text[:limit].split())


class HttpClient:
    """One shared httpx.Client for every source; per-source rate limits; retries."""

    def __init__(
        self,
        transport: httpx.BaseTransport | None = None,
        *,
        timeout: float = 30.0,
        retry: RetryPolicy = RetryPolicy(),
        rate_limits: Mapping[str, float] | None = None,
        default_rate: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        user_agent: str = "macro_assets/0.1",
    ) -> None:
        """``transport=None`` means the live network (see ``live_transport``)."""
        _install_log_redaction()
        self._client = httpx.Client(
            transport=transport if transport is not None else live_transport(),
            timeout=timeout,
            headers={"User-Agent": user_agent},
            follow_redirects=True,
        )
        self._retry = retry
        self._rate_limits = dict(rate_limits or {})
        self._default_rate = default_rate
        self._sleep = sleep
        self._rng = rng if rng is not None else random.Random()
        self._limiters: dict[str, RateLimiter] = {}
        self._limiters_lock = threading.Lock()

    def _limiter(self, source: str) -> RateLimiter:
        with self._limiters_lock:
            limiter = self._limiters.get(source)
            if limiter is None:
                rate = self._rate_limits.get(source, self._default_rate)
                limiter = self._limiters[source] = RateLimiter(rate, sleep=self._sleep)
            return limiter

    def get(self, source: str, url: str, params: Mapping[str, str] | None = None) -> httpx.Response:
        """GET ``url`` for ``source``, retrying 429, 5xx and transport errors.

        Any other status (including 4xx) is returned for the caller to interpret.
        Raises SourceHTTPError once the retry budget is spent; RecordingNotFound from
        the replay transport propagates immediately.
        """
        request = self._client.build_request("GET", url, params=params)
        redacted = redact_url(request.url)
        limiter = self._limiter(source)
        attempts = self._retry.max_attempts
        attempt = 0
        while True:
            attempt += 1
            limiter.acquire()
            logger.debug("%s: GET %s (attempt %d/%d)", source, redacted, attempt, attempts)
            try:
                response = self._client.send(request)
            except httpx.TransportError as exc:
                network_error: httpx.TransportError | None = exc
                status: int | None = None
                detail = _one_line(f"{type(exc).__name__}: {exc}")
                retry_after = None
            else:
                if not _is_retryable_status(response.status_code):
                    return response
                network_error = None
                status = response.status_code
                detail = _one_line(response.text)
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                response.close()
            if attempt == attempts:
                raise SourceHTTPError(source, redacted, status, detail, attempts=attempts) from network_error
            delay = self._retry.delay(attempt, retry_after, self._rng)
            logger.warning(
                "%s: GET %s failed (%s), attempt %d/%d; retrying in %.2fs",
                source,
                redacted,
                f"HTTP {status}" if status is not None else redact_text(detail),
                attempt,
                attempts,
                delay,
            )
            self._sleep(delay)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def live_transport() -> httpx.BaseTransport:
    """The real network. Retries are HttpClient's job, so the transport makes one try."""
    return httpx.HTTPTransport(retries=0)


ParamPairs = tuple[tuple[str, str], ...]
REPLAYED_FROM_HEADER = "X-Replayed-From"


def _param_value_to_str(value: object) -> str:
    # Mirrors httpx's own encoding so recorded JSON scalars match what connectors send.
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return ""
    return str(value)


def _non_secret_pairs(pairs: Iterable[tuple[str, str]]) -> ParamPairs:
    return tuple((name, value) for name, value in pairs if not _is_secret_param(name))


def _recorded_param_pairs(raw_params: Mapping[str, object]) -> list[tuple[str, str]]:
    pairs = []
    for name, value in raw_params.items():
        values = value if isinstance(value, list) else [value]
        pairs.extend((name, _param_value_to_str(item)) for item in values)
    return pairs


@dataclass(frozen=True)
class _Endpoint:
    method: str
    scheme: str
    host: str
    path: str

    @classmethod
    def of(cls, method: str, url: httpx.URL) -> _Endpoint:
        return cls(method.upper(), url.scheme, url.host, url.path)


@dataclass(frozen=True)
class _WindowParams:
    """Which query parameters bound a source's observation window, and their date format (from the manifest)."""

    start: str
    end: str
    date_format: str

    def split(self, params: ParamPairs) -> tuple[ParamPairs, tuple[date, date] | None]:
        """(params other than the window bounds, the window) of a request; window None if not both bounds."""
        bounds = {name: value for name, value in params if name in (self.start, self.end)}
        rest = tuple(pair for pair in params if pair[0] not in (self.start, self.end))
        try:
            window = (datetime.strptime(bounds[self.start], self.date_format).date(),
                      datetime.strptime(bounds[self.end], self.date_format).date())
        except (KeyError, ValueError):
            return params, None
        return rest, window


@dataclass(frozen=True)
class _RecordedExchange:
    endpoint: _Endpoint
    params: ParamPairs
    status: int
    headers: tuple[tuple[str, str], ...]
    body_path: Path
    captured_at: datetime
    manifest_order: int
    window_params: _WindowParams | None = None

    @property
    def param_multiset(self) -> Counter[tuple[str, str]]:
        return Counter(self.params)

    def covers(self, params: ParamPairs) -> bool:
        """Whether this recording answers a request for a window inside its own, other parameters equal."""
        if self.window_params is None:
            return False
        own_rest, own_window = self.window_params.split(self.params)
        rest, window = self.window_params.split(params)
        return (own_window is not None and window is not None and Counter(own_rest) == Counter(rest)
                and own_window[0] <= window[0] <= window[1] <= own_window[1])


def _load_manifest(manifest_path: Path, first_order: int) -> list[_RecordedExchange]:
    try:
        manifest = json.loads(manifest_path.read_bytes())
    except ValueError as exc:
        raise ValueError(f"{manifest_path}: not valid JSON: {exc}") from exc
    window = manifest.get("window_params")
    window_params = _WindowParams(window["start"], window["end"], window["format"]) if window else None
    exchanges = []
    for index, exchange in enumerate(manifest.get("exchanges", [])):
        try:
            request = exchange["request"]
            response = exchange["response"]
            url = httpx.URL(request["url"])
            params = _non_secret_pairs(
                [*url.params.multi_items(), *_recorded_param_pairs(request.get("params", {}))]
            )
            exchanges.append(
                _RecordedExchange(
                    endpoint=_Endpoint.of(request.get("method", "GET"), url),
                    params=params,
                    status=int(response["status"]),
                    headers=tuple((str(k), str(v)) for k, v in response.get("headers", {}).items()),
                    body_path=manifest_path.parent / response["body_file"],
                    captured_at=_as_utc(datetime.fromisoformat(exchange["captured_at"])),
                    manifest_order=first_order + index,
                    window_params=window_params,
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{manifest_path}: exchange #{index} is malformed: {exc!r}") from exc
    return exchanges


def _describe_params(params: ParamPairs) -> str:
    return "&".join(f"{name}={value}" for name, value in params) or "(no params)"


class ReplayTransport(httpx.BaseTransport):
    """Serves recorded exchanges: the offline default and the tests use it instead of the network.

    ``clock`` makes replays point-in-time: among recordings of the same request the
    latest one captured at or before ``clock`` is served (None: the latest overall).

    A request for a window inside a recorded window (a single partition of the recorded range) is answered with
    that recorded response, verbatim and wider than asked, as an API may answer; connectors keep only their
    window's rows anyway. The response names the recording in ``X-Replayed-From`` so provenance stays exact.
    """

    def __init__(self, recordings_root: Path | str, clock: datetime | None = None) -> None:
        self._root = Path(recordings_root)
        self._clock = _as_utc(clock) if clock is not None else None
        self._exchanges: dict[_Endpoint, list[_RecordedExchange]] | None = None
        self._load_lock = threading.Lock()

    def _recordings(self) -> dict[_Endpoint, list[_RecordedExchange]]:
        with self._load_lock:
            if self._exchanges is None:
                loaded: list[_RecordedExchange] = []
                for manifest_path in sorted(self._root.rglob("manifest.json")):
                    loaded.extend(_load_manifest(manifest_path, first_order=len(loaded)))
                by_endpoint: dict[_Endpoint, list[_RecordedExchange]] = {}
                for exchange in loaded:
                    by_endpoint.setdefault(exchange.endpoint, []).append(exchange)
                self._exchanges = by_endpoint
            return self._exchanges

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        endpoint = _Endpoint.of(request.method, request.url)
        recorded = self._recordings().get(endpoint, [])
        wanted = Counter(_non_secret_pairs(request.url.params.multi_items()))
        same_request = [exchange for exchange in recorded if exchange.param_multiset == wanted]
        covering = False
        if not same_request:
            params = tuple(wanted.elements())
            same_request = [exchange for exchange in recorded if exchange.covers(params)]
            covering = bool(same_request)
        in_time = [
            exchange
            for exchange in same_request
            if self._clock is None or exchange.captured_at <= self._clock
        ]
        if not in_time:
            raise self._not_found(request, recorded, captured_only_later=bool(same_request))
        chosen = max(in_time, key=lambda exchange: (exchange.captured_at, exchange.manifest_order))
        response = self._serve(chosen, request)
        if covering:
            response.headers[REPLAYED_FROM_HEADER] = _describe_params(chosen.params)
        return response

    @staticmethod
    def _serve(exchange: _RecordedExchange, request: httpx.Request) -> httpx.Response:
        headers = httpx.Headers(list(exchange.headers))
        if "Date" not in headers:
            # Pins response_time() to the capture time so replays are deterministic.
            headers["Date"] = format_datetime(exchange.captured_at, usegmt=True)
        return httpx.Response(
            exchange.status,
            headers=headers,
            content=exchange.body_path.read_bytes(),
            request=request,
        )

    def _not_found(
        self,
        request: httpx.Request,
        recorded: list[_RecordedExchange],
        *,
        captured_only_later: bool,
    ) -> RecordingNotFound:
        if captured_only_later:
            why = f"this request was only recorded after the replay clock {self._clock}"
        elif recorded:
            windows = list(dict.fromkeys(_describe_params(exchange.params) for exchange in recorded))
            shown = "; ".join(windows[:RECORDED_WINDOWS_SHOWN])
            hidden = len(windows) - RECORDED_WINDOWS_SHOWN
            more = f" (and {hidden} more)" if hidden > 0 else ""
            why = f"no recording matches these params; recorded param sets for this path: {shown}{more}"
        else:
            why = f"nothing is recorded for {request.method} {request.url.host}{request.url.path}"
        return RecordingNotFound(
            source="replay",
            url=redact_url(request.url),
            status=None,
            method=request.method,
            detail=(
                f"{why}. Offline mode only replays recorded requests (recordings under "
                f"{self._root}); set MACRO_ASSETS_MODE=live to fetch from the network."
            ),
        )
