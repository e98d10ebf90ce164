"""The short report printed after `macro-assets materialize`: what was written, what the checks said, where
the data lives and how to read it."""

from __future__ import annotations

import dagster as dg
import sqlalchemy as sa

from macro_assets import settings
from macro_assets.definitions import defs
from macro_assets.warehouse import connect

_WAREHOUSE_COUNTS = """
    SELECT o.series_id, count(*) AS vintages, count(DISTINCT o.obs_date) AS dates,
           count(*) FILTER (WHERE o.value IS NULL) AS withdrawals,
           min(o.obs_date) AS first_date, max(o.obs_date) AS last_date,
           (SELECT count(*) FROM quarantine q WHERE q.series_id = o.series_id) AS quarantined
    FROM observations o GROUP BY o.series_id ORDER BY o.series_id"""


def print_summary(elapsed: float) -> None:
    instance = dg.DagsterInstance.get()
    graph = defs.resolve_asset_graph()
    with connect() as warehouse, warehouse.engine.connect() as connection:
        counts = {row.series_id: row for row in connection.execute(sa.text(_WAREHOUSE_COUNTS))}
        warehouse_url = warehouse.url

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
    print(f"{'asset':<22}{'partitions':>11}{'dates':>8}{'vintages':>10}{'withdrawn':>10}{'quarantined':>12}  window")
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        name = key.to_user_string()
        partitions = len(instance.get_materialized_partitions(key))
        row = counts.get(name.replace("/", ".", 1))
        if row is None:
            print(f"{name:<22}{partitions:>11}{'(Parquet frames in the object store)':>52}")
            continue
        print(f"{name:<22}{partitions:>11}{row.dates:>8}{row.vintages:>10}{row.withdrawals:>10}{row.quarantined:>12}"
              f"  {row.first_date} .. {row.last_date}")
    print(f"\nchecks: {passed} passed, {failed} failed" + ("".join(f"\n  failed: {f}" for f in failures)))
    print(f"\nwarehouse:    {warehouse_url}")
    print(f"object store: {settings.object_store_url()} (raw/ = verbatim payloads, frames/ = Parquet)")
    print(f"dagster home: {instance.root_directory} (runs, events and checks on PostgreSQL)")
    print("\nread:  macro-assets read fred.GDP --as-of 2018-06-01 --start 2015-01-01")
    print("       python -c \"from macro_assets.warehouse import connect; print(connect().as_of('bcb_sgs.433'))\"")
    print("UI:    macro-assets dev   (then open http://127.0.0.1:3000)")
