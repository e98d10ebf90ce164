"""Point-in-time reads and the append-only write path, one table per shape.

from macro_assets.warehouse import connect
wh = connect()                    # MACRO_ASSETS_WAREHOUSE_URL, or the embedded PostgreSQL server
wh.observations.as_of("fred.GDP", as_of="2019-01-01", start="2010-01-01")
wh.curves.as_of("us_treasury.par_nominal", as_of="2024-03-01 12:00", start="2024-02-29", end="2024-02-29")
wh.bars.as_of("yahoo.USDBRL_1d", start="2024-01-01", resample="1d", output="polars")
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

from macro_assets.warehouse import facade
from macro_assets.warehouse.engine import AppendResult
from macro_assets.warehouse.facade import Warehouse, resolve_url

__all__ = ["AppendResult", "Warehouse", "connect", "resolve_url"]


def connect(
    url: str | None = None,
    *,
    migrate: bool = True,
    known_ids: Callable[[], Iterable[str]] | None = None,
    holidays_for: Callable[[str, dt.date, dt.date], Iterable[dt.date]] | None = None,
) -> Warehouse:
    """The warehouse (see facade.connect), knowing the catalog's datasets and their calendars unless told
    otherwise: this is the one place storage meets the catalog, and the storage modules never import it."""
    return facade.connect(
        url, migrate=migrate, known_ids=known_ids or _catalog_ids, holidays_for=holidays_for or _catalog_holidays
    )


def _catalog_ids() -> Iterable[str]:
    from macro_assets.catalog import load_catalog

    return load_catalog().datasets


def _catalog_holidays(dataset_id: str, first: dt.date, last: dt.date) -> Iterable[dt.date]:
    from macro_assets.catalog import load_catalog
    from macro_assets.catalog.calendars import holidays

    spec = load_catalog().datasets.get(dataset_id)
    if spec is None or spec.calendar is None:
        return ()
    return holidays(spec.calendar, first.year, last.year)
