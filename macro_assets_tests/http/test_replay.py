"""Offline replay of recorded exchanges through the real client: exact and covering matches, the replay clock,
several recording roots, and errors that say what is recorded (without secrets)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from macro_assets.http.client import SourceHTTPError, response_time
from macro_assets.http.replay import REPLAYED_FROM_HEADER, RecordingNotFound, ReplayTransport
from macro_assets_tests.http.support import API_KEY, RecordingSleep, make_client

SGS_URL = "https://api.bcb.gov.br/dados/serie/bcdata.sgs.{code}/dados"
WINDOW_2015_2018 = {"formato": "json", "dataInicial": "01/01/2015", "dataFinal": "31/12/2018"}
SGS_WINDOW_PARAMS = {"start": "dataInicial", "end": "dataFinal", "format": "%d/%m/%Y"}


def write_recordings(
    root: Path,
    exchanges: list[tuple[dict[str, str], str, bytes]],
    window_params: dict[str, str] | None = None,
    code: str = "432",
) -> None:
    """One bcb_sgs manifest for series `code` with an exchange per (params, captured_at, body)."""
    manifest_dir = root / "bcb_sgs" / code
    manifest_dir.mkdir(parents=True)
    entries = []
    for index, (params, captured_at, body) in enumerate(exchanges):
        body_file = f"body_{index}.json"
        (manifest_dir / body_file).write_bytes(body)
        entries.append(
            {
                "request": {"method": "GET", "url": SGS_URL.format(code=code), "params": params},
                "response": {"status": 200, "headers": {"Content-Type": "application/json"}, "body_file": body_file},
                "captured_at": captured_at,
                "provenance": "synthetic",
                "note": "test fixture",
            }
        )
    manifest = {"source": "bcb_sgs", "exchanges": entries}
    if window_params:
        manifest["window_params"] = window_params
    (manifest_dir / "manifest.json").write_text(json.dumps(manifest))


def sgs(code: str = "432") -> str:
    return SGS_URL.format(code=code)


def test_replay_answers_a_window_inside_a_recorded_window_with_that_recording(
    tmp_path: Path, sleep: RecordingSleep
) -> None:
    body = b'[{"data":"02/01/2015","valor":"11.75"}]'
    write_recordings(tmp_path, [(WINDOW_2015_2018, "2019-01-07T12:00:00Z", body)], SGS_WINDOW_PARAMS)
    one_week = {"formato": "json", "dataInicial": "01/06/2016", "dataFinal": "07/06/2016"}

    with make_client(sleep, transport=ReplayTransport(tmp_path)) as client:
        response = client.get("bcb_sgs", sgs(), one_week)
        assert response.content == body
        assert response.headers[REPLAYED_FROM_HEADER] == "formato=json&dataInicial=01/01/2015&dataFinal=31/12/2018"
        exact = client.get("bcb_sgs", sgs(), WINDOW_2015_2018)
        assert REPLAYED_FROM_HEADER not in exact.headers

        beyond = {"formato": "json", "dataInicial": "01/12/2018", "dataFinal": "15/01/2019"}
        with pytest.raises(RecordingNotFound):
            client.get("bcb_sgs", sgs(), beyond)
        other_format = {"formato": "csv", "dataInicial": "01/06/2016", "dataFinal": "07/06/2016"}
        with pytest.raises(RecordingNotFound):
            client.get("bcb_sgs", sgs(), other_format)


def test_without_window_params_only_the_exact_request_is_replayed(tmp_path: Path, sleep: RecordingSleep) -> None:
    write_recordings(tmp_path, [(WINDOW_2015_2018, "2019-01-07T12:00:00Z", b"[]")])
    one_week = {"formato": "json", "dataInicial": "01/06/2016", "dataFinal": "07/06/2016"}
    with make_client(sleep, transport=ReplayTransport(tmp_path)) as client, pytest.raises(RecordingNotFound):
        client.get("bcb_sgs", sgs(), one_week)


def test_replay_serves_the_recorded_bytes_with_capture_time_as_date(tmp_path: Path, sleep: RecordingSleep) -> None:
    body = b'[{"data":"02/01/2015","valor":"11.75"}]\n'
    write_recordings(tmp_path, [(WINDOW_2015_2018, "2019-01-07T12:00:00Z", body)])

    with make_client(sleep, transport=ReplayTransport(tmp_path)) as client:
        response = client.get("bcb_sgs", sgs(), WINDOW_2015_2018)

    assert response.status_code == 200
    assert response.content == body
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Date"] == "Mon, 07 Jan 2019 12:00:00 GMT"
    assert response_time(response) == datetime(2019, 1, 7, 12, 0, tzinfo=UTC)


def test_replay_matches_params_in_any_order_and_ignores_api_keys(tmp_path: Path, sleep: RecordingSleep) -> None:
    write_recordings(tmp_path, [(WINDOW_2015_2018, "2019-01-07T12:00:00Z", b"[]")])
    reordered_with_key = {
        "dataFinal": "31/12/2018",
        "api_key": API_KEY,
        "dataInicial": "01/01/2015",
        "formato": "json",
    }

    with make_client(sleep, transport=ReplayTransport(tmp_path)) as client:
        response = client.get("bcb_sgs", sgs(), reordered_with_key)

    assert response.content == b"[]"


def test_replay_clock_selects_the_latest_capture_not_after_it(tmp_path: Path, sleep: RecordingSleep) -> None:
    write_recordings(
        tmp_path,
        [
            (WINDOW_2015_2018, "2019-01-07T12:00:00Z", b'"first vintage"'),
            (WINDOW_2015_2018, "2020-06-01T09:30:00+00:00", b'"revised vintage"'),
        ],
    )

    as_of_2019 = ReplayTransport(tmp_path, clock=datetime(2019, 12, 31, tzinfo=UTC))
    with make_client(sleep, transport=as_of_2019) as client:
        older = client.get("bcb_sgs", sgs(), WINDOW_2015_2018)
    with make_client(sleep, transport=ReplayTransport(tmp_path)) as client:
        newest = client.get("bcb_sgs", sgs(), WINDOW_2015_2018)

    assert older.content == b'"first vintage"'
    assert response_time(older) == datetime(2019, 1, 7, 12, 0, tzinfo=UTC)
    assert newest.content == b'"revised vintage"'
    assert response_time(newest) == datetime(2020, 6, 1, 9, 30, tzinfo=UTC)


def test_replay_before_any_capture_is_not_found(tmp_path: Path, sleep: RecordingSleep) -> None:
    write_recordings(tmp_path, [(WINDOW_2015_2018, "2019-01-07T12:00:00Z", b"[]")])
    too_early = ReplayTransport(tmp_path, clock=datetime(2019, 1, 7, 11, 59, tzinfo=UTC))

    with make_client(sleep, transport=too_early) as client:
        with pytest.raises(RecordingNotFound, match="only recorded after the replay clock"):
            client.get("bcb_sgs", sgs(), WINDOW_2015_2018)


# --- several roots ------------------------------------------------------------------


def test_a_request_the_first_root_lacks_is_served_from_the_second(tmp_path: Path, sleep: RecordingSleep) -> None:
    packaged, extra = tmp_path / "packaged", tmp_path / "extra"
    write_recordings(packaged, [(WINDOW_2015_2018, "2019-01-07T12:00:00Z", b'"432 from the packaged root"')])
    write_recordings(extra, [(WINDOW_2015_2018, "2019-01-08T12:00:00Z", b'"433 from the extra root"')], code="433")
    transport = ReplayTransport(packaged, extra)

    with make_client(sleep, transport=transport) as client:
        selic = client.get("bcb_sgs", sgs("432"), WINDOW_2015_2018)
        ipca = client.get("bcb_sgs", sgs("433"), WINDOW_2015_2018)
        with pytest.raises(RecordingNotFound) as raised:
            client.get("bcb_sgs", sgs("24363"), WINDOW_2015_2018)

    assert selic.content == b'"432 from the packaged root"'
    assert ipca.content == b'"433 from the extra root"'
    assert response_time(ipca) == datetime(2019, 1, 8, 12, 0, tzinfo=UTC)
    # Nothing anywhere: the error names both roots it looked in.
    assert f"{packaged}, {extra}" in str(raised.value)


def test_the_replay_clock_chooses_among_the_captures_of_every_root(tmp_path: Path, sleep: RecordingSleep) -> None:
    packaged, extra = tmp_path / "packaged", tmp_path / "extra"
    write_recordings(packaged, [(WINDOW_2015_2018, "2019-01-07T12:00:00Z", b'"captured in January"')])
    write_recordings(extra, [(WINDOW_2015_2018, "2019-02-20T12:00:00Z", b'"captured in February"')])

    january = ReplayTransport(packaged, extra, clock=datetime(2019, 1, 31, tzinfo=UTC))
    with make_client(sleep, transport=january) as client:
        assert client.get("bcb_sgs", sgs(), WINDOW_2015_2018).content == b'"captured in January"'
    with make_client(sleep, transport=ReplayTransport(packaged, extra)) as client:
        assert client.get("bcb_sgs", sgs(), WINDOW_2015_2018).content == b'"captured in February"'


# --- what a miss says ---------------------------------------------------------------


class CountingReplayTransport(ReplayTransport):
    def __init__(self, recordings_root: Path) -> None:
        super().__init__(recordings_root)
        self.requests_seen = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests_seen += 1
        return super().handle_request(request)


def test_unrecorded_window_raises_at_once_listing_recorded_windows(tmp_path: Path, sleep: RecordingSleep) -> None:
    windows = [
        {"formato": "json", "dataInicial": f"01/01/{year}", "dataFinal": f"31/12/{year}"} for year in range(2010, 2017)
    ]
    write_recordings(tmp_path, [(window, "2019-01-07T12:00:00Z", b"[]") for window in windows])
    transport = CountingReplayTransport(tmp_path)
    unrecorded = {"formato": "json", "dataInicial": "01/01/2020", "dataFinal": "31/12/2020", "api_key": API_KEY}

    with make_client(sleep, transport=transport) as client:
        with pytest.raises(RecordingNotFound) as raised:
            client.get("bcb_sgs", sgs(), unrecorded)

    error = raised.value
    assert isinstance(error, SourceHTTPError)
    assert transport.requests_seen == 1
    assert sleep.delays == []
    assert error.source == "replay"
    assert error.status is None
    message = str(error)
    assert "dataInicial=01/01/2010&dataFinal=31/12/2010" in message
    assert "dataInicial=01/01/2014&dataFinal=31/12/2014" in message
    assert "01/01/2015" not in message
    assert "(and 2 more)" in message
    assert "MACRO_ASSETS_MODE=live" in message
    assert "api_key=***" in message
    assert API_KEY not in message


def test_replay_of_an_unknown_path_says_nothing_is_recorded(tmp_path: Path, sleep: RecordingSleep) -> None:
    write_recordings(tmp_path, [(WINDOW_2015_2018, "2019-01-07T12:00:00Z", b"[]")])

    with make_client(sleep, transport=ReplayTransport(tmp_path)) as client:
        with pytest.raises(RecordingNotFound, match="nothing is recorded for GET api.bcb.gov.br/other"):
            client.get("bcb_sgs", "https://api.bcb.gov.br/other")


def test_replay_reads_manifests_lazily(tmp_path: Path) -> None:
    transport = ReplayTransport(tmp_path)
    write_recordings(tmp_path, [(WINDOW_2015_2018, "2019-01-07T12:00:00Z", b"[]")])

    with httpx.Client(transport=transport) as plain_client:
        response = plain_client.get(sgs(), params=WINDOW_2015_2018)

    assert response.content == b"[]"


def test_a_malformed_manifest_names_its_file_and_exchange(tmp_path: Path) -> None:
    write_recordings(tmp_path, [(WINDOW_2015_2018, "not a timestamp", b"[]")])

    with httpx.Client(transport=ReplayTransport(tmp_path)) as plain_client:
        with pytest.raises(ValueError, match=r"bcb_sgs/432/manifest.json: exchange #0 is malformed"):
            plain_client.get(sgs(), params=WINDOW_2015_2018)


def test_there_is_one_recording_not_found_error() -> None:
    from macro_assets.http import client

    assert not hasattr(client, "RecordingNotFound")
    assert issubclass(RecordingNotFound, client.SourceHTTPError)
