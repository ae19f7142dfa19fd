"""Turning a page's data into a response: templates, flash messages, redirects.

Templates are autoescaped Jinja2 files shipped in the package. Every page gets what the
layout needs (the user, the CSRF token, the messages left by the previous request, a
``path`` helper over the app's named routes) and a Content-Security-Policy that allows only
the app's own scripts and styles, so an escaped value that still got into the page could not
run.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any, Literal

from jinja2 import Environment, FileSystemLoader
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.templating import Jinja2Templates

import prelabel
from prelabel.store import User
from prelabel.web.sessions import csrf_token

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"

#: Messages are kept in the signed session cookie, which browsers cap at 4 KB.
FLASH_MAX_CHARS = 600
#: Web routes are named ``web.<name>``: the API's routes are named after their handlers
#: (``create_project``...), and a shared name would make a page link to the API.
ROUTE_PREFIX = "web."

_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}

_templates = Jinja2Templates(
    env=Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
)

FlashKind = Literal["success", "error"]


def render(
    request: Request,
    template: str | list[str],
    context: dict[str, Any] | None = None,
    *,
    user: User | None = None,
    status_code: int = 200,
) -> Response:
    """``template`` (the first that exists, given several) rendered for ``request``."""
    # The 500 page is rendered outside the session middleware, with no session to read.
    session = "session" in request.scope
    page = {
        "user": user,
        "csrf_token": csrf_token(request) if session else "",
        "flashes": request.session.pop("flash", []) if session else [],
        "path": partial(page_path, request),
        "static": lambda file: request.app.url_path_for("static", path=file),
        "version": prelabel.__version__,
        **(context or {}),
    }
    return _templates.TemplateResponse(
        request,
        _templates.env.get_or_select_template(template),
        page,
        status_code=status_code,
        headers=_SECURITY_HEADERS,
    )


def page_path(request: Request, name: str, **params: Any) -> str:
    """The path of the web page or form named ``name`` (see ``routes.py``)."""
    return str(request.app.url_path_for(ROUTE_PREFIX + name, **params))


def flash(request: Request, kind: FlashKind, message: str) -> None:
    """Show ``message`` on the next page this browser renders (after a redirect)."""
    if len(message) > FLASH_MAX_CHARS:
        message = message[: FLASH_MAX_CHARS - 1] + "…"
    request.session["flash"] = [*request.session.get("flash", []), [kind, message]]


def redirect(url: str) -> RedirectResponse:
    """See Other: after a form, the browser GETs the page, so reloading it posts nothing."""
    return RedirectResponse(url, status_code=303)
