"""Failed logins slow down password guessing: per e-mail, per client address, for 15 minutes,
counted in memory or in the Redis every server shares."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from prelabel.api import create_app
from prelabel.settings import Settings
from prelabel.store import Store
from prelabel.web.login_throttle import CLIENT_FAILURES, EMAIL_FAILURES, FAILURE_WINDOW_MINUTES
from tests.web.conftest import PASSWORD, WebAccount, csrf_of, flashes, make_web_account, soup

REDIS_URL = os.environ.get("PRELABEL_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
REFUSED = f"Too many failed logins; try again in {FAILURE_WINDOW_MINUTES} minutes"


def _log_in(client: TestClient, email: str, password: str) -> httpx.Response:
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": csrf_of(client)},
        follow_redirects=False,
    )


def _fail(client: TestClient, email: str, times: int) -> None:
    for attempt in range(times):
        response = _log_in(client, email, "wrong password")
        assert response.status_code == 401, (email, attempt)


def _assert_refused(response: httpx.Response, message: str = REFUSED) -> None:
    assert response.status_code == 429
    assert flashes(response.text) == [message]


def _signed_in(client: TestClient) -> bool:
    return client.get("/projects", follow_redirects=False).status_code == 200


def test_failures_for_one_email_in_any_case_refuse_its_logins_without_checking_the_password(
    visitor: TestClient, account: WebAccount
) -> None:
    spellings = ["ann@example.com", "ANN@example.com", " Ann@Example.COM "]
    for n in range(EMAIL_FAILURES):
        _fail(visitor, spellings[n % len(spellings)], 1)
    for password in (PASSWORD, "wrong password"):
        response = _log_in(visitor, "Ann@example.com", password)
        _assert_refused(response)
        assert response.headers["retry-after"] == str(FAILURE_WINDOW_MINUTES * 60)
        assert soup(response.text).select_one("#email")["value"] == "Ann@example.com"
    assert not _signed_in(visitor)


def test_the_refused_email_leaves_other_emails_alone(
    visitor: TestClient, store: Store, account: WebAccount
) -> None:
    bob = make_web_account(store, "bob@example.com")
    _fail(visitor, account.email, EMAIL_FAILURES)
    _assert_refused(_log_in(visitor, account.email, PASSWORD))
    assert _log_in(visitor, bob.email, PASSWORD).status_code == 303
    assert _signed_in(visitor)


def test_the_limit_is_the_tenth_failure_and_successes_do_not_count(
    visitor: TestClient, account: WebAccount
) -> None:
    _fail(visitor, account.email, EMAIL_FAILURES - 1)
    for _ in range(3):
        assert _log_in(visitor, account.email, PASSWORD).status_code == 303
        visitor.post("/logout", data={"csrf_token": csrf_of(visitor)})
    _fail(visitor, account.email, 1)
    _assert_refused(_log_in(visitor, account.email, PASSWORD))


def test_failures_from_one_address_refuse_every_email_from_it(
    visitor: TestClient, account: WebAccount
) -> None:
    for n in range(CLIENT_FAILURES):
        _fail(visitor, f"guess{n % 5}@example.com", 1)  # 6 each: no e-mail reaches its limit
    _assert_refused(_log_in(visitor, account.email, PASSWORD))
    _assert_refused(_log_in(visitor, "someone.else@example.com", "whatever"))
    elsewhere = TestClient(visitor.app, client=("203.0.113.9", 50000))
    assert _log_in(elsewhere, account.email, PASSWORD).status_code == 303


class _Clock:
    """time.time() for the throttle and the limits' memory storage, moved by hand."""

    def __init__(self, now: float) -> None:
        self.now = now

    def time(self) -> float:
        return self.now


def test_failures_older_than_the_window_no_longer_count(
    visitor: TestClient, account: WebAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = _Clock(1_800_000_000.0)
    monkeypatch.setattr("limits.storage.memory.time", clock)
    monkeypatch.setattr("prelabel.web.login_throttle.time", clock)
    _fail(visitor, account.email, EMAIL_FAILURES)
    clock.now += FAILURE_WINDOW_MINUTES * 60 - 90
    refused = _log_in(visitor, account.email, PASSWORD)
    _assert_refused(refused, "Too many failed logins; try again in 2 minutes")
    clock.now += 89
    soon = "Too many failed logins; try again in 1 minute"
    _assert_refused(_log_in(visitor, account.email, PASSWORD), soon)
    clock.now += 2
    assert _log_in(visitor, account.email, PASSWORD).status_code == 303


@pytest.fixture
def redis_settings(settings: Settings) -> Iterator[Settings]:
    """The test's settings with the Redis on 127.0.0.1 and a namespace of the test's own."""
    client = Redis.from_url(REDIS_URL, socket_connect_timeout=3)
    try:
        client.ping()
    except RedisConnectionError as exc:
        if os.environ.get("PRELABEL_TEST_REQUIRE_REDIS"):
            pytest.fail(f"Redis is not reachable at {REDIS_URL}: {exc}")
        pytest.skip(f"Redis is not reachable at {REDIS_URL}: {exc}")
    namespace = f"prelabel-test-{secrets.token_hex(6)}"
    yield settings.model_copy(update={"redis_url": REDIS_URL, "queue_name": namespace})
    keys = list(client.scan_iter(match=f"*{namespace}*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


def test_servers_sharing_redis_share_the_count(
    redis_settings: Settings, store: Store, account: WebAccount
) -> None:
    apps = [create_app(redis_settings, store=store, run_jobs=False) for _ in range(2)]
    with TestClient(apps[0]) as first, TestClient(apps[1]) as second:
        half = EMAIL_FAILURES // 2
        _fail(first, account.email, half)
        _fail(second, account.email, EMAIL_FAILURES - half)
        _assert_refused(_log_in(first, account.email, PASSWORD))
        _assert_refused(_log_in(second, account.email, PASSWORD))
    # Another deployment on the same Redis (another queue name) counts apart.
    other = redis_settings.model_copy(update={"queue_name": f"{redis_settings.queue_name}-b"})
    with TestClient(create_app(other, store=store, run_jobs=False)) as elsewhere:
        assert _log_in(elsewhere, account.email, PASSWORD).status_code == 303


def test_a_redis_out_of_reach_pauses_logins_with_the_reason(
    settings: Settings, store: Store, account: WebAccount, closed_port: int
) -> None:
    unreachable = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{closed_port}/0"})
    with TestClient(create_app(unreachable, store=store, run_jobs=False)) as client:
        response = _log_in(client, account.email, PASSWORD)

        assert response.status_code == 503
        message = soup(response.text).get_text(" ", strip=True)
        assert "Logins are paused: the Redis that counts failed logins cannot be reached" in message
        assert not _signed_in(client)
