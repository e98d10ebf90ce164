"""Fetch, archive verbatim, parse and date the releases of one dataset over one window (never writes)."""

from macro_assets.ingest.pipeline import Batch, ingest

__all__ = ["Batch", "ingest"]
