"""The one HTTP client shared by every connector: per-source rate limits, retries with backoff and jitter on
429, 5xx and network errors, Retry-After, and redacted errors. The transport decides where bytes come from: the
network (live), a source's own client (an SDK hidden behind the same call), or a replay of recordings."""

from __future__ import annotations

import logging
import math
import random
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any, Self

import httpx

from macro_assets.errors import MacroAssetsError
from macro_assets.http.redaction import install_log_redaction, redact_text, redact_url
from macro_assets.timeutil import as_utc

logger = logging.getLogger("macro_assets.http")

DETAIL_MAX_CHARS = 200


def _parse_http_date(value: str) -> datetime | None:
    try:
        return as_utc(parsedate_to_datetime(value))
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
    reference = as_utc(now) if now is not None else datetime.now(UTC)
    return max(0.0, (retry_at - reference).total_seconds())


class SourceHTTPError(MacroAssetsError):
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
        source_transports: Mapping[str, httpx.BaseTransport] | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy = RetryPolicy(),
        rate_limits: Mapping[str, float] | None = None,
        default_rate: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        user_agent: str = "macro_assets/0.1",
    ) -> None:
        """``transport=None`` means the live network (see ``live_transport``)."""
        install_log_redaction()

        def client(over: httpx.BaseTransport) -> httpx.Client:
            return httpx.Client(
                transport=over, timeout=timeout, headers={"User-Agent": user_agent}, follow_redirects=True
            )

        self._client = client(transport if transport is not None else live_transport())
        # Sources that come with a client of their own (an SDK that handles cookies or sessions) reach the network
        # through it, behind the same retries, rate limits and redaction.
        self._source_clients = {source: client(over) for source, over in (source_transports or {}).items()}
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

    def get(
        self,
        source: str,
        url: str,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """GET ``url`` for ``source``, retrying 429, 5xx and transport errors. ``headers`` (an app token a source
        takes as a header) are sent but never logged: only the redacted URL is.

        Any other status (including 4xx) is returned for the caller to interpret.
        Raises SourceHTTPError once the retry budget is spent; RecordingNotFound from
        the replay transport propagates immediately.
        """
        client = self._source_clients.get(source, self._client)
        request = client.build_request("GET", url, params=params, headers=headers)
        redacted = redact_url(request.url)
        limiter = self._limiter(source)
        attempts = self._retry.max_attempts
        attempt = 0
        while True:
            attempt += 1
            limiter.acquire()
            logger.debug("%s: GET %s (attempt %d/%d)", source, redacted, attempt, attempts)
            try:
                response = client.send(request)
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
        for client in (self._client, *self._source_clients.values()):
            client.close()

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
