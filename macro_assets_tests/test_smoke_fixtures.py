from macro_assets.object_store import open_object_store


def test_fixtures_work(warehouse, s3_endpoint):
    assert warehouse.as_of("fred.GDP").empty
    store = open_object_store("s3://smoke/prefix", endpoint_url=s3_endpoint)
    store.put("a/b.json", b"{}")
    assert store.get("a/b.json") == b"{}" and store.list("a/") == ["a/b.json"]
