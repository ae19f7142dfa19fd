"""What handlers are given: a unit of work on the store, the acting user, the settings.

Handlers declare them as annotated parameters (``session: SessionDep``), so a signature
says what a handler touches, and tests swap nothing: they build an app on their own store.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import BackgroundTasks, Depends, Request, Security
from fastapi.security import APIKeyHeader
from sqlalchemy.orm import Session

from prelabel.errors import AuthenticationError
from prelabel.jobs import Runner
from prelabel.services.run_execution import Runtime
from prelabel.services.users import authenticate_token
from prelabel.settings import Settings
from prelabel.store import User

_authorization = APIKeyHeader(
    name="Authorization",
    auto_error=False,
    description="`Token <key>`: a key from `prelabel token create` (or `prelabel init`).",
)


def get_session(request: Request) -> Iterator[Session]:
    """One transaction per request: committed when the handler returns, rolled back if it
    raises, before the response is sent (so a failed commit is an error response)."""
    with request.app.state.store.session() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def current_user(
    session: SessionDep, authorization: Annotated[str | None, Security(_authorization)]
) -> User:
    """The user whose API token the request carries as ``Authorization: Token <key>``."""
    if not authorization:
        raise AuthenticationError(
            "authentication required: send the header 'Authorization: Token <key>'"
        )
    scheme, _, key = authorization.strip().partition(" ")
    if scheme.lower() != "token" or not key.strip():
        raise AuthenticationError(
            f"unsupported Authorization scheme {scheme!r}: send 'Authorization: Token <key>'"
        )
    return authenticate_token(session, key.strip())


CurrentUser = Annotated[User, Depends(current_user)]


class Jobs:
    """Tells the job runner about new work once the request's transaction is committed."""

    def __init__(self, runner: Runner | None, background: BackgroundTasks) -> None:
        self._runner = runner
        self._background = background

    def run_soon(self) -> None:
        """Have the runner look for runs to execute after this request commits."""
        if self._runner is not None:
            self._background.add_task(self._runner.wake)


def get_jobs(request: Request, background: BackgroundTasks) -> Jobs:
    return Jobs(request.app.state.runner, background)


JobsDep = Annotated[Jobs, Depends(get_jobs)]
