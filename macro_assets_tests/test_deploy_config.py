"""Checks for the deployment files: docker-compose.yml, dagster.yaml, workspace files and .env.example.

No Docker engine runs where these tests run, so the compose file is checked structurally, and every command a
service runs is checked against the project: the executable is a console script of a declared dependency, its
subcommands and options exist, the modules and files it names exist; the code server's command is run for real.
dagster.yaml is checked with Dagster's own loader, then used for a real run on local PostgreSQL.
"""

import functools
import importlib
import importlib.util
import re
import shutil
import socket
import subprocess
import sys
import time
import tomllib
import uuid
from contextlib import closing
from importlib.metadata import entry_points
from pathlib import Path

import dagster as dg
import psycopg2
import pytest
import yaml
from dagster._core.instance.config import dagster_instance_config
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from sqlalchemy.engine import make_url

REPO_ROOT = Path(__file__).resolve().parents[1]
COMPOSE_PATH = REPO_ROOT / "docker-compose.yml"
DAGSTER_YAML_PATH = REPO_ROOT / "dagster.yaml"
ENV_EXAMPLE_PATH = REPO_ROOT / ".env.example"
WORKSPACE_PATH = REPO_ROOT / "workspace.yaml"
VENV_BIN = Path(sys.executable).parent

FIXED_VARIABLES = {
    "MACRO_ASSETS_HOME",
    "MACRO_ASSETS_WAREHOUSE_URL",
    "MACRO_ASSETS_OBJECT_STORE_URL",
    "MACRO_ASSETS_S3_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_REGION",
    "MACRO_ASSETS_MODE",
    "MACRO_ASSETS_RECORDINGS",
    "FRED_API_KEY",
    "DAGSTER_HOME",
    "DAGSTER_PG_URL",
    "POSTGRES_USER",
    "POSTGRES_PASSWORD",
    "POSTGRES_DB",
    "MINIO_ROOT_USER",
    "MINIO_ROOT_PASSWORD",
    "MACRO_ASSETS_BUCKET",
    "MACRO_ASSETS_REDIS_URL",
    "MACRO_ASSETS_API_JWT_SECRET",
    "GRAFANA_READER_USER",
    "GRAFANA_READER_PASSWORD",
    "GF_SECURITY_ADMIN_USER",
    "GF_SECURITY_ADMIN_PASSWORD",
}
# Set, any of these replaces an embedded offline default with a compose service.
OFFLINE_WHEN_UNSET = {
    "MACRO_ASSETS_WAREHOUSE_URL",
    "MACRO_ASSETS_OBJECT_STORE_URL",
    "DAGSTER_PG_URL",
    "MACRO_ASSETS_REDIS_URL",
}
STACK = {
    "timescaledb",
    "minio",
    "minio-init",
    "redis",
    "dagster-user-code",
    "dagster-webserver",
    "dagster-daemon",
    "api",
    "grafana",
}
ADMIN_PG_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
LOCAL_PG_SOCKET_DIR = "/var/run/postgresql"

ASSIGNMENT = re.compile(r"^([A-Z][A-Z0-9_]*)=(.*)$")
COMMENTED_ASSIGNMENT = re.compile(r"^#\s*([A-Z][A-Z0-9_]*)=(.*)$")
# `$${VAR}` is compose's escape for a variable the container's shell expands, not compose.
COMPOSE_INTERPOLATION = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}")
COMPOSE_DURATION = re.compile(r"^\d+(us|ms|s|m|h)$")
# `module.path:attribute`, as uvicorn --factory and Dagster's -a take it.
IMPORT_STRING = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


def load_compose() -> dict:
    return yaml.safe_load(COMPOSE_PATH.read_text())


def long_running(compose: dict) -> list[str]:
    """Every service but the one-shot ones (restart "no": they run a task and exit)."""
    return sorted(name for name, service in compose["services"].items() if service.get("restart") != "no")


def app_services(compose: dict) -> list[str]:
    """The services that run the project's image (built from the project's files)."""
    return sorted(name for name, service in compose["services"].items() if "build" in service)


LONG_RUNNING_SERVICES = long_running(load_compose())
APP_SERVICES = app_services(load_compose())
PULLED_SERVICES = sorted(name for name, service in load_compose()["services"].items() if "build" not in service)


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


def interpolated(value: str) -> str:
    """A compose value as `docker compose` resolves it with .env copied from .env.example."""
    active, _ = parse_env_example()
    return COMPOSE_INTERPOLATION.sub(lambda match: active[match[1]], value).replace("$$", "$")


def app_environment(service: str) -> dict[str, str]:
    environment = load_compose()["services"][service]["environment"]
    return {name: interpolated(str(value)) for name, value in environment.items()}


def dockerfile(service: str) -> str:
    return load_compose()["services"][service]["build"]["dockerfile_inline"]


def container_workdir(service: str) -> str:
    (workdir,) = re.findall(r"^WORKDIR\s+(\S+)\s*$", dockerfile(service), re.M)
    return workdir


def project_path(service: str, container_path: str) -> Path:
    """The repository file that the image holds at `container_path` (the project is copied to WORKDIR)."""
    workdir = container_workdir(service)
    assert container_path.startswith(workdir + "/"), f"{container_path} is outside the project dir {workdir}"
    return REPO_ROOT / container_path.removeprefix(workdir + "/")


def option_value(command: list[str], *names: str) -> str:
    positions = [i for i, token in enumerate(command) if token in names]
    assert len(positions) == 1, f"expected one of {names} once in {command}"
    return command[positions[0] + 1]


@functools.cache
def declared_distributions() -> frozenset[str]:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    return frozenset(canonicalize_name(Requirement(line).name) for line in project["dependencies"])


@functools.cache
def help_text(executable: str, subcommands: tuple[str, ...]) -> str:
    result = subprocess.run(
        [str(VENV_BIN / executable), *subcommands, "--help"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, f"`{executable} {' '.join(subcommands)}` does not exist: {result.stderr[-2000:]}"
    return result.stdout


def check_project_command(service: str, command: list[str]) -> None:
    """The command runs in the image: its executable is a console script of a dependency the image installs
    (pyproject [project.dependencies]), its subcommands and options exist, the modules, import strings and
    project files it names exist."""
    executable, *arguments = command
    scripts = entry_points(group="console_scripts", name=executable)
    assert scripts, f"{service}: {executable} is no installed console script"
    (script,) = scripts
    assert canonicalize_name(script.dist.name) in declared_distributions(), (
        f"{service}: {executable} comes from {script.dist.name}, which pyproject.toml does not declare"
    )
    leading = []
    for token in arguments:
        if token.startswith("-"):
            break
        leading.append(token)
    usage = help_text(executable, tuple(leading))
    for token in arguments:
        if token.startswith("-"):
            option = token.split("=", 1)[0]
            assert re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", usage), f"{service}: {command} {option}"
    for name in ("-m", "--module-name"):
        if name in arguments:
            module = option_value(arguments, name)
            assert importlib.util.find_spec(module), f"{service}: module {module} is not importable"
    for token in arguments:
        if IMPORT_STRING.match(token):
            module, _, attribute = token.partition(":")
            assert callable(getattr(importlib.import_module(module), attribute, None)), f"{service}: {token}"
        if token.startswith("/") and service in APP_SERVICES:
            assert project_path(service, token).is_file(), f"{service}: {token} is not in the project"


def free_port() -> int:
    with closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- docker-compose.yml ---------------------------------------------------------------------


def test_compose_defines_the_full_stack_without_version_key():
    compose = load_compose()

    assert "version" not in compose, "the Compose spec ignores `version:`; remove it"
    assert set(compose["services"]) == STACK
    assert app_services(compose) == ["api", "dagster-daemon", "dagster-user-code", "dagster-webserver"]


@pytest.mark.parametrize("service", LONG_RUNNING_SERVICES)
def test_long_running_service_has_healthcheck(service):
    healthcheck = load_compose()["services"][service]["healthcheck"]

    assert healthcheck["test"][0] in {"CMD", "CMD-SHELL"} and len(healthcheck["test"]) > 1
    for key in ("interval", "timeout", "start_period"):
        assert COMPOSE_DURATION.match(healthcheck[key]), f"{service} healthcheck {key}"
    assert isinstance(healthcheck["retries"], int) and healthcheck["retries"] > 0


@pytest.mark.parametrize("service", LONG_RUNNING_SERVICES)
def test_long_running_service_restarts_unless_stopped(service):
    assert load_compose()["services"][service]["restart"] == "unless-stopped"


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


def assert_pinned(image: str) -> None:
    # The tag follows the last ':' after the last '/', so a registry port is not mistaken for one.
    name, _, tag = image.rpartition(":")

    assert name and "/" not in tag, f"{image} has no tag"
    assert tag != "latest" and re.search(r"\d", tag), f"{image} is not pinned to a version"


@pytest.mark.parametrize("service", PULLED_SERVICES)
def test_image_is_pinned_to_a_tag(service):
    assert_pinned(load_compose()["services"][service]["image"])


@pytest.mark.parametrize("service", APP_SERVICES)
def test_app_image_is_built_from_the_project_on_a_pinned_base(service):
    compose = load_compose()
    build = compose["services"][service]["build"]
    lines = dockerfile(service).splitlines()
    copied = [part for line in lines if line.startswith("COPY ") for part in line.split()[1:-1]]

    assert build["context"] == "."
    (base,) = [line.split()[1] for line in lines if line.startswith("FROM ")]
    assert_pinned(base)
    assert_pinned(compose["services"][service]["image"])
    assert {"pyproject.toml", "setup.py", "macro_assets", "sql"} <= set(copied)
    assert all((REPO_ROOT / part).exists() for part in copied)
    # Editable: the migrations are read from the project's sql/ beside the package (warehouse/migrations.py).
    assert any(re.search(r"\bpip install -e \.(\s|$)", line) for line in lines)
    # One image for every app service: built once, started four times.
    assert len({str(compose["services"][name]["build"]) for name in APP_SERVICES}) == 1


def test_published_ports_bind_to_loopback():
    published = {name: service["ports"] for name, service in load_compose()["services"].items() if "ports" in service}

    assert set(published) >= {"timescaledb", "minio", "redis", "dagster-webserver", "api", "grafana"}
    host_ports = []
    for service, ports in published.items():
        for mapping in ports:
            host, host_port, container_port = str(mapping).split(":")
            assert host == "127.0.0.1", f"{service} publishes {mapping} beyond localhost"
            host_ports.append(host_port)
    assert len(host_ports) == len(set(host_ports)), f"two services publish one host port: {sorted(host_ports)}"


@pytest.mark.parametrize("service", ["timescaledb", "minio", "grafana"])
def test_stateful_service_keeps_data_in_a_declared_named_volume(service):
    compose = load_compose()
    volume_names = [mount.split(":")[0] for mount in compose["services"][service]["volumes"]]
    named = [name for name in volume_names if not name.startswith((".", "/", "~"))]

    assert named
    for name in named:
        assert name in compose["volumes"]


def test_every_mount_is_a_declared_volume_or_a_project_path():
    compose = load_compose()
    for service_name, service in compose["services"].items():
        for mount in service.get("volumes", []):
            source, target, *mode = mount.split(":")
            if source.startswith("."):
                assert (REPO_ROOT / source).exists(), f"{service_name} mounts {source}, which is not in the project"
                assert mode == ["ro"], f"{service_name} mounts project files writable: {mount}"
            else:
                assert not source.startswith(("/", "~")), f"{service_name} bind-mounts a host path: {mount}"
                assert source in compose["volumes"], f"{service_name}: volume {source} is not declared"
        for config in service.get("configs", []):
            assert config["source"] in compose["configs"], f"{service_name}: config {config['source']}"
    for name, config in compose["configs"].items():
        assert "content" in config or (REPO_ROOT / config["file"]).is_file(), f"config {name}"


def test_dagster_services_share_compute_logs_and_the_instance():
    compose = load_compose()
    dagster_services = ["dagster-user-code", "dagster-webserver", "dagster-daemon"]
    dagster_home = app_environment("dagster-user-code")["DAGSTER_HOME"]

    assert compose["configs"]["dagster-instance"]["file"] == "./dagster.yaml"
    for name in dagster_services:
        service = compose["services"][name]
        assert {"source": "dagster-instance", "target": f"{dagster_home}/dagster.yaml"} in service["configs"]
        # The runs execute in the code server; the webserver reads their compute logs from the same volume.
        assert f"dagster-storage:{dagster_home}/storage" in service["volumes"]
        assert app_environment(name)["DAGSTER_HOME"] == dagster_home


def test_depends_on_waits_on_a_condition_the_dependency_can_meet():
    compose = load_compose()
    waits = {}
    for name, service in compose["services"].items():
        for dependency, rule in service.get("depends_on", {}).items():
            target = compose["services"][dependency]
            waits[name, dependency] = rule["condition"]
            if rule["condition"] == "service_healthy":
                assert "healthcheck" in target, f"{name} waits for {dependency} to be healthy, which it cannot report"
            else:
                assert rule["condition"] == "service_completed_successfully" and target.get("restart") == "no"
    for service in APP_SERVICES:
        assert waits[service, "timescaledb"] == "service_healthy"
    for service in ("dagster-webserver", "dagster-daemon"):
        assert waits[service, "dagster-user-code"] == "service_healthy"
    assert waits["dagster-user-code", "minio-init"] == "service_completed_successfully"
    assert waits["api", "redis"] == "service_healthy"
    assert waits["grafana", "timescaledb"] == "service_healthy"


@pytest.mark.parametrize("service", APP_SERVICES)
def test_service_command_exists_in_the_project(service):
    check_project_command(service, load_compose()["services"][service]["command"])


@pytest.mark.parametrize("service", APP_SERVICES)
def test_app_healthcheck_probes_the_port_the_service_serves(service):
    compose = load_compose()
    command = compose["services"][service]["command"]
    probe = compose["services"][service]["healthcheck"]["test"]

    assert probe[0] == "CMD"
    if probe[1] == "python":  # an HTTP GET with the standard library (the slim image has no curl)
        compile(probe[3], f"{service} healthcheck", "exec")
        (port,) = re.findall(r"http://127\.0\.0\.1:(\d+)/", probe[3])
        assert port == option_value(command, "-p", "--port")
    else:
        check_project_command(service, probe[1:])
        if "-p" in probe:
            assert option_value(probe, "-p") == option_value(command, "-p")


def test_api_healthcheck_asks_a_route_the_api_serves_without_credentials():
    from macro_assets.api import routes

    probe = load_compose()["services"]["api"]["healthcheck"]["test"][3]
    (path,) = re.findall(r"http://127\.0\.0\.1:\d+(/\S*?)'", probe)

    assert path in {route.path for route in routes.health_router.routes}


def test_app_environment_points_at_the_compose_services():
    from macro_assets.api.config import REDIS_URL_VARIABLE
    from macro_assets.cli.main import FAST_EVENTS

    active, _ = parse_env_example()
    for service in APP_SERVICES:
        environment = app_environment(service)
        warehouse = make_url(environment["MACRO_ASSETS_WAREHOUSE_URL"])
        dagster_storage = make_url(environment["DAGSTER_PG_URL"])
        for url in (warehouse, dagster_storage):
            assert url.drivername == "postgresql+psycopg2"
            assert (url.username, url.password) == (active["POSTGRES_USER"], active["POSTGRES_PASSWORD"])
            assert (url.host, url.port) == ("timescaledb", 5432)
        assert warehouse.database == active["POSTGRES_DB"]
        assert dagster_storage.database == "dagster"  # the database the timescaledb init config creates
        assert environment["MACRO_ASSETS_OBJECT_STORE_URL"] == f"s3://{active['MACRO_ASSETS_BUCKET']}/"
        assert environment["MACRO_ASSETS_S3_ENDPOINT_URL"] == "http://minio:9000"
        assert environment["AWS_ACCESS_KEY_ID"] == active["MINIO_ROOT_USER"]
        assert environment["AWS_SECRET_ACCESS_KEY"] == active["MINIO_ROOT_PASSWORD"]
        assert environment["MACRO_ASSETS_MODE"] == "offline"
        # The processes that create and execute runs write events the way `macro-assets materialize` does.
        assert FAST_EVENTS.items() <= environment.items()
    assert app_environment("api")[REDIS_URL_VARIABLE] == "redis://redis:6379/0"


def test_timescaledb_init_config_creates_dagster_database():
    compose = load_compose()
    mounts = compose["services"]["timescaledb"]["configs"]
    init_scripts = [
        compose["configs"][mount["source"]]["content"]
        for mount in mounts
        if mount["target"].startswith("/docker-entrypoint-initdb.d/") and mount["target"].endswith(".sql")
    ]

    assert any(re.search(r"^\s*CREATE DATABASE dagster;", s, re.I | re.M) for s in init_scripts)


def test_timescaledb_init_creates_the_grafana_reader_that_grafana_logs_in_as():
    compose = load_compose()
    timescaledb = compose["services"]["timescaledb"]
    targets = {mount["target"]: mount["source"] for mount in timescaledb["configs"]}
    script = compose["configs"][targets["/docker-entrypoint-initdb.d/200-create-grafana-reader.sh"]]["content"]
    (sql_file,) = re.findall(r"--file (\S+)", script)

    assert compose["configs"][targets[sql_file]]["file"] == "./macro_assets/deploy/timescaledb/grafana_reader.sql"
    for variable, value in {"reader": "GRAFANA_READER_USER", "password": "GRAFANA_READER_PASSWORD"}.items():
        assert f'--set {variable}="$${{{value}}}"' in script
        assert timescaledb["environment"][value] == compose["services"]["grafana"]["environment"][value]
    assert '--set owner="$${POSTGRES_USER}"' in script  # the role the app's migrations create the tables as


def test_every_compose_variable_is_in_env_example():
    text = COMPOSE_PATH.read_text()
    referenced = {match[1] for match in COMPOSE_INTERPOLATION.finditer(text)}
    active, _ = parse_env_example()

    assert referenced, "compose should take its credentials from the environment"
    assert referenced <= set(active), f"missing from .env.example: {referenced - set(active)}"
    # Every ${...} is one the pattern above reads (a default or none): a required ${VAR:?} would stop
    # `docker compose up timescaledb` too, for the whole file is interpolated at once.
    assert len(re.findall(r"(?<!\$)\$\{", text)) == len(COMPOSE_INTERPOLATION.findall(text))


def test_compose_defaults_match_env_example():
    active, _ = parse_env_example()
    defaults = {
        match[1]: match[2] for match in COMPOSE_INTERPOLATION.finditer(COMPOSE_PATH.read_text()) if match[2] is not None
    }

    # Otherwise running compose with and without a copied .env gives different credentials.
    assert {name: active[name] for name in defaults} == defaults


# --- workspace files ------------------------------------------------------------------------


def compose_workspace_path(service: str) -> Path:
    return project_path(service, option_value(load_compose()["services"][service]["command"], "-w", "--workspace"))


@pytest.mark.parametrize("service", ["dagster-webserver", "dagster-daemon"])
def test_webserver_and_daemon_load_the_code_location_from_the_code_server(service):
    compose = load_compose()
    code_server = compose["services"]["dagster-user-code"]["command"]
    (entry,) = yaml.safe_load(compose_workspace_path(service).read_text())["load_from"]
    (local,) = yaml.safe_load(WORKSPACE_PATH.read_text())["load_from"]
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["dagster"]

    assert entry["grpc_server"]["host"] == "dagster-user-code"
    assert str(entry["grpc_server"]["port"]) == option_value(code_server, "-p")
    assert option_value(code_server, "-h") == "0.0.0.0"  # reachable from the other containers
    # One code location name everywhere, so runs and schedules keep their identity between local and compose.
    names = {entry["grpc_server"]["location_name"], local["python_module"]["location_name"]}
    assert names == {pyproject["code_location_name"]}
    assert option_value(code_server, "-m") == local["python_module"]["module_name"] == pyproject["module_name"]


def test_code_server_command_serves_the_definitions_to_the_compose_workspace(tmp_path):
    """The dagster-user-code command and health check run for real on loopback, and the compose workspace file
    (its host pointed at loopback) loads the code location from that server."""
    compose = load_compose()
    service = compose["services"]["dagster-user-code"]
    port = str(free_port())
    command = [port if t == "4000" else "127.0.0.1" if t == "0.0.0.0" else t for t in service["command"]]
    probe = [port if t == "4000" else t for t in service["healthcheck"]["test"][1:]]
    workspace = yaml.safe_load(compose_workspace_path("dagster-webserver").read_text())
    workspace["load_from"][0]["grpc_server"] |= {"host": "127.0.0.1", "port": int(port)}
    (tmp_path / "workspace.yaml").write_text(yaml.safe_dump(workspace))
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen(
        [str(VENV_BIN / command[0]), *command[1:]], cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            # Probe the port cheaply while the server loads the definitions; then the health check itself.
            with closing(socket.socket()) as client:
                listening = client.connect_ex(("127.0.0.1", int(port))) == 0
            if listening:
                healthy = subprocess.run([str(VENV_BIN / probe[0]), *probe[1:]], capture_output=True, text=True)
                if healthy.returncode == 0:
                    break
            assert time.monotonic() < deadline and server.poll() is None, (tmp_path / "server.log").read_text()[-3000:]
            time.sleep(0.5)

        validated = subprocess.run(
            [str(VENV_BIN / "dagster"), "definitions", "validate", "-w", str(tmp_path / "workspace.yaml")],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=180,
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
    assert validated.returncode == 0, validated.stdout + validated.stderr
    assert "macro_assets" in validated.stdout + validated.stderr


# --- dagster.yaml ---------------------------------------------------------------------------

SOURCE_RUN_LIMIT = {"key": "macro_assets/source", "value": {"applyLimitPerUniqueValue": True}, "limit": 1}
BACKFILL_RUN_LIMIT = {"key": "dagster/backfill", "limit": 2}


def test_dagster_yaml_passes_dagster_instance_loader(tmp_path):
    shutil.copy(DAGSTER_YAML_PATH, tmp_path / "dagster.yaml")

    # The loader DagsterInstance itself uses: schema validation plus the cross-field checks
    # (e.g. `concurrency.runs` vs a legacy `run_queue`) that process_config alone misses.
    config, custom_instance_class = dagster_instance_config(str(tmp_path))

    assert custom_instance_class is None
    assert config["storage"]["postgres"]["postgres_url"] == {"env": "DAGSTER_PG_URL"}
    assert config["concurrency"]["runs"]["tag_concurrency_limits"] == [SOURCE_RUN_LIMIT, BACKFILL_RUN_LIMIT]


def test_run_limit_per_source_uses_the_source_tag_of_the_dataset_assets():
    from macro_assets.catalog import load_catalog
    from macro_assets.definitions import defs

    key = SOURCE_RUN_LIMIT["key"]
    for dataset_id, dataset in load_catalog().datasets.items():
        op_tags = defs.resolve_assets_def(dg.AssetKey(dataset.id.asset_path)).op.tags
        assert op_tags.get(key) == dataset.source, f"{dataset_id}: op tag {key}"


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
        assert isinstance(instance.run_coordinator, dg.QueuedRunCoordinator)
        concurrency = instance.get_concurrency_config()
        assert concurrency.run_queue_config.max_concurrent_runs == 4
        limits = concurrency.run_queue_config.tag_concurrency_limits
        assert [dict(limit) for limit in limits] == [SOURCE_RUN_LIMIT, BACKFILL_RUN_LIMIT]
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


def secret_variables() -> set[str]:
    """The credentials the package reads, from the constants that read them: the sources' keys, the JWT secret."""
    from macro_assets.api.config import JWT_SECRET_VARIABLE
    from macro_assets.sources import cftc_cot, databento, fred, twelvedata

    sources = {fred.API_KEY_ENV, twelvedata.API_KEY_ENV, databento.API_KEY_ENV, cftc_cot.APP_TOKEN_ENV}
    return sources | {JWT_SECRET_VARIABLE}


def variables_the_app_reads() -> set[str]:
    """The names the package reads beside settings.py's, from the constants that read them."""
    from macro_assets.api.config import REDIS_URL_VARIABLE, REPLICA_URL_VARIABLE
    from macro_assets.defs.executors import CELERY_BACKEND_ENV, CELERY_BROKER_ENV

    return secret_variables() | {REDIS_URL_VARIABLE, REPLICA_URL_VARIABLE, CELERY_BROKER_ENV, CELERY_BACKEND_ENV}


def test_env_example_lines_are_comments_blanks_or_assignments():
    for number, line in enumerate(ENV_EXAMPLE_PATH.read_text().splitlines(), start=1):
        assert not line.strip() or line.startswith("#") or ASSIGNMENT.match(line), (
            f".env.example line {number} is not a comment, blank or KEY=value: {line!r}"
        )


def test_env_example_names_every_variable():
    active, commented = parse_env_example()
    expected = FIXED_VARIABLES | variables_the_app_reads()

    assert expected <= set(active) | set(commented), f"missing: {expected - set(active) - set(commented)}"


def test_env_example_names_only_variables_something_reads():
    active, commented = parse_env_example()
    compose = {match[1] for match in COMPOSE_INTERPOLATION.finditer(COMPOSE_PATH.read_text())}

    assert set(active) | set(commented) <= FIXED_VARIABLES | variables_the_app_reads() | compose


def test_env_example_keeps_every_secret_empty():
    active, commented = parse_env_example()

    for name in secret_variables():
        assert active[name] == "", f"{name} must stay empty in .env.example"
        assert name not in commented


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
    redis_port = load_compose()["services"]["redis"]["ports"][0].split(":")[1]
    assert commented["MACRO_ASSETS_REDIS_URL"] == f"redis://localhost:{redis_port}/0"
