"""Checks for the deployment files: docker-compose.yml, dagster.yaml and .env.example.

No Docker engine runs where these tests run, so the compose file is checked structurally.
dagster.yaml is checked with Dagster's own loader, then used for a real run on local PostgreSQL.
"""

import re
import shutil
import uuid
from contextlib import closing
from pathlib import Path

import dagster as dg
import psycopg2
import pytest
import yaml
from dagster._core.instance.config import dagster_instance_config
from sqlalchemy.engine import make_url

REPO_ROOT = Path(__file__).resolve().parents[1]
COMPOSE_PATH = REPO_ROOT / "docker-compose.yml"
DAGSTER_YAML_PATH = REPO_ROOT / "dagster.yaml"
ENV_EXAMPLE_PATH = REPO_ROOT / ".env.example"

FIXED_VARIABLES = {
    "MACRO_ASSETS_HOME",
    "MACRO_ASSETS_WAREHOUSE_URL",
    "MACRO_ASSETS_OBJECT_STORE_URL",
    "MACRO_ASSETS_S3_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_REGION",
    "MACRO_ASSETS_MODE",
    "FRED_API_KEY",
    "DAGSTER_HOME",
    "DAGSTER_PG_URL",
    "POSTGRES_USER",
    "POSTGRES_PASSWORD",
    "POSTGRES_DB",
    "MINIO_ROOT_USER",
    "MINIO_ROOT_PASSWORD",
    "MACRO_ASSETS_BUCKET",
}
# Set, any of these replaces an embedded offline default with a compose service.
OFFLINE_WHEN_UNSET = {
    "MACRO_ASSETS_WAREHOUSE_URL",
    "MACRO_ASSETS_OBJECT_STORE_URL",
    "DAGSTER_PG_URL",
}
LONG_RUNNING_SERVICES = ("timescaledb", "minio")
ADMIN_PG_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
LOCAL_PG_SOCKET_DIR = "/var/run/postgresql"

ASSIGNMENT = re.compile(r"^([A-Z][A-Z0-9_]*)=(.*)$")
COMMENTED_ASSIGNMENT = re.compile(r"^#\s*([A-Z][A-Z0-9_]*)=(.*)$")
# `$${VAR}` is compose's escape for a variable the container's shell expands, not compose.
COMPOSE_INTERPOLATION = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}")
COMPOSE_DURATION = re.compile(r"^\d+(us|ms|s|m|h)$")


def load_compose() -> dict:
    return yaml.safe_load(COMPOSE_PATH.read_text())


def parse_env_example() -> tuple[dict[str, str], dict[str, str]]:
    """Return (active, commented-out) assignments of .env.example."""
    active: dict[str, str] = {}
    commented: dict[str, str] = {}
    for line in ENV_EXAMPLE_PATH.read_text().splitlines():
        if match := ASSIGNMENT.match(line):
            assert match[1] not in active, f"{match[1]} assigned twice in .env.example"
            active[match[1]] = match[2]
        elif match := COMMENTED_ASSIGNMENT.match(line):
            commented[match[1]] = match[2]
    return active, commented


# --- docker-compose.yml ---------------------------------------------------------------------


def test_compose_defines_the_three_services_without_version_key():
    compose = load_compose()

    assert "version" not in compose, "the Compose spec ignores `version:`; remove it"
    assert set(compose["services"]) == {"timescaledb", "minio", "minio-init"}


@pytest.mark.parametrize("service", LONG_RUNNING_SERVICES)
def test_long_running_service_has_healthcheck(service):
    healthcheck = load_compose()["services"][service]["healthcheck"]

    assert healthcheck["test"][0] in {"CMD", "CMD-SHELL"} and len(healthcheck["test"]) > 1
    for key in ("interval", "timeout", "start_period"):
        assert COMPOSE_DURATION.match(healthcheck[key]), f"{service} healthcheck {key}"
    assert isinstance(healthcheck["retries"], int) and healthcheck["retries"] > 0


def test_timescaledb_healthcheck_targets_the_warehouse_database():
    probe = " ".join(load_compose()["services"]["timescaledb"]["healthcheck"]["test"][1:])

    assert "pg_isready" in probe
    assert re.search(r"-U \S*POSTGRES_USER", probe) and re.search(r"-d \S*POSTGRES_DB", probe)


def test_minio_init_creates_bucket_once_minio_is_healthy():
    minio_init = load_compose()["services"]["minio-init"]
    script = " ".join(minio_init["command"])

    assert minio_init["depends_on"]["minio"]["condition"] == "service_healthy"
    assert minio_init["restart"] == "no"
    assert "mc alias set" in script
    assert "mc mb --ignore-existing" in script
    assert "MACRO_ASSETS_BUCKET" in script


@pytest.mark.parametrize("service", ["timescaledb", "minio", "minio-init"])
def test_image_is_pinned_to_a_tag(service):
    image = load_compose()["services"][service]["image"]
    # The tag follows the last ':' after the last '/', so a registry port is not mistaken for one.
    name, _, tag = image.rpartition(":")

    assert name and "/" not in tag, f"{image} has no tag"
    assert tag != "latest"


def test_every_compose_variable_is_in_env_example():
    referenced = {match[1] for match in COMPOSE_INTERPOLATION.finditer(COMPOSE_PATH.read_text())}
    active, _ = parse_env_example()

    assert referenced, "compose should take its credentials from the environment"
    assert referenced <= set(active), f"missing from .env.example: {referenced - set(active)}"


def test_compose_defaults_match_env_example():
    active, _ = parse_env_example()
    defaults = {
        match[1]: match[2] for match in COMPOSE_INTERPOLATION.finditer(COMPOSE_PATH.read_text()) if match[2] is not None
    }

    # Otherwise running compose with and without a copied .env gives different credentials.
    assert {name: active[name] for name in defaults} == defaults


def test_timescaledb_init_config_creates_dagster_database():
    compose = load_compose()
    mounts = compose["services"]["timescaledb"]["configs"]
    init_scripts = [
        compose["configs"][mount["source"]]["content"]
        for mount in mounts
        if mount["target"].startswith("/docker-entrypoint-initdb.d/") and mount["target"].endswith(".sql")
    ]

    assert any(re.search(r"^\s*CREATE DATABASE dagster;", s, re.I | re.M) for s in init_scripts)


@pytest.mark.parametrize("service", LONG_RUNNING_SERVICES)
def test_long_running_service_keeps_data_in_a_declared_named_volume(service):
    compose = load_compose()
    volume_names = [mount.split(":")[0] for mount in compose["services"][service]["volumes"]]

    assert volume_names
    for name in volume_names:
        assert not name.startswith((".", "/", "~")), f"{service} bind-mounts {name}"
        assert name in compose["volumes"]


# --- dagster.yaml ---------------------------------------------------------------------------


def test_dagster_yaml_passes_dagster_instance_loader(tmp_path):
    shutil.copy(DAGSTER_YAML_PATH, tmp_path / "dagster.yaml")

    # The loader DagsterInstance itself uses: schema validation plus the cross-field checks
    # (e.g. `concurrency.runs` vs a legacy `run_queue`) that process_config alone misses.
    config, custom_instance_class = dagster_instance_config(str(tmp_path))

    assert custom_instance_class is None
    assert config["storage"]["postgres"]["postgres_url"] == {"env": "DAGSTER_PG_URL"}


@pytest.fixture
def scratch_database():
    name = f"dagster_cfg_test_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(ADMIN_PG_DSN)
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        yield name
    finally:
        with admin.cursor() as cursor:
            # FORCE: a failed test may leave pooled connections open.
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.mark.parametrize(
    "url_template",
    [
        # Production form: the compose TimescaleDB over TCP.
        "postgresql+psycopg2://postgres@127.0.0.1:5432/{db}",
        # The form the CLI builds for the embedded server: empty host, socket dir as a parameter.
        f"postgresql+psycopg2://postgres:@/{{db}}?host={LOCAL_PG_SOCKET_DIR}",
    ],
    ids=["tcp", "unix-socket"],
)
def test_dagster_yaml_records_runs_in_postgres(tmp_path, monkeypatch, scratch_database, url_template):
    monkeypatch.setenv("DAGSTER_PG_URL", url_template.format(db=scratch_database))
    shutil.copy(DAGSTER_YAML_PATH, tmp_path / "dagster.yaml")

    @dg.asset(pool="source_fred")
    def tiny() -> int:
        return 1

    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        storages = (instance.run_storage, instance.event_log_storage, instance.schedule_storage)
        for storage in storages:
            assert "Postgres" in type(storage).__name__
        assert type(instance.compute_log_manager).__name__ == "LocalComputeLogManager"
        concurrency = instance.get_concurrency_config()
        assert concurrency.run_queue_config.max_concurrent_runs == 4
        assert concurrency.pool_config.default_pool_limit == 2  # per source pool: source_<name>
        assert instance.run_retries_enabled and instance.run_retries_max_retries == 1
        assert not instance.run_retries_retry_on_asset_or_op_failure
        assert not instance.telemetry_enabled

        result = dg.materialize([tiny], instance=instance)

        assert result.success
        assert result.run_id in {run.run_id for run in instance.get_runs()}
        assert instance.get_latest_materialization_event(tiny.key) is not None
        # The step claimed a slot, so the pool exists with the configured default limit.
        assert instance.event_log_storage.get_concurrency_info("source_fred").slot_count == 2

    # Read the row back independently of Dagster: the run landed in the database we created.
    check_dsn = f"postgresql://postgres@127.0.0.1:5432/{scratch_database}"
    with closing(psycopg2.connect(check_dsn)) as conn:
        with conn.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM runs WHERE run_id = %s", (result.run_id,))
            assert cursor.fetchone()[0] == 1


# --- .env.example ---------------------------------------------------------------------------


def test_env_example_lines_are_comments_blanks_or_assignments():
    for number, line in enumerate(ENV_EXAMPLE_PATH.read_text().splitlines(), start=1):
        assert not line.strip() or line.startswith("#") or ASSIGNMENT.match(line), (
            f".env.example line {number} is not a comment, blank or KEY=value: {line!r}"
        )


def test_env_example_names_every_variable():
    active, commented = parse_env_example()

    assert FIXED_VARIABLES <= set(active) | set(commented), f"missing: {FIXED_VARIABLES - set(active) - set(commented)}"


def test_env_example_keeps_fred_api_key_empty():
    active, commented = parse_env_example()

    assert active["FRED_API_KEY"] == ""
    assert "FRED_API_KEY" not in commented


def test_env_example_unchanged_keeps_the_offline_defaults():
    active, commented = parse_env_example()

    assert not OFFLINE_WHEN_UNSET & set(active), "these must stay commented out"
    assert OFFLINE_WHEN_UNSET <= set(commented), "show the compose value, commented out"
    assert active.get("MACRO_ASSETS_MODE", "offline") == "offline"


def test_env_example_service_urls_point_at_compose_services():
    active, commented = parse_env_example()
    warehouse = make_url(commented["MACRO_ASSETS_WAREHOUSE_URL"])
    dagster_storage = make_url(commented["DAGSTER_PG_URL"])

    for url in (warehouse, dagster_storage):
        # Plain postgresql:// would select psycopg 3 under SQLAlchemy 2.1, which is not installed.
        assert url.drivername == "postgresql+psycopg2"
        assert url.username == active["POSTGRES_USER"]
        assert url.password == active["POSTGRES_PASSWORD"]
        assert (url.host, url.port) == ("localhost", 5432)
    assert warehouse.database == active["POSTGRES_DB"]
    assert dagster_storage.database == "dagster"
    bucket = active["MACRO_ASSETS_BUCKET"]
    assert commented["MACRO_ASSETS_OBJECT_STORE_URL"].startswith(f"s3://{bucket}/")
    assert commented["MACRO_ASSETS_S3_ENDPOINT_URL"] == "http://localhost:9000"
    assert commented["AWS_ACCESS_KEY_ID"] == active["MINIO_ROOT_USER"]
    assert commented["AWS_SECRET_ACCESS_KEY"] == active["MINIO_ROOT_PASSWORD"]
