"""What the HTTP tests share: a real HTTP server on loopback playing scripted replies, a sleep that only records,
a clock that moves when slept on, and the client as the tests build it."""

from __future__ import annotations

import random
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from macro_assets.http.client import HttpClient

API_KEY = "abcdef0123456789abcdef0123456789"
# The limiter shares the injected sleep with the retry loop; an interval of a microsecond is far shorter than any
# loopback round trip, so only retries show up in the recorded delays.
UNTHROTTLED_RATE = 1_000_000.0


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


def make_client(sleep: RecordingSleep, **overrides: object) -> HttpClient:
    options: dict[str, object] = {"default_rate": UNTHROTTLED_RATE, "rng": random.Random(7)}
    options.update(overrides)
    return HttpClient(sleep=sleep, **options)  # type: ignore[arg-type]


def unused_loopback_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
