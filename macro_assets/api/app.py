"""The FastAPI app: `uvicorn --factory macro_assets.api.app:create_app` (the environment configures it, see
config.py), or `create_app(settings, warehouse=..., cache=...)` from code and tests."""

from __future__ import annotations

from contextlib import asynccontextmanager

import sqlalchemy as sa
from fastapi import FastAPI

from macro_assets.api import errors, routes
from macro_assets.api.auth import ApiKeys, Authenticator
from macro_assets.api.cache import ResponseCache, VintageCounter
from macro_assets.api.config import ApiSettings
from macro_assets.api.service import ApiService
from macro_assets.catalog import load_catalog
from macro_assets.warehouse import Warehouse, connect, resolve_url
from macro_assets.warehouse.db import Database

DESCRIPTION = """Point-in-time reads of the macro warehouse: every dataset of the catalog, as known at any instant.

Every endpoint but `/health` needs `Authorization: Bearer <API key or JWT>` (or `X-API-Key: <API key>`). Keys come
from `macro-assets api-key create`; scopes: `read:series` (series only), `read:all` (every dataset), `admin`.
Tables come as JSON by default, or CSV, Arrow IPC or Parquet (`?format=` or `Accept`), a page at a time
(`limit`, `offset`; follow `next` or the `Link` header)."""


def open_database(url: str | None = None) -> Database:
    """A small pool on the warehouse's server for the API's own queries (keys, cache versions, readiness)."""
    engine = sa.create_engine(
        resolve_url(url), pool_pre_ping=True, pool_size=2, max_overflow=6, connect_args={"options": "-c TimeZone=UTC"}
    )
    return Database(engine)


def create_app(
    settings: ApiSettings | None = None, *, warehouse: Warehouse | None = None, cache: ResponseCache | None = None
) -> FastAPI:
    """The app over `warehouse` (default: connect() to the settings' URL, which applies pending migrations unless
    the settings say it is a read-only replica) and `cache` (default: Redis at the settings' URL, or none)."""
    settings = settings or ApiSettings.from_environment()
    owned_warehouse = warehouse is None
    warehouse = warehouse or connect(settings.warehouse_url, migrate=settings.migrate)
    db = open_database(settings.warehouse_url)
    service = ApiService(
        warehouse=warehouse,
        catalog=load_catalog(),
        authenticator=Authenticator(ApiKeys(db), settings.jwt_secret),
        cache=cache or ResponseCache(settings.redis_url, settings.cache_prefix),
        counter=VintageCounter(db),
        db=db,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        db.engine.dispose()
        if owned_warehouse:
            warehouse.close()

    app = FastAPI(title="macro_assets read API", version="1", description=DESCRIPTION, lifespan=lifespan)
    app.state.service = service
    errors.install(app)
    app.include_router(routes.health_router)
    app.include_router(routes.router)
    return app
