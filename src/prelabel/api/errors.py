"""Errors to HTTP, in one place.

Every error body has Label Studio's shape, which its SDK and scripts read, plus prelabel's
``code``: ``{"detail": <message>, "code": <code>, "status_code": <status>}``, and for input
that breaks a rule ``"validation_errors": {<field>: [<reason>, ...]}``. Request validation
is a 400 (not FastAPI's 422) naming the field path; statuses the SDK retries (409, 5xx) are
kept for what retrying can fix.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from prelabel.api.responses import JSONBody
from prelabel.errors import LabelConfigError, PrelabelError, ValidationError

log = logging.getLogger(__name__)

#: "title: must not be empty" names field ``title``; services word their messages this way.
_FIELD_PREFIX = re.compile(r"^(?P<field>[A-Za-z_][\w.\[\]]*): (?P<reason>.+)$", re.DOTALL)


def error_response(
    status: int, detail: str, code: str, validation_errors: dict[str, list[str]] | None = None
) -> JSONBody:
    body: dict[str, Any] = {"detail": detail, "code": code, "status_code": status}
    if validation_errors:
        body["validation_errors"] = validation_errors
    return JSONBody(body, status_code=status)


def _prelabel_error(_request: Request, exc: Exception) -> JSONBody:
    assert isinstance(exc, PrelabelError)
    if exc.status >= 500 and not isinstance(exc, ValidationError):
        log.warning("request failed: %s", exc.message)
    return error_response(exc.status, exc.message, exc.code, _fields_of(exc))


def _fields_of(exc: PrelabelError) -> dict[str, list[str]] | None:
    if isinstance(exc, LabelConfigError):
        return {"label_config": [exc.message]}
    if isinstance(exc, ValidationError) and (match := _FIELD_PREFIX.match(exc.message)):
        return {match["field"]: [match["reason"]]}
    return None


def _request_validation_error(_request: Request, exc: Exception) -> JSONBody:
    assert isinstance(exc, RequestValidationError)
    fields: dict[str, list[str]] = {}
    for error in exc.errors():
        location = [str(part) for part in error.get("loc", ()) if part not in ("body",)]
        fields.setdefault(".".join(location) or "body", []).append(str(error.get("msg", "")))
    summary = "; ".join(f"{field}: {', '.join(reasons)}" for field, reasons in fields.items())
    return error_response(400, f"Validation error: {summary}", "invalid", fields)


def _http_error(_request: Request, exc: Exception) -> JSONBody:
    assert isinstance(exc, StarletteHTTPException)
    response = error_response(exc.status_code, str(exc.detail), "http_error")
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


def _unexpected_error(_request: Request, exc: Exception) -> JSONBody:
    log.error("unexpected error", exc_info=exc)
    return error_response(500, "internal error; the server log has the details", "error")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(PrelabelError, _prelabel_error)
    app.add_exception_handler(RequestValidationError, _request_validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
