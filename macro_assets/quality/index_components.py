"""Rules for price-index components (IBGE SIDRA): the rules every shape shares, then its own."""

from macro_assets.quality import common

RULES = common.RULES
