"""Cache-aside in Redis for read answers, keyed by what makes an answer current.

Correct without the writers knowing about Redis: the vintage tables are append-only (their triggers refuse UPDATE,
DELETE and TRUNCATE), so the rows of a dataset released at or before an instant only ever grow, and their count is
a version of every answer about that dataset as of that instant. A request counts them (one range of the primary
key, bounded by the window it reads) and puts the count in its key: a new vintage the answer would contain changes
the count, hence the key, and the old answer is never served again; a vintage released after the instant read, or
outside the window, leaves the answer cached. The TTL of a data domain only bounds how long an unused answer takes
memory.

Redis down is not an error: a short connect timeout, a warning once, then no Redis for a while.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import polars as pl
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from macro_assets.shapes import Shape
from macro_assets.timeutil import Moment, parse_instant
from macro_assets.warehouse.db import Database, first_key

log = logging.getLogger(__name__)

# Seconds an answer may stay, by the catalog's frequency of its dataset: intraday bars change every few minutes.
TTL_BY_FREQUENCY = {"intraday": 60, "daily": 15 * 60, "weekly": 3600, "monthly": 6 * 3600, "quarterly": 6 * 3600}
DEFAULT_TTL = 15 * 60
CONNECT_TIMEOUT = 0.2  # seconds: a Redis on the same network answers in well under a millisecond
COMMAND_TIMEOUT = 0.5
RETRY_AFTER = 30.0  # seconds without trying Redis after it failed


def ttl_for(frequency: str | None) -> int:
    return TTL_BY_FREQUENCY.get(frequency or "", DEFAULT_TTL)


@dataclass(frozen=True)
class CachedAnswer:
    body: bytes
    media_type: str
    headers: dict[str, str] = field(default_factory=dict)

    def encode(self) -> bytes:
        head = json.dumps({"media_type": self.media_type, "headers": self.headers}).encode()
        return len(head).to_bytes(4, "big") + head + self.body

    @classmethod
    def decode(cls, value: bytes) -> CachedAnswer:
        size = int.from_bytes(value[:4], "big")
        head = json.loads(value[4 : 4 + size])
        return cls(value[4 + size :], head["media_type"], head["headers"])


class ResponseCache:
    """Answers in Redis under `prefix`; with no URL, a cache that holds nothing."""

    def __init__(self, url: str | None, prefix: str):
        self.prefix = prefix
        self._client = (
            redis.Redis.from_url(
                url,
                socket_connect_timeout=CONNECT_TIMEOUT,
                socket_timeout=COMMAND_TIMEOUT,
                retry=Retry(NoBackoff(), 0),
            )
            if url
            else None
        )
        self._failing = False
        self._retry_at = 0.0  # time.monotonic() before which a failing Redis is left alone
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self._client is not None

    @property
    def usable(self) -> bool:
        """Worth asking now: configured, and not failing within the last RETRY_AFTER seconds."""
        return self._client is not None and time.monotonic() >= self._retry_at

    @property
    def state(self) -> str:
        if self._client is None:
            return "off"
        return "down" if self._failing else "up"

    def key(self, *parts: object) -> str:
        return self.prefix + hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()

    def get(self, key: str) -> CachedAnswer | None:
        value = self._call(lambda client: client.get(key))
        return CachedAnswer.decode(value) if value else None

    def set(self, key: str, answer: CachedAnswer, ttl: int) -> None:
        self._call(lambda client: client.set(key, answer.encode(), ex=ttl))

    def ping(self) -> bool:
        return bool(self._call(lambda client: client.ping()))

    def _call(self, command):
        if not self.usable:
            return None
        try:
            result = command(self._client)
        except redis.RedisError as error:
            with self._lock:
                if not self._failing:  # one warning per outage, not one per request
                    log.warning("Redis cache unavailable (%s); answering from the warehouse", type(error).__name__)
                self._failing = True
                self._retry_at = time.monotonic() + RETRY_AFTER
            return None
        if self._failing:
            with self._lock:
                if self._failing:
                    log.warning("Redis cache available again")
                    self._failing = False
        return result


class VintageCounter:
    """How many rows of some datasets were released at or before an instant, within a window of their first key:
    the version of every answer about them that reads no further."""

    def __init__(self, db: Database):
        self._db = db

    def count(self, shape: Shape, ids: Iterable[str], instant, start: Moment | None = None, end: Moment | None = None):
        first = first_key(shape)
        params = {"ids": sorted(set(ids)), "instant": instant}
        window = ""
        # A day's margin on each side: a window wider than the read's can only invalidate more, never less, so it
        # need not repeat how each reader rounds its bounds (a bare date ending a time window is its whole day).
        for name, bound, margin, operator in (("low", start, -1, ">="), ("high", end, 2, "<=")):
            if bound is not None:
                edge = parse_instant(bound, field="start" if name == "low" else "end") + dt.timedelta(days=margin)
                params[name] = edge if isinstance(shape.key_schema[first], pl.Datetime) else edge.date()
                window += f" AND {first} {operator} %({name})s"
        with self._db.cursor() as cursor:
            cursor.execute(
                f"SELECT count(*) FROM {shape.table}"
                f" WHERE {shape.id_column} = ANY(%(ids)s){window} AND release_time <= %(instant)s",
                params,
            )
            return cursor.fetchone()[0]
