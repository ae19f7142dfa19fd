"""Fixtures for the web pages: a user with a password, clients signed in or not, a browser.

``web`` is a TestClient signed in through the login form, as a browser would be; ``visitor``
has no session. Both run an app that executes no runs. ``csrf_of`` reads the token a page
carries, for tests that post forms. ``browser`` is one headless Chromium per test worker,
``page`` a fresh tab per test, and ``live_url`` the app served over a socket.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

from prelabel.api import create_app
from prelabel.services.users import create_user, set_password
from prelabel.settings import Settings
from prelabel.store import Store
from tests.live_server import serving

PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class WebAccount:
    user_id: int
    email: str
    password: str


def make_web_account(store: Store, email: str = "ann@example.com") -> WebAccount:
    with store.session() as session:
        user = create_user(session, email=email, is_admin=True)
        set_password(session, user, PASSWORD)
        return WebAccount(user.id, user.email, PASSWORD)


@pytest.fixture
def account(store: Store) -> WebAccount:
    return make_web_account(store)


@pytest.fixture
def visitor(settings: Settings, store: Store) -> Iterator[TestClient]:
    with TestClient(create_app(settings, store=store, run_jobs=False)) as client:
        yield client


@pytest.fixture
def web(visitor: TestClient, account: WebAccount) -> TestClient:
    log_in(visitor, account.email, account.password)
    return visitor


def log_in(client: TestClient, email: str, password: str) -> None:
    response = client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": csrf_of(client)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def csrf_of(client: TestClient) -> str:
    """The session's CSRF token, as every page carries it."""
    page = client.get("/login").text
    match = re.search(r'<meta name="csrf-token" content="([^"]+)">', page)
    assert match, "the page carries no CSRF token"
    return match.group(1)


def soup(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "html.parser")


def flashes(html: str) -> list[str]:
    return [element.get_text(strip=True) for element in soup(html).select(".flash")]


# -- A real browser ------------------------------------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: Screenshots of every page a browser test visits, for a person to look at (ignored by git).
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, once per test module. Without it the browser tests skip, saying
    why; CI sets PRELABEL_TEST_REQUIRE_BROWSER so that they fail there instead.

    Not once per session: Playwright's sync API keeps an event loop running in the main
    thread while it is started, and every later test of the worker that calls
    ``asyncio.run`` (executing a run, say) would fail."""
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing: apt-get install -y chromium chromium-driver"
        if os.environ.get("PRELABEL_TEST_REQUIRE_BROWSER"):
            pytest.fail(reason)
        pytest.skip(reason)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def live_url(settings: Settings, store: Store) -> Iterator[str]:
    """The app served over a socket, on this test's database."""
    with serving(create_app(settings, store=store, run_jobs=False)) as url:
        yield url


@pytest.fixture
def live_url_with_runner(settings: Settings, store: Store) -> Iterator[str]:
    """The app served over a socket with its job runner, which executes the runs that pages
    start (``live_url``'s app leaves them Pending)."""
    with serving(create_app(settings, store=store, run_jobs=True)) as url:
        yield url


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser tab at 1280×800; the test fails if a page logs a script error or
    breaks its Content-Security-Policy."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    tab = context.new_page()
    errors: list[str] = []

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.on("console", console)
    yield tab
    context.close()
    assert not errors, f"the pages reported errors: {errors}"


def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    return path
