"""Logging in and out with an e-mail and a password (``prelabel user set-password``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request
from starlette.responses import Response

from prelabel.api.deps import SessionDep
from prelabel.errors import AuthenticationError
from prelabel.services.users import authenticate_password
from prelabel.web.login_throttle import client_address, login_throttle
from prelabel.web.rendering import page_path, redirect, render
from prelabel.web.sessions import sign_in, sign_out


def login_page(request: Request, next: str = "") -> Response:
    return render(request, "login.html", {"next": safe_next(next), "email": ""})


def log_in(
    request: Request,
    session: SessionDep,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    """Sign in and go where the login page was asked for; a wrong e-mail or password shows
    the form again, with the e-mail kept. After too many failures for the e-mail or from the
    address (``login_throttle``) the form is refused, 429, before the password is checked."""
    throttle, client = login_throttle(request), client_address(request)
    context = {"next": safe_next(next), "email": email}
    refusal = throttle.refusal(email, client)
    if refusal is not None:
        context["error"] = refusal.message
        response = render(request, "login.html", context, status_code=429)
        response.headers["Retry-After"] = str(refusal.minutes * 60)
        return response
    try:
        user = authenticate_password(session, email, password)
    except AuthenticationError as exc:
        throttle.record_failure(email, client)
        context["error"] = exc.message
        return render(request, "login.html", context, status_code=401)
    sign_in(request, user)
    return redirect(safe_next(next) or page_path(request, "projects"))


def log_out(request: Request) -> Response:
    sign_out(request)
    return redirect(page_path(request, "login"))


def safe_next(target: str) -> str:
    """``target`` if it is a path on this site, else "": a login link must not be able to
    send the browser to another site afterwards, as ``//host``, ``/\\host`` or ``/<tab>/host``
    would (browsers read a backslash as a slash and drop tabs and newlines)."""
    on_site = target.startswith("/") and not target.startswith("//") and "\\" not in target
    return target if on_site and target.isprintable() else ""
