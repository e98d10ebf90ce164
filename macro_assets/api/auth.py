"""Who may read: API keys (stored hashed in the warehouse, created and revoked from the CLI) or HS256 JWTs signed
with MACRO_ASSETS_API_JWT_SECRET, each carrying scopes.

A key is `mak_<key id>_<secret>`: the key id is its public lookup prefix, the secret 256 random bits. Only the
SHA-256 of the whole key is stored, compared in constant time. Refusals say what the client must do, never which
part of a credential was wrong (a token is said to be expired only once its signature has been verified).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

import jwt

from macro_assets.errors import InvalidInput, MacroAssetsError
from macro_assets.warehouse.db import Database

KEY_PREFIX = "mak"
# Each scope with what it grants: admin includes read:all, which includes read:series (observations only).
GRANTS = {
    "read:series": frozenset({"read:series"}),
    "read:all": frozenset({"read:series", "read:all"}),
    "admin": frozenset({"read:series", "read:all", "admin"}),
}
SCOPES = tuple(GRANTS)
JWT_ALGORITHM = "HS256"


class Unauthorized(MacroAssetsError):
    """No usable credential: missing, malformed, unknown, revoked, expired or badly signed (401)."""


class Forbidden(MacroAssetsError):
    """A valid credential without the scope the endpoint needs (403)."""


@dataclass(frozen=True)
class Principal:
    """The caller, as far as the routes care: a name for the logs and the scopes granted."""

    subject: str
    scopes: frozenset[str]

    def require(self, scope: str) -> None:
        if scope not in self.scopes:
            raise Forbidden(f"this credential lacks the scope {scope!r}")


def granted(scopes: list[str] | tuple[str, ...]) -> frozenset[str]:
    """Every scope the given ones grant; an unknown scope grants nothing."""
    return frozenset().union(*(GRANTS.get(scope, frozenset()) for scope in scopes))


@dataclass(frozen=True)
class ApiKey:
    """A stored key as listed: never its secret or its digest."""

    key_id: str
    name: str
    scopes: tuple[str, ...]
    created_at: dt.datetime
    revoked_at: dt.datetime | None


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiKeys:
    """The api_keys table (sql/007_api_keys.sql)."""

    def __init__(self, db: Database):
        self._db = db

    def create(self, name: str, scopes: list[str]) -> tuple[str, ApiKey]:
        """A new key and its record; the key itself exists only in the return value."""
        if not name.strip():
            raise InvalidInput("api key name: give a non-empty name")
        unknown = sorted(set(scopes) - set(SCOPES))
        if not scopes or unknown:
            raise InvalidInput(f"api key scopes: {unknown or 'none given'}; expected some of {list(SCOPES)}")
        key_id = secrets.token_hex(6)
        key = f"{KEY_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
        with self._db.transaction() as cursor:
            cursor.execute(
                "INSERT INTO api_keys (key_id, name, key_sha256, scopes) VALUES (%s, %s, %s, %s)"
                " RETURNING key_id, name, scopes, created_at, revoked_at",
                (key_id, name.strip(), _digest(key), sorted(set(scopes))),
            )
            record = _record(cursor.fetchone())
        return key, record

    def revoke(self, key_id: str) -> bool:
        """Revoke a key by its id; False when no active key has that id."""
        with self._db.transaction() as cursor:
            cursor.execute("UPDATE api_keys SET revoked_at = now() WHERE key_id = %s AND revoked_at IS NULL", (key_id,))
            return cursor.rowcount == 1

    def list(self) -> list[ApiKey]:
        with self._db.cursor() as cursor:
            cursor.execute("SELECT key_id, name, scopes, created_at, revoked_at FROM api_keys ORDER BY created_at")
            return [_record(row) for row in cursor.fetchall()]

    def verify(self, key: str) -> Principal:
        prefix, _, rest = key.partition("_")
        key_id, _, secret = rest.partition("_")
        if prefix != KEY_PREFIX or not key_id or not secret:
            raise Unauthorized("invalid credentials")
        with self._db.cursor() as cursor:
            cursor.execute("SELECT name, key_sha256, scopes, revoked_at FROM api_keys WHERE key_id = %s", (key_id,))
            row = cursor.fetchone()
        stored = row[1] if row else _digest("")
        matches = hmac.compare_digest(stored, _digest(key))
        if row is None or not matches or row[3] is not None:
            raise Unauthorized("invalid credentials")
        return Principal(subject=f"key {key_id} ({row[0]})", scopes=granted(row[2]))


def _record(row) -> ApiKey:
    key_id, name, scopes, created_at, revoked_at = row
    return ApiKey(key_id, name, tuple(scopes), created_at, revoked_at)


def issue_jwt(secret: str, subject: str, scopes: list[str], expires_in: dt.timedelta) -> str:
    """A token the API accepts: what an identity provider sharing the secret would sign."""
    now = dt.datetime.now(dt.UTC)
    claims = {"sub": subject, "scopes": scopes, "iat": now, "exp": now + expires_in}
    return jwt.encode(claims, secret, algorithm=JWT_ALGORITHM)


def verify_jwt(token: str, secret: str) -> Principal:
    """An HS256 token with `exp` (required) and `scopes` (a list, or a space-separated `scope` string)."""
    try:
        claims = jwt.decode(token, secret, algorithms=[JWT_ALGORITHM], options={"require": ["exp"]})
    except jwt.ExpiredSignatureError:
        # Only a correctly signed token reaches this: saying so tells nobody without the secret anything.
        raise Unauthorized("token expired") from None
    except jwt.InvalidTokenError:
        raise Unauthorized("invalid credentials") from None
    scopes = claims.get("scopes")
    if scopes is None:
        scopes = str(claims.get("scope", "")).split()
    if not isinstance(scopes, list) or not all(isinstance(scope, str) for scope in scopes):
        raise Unauthorized("invalid credentials")
    return Principal(subject=f"token {claims.get('sub', '?')}", scopes=granted(scopes))


class Authenticator:
    """The credential of a request: `Authorization: Bearer <API key or JWT>` or `X-API-Key: <API key>`."""

    def __init__(self, keys: ApiKeys, jwt_secret: str | None):
        self._keys = keys
        self._jwt_secret = jwt_secret

    def authenticate(self, authorization: str | None, api_key: str | None) -> Principal:
        credential = api_key
        if credential is None and authorization is not None:
            scheme, _, value = authorization.partition(" ")
            if scheme.lower() != "bearer" or not value.strip():
                raise Unauthorized("invalid credentials")
            credential = value.strip()
        if not credential:
            raise Unauthorized("credentials required: send 'Authorization: Bearer <API key or token>'")
        if credential.count(".") == 2:  # a JWT: header.claims.signature; a key has no dots
            if self._jwt_secret is None:
                raise Unauthorized("invalid credentials")
            return verify_jwt(credential, self._jwt_secret)
        return self._keys.verify(credential)
