"""IO managers: the warehouse (every shape's batches out, point-in-time reads in) and the object store (Parquet
frames). Both handle single-run partition ranges: an output covers the run's whole time window, an input is
loaded for the whole window of the downstream partitions (Dagster's stock UPath IO managers refuse ranges).

A run reads all its inputs as of one instant: the run tag `macro_assets/as_of`, else the moment the run was
created, so every input of a derived asset sees the same state of the warehouse.
"""

import datetime as dt
import io

import dagster as dg
import pandas as pd

from macro_assets.catalog import load_catalog
from macro_assets.defs.partitions import inclusive_dates
from macro_assets.defs.resources import ObjectStoreResource, WarehouseResource
from macro_assets.ingest import Batch
from macro_assets.timeutil import parse_instant

AS_OF_TAG = "macro_assets/as_of"
DATASET_METADATA_KEY = "dataset_id"


def run_as_of(context: dg.InputContext | dg.OutputContext) -> dt.datetime | None:
    """The instant a run reads its inputs as of (None for an as-of run: the current state)."""
    tag = context.step_context.run_tags.get(AS_OF_TAG)
    return parse_instant(tag, field=f"run tag {AS_OF_TAG}") if tag else None


def run_read_instant(instance: dg.DagsterInstance, run_id: str, tags: dict[str, str]) -> dt.datetime:
    """The one instant a run reads every input as of: its as-of tag, else the moment it was created."""
    if tags.get(AS_OF_TAG):
        return parse_instant(tags[AS_OF_TAG], field=f"run tag {AS_OF_TAG}")
    record = instance.get_run_record_by_id(run_id)
    return parse_instant(record.create_timestamp if record else None, field="run creation time")


def read_instant(context: dg.InputContext) -> dt.datetime:
    return run_read_instant(context.instance, context.step_context.run_id, context.step_context.run_tags)


def add_run_metadata(context: dg.OutputContext, metadata: dict) -> None:
    """A run's figures on the newest partition it wrote, not repeated on every partition of a range."""
    if not context.has_asset_partitions:
        context.add_output_metadata(metadata)
        return
    # The materializations are built after handle_output from the step's asset metadata, partition by partition.
    context.step_context.add_asset_metadata(
        metadata, asset_key=context.asset_key, partition_key=context.asset_partition_keys[-1]
    )


class WarehouseIOManager(dg.ConfigurableIOManager):
    """Writes a dataset's batch through the append path of its shape (rows, payload records and quarantined rows
    in one transaction) and loads a dataset as of the run's read instant."""

    warehouse: dg.ResourceDependency[WarehouseResource]

    def handle_output(self, context: dg.OutputContext, obj: Batch) -> None:
        result = self.warehouse.open().pipeline.append(
            obj.shape, obj.rows, payloads=obj.payloads, quarantine=obj.quarantine
        )
        if obj.refusal is not None:
            # The refusal and the payloads are recorded; nothing else changed. The run fails with the reason.
            raise obj.refusal
        add_run_metadata(
            context,
            {"vintages_added": result.added, "unchanged": result.unchanged, "conflicts_quarantined": result.conflicts},
        )

    def load_input(self, context: dg.InputContext) -> pd.DataFrame:
        dataset = load_catalog().get(context.upstream_output.definition_metadata[DATASET_METADATA_KEY])
        start, end = (
            inclusive_dates(context.asset_partitions_time_window) if context.has_asset_partitions else (None, None)
        )
        reader = self.warehouse.open().reader(dataset.shape)
        return reader.as_of(str(dataset.id), as_of=read_instant(context), start=start, end=end)


class ParquetObjectStoreIOManager(dg.ConfigurableIOManager):
    """Frames as Parquet in the object store, one object per partition so any later range can be read back.

    An as-of run writes under `as_of=<instant>/`: a point-in-time output never overwrites the current one.
    The frame's `date_column` says which partition each row belongs to.
    """

    object_store: dg.ResourceDependency[ObjectStoreResource]
    prefix: str = "frames"
    date_column: str = "obs_date"

    def _key(self, context: dg.OutputContext | dg.InputContext, asset_key: dg.AssetKey, partition: str | None) -> str:
        instant = run_as_of(context)
        version = f"as_of={instant:%Y%m%dT%H%M%SZ}/" if instant else ""
        return f"{self.prefix}/{'/'.join(asset_key.path)}/{version}{partition or 'all'}.parquet"

    def handle_output(self, context: dg.OutputContext, obj: pd.DataFrame) -> None:
        store = self.object_store.open()
        if not context.has_asset_partitions:
            store.put(self._key(context, context.asset_key, None), _parquet(obj))
            return
        definition = context.asset_partitions_def
        dates = pd.to_datetime(obj[self.date_column])
        keys = []
        for partition in context.asset_partition_keys:
            window = definition.time_window_for_partition_key(partition)
            rows = obj[(dates >= window.start.replace(tzinfo=None)) & (dates < window.end.replace(tzinfo=None))]
            key = self._key(context, context.asset_key, partition)
            store.put(key, _parquet(rows.reset_index(drop=True)))
            keys.append(key)
        add_run_metadata(context, {"objects_written": len(keys), "first_object": store.uri(keys[0])})

    def load_input(self, context: dg.InputContext) -> pd.DataFrame:
        store = self.object_store.open()
        partitions = context.asset_partition_keys if context.has_asset_partitions else [None]
        parts = [pd.read_parquet(io.BytesIO(store.get(self._key(context, context.asset_key, p)))) for p in partitions]
        return pd.concat(parts, ignore_index=True)


def _parquet(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()
