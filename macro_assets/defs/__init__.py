"""Everything that imports Dagster: assets from the catalog, derived assets, resources, IO managers and
automation. Each part exports its Definitions; macro_assets.definitions merges them."""

from __future__ import annotations

import dagster as dg

from macro_assets.analytics import pit
from macro_assets.catalog import load_catalog
from macro_assets.defs.automation import (
    automation_definitions,
    derived_series_automation,
    panels_automation,
    updates_with_its_inputs,
)
from macro_assets.defs.checks import build_dataset_checks
from macro_assets.defs.datasets import WAREHOUSE_IO_MANAGER, build_dataset_asset
from macro_assets.defs.derived.curves import fitted_curve_definitions
from macro_assets.defs.derived.fx_vol import fx_vol_definitions
from macro_assets.defs.derived.macro import MACRO_SERIES, build_macro_check, build_macro_series
from macro_assets.defs.derived.market import MARKET_SERIES, build_windows_filled_check
from macro_assets.defs.derived.panels import FRAMES_IO_MANAGER, build_daily_rates_panel
from macro_assets.defs.derived.revisions import build_derived_revision_report
from macro_assets.defs.derived.series import DERIVED_SERIES, build_derived_check, build_derived_series
from macro_assets.defs.derived.usdcop import usdcop_definitions
from macro_assets.defs.io_managers import ParquetObjectStoreIOManager, WarehouseIOManager
from macro_assets.defs.jobs import celery_sample_job, quality_checks_job, range_jobs
from macro_assets.defs.resources import ObjectStoreResource, SourcesResource, WarehouseResource


def dataset_definitions() -> dg.Definitions:
    catalog = load_catalog()
    return dg.Definitions(
        assets=[build_dataset_asset(spec, catalog) for spec in catalog.datasets.values()],
        asset_checks=[build_dataset_checks(spec) for spec in catalog.datasets.values()],
    )


def derived_definitions() -> dg.Definitions:
    return dg.Definitions(
        assets=[
            updates_with_its_inputs(build_daily_rates_panel(), pit.SameDate()),
            *(
                updates_with_its_inputs(build_derived_series(series), series.derivation.window)
                for series in DERIVED_SERIES
            ),
            *(updates_with_its_inputs(build_macro_series(series), pit.SameDate()) for series in MACRO_SERIES),
            *(
                updates_with_its_inputs(build_derived_series(series), series.derivation.window)
                for series in MARKET_SERIES
            ),
            build_derived_revision_report(),
        ],
        asset_checks=[
            *(build_derived_check(series) for series in DERIVED_SERIES),
            *(build_macro_check(series) for series in MACRO_SERIES),
            *(build_derived_check(series) for series in MARKET_SERIES),
            *(build_windows_filled_check(series) for series in MARKET_SERIES),
        ],
        sensors=[panels_automation, derived_series_automation],
        # The Celery sample reads derived series: it belongs with them.
        jobs=[celery_sample_job],
    )


def job_definitions(assets: list[dg.AssetsDefinition]) -> dg.Definitions:
    return dg.Definitions(jobs=[*range_jobs(assets), quality_checks_job])


def resource_definitions() -> dg.Definitions:
    warehouse = WarehouseResource()
    object_store = ObjectStoreResource()
    return dg.Definitions(
        resources={
            "warehouse": warehouse,
            "object_store": object_store,
            "sources": SourcesResource(),
            WAREHOUSE_IO_MANAGER: WarehouseIOManager(warehouse=warehouse),
            FRAMES_IO_MANAGER: ParquetObjectStoreIOManager(object_store=object_store),
        }
    )


# Each part of the graph exports its own Definitions; a new part is one more entry here.
ASSET_PARTS = (
    dataset_definitions,
    derived_definitions,
    automation_definitions,
    fx_vol_definitions,
    usdcop_definitions,
    fitted_curve_definitions,
)


def all_definitions() -> dg.Definitions:
    parts = [part() for part in ASSET_PARTS]
    jobs = job_definitions([asset for part in parts for asset in part.assets])
    return dg.Definitions.merge(*parts, jobs, resource_definitions())
