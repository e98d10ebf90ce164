"""The shared HTTP client against a real loopback server: retries, backoff, rate limits, per-source transports,
errors that survive pickling, and the header parsers."""

from __future__ import annotations

import json
import pickle
import random
import threading
from datetime import UTC, datetime

import httpx
import pytest

from macro_assets.errors import MacroAssetsError
from macro_assets.http.client import (
    HttpClient,
    RateLimiter,
    RetryPolicy,
    SourceHTTPError,
    parse_retry_after,
    response_time,
)
from macro_assets_tests.http.support import (
    API_KEY,
    FakeClock,
    RecordingSleep,
    Reply,
    ScriptedServer,
    UpperBoundJitter,
    make_client,
    unused_loopback_port,
)

# --- retries against a real server -------------------------------------------------


def test_429_with_retry_after_waits_at_least_that_long_then_succeeds(
    server: ScriptedServer, sleep: RecordingSleep
) -> None:
    server.play(Reply(429, b"slow down", {"Retry-After": "2"}), Reply(200, b"[1, 2]"))

    with make_client(sleep) as client:
        response = client.get("fred", server.url("/series"))

    assert response.status_code == 200
    assert response.content == b"[1, 2]"
    assert len(server.received) == 2
    assert len(sleep.delays) == 1
    assert sleep.delays[0] >= 2.0


def test_5xx_are_retried_with_exponentially_growing_backoff(server: ScriptedServer, sleep: RecordingSleep) -> None:
    server.play(Reply(503), Reply(502), Reply(200, b"done"))
    policy = RetryPolicy(base_delay=0.5)

    with make_client(sleep, retry=policy, rng=UpperBoundJitter()) as client:
        response = client.get("bcb_sgs", server.url("/dados"))

    assert response.status_code == 200
    assert len(server.received) == 3
    assert sleep.delays == [0.5, 1.0]


def test_backoff_is_full_jitter_within_a_capped_exponential_envelope() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=4.0)
    rng = random.Random(1234)

    for attempt, envelope in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (5, 4.0), (40, 4.0)]:
        delays = [policy.delay(attempt, None, rng) for _ in range(200)]
        assert all(0.0 <= delay <= envelope for delay in delays)
        # Full jitter uses the whole range rather than clustering near the envelope.
        assert min(delays) < envelope * 0.1 and max(delays) > envelope * 0.9


def test_retry_after_is_a_floor_but_capped() -> None:
    policy = RetryPolicy(base_delay=0.5, max_retry_after=60.0)
    rng = random.Random(0)

    assert policy.delay(1, 2.0, rng) >= 2.0
    assert policy.delay(1, 3600.0, rng) == 60.0


@pytest.mark.parametrize("options", [{"max_attempts": 0}, {"base_delay": -1.0}])
def test_a_retry_policy_that_cannot_work_is_refused(options: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        RetryPolicy(**options)


def test_persistent_500_raises_after_max_attempts_naming_source_and_path(
    server: ScriptedServer, sleep: RecordingSleep
) -> None:
    server.play(Reply(500, b"internal   error\nplease retry"))

    with make_client(sleep, retry=RetryPolicy(max_attempts=3)) as client:
        with pytest.raises(SourceHTTPError) as raised:
            client.get("bcb_sgs", server.url("/dados/serie/bcdata.sgs.432/dados"), {"formato": "json"})

    error = raised.value
    assert isinstance(error, MacroAssetsError)
    assert error.status == 500
    assert error.source == "bcb_sgs"
    assert error.detail == "internal error please retry"
    assert error.attempts == 3
    assert len(server.received) == 3
    assert len(sleep.delays) == 2
    message = str(error)
    assert message.startswith("bcb_sgs: GET http://127.0.0.1:")
    assert "/dados/serie/bcdata.sgs.432/dados?formato=json" in message
    assert "failed after 3 attempts: HTTP 500" in message


def test_404_with_json_body_is_returned_without_retry(server: ScriptedServer, sleep: RecordingSleep) -> None:
    empty_window = json.dumps({"error": "Value(s) not found", "code": 404}).encode()
    server.play(Reply(404, empty_window, {"Content-Type": "application/json"}))

    with make_client(sleep) as client:
        response = client.get("bcb_sgs", server.url("/dados"))

    assert response.status_code == 404
    assert response.json() == {"error": "Value(s) not found", "code": 404}
    assert len(server.received) == 1
    assert sleep.delays == []


def test_connection_refused_is_retried_then_raised_without_status(sleep: RecordingSleep) -> None:
    url = f"http://127.0.0.1:{unused_loopback_port()}/nothing-listens-here"

    with make_client(sleep, retry=RetryPolicy(max_attempts=4)) as client:
        with pytest.raises(SourceHTTPError) as raised:
            client.get("fred", url)

    assert raised.value.status is None
    assert "ConnectError" in raised.value.detail
    assert isinstance(raised.value.__cause__, httpx.ConnectError)
    assert len(sleep.delays) == 3
    assert "failed after 4 attempts" in str(raised.value)


def test_source_error_survives_pickling_for_process_pools() -> None:
    error = SourceHTTPError("fred", f"https://x.test/a?api_key={API_KEY}", 503, "busy", attempts=5)

    restored = pickle.loads(pickle.dumps(error))

    assert type(restored) is SourceHTTPError
    expected = "fred: GET https://x.test/a?api_key=*** failed after 5 attempts: HTTP 503 busy"
    assert str(restored) == str(error) == expected
    assert (restored.source, restored.url, restored.status, restored.detail, restored.attempts) == (
        "fred",
        "https://x.test/a?api_key=***",
        503,
        "busy",
        5,
    )


# --- per-source transports ----------------------------------------------------------


class CannedTransport(httpx.BaseTransport):
    """A source's own client (an SDK behind the transport): answers from a script, remembering every URL."""

    def __init__(self, *statuses: int) -> None:
        self.statuses = list(statuses)
        self.urls: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.urls.append(str(request.url))
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        return httpx.Response(status, content=f"sdk {status}".encode(), request=request)


def test_a_source_transport_serves_only_its_source_behind_the_same_retries(
    server: ScriptedServer, sleep: RecordingSleep
) -> None:
    sdk = CannedTransport(503, 200)
    server.play(Reply(200, b"network"))

    with make_client(sleep, source_transports={"yahoo": sdk}, rng=UpperBoundJitter()) as client:
        through_sdk = client.get("yahoo", "https://query1.finance.yahoo.test/v8/chart/BRL=X", {"range": "1d"})
        through_network = client.get("fred", server.url("/series"))

    assert (through_sdk.status_code, through_sdk.content) == (200, b"sdk 200")
    assert sdk.urls == ["https://query1.finance.yahoo.test/v8/chart/BRL=X?range=1d"] * 2
    assert sleep.delays == [0.5]  # the 503 of the SDK was retried like any other
    assert through_network.content == b"network"
    assert [request.path for request in server.received] == ["/series"]


# --- rate limiting ----------------------------------------------------------------


def test_rate_limiter_spaces_calls_by_the_rate_interval() -> None:
    clock = FakeClock()
    limiter = RateLimiter(2.0, clock=clock, sleep=clock.sleep)

    call_times = []
    for _ in range(3):
        limiter.acquire()
        call_times.append(clock.now)

    assert call_times == [0.0, 0.5, 1.0]


def test_rate_limiter_does_not_wait_when_calls_are_already_spaced() -> None:
    clock = FakeClock()
    limiter = RateLimiter(2.0, clock=clock, sleep=clock.sleep)

    limiter.acquire()
    clock.now = 10.0
    limiter.acquire()

    assert clock.sleeps == []


@pytest.mark.parametrize("rate", [0.0, -1.0, float("inf"), float("nan")])
def test_rate_limiter_refuses_a_rate_that_is_not_positive_and_finite(rate: float) -> None:
    with pytest.raises(ValueError, match="positive and finite"):
        RateLimiter(rate)


def test_concurrent_acquires_get_distinct_slots() -> None:
    frozen_clock = FakeClock()
    waits: list[float] = []
    waits_lock = threading.Lock()

    def record_wait(seconds: float) -> None:
        with waits_lock:
            waits.append(seconds)

    limiter = RateLimiter(4.0, clock=frozen_clock, sleep=record_wait)
    threads = [threading.Thread(target=limiter.acquire) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # The first caller goes straight through; the other seven queue a quarter second apart.
    assert sorted(waits) == [0.25 * slot for slot in range(1, 8)]


def test_each_source_has_its_own_limiter(server: ScriptedServer, sleep: RecordingSleep) -> None:
    one_call_per_1000_seconds = 0.001
    rate_limits = {"fred": one_call_per_1000_seconds, "bcb_sgs": one_call_per_1000_seconds}

    with make_client(sleep, rate_limits=rate_limits) as client:
        client.get("fred", server.url("/a"))
        client.get("bcb_sgs", server.url("/b"))
        assert sleep.delays == []

        client.get("fred", server.url("/a"))

    assert len(sleep.delays) == 1
    assert 990.0 < sleep.delays[0] <= 1000.0


# --- header parsing ---------------------------------------------------------------


def test_parse_retry_after_forms() -> None:
    now = datetime(2024, 3, 1, 12, 0, 0, tzinfo=UTC)

    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(" 120 ") == 120.0
    assert parse_retry_after("Fri, 01 Mar 2024 12:00:45 GMT", now=now) == 45.0
    assert parse_retry_after("Fri, 01 Mar 2024 11:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("soon-ish") is None
    assert parse_retry_after("-5") is None
    assert parse_retry_after("") is None
    assert parse_retry_after(None) is None


def test_response_time_reads_the_date_header_and_falls_back_to_now() -> None:
    dated = httpx.Response(200, headers={"Date": "Mon, 07 Jan 2019 12:00:00 GMT"})
    assert response_time(dated) == datetime(2019, 1, 7, 12, 0, tzinfo=UTC)

    before = datetime.now(UTC)
    for undated in (httpx.Response(200), httpx.Response(200, headers={"Date": "yesterday"})):
        served_at = response_time(undated)
        assert served_at.tzinfo is not None
        assert before <= served_at <= datetime.now(UTC)


def test_a_client_closes_every_transport_it_was_given() -> None:
    closed: list[str] = []

    class Closing(httpx.BaseTransport):
        def __init__(self, name: str) -> None:
            self.name = name

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            return httpx.Response(200, request=request)

        def close(self) -> None:
            closed.append(self.name)

    client = HttpClient(Closing("default"), source_transports={"yahoo": Closing("yahoo")})
    client.close()

    assert sorted(closed) == ["default", "yahoo"]
