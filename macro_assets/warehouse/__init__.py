"""Point-in-time reads and the append-only write path, one table per shape.

from macro_assets.warehouse import connect
wh = connect()                    # MACRO_ASSETS_WAREHOUSE_URL, or the embedded PostgreSQL server
wh.observations.as_of("fred.GDP", as_of="2019-01-01", start="2010-01-01")
wh.curves.as_of("us_treasury.par_nominal", as_of="2024-03-01 12:00", start="2024-02-29", end="2024-02-29")
wh.bars.as_of("yahoo.USDBRL_1d", start="2024-01-01", resample="1d", output="polars")
"""

from __future__ import annotations

from macro_assets.warehouse.engine import AppendResult
from macro_assets.warehouse.facade import Warehouse, connect, resolve_url

__all__ = ["AppendResult", "Warehouse", "connect", "resolve_url"]
