"""IO managers: the warehouse (observations, point-in-time inputs) and the object store (Parquet frames).

Both handle single-run partition ranges: an output covers the run's whole time window, an input is loaded for the
whole window of the downstream partitions (Dagster's stock UPath IO managers refuse ranges).
"""


import datetime as dt
import io

import dagster as dg
import pandas as pd

from macro_assets.ingest import IngestBatch
from macro_assets.partitions import inclusive_dates
from macro_assets.resources import ObjectStoreResource, WarehouseResource
from macro_assets.warehouse.frames import to_utc_timestamp

AS_OF_TAG = "macro_assets/as_of"


def run_as_of(context: dg.InputContext) -> dt.datetime:
    """The instant inputs are read as of: the run's `macro_assets/as_of` tag, else the moment of loading."""
    return to_utc_timestamp(context.step_context.run_tags.get(AS_OF_TAG), field=f"run tag {AS_OF_TAG}")


class WarehouseIOManager(dg.ConfigurableIOManager):
    """Persists an ingested batch through the append path and loads a series as of the run's as-of instant."""

    warehouse: dg.ResourceDependency[WarehouseResource]

    def handle_output(self, context: dg.OutputContext, obj: IngestBatch) -> None:
        result = self.warehouse.open().append(obj.observations, payloads=obj.payloads, quarantine=obj.quarantine)
        context.add_output_metadata({
            "vintages_added": result.added,
            "unchanged": result.unchanged,
            "conflicts_quarantined": result.conflicts,
            "dagster/partition_row_count": obj.observations.height,
        })

    def load_input(self, context: dg.InputContext) -> pd.DataFrame:
        series_id = context.upstream_output.definition_metadata["series_id"]
        start, end = inclusive_dates(context.asset_partitions_time_window) if context.has_asset_partitions \
            else (None, None)
        return self.warehouse.open().as_of(series_id, as_of=run_as_of(context), start=start, end=end)


class ParquetObjectStoreIOManager(dg.ConfigurableIOManager):
    """Frames as Parquet in the object store, one object per partition so any later range can be read back.

    The frame's `date_column` says which partition each row belongs to.
    """

    object_store: dg.ResourceDependency[ObjectStoreResource]
    prefix: str = "frames"
    date_column: str = "obs_date"

    def _key(self, asset_key: dg.AssetKey, partition: str | None) -> str:
        return f"{self.prefix}/{'/'.join(asset_key.path)}/{partition or 'all'}.parquet"

    def handle_output(self, context: dg.OutputContext, obj: pd.DataFrame) -> None:
        store = self.object_store.open()
        if not context.has_asset_partitions:
            store.put(self._key(context.asset_key, None), _parquet(obj))
            return
        definition = context.asset_partitions_def
        dates = pd.to_datetime(obj[self.date_column])
        keys = []
        for partition in context.asset_partition_keys:
            window = definition.time_window_for_partition_key(partition)
            rows = obj[(dates >= window.start.replace(tzinfo=None)) & (dates < window.end.replace(tzinfo=None))]
            key = self._key(context.asset_key, partition)
            store.put(key, _parquet(rows.reset_index(drop=True)))
            keys.append(key)
        context.add_output_metadata({"objects_written": len(keys), "first_object": store.uri(keys[0]),
                                     "dagster/partition_row_count": len(obj)})

    def load_input(self, context: dg.InputContext) -> pd.DataFrame:
        store = self.object_store.open()
        partitions = context.asset_partition_keys if context.has_asset_partitions else [None]
        parts = [pd.read_parquet(io.BytesIO(store.get(self._key(context.asset_key, p)))) for p in partitions]
        return pd.concat(parts, ignore_index=True)


def _parquet(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()
