"""The one Definitions object: series assets from the catalog, the panel, resources, IO managers, automation."""

import dagster as dg

from macro_assets.assets import FRAMES_IO_MANAGER, SERIES_IO_MANAGER, build_series_asset, daily_rates_panel
from macro_assets.catalog import load_catalog
from macro_assets.io_managers import ParquetObjectStoreIOManager, WarehouseIOManager
from macro_assets.resources import ObjectStoreResource, SourcesResource, WarehouseResource

catalog = load_catalog()
warehouse = WarehouseResource()
object_store = ObjectStoreResource()

series_assets = [build_series_asset(spec, catalog) for spec in catalog.series.values()]

# Explicit and RUNNING: the sensor Dagster would add on its own starts STOPPED.
automation_sensor = dg.AutomationConditionSensorDefinition(
    "macro_assets_automation",
    target=dg.AssetSelection.groups("panels"),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=60,
)

defs = dg.Definitions(
    assets=[*series_assets, daily_rates_panel],
    sensors=[automation_sensor],
    resources={
        "warehouse": warehouse,
        "object_store": object_store,
        "sources": SourcesResource(),
        SERIES_IO_MANAGER: WarehouseIOManager(warehouse=warehouse),
        FRAMES_IO_MANAGER: ParquetObjectStoreIOManager(object_store=object_store),
    },
)
