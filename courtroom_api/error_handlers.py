"""The one place where domain errors become HTTP responses."""

from __future__ import annotations

import logging
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError

from courtroom_api import errors as e
from models.errors import (
    BlobNotFoundError,
    BlobStoreFullError,
    BlobTooLargeError,
    DossierError,
    SearchError,
    is_database_full,
)

log = logging.getLogger(__name__)

STATUS: tuple[tuple[type[Exception], int], ...] = (
    (e.AuthenticationError, 401),
    (e.PermissionDeniedError, 403),
    (e.NotFoundError, 404),
    (BlobNotFoundError, 404),
    (e.ConflictError, 409),
    (IntegrityError, 409),
    (StaleDataError, 409),
    (e.UploadTooLargeError, 413),
    (BlobTooLargeError, 413),
    (e.PreconditionFailedError, 412),
    (e.RangeNotSatisfiableError, 416),
    (e.TooManyAttemptsError, 429),
    (e.EvidenceRejectedError, 422),
    (e.ValidationFailedError, 422),
    (DataError, 422),  # a value the database cannot store (PostgreSQL: text with NUL)
    (SearchError, 422),
    (e.ExportError, 503),
    (BlobStoreFullError, 507),
    (e.StorageFullError, 507),
)


def _not_null(exc: Exception) -> bool:
    """A required field set to null (SQLite's and PostgreSQL's words for it)."""
    text = str(getattr(exc, "orig", exc))
    return isinstance(exc, IntegrityError) and ("NOT NULL constraint" in text or "violates not-null" in text)


def _detail(exc: Exception) -> str:
    if _not_null(exc):
        column = str(exc.orig).split("\n")[0]  # type: ignore[attr-defined]
        return "a required field was null (leave it out to keep it): " + column
    if isinstance(exc, IntegrityError):
        return "conflicts with existing data (duplicate or still referenced): " + str(exc.orig).split("\n")[0]
    if isinstance(exc, DataError):
        return "a value the database cannot store: " + str(exc.orig).split("\n")[0]
    if isinstance(exc, StaleDataError):  # a versioned row (a transcript line) changed under the request
        return "changed by someone else meanwhile; nothing was changed: read it again and retry"
    return str(exc)


def install_error_handlers(app: FastAPI) -> None:
    for exc_type, status in STATUS:
        app.add_exception_handler(exc_type, _handler(status))
    app.add_exception_handler(e.CourtroomApiError, _handler(400))
    app.add_exception_handler(DossierError, _handler(400))
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(OperationalError, _database_error)


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    """A write the database's full disk refused is the server's storage full (507), whichever route made
    it: the transaction was rolled back, so nothing of it was stored (an upload's blob is taken back).
    Any other database failure is the server's (500, as before)."""
    if not is_database_full(exc):
        raise exc
    log.error("%s %s refused: the database's disk is full: %s", request.method, request.url.path,
              str(getattr(exc, "orig", exc)).splitlines()[0])
    detail = "the database's disk is full; nothing was stored; try again once space is freed"
    return JSONResponse({"detail": detail}, status_code=507)


async def _invalid_request(_request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's 422, with the refused input JSON can carry: a body's 1e999 parses as infinity, and a
    lone UTF-16 surrogate (half an emoji, "\\ud83d") cannot be written as UTF-8: echoing either back
    made the refusal itself a 500."""
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    return JSONResponse({"detail": _json_safe(jsonable_encoder(errors))}, status_code=422)


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    if isinstance(value, dict):
        return {_json_safe(k): _json_safe(v) for k, v in value.items()}
    return value


def _handler(status: int):  # type: ignore[no-untyped-def]
    async def handle(_request: Request, exc: Exception) -> JSONResponse:
        headers = {}
        if status == 401:
            headers["WWW-Authenticate"] = "Bearer"
        if isinstance(exc, e.RangeNotSatisfiableError):
            headers["Content-Range"] = f"bytes */{exc.size}"
        if isinstance(exc, e.TooManyAttemptsError):
            headers["Retry-After"] = str(max(1, round(exc.retry_after)))
        code = 422 if _not_null(exc) else status  # the request's fault, not a clash with stored data
        return JSONResponse({"detail": _detail(exc)}, status_code=code, headers=headers)

    return handle
