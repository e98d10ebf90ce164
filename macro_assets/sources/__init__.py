"""One module per source, named as the catalog's source: `macro_assets.sources.<source>` exports its `connector`."""

import importlib
from functools import cache

from macro_assets.sources.base import Connector


@cache
def connector_for(source: str) -> Connector:
    try:
        module = importlib.import_module(f"macro_assets.sources.{source}")
    except ModuleNotFoundError as exc:
        if exc.name != f"macro_assets.sources.{source}":
            raise
        raise KeyError(f"no connector for source {source!r}: no module macro_assets.sources.{source}") from None
    return module.connector
