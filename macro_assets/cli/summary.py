"""The short report printed after `macro-assets materialize`: what was written, what the checks said, where
the data lives and how to read it."""

from __future__ import annotations

from macro_assets import settings
from macro_assets.catalog import DatasetId, load_catalog
from macro_assets.definitions import defs
from macro_assets.defs.main_job import instance_report
from macro_assets.warehouse import connect


def print_summary(elapsed: float) -> None:
    report = instance_report(defs)
    catalog = load_catalog()
    with connect() as warehouse:
        stored = {
            dataset_id: warehouse.reader(spec.shape).info(dataset_id) for dataset_id, spec in catalog.datasets.items()
        }
        quarantined = warehouse.pipeline.quarantined()
        warehouse_url = warehouse.url
    quarantine_counts = quarantined["dataset_id"].value_counts().to_dict() if len(quarantined) else {}

    print(f"\nmacro_assets — materialized in {elapsed:.0f} s")
    print(f"{'asset':<28}{'partitions':>11}{'keys':>8}{'vintages':>10}{'quarantined':>12}  window")
    for name, partitions in sorted(report.partitions.items()):
        dataset_id = str(DatasetId.from_asset_path(name.split("/")))
        info = stored.get(dataset_id)
        if info is None:
            print(f"{name:<28}{partitions:>11}  (Parquet frames in the object store)")
            continue
        window = f"{_day(info['start'])} .. {_day(info['end'])}" if info["keys"] else "nothing stored"
        print(
            f"{name:<28}{partitions:>11}{info['keys']:>8}{info['vintages']:>10}"
            f"{quarantine_counts.get(dataset_id, 0):>12}  {window}"
        )
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


def _day(moment) -> str:
    return str(moment)[:10]
