"""The Redis cache-aside path over HTTP: a hit, an answer invalidated by a new vintage it would contain (and kept
by one it would not), TTLs per data domain, and Redis down."""

from __future__ import annotations

import subprocess
import time

import httpx
import pandas as pd
import redis

from macro_assets.api import cache
from macro_assets.api.config import ApiSettings

from .conftest import REDIS_URL, case_of, free_port, serving

T1, T2, T3 = (pd.Timestamp(t, tz="UTC") for t in ("2024-02-02 13:30", "2024-03-08 13:30", "2024-04-05 13:30"))


def append(warehouse, series: str, rows) -> None:
    frame = pd.DataFrame(rows, columns=["obs_date", "value", "release_time"]).assign(series_id=series)
    warehouse.pipeline.append("observations", frame)


def read(client, path: str, **params) -> tuple[str, list]:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.headers["x-cache"], [row["value"] for row in response.json()["rows"]]


def test_a_new_vintage_invalidates_exactly_the_answers_that_would_contain_it(warehouse, client):
    append(warehouse, "fred.UNRATE", [("2024-01-01", 3.7, T1)])
    latest, as_of_t1 = "/v1/datasets/fred.UNRATE/latest", {"as_of": T1.isoformat()}

    assert read(client, latest) == ("miss", [3.7])
    assert read(client, latest) == ("hit", [3.7])
    assert read(client, "/v1/datasets/fred.UNRATE/as-of", **as_of_t1) == ("miss", [3.7])

    append(warehouse, "fred.UNRATE", [("2024-01-01", 3.8, T2), ("2024-02-01", 3.9, T2)])
    assert read(client, latest) == ("miss", [3.8, 3.9])
    assert read(client, latest) == ("hit", [3.8, 3.9])
    # Released after T1: the answer as of T1 is unchanged and stays cached.
    assert read(client, "/v1/datasets/fred.UNRATE/as-of", **as_of_t1) == ("hit", [3.7])
    # Another dataset's vintage leaves this one's answers alone.
    append(warehouse, "fred.PAYEMS", [("2024-01-01", 157000.0, T3)])
    assert read(client, latest) == ("hit", [3.8, 3.9])


def test_a_windowed_answer_is_invalidated_by_vintages_in_its_window_only(warehouse, client):
    append(warehouse, "fred.DGS5", [("2024-01-02", 4.0, T1), ("2024-03-01", 4.2, T1)])
    path, january = "/v1/datasets/fred.DGS5/latest", {"start": "2024-01-01", "end": "2024-01-31"}
    assert read(client, path, **january) == ("miss", [4.0])
    append(warehouse, "fred.DGS5", [("2024-06-03", 4.4, T2)])
    assert read(client, path, **january) == ("hit", [4.0])
    append(warehouse, "fred.DGS5", [("2024-01-31", 4.1, T2)])
    assert read(client, path, **january) == ("miss", [4.0, 4.1])


def test_a_bare_end_date_of_a_time_window_covers_its_whole_day(warehouse, client):
    bars = case_of("bars")
    warehouse.pipeline.append("bars", bars.frame([(0, T1, 1.0)]))  # 2024-01-02 14:00 UTC
    path, day = "/v1/datasets/yahoo.USDBRL_1d/latest", {"start": "2024-01-02", "end": "2024-01-02"}
    opens = [row["open"] for row in client.get(path, params=day).json()["rows"]]
    assert (client.get(path, params=day).headers["x-cache"], opens) == ("hit", [1.0])
    warehouse.pipeline.append("bars", bars.frame([(9, T2, 2.0)]))  # 23:00 the same day
    response = client.get(path, params=day)
    assert response.headers["x-cache"] == "miss"
    assert [row["open"] for row in response.json()["rows"]] == [1.0, 2.0]


def test_a_cached_page_keeps_its_format_and_headers(warehouse, client):
    append(warehouse, "fred.CPIAUCSL", [(f"2023-{m:02d}-01", 300.0 + m, T1) for m in range(1, 13)])
    path, params = "/v1/datasets/fred.CPIAUCSL/latest", {"limit": 5, "format": "csv"}
    first, second = client.get(path, params=params), client.get(path, params=params)
    assert (first.headers["x-cache"], second.headers["x-cache"]) == ("miss", "hit")
    assert second.content == first.content and second.headers["content-type"] == "text/csv; charset=utf-8"
    assert second.headers["link"] == first.headers["link"] and second.headers["x-total-count"] == "12"


def test_answers_live_as_long_as_their_data_domain(cache_prefix, client):
    client.get("/v1/datasets/twelvedata.USDCOP_5min/latest")
    client.get("/v1/datasets/fred.GDP/latest")
    store = redis.Redis.from_url(REDIS_URL)
    ttls = sorted(store.ttl(key) for key in store.scan_iter(match=cache_prefix + "*"))
    assert ttls[0] <= 60 and ttls[-1] > 3600  # intraday bars a minute, quarterly GDP hours


def test_with_redis_down_the_api_still_answers_from_the_warehouse(warehouse_url, warehouse, keys, caplog):
    append(warehouse, "fred.DGS2", [("2024-01-02", 4.33, T1)])
    settings = ApiSettings(warehouse_url=warehouse_url, redis_url=f"redis://127.0.0.1:{free_port()}/0")
    with serving(settings) as url:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {keys['read:series']}"}) as client:
            started = time.monotonic()
            answers = [read(client, "/v1/datasets/fred.DGS2/latest") for _ in range(5)]
            elapsed = time.monotonic() - started
            ready = client.get("/v1/ready").json()
    assert answers == [("off", [4.33])] * 5
    assert elapsed < 2  # one short connect timeout, then Redis is left alone
    assert ready == {"status": "ready", "warehouse": "reachable", "cache": "down"}
    assert [r.message for r in caplog.records if "Redis" in r.message] == [
        "Redis cache unavailable (ConnectionError); answering from the warehouse"
    ]


def test_the_cache_warns_once_per_outage_and_comes_back_with_redis(monkeypatch, caplog, tmp_path):
    monkeypatch.setattr(cache, "RETRY_AFTER", 0.0)  # ask Redis again at every call
    port = free_port()
    answers = cache.ResponseCache(f"redis://127.0.0.1:{port}/0", prefix="macro_assets_test:outage:")
    answer = cache.CachedAnswer(b"rows", "text/csv", {"X-Total-Count": "1"})
    for _ in range(3):
        answers.set("k", answer, ttl=5)
        assert answers.get("k") is None and answers.state == "down"

    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while not answers.ping():
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)
        answers.set("k", answer, ttl=5)
        assert answers.get("k") == answer and answers.state == "up"
    finally:
        server.terminate()
        server.wait(10)
    assert [r.message for r in caplog.records if "Redis" in r.message] == [
        "Redis cache unavailable (ConnectionError); answering from the warehouse",
        "Redis cache available again",
    ]
