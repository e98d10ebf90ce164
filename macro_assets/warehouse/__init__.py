"""Point-in-time reads and the append-only write path.

    from macro_assets.warehouse import connect
    wh = connect()                    # MACRO_ASSETS_WAREHOUSE_URL, or the embedded PostgreSQL server
    wh.as_of("fred.GDP", as_of="2019-01-01", start="2010-01-01")
"""

from __future__ import annotations

import sqlalchemy as sa

from macro_assets import settings
from macro_assets.warehouse import embedded
from macro_assets.warehouse.core import AppendResult, PayloadRecord, QuarantineRecord, Warehouse

__all__ = ["AppendResult", "PayloadRecord", "QuarantineRecord", "Warehouse", "connect", "resolve_url"]


def resolve_url(url: str | None = None) -> str:
    """The given URL, else MACRO_ASSETS_WAREHOUSE_URL, else the embedded server (started if needed)."""
    url = url or settings.warehouse_url()
    if url is None:
        return embedded.warehouse_url()
    if url.startswith(("postgresql://", "postgres://")):
        # SQLAlchemy 2.1 maps a bare postgresql:// to psycopg 3; this project ships psycopg2.
        url = "postgresql+psycopg2://" + url.split("://", 1)[1]
    return url


def connect(url: str | None = None, *, migrate: bool = True) -> Warehouse:
    engine = sa.create_engine(resolve_url(url), pool_pre_ping=True, pool_size=2, max_overflow=4)
    warehouse = Warehouse(engine)
    if migrate:
        warehouse.migrate()
    return warehouse
