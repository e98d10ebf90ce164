"""The declarative catalog: datasets of a kind (observations, curve, bars) per source, and the instruments."""

from macro_assets.catalog.loader import load_catalog, parse_catalog
from macro_assets.catalog.model import Catalog, DatasetId, DatasetSpec, Instrument, ReleaseRule, SourceSpec

__all__ = [
    "Catalog",
    "DatasetId",
    "DatasetSpec",
    "Instrument",
    "ReleaseRule",
    "SourceSpec",
    "load_catalog",
    "parse_catalog",
]
