"""Rules for Databento's record tables (trades, TBBO, statistics, definitions): the rules every shape shares, then
those of each schema."""

from macro_assets.quality import common

TRADE_RULES = common.RULES
TBBO_RULES = common.RULES
STATISTICS_RULES = common.RULES
DEFINITION_RULES = common.RULES
