"""The one Definitions object, merged from the parts of macro_assets.defs."""

import dagster as dg

from macro_assets.defs import dataset_definitions, derived_definitions, resource_definitions

defs = dg.Definitions.merge(dataset_definitions(), derived_definitions(), resource_definitions())
