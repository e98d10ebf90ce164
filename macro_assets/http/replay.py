"""Offline replay: serves recorded exchanges (manifest.json + verbatim bodies) in place of the network, through
the same client and parsing path. A recording answers its exact request, or a request for a window inside its
recorded window; the response then names the recording in REPLAYED_FROM_HEADER."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

import httpx

from macro_assets.http.client import SourceHTTPError
from macro_assets.http.redaction import is_secret_param, redact_url
from macro_assets.timeutil import as_utc

RECORDED_WINDOWS_SHOWN = 5


class RecordingNotFound(SourceHTTPError):
    """Offline mode was asked for a request that has no recorded exchange."""


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
    return tuple((name, value) for name, value in pairs if not is_secret_param(name))


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


UNIX_SECONDS = "unix"


@dataclass(frozen=True)
class _WindowParams:
    """Which query parameters bound a source's observation window, and their format (from the manifest): a
    strptime format, or "unix" for Unix seconds (Yahoo's period1/period2)."""

    start: str
    end: str
    date_format: str

    def _bound(self, text: str) -> datetime:
        if self.date_format == UNIX_SECONDS:
            return datetime.fromtimestamp(int(text), UTC)
        return datetime.strptime(text, self.date_format)

    def split(self, params: ParamPairs) -> tuple[ParamPairs, tuple[datetime, datetime] | None]:
        """(params other than the window bounds, the window) of a request; window None if not both bounds.

        Bounds compare as instants, not dates: a recording of part of a day (an intraday gap) must not answer a
        request for the whole day."""
        bounds = {name: value for name, value in params if name in (self.start, self.end)}
        rest = tuple(pair for pair in params if pair[0] not in (self.start, self.end))
        try:
            window = (self._bound(bounds[self.start]), self._bound(bounds[self.end]))
        except (KeyError, ValueError, OverflowError, OSError):  # absent, malformed or out-of-range bounds
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
        return (
            own_window is not None
            and window is not None
            and Counter(own_rest) == Counter(rest)
            and own_window[0] <= window[0] <= window[1] <= own_window[1]
        )


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
            params = _non_secret_pairs([*url.params.multi_items(), *_recorded_param_pairs(request.get("params", {}))])
            exchanges.append(
                _RecordedExchange(
                    endpoint=_Endpoint.of(request.get("method", "GET"), url),
                    params=params,
                    status=int(response["status"]),
                    headers=tuple((str(k), str(v)) for k, v in response.get("headers", {}).items()),
                    body_path=manifest_path.parent / response["body_file"],
                    captured_at=as_utc(datetime.fromisoformat(exchange["captured_at"])),
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
    ``earliest`` serves the first capture of each request instead, so a replay can tell a
    source's story in order: first what was seen first, then (without it) the later captures.

    A request for a window inside a recorded window (a single partition of the recorded range) is answered with
    that recorded response, verbatim and wider than asked, as an API may answer; connectors keep only their
    window's rows anyway. The response names the recording in ``X-Replayed-From`` so provenance stays exact.
    """

    def __init__(self, *recordings_roots: Path | str, clock: datetime | None = None, earliest: bool = False) -> None:
        self._earliest = earliest
        self._roots = [Path(root) for root in recordings_roots]
        self._clock = as_utc(clock) if clock is not None else None
        self._exchanges: dict[_Endpoint, list[_RecordedExchange]] | None = None
        self._load_lock = threading.Lock()

    def _recordings(self) -> dict[_Endpoint, list[_RecordedExchange]]:
        with self._load_lock:
            if self._exchanges is None:
                loaded: list[_RecordedExchange] = []
                manifests = [path for root in self._roots for path in sorted(root.rglob("manifest.json"))]
                for manifest_path in manifests:
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
        in_time = [exchange for exchange in same_request if self._clock is None or exchange.captured_at <= self._clock]
        if not in_time:
            raise self._not_found(request, recorded, captured_only_later=bool(same_request))
        pick = min if self._earliest else max
        chosen = pick(in_time, key=lambda exchange: (exchange.captured_at, exchange.manifest_order))
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
                f"{', '.join(map(str, self._roots))}); set MACRO_ASSETS_MODE=live to fetch from the network."
            ),
        )
