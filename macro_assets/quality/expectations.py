"""Rules for BCB Focus expectations: the rules every shape shares, then its own."""

from macro_assets.quality import common

RULES = common.RULES
