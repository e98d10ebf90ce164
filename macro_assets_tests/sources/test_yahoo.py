"""Yahoo connector: the recorded chart payloads, every quirk of the chart JSON, the request and its replay, the
yfinance-backed live transport against a local fake of Yahoo, and the recording generator. Pure: no database, no
Dagster, no network."""

from __future__ import annotations

import datetime as dt
import json

import httpx
import polars as pl
import pytest
import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from macro_assets.catalog import load_catalog
from macro_assets.errors import SourcePayloadError
from macro_assets.http.client import HttpClient, RetryPolicy, SourceHTTPError
from macro_assets.provenance import Fetched
from macro_assets.recordings.yahoo import generate
from macro_assets.sources.base import SourceSession
from macro_assets.sources.yahoo import CHART_URL, YfinanceTransport, chart_params, connector, daily_bar_time
from macro_assets_tests.paths import FIXTURES, RECORDINGS
from macro_assets_tests.sources import payloads
from macro_assets_tests.sources.replay import CountingReplay

RECORDED = RECORDINGS / "yahoo"
QUIRKS = FIXTURES / "yahoo"
CATALOG = load_catalog()
USDBRL = CATALOG.get("yahoo.USDBRL_1d")
SPX = CATALOG.get("yahoo.SPX_1d")
IBOV = CATALOG.get("yahoo.IBOV_1d")
TLT = CATALOG.get("yahoo.TLT_1d")
EWZ = CATALOG.get("yahoo.EWZ_1d")
WINDOW = (dt.date(2015, 1, 1), dt.date(2018, 12, 31))
HAND_WRITTEN = {"README.md", "generate.py", "__init__.py"}


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def fetched(dataset, body: bytes, status: int = 200) -> Fetched:
    return payloads.fetched(
        str(dataset.id),
        body,
        status=status,
        content_type="application/json;charset=utf-8",
        fetched_at=utc(2019, 1, 2, 6),
        window=(WINDOW[0], WINDOW[1]),
    )


def parse(dataset, body: bytes, status: int = 200):
    return connector.parse(dataset, fetched(dataset, body, status))


def refused(dataset, body: bytes, status: int = 200) -> SourcePayloadError:
    with pytest.raises(SourcePayloadError) as caught:
        parse(dataset, body, status)
    return caught.value


def manifest() -> dict:
    return json.loads((RECORDED / "manifest.json").read_text())


def recorded(code: str, suffix: str = "") -> bytes:
    return (RECORDED / f"{code}_2015-01-01_2018-12-31{suffix}.json").read_bytes()


def edited(body: bytes, edit) -> bytes:
    document = json.loads(body)
    edit(document["chart"]["result"][0])
    return json.dumps(document).encode()


def bar(parsed, day: dt.date, dataset=SPX) -> dict:
    return parsed.rows.filter(pl.col("bar_time") == daily_bar_time(dataset.instrument, day)).row(0, named=True)


# ------------------------------------------------------------------------------------------ recorded payloads
@pytest.mark.parametrize("exchange", manifest()["exchanges"], ids=lambda e: e["response"]["body_file"])
def test_every_recorded_chart_parses_into_one_bar_per_session_of_the_dataset_calendar(exchange):
    code = exchange["response"]["body_file"].split("_2015")[0]
    dataset = CATALOG.get(f"yahoo.{code}")
    parsed = parse(dataset, (RECORDED / exchange["response"]["body_file"]).read_bytes())
    assert parsed.quarantine == []
    days = parsed.rows["bar_time"].dt.convert_time_zone(dataset.instrument.timezone.key).dt.date().to_list()
    sessions = [d for d in dataset.expected_dates(dt.date(2014, 12, 31), dt.date(2018, 12, 31))]
    assert days == sessions  # the padded window's sessions, no more, no fewer
    assert parsed.records == len(sessions) + parsed.missing
    assert (parsed.rows["release_basis"] == "estimated").all()
    assert parsed.rows["release_time"].to_list() == [dataset.estimated_release(d) for d in days]


def test_recorded_usdbrl_fx_bars_are_keyed_by_session_date_at_sao_paulo_midnight():
    parsed = parse(USDBRL, recorded("USDBRL_1d"))
    # 2018-12-28 00:00 London = 1545955200; the session date's midnight in São Paulo (BRST, UTC-2) is 02:00 UTC.
    row = bar(parsed, dt.date(2018, 12, 28), USDBRL)
    assert row["bar_time"] == utc(2018, 12, 28, 2)
    assert row["close"] == pytest.approx(3.88, abs=1e-6) and row["close"] == row["adj_close"]
    assert row["volume"] == 0 and row["dividend"] is None and row["split_ratio"] is None
    # FX bars are London days: the release is London midnight after the session date.
    assert row["release_time"] == utc(2018, 12, 29, 0)


def test_london_summer_time_stamps_at_23_00_utc_the_day_before_and_still_land_on_their_date():
    body = json.loads(recorded("USDBRL_1d"))["chart"]["result"][0]
    stamp = int(dt.datetime(2018, 6, 1, tzinfo=dt.timezone(dt.timedelta(hours=1))).timestamp())  # 00:00 BST
    assert stamp in body["timestamp"] and dt.datetime.fromtimestamp(stamp, dt.UTC) == utc(2018, 5, 31, 23)
    parsed = parse(USDBRL, recorded("USDBRL_1d"))
    june_1 = bar(parsed, dt.date(2018, 6, 1), USDBRL)
    assert june_1["bar_time"] == utc(2018, 6, 1, 3)  # São Paulo had no DST in June: UTC-3
    index = body["timestamp"].index(stamp)
    assert june_1["close"] == body["indicators"]["quote"][0]["close"][index]


def test_new_york_dst_moves_the_utc_bar_time_and_not_the_session_date():
    parsed = parse(SPX, recorded("SPX_1d"))
    friday, monday = bar(parsed, dt.date(2018, 3, 9)), bar(parsed, dt.date(2018, 3, 12))  # DST began 2018-03-11
    assert (friday["bar_time"], monday["bar_time"]) == (utc(2018, 3, 9, 5), utc(2018, 3, 12, 4))
    assert (friday["release_time"], monday["release_time"]) == (utc(2018, 3, 9, 22), utc(2018, 3, 12, 21))


def test_sao_paulo_dst_began_at_midnight_and_bar_times_follow_it():
    parsed = parse(IBOV, recorded("IBOV_1d"))
    # Brazil's DST began on Sunday 2018-11-04 at 00:00 (clocks to 01:00).
    assert bar(parsed, dt.date(2018, 11, 1), IBOV)["bar_time"] == utc(2018, 11, 1, 3)
    assert bar(parsed, dt.date(2018, 11, 5), IBOV)["bar_time"] == utc(2018, 11, 5, 2)


def test_recorded_ibov_holiday_with_null_prices_is_missing_not_a_bar():
    parsed = parse(IBOV, recorded("IBOV_1d"))
    assert parsed.missing == 1 and parsed.quarantine == []
    assert daily_bar_time(IBOV.instrument, dt.date(2017, 11, 15)) not in parsed.rows["bar_time"].to_list()


@pytest.mark.parametrize("dataset, count", [(EWZ, 8), (TLT, 48)], ids=["EWZ", "TLT"])
def test_recorded_dividends_land_on_their_ex_date_and_adjust_the_closes_before_it(dataset, count):
    parsed = parse(dataset, recorded(dataset.code))
    paid = parsed.rows.filter(pl.col("dividend").is_not_null())
    assert paid.height == count and (paid["dividend"] > 0).all()
    assert parsed.rows["split_ratio"].null_count() == parsed.rows.height  # no split in the recordings
    ratio = (parsed.rows["adj_close"] / parsed.rows["close"]).to_list()
    # float32 prices: the ratio is flat between ex-dates up to ~1e-7, and steps up at each of them.
    assert ratio[-1] == pytest.approx(1.0) and all(a <= b + 1e-6 for a, b in zip(ratio, ratio[1:], strict=False))
    first = paid.row(0, named=True)
    before = parsed.rows.filter(pl.col("bar_time") < first["bar_time"]).row(-1, named=True)
    after_ratio = first["adj_close"] / first["close"]
    expected = after_ratio * (1 - first["dividend"] / before["close"])
    assert before["adj_close"] / before["close"] == pytest.approx(expected, rel=1e-5)


def test_the_later_usdbrl_capture_corrects_exactly_one_bar():
    first = parse(USDBRL, recorded("USDBRL_1d"))
    later = parse(USDBRL, recorded("USDBRL_1d", "_captured_2019-02-01"))
    changed = first.rows.join(later.rows, on="bar_time", suffix="_later").filter(
        pl.any_horizontal([pl.col(c) != pl.col(f"{c}_later") for c in ("open", "high", "low", "close")])
    )
    assert changed["bar_time"].to_list() == [daily_bar_time(USDBRL.instrument, generate.CORRECTED_DAY)]
    assert changed["high"].item() - changed["high_later"].item() == pytest.approx(generate.BAD_TICK, abs=1e-4)
    assert first.rows.height == later.rows.height


# ------------------------------------------------------------------------------------------ quirks
def test_null_holiday_is_missing_and_a_duplicated_last_day_keeps_the_later_quote():
    body = (QUIRKS / "quirk_null_holiday_and_duplicated_last_day_SPX.json").read_bytes()
    parsed = parse(SPX, body)
    assert (parsed.records, parsed.missing, parsed.quarantine) == (6, 1, [])
    assert parsed.rows["bar_time"].to_list() == [
        utc(2018, 12, 31, 5),
        utc(2019, 1, 2, 5),
        utc(2019, 1, 3, 5),
        utc(2019, 1, 4, 5),
    ]
    last = bar(parsed, dt.date(2019, 1, 4))
    assert last["close"] == pytest.approx(2531.94, abs=1e-3) and last["volume"] == 4213410000


def test_a_still_forming_last_bar_with_null_prices_is_missing():
    def still_forming(result):
        result["timestamp"].append(result["timestamp"][-1] + 3 * 86400)
        for values in (*result["indicators"]["quote"][0].values(), result["indicators"]["adjclose"][0]["adjclose"]):
            values.append(None)

    body = edited((QUIRKS / "quirk_null_holiday_and_duplicated_last_day_SPX.json").read_bytes(), still_forming)
    parsed = parse(SPX, body)
    assert (parsed.missing, parsed.rows.height) == (2, 4)


def test_split_ratio_is_numerator_over_denominator_and_events_land_by_their_own_date():
    parsed = parse(TLT, (QUIRKS / "quirk_split_and_dividends_TLT.json").read_bytes())
    assert bar(parsed, dt.date(2018, 12, 4), TLT)["split_ratio"] == 2.0
    # The dividend's key is 2018-12-01 00:00 UTC, its date 2018-12-03: the date decides.
    assert bar(parsed, dt.date(2018, 12, 3), TLT)["dividend"] == 0.2456
    assert parsed.rows.filter(pl.col("dividend").is_not_null()).height == 1
    [orphan] = parsed.quarantine
    assert orphan.field == "events.dividends" and "2018-12-05" in orphan.reason and "no bar" in orphan.reason
    assert bar(parsed, dt.date(2018, 11, 30), TLT)["adj_close"] < bar(parsed, dt.date(2018, 11, 30), TLT)["close"]


def test_a_reverse_split_gives_a_ratio_below_one():
    def reverse(result):
        result["events"]["splits"] = {
            k: {**v, "numerator": 1.0, "denominator": 10.0, "splitRatio": "1:10"}
            for k, v in result["events"]["splits"].items()
        }

    parsed = parse(TLT, edited((QUIRKS / "quirk_split_and_dividends_TLT.json").read_bytes(), reverse))
    assert bar(parsed, dt.date(2018, 12, 4), TLT)["split_ratio"] == pytest.approx(0.1)


def test_404_not_found_envelope_is_a_payload_error_naming_source_dataset_and_field():
    error = refused(SPX, (QUIRKS / "error_404_not_found.json").read_bytes(), status=404)
    assert (error.source, error.dataset_id, error.field) == ("yahoo", "yahoo.SPX_1d", "chart.error")
    assert "Not Found: No data found, symbol may be delisted" in str(error) and "HTTP 404" in str(error)


def test_a_window_without_bars_is_empty_not_an_error():
    parsed = parse(IBOV, (QUIRKS / "quirk_empty_window_IBOV.json").read_bytes())
    assert parsed.rows.is_empty() and parsed.quarantine == [] and parsed.missing == 0


def test_a_bar_on_a_day_the_calendar_is_closed_is_counted_and_not_stored():
    # Yahoo quotes USD/BRL on B3 holidays (London trades); 2018-11-15 (Proclamação da República) is one.
    def holiday_quote(result):
        stamp = int(dt.datetime(2018, 11, 15, tzinfo=dt.UTC).timestamp())
        at = next(i for i, t in enumerate(result["timestamp"]) if t > stamp)
        result["timestamp"].insert(at, stamp)
        quote = result["indicators"]["quote"][0]
        for name, values in (*quote.items(), ("adjclose", result["indicators"]["adjclose"][0]["adjclose"])):
            values.insert(at, 0 if name == "volume" else 3.78)

    clean = parse(USDBRL, recorded("USDBRL_1d"))
    parsed = parse(USDBRL, edited(recorded("USDBRL_1d"), holiday_quote))
    assert parsed.rows.equals(clean.rows) and parsed.records == clean.records + 1 and parsed.quarantine == []


def test_an_incomplete_bar_is_quarantined_with_the_null_fields():
    def no_low(result):
        result["indicators"]["quote"][0]["low"][3] = None

    parsed = parse(SPX, edited((QUIRKS / "quirk_null_holiday_and_duplicated_last_day_SPX.json").read_bytes(), no_low))
    [record] = parsed.quarantine
    assert (record.record_index, record.field) == (3, "low") and "incomplete bar" in record.reason
    assert parsed.rows.height == 3


@pytest.mark.parametrize(
    "edit, field",
    [
        (lambda r: r["indicators"]["quote"][0].pop("close"), "indicators.quote[0].close"),
        (lambda r: r["indicators"]["adjclose"][0]["adjclose"].pop(), "indicators.adjclose[0].adjclose"),
        (lambda r: r["meta"].update(dataGranularity="1wk"), "meta.dataGranularity"),
        (lambda r: r["meta"].update(exchangeTimezoneName="Mars/Olympus"), "meta.exchangeTimezoneName"),
    ],
    ids=["renamed-close", "short-adjclose", "granularity", "time-zone"],
)
def test_a_changed_format_refuses_the_payload_naming_the_field(edit, field):
    error = refused(SPX, edited((QUIRKS / "quirk_null_holiday_and_duplicated_last_day_SPX.json").read_bytes(), edit))
    assert error.field == field and "yahoo.SPX_1d" in str(error)


def test_an_html_page_is_refused():
    error = refused(SPX, b"<html><head><title>Will be right back...</title></head></html>", status=503)
    assert "HTML" in str(error) and "Will be right back" in str(error)


# ------------------------------------------------------------------------------------------ requests
def test_chart_params_pad_the_window_by_a_day_each_side_in_unix_seconds():
    params = chart_params(dt.date(2016, 3, 4), dt.date(2016, 3, 6))
    assert params == {
        "period1": str(int(utc(2016, 3, 3).timestamp())),
        "period2": str(int(utc(2016, 3, 8).timestamp())),
        "interval": "1d",
        "events": "div,splits",
        "includeAdjustedClose": "true",
    }
    assert (params["period1"], params["period2"]) == ("1456963200", "1457395200")


def test_a_partition_fetch_asks_for_its_window_and_is_served_by_the_recording_that_covers_it():
    transport = CountingReplay(RECORDINGS)
    session = SourceSession(HttpClient(transport, rate_limits={"yahoo": 1000.0}), live=False)
    [payload] = connector.fetch(session, SPX, dt.date(2016, 3, 4), dt.date(2016, 3, 6))
    assert transport.queries == [chart_params(dt.date(2016, 3, 4), dt.date(2016, 3, 6))]
    assert payload.request.startswith("GET https://query2.finance.yahoo.com/v8/finance/chart/^GSPC?period1=1456963200")
    assert "replayed from the recording of period1=1419984000&period2=1546387200" in payload.request
    assert (payload.window_start, payload.window_end, payload.fetched_at) == (
        dt.date(2016, 3, 4),
        dt.date(2016, 3, 6),
        utc(2019, 1, 2, 6),
    )
    assert payload.body == recorded("SPX_1d")


def test_the_offline_fetch_of_the_recorded_window_serves_the_latest_capture():
    session = SourceSession(HttpClient(CountingReplay(RECORDINGS), rate_limits={"yahoo": 1000.0}), live=False)
    [payload] = connector.fetch(session, USDBRL, *WINDOW)
    assert payload.body == recorded("USDBRL_1d", "_captured_2019-02-01") and payload.fetched_at == utc(2019, 2, 1, 6)


def test_a_429_is_retried_by_the_client():
    answers = [httpx.Response(429, text="Too Many Requests"), httpx.Response(200, content=recorded("VIX_1d"))]
    client = HttpClient(
        httpx.MockTransport(lambda request: answers.pop(0)), sleep=lambda seconds: None, rate_limits={"yahoo": 1000.0}
    )
    [payload] = connector.fetch(SourceSession(client, live=False), CATALOG.get("yahoo.VIX_1d"), *WINDOW)
    assert payload.status == 200 and payload.body == recorded("VIX_1d") and answers == []


# ------------------------------------------------------------------------------------------ live transport
def test_the_live_transport_is_an_httpx_transport_built_without_touching_the_network():
    transport = connector.live_transport()
    assert isinstance(transport, httpx.BaseTransport) and isinstance(transport, YfinanceTransport)


class FakeYahoo(BaseAdapter):
    """Yahoo on a requests adapter: the cookie at fc.yahoo.com, a crumb at getcrumb, then the scripted charts."""

    CRUMB = "Fake.Crumb/1"

    def __init__(self, session: requests.Session, charts: list):
        super().__init__()
        self.session, self.charts, self.seen = session, list(charts), []

    def send(self, request, **kwargs):
        self.seen.append(request)
        url = httpx.URL(request.url)
        if url.host == "fc.yahoo.com":
            self.session.cookies.set(
                "A3", "d=AQABBfake&S=AQAAAfake", domain=".yahoo.com", path="/", expires=int(utc(2031, 1, 1).timestamp())
            )
            return self.reply(request, 404, b"")
        if url.path == "/v1/test/getcrumb":
            return self.reply(request, 200, self.CRUMB.encode(), "text/plain;charset=utf-8")
        if url.path.startswith("/v8/finance/chart/"):
            answer = self.charts.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return self.reply(request, *answer)
        return self.reply(request, 404, b"<html><body>no consent form here</body></html>", "text/html")

    @staticmethod
    def reply(request, status: int, body: bytes, content_type: str = "application/json;charset=utf-8"):
        response = requests.Response()
        response.status_code, response._content, response.url, response.request = status, body, request.url, request
        response.headers = CaseInsensitiveDict(
            {"Content-Type": content_type, "Content-Encoding": "gzip", "Date": "Wed, 02 Jan 2019 06:00:00 GMT"}
        )
        response.encoding = "utf-8"
        return response

    def close(self):
        pass


@pytest.fixture(scope="module", autouse=True)
def _yfinance_cache_in_tmp(tmp_path_factory):
    """yfinance keeps Yahoo's cookie in a sqlite cache: these tests keep it out of the home directory."""
    import yfinance

    yfinance.set_tz_cache_location(str(tmp_path_factory.mktemp("yfinance")))


def fake_yahoo(charts: list) -> tuple[FakeYahoo, YfinanceTransport]:
    session = requests.Session()
    yahoo = FakeYahoo(session, charts)
    session.mount("https://", yahoo)
    return yahoo, connector.live_transport(session)


def live_session(transport: httpx.BaseTransport) -> SourceSession:
    def no_network(request):
        raise AssertionError(f"yahoo went past its own client: {request.url}")

    client = HttpClient(
        httpx.MockTransport(no_network),
        source_transports={"yahoo": transport},
        sleep=lambda seconds: None,
        rate_limits={"yahoo": 1000.0},
        retry=RetryPolicy(max_attempts=3),
    )
    return SourceSession(client, live=True)


def test_the_live_transport_fetches_through_yfinance_with_cookie_and_crumb_and_keeps_the_bytes():
    body = recorded("TLT_1d")
    yahoo, transport = fake_yahoo([(200, body)])
    [payload] = connector.fetch(live_session(transport), TLT, *WINDOW)
    assert payload.body == body and payload.status == 200 and payload.fetched_at == utc(2019, 1, 2, 6)
    assert payload.content_type == "application/json;charset=utf-8"
    assert "crumb" not in payload.request and payload.request.startswith(f"GET {CHART_URL.format(symbol='TLT')}?")
    [chart] = [r for r in yahoo.seen if "/v8/finance/chart/" in r.url]
    sent = httpx.URL(chart.url)
    assert sent.path == "/v8/finance/chart/TLT"
    assert {k: v for k, v in sent.params.items() if k != "crumb"} == chart_params(*WINDOW)
    assert sent.params["crumb"] == FakeYahoo.CRUMB and "A3=" in chart.headers.get("Cookie", "")
    assert parse(TLT, payload.body).rows.height == 1007


def test_yahoo_rate_limiting_through_yfinance_is_retried_by_the_shared_client():
    body = recorded("EWZ_1d")
    # yfinance retries a 4xx once with its other cookie strategy, then raises YFRateLimitError on a second 429: the
    # transport answers 429 and the client's second attempt gets the chart.
    yahoo, transport = fake_yahoo([(429, b"Too Many Requests"), (429, b"Too Many Requests"), (200, body)])
    [payload] = connector.fetch(live_session(transport), EWZ, *WINDOW)
    assert payload.body == body and payload.status == 200 and yahoo.charts == []


def test_a_network_error_inside_yfinance_is_a_transport_error_the_client_retries():
    yahoo, transport = fake_yahoo([requests.ConnectionError("connection reset")] * 3)
    with pytest.raises(SourceHTTPError, match="after 3 attempts.*ConnectError: ConnectionError: connection reset"):
        connector.fetch(live_session(transport), EWZ, *WINDOW)
    assert yahoo.charts == []


# ------------------------------------------------------------------------------------------ recordings


def test_manifest_entries_are_synthetic_captured_after_their_last_bar_and_small():
    exchanges = manifest()["exchanges"]
    assert manifest()["window_params"] == {"start": "period1", "end": "period2", "format": "unix"}
    yahoo_datasets = [d for d in CATALOG.datasets.values() if d.source == "yahoo"]
    assert len(exchanges) == len(yahoo_datasets) + 1  # one chart per dataset, plus the later USD/BRL capture
    assert {f"yahoo.{e['response']['body_file'].split('_2015')[0]}" for e in exchanges} == {
        str(d.id) for d in yahoo_datasets
    }
    for exchange in exchanges:
        assert exchange["provenance"] == "synthetic" and exchange["note"].startswith("SYNTHETIC")
        assert exchange["request"]["params"] == chart_params(*WINDOW)
        captured = dt.datetime.fromisoformat(exchange["captured_at"].replace("Z", "+00:00"))
        body = json.loads((RECORDED / exchange["response"]["body_file"]).read_bytes())
        assert dt.datetime.fromtimestamp(body["chart"]["result"][0]["timestamp"][-1], dt.UTC) < captured
