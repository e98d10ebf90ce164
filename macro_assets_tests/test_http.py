"""The shared HTTP layer against a real loopback server and real recording files."""

from __future__ import annotations

import json
import logging
import pickle
import random
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from macro_assets.http import (
    REPLAYED_FROM_HEADER,
    SECRET_PARAMS,
    HttpClient,
    RateLimiter,
    RecordingNotFound,
    ReplayTransport,
    RetryPolicy,
    SourceHTTPError,
    parse_retry_after,
    redact_url,
    response_time,
)

API_KEY = "abcdef0123456789abcdef0123456789"


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ReceivedRequest:
    path: str
    params: list[tuple[str, str]]


class ScriptedServer:
    """A real HTTP server on loopback that plays replies in order; the last one repeats."""

    def __init__(self) -> None:
        self.received: list[ReceivedRequest] = []
        self._script: list[Reply] = [Reply(200, b"ok")]
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        # A short poll interval keeps shutdown() from adding half a second per test.
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)

    def play(self, *replies: Reply) -> None:
        self._script = list(replies)

    def url(self, path: str) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}{path}"

    def _next_reply(self, raw_path: str) -> Reply:
        parts = urlsplit(raw_path)
        with self._lock:
            self.received.append(ReceivedRequest(parts.path, parse_qsl(parts.query)))
            return self._script.pop(0) if len(self._script) > 1 else self._script[0]

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                reply = server._next_reply(self.path)
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            def log_message(self, format: str, *args: object) -> None:
                # The default writes every request line to stderr, secrets included.
                pass

        return Handler

    def __enter__(self) -> ScriptedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()


class RecordingSleep:
    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


class FakeClock:
    """Monotonic time that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class UpperBoundJitter(random.Random):
    """Always picks the top of the jitter range, exposing the backoff envelope itself."""

    def uniform(self, a: float, b: float) -> float:
        return b


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with ScriptedServer() as running:
        yield running


@pytest.fixture
def sleep() -> RecordingSleep:
    return RecordingSleep()


# The limiter shares the injected sleep with the retry loop; an interval of a microsecond
# is far shorter than any loopback round trip, so only retries show up in the recorded delays.
UNTHROTTLED_RATE = 1_000_000.0


def make_client(sleep: RecordingSleep, **overrides: object) -> HttpClient:
    options: dict[str, object] = {"default_rate": UNTHROTTLED_RATE, "rng": random.Random(7)}
    options.update(overrides)
    return HttpClient(sleep=sleep, **options)  # type: ignore[arg-type]


def unused_loopback_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


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


def test_5xx_are_retried_with_exponentially_growing_backoff(
    server: ScriptedServer, sleep: RecordingSleep
) -> None:
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


def test_persistent_500_raises_after_max_attempts_naming_source_and_path(
    server: ScriptedServer, sleep: RecordingSleep
) -> None:
    server.play(Reply(500, b"internal   error\nplease retry"))

    with make_client(sleep, retry=RetryPolicy(max_attempts=3)) as client:
        with pytest.raises(SourceHTTPError) as raised:
            client.get("bcb_sgs", server.url("/dados/serie/bcdata.sgs.432/dados"), {"formato": "json"})

    error = raised.value
    assert error.status == 500
    assert error.source == "bcb_sgs"
    assert error.detail == "internal error please retry"
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


# --- secrets ----------------------------------------------------------------------


def test_api_key_never_reaches_logs_or_errors(
    server: ScriptedServer, sleep: RecordingSleep, caplog: pytest.LogCaptureFixture
) -> None:
    server.play(Reply(503, f"bad request for api_key={API_KEY}".encode()))
    caplog.set_level(logging.DEBUG)
    for noisy_logger in ("httpx", "httpcore", "macro_assets.http"):
        caplog.set_level(logging.DEBUG, logger=noisy_logger)

    with make_client(sleep, retry=RetryPolicy(max_attempts=2)) as client:
        with pytest.raises(SourceHTTPError) as raised:
            client.get("fred", server.url("/fred/series/observations"), {"series_id": "GDP", "api_key": API_KEY})

    assert server.received[0].params == [("series_id", "GDP"), ("api_key", API_KEY)]
    messages = [record.getMessage() for record in caplog.records]
    httpx_lines = [m for m in messages if m.startswith("HTTP Request:")]
    assert len(httpx_lines) == 2
    assert all("api_key=***" in line for line in httpx_lines)
    assert any(r.name == "macro_assets.http" and r.levelno == logging.WARNING for r in caplog.records)
    assert any(r.name.startswith("httpcore") for r in caplog.records)
    for text in [*messages, caplog.text, str(raised.value), repr(raised.value), raised.value.url, raised.value.detail]:
        assert API_KEY not in text
    assert "api_key=***" in str(raised.value)


def test_redaction_filter_is_installed_once_however_many_clients(sleep: RecordingSleep) -> None:
    make_client(sleep).close()
    make_client(sleep).close()

    for name in ("httpx", "httpcore", "httpcore.http11", "httpcore.connection"):
        filters = logging.getLogger(name).filters
        assert len([f for f in filters if type(f).__name__ == "_SecretRedactingFilter"]) == 1


def test_redact_url_hides_every_secret_param_and_keeps_the_rest() -> None:
    url = (
        f"https://api.example.com/v1/data?series_id=GDP&api_key={API_KEY}"
        "&Token=t0k&key=k&monkey=banana&apikey=a&access_key=b"
    )

    redacted = redact_url(httpx.URL(url))

    assert redacted == (
        "https://api.example.com/v1/data?series_id=GDP&api_key=***&Token=***&key=***"
        "&monkey=banana&apikey=***&access_key=***"
    )
    assert redact_url("https://api.example.com/v1/data") == "https://api.example.com/v1/data"
    assert SECRET_PARAMS == {"api_key", "apikey", "token", "access_key", "key"}


def test_source_error_survives_pickling_for_process_pools() -> None:
    error = SourceHTTPError("fred", f"https://x.test/a?api_key={API_KEY}", 503, "busy", attempts=5)

    restored = pickle.loads(pickle.dumps(error))

    assert type(restored) is SourceHTTPError
    expected = "fred: GET https://x.test/a?api_key=*** failed after 5 attempts: HTTP 503 busy"
    assert str(restored) == str(error) == expected
    assert (restored.source, restored.url, restored.status, restored.detail) == (
        "fred",
        "https://x.test/a?api_key=***",
        503,
        "busy",
    )


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


# --- replay -----------------------------------------------------------------------

SGS_URL = "https://api.bcb.gov.br/dados/serie/bcdata.sgs.432/dados"
WINDOW_2015_2018 = {"formato": "json", "dataInicial": "01/01/2015", "dataFinal": "31/12/2018"}


SGS_WINDOW_PARAMS = {"start": "dataInicial", "end": "dataFinal", "format": "%d/%m/%Y"}


def write_recordings(root: Path, exchanges: list[tuple[dict[str, str], str, bytes]],
                     window_params: dict[str, str] | None = None) -> None:
    """One bcb_sgs manifest with an exchange per (params, captured_at, body)."""
    manifest_dir = root / "bcb_sgs" / "432"
    manifest_dir.mkdir(parents=True)
    entries = []
    for index, (params, captured_at, body) in enumerate(exchanges):
        body_file = f"body_{index}.json"
        (manifest_dir / body_file).write_bytes(body)
        entries.append(
            {
                "request": {"method": "GET", "url": SGS_URL, "params": params},
                "response": {"status": 200, "headers": {"Content-Type": "application/json"}, "body_file": body_file},
                "captured_at": captured_at,
                "provenance": "synthetic",
                "note": "test fixture",
            }
        )
    manifest = {"source": "bcb_sgs", "exchanges": entries}
    if window_params:
        manifest["window_params"] = window_params
    (manifest_dir / "manifest.json").write_text(json.dumps(manifest))


def test_replay_answers_a_window_inside_a_recorded_window_with_that_recording(
    tmp_path: Path, sleep: RecordingSleep
) -> None:
    body = b'[{"data":"02/01/2015","valor":"11.75"}]'
    write_recordings(tmp_path, [(WINDOW_2015_2018, "2019-01-07T12:00:00Z", body)], SGS_WINDOW_PARAMS)
    one_week = {"formato": "json", "dataInicial": "01/06/2016", "dataFinal": "07/06/2016"}

    with make_client(sleep, transport=ReplayTransport(tmp_path)) as client:
        response = client.get("bcb_sgs", SGS_URL, one_week)
        assert response.content == body
        assert response.headers[REPLAYED_FROM_HEADER] == "formato=json&dataInicial=01/01/2015&dataFinal=31/12/2018"
        exact = client.get("bcb_sgs", SGS_URL, WINDOW_2015_2018)
        assert REPLAYED_FROM_HEADER not in exact.headers

        beyond = {"formato": "json", "dataInicial": "01/12/2018", "dataFinal": "15/01/2019"}
        with pytest.raises(RecordingNotFound):
            client.get("bcb_sgs", SGS_URL, beyond)
        other_format = {"formato": "csv", "dataInicial": "01/06/2016", "dataFinal": "07/06/2016"}
        with pytest.raises(RecordingNotFound):
            client.get("bcb_sgs", SGS_URL, other_format)


def test_without_window_params_only_the_exact_request_is_replayed(tmp_path: Path, sleep: RecordingSleep) -> None:
    write_recordings(tmp_path, [(WINDOW_2015_2018, "2019-01-07T12:00:00Z", b"[]")])
    one_week = {"formato": "json", "dataInicial": "01/06/2016", "dataFinal": "07/06/2016"}
    with make_client(sleep, transport=ReplayTransport(tmp_path)) as client, pytest.raises(RecordingNotFound):
        client.get("bcb_sgs", SGS_URL, one_week)


def test_replay_serves_the_recorded_bytes_with_capture_time_as_date(tmp_path: Path, sleep: RecordingSleep) -> None:
    body = b'[{"data":"02/01/2015","valor":"11.75"}]\n'
    write_recordings(tmp_path, [(WINDOW_2015_2018, "2019-01-07T12:00:00Z", body)])

    with make_client(sleep, transport=ReplayTransport(tmp_path)) as client:
        response = client.get("bcb_sgs", SGS_URL, WINDOW_2015_2018)

    assert response.status_code == 200
    assert response.content == body
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Date"] == "Mon, 07 Jan 2019 12:00:00 GMT"
    assert response_time(response) == datetime(2019, 1, 7, 12, 0, tzinfo=UTC)


def test_replay_matches_params_in_any_order_and_ignores_api_keys(tmp_path: Path, sleep: RecordingSleep) -> None:
    write_recordings(tmp_path, [(WINDOW_2015_2018, "2019-01-07T12:00:00Z", b"[]")])
    reordered_with_key = {
        "dataFinal": "31/12/2018",
        "api_key": API_KEY,
        "dataInicial": "01/01/2015",
        "formato": "json",
    }

    with make_client(sleep, transport=ReplayTransport(tmp_path)) as client:
        response = client.get("bcb_sgs", SGS_URL, reordered_with_key)

    assert response.content == b"[]"


def test_replay_clock_selects_the_latest_capture_not_after_it(tmp_path: Path, sleep: RecordingSleep) -> None:
    write_recordings(
        tmp_path,
        [
            (WINDOW_2015_2018, "2019-01-07T12:00:00Z", b'"first vintage"'),
            (WINDOW_2015_2018, "2020-06-01T09:30:00+00:00", b'"revised vintage"'),
        ],
    )

    as_of_2019 = ReplayTransport(tmp_path, clock=datetime(2019, 12, 31, tzinfo=UTC))
    with make_client(sleep, transport=as_of_2019) as client:
        older = client.get("bcb_sgs", SGS_URL, WINDOW_2015_2018)
    with make_client(sleep, transport=ReplayTransport(tmp_path)) as client:
        newest = client.get("bcb_sgs", SGS_URL, WINDOW_2015_2018)

    assert older.content == b'"first vintage"'
    assert response_time(older) == datetime(2019, 1, 7, 12, 0, tzinfo=UTC)
    assert newest.content == b'"revised vintage"'
    assert response_time(newest) == datetime(2020, 6, 1, 9, 30, tzinfo=UTC)


def test_replay_before_any_capture_is_not_found(tmp_path: Path, sleep: RecordingSleep) -> None:
    write_recordings(tmp_path, [(WINDOW_2015_2018, "2019-01-07T12:00:00Z", b"[]")])
    too_early = ReplayTransport(tmp_path, clock=datetime(2019, 1, 7, 11, 59, tzinfo=UTC))

    with make_client(sleep, transport=too_early) as client:
        with pytest.raises(RecordingNotFound, match="only recorded after the replay clock"):
            client.get("bcb_sgs", SGS_URL, WINDOW_2015_2018)


class CountingReplayTransport(ReplayTransport):
    def __init__(self, recordings_root: Path) -> None:
        super().__init__(recordings_root)
        self.requests_seen = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests_seen += 1
        return super().handle_request(request)


def test_unrecorded_window_raises_at_once_listing_recorded_windows(tmp_path: Path, sleep: RecordingSleep) -> None:
    windows = [
        {"formato": "json", "dataInicial": f"01/01/{year}", "dataFinal": f"31/12/{year}"}
        for year in range(2010, 2017)
    ]
    write_recordings(tmp_path, [(window, "2019-01-07T12:00:00Z", b"[]") for window in windows])
    transport = CountingReplayTransport(tmp_path)
    unrecorded = {"formato": "json", "dataInicial": "01/01/2020", "dataFinal": "31/12/2020", "api_key": API_KEY}

    with make_client(sleep, transport=transport) as client:
        with pytest.raises(RecordingNotFound) as raised:
            client.get("bcb_sgs", SGS_URL, unrecorded)

    error = raised.value
    assert transport.requests_seen == 1
    assert sleep.delays == []
    assert error.source == "replay"
    assert error.status is None
    message = str(error)
    assert "dataInicial=01/01/2010&dataFinal=31/12/2010" in message
    assert "dataInicial=01/01/2014&dataFinal=31/12/2014" in message
    assert "01/01/2015" not in message
    assert "(and 2 more)" in message
    assert "MACRO_ASSETS_MODE=live" in message
    assert "api_key=***" in message
    assert API_KEY not in message


def test_replay_of_an_unknown_path_says_nothing_is_recorded(tmp_path: Path, sleep: RecordingSleep) -> None:
    write_recordings(tmp_path, [(WINDOW_2015_2018, "2019-01-07T12:00:00Z", b"[]")])

    with make_client(sleep, transport=ReplayTransport(tmp_path)) as client:
        with pytest.raises(RecordingNotFound, match="nothing is recorded for GET api.bcb.gov.br/other"):
            client.get("bcb_sgs", "https://api.bcb.gov.br/other")


def test_replay_reads_manifests_lazily(tmp_path: Path) -> None:
    transport = ReplayTransport(tmp_path)
    write_recordings(tmp_path, [(WINDOW_2015_2018, "2019-01-07T12:00:00Z", b"[]")])

    with httpx.Client(transport=transport) as plain_client:
        response = plain_client.get(SGS_URL, params=WINDOW_2015_2018)

    assert response.content == b"[]"
