"""What every BCB Olinda OData service shares (PTAX, Focus Expectativas, ...): URLs, query options, the response
envelope, error bodies and pagination. Pure functions, no Dagster.

Format: a service lives at https://olinda.bcb.gov.br/olinda/servico/<service>/versao/<version>/odata/. A function
import takes its parameters as aliases in the path, `CotacaoDolarPeriodo(dataInicial=@dataInicial,...)`, whose
values go in the query string as OData literals: strings in single quotes (a quote doubled), dates as
`'MM-DD-YYYY'` (US order: `@dataInicial='01-02-2015'` is 2 January 2015). The OData options are `$format=json`,
`$select` (comma-separated fields), `$filter`, `$orderby`, `$top` and `$skip`. A JSON answer is the envelope
`{"@odata.context": "<...>$metadata#_<Function>(<fields>)", "value": [<record>, ...]}`; an empty period answers an
empty `value` array. Errors come as the OData envelope `{"error": {"code": ..., "message": ...}}` or as an HTML page
(a maintenance page, a 400 or 404 page). A page holds at most `$top` records: the next page is asked with `$skip`
until one comes back shorter.

Release time: Olinda services carry their own dates; each connector says how its records are released.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Mapping, Sequence

import httpx

from macro_assets.catalog import DatasetSpec
from macro_assets.http.client import HttpClient
from macro_assets.provenance import Fetched
from macro_assets.sources.base import SourceSession, fetched_from_response
from macro_assets.sources.records import decode_json, payload_error

BASE_URL = "https://olinda.bcb.gov.br/olinda/servico/{service}/versao/{version}/odata/"
DATE_LITERAL_FORMAT = "%m-%d-%Y"
# What the replay manifest and a window's bounds are read with: the literal, quotes included.
QUOTED_DATE_FORMAT = f"'{DATE_LITERAL_FORMAT}'"
PAGE_SIZE = 10000


def service_url(service: str, version: str = "v1") -> str:
    return BASE_URL.format(service=service, version=version)


def function_url(service: str, function: str, parameters: Sequence[str], version: str = "v1") -> str:
    """The URL of a function import whose parameters are all passed as aliases of the same name."""
    return service_url(service, version) + f"{function}({','.join(f'{name}=@{name}' for name in parameters)})"


def string_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def date_literal(day: dt.date) -> str:
    return day.strftime(QUOTED_DATE_FORMAT)


def query(
    aliases: Mapping[str, str] | None = None,
    *,
    select: Sequence[str] = (),
    filter: str | None = None,
    orderby: str | None = None,
    top: int = PAGE_SIZE,
    skip: int = 0,
) -> dict[str, str]:
    """Query parameters: the function's aliases (`{"dataInicial": "'01-02-2015'"}` -> `@dataInicial=...`, values
    already literals), then the OData options, always JSON and always paged ($top and $skip are both sent, so every
    page of a request is the same request but for $skip)."""
    params = {f"@{name}": value for name, value in (aliases or {}).items()}
    params.update({"$top": str(top), "$skip": str(skip), "$format": "json"})
    if select:
        params["$select"] = ",".join(select)
    if filter is not None:
        params["$filter"] = filter
    if orderby is not None:
        params["$orderby"] = orderby
    return params


def page_length(response: httpx.Response) -> int | None:
    """How many records a page holds; None when the body is not the envelope (the parse says why)."""
    try:
        document = json.loads(response.content)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    if response.status_code != 200 or not isinstance(document, dict) or not isinstance(document.get("value"), list):
        return None
    return len(document["value"])


def fetch_pages(client: HttpClient, source: str, url: str, params: Mapping[str, str]) -> list[httpx.Response]:
    """Every page of a request: $skip advances by $top until a page holds fewer than $top records (or is not
    the envelope: that page is kept for the parse to refuse)."""
    top = int(params["$top"])
    pages = []
    skip = int(params.get("$skip", 0))
    while True:
        response = client.get(source, url, params={**params, "$skip": str(skip)})
        pages.append(response)
        length = page_length(response)
        if length is None or length < top:
            return pages
        skip += top


def fetch_windows(
    session: SourceSession,
    source: str,
    spec: DatasetSpec,
    windows: Iterable[tuple[dt.date, dt.date]],
    request: Callable[[Mapping[str, object], dt.date, dt.date], tuple[str, dict[str, str]]],
) -> list[Fetched]:
    """Every page of the request `request(params, first, last)` makes for each window, as payloads of the window."""
    fetched = []
    for first, last in windows:
        url, params = request(spec.params, first, last)
        for response in fetch_pages(session.client, source, url, params):
            fetched.append(fetched_from_response(spec, response, first, last))
    return fetched


def records(fetched: Fetched) -> list:
    """The records of an Olinda JSON answer, or a SourcePayloadError: an HTML page or a truncated body (from
    decode_json), the OData error envelope, a non-200 status, or an object without its `value` array."""
    document = decode_json(fetched)
    if isinstance(document, dict) and "error" in document:
        raise payload_error(fetched, "<body>", f"API error (HTTP {fetched.status}): {_error_detail(document['error'])}")
    if fetched.status != 200:
        raise payload_error(fetched, "<body>", f"unexpected HTTP {fetched.status} with a JSON body")
    if not isinstance(document, dict):
        raise payload_error(fetched, "<body>", f"expected the OData envelope object, got {type(document).__name__}")
    if "value" not in document:
        raise payload_error(fetched, "value", f"missing from the OData envelope (keys {sorted(document)})")
    if not isinstance(document["value"], list):
        raise payload_error(fetched, "value", f"expected an array, got {type(document['value']).__name__}")
    return document["value"]


def _error_detail(error: object) -> str:
    if isinstance(error, dict):
        code, message = error.get("code"), error.get("message")
        return f"{code}: {message}" if code else str(message if message is not None else error)
    return str(error)
