import datetime as dt
import time

import pytest

from macro_assets.object_store import LocalObjectStore, S3ObjectStore, open_object_store


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path):
    if request.param == "local":
        return LocalObjectStore(tmp_path / "objects")
    endpoint = request.getfixturevalue("s3_endpoint")
    return open_object_store(f"s3://bucket-{tmp_path.name.lower().replace('_', '-')[:40]}/macro", endpoint_url=endpoint)


def test_put_get_exists_and_list_round_trip(store):
    uri = store.put("raw/fred/GDP/2015-01-01_2018-12-31/a.json", b'{"x": 1}', "application/json")
    store.put("raw/fred/GDP/2015-01-01_2018-12-31/b.json", b"[]")
    store.put("raw/bcb_sgs/432/w/c.json", b"[]")
    assert store.get("raw/fred/GDP/2015-01-01_2018-12-31/a.json") == b'{"x": 1}'
    assert store.exists("raw/fred/GDP/2015-01-01_2018-12-31/a.json")
    assert not store.exists("raw/fred/GDP/missing.json")
    assert store.list("raw/fred/") == [
        "raw/fred/GDP/2015-01-01_2018-12-31/a.json",
        "raw/fred/GDP/2015-01-01_2018-12-31/b.json",
    ]
    assert len(store.list()) == 3
    assert uri == store.uri("raw/fred/GDP/2015-01-01_2018-12-31/a.json")


def test_list_modified_gives_each_key_when_it_was_last_written_in_utc(store):
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)  # S3 stamps LastModified to the second
    store.put("drop/b.csv", b"1")
    store.put("drop/a.csv", b"2")
    store.put("elsewhere/c.csv", b"3")
    after = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
    listed = store.list_modified("drop/")
    assert [key for key, _ in listed] == ["drop/a.csv", "drop/b.csv"] == store.list("drop/")
    assert all(modified.utcoffset() == dt.timedelta(0) and before <= modified <= after for _, modified in listed)


def test_list_modified_moves_when_a_key_is_written_again(store):
    store.put("drop/a.csv", b"first")
    [(_, first)] = store.list_modified("drop/")
    time.sleep(1.1)  # past S3's one-second resolution
    store.put("drop/a.csv", b"second")
    [(_, second)] = store.list_modified("drop/")
    assert second > first


def test_overwrite_replaces_the_object(store):
    store.put("frames/x.parquet", b"one")
    store.put("frames/x.parquet", b"two")
    assert store.get("frames/x.parquet") == b"two"


@pytest.mark.parametrize("key", ["", "/abs", "a/../b", "a//b", "a/./b"])
def test_keys_that_escape_or_are_ambiguous_are_refused(store, key):
    with pytest.raises(ValueError, match="invalid key"):
        store.put(key, b"x")


def test_s3_store_keeps_objects_under_its_prefix(s3_endpoint):
    store = open_object_store("s3://prefixed/deep/prefix", endpoint_url=s3_endpoint)
    store.put("k.json", b"1")
    assert store.uri("k.json") == "s3://prefixed/deep/prefix/k.json"
    raw = store.client.list_objects_v2(Bucket="prefixed")["Contents"]
    assert [o["Key"] for o in raw] == ["deep/prefix/k.json"]
    assert isinstance(store, S3ObjectStore)


def test_local_directory_is_the_default(monkeypatch, tmp_path):
    monkeypatch.setenv("MACRO_ASSETS_HOME", str(tmp_path))
    store = open_object_store()
    assert isinstance(store, LocalObjectStore) and store.root == tmp_path / "objects"


def test_unsupported_url_scheme_is_a_clear_error():
    with pytest.raises(ValueError, match="expected s3://bucket/prefix or a local directory"):
        open_object_store("ftp://somewhere/x")
