"""The one Definitions object, merged from the parts of macro_assets.defs."""

import os

from macro_assets.defs import all_definitions

# Dagster writes a range run's materializations in batches of this many events, in the process that executes
# the run (this module is imported there): a range of 1,043 partitions costs seconds instead of a minute.
os.environ.setdefault("DAGSTER_EVENT_BATCH_SIZE", "1000")

defs = all_definitions()
