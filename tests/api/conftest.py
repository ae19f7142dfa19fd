"""Fixtures for API tests: an app on the test's database, a user with a token, clients.

``client`` sends the admin's token on every request; ``anonymous`` sends none. The app runs
no job runner unless a test asks for ``client_with_runner``, so runs stay Pending and each
test decides what executes them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from prelabel.api import create_app
from prelabel.services.users import create_token, create_user
from prelabel.settings import Settings
from prelabel.store import Store, User


@dataclass(frozen=True)
class Account:
    user_id: int
    email: str
    key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Token {self.key}"}


def make_account(store: Store, email: str, *, is_admin: bool = False) -> Account:
    with store.session() as session:
        user: User = create_user(session, email=email, is_admin=is_admin)
        issued = create_token(session, user, name="tests")
        return Account(user.id, user.email, issued.key)


@pytest.fixture
def admin(store: Store) -> Account:
    return make_account(store, "admin@example.com", is_admin=True)


def _client(settings: Settings, store: Store, *, run_jobs: bool) -> TestClient:
    return TestClient(create_app(settings, store=store, run_jobs=run_jobs))


@pytest.fixture
def client(settings: Settings, store: Store, admin: Account) -> Iterator[TestClient]:
    """A client authenticated as the admin, on an app that executes no runs."""
    with _client(settings, store, run_jobs=False) as test_client:
        test_client.headers.update(admin.headers)
        yield test_client


@pytest.fixture
def client_with_runner(settings: Settings, store: Store, admin: Account) -> Iterator[TestClient]:
    """A client authenticated as the admin, on an app whose in-process runner executes runs."""
    with _client(settings, store, run_jobs=True) as test_client:
        test_client.headers.update(admin.headers)
        yield test_client


@pytest.fixture
def anonymous(settings: Settings, store: Store) -> Iterator[TestClient]:
    with _client(settings, store, run_jobs=False) as test_client:
        yield test_client
