"""Errors on web paths are pages with their status; on the API's paths, the API's JSON."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from prelabel.store import Store
from tests.api.conftest import make_account
from tests.web.conftest import soup

ERRORS = {
    "/nowhere": (404, "Not found"),
    "/projects/12/data": (404, "Not found"),
    "/projects/x/data": (404, "Not found"),
    "/static/nothing.css": (404, "Not found"),
    "/projects/1/data/actions": (405, "Error 405"),
}


def test_a_web_error_is_a_page_with_its_status(web: TestClient) -> None:
    for path, (status, heading) in ERRORS.items():
        response = web.get(path)
        assert response.status_code == status, path
        assert response.headers["content-type"].startswith("text/html")
        assert soup(response.text).h1.get_text(strip=True) == heading


def test_an_id_past_the_databases_range_is_a_400_page(web: TestClient) -> None:
    response = web.get(f"/projects/{2**31}/data")
    assert response.status_code == 400
    assert "project_id" in soup(response.text).select_one(".error-message").get_text()


@pytest.mark.parametrize("path", ["/api/nowhere", "/api/projects/12"])
def test_api_errors_stay_json(visitor: TestClient, store: Store, path: str) -> None:
    response = visitor.get(path, headers=make_account(store, "bot@example.com").headers)
    assert response.status_code == 404
    assert response.json()["status_code"] == 404


def test_the_api_docs_and_health_check_are_still_served(visitor: TestClient) -> None:
    assert visitor.get("/health").status_code == 200
    assert visitor.get("/openapi.json").status_code == 200
    assert not any(
        path.startswith("/projects") for path in visitor.get("/openapi.json").json()["paths"]
    )


def test_an_unexpected_failure_is_a_500_page(
    visitor: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("prelabel.web.auth.safe_next", explode)
    with TestClient(visitor.app, raise_server_exceptions=False) as client:
        response = client.get("/login")
    assert response.status_code == 500
    assert "the server log has the details" in response.text
    assert "boom" not in response.text
