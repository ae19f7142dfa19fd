"""Logging in and out, pages behind the login, and the CSRF token every form must carry."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from prelabel.api import create_app
from prelabel.services.users import create_user, find_user_by_email, set_password
from prelabel.settings import Settings
from prelabel.store import Store
from prelabel.web.auth import safe_next
from tests.web.conftest import PASSWORD, WebAccount, csrf_of, flashes, log_in, soup

PAGES = [
    "/projects",
    "/projects/new",
    "/projects/1/data?page_size=25",
    "/projects/1/settings/predictions",
    "/projects/1/export",
]


def test_a_page_without_login_redirects_to_the_login_page_and_back(visitor: TestClient) -> None:
    for path in PAGES:
        response = visitor.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        login = visitor.get(response.headers["location"])
        assert soup(login.text).select_one("input[name=next]")["value"] == path


def test_a_form_posted_after_the_session_ended_logs_in_to_the_projects(
    visitor: TestClient,
) -> None:
    response = visitor.post(
        "/projects/1/data/actions", data={"csrf_token": csrf_of(visitor)}, follow_redirects=False
    )
    assert (response.status_code, response.headers["location"]) == (303, "/login")


def test_logging_in_goes_to_the_page_asked_for(visitor: TestClient, account: WebAccount) -> None:
    response = visitor.post(
        "/login",
        data={
            "email": "ANN@example.com",
            "password": PASSWORD,
            "next": "/projects/new",
            "csrf_token": csrf_of(visitor),
        },
        follow_redirects=False,
    )
    assert (response.status_code, response.headers["location"]) == (303, "/projects/new")
    assert visitor.get("/projects/new").status_code == 200


@pytest.mark.parametrize(
    ("target", "kept"),
    [
        pytest.param("/projects/1/data?page=2", "/projects/1/data?page=2", id="a-page"),
        pytest.param("https://evil.example/", "", id="absolute"),
        pytest.param("//evil.example/", "", id="scheme-relative"),
        pytest.param("/\\evil.example/", "", id="backslash"),
        pytest.param("/\t/evil.example/", "", id="tab"),
        pytest.param("projects", "", id="relative"),
    ],
)
def test_logging_in_never_sends_the_browser_to_another_site(target: str, kept: str) -> None:
    assert safe_next(target) == kept


def test_a_failed_login_says_so_without_saying_which_part_was_wrong(
    visitor: TestClient, account: WebAccount
) -> None:
    for email, password in [
        ("ann@example.com", "wrong password"),
        ("bob@example.com", PASSWORD),
        ("not an address", PASSWORD),
    ]:
        response = visitor.post(
            "/login", data={"email": email, "password": password, "csrf_token": csrf_of(visitor)}
        )
        assert response.status_code == 401, email
        assert flashes(response.text) == ["wrong e-mail or password"]
        assert soup(response.text).select_one("#email")["value"] == email
    assert visitor.get("/projects", follow_redirects=False).status_code == 303


def test_a_user_without_a_password_cannot_log_in(visitor: TestClient, store: Store) -> None:
    with store.session() as session:
        create_user(session, email="token-only@example.com")
    response = visitor.post(
        "/login",
        data={"email": "token-only@example.com", "password": "", "csrf_token": csrf_of(visitor)},
    )
    assert response.status_code == 401


def test_an_inactive_user_is_signed_out(web: TestClient, store: Store, account: WebAccount) -> None:
    with store.session() as session:
        user = find_user_by_email(session, account.email)
        assert user is not None
        user.is_active = False
    assert web.get("/projects", follow_redirects=False).status_code == 303


def test_a_new_password_signs_the_user_out_of_every_session(
    web: TestClient, store: Store, account: WebAccount
) -> None:
    with store.session() as session:
        user = find_user_by_email(session, account.email)
        assert user is not None
        set_password(session, user, "another good password")
    assert web.get("/projects", follow_redirects=False).status_code == 303
    log_in(web, account.email, "another good password")
    assert web.get("/projects").status_code == 200


def test_logging_out_ends_the_session(web: TestClient) -> None:
    response = web.post("/logout", data={"csrf_token": csrf_of(web)}, follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/login")
    assert web.get("/projects", follow_redirects=False).status_code == 303


def test_logging_in_starts_a_new_session_with_a_new_csrf_token(
    visitor: TestClient, account: WebAccount
) -> None:
    before = csrf_of(visitor)
    log_in(visitor, account.email, account.password)
    assert csrf_of(visitor) != before


FORMS = {
    "/logout": {},
    "/projects": {"title": "P", "label_config": "<View/>"},
    "/projects/1/data/actions": {"action": "delete_tasks_annotations"},
    "/projects/1/settings/predictions/delete": {"model_version": "v1"},
}


def test_a_form_without_the_sessions_csrf_token_is_refused(web: TestClient) -> None:
    for path, data in FORMS.items():
        for sent in (data, {**data, "csrf_token": "forged"}):
            response = web.post(path, data=sent, follow_redirects=False)
            assert response.status_code == 403, (path, sent)
            assert "expired or was not sent from this site" in response.text
            assert soup(response.text).title.get_text().startswith("Error 403")
    assert web.get("/projects").status_code == 200, "still signed in"


def test_the_login_form_needs_the_csrf_token_of_the_page_it_came_from(
    visitor: TestClient, account: WebAccount
) -> None:
    response = visitor.post("/login", data={"email": account.email, "password": PASSWORD})
    assert response.status_code == 403


def test_a_script_may_send_the_csrf_token_as_a_header(web: TestClient) -> None:
    response = web.post(
        "/projects/check-config",
        json={"label_config": "<View/>"},
        headers={"X-CSRF-Token": csrf_of(web)},
    )
    assert response.status_code == 200
    assert web.post("/projects/check-config", json={"label_config": "<View/>"}).status_code == 403


def test_pages_forbid_framing_and_scripts_from_elsewhere(web: TestClient) -> None:
    headers = web.get("/projects").headers
    assert "default-src 'self'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"


def test_the_session_cookie_is_http_only_and_same_site(
    visitor: TestClient, account: WebAccount
) -> None:
    response = visitor.post(
        "/login",
        data={"email": account.email, "password": PASSWORD, "csrf_token": csrf_of(visitor)},
        follow_redirects=False,
    )
    cookie = response.headers["set-cookie"].lower()
    assert cookie.startswith("prelabel_session=")
    assert "httponly" in cookie and "samesite=lax" in cookie


@pytest.mark.parametrize("secure", [pytest.param(True, id="set"), pytest.param(False, id="unset")])
def test_the_session_cookie_is_secure_when_secure_cookies_is_set(
    settings: Settings, store: Store, account: WebAccount, secure: bool
) -> None:
    app = create_app(
        settings.model_copy(update={"secure_cookies": secure}), store=store, run_jobs=False
    )
    with TestClient(app, base_url="https://testserver") as client:
        response = client.post(
            "/login",
            data={"email": account.email, "password": PASSWORD, "csrf_token": csrf_of(client)},
            follow_redirects=False,
        )
    assert response.status_code == 303
    attributes = [part.strip().lower() for part in response.headers["set-cookie"].split(";")]
    assert attributes[0].startswith("prelabel_session=")
    assert ("secure" in attributes) is secure


def test_the_api_ignores_the_session_cookie(web: TestClient) -> None:
    response = web.get("/api/projects")
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"
