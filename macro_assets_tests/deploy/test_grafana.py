"""Grafana's provisioning (macro_assets/deploy/grafana) as the compose grafana service mounts it: the data source is
the warehouse, every dashboard is valid JSON on that data source, and every panel's SQL runs against a real migrated
warehouse and answers point in time (the latest vintage of each date released by the end of the time range), also
as the read-only role Grafana logs in as."""

import datetime as dt
import json
import re
import subprocess
import uuid
from contextlib import closing
from pathlib import Path

import pandas as pd
import psycopg2
import pytest
import yaml
from sqlalchemy.engine import make_url

from macro_assets.catalog import load_catalog
from macro_assets.provenance import PayloadRecord, QuarantineRecord
from macro_assets.shapes import POSITIONS, SHAPES
from macro_assets.warehouse import connect
from macro_assets_tests.warehouse.cases import CASES, DAY0, Case

REPO_ROOT = Path(__file__).resolve().parents[2]
GRAFANA = REPO_ROOT / "macro_assets" / "deploy" / "grafana"
DATASOURCES = GRAFANA / "provisioning" / "datasources"
DASHBOARD_PROVIDERS = GRAFANA / "provisioning" / "dashboards"
DASHBOARDS = sorted((GRAFANA / "dashboards").glob("*.json"))
READER_SQL = REPO_ROOT / "macro_assets" / "deploy" / "timescaledb" / "grafana_reader.sql"
COMPOSE = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())

# What the issue asks the dashboards to show, by the uid of the dashboard that shows it.
TOPICS = {
    "macro-rates": "BR and US rates",
    "macro-curves": "curves",
    "macro-fx": "FX with 5-minute USD/COP",
    "macro-positioning": "positioning (CFTC COT)",
    "macro-freshness": "data freshness",
}
# A dataset id in a panel's SQL: a quoted '<source>.<code>'.
DATASET_LITERAL = re.compile(r"'([a-z][a-z0-9_]*\.[A-Za-z0-9_]+)'")
T1 = pd.Timestamp("2024-06-03 12:00", tz="UTC")
T2 = pd.Timestamp("2024-07-01 12:00", tz="UTC")
T3 = pd.Timestamp("2024-08-01 12:00", tz="UTC")
RANGE_FROM = pd.Timestamp("2019-01-01", tz="UTC")
# The payload and quarantine panels filter on when a row was archived (now, in these tests).
RANGE_TO = pd.Timestamp.now(tz="UTC").ceil("D") + pd.Timedelta(days=1)
# Rows of any shape from (key index, release time, level): the warehouse tests' builders, plus positions.
CASE_BY_SHAPE = {case.shape.name: case for case in CASES.values()} | {
    "positions": Case(POSITIONS, "positions", "cftc_cot.BRL_legacy", "cftc_cot.MXN_legacy", "long")
}


def datasource() -> dict:
    (path,) = DATASOURCES.glob("*.yaml")
    (source,) = yaml.safe_load(path.read_text())["datasources"]
    return source


def load(path: Path) -> dict:
    return json.loads(path.read_text())


def panel_targets() -> list[tuple[str, dict, dict]]:
    """(dashboard file name, panel, target) for every query of every dashboard."""
    return [
        (path.name, panel, target)
        for path in DASHBOARDS
        for panel in load(path)["panels"]
        for target in panel["targets"]
    ]


def grafana_sql(sql: str, start: pd.Timestamp, end: pd.Timestamp) -> str:
    """The SQL Grafana sends for a range: its macros expanded as the PostgreSQL data source expands them."""

    def instant(moment: pd.Timestamp) -> str:
        return f"'{moment.strftime('%Y-%m-%dT%H:%M:%SZ')}'"

    expanded = re.sub(r"\$__timeFilter\(([^)]+)\)", rf"\1 BETWEEN {instant(start)} AND {instant(end)}", sql)
    expanded = expanded.replace("$__timeFrom()", instant(start)).replace("$__timeTo()", instant(end))
    assert "$" not in expanded, f"a macro or variable this test does not expand: {sql}"
    return expanded


def run(url: str, sql: str, **connect_args) -> tuple[list[str], list[tuple]]:
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with closing(psycopg2.connect(dsn, **connect_args)) as connection, connection.cursor() as cursor:
        cursor.execute(sql)
        return [column.name for column in cursor.description], cursor.fetchall()


def referenced_datasets() -> set[str]:
    return {found for _, _, target in panel_targets() for found in DATASET_LITERAL.findall(target["rawSql"])}


def write_two_vintages_of_every_panel_dataset(url: str) -> None:
    """Each dataset the dashboards name, with keys 0 and 1 at T1 and key 0 revised at T2; one archived payload
    and one quarantined record, so every panel has rows to show."""
    catalog = load_catalog()
    with connect(url) as warehouse:
        for dataset_id in sorted(referenced_datasets()):
            case = CASE_BY_SHAPE[catalog.datasets[dataset_id].shape.name]
            rows = [(i, T1, 1.0 + i) for i in range(4)] + [(0, T2, 2.0)]
            frame = case.frame(rows, dataset=dataset_id)
            if "calculation_basis" in frame:  # the Focus panel shows basis 0 (forecasts of the last 30 days)
                frame["calculation_basis"] = frame["calculation_basis"] * 0
            warehouse.pipeline.append(case.shape, frame)
        payload = PayloadRecord(
            object_key="fred/GDP/test",
            payload_sha256="0" * 64,
            source="fred",
            dataset_id="fred.GDP",
            request="GET https://api.stlouisfed.org/fred/series/observations",
            http_status=200,
            bytes=10,
            window_start=DAY0.date(),
            window_end=DAY0.date(),
            fetched_at=dt.datetime.now(dt.UTC),
        )
        refused = QuarantineRecord("fred", "fred.GDP", "0" * 64, 0, "value", "{}", "not a number")
        case = CASES["observations"]
        warehouse.pipeline.append(case.shape, case.frame([(9, T1, 1.0)]), payloads=[payload], quarantine=[refused])


# --- provisioning ------------------------------------------------------------------------------


def test_datasource_is_the_warehouse_as_the_read_only_role():
    source = datasource()
    grafana = COMPOSE["services"]["grafana"]["environment"]
    timescaledb = COMPOSE["services"]["timescaledb"]["environment"]
    variables = {
        "user": source["user"],
        "password": source["secureJsonData"]["password"],
        "database": source["jsonData"]["database"],
    }

    assert source["type"] == "grafana-postgresql-datasource" and source["isDefault"]
    assert source["url"] == "timescaledb:5432"
    # Grafana expands $VAR from its environment: each comes from the compose grafana service.
    resolved = {key: grafana[value.removeprefix("$")] for key, value in variables.items()}
    assert resolved == {
        "user": timescaledb["GRAFANA_READER_USER"],
        "password": timescaledb["GRAFANA_READER_PASSWORD"],
        "database": timescaledb["POSTGRES_DB"],
    }


def test_dashboard_provider_reads_the_mounted_dashboards():
    (path,) = DASHBOARD_PROVIDERS.glob("*.yaml")
    (provider,) = yaml.safe_load(path.read_text())["providers"]
    mounts = dict(mount.split(":")[:2] for mount in COMPOSE["services"]["grafana"]["volumes"])

    assert provider["type"] == "file" and not provider["allowUiUpdates"]
    assert mounts["./macro_assets/deploy/grafana/provisioning"] == "/etc/grafana/provisioning"
    assert mounts["./macro_assets/deploy/grafana/dashboards"] == provider["options"]["path"]
    assert {load(path)["uid"] for path in DASHBOARDS} == set(TOPICS)


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda path: path.name)
def test_dashboard_is_valid_and_queries_the_provisioned_datasource(path):
    dashboard = load(path)
    uid = datasource()["uid"]
    panel_ids = [panel["id"] for panel in dashboard["panels"]]

    assert dashboard["title"] and dashboard["panels"]
    assert len(panel_ids) == len(set(panel_ids)), f"{path.name}: panel ids repeat"
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == uid, f"{path.name}: {panel['title']}"
        assert set(panel["gridPos"]) == {"x", "y", "w", "h"}
        ref_ids = [target["refId"] for target in panel["targets"]]
        assert ref_ids and len(ref_ids) == len(set(ref_ids))
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == uid and target["rawQuery"]
            assert target["format"] in {"time_series", "table"}


def test_panels_name_only_catalog_datasets():
    unknown = referenced_datasets() - set(load_catalog().datasets)

    assert not unknown, f"datasets the catalog does not have: {sorted(unknown)}"
    fx = " ".join(target["rawSql"] for name, _, target in panel_targets() if name == "fx.json")
    assert "'twelvedata.USDCOP_5min'" in fx
    freshness = " ".join(target["rawSql"] for name, _, target in panel_targets() if name == "freshness.json")
    for shape in SHAPES.values():  # a new shape's table shows up in the freshness dashboard or fails here
        assert re.search(rf"\bFROM {shape.table}\b", freshness), shape.table


# --- the SQL against a real warehouse ------------------------------------------------------------


def test_every_panel_query_runs_and_shows_one_row_per_date_and_series(warehouse_url):
    write_two_vintages_of_every_panel_dataset(warehouse_url)
    problems = {}
    for name, panel, target in panel_targets():
        where = f"{name}: {panel['title']} ({target['refId']})"
        try:
            columns, rows = run(warehouse_url, grafana_sql(target["rawSql"], RANGE_FROM, RANGE_TO))
        except psycopg2.Error as error:
            problems[where] = str(error).strip()
            continue
        if not rows:
            problems[where] = "no rows"
        if target["format"] == "time_series":
            keys = [(row[columns.index("time")], row[columns.index("metric")]) for row in rows]
            if columns[:2] != ["time", "metric"] or len(keys) != len(set(keys)):
                problems[where] = f"not one value per (time, metric): {columns}"

    assert not problems, problems


def test_a_rates_panel_shows_what_was_known_at_the_end_of_the_range(system_warehouse_url):
    case = CASES["observations"]
    with connect(system_warehouse_url) as warehouse:
        # Day 0 revised at T2; day 1 withdrawn at T3 (ALFRED "."): as_of then omits the date.
        rows = [(0, T1, 11.25), (1, T1, 11.5), (0, T2, 11.0), (1, T3, None)]
        warehouse.pipeline.append(case.shape, case.frame(rows, dataset="bcb_sgs.432"))
    (sql,) = [t["rawSql"] for name, _, t in panel_targets() if name == "rates.json" and "'bcb_sgs.432'" in t["rawSql"]]

    def shown(end: pd.Timestamp) -> dict:
        _, answer = run(system_warehouse_url, grafana_sql(sql, RANGE_FROM, end))
        return {(moment.date(), metric): value for moment, metric, value in answer}

    day0, day1 = DAY0.date(), (DAY0 + pd.Timedelta(days=1)).date()
    assert shown(T1 - pd.Timedelta(seconds=1)) == {}
    assert shown(T2 - pd.Timedelta(seconds=1)) == {(day0, "bcb_sgs.432"): 11.25, (day1, "bcb_sgs.432"): 11.5}
    assert shown(T2) == {(day0, "bcb_sgs.432"): 11.0, (day1, "bcb_sgs.432"): 11.5}
    assert shown(T3) == {(day0, "bcb_sgs.432"): 11.0}


@pytest.fixture
def grafana_reader(system_warehouse_url):
    """The role the timescaledb init script creates, made by the same SQL file through psql, on a fresh database
    whose tables the migrations then create (as the init script runs before the app's first connect)."""
    url = make_url(system_warehouse_url)
    role, password = f"grafana_reader_{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    psql = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", url.host, "-p", str(url.port), "-U", url.username]
    variables = ["--set", f"reader={role}", "--set", f"password={password}", "--set", f"owner={url.username}"]
    created = subprocess.run(
        [*psql, "-d", url.database, *variables, "--file", str(READER_SQL)], capture_output=True, text=True
    )
    assert created.returncode == 0, created.stderr
    try:
        yield url.set(username=role, password=password).render_as_string(hide_password=False)
    finally:
        subprocess.run([*psql, "-d", url.database, "-c", f'DROP OWNED BY "{role}"'], check=True)
        subprocess.run([*psql, "-d", "postgres", "-c", f'DROP ROLE "{role}"'], check=True)


def test_the_grafana_reader_runs_every_panel_and_writes_nothing(system_warehouse_url, grafana_reader):
    write_two_vintages_of_every_panel_dataset(system_warehouse_url)

    for name, panel, target in panel_targets():
        _, rows = run(grafana_reader, grafana_sql(target["rawSql"], RANGE_FROM, RANGE_TO))
        assert rows, f"{name}: {panel['title']}"
    insert = "INSERT INTO quarantine (source, dataset_id, payload_sha256, record_index, field, raw_record, reason) "
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        run(grafana_reader, insert + "VALUES ('x', 'x.y', 'x', 0, 'x', 'x', 'x')")
