"""The graph updates itself offline, the way the daemon runs it: a release sensor's tick with the replay clock
advanced past a recorded revision requests only the partitions the revision changed, their run stores new
vintages, and the next automation tick requests the derived series that read them, whose run gives it new
vintages, on a Dagster instance on PostgreSQL. Then the release schedules and the freshness checks."""

import datetime as dt
import logging
import shutil

import dagster as dg
import polars as pl
import pytest
from dagster._core.definitions.asset_daemon_cursor import AssetDaemonCursor
from dagster._core.definitions.automation_tick_evaluation_context import AutomationTickEvaluationContext

from macro_assets.catalog import load_catalog
from macro_assets.defs import dataset_definitions, derived_definitions, resource_definitions
from macro_assets.defs.automation import INPUTS_UPDATED, derived_series_automation, updates_with_its_inputs
from macro_assets.defs.checks import RANGE_END, RANGE_START
from macro_assets.defs.datasets import asset_key, build_dataset_asset
from macro_assets.defs.derived.series import DERIVED_SERIES, build_derived_series
from macro_assets.defs.io_managers import WarehouseIOManager
from macro_assets.defs.resources import REPLAY_TAG, ObjectStoreResource, SourcesResource, WarehouseResource
from macro_assets.defs.sensors import release_sensors
from macro_assets.warehouse import connect
from macro_assets_tests.conftest import REPO_ROOT, _fresh_database_url

IBCBR_KEY = asset_key(load_catalog().get("bcb_sgs.24363"))
IBCBR_Z = next(series for series in DERIVED_SERIES if series.derivation.name == "derived.ibcbr_z12")
# After SGS 24363's first capture (2019-01-07) and before its second (2019-02-20, August..October 2018 revised).
FIRST_CLOCK, LATER_CLOCK = "2019-01-10T00:00:00+00:00", "2019-02-21T00:00:00+00:00"
REVISION_CAPTURED = dt.datetime(2019, 2, 20, 12, tzinfo=dt.UTC)


@pytest.fixture
def instance(tmp_path, request, monkeypatch):
    """A persistent instance as the CLI and the daemon use it: the project's dagster.yaml in a DAGSTER_HOME, its
    storage a fresh PostgreSQL database."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copyfile(REPO_ROOT / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_PG_URL", _fresh_database_url("system", request))
    with dg.DagsterInstance.from_config(str(home)) as persistent:
        yield persistent


def sgs_monthly_sensor() -> dg.SensorDefinition:
    return next(sensor for sensor in release_sensors() if sensor.name == "bcb_sgs_monthly_releases")


def graph(warehouse_url: str, objects: str, clock: str, derived: dg.AssetsDefinition | None = None) -> dg.Definitions:
    """The datasets the SGS monthly sensor watches, the IBC-Br z-score under its automation (or `derived`), both
    sensors, and resources replaying the recordings captured by `clock`."""
    catalog = load_catalog()
    watched = [spec for spec in catalog.datasets.values() if spec.source == "bcb_sgs" and spec.frequency == "monthly"]
    warehouse = WarehouseResource(url=warehouse_url)
    return dg.Definitions(
        assets=[
            *(build_dataset_asset(spec, catalog) for spec in watched),
            derived or updates_with_its_inputs(build_derived_series(IBCBR_Z), IBCBR_Z.derivation.window),
        ],
        sensors=[sgs_monthly_sensor(), derived_series_automation],
        resources={
            "warehouse": warehouse,
            "object_store": ObjectStoreResource(url=objects),
            "sources": SourcesResource(mode="offline", replay_clock=clock),
            "warehouse_io_manager": WarehouseIOManager(warehouse=warehouse),
        },
    )


def sensor_tick(defs: dg.Definitions, instance, cursor: str | None) -> dg.SensorResult:
    sensor = defs.resolve_sensor_def("bcb_sgs_monthly_releases")
    with dg.build_sensor_context(
        instance=instance, cursor=cursor, definitions=defs, resources=defs.resources
    ) as context:
        return sensor.evaluate_tick(context)


def automation_tick(defs: dg.Definitions, instance, cursor: AssetDaemonCursor):
    """One tick of derived_series_automation as the asset daemon evaluates it."""
    sensor = defs.resolve_sensor_def(derived_series_automation.name)
    context = AutomationTickEvaluationContext(
        evaluation_id=cursor.evaluation_id,
        instance=instance,
        asset_graph=defs.resolve_asset_graph(),
        cursor=cursor,
        materialize_run_tags=sensor.run_tags,
        observe_run_tags={},
        auto_observe_asset_keys=set(),
        asset_selection=sensor.asset_selection,
        logger=logging.getLogger("test_automation"),
        emit_backfills=sensor.emit_backfills,
    )
    requests, new_cursor, _ = context.evaluate()
    return requests, new_cursor


def launched(request: dg.RunRequest) -> tuple[list[dg.AssetKey], dict[str, str]]:
    """The assets and tags of the run a request starts. A request of several partitions is a backfill; under the
    assets' single-run policy the backfill daemon runs it as one range run."""
    if not request.requires_backfill_daemon():
        return list(request.asset_selection), dict(request.tags)
    subset = request.asset_graph_subset
    keys = sorted(subset.asset_keys)
    partitions = sorted({p for key in keys for p in subset.get_partitions_subset(key).get_partition_keys()})
    return keys, {**request.tags, RANGE_START: partitions[0], RANGE_END: partitions[-1]}


def execute(defs: dg.Definitions, instance, request: dg.RunRequest) -> None:
    keys, tags = launched(request)
    job = defs.resolve_implicit_job_def_def_for_assets(keys)
    result = job.execute_in_process(instance=instance, tags=tags, asset_selection=keys)
    assert result.success


def test_a_recorded_revision_reaches_the_derived_series_by_sensor_run_and_automation_tick(
    instance, system_warehouse_url, tmp_path
):
    objects = str(tmp_path / "objects")
    before = graph(system_warehouse_url, objects, FIRST_CLOCK)
    months = {RANGE_START: "2015-01-01", RANGE_END: "2018-12-01", REPLAY_TAG: FIRST_CLOCK}
    for key in (IBCBR_KEY, IBCBR_Z.key):
        execute(before, instance, dg.RunRequest(asset_selection=[key], tags=months))
    with connect(system_warehouse_url) as warehouse:
        first = warehouse.observations.vintages(IBCBR_Z.derivation.name, output="polars")

    # As of the first clock the sensor sees nothing new for IBC-Br (it asks for what other datasets lack).
    seen = sensor_tick(before, instance, None)
    assert all(IBCBR_KEY not in r.asset_selection for r in seen.run_requests)
    requests, automation_cursor = automation_tick(before, instance, AssetDaemonCursor.empty())
    assert requests == []
    eager = build_derived_series(IBCBR_Z)  # as declared in defs/derived/series.py: eager()
    eager_cursor = automation_tick(
        graph(system_warehouse_url, objects, FIRST_CLOCK, eager), instance, AssetDaemonCursor.empty()
    )[1]

    # The clock passes the second capture: only the revised and the newly published months are requested.
    after = graph(system_warehouse_url, objects, LATER_CLOCK)
    revised = [r for r in sensor_tick(after, instance, seen.cursor).run_requests if IBCBR_KEY in r.asset_selection]
    assert [(r.tags[RANGE_START], r.tags[RANGE_END], r.tags[REPLAY_TAG]) for r in revised] == [
        ("2018-08-01", "2018-11-01", LATER_CLOCK)
    ]
    execute(after, instance, revised[0])
    # eager() looks at the newest partition only, whose input the revision did not touch: it never fires.
    assert automation_tick(graph(system_warehouse_url, objects, LATER_CLOCK, eager), instance, eager_cursor)[0] == []
    settled = sensor_tick(after, instance, seen.cursor)
    assert all(IBCBR_KEY not in r.asset_selection for r in settled.run_requests)  # the warehouse holds the answer

    # The automation tick requests every month whose 12-month window reads a changed one, and its run adds them.
    requests, automation_cursor = automation_tick(after, instance, automation_cursor)
    [request] = requests
    keys, tags = launched(request)
    assert request.requires_backfill_daemon()  # several partitions: a backfill, run as one range
    assert (keys, tags[RANGE_START], tags[RANGE_END]) == ([IBCBR_Z.key], "2018-08-01", "2018-12-01")
    execute(after, instance, request)
    assert automation_tick(after, instance, automation_cursor)[0] == []

    with connect(system_warehouse_url) as warehouse:
        latest = warehouse.observations.vintages(IBCBR_Z.derivation.name, output="polars")
    new = latest.join(first, on=["obs_date", "release_time"], how="anti")
    assert new.height and new["release_time"].min() >= REVISION_CAPTURED
    assert new["obs_date"].min() >= dt.date(2018, 8, 1)
    assert latest.height == first.height + new.height  # nothing overwritten
    assert new.filter(pl.col("obs_date") == dt.date(2018, 11, 1)).height == 1  # the month first published then


def test_every_downstream_asset_updates_on_each_partition_whose_window_reads_a_changed_input():
    defs = dg.Definitions.merge(dataset_definitions(), derived_definitions(), resource_definitions())
    asset_graph = defs.resolve_asset_graph()
    sensors = [defs.resolve_sensor_def(name) for name in ("panels_automation", "derived_series_automation")]
    assert {sensor.default_status for sensor in sensors} == {dg.DefaultSensorStatus.RUNNING}
    automated = {key for sensor in sensors for key in sensor.asset_selection.resolve(asset_graph)}
    assert {asset_graph.get(key).automation_condition for key in automated} == {INPUTS_UPDATED}

    def reach(user_key: str) -> set[int]:
        node = asset_graph.get(dg.AssetKey.from_user_string(user_key))
        return {-m.start_offset if m else 0 for m in (node.partition_mappings.get(p) for p in node.parent_keys)}

    # A 60-observation z-score of a daily series reads at most 119 weekday partitions back (holidays skipped).
    expected = {
        "derived/ust_10y_2y": {0},
        "derived/ipca_12m": {11},
        "derived/ibcbr_z12": {11},
        "derived/ptax_z60": {119},
        "panels/daily_rates": {0},
    }
    assert {key: reach(key) for key in expected} == expected
