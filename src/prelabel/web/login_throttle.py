"""Slowing down password guessing: failed logins counted per e-mail and per client address.

Each failed login counts once against its e-mail (case-insensitive) and once against the
client's address, in moving windows of ``FAILURE_WINDOW_MINUTES``. Past ``EMAIL_FAILURES``
for the e-mail, or ``CLIENT_FAILURES`` from the address, the login form is refused (429)
without checking the password, until the oldest failure in the window has aged out of it: the
first limit slows guessing one account's password from many addresses, the second trying
many accounts from one. A successful login counts nothing.

The counts are the ``limits`` library's, kept in memory by default, or with
``PRELABEL_REDIS_URL`` in that Redis under the queue's name, so that every server of a
deployment shares them. E-mails are counted under a hash, so the storage never holds them.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from fastapi import FastAPI
from limits import RateLimitItem, RateLimitItemPerMinute
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from redis.exceptions import RedisError
from starlette.requests import Request

from prelabel.errors import RedisUnavailableError
from prelabel.settings import Settings

#: Failed logins one e-mail may have within the window before its logins are refused.
EMAIL_FAILURES = 10
#: Failed logins one client address may have within the window before its logins are refused.
CLIENT_FAILURES = 30
FAILURE_WINDOW_MINUTES = 15


@dataclass(frozen=True)
class Refusal:
    """Why a login is refused before its password is checked, and for how long."""

    minutes: int

    @property
    def message(self) -> str:
        unit = "minute" if self.minutes == 1 else "minutes"
        return f"Too many failed logins; try again in {self.minutes} {unit}"


class LoginThrottle:
    """The failed-login counts of one deployment (``namespace``) in ``storage_url``."""

    def __init__(self, storage_url: str = "memory://", *, namespace: str = "prelabel") -> None:
        self._limiter = MovingWindowRateLimiter(storage_from_string(storage_url))
        self._namespace = namespace
        self._email_limit = RateLimitItemPerMinute(EMAIL_FAILURES, FAILURE_WINDOW_MINUTES)
        self._client_limit = RateLimitItemPerMinute(CLIENT_FAILURES, FAILURE_WINDOW_MINUTES)

    @classmethod
    def from_settings(cls, settings: Settings) -> LoginThrottle:
        if settings.redis_url:
            return cls(settings.redis_url, namespace=settings.queue_name)
        return cls()

    def refusal(self, email: str, client: str) -> Refusal | None:
        """A Refusal when the e-mail or the address has used up its failures, else None."""
        with _reachable():
            waits = [
                self._limiter.get_window_stats(limit, *key).reset_time - time.time()
                for limit, key in self._limits(email, client)
                if not self._limiter.test(limit, *key)
            ]
        if not waits:
            return None
        return Refusal(minutes=max(1, math.ceil(max(waits) / 60)))

    def record_failure(self, email: str, client: str) -> None:
        with _reachable():
            for limit, key in self._limits(email, client):
                self._limiter.hit(limit, *key)

    def _limits(self, email: str, client: str) -> list[tuple[RateLimitItem, tuple[str, ...]]]:
        folded = hashlib.sha256(email.strip().lower().encode()).hexdigest()
        return [
            (self._email_limit, (self._namespace, "login-email", folded)),
            (self._client_limit, (self._namespace, "login-client", client)),
        ]


@contextmanager
def _reachable() -> Iterator[None]:
    """Redis out of reach refuses the login (503) rather than letting it through unthrottled:
    without the counts, nothing would slow down guessing."""
    try:
        yield
    except RedisError as exc:
        raise RedisUnavailableError(
            f"Logins are paused: the Redis that counts failed logins cannot be reached ({exc})"
        ) from None


def install_login_throttle(app: FastAPI, settings: Settings) -> None:
    app.state.login_throttle = LoginThrottle.from_settings(settings)


def login_throttle(request: Request) -> LoginThrottle:
    """The throttle ``install_login_throttle`` gave the app."""
    throttle: LoginThrottle = request.app.state.login_throttle
    return throttle


def client_address(request: Request) -> str:
    """The address the request came from; behind a proxy, the one in its ``X-Forwarded-For``
    when uvicorn trusts the proxy (on 127.0.0.1, or named in ``FORWARDED_ALLOW_IPS``)."""
    return request.client.host if request.client else "unknown"
