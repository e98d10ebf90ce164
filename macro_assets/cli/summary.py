"""The short report printed after `macro-assets materialize`: what was written, what the checks said, where
the data lives and how to read it."""

from __future__ import annotations

from collections.abc import Mapping

from macro_assets import settings
from macro_assets.catalog import Catalog, load_catalog
from macro_assets.definitions import defs
from macro_assets.defs.main_job import AssetReport, instance_report
from macro_assets.warehouse import Warehouse, connect
from macro_assets.warehouse.readers import Reader


def print_summary(elapsed: float) -> None:
    report = instance_report(defs)
    with connect() as warehouse:
        lines = asset_lines(report.assets, warehouse, load_catalog())
        warehouse_url = warehouse.url

    print(f"\nmacro_assets — materialized in {elapsed:.0f} s")
    print(f"{'asset':<28}{'partitions':>11}{'keys':>8}{'vintages':>10}{'quarantined':>12}  window")
    for line in lines:
        print(line)
    failures = "".join(f"\n  failed: {f}" for f in report.failed)
    print(f"\nchecks: {report.passed} passed, {len(report.failed)} failed" + failures)
    print(f"\nwarehouse:    {warehouse_url}")
    print(f"object store: {settings.object_store_url()} (raw/ = verbatim payloads, frames/ = Parquet)")
    print(f"dagster home: {report.root} (runs, events and checks on PostgreSQL)")
    print("\nread:  macro-assets read fred.GDP --as-of 2018-06-01 --start 2015-01-01")
    print("       macro-assets read us_treasury.par_nominal --as-of 2018-06-01 --start 2018-05-31 --end 2018-05-31")
    print(
        '       python -c "from macro_assets.warehouse import connect; '
        "print(connect().observations.as_of('bcb_sgs.433'))\""
    )
    print("UI:    macro-assets dev   (then open http://127.0.0.1:3000)")


def asset_lines(assets: Mapping[str, AssetReport], warehouse: Warehouse, catalog: Catalog) -> list[str]:
    """A line per asset, by key: what the warehouse holds of an asset stored there (a catalog dataset, or a derived
    one under its dataset_id), else where it is kept."""
    quarantined = warehouse.pipeline.quarantined()
    quarantine_counts = quarantined["dataset_id"].value_counts().to_dict() if len(quarantined) else {}
    # Where derived assets are stored: a derived series in the observations, a fitted curve in both.
    derived_ids = {reader: reader.list() for reader in (warehouse.observations, warehouse.curves)}
    lines = []
    for name, asset in sorted(assets.items()):
        count, dataset_id = asset.partitions, asset.dataset_id
        if "postgres" not in asset.kinds or dataset_id is None:
            lines.append(f"{name:<28}{count:>11}  {kept_outside_the_warehouse(asset.kinds)}")
            continue
        spec = catalog.datasets.get(dataset_id)
        facts = warehouse.reader(spec.shape).info(dataset_id) if spec else derived_facts(derived_ids, dataset_id)
        window = f"{_day(facts['start'])} .. {_day(facts['end'])}" if facts["keys"] else "nothing stored"
        if facts.get("ids", 1) > 1:
            window += f" (across {facts['ids']} stored ids)"
        lines.append(
            f"{name:<28}{count:>11}{facts['keys']:>8}{facts['vintages']:>10}"
            f"{quarantine_counts.get(dataset_id, 0):>12}  {window}"
        )
    return lines


def derived_facts(stored_ids: Mapping[Reader, list[str]], dataset_id: str) -> dict:
    """What the warehouse holds of a derived asset: the ids of `stored_ids` (each reader's list) that are
    `dataset_id` or below it (a fitted curve's parameters `<id>.beta0` and curves `<id>.zero`), keys and vintages
    summed, the window from the first key to the last; ids counts them."""
    infos = [
        reader.info(stored_id)
        for reader, listed in stored_ids.items()
        for stored_id in listed
        if stored_id == dataset_id or stored_id.startswith(f"{dataset_id}.")
    ]
    held = [info for info in infos if info["keys"]]
    return {
        "keys": sum(info["keys"] for info in infos),
        "vintages": sum(info["vintages"] for info in infos),
        "start": min((info["start"] for info in held), default=None),
        "end": max((info["end"] for info in held), default=None),
        "ids": len(infos),
    }


def kept_outside_the_warehouse(kinds: set[str]) -> str:
    """Where an asset the warehouse does not hold keeps what it makes, from its kinds."""
    if "parquet" in kinds:
        return "(Parquet frames in the object store)"
    if "s3" in kinds:
        return "(files in the object store)"
    return "(nothing stored: the result is its materializations' metadata)"


def _day(moment) -> str:
    return str(moment)[:10]
