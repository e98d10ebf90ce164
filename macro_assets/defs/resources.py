"""Dagster resources: thin handles on the warehouse, the object store and the sources' HTTP session.

Each reads its defaults from the environment when a run opens it, never at import time.
"""

import dagster as dg
from pydantic import PrivateAttr

from macro_assets import settings
from macro_assets.catalog import load_catalog
from macro_assets.http.client import HttpClient, live_transport
from macro_assets.http.replay import ReplayTransport
from macro_assets.object_store import ObjectStore, open_object_store
from macro_assets.recordings import packaged_recordings
from macro_assets.sources import connector_for
from macro_assets.sources.base import SourceSession
from macro_assets.timeutil import parse_instant
from macro_assets.warehouse import Warehouse, connect


class WarehouseResource(dg.ConfigurableResource):
    """The warehouse; `url` unset means MACRO_ASSETS_WAREHOUSE_URL, else the embedded PostgreSQL server."""

    url: str | None = None
    _warehouse: Warehouse | None = PrivateAttr(default=None)

    def open(self) -> Warehouse:
        if self._warehouse is None:
            self._warehouse = connect(self.url)
        return self._warehouse

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._warehouse is not None:
            self._warehouse.close()


class ObjectStoreResource(dg.ConfigurableResource):
    """`s3://bucket/prefix` (MinIO/S3, endpoint from MACRO_ASSETS_S3_ENDPOINT_URL) or a local directory."""

    url: str | None = None
    endpoint_url: str | None = None

    def open(self) -> ObjectStore:
        return open_object_store(self.url, endpoint_url=self.endpoint_url)


# A run tag choosing which recorded captures an offline run replays: an instant, or "earliest".
REPLAY_TAG = "macro_assets/replay"
EARLIEST = "earliest"


class SourcesResource(dg.ConfigurableResource):
    """The HTTP session of the connectors. Offline (the default) replays the packaged recordings, and those of
    MACRO_ASSETS_RECORDINGS, through the same parsing code; live only swaps the transport for the network (or a
    source's own client)."""

    mode: str | None = None
    recordings_dirs: list[str] | None = None
    replay_clock: str | None = None  # replay the recordings captured at or before this instant

    def session(self, replay: str | None = None) -> SourceSession:
        """`replay` (a run's REPLAY_TAG) overrides replay_clock: "earliest" serves each request's first capture."""
        mode = self.mode or settings.mode()
        if mode not in settings.MODES:
            raise ValueError(f"sources: mode {mode!r}; expected one of {settings.MODES}")
        sources = load_catalog().sources
        rates = {name: spec.requests_per_second for name, spec in sources.items()}
        if mode == "live":
            connectors = {name: connector_for(name) for name in sources}
            own_clients = {
                name: connector.live_transport()
                for name, connector in connectors.items()
                if hasattr(connector, "live_transport")
            }
            return SourceSession(
                HttpClient(live_transport(), source_transports=own_clients, rate_limits=rates), live=True
            )
        replay = replay or self.replay_clock
        earliest = replay == EARLIEST
        clock = parse_instant(replay, field=REPLAY_TAG) if replay and not earliest else None
        roots = self.recordings_dirs or [str(packaged_recordings()), *settings.extra_recordings()]
        # Replays read files: no need to space requests as for a real server.
        transport = ReplayTransport(*roots, clock=clock, earliest=earliest)
        client = HttpClient(transport, rate_limits={name: 1000.0 for name in rates})
        return SourceSession(client, live=False)
