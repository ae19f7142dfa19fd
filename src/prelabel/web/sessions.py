"""Who is looking at a page: a signed session cookie, and the CSRF token its forms carry.

The pages post their forms to web routes that call the services; the JSON API keeps
accepting nothing but ``Authorization: Token``. A browser never adds that header by itself,
so the API needs no defence against cross-site requests and scripts and the SDK never meet
cookies; a cookie accepted by the API would make every API route a CSRF target. The pages
lose nothing by it: they are rendered on the server, and the one thing they fetch (the live
check of a labeling config) is a web route too.

The cookie is signed (Starlette's ``SessionMiddleware``) with a key derived from the server
secret, so it cannot be forged, and names the user plus a stamp of their password hash:
setting a new password signs them out everywhere. With ``PRELABEL_SECURE_COOKIES`` the cookie
is marked ``Secure``, so that browsers send it over HTTPS only. Every POST must send the
session's CSRF token, as a form field or, from scripts, a header; otherwise it is refused
with 403.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from starlette.middleware.sessions import SessionMiddleware

from prelabel.api.deps import SessionDep
from prelabel.encryption import server_secret
from prelabel.errors import AuthenticationError, ForbiddenError
from prelabel.settings import Settings
from prelabel.store import User

SESSION_COOKIE = "prelabel_session"
SESSION_DAYS = 14
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


def install_sessions(app: FastAPI, settings: Settings) -> None:
    app.add_middleware(
        SessionMiddleware,
        secret_key=signing_key(settings),
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_DAYS * 86400,
        same_site="lax",
        https_only=settings.secure_cookies,
    )


def signing_key(settings: Settings) -> str:
    """The cookie signing key: derived from the server secret rather than the secret itself,
    so that a key recovered from cookies would decrypt no stored provider key."""
    secret = server_secret(settings).encode()
    return hmac.new(secret, b"prelabel web session cookies", hashlib.sha256).hexdigest()


def current_web_user(request: Request, session: SessionDep) -> User:
    """The signed-in user; AuthenticationError (a redirect to the login page) otherwise."""
    user_id = request.session.get("user")
    user = session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or not user.is_active or request.session.get("stamp") != _stamp(user):
        raise AuthenticationError("log in to see this page")
    return user


WebUser = Annotated[User, Depends(current_web_user)]


def sign_in(request: Request, user: User) -> None:
    """Start a new session for ``user``: nothing of the anonymous one survives, its CSRF
    token included, so a token planted before login is worthless after it."""
    request.session.clear()
    request.session.update(user=user.id, stamp=_stamp(user), csrf=secrets.token_urlsafe(32))


def sign_out(request: Request) -> None:
    request.session.clear()


def csrf_token(request: Request) -> str:
    """This session's CSRF token, made on its first page."""
    token: str = request.session.setdefault("csrf", secrets.token_urlsafe(32))
    return token


async def check_csrf(request: Request) -> None:
    """Refuse (403) a request that does not send this session's CSRF token."""
    sent = request.headers.get(CSRF_HEADER)
    content_type = request.headers.get("content-type", "")
    if sent is None and content_type.startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        field = (await request.form()).get(CSRF_FIELD)
        sent = field if isinstance(field, str) else None
    expected = request.session.get("csrf")
    if not (
        isinstance(expected, str)
        and sent is not None
        and hmac.compare_digest(sent.encode(), expected.encode())
    ):
        raise ForbiddenError(
            "this form has expired or was not sent from this site; reload the page and try again"
        )


def _stamp(user: User) -> str:
    return hashlib.sha256((user.password_hash or "").encode()).hexdigest()[:16]
