"""Credentials over HTTP: API keys (hashed in the warehouse, revocable) and JWTs, scopes, and refusals that help
the client without helping an attacker."""

from __future__ import annotations

import datetime as dt

import httpx
import jwt
import pytest

from macro_assets.api.app import open_database
from macro_assets.api.auth import ApiKeys, issue_jwt

from .conftest import JWT_SECRET

SERIES = "/v1/datasets/fred.GDP/latest"
CURVE = "/v1/datasets/us_treasury.par_nominal/latest"


@pytest.fixture(scope="module")
def anonymous(base_url):
    with httpx.Client(base_url=base_url) as http:
        yield http


def refusal(response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["message"]


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_every_endpoint_but_health_needs_credentials(anonymous):
    for path in (SERIES, "/v1/datasets", "/v1/datasets/fred.GDP", "/v1/dashboard", "/v1/ready"):
        response = anonymous.get(path)
        assert refusal(response) == (401, "credentials required: send 'Authorization: Bearer <API key or token>'")
        assert response.headers["www-authenticate"] == "Bearer"
    assert anonymous.get("/health").status_code == 200


def test_wrong_malformed_and_revoked_keys_get_one_answer(anonymous, keys):
    real = keys["read:all"]
    tampered = real[:-4] + ("AAAA" if not real.endswith("AAAA") else "BBBB")
    for headers in (
        bearer(tampered),
        bearer("mak_000000000000_" + "x" * 43),
        bearer("not-a-key"),
        bearer(keys["revoked"]),
        {"X-API-Key": keys["revoked"]},
        {"Authorization": f"Basic {real}"},
    ):
        response = anonymous.get(SERIES, headers=headers)
        assert refusal(response) == (401, "invalid credentials")
        assert real not in response.text and keys["revoked"] not in response.text


def test_keys_are_stored_as_digests_only(warehouse_url, keys):
    with open_database(warehouse_url).cursor() as cursor:
        cursor.execute("SELECT key_id, key_sha256 FROM api_keys")
        stored = cursor.fetchall()
    for key in keys.values():
        key_id = key.split("_")[1]
        assert key_id in {row[0] for row in stored}
        assert all(key not in value for row in stored for value in row)


def test_scopes_grant_series_then_every_shape(anonymous, keys):
    series_only = bearer(keys["read:series"])
    assert anonymous.get(SERIES, headers=series_only).status_code == 200
    assert refusal(anonymous.get(CURVE, headers=series_only)) == (403, "this credential lacks the scope 'read:all'")
    for scope in ("read:all", "admin"):
        assert anonymous.get(CURVE, headers=bearer(keys[scope])).status_code == 200
    assert anonymous.get(CURVE, headers={"X-API-Key": keys["read:all"]}).status_code == 200


def test_a_key_revoked_after_use_stops_working_at_once(anonymous, warehouse_url):
    store = ApiKeys(open_database(warehouse_url))
    key, record = store.create("soon revoked", ["read:all"])
    assert anonymous.get(SERIES, headers=bearer(key)).status_code == 200
    assert store.revoke(record.key_id) and not store.revoke(record.key_id)
    assert refusal(anonymous.get(SERIES, headers=bearer(key))) == (401, "invalid credentials")
    assert [k.revoked_at is not None for k in store.list() if k.key_id == record.key_id] == [True]


def test_jwts_need_the_secret_an_expiry_and_the_scope(anonymous):
    hour = dt.timedelta(hours=1)
    assert anonymous.get(CURVE, headers=bearer(issue_jwt(JWT_SECRET, "desk", ["read:all"], hour))).status_code == 200
    series_token = jwt.encode({"sub": "nb", "scope": "read:series", "exp": dt.datetime.now(dt.UTC) + hour}, JWT_SECRET)
    assert anonymous.get(SERIES, headers=bearer(series_token)).status_code == 200
    assert refusal(anonymous.get(CURVE, headers=bearer(series_token)))[0] == 403

    expired = issue_jwt(JWT_SECRET, "desk", ["read:all"], -hour)
    assert refusal(anonymous.get(SERIES, headers=bearer(expired))) == (401, "token expired")
    forged = issue_jwt("another-secret-" + "y" * 32, "desk", ["read:all"], hour)
    no_expiry = jwt.encode({"sub": "desk", "scopes": ["read:all"]}, JWT_SECRET)
    unsigned = jwt.encode({"sub": "desk", "scopes": ["read:all"], "exp": dt.datetime.now(dt.UTC) + hour}, None, "none")
    for token in (forged, no_expiry, unsigned):
        assert refusal(anonymous.get(SERIES, headers=bearer(token))) == (401, "invalid credentials")
