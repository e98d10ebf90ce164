"""Dagster resources: thin handles on the warehouse, the object store and the source HTTP session.

Each reads its defaults from the environment when a run opens it, never at import time.
"""


import datetime as dt
from importlib import resources as package_files

import dagster as dg
from pydantic import PrivateAttr

from macro_assets import settings
from macro_assets.catalog import load_catalog
from macro_assets.http import HttpClient, ReplayTransport, live_transport
from macro_assets.object_store import ObjectStore, open_object_store
from macro_assets.sources.base import Session
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


class SourcesResource(dg.ConfigurableResource):
    """The HTTP session of the connectors. Offline (the default) replays the packaged recordings through the
    same parsing code; live only swaps the transport for the network."""

    mode: str | None = None
    recordings_dir: str | None = None
    replay_clock: str | None = None  # replay the recordings captured at or before this instant

    def session(self) -> Session:
        mode = self.mode or settings.mode()
        if mode not in settings.MODES:
            raise ValueError(f"sources: mode {mode!r}; expected one of {settings.MODES}")
        catalog = load_catalog()
        rates = {name: spec.requests_per_second for name, spec in catalog.sources.items()}
        if mode == "live":
            return Session(HttpClient(live_transport(), rate_limits=rates), live=True)
        clock = dt.datetime.fromisoformat(self.replay_clock) if self.replay_clock else None
        transport = ReplayTransport(self.recordings_dir or packaged_recordings(), clock=clock)
        # Replays read files: no need to space requests as for a real server.
        return Session(HttpClient(transport, rate_limits={name: 1000.0 for name in rates}), live=False)


def packaged_recordings() -> str:
    return str(package_files.files("macro_assets").joinpath("recordings"))
