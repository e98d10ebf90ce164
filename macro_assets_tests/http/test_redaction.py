"""Secrets never leave the process: URLs, free text, error messages and third-party log records are redacted."""

from __future__ import annotations

import logging

import httpx
import pytest

from macro_assets.http.client import RetryPolicy, SourceHTTPError
from macro_assets.http.redaction import (
    SECRET_PARAMS,
    install_log_redaction,
    is_secret_param,
    redact_text,
    redact_url,
)
from macro_assets_tests.http.support import API_KEY, RecordingSleep, Reply, ScriptedServer, make_client


def test_api_key_never_reaches_logs_or_errors(
    server: ScriptedServer, sleep: RecordingSleep, caplog: pytest.LogCaptureFixture
) -> None:
    server.play(Reply(503, f"bad request for api_key={API_KEY}".encode()))
    caplog.set_level(logging.DEBUG)
    for noisy_logger in ("httpx", "httpcore", "macro_assets.http"):
        caplog.set_level(logging.DEBUG, logger=noisy_logger)

    with make_client(sleep, retry=RetryPolicy(max_attempts=2)) as client:
        with pytest.raises(SourceHTTPError) as raised:
            client.get("fred", server.url("/fred/series/observations"), {"series_id": "GDP", "api_key": API_KEY})

    assert server.received[0].params == [("series_id", "GDP"), ("api_key", API_KEY)]
    messages = [record.getMessage() for record in caplog.records]
    httpx_lines = [m for m in messages if m.startswith("HTTP Request:")]
    assert len(httpx_lines) == 2
    assert all("api_key=***" in line for line in httpx_lines)
    assert any(r.name == "macro_assets.http" and r.levelno == logging.WARNING for r in caplog.records)
    assert any(r.name.startswith("httpcore") for r in caplog.records)
    for text in [*messages, caplog.text, str(raised.value), repr(raised.value), raised.value.url, raised.value.detail]:
        assert API_KEY not in text
    assert "api_key=***" in str(raised.value)


def test_redaction_filter_is_installed_once_however_many_clients(sleep: RecordingSleep) -> None:
    make_client(sleep).close()
    make_client(sleep).close()
    install_log_redaction()

    for name in ("httpx", "httpcore", "httpcore.http11", "httpcore.connection"):
        filters = logging.getLogger(name).filters
        assert len([f for f in filters if type(f).__name__ == "_SecretRedactingFilter"]) == 1


def test_the_filter_redacts_a_record_whose_arguments_carry_the_key() -> None:
    install_log_redaction()
    record = logging.LogRecord(
        "httpx",
        logging.INFO,
        __file__,
        1,
        "HTTP Request: GET %s",
        (f"https://api.stlouisfed.org/fred/series/observations?series_id=GDP&api_key={API_KEY}",),
        None,
    )

    for log_filter in logging.getLogger("httpx").filters:
        log_filter.filter(record)

    assert record.getMessage() == (
        "HTTP Request: GET https://api.stlouisfed.org/fred/series/observations?series_id=GDP&api_key=***"
    )


def test_redact_url_hides_every_secret_param_and_keeps_the_rest() -> None:
    url = (
        f"https://api.example.com/v1/data?series_id=GDP&api_key={API_KEY}"
        "&Token=t0k&key=k&monkey=banana&apikey=a&access_key=b"
    )

    redacted = redact_url(httpx.URL(url))

    assert redacted == (
        "https://api.example.com/v1/data?series_id=GDP&api_key=***&Token=***&key=***"
        "&monkey=banana&apikey=***&access_key=***"
    )
    assert redact_url("https://api.example.com/v1/data") == "https://api.example.com/v1/data"
    assert redact_url(redacted) == redacted  # idempotent: redacting twice changes nothing
    assert SECRET_PARAMS == {"api_key", "apikey", "token", "access_key", "key"}


def test_secret_param_names_are_matched_case_insensitively_and_whole() -> None:
    assert [is_secret_param(name) for name in ("api_key", "API_KEY", "Token", "key")] == [True] * 4
    assert [is_secret_param(name) for name in ("monkey", "series_key", "keys", "series_id")] == [False] * 4


def test_redact_text_finds_secrets_in_free_text_and_nested_urls() -> None:
    text = (
        f"error for api_key={API_KEY} see https://x.test/?next=%2Fa%26api_key={API_KEY}&page=2 "
        "monkey=banana series_key=s1 TOKEN=abc"
    )

    assert redact_text(text) == (
        "error for api_key=*** see https://x.test/?next=%2Fa%26api_key=***&page=2 monkey=banana series_key=s1 TOKEN=***"
    )
