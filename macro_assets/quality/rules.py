"""The rules each kind of dataset is judged by: its shape's own module (which starts from the rules every shape
shares, quality/common.py, where it has no rule of its own for them)."""

from __future__ import annotations

from macro_assets.quality import (
    CheckRule,
    bars,
    curves,
    databento,
    expectations,
    index_components,
    observations,
    positions,
)

RULES: dict[str, tuple[CheckRule, ...]] = {
    "observations": observations.RULES,
    "curve": curves.RULES,
    "bars": bars.RULES,
    "expectations": expectations.RULES,
    "index_components": index_components.RULES,
    "positions": positions.RULES,
    "trades": databento.TRADE_RULES,
    "tbbo": databento.TBBO_RULES,
    "statistics": databento.STATISTICS_RULES,
    "definitions": databento.DEFINITION_RULES,
}
