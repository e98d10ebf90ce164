"""Retries that fit the failure: a source down after the HTTP client's own retries is retried minutes later with
backoff; a missing recording (or a refused payload) fails the step at once."""

import logging

import dagster as dg
import pytest

from macro_assets.catalog import load_catalog
from macro_assets.defs.checks import RANGE_END, RANGE_START
from macro_assets.defs.datasets import build_dataset_asset
from macro_assets.defs.resources import REPLAY_TAG
from macro_assets.defs.retries import SOURCE_OUTAGE_RETRY, retried_while_the_source_is_down
from macro_assets.http.client import SourceHTTPError
from macro_assets.http.replay import RecordingNotFound
from macro_assets_tests.defs.test_datasets import resources  # noqa: F401 (a fixture)

LOG = logging.getLogger("test_retries")
URL = "https://api.bcb.gov.br/dados/serie/bcdata.sgs.433/dados"


def test_a_source_down_after_the_client_s_retries_asks_for_a_step_retry_with_backoff():
    with pytest.raises(dg.RetryRequested) as raised:
        with retried_while_the_source_is_down(0, LOG):
            raise SourceHTTPError("bcb_sgs", URL, 503, "Service Unavailable", attempts=5)
    assert raised.value.max_retries == SOURCE_OUTAGE_RETRY.max_retries == 3
    assert 0 <= raised.value.seconds_to_wait <= 120  # 60 s, 180 s, 420 s for the three retries, each +/- 60 s
    with pytest.raises(dg.RetryRequested) as raised:
        with retried_while_the_source_is_down(2, LOG):
            raise SourceHTTPError("bcb_sgs", URL, None, "ConnectError: connection refused", attempts=5)
    assert 360 <= raised.value.seconds_to_wait <= 480
    with pytest.raises(RecordingNotFound):
        with retried_while_the_source_is_down(0, LOG):
            raise RecordingNotFound("replay", URL, None, "nothing is recorded for GET api.bcb.gov.br")


def test_a_missing_recording_fails_the_step_once_without_a_retry(resources):  # noqa: F811
    catalog = load_catalog()
    asset = build_dataset_asset(catalog.get("bcb_sgs.433"), catalog)
    before_any_capture = {RANGE_START: "2018-01-01", RANGE_END: "2018-12-01", REPLAY_TAG: "2018-06-01T00:00:00Z"}
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [asset], resources=resources, instance=instance, tags=before_any_capture, raise_on_error=False
        )
    assert not result.success
    assert not [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_UP_FOR_RETRY]
    assert (
        "only recorded after the replay clock"
        in result.get_step_failure_events()[0].step_failure_data.error.to_string()
    )
