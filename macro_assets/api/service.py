"""What the routes share: the warehouse, the catalog, the credentials, and the cache-aside path of an answer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import pyarrow as pa
from fastapi import Request
from fastapi.responses import Response

from macro_assets.api.auth import Authenticator
from macro_assets.api.cache import CachedAnswer, ResponseCache, VintageCounter, ttl_for
from macro_assets.api.formats import MEDIA_TYPES, negotiate, render
from macro_assets.catalog import Catalog, DatasetSpec
from macro_assets.errors import UnknownDataset
from macro_assets.shapes import Shape
from macro_assets.warehouse import Warehouse
from macro_assets.warehouse.db import Database


@dataclass(frozen=True)
class Page:
    limit: int
    offset: int
    format: str | None


@dataclass
class ApiService:
    warehouse: Warehouse
    catalog: Catalog
    authenticator: Authenticator
    cache: ResponseCache
    counter: VintageCounter
    db: Database

    def dataset(self, dataset_id: str) -> DatasetSpec:
        spec = self.catalog.datasets.get(dataset_id)
        if spec is None:  # the catalog's own message lists every id: too long for an HTTP error
            raise UnknownDataset(f"unknown dataset {dataset_id!r}: GET /v1/datasets lists the known ones")
        return spec

    def cached(
        self,
        request: Request,
        shape: Shape,
        ids: list[str],
        instant: dt.datetime | str,
        ttl: int,
        answer: Callable[[], CachedAnswer],
        *key_parts: object,
        window: tuple[str | None, str | None] = (None, None),
    ) -> Response:
        """The answer from Redis when one is stored under the current version of `ids` as of `instant`, else
        computed, stored and returned; `window` is the (start, end) of the first key the answer reads. The X-Cache
        header says which (off: no cache configured or reachable)."""
        if not self.cache.usable:
            return _response(answer(), "off")
        version = self.counter.count(shape, ids, instant, *window)
        key = self.cache.key(request.url.path, sorted(request.query_params.multi_items()), *key_parts, version)
        stored = self.cache.get(key)
        if stored is not None:
            return _response(stored, "hit")
        fresh = answer()
        self.cache.set(key, fresh, ttl)
        return _response(fresh, "miss" if self.cache.state == "up" else "off")  # Redis may have failed just now

    def table(
        self,
        request: Request,
        spec: DatasetSpec,
        verb: str,
        instant: dt.datetime,
        as_of_given: bool,
        page: Page,
        read: Callable[[], pa.Table],
        window: tuple[str | None, str | None] = (None, None),
    ) -> Response:
        """One page of a read, in the format asked for, through the cache."""
        output_format = negotiate(page.format, request.headers.get("accept"))

        def answer() -> CachedAnswer:
            table = read()
            rows = table.slice(page.offset, page.limit)
            following = page.offset + page.limit
            next_link = (
                f"{request.url.path}?{request.url.include_query_params(offset=following, limit=page.limit).query}"
                if following < table.num_rows
                else None
            )
            meta = {
                "dataset": str(spec.id),
                "shape": spec.shape.name,
                "verb": verb,
                "as_of": instant.isoformat() if as_of_given else None,
                "total": table.num_rows,
                "offset": page.offset,
                "limit": page.limit,
                "count": rows.num_rows,
                "next": next_link,
            }
            headers = {"X-Total-Count": str(table.num_rows)}
            if next_link:
                headers["Link"] = f'<{next_link}>; rel="next"'
            return CachedAnswer(render(rows, output_format, meta), MEDIA_TYPES[output_format], headers)

        ttl = ttl_for(spec.frequency)
        return self.cached(request, spec.shape, [str(spec.id)], instant, ttl, answer, output_format, window=window)


def _response(answer: CachedAnswer, cache_state: str) -> Response:
    return Response(answer.body, media_type=answer.media_type, headers={**answer.headers, "X-Cache": cache_state})
