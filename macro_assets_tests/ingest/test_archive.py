"""The verbatim archive: object keys without secrets, the bytes unchanged (on disk and on a real S3 endpoint), and
the payload record that traces every stored row to them."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest

from macro_assets.ingest.archive import archive, archive_key
from macro_assets.object_store import LocalObjectStore, S3ObjectStore
from macro_assets.provenance import Fetched, PayloadRecord
from macro_assets_tests import paths

GDP_BODY = paths.RECORDINGS / "fred" / "GDP_2015-01-01_2018-12-31.json"
FRED_KEY = "abcdefghij0123456789abcdefghij01"


def fetched(
    body: bytes = b"{}",
    content_type: str = "application/json; charset=UTF-8",
    window: tuple[dt.date, dt.date] = (dt.date(2015, 1, 1), dt.date(2018, 12, 31)),
    dataset_id: str = "fred.GDP",
) -> Fetched:
    return Fetched(
        source=dataset_id.partition(".")[0],
        dataset_id=dataset_id,
        request="GET https://api.stlouisfed.org/fred/series/observations?series_id=GDP&api_key=***",
        status=200,
        body=body,
        content_type=content_type,
        fetched_at=dt.datetime(2019, 1, 1, 23, 0, 0, 123456, tzinfo=dt.UTC),
        window_start=window[0],
        window_end=window[1],
    )


def test_the_key_names_source_code_window_fetch_time_and_content_hash():
    body = GDP_BODY.read_bytes()
    sha = hashlib.sha256(body).hexdigest()
    key = archive_key(fetched(body))
    assert key == f"raw/fred/GDP/2015-01-01_2018-12-31/20190101T230000123456Z-{sha[:16]}.json"
    assert "api_key" not in key and FRED_KEY not in key


def test_a_fetch_time_with_an_offset_is_keyed_in_utc():
    item = fetched()
    sao_paulo = dt.timezone(dt.timedelta(hours=-2))
    local = Fetched(**{**item.__dict__, "fetched_at": dt.datetime(2019, 1, 1, 21, 0, 0, 123456, tzinfo=sao_paulo)})
    assert archive_key(local) == archive_key(item)


@pytest.mark.parametrize(
    "content_type, extension",
    [
        ("application/json; charset=UTF-8", "json"),
        ("text/html; charset=utf-8", "html"),
        ("application/xml", "xml"),
        ("text/csv", "csv"),
        ("text/plain; charset=iso-8859-1", "txt"),
        ("application/zip", "zip"),
        ("application/octet-stream", "bin"),
        ("", "bin"),
    ],
)
def test_the_extension_follows_the_content_type(content_type, extension):
    assert archive_key(fetched(content_type=content_type)).endswith(f".{extension}")


def test_an_intraday_window_keeps_its_seconds_and_the_record_keeps_its_dates(tmp_path):
    session = (dt.datetime(2024, 3, 26, 13, 0, tzinfo=dt.UTC), dt.datetime(2024, 3, 26, 18, 0, tzinfo=dt.UTC))
    item = fetched(b'{"values": []}', window=session, dataset_id="twelvedata.USDCOP_5min")
    assert archive_key(item).startswith("raw/twelvedata/USDCOP_5min/20240326T130000_20240326T180000/")
    record = archive(LocalObjectStore(tmp_path), item)
    assert (record.window_start, record.window_end) == (dt.date(2024, 3, 26), dt.date(2024, 3, 26))
    assert type(record.window_start) is dt.date


def test_archive_stores_the_bytes_verbatim_and_describes_them(tmp_path):
    store = LocalObjectStore(tmp_path / "objects")
    body = GDP_BODY.read_bytes()
    item = fetched(body)

    record = archive(store, item)

    assert store.get(record.object_key) == body
    assert store.list("raw/fred/GDP/") == [record.object_key]
    assert record == PayloadRecord(
        object_key=archive_key(item),
        payload_sha256=hashlib.sha256(body).hexdigest(),
        source="fred",
        dataset_id="fred.GDP",
        request=item.request,
        http_status=200,
        bytes=len(body),
        window_start=dt.date(2015, 1, 1),
        window_end=dt.date(2018, 12, 31),
        fetched_at=item.fetched_at,
        refused=None,
    )


def test_the_archive_on_s3_is_byte_identical(s3_endpoint):
    store = S3ObjectStore("ingest-archive", endpoint_url=s3_endpoint)
    body = GDP_BODY.read_bytes()

    record = archive(store, fetched(body))

    assert store.list("raw/fred/GDP/") == [record.object_key]
    assert store.get(record.object_key) == body
    assert hashlib.sha256(store.get(record.object_key)).hexdigest() == record.payload_sha256
