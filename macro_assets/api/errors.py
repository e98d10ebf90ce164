"""The exception root onto HTTP status codes, with one JSON error body everywhere:
`{"error": {"status": 404, "code": "unknown_dataset", "message": "..."}}`."""

from __future__ import annotations

import logging

import psycopg2
import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from macro_assets.api.auth import Forbidden, Unauthorized
from macro_assets.errors import InvalidInput, MacroAssetsError, UnknownDataset

log = logging.getLogger(__name__)

# Most specific first: FrameError is an InvalidInput, everything is a MacroAssetsError.
STATUS = [
    (Unauthorized, 401, "unauthorized"),
    (Forbidden, 403, "forbidden"),
    (UnknownDataset, 404, "unknown_dataset"),
    (InvalidInput, 422, "invalid_input"),
]
ERROR_EXAMPLE = {"error": {"status": 404, "code": "unknown_dataset", "message": "unknown dataset 'fred.NOPE'"}}


def error_body(status: int, code: str, message: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": {"status": status, "code": code, "message": message}}, status, headers=headers)


def _platform_error(request: Request, error: MacroAssetsError) -> JSONResponse:
    for kind, status, code in STATUS:
        if isinstance(error, kind):
            headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
            return error_body(status, code, str(error), headers)
    # Anything else is the platform's fault, not the caller's: logged here, not described to the client.
    log.error("%s %s failed: %s", request.method, request.url.path, error, exc_info=error)
    return error_body(500, "internal_error", "the server failed to answer; the error is logged")


def _validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
    problems = "; ".join(
        f"{'.'.join(str(part) for part in problem['loc'][1:]) or problem['loc'][0]}: {problem['msg']}"
        for problem in error.errors()
    )
    return error_body(422, "invalid_input", problems)


def _http_error(request: Request, error: HTTPException) -> JSONResponse:
    code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
    return error_body(error.status_code, code, str(error.detail), getattr(error, "headers", None))


def _database_error(request: Request, error: Exception) -> JSONResponse:
    log.error("%s %s: warehouse unavailable: %s", request.method, request.url.path, error)
    return error_body(503, "warehouse_unavailable", "the warehouse is unavailable; retry later")


def install(app: FastAPI) -> None:
    app.add_exception_handler(MacroAssetsError, _platform_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(sa.exc.OperationalError, _database_error)
    app.add_exception_handler(psycopg2.OperationalError, _database_error)
