"""Formats (JSON, CSV, Arrow IPC, Parquet by `?format=` or Accept) and pagination over HTTP."""

from __future__ import annotations

import io

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from macro_assets.api.formats import negotiate
from macro_assets.errors import InvalidInput

RELEASE = pd.Timestamp("2024-05-02 12:00", tz="UTC")
DAYS = pd.date_range("2024-01-01", periods=25, freq="D")
PATH = "/v1/datasets/fred.DGS10/vintages"


@pytest.fixture(scope="module")
def daily(warehouse) -> pa.Table:
    """25 dates of a daily series, one vintage each: what the Python reader returns for them."""
    frame = pd.DataFrame({"series_id": "fred.DGS10", "obs_date": DAYS, "release_time": RELEASE})
    warehouse.pipeline.append("observations", frame.assign(value=[4.0 + i / 100 for i in range(len(DAYS))]))
    return warehouse.observations.vintages("fred.DGS10", output="arrow")


def test_csv_arrow_and_parquet_carry_the_same_rows(daily, client):
    csv = client.get(PATH, params={"format": "csv", "limit": 100})
    assert csv.headers["content-type"] == "text/csv; charset=utf-8"
    frame = pd.read_csv(io.StringIO(csv.text))
    assert list(frame.columns) == daily.column_names
    assert frame["obs_date"].iloc[0] == "2024-01-01" and frame["release_time"].iloc[0] == "2024-05-02T12:00:00+00:00"
    assert frame["value"].tolist() == daily.column("value").to_pylist()

    arrow = client.get(PATH, params={"limit": 100}, headers={"Accept": "application/vnd.apache.arrow.stream"})
    assert pa.ipc.open_stream(arrow.content).read_all().equals(daily)
    parquet = client.get(PATH, params={"limit": 100}, headers={"Accept": "text/html, application/x-parquet"})
    assert parquet.headers["content-type"] == "application/vnd.apache.parquet"
    assert pq.read_table(io.BytesIO(parquet.content)).equals(daily)
    # ?format= wins over Accept.
    assert client.get(PATH, params={"format": "csv"}, headers={"Accept": "application/json"}).text == csv.text


def test_pages_follow_next_links_to_the_whole_answer(daily, client):
    rows, link, pages = [], f"{PATH}?limit=10", 0
    while link:
        body = client.get(link).json()
        assert body["total"] == 25 and body["count"] == len(body["rows"]) <= 10
        rows += body["rows"]
        link, pages = body["next"], pages + 1
    assert pages == 3
    assert [row["value"] for row in rows] == daily.column("value").to_pylist()

    arrow = client.get(PATH, params={"limit": 10, "offset": 20, "format": "arrow"})
    assert pa.ipc.open_stream(arrow.content).read_all().equals(daily.slice(20))
    assert arrow.headers["x-total-count"] == "25" and "link" not in arrow.headers
    first = client.get(PATH, params={"limit": 10, "format": "csv"})
    assert first.headers["link"] == f'<{PATH}?format=csv&offset=10&limit=10>; rel="next"'


def test_negotiation_prefers_the_parameter_then_the_first_known_accept_type():
    assert negotiate(None, None) == "json"
    assert negotiate(None, "*/*") == "json"
    assert negotiate(None, "text/csv;q=0.9, application/json") == "csv"
    assert negotiate("parquet", "text/csv") == "parquet"
    with pytest.raises(InvalidInput, match="format: 'xlsx' is not one of"):
        negotiate("xlsx", None)
