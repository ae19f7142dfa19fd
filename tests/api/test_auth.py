"""Every endpoint but the health check wants ``Authorization: Token <key>``."""

from __future__ import annotations

import orjson
import pytest
from fastapi.testclient import TestClient

from prelabel.api import create_app
from prelabel.settings import Settings
from prelabel.store import Store
from tests.api.conftest import Account
from tests.factories import SENTIMENT_CONFIG


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


def test_a_body_over_the_upload_limit_is_refused_with_413_and_stores_nothing(
    settings: Settings, store: Store, admin: Account
) -> None:
    small = settings.model_copy(update={"max_upload_mb": 0.01})  # 10 kB
    with TestClient(create_app(small, store=store, run_jobs=False)) as client:
        client.headers.update(admin.headers)
        project = client.post(
            "/api/projects", json={"title": "Limits", "label_config": SENTIMENT_CONFIG}
        ).json()
        tasks = [{"text": "x" * 100} for _ in range(200)]  # about 24 kB
        declared = client.post(f"/api/projects/{project['id']}/import", json=tasks)
        streamed = client.post(
            f"/api/projects/{project['id']}/import",
            content=iter([orjson.dumps(tasks)]),  # chunked: no Content-Length to go by
            headers={"Content-Type": "application/json"},
        )
        listed = client.get("/api/tasks", params={"project": project["id"]}).json()
    assert declared.status_code == 413 and streamed.status_code == 413
    assert listed["total"] == 0
