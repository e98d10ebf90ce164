"""HTTP read API under load on loopback, with and without the Redis cache, side by side in one run.

    python benchmarks/bench_api.py [--url URL] [--redis URL] [--clients N] [--seconds S]

A fresh database on the server at URL (default: the machine's PostgreSQL) gets 15 years of a daily series (3,913
weekdays x 3 vintages) and 15 years of a monthly one; the API runs as its compose entry does (`uvicorn --factory
macro_assets.api.app:create_app`, one process) first without a cache, then with Redis at --redis (default the
machine's, database 15, whose API answers are flushed before each run and at the end). N client processes (default
8), each with its own keep-alive connection, send requests in turn for S seconds (default 10) after one warm-up
second, one mix after the other: small answers (a page of 1,000 rows of the daily series as of an instant in JSON,
the monthly series' latest vintages in JSON, 180 rows, and five years of the daily series as Arrow), then a large
one (every vintage of the daily series, 11,739 rows of JSON). The figures: requests per second, p50 and p99 latency,
and the X-Cache states seen.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import httpx
import pandas as pd
import redis
import sqlalchemy as sa
from bench_warehouse import DEFAULT_URL, fresh_database

from macro_assets.api.app import open_database
from macro_assets.api.auth import ApiKeys
from macro_assets.api.config import ApiSettings
from macro_assets.warehouse import connect

DAILY_DATES = pd.bdate_range("2010-01-01", "2024-12-31")
MONTHLY_DATES = pd.date_range("2010-01-01", "2024-12-01", freq="MS")
VINTAGE_LAGS = (pd.Timedelta(days=1), pd.Timedelta(days=30), pd.Timedelta(days=365))
# Each mix is sent in turn by every client: small answers, and the whole release history of a daily series.
MIXES = {
    "small": (
        "/v1/datasets/fred.DGS10/as-of?as_of=2020-06-30&start=2015-01-01",
        "/v1/datasets/fred.UNRATE/latest",
        "/v1/datasets/fred.DGS10/latest?start=2020-01-01&format=arrow",
    ),
    "large": ("/v1/datasets/fred.DGS10/vintages?limit=50000",),
}
VENV_BIN = Path(sys.executable).parent


def load(url: str) -> str:
    """The two series, and an API key to read them with."""
    with connect(url) as warehouse:
        for series, dates in (("fred.DGS10", DAILY_DATES), ("fred.UNRATE", MONTHLY_DATES)):
            vintages = [
                pd.DataFrame(
                    {
                        "series_id": series,
                        "obs_date": dates,
                        "value": 4.0 + 0.01 * n + (pd.Series(range(len(dates))) % 50) / 100,
                        "release_time": (dates + lag).tz_localize("UTC"),
                    }
                )
                for n, lag in enumerate(VINTAGE_LAGS)
            ]
            warehouse.pipeline.append("observations", pd.concat(vintages))
    # What autovacuum does soon after a load: the visibility map lets the cache's count read the index alone.
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sa.text("VACUUM ANALYZE observations"))
    engine.dispose()
    return ApiKeys(open_database(url)).create("bench_api", ["read:series"])[0]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve(url: str, redis_url: str | None) -> tuple[subprocess.Popen, str]:
    port = free_port()
    environment = {**os.environ, "MACRO_ASSETS_WAREHOUSE_URL": url}
    environment.pop("MACRO_ASSETS_REDIS_URL", None)
    if redis_url:
        environment["MACRO_ASSETS_REDIS_URL"] = redis_url
    command = [str(VENV_BIN / "uvicorn"), "--factory", "macro_assets.api.app:create_app", "--port", str(port)]
    server = subprocess.Popen([*command, "--log-level", "warning"], env=environment)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(f"{base}/health")
            return server, base
        except httpx.ConnectError:
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the API did not start") from None
            time.sleep(0.2)


def client(base: str, key: str, requests: tuple[str, ...], offset: int, measure_from: float, stop: float):
    """One client process: `requests` in turn on one keep-alive connection; the latencies after `measure_from`."""
    latencies, states, failed = [], Counter(), Counter()
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=30) as http:
        n = offset
        while (now := time.time()) < stop:
            response = http.get(requests[n % len(requests)])
            n += 1
            if now < measure_from:
                continue
            latencies.append(time.time() - now)
            states[response.headers.get("x-cache", "?")] += 1
            if response.status_code != 200:
                failed[response.status_code] += 1
    return latencies, states, failed


def hammer(base: str, key: str, requests: tuple[str, ...], clients: int, duration: float) -> dict:
    """`clients` processes (a Python client per core, not threads under one interpreter lock) sending `requests`
    in turn; latencies of the requests sent after a warm-up second."""
    measure_from = time.time() + 1.0 + 0.5  # half a second to start the processes
    stop = measure_from + duration
    latencies, caches, failures = [], Counter(), Counter()
    with ProcessPoolExecutor(clients) as pool:
        runs = [pool.submit(client, base, key, requests, i, measure_from, stop) for i in range(clients)]
        for run in runs:
            mine, states, failed = run.result()
            latencies += mine
            caches.update(states)
            failures.update(failed)
    cuts = statistics.quantiles(latencies, n=100)
    return {
        "requests": len(latencies),
        "per_second": len(latencies) / duration,
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * cuts[98],
        "cache": dict(caches),
        "failures": dict(failures),
    }


def forget_answers(redis_url: str) -> None:
    """The API's answers in the benchmark's Redis database (the API's default key prefix: it reads no other)."""
    store = redis.Redis.from_url(redis_url)
    for stored in store.scan_iter(match=ApiSettings.cache_prefix + "*", count=1000):
        store.delete(stored)
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=DEFAULT_URL, help="server URL; its database is used to create a fresh one")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/15", help="Redis for the cached run")
    parser.add_argument("--clients", type=int, default=8, help="concurrent client processes (default 8)")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per figure (default 10)")
    args = parser.parse_args()

    with fresh_database(args.url) as url:
        key = load(url)
        results = {}
        for label, redis_url in (("no cache", None), ("Redis cache", args.redis)):
            forget_answers(args.redis)  # a former run's answers would be hits: same rows, same versions
            server, base = serve(url, redis_url)
            try:
                for mix, requests in MIXES.items():
                    results[mix, label] = hammer(base, key, requests, args.clients, args.seconds)
            finally:
                server.terminate()
                server.wait(30)
    forget_answers(args.redis)

    print(f"{args.clients} clients, {args.seconds:g} s per figure; each client sends its mix's requests in turn")
    for mix, requests in MIXES.items():
        print(f"  {mix}: {', '.join(requests)}")
    print(f"{'mix':<6} {'':<12} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}  cache / failures")
    for (mix, label), figures in results.items():
        print(
            f"{mix:<6} {label:<12} {figures['requests']:>9} {figures['per_second']:>8.1f} {figures['p50_ms']:>8.1f}"
            f" {figures['p99_ms']:>8.1f}  {figures['cache']} / {figures['failures'] or 'none'}"
        )
    for mix in MIXES:
        ratio = results[mix, "Redis cache"]["per_second"] / results[mix, "no cache"]["per_second"]
        print(f"{mix}: throughput x{ratio:.2f} with the cache")


if __name__ == "__main__":
    main()
