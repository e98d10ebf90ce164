"""Rules for Commitments of Traders positions (CFTC): the rules every shape shares, then its own."""

from macro_assets.quality import common

RULES = common.RULES
