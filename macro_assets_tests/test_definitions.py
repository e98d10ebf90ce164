import os
import subprocess
import sys
from pathlib import Path

import dagster as dg

from macro_assets.assets import series_key
from macro_assets.catalog import load_catalog
from macro_assets.checks import RULES
from macro_assets.cli import dagster_environment
from macro_assets.definitions import defs
from macro_assets.partitions import DAILY, MONTHLY
from macro_assets.warehouse import embedded

REPO_ROOT = Path(__file__).resolve().parents[1]


def test_definitions_load():
    dg.Definitions.validate_loadable(defs)


def test_one_asset_per_catalog_series_grouped_by_source_plus_the_panel():
    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    assert keys == {f"{s.source}/{s.code}" for s in load_catalog().series.values()} | {"panels/daily_rates"}
    for spec in load_catalog().series.values():
        node = graph.get(series_key(spec.id))
        assert node.group_name == spec.source
        assert node.partitions_def is (DAILY if spec.frequency == "daily" else MONTHLY)
        assert node.backfill_policy == dg.BackfillPolicy.single_run()
        assert node.owners and node.description and {"postgres"} <= set(node.kinds)
        assert node.metadata["series_id"] == spec.id
        assert {"unit", "country", "frequency", "release_rule", "plausible_range"} <= set(node.metadata)


def test_every_series_carries_every_data_quality_check():
    graph = defs.resolve_asset_graph()
    for spec in load_catalog().series.values():
        names = {check.name for check in graph.get_check_keys_for_assets([series_key(spec.id)])}
        assert names == {rule.name for rule in RULES}


def test_partitions_are_business_days_and_months_from_2010():
    assert DAILY.get_first_partition_key() == "2010-01-01"
    keys = DAILY.get_partition_keys_in_range(dg.PartitionKeyRange("2018-12-28", "2019-01-07"))
    assert keys == ["2018-12-28", "2018-12-31", "2019-01-01", "2019-01-02", "2019-01-03", "2019-01-04",
                    "2019-01-07"]
    friday = DAILY.time_window_for_partition_key("2018-12-28")
    assert (friday.end - friday.start).days == 3  # a Friday partition spans the weekend
    assert MONTHLY.get_first_partition_key() == "2010-01-01"


def test_the_automation_sensor_is_explicit_and_running():
    sensor = defs.resolve_sensor_def("macro_assets_automation")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING


def test_workspace_yaml_loads_the_code_location():
    environment = {**os.environ, **dagster_environment()}  # the instance of dagster.yaml, on PostgreSQL
    try:
        result = subprocess.run(
            [str(Path(sys.executable).with_name("dagster")), "definitions", "validate", "-w", "workspace.yaml"],
            cwd=REPO_ROOT, capture_output=True, text=True, timeout=180, env=environment,
        )
    finally:
        embedded.stop_server()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "macro_assets" in result.stdout + result.stderr


def test_loading_definitions_touches_no_database(monkeypatch):
    monkeypatch.setenv("MACRO_ASSETS_WAREHOUSE_URL", "postgresql+psycopg2://nobody@127.0.0.1:1/none")
    code = "import macro_assets.definitions as d; d.defs.resolve_asset_graph(); print('ok')"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "ok", result.stderr
