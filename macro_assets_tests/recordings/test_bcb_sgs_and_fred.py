"""Checks of the BCB SGS and FRED recordings under macro_assets/recordings/ (no network).

(That their generators rewrite every committed file byte for byte is checked in test_generators.py.)

- the fixture checklist of ../shared/reference/api-formats.md (§1 BCB SGS, §5 FRED/ALFRED);
- manifest integrity (body files exist, no api_key, provenance legend, capture times);
- series-specific facts the platform relies on (432 future rows, IBC-Br revisions, ALFRED shape).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import defaultdict
from pathlib import Path

import holidays
import pytest

from macro_assets.catalog import load_catalog
from macro_assets_tests.paths import RECORDINGS as REC
from macro_assets_tests.paths import SHARED

VERBATIM = REC / "fred" / "verbatim"
GDP_VERBATIM = VERBATIM / "series_observations_GDP_realtime_1776-07-04_to_2019-01-01.json"
SHARED_SAMPLES = SHARED / "reference" / "samples" / "fred"
SOURCES = ("bcb_sgs", "fred")
PROVENANCES = {"verbatim", "derived", "synthetic"}
WINDOW_START = dt.date(2015, 1, 1)
WINDOW_END = dt.date(2018, 12, 31)
OPEN = "9999-12-31"
FRED_HEADER_KEYS = [
    "realtime_start",
    "realtime_end",
    "observation_start",
    "observation_end",
    "units",
    "output_type",
    "file_type",
    "order_by",
    "sort_order",
    "count",
    "offset",
    "limit",
    "observations",
]
OBS_KEYS = ["realtime_start", "realtime_end", "date", "value"]


def committed_files() -> dict[str, Path]:
    return {p.relative_to(REC).as_posix(): p for p in REC.rglob("*") if p.is_file()}


def manifest(source: str) -> dict:
    return json.loads((REC / source / "manifest.json").read_text(encoding="utf-8"))


def exchanges(source: str) -> list[dict]:
    return manifest(source)["exchanges"]


def body_path(source: str, ex: dict) -> Path:
    return REC / source / ex["response"]["body_file"]


def load_body(source: str, ex: dict):
    return json.loads(body_path(source, ex).read_bytes().decode("utf-8"))


def parse_captured_at(s: str) -> dt.datetime:
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", s), s
    return dt.datetime.fromisoformat(s.replace("Z", "+00:00"))


def sgs_series(code: int) -> list[tuple[dict, list[dict]]]:
    out = []
    for ex in exchanges("bcb_sgs"):
        if ex["request"]["url"].endswith(f"bcdata.sgs.{code}/dados"):
            out.append((ex, load_body("bcb_sgs", ex)))
    return out


def fred_series(series_id: str) -> tuple[dict, dict]:
    found = [ex for ex in exchanges("fred") if ex["request"]["params"]["series_id"] == series_id]
    assert len(found) == 1, series_id
    return found[0], load_body("fred", found[0])


def sgs_date(s: str) -> dt.date:
    return dt.datetime.strptime(s, "%d/%m/%Y").date()


def iso(s: str) -> dt.date:
    return dt.date.fromisoformat(s)


# ---------------------------------------------------------------------------------------------
# Manifests
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("source", SOURCES)
def test_manifest_structure(source):
    m = manifest(source)
    assert set(m) == {"source", "window_params", "exchanges"} and m["source"] == source
    window = m["window_params"]
    assert all(window[bound] in ex["request"]["params"] for bound in ("start", "end") for ex in m["exchanges"])
    assert m["exchanges"], source
    listed = set()
    for ex in m["exchanges"]:
        assert set(ex) == {"request", "response", "captured_at", "provenance", "note"}
        req, resp = ex["request"], ex["response"]
        assert set(req) == {"method", "url", "params"} and req["method"] == "GET"
        assert req["url"].startswith("https://")
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in req["params"].items())
        assert "api_key" not in req["params"] and "api_key" not in req["url"]
        assert set(resp) == {"status", "headers", "body_file"} and resp["status"] == 200
        assert "/" not in resp["body_file"] and not resp["body_file"].startswith(".")
        assert body_path(source, ex).is_file(), resp["body_file"]
        listed.add(resp["body_file"])
        assert ex["provenance"] in PROVENANCES
        assert isinstance(ex["note"], str) and len(ex["note"]) > 40
        if ex["provenance"] == "synthetic":
            assert "synthetic" in ex["note"].lower()
        if ex["provenance"] == "derived":
            assert "derived" in ex["note"].lower()
    # every body in the source dir is referenced by exactly one exchange
    on_disk = {p.name for p in (REC / source).glob("*.json") if p.name != "manifest.json"}
    assert on_disk == listed
    assert len(listed) == len(m["exchanges"])


def test_manifest_requests_are_the_connector_requests():
    for ex in exchanges("bcb_sgs"):
        assert re.fullmatch(r"https://api\.bcb\.gov\.br/dados/serie/bcdata\.sgs\.\d+/dados", ex["request"]["url"])
        assert ex["request"]["params"] == {"formato": "json", "dataInicial": "01/01/2015", "dataFinal": "31/12/2018"}
        assert ex["response"]["headers"] == {"Content-Type": "application/json"}
    for ex in exchanges("fred"):
        assert ex["request"]["url"] == "https://api.stlouisfed.org/fred/series/observations"
        params = dict(ex["request"]["params"])
        assert params.pop("series_id")
        assert params == {
            "file_type": "json",
            "realtime_start": "1776-07-04",
            "realtime_end": "9999-12-31",
            "observation_start": "2015-01-01",
            "observation_end": "2018-12-31",
        }
        assert ex["response"]["headers"] == {"Content-Type": "application/json; charset=UTF-8"}
    codes = sorted(int(ex["request"]["url"].split(".")[-1].split("/")[0]) for ex in exchanges("bcb_sgs"))
    catalog = load_catalog().datasets.values()
    assert codes == sorted([int(s.code) for s in catalog if s.source == "bcb_sgs"] + [24363])  # 24363 twice
    assert sorted(ex["request"]["params"]["series_id"] for ex in exchanges("fred")) == sorted(
        s.code for s in catalog if s.source == "fred"
    )


@pytest.mark.parametrize("source", SOURCES)
def test_captured_at_after_window(source):
    window_end = dt.datetime(2018, 12, 31, 23, 59, 59, tzinfo=dt.UTC)
    previous = {}
    for ex in exchanges(source):
        cap = parse_captured_at(ex["captured_at"])
        if source == "fred" and ex["request"]["params"]["series_id"] == "GDP":
            assert cap.date() == dt.date(2019, 1, 1)
        else:
            assert cap > window_end, ex["captured_at"]
        key = json.dumps(ex["request"], sort_keys=True)
        if key in previous:  # repeated captures of one request are listed in time order
            assert cap > previous[key]
        previous[key] = cap


# ---------------------------------------------------------------------------------------------
# SGS fixture checklist (api-formats.md §1)
# ---------------------------------------------------------------------------------------------
MONTHLY_SGS = {433, 24363}
SGS_DECIMALS = {432: 2, 12: 6, 1: 4, 433: 2, 24363: 2}


@pytest.mark.parametrize("ex", exchanges("bcb_sgs"), ids=lambda e: e["response"]["body_file"])
def test_sgs_body_format(ex):
    raw = body_path("bcb_sgs", ex).read_bytes()
    assert raw.startswith(b"[{") and raw.endswith(b"}]"), "array, compact, no trailing newline"
    assert b" " not in raw and b"\n" not in raw
    body = json.loads(raw)
    assert isinstance(body, list) and body
    code = int(ex["request"]["url"].split("bcdata.sgs.")[1].split("/")[0])
    dates = []
    for row in body:
        assert list(row) == ["data", "valor"]
        assert isinstance(row["valor"], str) and "," not in row["valor"]
        if code in SGS_DECIMALS:
            assert re.fullmatch(rf"-?\d+\.\d{{{SGS_DECIMALS[code]}}}", row["valor"]), row
        else:  # the other series: one fixed number of decimals per series
            assert re.fullmatch(r"-?\d+(\.\d+)?", row["valor"]), row
            assert len(row["valor"].partition(".")[2]) == len(body[0]["valor"].partition(".")[2]), row
        assert re.fullmatch(r"\d{2}/\d{2}/\d{4}", row["data"]), row
        d = sgs_date(row["data"])
        if code in MONTHLY_SGS:
            assert d.day == 1
        dates.append(d)
    assert dates == sorted(dates) and len(set(dates)) == len(dates), "ascending, unique"
    assert dates[0] >= WINDOW_START
    # daily request window <= 10 years
    params = ex["request"]["params"]
    assert (sgs_date(params["dataFinal"]) - sgs_date(params["dataInicial"])).days <= 3650


def test_sgs_432_every_calendar_day_with_future_rows():
    [(ex, body)] = sgs_series(432)
    dates = [sgs_date(r["data"]) for r in body]
    assert dates[0] == WINDOW_START
    assert all((b - a).days == 1 for a, b in zip(dates, dates[1:])), "a row for every calendar day"
    captured = parse_captured_at(ex["captured_at"]).date()
    future = [r for r in body if sgs_date(r["data"]) > WINDOW_END]
    assert future and dates[-1] == dt.date(2019, 2, 6) and dates[-1] > captured
    assert {r["valor"] for r in future} == {"6.50"}
    assert "future" in ex["note"].lower()
    values = {sgs_date(r["data"]): r["valor"] for r in body}
    assert values[dt.date(2015, 1, 21)] == "11.75" and values[dt.date(2015, 1, 22)] == "12.25"
    assert values[dt.date(2015, 7, 30)] == "14.25" and values[dt.date(2016, 10, 19)] == "14.25"
    assert values[dt.date(2016, 10, 20)] == "14.00" and values[dt.date(2016, 12, 1)] == "13.75"
    assert values[dt.date(2017, 12, 7)] == "7.00" and values[dt.date(2018, 3, 21)] == "6.75"
    assert values[dt.date(2018, 3, 22)] == "6.50" and values[dt.date(2018, 12, 31)] == "6.50"


def br_business_days():
    hol = holidays.country_holidays("BR", years=range(2015, 2019))
    d, out = WINDOW_START, []
    while d <= WINDOW_END:
        if d.weekday() < 5 and d not in hol:
            out.append(d)
        d += dt.timedelta(days=1)
    return out


@pytest.mark.parametrize("code", [12, 1])
def test_sgs_daily_business_day_series(code):
    [(_, body)] = sgs_series(code)
    assert [sgs_date(r["data"]) for r in body] == br_business_days()


def test_sgs_12_cdi_consistent_with_selic_target():
    [(_, selic)] = sgs_series(432)
    [(_, cdi)] = sgs_series(12)
    target = {r["data"]: float(r["valor"]) for r in selic}
    for r in cdi:
        expected = ((1 + (target[r["data"]] - 0.10) / 100) ** (1 / 252) - 1) * 100
        assert abs(float(r["valor"]) - expected) < 6e-7, r
    assert {r["valor"] for r in cdi if r["data"] == "02/01/2015"} == {"0.043739"}


def test_sgs_1_ptax_levels_plausible():
    [(_, body)] = sgs_series(1)
    values = [float(r["valor"]) for r in body]
    assert 2.5 < min(values) and max(values) < 4.6
    by_date = {sgs_date(r["data"]): float(r["valor"]) for r in body}
    assert abs(by_date[dt.date(2015, 1, 2)] - 2.69) < 0.05
    assert abs(by_date[dt.date(2018, 12, 31)] - 3.87) < 0.05


def test_sgs_433_real_ipca_values():
    [(ex, body)] = sgs_series(433)
    assert [sgs_date(r["data"]) for r in body] == [dt.date(y, m, 1) for y in range(2015, 2019) for m in range(1, 13)]
    values = {r["data"]: r["valor"] for r in body}
    assert values["01/01/2015"] == "1.24" and values["01/06/2017"] == "-0.23" and values["01/12/2018"] == "0.15"
    assert "real published values" in ex["note"]
    assert parse_captured_at(ex["captured_at"]).date() >= dt.date(2019, 1, 11), "Dec-2018 IPCA published 2019-01-11"


def test_sgs_24363_two_captures_with_revisions():
    caps = sgs_series(24363)
    assert [ex["captured_at"] for ex, _ in caps] == ["2019-01-07T12:00:00Z", "2019-02-20T12:00:00Z"]
    (_, first), (_, second) = caps

    def months(last: dt.date) -> list[dt.date]:
        return [dt.date(y, m, 1) for y in range(2015, 2019) for m in range(1, 13) if dt.date(y, m, 1) <= last]

    assert [sgs_date(r["data"]) for r in first] == months(dt.date(2018, 10, 1))
    assert [sgs_date(r["data"]) for r in second] == months(dt.date(2018, 11, 1))
    old = {r["data"]: float(r["valor"]) for r in first}
    new = {r["data"]: float(r["valor"]) for r in second}
    revised = sorted((k for k in old if old[k] != new[k]), key=sgs_date)
    assert revised == ["01/08/2018", "01/09/2018", "01/10/2018"]
    for k in revised:
        assert 0.01 <= abs(old[k] - new[k]) <= 0.5
    assert all(125 < v < 150 for v in new.values())


# ---------------------------------------------------------------------------------------------
# FRED fixture checklist (api-formats.md §5)
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("ex", exchanges("fred"), ids=lambda e: e["request"]["params"]["series_id"])
def test_fred_body_format(ex):
    raw = body_path("fred", ex).read_bytes()
    assert raw.startswith(b'{"realtime_start":') and raw.endswith(b"}]}")
    assert b" " not in raw and b"\n" not in raw, "compact like the verbatim sample"
    body = json.loads(raw)
    assert list(body) == FRED_HEADER_KEYS
    params = ex["request"]["params"]
    assert body["realtime_start"] == params["realtime_start"] and body["realtime_end"] == params["realtime_end"]
    assert body["observation_start"] == params["observation_start"]
    assert body["observation_end"] == params["observation_end"]
    assert body["units"] == "lin" and body["file_type"] == "json"
    assert body["order_by"] == "observation_date" and body["sort_order"] == "asc"
    for key in ("output_type", "count", "offset", "limit"):
        assert type(body[key]) is int, key
    assert body["output_type"] == 1 and body["offset"] == 0 and body["limit"] == 100000
    obs = body["observations"]
    assert body["count"] == len(obs) > 0
    captured = parse_captured_at(ex["captured_at"]).date()
    for o in obs:
        assert list(o) == OBS_KEYS
        assert all(isinstance(o[k], str) for k in OBS_KEYS)
        assert o["value"] == "." or re.fullmatch(r"-?\d+(\.\d+)?", o["value"]), o
        assert WINDOW_START <= iso(o["date"]) <= WINDOW_END
        assert iso(o["realtime_start"]) <= captured, "nothing published after the capture"
        assert o["realtime_end"] == OPEN or iso(o["realtime_start"]) <= iso(o["realtime_end"]) < captured
    keys = [(o["date"], o["realtime_start"]) for o in obs]
    assert keys == sorted(keys) and len(set(keys)) == len(keys), "ordered by date, then real time"


@pytest.mark.parametrize("ex", exchanges("fred"), ids=lambda e: e["request"]["params"]["series_id"])
def test_fred_alfred_intervals(ex):
    """Per date: contiguous real-time intervals, value changes at each boundary, last interval open."""
    body = load_body("fred", ex)
    by_date = defaultdict(list)
    for o in body["observations"]:
        by_date[o["date"]].append(o)
    for date, rows in by_date.items():
        # first released after the observation date, or on it (Freddie Mac dates its weekly rate on its release day)
        assert iso(rows[0]["realtime_start"]) >= iso(date), "first released after the observation date"
        for a, b in zip(rows, rows[1:]):
            assert iso(a["realtime_end"]) + dt.timedelta(days=1) == iso(b["realtime_start"]), (date, a, b)
            assert a["value"] != b["value"], (date, a, b)
        assert rows[-1]["realtime_end"] == OPEN


def test_fred_gdp_derived_from_verbatim():
    ex, body = fred_series("GDP")
    assert ex["provenance"] == "derived"
    sample = json.loads(GDP_VERBATIM.read_text(encoding="utf-8"))
    sample_rows = {(o["date"], o["realtime_start"]): o for o in sample["observations"]}
    in_window = [o for o in sample["observations"] if "2015-01-01" <= o["date"] <= "2018-12-31"]
    assert body["count"] == len(in_window) == len(body["observations"])
    for o in body["observations"]:
        src = sample_rows[(o["date"], o["realtime_start"])]  # subset of the verbatim rows
        assert o["value"] == src["value"]  # value strings untouched (no decimal reformatting)
        if src["realtime_end"] == "2019-01-01":
            assert o["realtime_end"] == OPEN
        else:
            assert o["realtime_end"] == src["realtime_end"]
    assert body["realtime_start"] == "1776-07-04" and body["realtime_end"] == OPEN
    assert ex["captured_at"] == "2019-01-01T23:00:00Z"


def test_fred_verbatim_copies():
    names = {p.name for p in VERBATIM.glob("*.json")}
    assert GDP_VERBATIM.name in names
    assert (VERBATIM / "README.md").is_file()
    listed = {ex["response"]["body_file"] for ex in exchanges("fred")}
    assert not any("verbatim" in b for b in listed), "verbatim samples are not offline-default exchanges"
    sample = json.loads(GDP_VERBATIM.read_text(encoding="utf-8"))
    assert sample["count"] == len(sample["observations"]) == 2902
    # the 1946 withdrawals ("." between real values) the parser tests rely on
    rows_1946 = [o for o in sample["observations"] if o["date"] == "1946-01-01"]
    assert [o["value"] for o in rows_1946] == ["199.7", ".", "210.4", "."]
    if SHARED_SAMPLES.is_dir():  # byte-identical to the research samples when they are available
        for name in names:
            assert (VERBATIM / name).read_bytes() == (SHARED_SAMPLES / name).read_bytes(), name


def fed_holidays():
    return holidays.financial_holidays("FED", years=range(2015, 2020))


def test_fred_dgs10_daily_with_holiday_dots():
    _, body = fred_series("DGS10")
    obs = body["observations"]
    hol = fed_holidays()
    dates = [iso(o["date"]) for o in obs]
    assert all(d.weekday() < 5 for d in dates)
    assert len(dates) == sum(
        1 for k in range((WINDOW_END - WINDOW_START).days + 1) if (WINDOW_START + dt.timedelta(days=k)).weekday() < 5
    )
    for o in obs:
        d = iso(o["date"])
        assert (o["value"] == ".") == (d in hol), o
        assert o["realtime_end"] == OPEN
        nxt = d + dt.timedelta(days=1)
        while nxt.weekday() >= 5 or nxt in hol:
            nxt += dt.timedelta(days=1)
        assert iso(o["realtime_start"]) == nxt
        if o["value"] != ".":
            assert re.fullmatch(r"\d\.\d{2}", o["value"]) and 1.2 < float(o["value"]) < 3.5
    assert any(o["value"] == "." for o in obs)
    assert obs[-1]["date"] == "2018-12-31" and obs[-1]["realtime_start"] == "2019-01-02"


def current_vintage(body) -> dict[str, str]:
    return {o["date"]: o["value"] for o in body["observations"] if o["realtime_end"] == OPEN}


def test_fred_monthly_series_shapes():
    months = [dt.date(y, m, 1).isoformat() for y in range(2015, 2019) for m in range(1, 13)]
    _, cpi = fred_series("CPIAUCSL")
    cur = current_vintage(cpi)
    assert list(cur) == months[:-1], "Dec-2018 CPI is released after the 2019-01-07 capture"
    assert all(re.fullmatch(r"\d{3}\.\d{3}", v) for v in cur.values())
    assert 233 < float(cur["2015-01-01"]) < 236 and 251 < float(cur["2018-11-01"]) < 254
    assert any(len(rows) > 1 for rows in group(cpi).values()), "SA revisions present"

    _, payems = fred_series("PAYEMS")
    cur = current_vintage(payems)
    assert list(cur) == months
    assert all(re.fullmatch(r"\d{6}", v) for v in cur.values())
    assert 139500 < int(cur["2015-01-01"]) < 141700 and 149000 < int(cur["2018-12-01"]) < 151400
    first_release = {d: iso(rows[0]["realtime_start"]) for d, rows in group(payems).items()}
    for d, r in first_release.items():
        assert r.month == (iso(d).month % 12) + 1 and r.day <= 8, (d, r)

    _, unrate = fred_series("UNRATE")
    cur = current_vintage(unrate)
    assert list(cur) == months
    assert all(re.fullmatch(r"\d\.\d", v) for v in cur.values())
    # revised only in January (annual SA revision published with the December report)
    for rows in group(unrate).values():
        for row in rows[1:]:
            assert iso(row["realtime_start"]).month in (12, 1), row


def group(body) -> dict[str, list[dict]]:
    out = defaultdict(list)
    for o in body["observations"]:
        out[o["date"]].append(o)
    return out


def test_each_source_recordings_stay_small():
    """The package ships every source's recordings: none may grow past a few megabytes."""
    sizes = defaultdict(int)
    for rel, path in committed_files().items():
        if "__pycache__" not in rel and "/" in rel:
            sizes[rel.split("/", 1)[0]] += path.stat().st_size
    assert {"bcb_sgs", "fred", "us_treasury", "tesouro_direto", "yahoo", "twelvedata"} <= set(sizes)
    assert max(sizes.values()) < 3_000_000, sizes
