"""The read API over HTTP on loopback: every shape and verb against the Python reader, the formats, pagination,
the error mapping, the dashboard and the catalog; real uvicorn, PostgreSQL and Redis."""

from __future__ import annotations

import httpx
import pandas as pd
import pyarrow as pa
import pytest

from macro_assets.api.app import open_database
from macro_assets.api.auth import ApiKeys
from macro_assets.api.config import ApiSettings
from macro_assets.shapes import SHAPES
from macro_assets_tests.conftest import SYSTEM_PG, _create_database

from .conftest import DATASETS, case_of, serving

T1, T2, T3 = (pd.Timestamp(t, tz="UTC") for t in ("2024-01-02 21:00", "2024-01-03 21:00", "2024-01-04 21:00"))
AT_T1 = "2024-01-02T21:00:00Z"


@pytest.fixture(scope="module")
def every_shape(warehouse) -> None:
    """Two keys of each shape's catalog dataset: key 0 revised at T2, key 1 released once."""
    for shape in SHAPES:
        case = case_of(shape)
        warehouse.pipeline.append(shape, case.frame([(0, T1, 1.0), (0, T2, 2.0), (1, T1, 5.0)]))


def arrow_of(response) -> pa.Table:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/vnd.apache.arrow.stream"
    return pa.ipc.open_stream(response.content).read_all()


@pytest.mark.parametrize("shape", list(SHAPES))
def test_every_shape_answers_every_verb_as_the_python_reader_does(shape, every_shape, client, warehouse):
    reader_name, dataset = DATASETS[shape]
    reader = getattr(warehouse, reader_name)
    arrow = {"format": "arrow"}
    reads = {
        "as-of": ({"as_of": AT_T1}, reader.as_of(dataset, as_of=AT_T1, output="arrow")),
        "latest": ({}, reader.latest(dataset, output="arrow")),
        "first-release": ({}, reader.first_release(dataset, output="arrow")),
        "vintages": ({"as_of": AT_T1}, reader.vintages(dataset, as_of=AT_T1, output="arrow")),
    }
    for verb, (params, expected) in reads.items():
        assert arrow_of(client.get(f"/v1/datasets/{dataset}/{verb}", params={**params, **arrow})).equals(expected)

    dates = arrow_of(client.get(f"/v1/datasets/{dataset}/vintage-dates", params=arrow))
    assert dates.column("release_time").to_pylist() == [T1.to_pydatetime(), T2.to_pydatetime()]
    info = client.get(f"/v1/datasets/{dataset}").json()
    assert (info["id"], info["shape"], info["keys"], info["vintages"]) == (dataset, shape, 2, 3)
    assert info["last_release_time"] == T2.isoformat()


def test_json_is_the_default_with_the_values_known_at_each_instant(every_shape, client):
    def values(verb, **params):
        response = client.get(f"/v1/datasets/fred.GDP/{verb}", params=params)
        assert response.status_code == 200 and response.headers["content-type"] == "application/json"
        return [(row["obs_date"], row["value"]) for row in response.json()["rows"]]

    assert values("latest") == [("2020-01-01", 2.0), ("2020-01-02", 5.0)]
    assert values("as-of", as_of=AT_T1) == [("2020-01-01", 1.0), ("2020-01-02", 5.0)]
    assert values("as-of", as_of="2024-01-01") == []
    assert values("first-release", end="2020-01-01") == [("2020-01-01", 1.0)]
    assert values("vintages", start="2020-01-01", end="2020-01-01") == [("2020-01-01", 1.0), ("2020-01-01", 2.0)]
    body = client.get("/v1/datasets/fred.GDP/as-of", params={"as_of": AT_T1}).json()
    assert {k: body[k] for k in ("dataset", "shape", "verb", "as_of", "total", "next")} == {
        "dataset": "fred.GDP",
        "shape": "observations",
        "verb": "as_of",
        "as_of": "2024-01-02T21:00:00+00:00",
        "total": 2,
        "next": None,
    }


def test_bars_resample_at_read_time(every_shape, client, warehouse):
    response = client.get("/v1/datasets/yahoo.USDBRL_1d/latest", params={"resample": "1d", "format": "arrow"})
    resampled = arrow_of(response)
    assert resampled.num_rows == 1  # both hourly bars fall on one UTC day
    assert resampled.equals(warehouse.bars.as_of("yahoo.USDBRL_1d", resample="1d", output="arrow"))


def test_errors_map_onto_status_codes_with_one_json_body(client):
    def error(path, **params):
        response = client.get(path, params=params)
        return response.status_code, response.json()["error"]["code"], response.json()["error"]["message"]

    assert error("/v1/datasets/fred.NOPE/latest") == (
        404,
        "unknown_dataset",
        "unknown dataset 'fred.NOPE': GET /v1/datasets lists the known ones",
    )
    status, code, message = error("/v1/datasets/fred.GDP/as-of", as_of="not a date")
    assert (status, code) == (422, "invalid_input") and message.startswith("as_of: 'not a date' is not a date")
    assert error("/v1/datasets/fred.GDP/as-of")[:2] == (422, "invalid_input")  # as_of is required there
    assert error("/v1/datasets/fred.GDP/latest", start="2020-02-01", end="2020-01-01")[:2] == (422, "invalid_input")
    assert error("/v1/datasets/fred.GDP/latest", resample="1h")[2] == (
        "resample: for bars only; fred.GDP holds observations"
    )
    assert error("/v1/datasets/yahoo.USDBRL_1d/latest", resample="1 week")[:2] == (422, "invalid_input")
    assert error("/v1/datasets/fred.GDP/latest", limit=0) == (422, "invalid_input", "limit: " + _too_small(1))
    assert error("/v1/datasets/fred.GDP/latest", format="xml")[:2] == (422, "invalid_input")
    assert error("/v1/nothing/here")[:2] == (404, "not_found")


def _too_small(bound: int) -> str:
    return f"Input should be greater than or equal to {bound}"


def test_a_catalog_dataset_not_yet_stored_reads_empty(client):
    body = client.get("/v1/datasets/fred.PAYEMS/latest").json()
    assert (body["total"], body["rows"]) == (0, [])


def test_the_catalog_is_listed_and_searched(client):
    every = client.get("/v1/datasets").json()
    assert every["count"] == len(every["datasets"]) > 100
    curves = client.get("/v1/datasets", params={"search": "treasury", "kind": "curve"}).json()["datasets"]
    assert [d["id"] for d in curves] == ["us_treasury.par_nominal", "us_treasury.par_real"]
    assert curves[0]["shape"] == "curve_points" and curves[0]["country"] == "US"
    by_country = client.get("/v1/datasets", params={"source": "bcb_sgs", "search": "selic"}).json()["datasets"]
    assert {d["country"] for d in by_country} == {"BR"} and "bcb_sgs.432" in [d["id"] for d in by_country]


def test_the_dashboard_shows_the_latest_and_the_previous_value_of_each_indicator(warehouse, client):
    rows = [
        ("fred.DGS10", "2024-01-02", 3.95),
        ("fred.DGS10", "2024-01-03", 3.91),
        ("bcb_sgs.432", "2024-01-02", 11.75),
    ]
    frame = pd.DataFrame(rows, columns=["series_id", "obs_date", "value"]).assign(release_time=T3)
    warehouse.pipeline.append("observations", frame)

    indicators = {i["id"]: i for i in client.get("/v1/dashboard").json()["indicators"]}
    assert {i["country"] for i in indicators.values()} == {"BR", "US"}
    assert (indicators["fred.DGS10"]["obs_date"], indicators["fred.DGS10"]["value"]) == ("2024-01-03", 3.91)
    assert (indicators["fred.DGS10"]["previous_obs_date"], indicators["fred.DGS10"]["previous_value"]) == (
        "2024-01-02",
        3.95,
    )
    assert indicators["bcb_sgs.432"]["value"] == 11.75 and indicators["bcb_sgs.432"]["previous_value"] is None
    assert indicators["fred.UNRATE"]["value"] is None  # nothing stored: shown, empty


def test_health_needs_no_credentials_and_readiness_checks_the_warehouse(base_url, client):
    assert httpx.get(f"{base_url}/health").json() == {"status": "ok"}
    assert client.get("/v1/ready").json() == {"status": "ready", "warehouse": "reachable", "cache": "up"}


def test_openapi_documents_every_verb_with_examples(client):
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    for verb in ("as-of", "latest", "first-release", "vintages", "vintage-dates"):
        operation = paths[f"/v1/datasets/{{dataset_id}}/{verb}"]["get"]
        assert "example" in operation["responses"]["200"]["content"]["application/json"]
        assert set(operation["responses"]["200"]["content"]) >= {
            "text/csv; charset=utf-8",
            "application/vnd.apache.parquet",
        }
    as_of = paths["/v1/datasets/{dataset_id}/as-of"]["get"]["parameters"]
    assert any(p["name"] == "as_of" and p["required"] and "examples" in p for p in as_of)
    assert {"HTTPBearer", "APIKeyHeader"} <= set(spec["components"]["securitySchemes"])


def test_a_warehouse_gone_away_is_503_not_500(request):
    url, drop = _create_database(SYSTEM_PG)
    request.addfinalizer(drop)  # DROP ... IF EXISTS: also when the test drops it first
    with serving(ApiSettings(warehouse_url=url)) as base:
        key = ApiKeys(open_database(url)).create("short-lived", ["read:series"])[0]
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}) as http:
            assert http.get("/v1/ready").status_code == 200
            drop()
            response = http.get("/v1/ready")
    assert response.status_code == 503
    assert response.json()["error"] == {
        "status": 503,
        "code": "warehouse_unavailable",
        "message": "the warehouse is unavailable; retry later",
    }
