"""One module per source; this registry maps a catalog source name to its connector."""

from macro_assets.sources import bcb_ptax, bcb_sgs, fred, tesouro_direto, twelvedata, us_treasury, yahoo
from macro_assets.sources.base import Connector

CONNECTORS: dict[str, Connector] = {
    module.SOURCE: module.connector
    for module in (bcb_ptax, bcb_sgs, fred, tesouro_direto, twelvedata, us_treasury, yahoo)
}


def connector_for(source: str) -> Connector:
    try:
        return CONNECTORS[source]
    except KeyError:
        raise KeyError(f"no connector for source {source!r}; known: {sorted(CONNECTORS)}") from None
