"""The Definitions: they load (also through workspace.yaml and without any database), every catalog dataset is an
asset of its shape with its checks, partitions cover what can succeed offline, and a snapshot of every asset
spec makes any changed definition a visible diff."""

import os
import subprocess
import sys

import dagster as dg

from macro_assets.catalog import load_catalog
from macro_assets.catalog.model import KINDS
from macro_assets.cli.main import dagster_environment
from macro_assets.definitions import defs
from macro_assets.defs.datasets import asset_key
from macro_assets.defs.derived.series import DERIVED_SERIES
from macro_assets.defs.freshness import FRESHNESS_CHECK
from macro_assets.quality.rules import rules_for
from macro_assets.warehouse import embedded
from macro_assets_tests.paths import REPO_ROOT


def test_definitions_load():
    dg.Definitions.validate_loadable(defs)


# Everything the graph holds beyond the catalog's datasets: what is computed from them.
DOWNSTREAM_OF_DATASETS = {
    "panels/daily_rates",
    "panels/usdcop_macro_daily",
    *(f"derived/{code}" for code in ("ust_10y_2y", "ipca_12m", "ibcbr_z12", "ptax_z60")),
    *(f"derived/{code}" for code in ("ipca_diffusion", "ipca_diffusion_weighted", "ipca_trimmed_mean")),
    *(f"derived/{code}" for code in ("ipca_surprise", "igpm_surprise", "igpdi_surprise")),
    *(f"derived/{code}" for code in ("us_nominal_nss", "us_real_ns", "br_nominal_nss", "br_real_nss")),
    *(f"derived/{code}" for code in ("us_nominal_ns", "br_nominal_ns", "br_real_ns")),
    *(f"derived/{code}" for code in ("ptax_return", "ptax_log_return", "ptax_vol21", "wti_drawdown252")),
    *(f"derived/{code}" for code in ("ptax_wti_corr63", "ust10y_pct252")),
    "derived/us_breakeven",
    "derived/br_breakeven",
    "derived/usdbrl_vol_surface",
    "derived/usdcop_features_5min",
    "derived/revision_report",
}


def test_one_asset_per_catalog_dataset_grouped_by_source_plus_what_is_derived_from_them():
    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    catalog = load_catalog()
    datasets = {f"{s.source}/{s.code}" for s in catalog.datasets.values()}
    # The offline default drops the packaged sample of USD/BRL vol quotes where a user's files would arrive.
    assert keys == datasets | DOWNSTREAM_OF_DATASETS | {"fx_vol/usdbrl_sample_quotes"}
    for key in DOWNSTREAM_OF_DATASETS:
        assert graph.get(dg.AssetKey(key.split("/"))).parent_keys, f"{key} reads nothing"
    for series in DERIVED_SERIES:
        node = graph.get(series.key)
        assert node.group_name == "derived" and node.automation_condition is not None
        assert {k.to_user_string() for k in node.parent_keys} == {i.replace(".", "/") for i in series.derivation.inputs}
        assert [c.name for c in graph.get_check_keys_for_assets([series.key])] == ["as_of_equals_recomputation"]
    assert {s.kind for s in catalog.datasets.values()} == set(KINDS)  # every shape has datasets
    assert len(catalog.datasets) >= 150
    for spec in catalog.datasets.values():
        node = graph.get(asset_key(spec))
        assert node.group_name == spec.source
        assert node.backfill_policy == dg.BackfillPolicy.single_run()
        assert node.owners and node.description and {"postgres"} <= set(node.kinds)
        assert node.metadata["dataset_id"] == str(spec.id)
        assert node.metadata["dagster/table_name"] == spec.shape.table
        names = {check.name for check in graph.get_check_keys_for_assets([asset_key(spec)])}
        assert names == {rule.name for rule in rules_for(spec)} | {FRESHNESS_CHECK}


def test_offline_partitions_cover_exactly_the_recorded_window():
    graph = defs.resolve_asset_graph()
    daily = graph.get(dg.AssetKey(["fred", "DGS10"])).partitions_def
    assert daily.get_first_partition_key() == "2015-01-01" and daily.get_last_partition_key() == "2018-12-31"
    keys = daily.get_partition_keys_in_range(dg.PartitionKeyRange("2018-12-27", "2018-12-31"))
    assert keys == ["2018-12-27", "2018-12-28", "2018-12-31"]
    friday = daily.time_window_for_partition_key("2018-12-28")
    assert (friday.end - friday.start).days == 3  # a Friday partition spans the weekend
    monthly = graph.get(dg.AssetKey(["fred", "GDP"])).partitions_def
    assert (monthly.get_first_partition_key(), monthly.get_last_partition_key()) == ("2015-01-01", "2018-12-01")
    intraday = graph.get(dg.AssetKey(["twelvedata", "USDCOP_5min"])).partitions_def
    assert intraday.get_first_partition_key() >= "2015-01-01" and intraday.get_last_partition_key() <= "2018-12-31"


def test_live_partitions_run_from_2010(monkeypatch):
    monkeypatch.setenv("MACRO_ASSETS_MODE", "live")
    code = (
        "import macro_assets.definitions as d, dagster as dg;"
        "print(d.defs.resolve_asset_graph().get(dg.AssetKey(['fred','DGS10'])).partitions_def"
        ".get_first_partition_key())"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "2010-01-01", result.stderr


def test_the_automation_sensors_are_explicit_and_running():
    for name in ("panels_automation", "derived_series_automation"):
        assert defs.resolve_sensor_def(name).default_status == dg.DefaultSensorStatus.RUNNING


def _spec_snapshot() -> dict:
    graph = defs.resolve_asset_graph()
    specs = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        partitions = node.partitions_def
        specs[key.to_user_string()] = {
            "group": node.group_name,
            "kinds": sorted(node.kinds),
            "owners": list(node.owners),
            "tags": dict(sorted(node.tags.items())),
            "partitions": f"{type(partitions).__name__} {partitions.get_first_partition_key()}.."
            f"{partitions.get_last_partition_key()} ({len(partitions.get_partition_keys())})",
            "deps": sorted(k.to_user_string() for k in node.parent_keys),
            "checks": sorted(c.name for c in graph.get_check_keys_for_assets([key])),
            "metadata": {k: str(v.value if hasattr(v, "value") else v) for k, v in sorted(node.metadata.items())},
            "description": node.description,
        }
    return specs


def test_every_asset_spec_matches_the_snapshot(snapshot):
    assert _spec_snapshot() == snapshot


def test_workspace_yaml_loads_the_code_location():
    environment = {**os.environ, **dagster_environment()}  # the instance of dagster.yaml, on PostgreSQL
    try:
        result = subprocess.run(
            [
                str(REPO_ROOT / ".venv" / "bin" / "dagster") if (REPO_ROOT / ".venv").exists() else "dagster",
                "definitions",
                "validate",
                "-w",
                "workspace.yaml",
            ],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=180,
            env=environment,
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
