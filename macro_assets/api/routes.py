"""The endpoints: for every shape the verbs of the Python reader (as of an instant, latest, first release,
vintages, vintage dates, info), the catalog's list and search, a dashboard of key BR and US indicators, health
and readiness."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import polars as pl
import pyarrow as pa
from fastapi import APIRouter, Depends, Path, Query, Request, Security
from fastapi.responses import JSONResponse, Response
from fastapi.security import APIKeyHeader, HTTPBearer

from macro_assets.api.auth import Principal
from macro_assets.api.cache import CachedAnswer, ttl_for
from macro_assets.api.errors import ERROR_EXAMPLE
from macro_assets.api.formats import MEDIA_TYPES
from macro_assets.api.service import ApiService, Page
from macro_assets.catalog import DatasetSpec
from macro_assets.errors import InvalidInput
from macro_assets.shapes import BARS, OBSERVATIONS
from macro_assets.timeutil import parse_instant

DEFAULT_LIMIT = 1000
MAX_LIMIT = 50_000
# The latest of these, BR then US: policy rates, inflation, the dollar, Treasury yields, unemployment.
DASHBOARD = (
    "bcb_sgs.432",
    "bcb_sgs.433",
    "bcb_sgs.13522",
    "bcb_sgs.1",
    "bcb_sgs.24369",
    "fred.DFF",
    "fred.DGS2",
    "fred.DGS10",
    "fred.T10Y2Y",
    "fred.CPIAUCSL",
    "fred.UNRATE",
)

bearer = HTTPBearer(auto_error=False, description="an API key (`mak_...`) or an HS256 JWT with `exp` and `scopes`")
api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="an API key (`mak_...`)")


# Dependencies that do no I/O are async: FastAPI runs them in the event loop instead of sending each to a thread.
async def service(request: Request) -> ApiService:
    return request.app.state.service


Service = Annotated[ApiService, Depends(service)]


def principal(
    request: Request, api: Service, _bearer=Security(bearer), api_key: str | None = Security(api_key_header)
) -> Principal:
    return api.authenticator.authenticate(request.headers.get("authorization"), api_key)


Caller = Annotated[Principal, Depends(principal)]
DatasetPath = Annotated[
    str, Path(description="a catalog id (GET /v1/datasets)", openapi_examples={"a series": {"value": "fred.GDP"}})
]
Start = Annotated[
    str | None,
    Query(description="first date of the dataset's first key (a bar's or record's time: instant or whole UTC day)"),
]
End = Annotated[str | None, Query(description="last date, inclusive")]
AS_OF = {
    "description": "the instant the answer is known at (date or ISO 8601 datetime; naive = UTC)",
    "openapi_examples": {"an instant": {"value": "2024-03-01T12:00:00Z"}, "a date": {"value": "2024-03-01"}},
}
AsOf = Annotated[str | None, Query(**{**AS_OF, "description": AS_OF["description"] + "; default now"})]
RequiredAsOf = Annotated[str, Query(**AS_OF)]
Resample = Annotated[
    str | None, Query(description="bars only: aggregate at read time to N minutes, hours or UTC days (5m, 1h, 1d)")
]


async def page(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="rows per page")] = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0, description="rows to skip; follow `next` instead of counting")] = 0,
    format: Annotated[
        str | None, Query(description="json (default), csv, arrow (IPC stream) or parquet; else the Accept header")
    ] = None,
) -> Page:
    return Page(limit, offset, format)


Paged = Annotated[Page, Depends(page)]

OBSERVATIONS_EXAMPLE = {
    "dataset": "fred.GDP",
    "shape": "observations",
    "verb": "as_of",
    "as_of": "2019-01-01T00:00:00+00:00",
    "total": 2,
    "offset": 0,
    "limit": 1000,
    "count": 2,
    "next": None,
    "rows": [
        {
            "series_id": "fred.GDP",
            "obs_date": "2018-04-01",
            "value": 20510.177,
            "release_time": "2018-09-27T12:30:00+00:00",
            "release_basis": "vintage",
        },
        {
            "series_id": "fred.GDP",
            "obs_date": "2018-07-01",
            "value": 20658.204,
            "release_time": "2018-12-21T13:30:00+00:00",
            "release_basis": "vintage",
        },
    ],
}
TABLE_RESPONSES = {
    200: {
        "description": "a page of rows, ordered by id, key and release time",
        "content": {
            "application/json": {"example": OBSERVATIONS_EXAMPLE},
            **{MEDIA_TYPES[name]: {} for name in ("csv", "arrow", "parquet")},
        },
    },
    401: {"description": "no, or no valid, credentials"},
    403: {"description": "a credential without the dataset's scope"},
    404: {"description": "unknown dataset", "content": {"application/json": {"example": ERROR_EXAMPLE}}},
    422: {"description": "a bad date or parameter"},
}

health_router = APIRouter()
router = APIRouter(prefix="/v1")


@health_router.get("/health", tags=["service"], summary="the process is up (no credentials needed)")
async def health() -> dict:
    return {"status": "ok"}


@router.get("/ready", tags=["service"], summary="the warehouse answers; the cache's state")
def ready(caller: Caller, api: Service) -> JSONResponse:
    caller.require("read:series")
    with api.db.cursor() as cursor:
        cursor.execute("SELECT 1")
    cache = "down" if api.cache.enabled and not api.cache.ping() else api.cache.state
    return JSONResponse({"status": "ready", "warehouse": "reachable", "cache": cache})


@router.get("/datasets", tags=["catalog"], summary="list and search the catalog's datasets")
def list_datasets(
    caller: Caller,
    api: Service,
    search: Annotated[str | None, Query(description="text in the id or the name, any case")] = None,
    kind: Annotated[str | None, Query(description="observations, curve, bars, expectations, ...")] = None,
    country: Annotated[str | None, Query(description="BR, US, CO, MX, GLOBAL")] = None,
    source: Annotated[str | None, Query(description="fred, bcb_sgs, us_treasury, ...")] = None,
) -> dict:
    caller.require("read:series")
    needle = (search or "").casefold()
    found = [
        _describe(spec)
        for spec in api.catalog.datasets.values()
        if (needle in str(spec.id).casefold() or needle in spec.name.casefold())
        and kind in (None, spec.kind)
        and country in (None, spec.country)
        and source in (None, spec.source)
    ]
    return {"count": len(found), "datasets": found}


def _describe(spec: DatasetSpec) -> dict:
    return {
        "id": str(spec.id),
        "kind": spec.kind,
        "shape": spec.shape.name,
        "name": spec.name,
        "country": spec.country,
        "frequency": spec.frequency,
        "unit": spec.unit,
    }


def _readable(caller: Principal, api: ApiService, dataset_id: str) -> DatasetSpec:
    spec = api.dataset(dataset_id)
    caller.require("read:series" if spec.shape is OBSERVATIONS else "read:all")
    return spec


def _instant(as_of: str | None) -> dt.datetime:
    return parse_instant(as_of, field="as_of")


def _check_resample(spec: DatasetSpec, resample: str | None) -> None:
    if resample is not None and spec.shape is not BARS:
        raise InvalidInput(f"resample: for bars only; {spec.id} holds {spec.shape.name}")


@router.get("/datasets/{dataset_id}", tags=["reads"], summary="info: the catalog's facts and the stored ones")
def read_info(dataset_id: DatasetPath, caller: Caller, api: Service, request: Request) -> Response:
    spec = _readable(caller, api, dataset_id)

    def answer() -> CachedAnswer:
        stored = api.warehouse.reader(spec.shape).info(str(spec.id))
        facts = {**_describe(spec), **{k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in stored.items()}}
        return CachedAnswer(JSONResponse(facts).body, MEDIA_TYPES["json"])

    return api.cached(request, spec.shape, [str(spec.id)], "infinity", ttl_for(spec.frequency), answer)


@router.get(
    "/datasets/{dataset_id}/as-of",
    tags=["reads"],
    summary="every key as known at an instant",
    responses=TABLE_RESPONSES,
)
def read_as_of(
    dataset_id: DatasetPath,
    as_of: RequiredAsOf,
    caller: Caller,
    api: Service,
    request: Request,
    paged: Paged,
    start: Start = None,
    end: End = None,
    resample: Resample = None,
) -> Response:
    return _as_of(dataset_id, as_of, caller, api, request, paged, start, end, resample, "as_of")


@router.get(
    "/datasets/{dataset_id}/latest",
    tags=["reads"],
    summary="the newest vintage of every key",
    responses=TABLE_RESPONSES,
)
def read_latest(
    dataset_id: DatasetPath,
    caller: Caller,
    api: Service,
    request: Request,
    paged: Paged,
    start: Start = None,
    end: End = None,
    resample: Resample = None,
) -> Response:
    return _as_of(dataset_id, None, caller, api, request, paged, start, end, resample, "latest")


def _as_of(
    dataset_id: str,
    as_of: str | None,
    caller: Principal,
    api: ApiService,
    request: Request,
    paged: Page,
    start: str | None,
    end: str | None,
    resample: str | None,
    verb: str,
) -> Response:
    spec = _readable(caller, api, dataset_id)
    _check_resample(spec, resample)
    instant = _instant(as_of)
    reader = api.warehouse.reader(spec.shape)
    options = {"resample": resample} if resample is not None else {}

    def read() -> pa.Table:
        return reader.as_of(str(spec.id), as_of=instant, start=start, end=end, output="arrow", **options)

    return api.table(request, spec, verb, instant, as_of is not None, paged, read, (start, end))


@router.get(
    "/datasets/{dataset_id}/first-release",
    tags=["reads"],
    responses=TABLE_RESPONSES,
    summary="the first published vintage of every key (among those released by as_of)",
)
def read_first_release(
    dataset_id: DatasetPath,
    caller: Caller,
    api: Service,
    request: Request,
    paged: Paged,
    start: Start = None,
    end: End = None,
    as_of: AsOf = None,
) -> Response:
    spec = _readable(caller, api, dataset_id)
    instant = _instant(as_of)
    reader = api.warehouse.reader(spec.shape)

    def read() -> pa.Table:
        return reader.first_release(str(spec.id), start, end, as_of=instant, output="arrow")

    return api.table(request, spec, "first_release", instant, as_of is not None, paged, read, (start, end))


@router.get(
    "/datasets/{dataset_id}/vintages",
    tags=["reads"],
    responses=TABLE_RESPONSES,
    summary="every stored vintage released by as_of, withdrawals included (as nulls)",
)
def read_vintages(
    dataset_id: DatasetPath,
    caller: Caller,
    api: Service,
    request: Request,
    paged: Paged,
    start: Start = None,
    end: End = None,
    as_of: AsOf = None,
) -> Response:
    spec = _readable(caller, api, dataset_id)
    instant = _instant(as_of)
    reader = api.warehouse.reader(spec.shape)

    def read() -> pa.Table:
        return reader.vintages(str(spec.id), start, end, as_of=instant, output="arrow")

    return api.table(request, spec, "vintages", instant, as_of is not None, paged, read, (start, end))


@router.get(
    "/datasets/{dataset_id}/vintage-dates",
    tags=["reads"],
    responses=TABLE_RESPONSES,
    summary="the distinct release instants up to as_of, oldest first",
)
def read_vintage_dates(
    dataset_id: DatasetPath, caller: Caller, api: Service, request: Request, paged: Paged, as_of: AsOf = None
) -> Response:
    spec = _readable(caller, api, dataset_id)
    instant = _instant(as_of)
    reader = api.warehouse.reader(spec.shape)

    def read() -> pa.Table:
        instants = reader.vintage_dates(str(spec.id), as_of=instant)
        return pa.table({"release_time": pa.array(instants, pa.timestamp("us", tz="UTC"))})

    return api.table(request, spec, "vintage_dates", instant, as_of is not None, paged, read)


@router.get("/dashboard", tags=["reads"], summary="the latest value of key BR and US indicators, with the one before")
def read_dashboard(caller: Caller, api: Service, request: Request) -> Response:
    caller.require("read:series")
    specs = [api.catalog.datasets[i] for i in DASHBOARD]
    ids = [str(spec.id) for spec in specs]
    now = dt.datetime.now(dt.UTC)

    def answer() -> CachedAnswer:
        # SGS lists the Selic target ahead until the next meeting: a dashboard shows what holds today.
        known = api.warehouse.observations.latest(ids, end=now.date(), output="polars")
        indicators = [_indicator(spec, known.filter(pl.col("series_id") == str(spec.id))) for spec in specs]
        return CachedAnswer(JSONResponse({"indicators": indicators}).body, MEDIA_TYPES["json"])

    return api.cached(request, OBSERVATIONS, ids, now, ttl_for("daily"), answer, now.date())


def _indicator(spec: DatasetSpec, rows: pl.DataFrame) -> dict:
    last = rows.tail(2).to_dicts()
    current = last[-1] if last else {}
    previous = last[-2] if len(last) == 2 else {}
    return {
        **_describe(spec),
        "obs_date": _iso(current.get("obs_date")),
        "value": current.get("value"),
        "release_time": _iso(current.get("release_time")),
        "previous_obs_date": _iso(previous.get("obs_date")),
        "previous_value": previous.get("value"),
    }


def _iso(moment: dt.date | None) -> str | None:
    return moment.isoformat() if moment is not None else None
