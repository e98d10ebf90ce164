"""The API's settings, read from the environment when the app is created (never at import time)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from macro_assets import settings
from macro_assets.errors import MissingCredentials

# Redis is opt-in: with no URL the API answers every request from the warehouse.
REDIS_URL_VARIABLE = "MACRO_ASSETS_REDIS_URL"
# A read-only replica of the warehouse for the API's reads; the writers (runs, CLI, api-key) keep the primary's URL.
REPLICA_URL_VARIABLE = "MACRO_ASSETS_API_WAREHOUSE_URL"
JWT_SECRET_VARIABLE = "MACRO_ASSETS_API_JWT_SECRET"
# RFC 7518 3.2: an HS256 key at least as long as the hash (256 bits); shorter ones can be brute-forced offline.
MIN_JWT_SECRET_LENGTH = 32


@dataclass(frozen=True)
class ApiSettings:
    warehouse_url: str | None = None  # None: MACRO_ASSETS_WAREHOUSE_URL, else the embedded server
    migrate: bool = True  # False on a read-only replica: the primary's migrations reach it by replication
    redis_url: str | None = None  # None: no cache
    jwt_secret: str | None = None  # None: bearer JWTs are refused, API keys only
    cache_prefix: str = "macro_assets:api:"

    def __post_init__(self):
        if self.jwt_secret is not None and len(self.jwt_secret) < MIN_JWT_SECRET_LENGTH:
            raise MissingCredentials(
                f"{JWT_SECRET_VARIABLE} is shorter than {MIN_JWT_SECRET_LENGTH} characters;"
                " use e.g. `openssl rand -hex 32`, or leave it empty to accept API keys only"
            )

    @classmethod
    def from_environment(cls) -> ApiSettings:
        replica_url = os.environ.get(REPLICA_URL_VARIABLE) or None
        return cls(
            warehouse_url=replica_url or settings.warehouse_url(),
            migrate=replica_url is None,
            redis_url=os.environ.get(REDIS_URL_VARIABLE) or None,
            jwt_secret=os.environ.get(JWT_SECRET_VARIABLE) or None,
        )
