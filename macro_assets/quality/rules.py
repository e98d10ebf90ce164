"""The rules each dataset is judged by: those of its kind, from its shape's own module (which starts from the rules
every shape shares, quality/common.py, where it has no rule of its own for them), then its source's own rules
that apply to it (a rule comparing datasets applies where the catalog has the companions)."""

from __future__ import annotations

from macro_assets.catalog import DatasetSpec
from macro_assets.quality import (
    CheckRule,
    bars,
    curves,
    databento,
    expectations,
    index_components,
    observations,
    positions,
    ptax,
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

SOURCE_RULES: dict[str, tuple[CheckRule, ...]] = {"bcb_ptax": (ptax.BUY_NOT_ABOVE_SELL,)}


def rules_for(dataset: DatasetSpec) -> tuple[CheckRule, ...]:
    own = tuple(rule for rule in SOURCE_RULES.get(dataset.source, ()) if rule.companions(dataset))
    return RULES[dataset.kind] + own
