"""The object store: raw payloads and Parquet frames, on S3/MinIO or in a local directory.

The same client code talks to MinIO in production and to a real S3 endpoint on loopback in the tests.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from abc import ABC, abstractmethod
from pathlib import Path
from urllib.parse import urlparse

from macro_assets import settings


class ObjectStore(ABC):
    @abstractmethod
    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> str:
        """Store `data` under `key` and return the object's URI."""

    @abstractmethod
    def get(self, key: str) -> bytes: ...

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    @abstractmethod
    def list(self, prefix: str = "") -> list[str]:
        """Keys under `prefix`, sorted."""

    @abstractmethod
    def list_modified(self, prefix: str = "") -> list[tuple[str, dt.datetime]]:
        """Keys under `prefix` with when each was last written (aware, UTC), sorted by key: the S3 LastModified,
        a local file's mtime."""

    @abstractmethod
    def uri(self, key: str) -> str: ...


def _check_key(key: str) -> str:
    parts = key.split("/")
    if not key or key.startswith("/") or any(part in ("", ".", "..") for part in parts):
        raise ValueError(f"object store: invalid key {key!r}")
    return key


class LocalObjectStore(ObjectStore):
    def __init__(self, root: Path | str):
        self.root = Path(root).resolve()

    def _path(self, key: str) -> Path:
        return self.root / _check_key(key)

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> str:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename: a reader never sees half an object, a crash never leaves one.
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".partial-")
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
        return self.uri(key)

    def get(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list(self, prefix: str = "") -> list[str]:
        if not self.root.exists():
            return []
        keys = (p.relative_to(self.root).as_posix() for p in self.root.rglob("*") if p.is_file())
        return sorted(k for k in keys if k.startswith(prefix) and not Path(k).name.startswith(".partial-"))

    def list_modified(self, prefix: str = "") -> list[tuple[str, dt.datetime]]:
        return [(key, dt.datetime.fromtimestamp(self._path(key).stat().st_mtime, dt.UTC)) for key in self.list(prefix)]

    def uri(self, key: str) -> str:
        return self._path(key).as_uri()


class S3ObjectStore(ObjectStore):
    """S3 API through boto3: MinIO with an endpoint URL, AWS without one. Credentials come from the usual AWS
    variables and never appear in keys, URIs or errors of this class."""

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        region_name: str | None = None,
        create_bucket: bool = True,
    ):
        import boto3  # imported on use: definitions load without touching AWS configuration

        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.client = boto3.client(
            "s3", endpoint_url=endpoint_url, region_name=region_name or os.environ.get("AWS_REGION") or "us-east-1"
        )
        if create_bucket:
            self._ensure_bucket()

    def _ensure_bucket(self) -> None:
        from botocore.exceptions import ClientError

        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket", "NotFound"):
                raise
            self.client.create_bucket(Bucket=self.bucket)

    def _key(self, key: str) -> str:
        _check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> str:
        self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data, ContentType=content_type)
        return self.uri(key)

    def get(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def list(self, prefix: str = "") -> list[str]:
        return [key for key, _ in self.list_modified(prefix)]

    def list_modified(self, prefix: str = "") -> list[tuple[str, dt.datetime]]:
        listed = []
        strip = len(self.prefix) + 1 if self.prefix else 0
        paginator = self.client.get_paginator("list_objects_v2")
        full_prefix = f"{self.prefix}/{prefix}" if self.prefix else prefix
        for page in paginator.paginate(Bucket=self.bucket, Prefix=full_prefix):
            listed.extend(
                (item["Key"][strip:], item["LastModified"].astimezone(dt.UTC)) for item in page.get("Contents", [])
            )
        return sorted(listed)

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._key(key)}"


def open_object_store(url: str | None = None, *, endpoint_url: str | None = None) -> ObjectStore:
    """`s3://bucket/prefix` or a local directory; defaults from MACRO_ASSETS_OBJECT_STORE_URL."""
    url = url or settings.object_store_url()
    parsed = urlparse(url)
    if parsed.scheme == "s3":
        if not parsed.netloc:
            raise ValueError(f"object store URL {url!r} has no bucket")
        return S3ObjectStore(parsed.netloc, parsed.path, endpoint_url=endpoint_url or settings.s3_endpoint_url())
    if parsed.scheme == "file":
        return LocalObjectStore(parsed.path)
    if parsed.scheme:
        raise ValueError(f"object store URL {url!r}: expected s3://bucket/prefix or a local directory")
    return LocalObjectStore(url)
