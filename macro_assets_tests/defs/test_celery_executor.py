"""The distributed path Dagster ships: the celery sample job's steps run as Celery tasks by two `dagster-celery`
worker processes on loopback against a real Redis, on a persistent instance (Postgres storage, DAGSTER_HOME in a
temporary directory), and leave the warehouse and the payload archive exactly as the same job run in process leaves
a second, fresh pair."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import psycopg2
import pytest
import redis
import yaml
from dagster._core.definitions.reconstruct import ReconstructableRepository
from dagster_celery.executor import CeleryExecutor
from dagster_celery.make_app import make_app

from macro_assets.cli.main import dagster_environment
from macro_assets.definitions import defs
from macro_assets.defs.checks import RANGE_END, RANGE_START
from macro_assets.defs.executors import CELERY_BACKEND_ENV, CELERY_BROKER_ENV, CELERY_EXECUTOR_CONFIG
from macro_assets.defs.jobs import CELERY_SAMPLE, CELERY_SAMPLE_JOB
from macro_assets.defs.main_job import RUN_CONFIG
from macro_assets.object_store import open_object_store
from macro_assets_tests.paths import REPO_ROOT

REDIS_URL = "redis://127.0.0.1:6379/5"  # a database of its own: the test flushes only this one
WORKERS = ("celery_a", "celery_b")
WORKER_START_SECONDS = 90

# Every stored row of the datasets, by dataset, without the columns that only say when this database wrote it.
WAREHOUSE_ROWS = {
    "observations": "series_id, obs_date, release_time, value, release_basis, payload_sha256",
    "payloads": "dataset_id, object_key, source, payload_sha256, request, http_status, bytes, window_start, "
    "window_end, fetched_at, refused",
    "quarantine": "dataset_id, source, payload_sha256, record_index, field, raw_record, reason",
}


def warehouse_contents(url: str) -> dict[str, dict[str, list[tuple]]]:
    connection = psycopg2.connect(url.replace("postgresql+psycopg2://", "postgresql://", 1))
    contents: dict[str, dict[str, list[tuple]]] = {}
    try:
        with connection.cursor() as cursor:
            for table, columns in WAREHOUSE_ROWS.items():
                cursor.execute(f"SELECT {columns} FROM {table} ORDER BY {columns}")
                for row in cursor.fetchall():
                    contents.setdefault(table, {}).setdefault(row[0], []).append(row[1:])
    finally:
        connection.close()
    return contents


def archived_payloads(url: Path) -> dict[str, bytes]:
    store = open_object_store(str(url))
    return {key: store.get(key) for key in store.list()}


@pytest.fixture
def redis_broker(monkeypatch):
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError as error:
        pytest.fail(f"the celery executor test needs Redis at {REDIS_URL} (broker and result backend): {error}")
    client.flushdb()
    monkeypatch.setenv(CELERY_BROKER_ENV, REDIS_URL)
    monkeypatch.setenv(CELERY_BACKEND_ENV, REDIS_URL)
    yield REDIS_URL
    client.flushdb()
    client.close()


@pytest.fixture
def dagster_home(tmp_path, system_warehouse_url, monkeypatch) -> Path:
    """A persistent instance as the CLI sets it up (the project's dagster.yaml, Postgres storage), here in the
    database the Celery run's warehouse uses: the Dagster tables and the warehouse's do not share names."""
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    monkeypatch.setenv("DAGSTER_PG_URL", system_warehouse_url)
    home = Path(dagster_environment()["DAGSTER_HOME"])
    # Dagster creates its tables on first use: here, once, before two workers starting together race to.
    dg.DagsterInstance.from_config(str(home)).dispose()
    return home


def worker_app(broker: str):
    return make_app(CeleryExecutor.for_cli(broker=broker, backend=broker).app_args())


def wait_until_workers_answer(broker: str, workers: dict[str, subprocess.Popen], logs: dict[str, Path]) -> None:
    app = worker_app(broker)
    deadline = time.monotonic() + WORKER_START_SECONDS
    answered: set[str] = set()
    while time.monotonic() < deadline:
        for name, process in workers.items():
            if process.poll() is not None:
                pytest.fail(f"celery worker {name} exited with {process.returncode}:\n{logs[name].read_text()[-3000:]}")
        answered |= {reply_name.partition("@")[0] for reply in app.control.ping(timeout=1.0) for reply_name in reply}
        if answered >= set(workers):
            return
    pytest.fail(f"celery workers {sorted(set(workers) - answered)} did not answer within {WORKER_START_SECONDS} s")


@pytest.fixture
def celery_workers(redis_broker, dagster_home, system_warehouse_url, tmp_path):
    """Two `dagster-celery worker start` processes writing to the warehouse at system_warehouse_url and the object
    store under tmp_path/celery_objects, one step at a time each, stopped by their process group."""
    config = tmp_path / "celery.yaml"
    config.write_text(yaml.safe_dump({"execution": {"config": CELERY_EXECUTOR_CONFIG}}))
    scripts = Path(sys.executable).parent  # `dagster-celery worker start` runs `celery` from the PATH
    env = {
        **os.environ,
        "PATH": f"{scripts}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": str(REPO_ROOT),
        "MACRO_ASSETS_WAREHOUSE_URL": system_warehouse_url,
        "MACRO_ASSETS_OBJECT_STORE_URL": str(tmp_path / "celery_objects"),
    }
    start = [str(scripts / "dagster-celery"), "worker", "start", "-A", "dagster_celery.app", "-y", str(config)]
    # After `--`, Celery's own options: the solo pool runs one step at a time in the worker process itself.
    celery_options = ["--", "--pool=solo", "--without-gossip", "--without-mingle"]
    workers, logs = {}, {}
    try:
        for name in WORKERS:
            logs[name] = tmp_path / f"{name}.log"
            with logs[name].open("w") as log:
                workers[name] = subprocess.Popen(
                    [*start, "-n", name, *celery_options],
                    cwd=REPO_ROOT,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
        wait_until_workers_answer(redis_broker, workers, logs)
        yield
    finally:
        for process in workers.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in workers.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def recorded_window() -> dict[str, str]:
    partitions = defs.resolve_job_def(CELERY_SAMPLE_JOB).partitions_def
    return {RANGE_START: partitions.get_first_partition_key(), RANGE_END: partitions.get_last_partition_key()}


@pytest.mark.parametrize("warehouse_url", ["system"], indirect=True)  # the in-process run's fresh warehouse
def test_two_celery_workers_leave_the_warehouse_as_the_in_process_run_does(
    celery_workers, dagster_home, system_warehouse_url, warehouse_url, tmp_path, monkeypatch
):
    window = recorded_window()
    job = ReconstructableRepository.for_module(
        "macro_assets.definitions", "defs", working_directory=str(REPO_ROOT)
    ).get_reconstructable_job(CELERY_SAMPLE_JOB)
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        result = dg.execute_job(job, instance=instance, tags=window, run_config=RUN_CONFIG)
        assert result.success
        events = instance.all_logs(result.run_id)
    delegated = [
        event.dagster_event
        for event in events
        if event.dagster_event and event.dagster_event.event_type == dg.DagsterEventType.ENGINE_EVENT
        if "Celery worker" in event.dagster_event.event_specific_data.metadata
    ]
    step_keys = {event.step_key for event in delegated}
    assert len(step_keys) == len(delegated) == len(CELERY_SAMPLE)  # each step once, as one Celery task
    hosts = {event.event_specific_data.metadata["Celery worker"].value.partition("@")[0] for event in delegated}
    assert hosts == set(WORKERS)  # both workers took steps
    step_pids = {
        event.dagster_event.pid
        for event in events
        if event.dagster_event and event.dagster_event.event_type == dg.DagsterEventType.STEP_START
    }
    assert len(step_pids) == len(WORKERS) and os.getpid() not in step_pids  # two worker processes, not this one

    monkeypatch.setenv("MACRO_ASSETS_WAREHOUSE_URL", warehouse_url)
    monkeypatch.setenv("MACRO_ASSETS_OBJECT_STORE_URL", str(tmp_path / "in_process_objects"))
    with dg.instance_for_test() as instance:
        in_process = defs.resolve_job_def(CELERY_SAMPLE_JOB).execute_in_process(
            instance=instance, tags=window, run_config=RUN_CONFIG
        )
        assert in_process.success

    celery_rows, in_process_rows = warehouse_contents(system_warehouse_url), warehouse_contents(warehouse_url)
    assert set(celery_rows["observations"]) == set(CELERY_SAMPLE)
    for table in WAREHOUSE_ROWS:
        assert celery_rows.get(table, {}).keys() == in_process_rows.get(table, {}).keys(), table
        for dataset, rows in in_process_rows.get(table, {}).items():
            assert celery_rows[table][dataset] == rows, (table, dataset)
    payloads = archived_payloads(tmp_path / "celery_objects")
    assert len(payloads) == sum(len(rows) for rows in celery_rows["payloads"].values())
    assert payloads == archived_payloads(tmp_path / "in_process_objects")  # the same bytes under the same keys
