"""Every endpoint but the health check wants ``Authorization: Token <key>``."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import Account


def test_health_answers_without_a_token(anonymous: TestClient) -> None:
    response = anonymous.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_request_without_a_token_is_refused_with_the_reason(anonymous: TestClient) -> None:
    response = anonymous.get("/api/version/")
    assert response.status_code == 401
    assert "Authorization: Token" in response.json()["detail"]


@pytest.mark.parametrize(
    "header",
    [
        pytest.param("Token 0123456789abcdef", id="unknown-key"),
        pytest.param("Token ", id="empty-key"),
        pytest.param("Basic YWRtaW46YWRtaW4=", id="other-scheme"),
    ],
)
def test_request_with_a_bad_token_is_refused(anonymous: TestClient, header: str) -> None:
    response = anonymous.get("/api/version", headers={"Authorization": header})
    assert response.status_code == 401
    body = response.json()
    assert body["status_code"] == 401 and body["detail"]


def test_request_with_a_valid_token_passes(anonymous: TestClient, admin: Account) -> None:
    response = anonymous.get("/api/version/", headers=admin.headers)
    assert response.status_code == 200
    assert response.json()["edition"] == "Community"


def test_paths_answer_with_and_without_trailing_slash(client: TestClient) -> None:
    assert client.get("/api/version").status_code == 200
    assert client.get("/api/version/").status_code == 200


def test_unknown_path_is_a_404_with_a_json_reason(client: TestClient) -> None:
    response = client.get("/api/nothing-here/")
    assert response.status_code == 404
    assert response.json()["detail"]
