"""Secrets never leave the process: redaction of URLs, free text and third-party log records."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable, Mapping
from urllib.parse import unquote_plus, urlsplit, urlunsplit

import httpx

SECRET_PARAMS: frozenset[str] = frozenset({"api_key", "apikey", "token", "access_key", "key"})

REDACTED = "***"

# Free text (log lines, error bodies) has no URL structure to parse, so secrets are
# found lexically; the look-behind keeps e.g. "monkey=" or "series_key=" intact while
# still catching a percent-encoded "%26api_key=" inside a nested URL.
_SECRET_IN_TEXT = re.compile(
    r"(?<![A-Za-z_])(" + "|".join(sorted(SECRET_PARAMS, key=len, reverse=True)) + r")=([^&#\s'\"<>]+)",
    re.IGNORECASE,
)

# httpcore logs on child loggers, and logger-level filters do not apply to records
# propagated from children, so every logger that emits records needs the filter.
_THIRD_PARTY_LOGGERS = (
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
)


def is_secret_param(name: str) -> bool:
    return name.lower() in SECRET_PARAMS


def redact_url(url: str | httpx.URL) -> str:
    """The same URL with the value of every secret query parameter replaced by ``***``."""
    text = str(url)
    parts = urlsplit(text)
    if not parts.query:
        return text
    fields = []
    for field in parts.query.split("&"):
        name, separator, _ = field.partition("=")
        fields.append(f"{name}={REDACTED}" if separator and is_secret_param(unquote_plus(name)) else field)
    return urlunsplit(parts._replace(query="&".join(fields)))


def redact_text(text: str) -> str:
    """Free text with every ``secret_name=value`` occurrence redacted."""
    return _SECRET_IN_TEXT.sub(lambda match: f"{match.group(1)}={REDACTED}", text)


class _SecretRedactingFilter(logging.Filter):
    """Rewrites secret query values in third-party log records (httpx logs full URLs)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is the emitter's problem; still redact its parts
            record.msg = redact_text(str(record.msg))
            record.args = tuple(redact_text(str(arg)) for arg in _record_args(record))
            return True
        redacted = redact_text(message)
        if redacted != message:
            record.msg = redacted
            record.args = ()
        return True


def _record_args(record: logging.LogRecord) -> Iterable[object]:
    if isinstance(record.args, Mapping):
        return record.args.values()
    return record.args or ()


_LOG_FILTER = _SecretRedactingFilter()
_LOG_FILTER_LOCK = threading.Lock()


def install_log_redaction() -> None:
    with _LOG_FILTER_LOCK:
        for name in _THIRD_PARTY_LOGGERS:
            third_party_logger = logging.getLogger(name)
            if _LOG_FILTER not in third_party_logger.filters:
                third_party_logger.addFilter(_LOG_FILTER)
