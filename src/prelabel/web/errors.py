"""Errors on web paths as pages; on the API's paths, the API's JSON as before.

The app has one set of exception handlers, so each one here looks at the path: the API's
(``/api/...``, its docs, ``/health``) go to the handler ``api.errors`` installed, every
other path gets HTML. There a missing login redirects to the login page, a form the services
refused goes back to its page with the message (``refusals_go_back_to``), and anything else
renders ``{status}.html``, falling back to ``error.html``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol, TypeVar
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from prelabel.errors import NotFoundError, PrelabelError
from prelabel.store import Project, Task
from prelabel.web.rendering import flash, page_path, redirect, render

log = logging.getLogger(__name__)

_API_PATHS = ("/api/", "/docs", "/redoc", "/openapi.json", "/health")

Handler = Callable[[Request, Exception], Any]


class _Row(Protocol):
    @property
    def id(self) -> int: ...


RowT = TypeVar("RowT", bound=_Row)


class FormRefused(Exception):
    """A form whose operation a service refused; the browser goes back to ``back`` and is
    shown the reason. Raised (not returned) so that the request's transaction rolls back."""

    def __init__(self, error: PrelabelError, back: str) -> None:
        super().__init__(error.message)
        self.error = error
        self.back = back


@contextmanager
def refusals_go_back_to(back: str) -> Iterator[None]:
    """Within the block, a refusal by the services (a 4xx error) sends the browser back to
    ``back`` with its message, instead of an error page."""
    try:
        yield
    except PrelabelError as exc:
        if exc.status >= 500:
            raise
        raise FormRefused(exc, back) from exc


def held_by(row: RowT, parent: Project | Task, parent_id: int) -> RowT:
    """``row`` (found by its own id) when ``parent`` holds it, ``parent_id`` being the id of
    the row's own parent. A page's URL names the parent, so another's row is not found here,
    as if it did not exist: ``/projects/1/runs/7`` cannot reach project 2's run 7."""
    if parent_id != parent.id:
        where = "in project" if isinstance(parent, Project) else "on task"
        raise NotFoundError(f"{type(row).__name__} {row.id} not found {where} {parent.id}")
    return row


def _is_api_path(path: str) -> bool:
    return path == "/api" or path.startswith(_API_PATHS)


def install_web_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(FormRefused, _form_refused)
    for kind, web in (
        (PrelabelError, _prelabel_error),
        (RequestValidationError, _invalid_request),
        (StarletteHTTPException, _http_error),
        (Exception, _unexpected_error),
    ):
        app.add_exception_handler(kind, _by_path(web, app.exception_handlers[kind]))


def _by_path(web: Handler, api: Handler) -> Handler:
    def handle(request: Request, exc: Exception) -> Any:
        return api(request, exc) if _is_api_path(request.url.path) else web(request, exc)

    return handle


def _form_refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, FormRefused)
    flash(request, "error", exc.error.message)
    return redirect(exc.back)


def _prelabel_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PrelabelError)
    if exc.status == 401:
        return redirect(_login_then(request))
    if exc.status >= 500:
        log.warning("page failed: %s", exc.message)
    return error_page(request, exc.status, exc.message)


def _login_then(request: Request) -> str:
    """The login page, then back to the page asked for; a form posted after its session
    ended cannot be posted again from a link, so after it the login goes to the projects."""
    login = page_path(request, "login")
    if request.method != "GET":
        return login
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return f"{login}?{urlencode({'next': target})}"


def _invalid_request(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    reasons = [
        f"{'.'.join(str(part) for part in error.get('loc', ()))}: {error.get('msg', '')}"
        for error in exc.errors()
    ]
    return error_page(request, 400, "; ".join(reasons))


def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    response = error_page(request, exc.status_code, str(exc.detail))
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


def _unexpected_error(request: Request, exc: Exception) -> Response:
    log.error("unexpected error", exc_info=exc)
    return error_page(request, 500, "Something went wrong; the server log has the details.")


def error_page(request: Request, status: int, message: str) -> Response:
    return render(
        request,
        [f"{status}.html", "error.html"],
        {"status": status, "message": message},
        status_code=status,
    )
