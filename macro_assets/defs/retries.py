"""Retries that fit the failure. The HTTP client already retries what is transient within a request (429, 5xx and
network errors, seconds apart, Retry-After honoured); a source still failing once that budget is spent is down,
and its step is retried minutes later, with exponential backoff and jitter, a few times, while the run's other
steps go on. What would fail again fails at once: a refused payload (recorded by the IO manager), a missing
recording, missing credentials, a catalog error. So no step RetryPolicy: Dagster would apply it to every failure,
the IO manager's refusals included; the asset asks for a retry itself, with the policy's delays."""

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg

from macro_assets.http.client import SourceHTTPError
from macro_assets.http.replay import RecordingNotFound

SOURCE_OUTAGE_RETRY = dg.RetryPolicy(
    max_retries=3, delay=60, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)


def is_source_outage(error: BaseException) -> bool:
    """A source that answered nothing usable after the client's retries; a missing recording is no outage."""
    return isinstance(error, SourceHTTPError) and not isinstance(error, RecordingNotFound)


@contextmanager
def retried_while_the_source_is_down(retry_number: int, log: logging.Logger) -> Iterator[None]:
    """Turns a source outage in the block into a step retry; `retry_number` is the step's (0 on its first try)."""
    try:
        yield
    except SourceHTTPError as error:
        if not is_source_outage(error):
            raise
        wait = SOURCE_OUTAGE_RETRY.calculate_delay(retry_number + 1)
        log.warning(f"{error}; retrying the step in {wait:.0f} s (retry {retry_number + 1})")
        raise dg.RetryRequested(max_retries=SOURCE_OUTAGE_RETRY.max_retries, seconds_to_wait=wait) from error
