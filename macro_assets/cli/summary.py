"""The short report printed after `macro-assets materialize`: what was written, what the checks said, where
the data lives and how to read it."""

from __future__ import annotations

import dagster as dg

from macro_assets import settings
from macro_assets.catalog import DatasetId, load_catalog
from macro_assets.definitions import defs
from macro_assets.warehouse import connect

READERS = {"observations": "observations", "curve": "curves", "bars": "bars"}


def print_summary(elapsed: float) -> None:
    instance = dg.DagsterInstance.get()
    graph = defs.resolve_asset_graph()
    catalog = load_catalog()
    with connect() as warehouse:
        stored = {
            dataset_id: getattr(warehouse, READERS[spec.kind]).info(dataset_id)
            for dataset_id, spec in catalog.datasets.items()
        }
        quarantined = warehouse.pipeline.quarantined()
        warehouse_url = warehouse.url
    quarantine_counts = quarantined["dataset_id"].value_counts().to_dict() if len(quarantined) else {}

    check_keys = [key for key in graph.asset_check_keys]
    latest_checks = instance.event_log_storage.get_latest_asset_check_execution_by_key(check_keys)
    passed = failed = 0
    failures = []
    for key, record in latest_checks.items():
        evaluation = record.event.dagster_event.event_specific_data if record.event else None
        if evaluation is None:
            continue
        if evaluation.passed:
            passed += 1
        else:
            failed += 1
            failures.append(f"{key.asset_key.to_user_string()}:{key.name} ({evaluation.severity.value})")

    print(f"\nmacro_assets — materialized in {elapsed:.0f} s")
    print(f"{'asset':<28}{'partitions':>11}{'keys':>8}{'vintages':>10}{'quarantined':>12}  window")
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        name = key.to_user_string()
        partitions = len(instance.get_materialized_partitions(key))
        dataset_id = str(DatasetId.from_asset_path(key.path))
        info = stored.get(dataset_id)
        if info is None:
            print(f"{name:<28}{partitions:>11}  (Parquet frames in the object store)")
            continue
        window = f"{_day(info['start'])} .. {_day(info['end'])}" if info["keys"] else "nothing stored"
        print(
            f"{name:<28}{partitions:>11}{info['keys']:>8}{info['vintages']:>10}"
            f"{quarantine_counts.get(dataset_id, 0):>12}  {window}"
        )
    print(f"\nchecks: {passed} passed, {failed} failed" + ("".join(f"\n  failed: {f}" for f in failures)))
    print(f"\nwarehouse:    {warehouse_url}")
    print(f"object store: {settings.object_store_url()} (raw/ = verbatim payloads, frames/ = Parquet)")
    print(f"dagster home: {instance.root_directory} (runs, events and checks on PostgreSQL)")
    print("\nread:  macro-assets read fred.GDP --as-of 2018-06-01 --start 2015-01-01")
    print("       macro-assets read us_treasury.par_nominal --as-of 2018-06-01 --start 2018-05-31 --end 2018-05-31")
    print(
        '       python -c "from macro_assets.warehouse import connect; '
        "print(connect().observations.as_of('bcb_sgs.433'))\""
    )
    print("UI:    macro-assets dev   (then open http://127.0.0.1:3000)")


def _day(moment) -> str:
    return str(moment)[:10]
