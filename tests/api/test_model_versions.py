"""``/api/projects/{id}/model-versions``: the prediction count of each model version, newest
first, and deleting one version's predictions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from prelabel.store import Prediction, Project, Store
from tests.api.label_studio_data import prediction, seed_project
from tests.invariants import assert_stored_counters_exact

# The import makes "v1" the project's version (the last imported prediction's).
TASKS: list[dict[str, Any]] = [
    {
        "data": {"text": "a"},
        "predictions": [prediction("Positive", "v3"), prediction("Negative", "v2")],
    },
    {
        "data": {"text": "b"},
        "predictions": [prediction("Positive", "v3"), prediction("Positive", "v1")],
    },
]


@pytest.fixture
def seeded(store: Store) -> tuple[int, list[int]]:
    """The project, its versions created v1 (newest), v3, v2 (oldest)."""
    project, tasks = seed_project(store, TASKS)
    with store.session() as session:
        for version, month in (("v2", 1), ("v3", 2), ("v1", 3)):
            session.execute(
                update(Prediction)
                .where(Prediction.model_version == version)
                .values(created_at=datetime(2025, month, 1, tzinfo=UTC))
            )
    return project, tasks


def _set_model_version(store: Store, project_id: int, version: str | None) -> None:
    with store.session() as session:
        session.get(Project, project_id).model_version = version


def _versions(store: Store, project_id: int) -> list[str]:
    with store.session() as session:
        rows = session.scalars(
            select(Prediction.model_version)
            .where(Prediction.project_id == project_id)
            .order_by(Prediction.id)
        )
        return list(rows)


class TestListModelVersions:
    def test_counts_by_version_newest_first(
        self, client: TestClient, seeded: tuple[int, list[int]]
    ) -> None:
        project, _ = seeded
        response = client.get(f"/api/projects/{project}/model-versions/")
        assert response.status_code == 200
        assert list(response.json().items()) == [("v1", 1), ("v3", 2), ("v2", 1)]

    def test_the_projects_version_is_listed_even_without_predictions(
        self, client: TestClient, store: Store, seeded: tuple[int, list[int]]
    ) -> None:
        project, _ = seeded
        _set_model_version(store, project, "v9")
        versions = client.get(f"/api/projects/{project}/model-versions").json()
        assert list(versions.items()) == [("v1", 1), ("v3", 2), ("v2", 1), ("v9", 0)]

    def test_limit_keeps_the_newest_and_the_projects_version(
        self, client: TestClient, store: Store, seeded: tuple[int, list[int]]
    ) -> None:
        project, _ = seeded
        _set_model_version(store, project, "v2")
        url = f"/api/projects/{project}/model-versions"
        assert client.get(url, params={"limit": 1}).json() == {"v1": 1, "v2": 1}
        assert client.get(url, params={"limit": 0}).json() == {"v2": 1}

    def test_extended_lists_count_and_latest(
        self, client: TestClient, seeded: tuple[int, list[int]]
    ) -> None:
        project, _ = seeded
        response = client.get(
            f"/api/projects/{project}/model-versions", params={"extended": "true", "limit": 2}
        )
        assert response.status_code == 200
        assert response.json() == {
            "static": [
                {
                    "model_version": "v1",
                    "count": 1,
                    "latest": "2025-03-01T00:00:00Z",
                    "prompt_version": None,
                },
                {
                    "model_version": "v3",
                    "count": 2,
                    "latest": "2025-02-01T00:00:00Z",
                    "prompt_version": None,
                },
            ],
            "live": None,
        }

    def test_project_without_predictions_lists_only_its_version(
        self, client: TestClient, store: Store
    ) -> None:
        project, _ = seed_project(store, [{"text": "a"}])
        assert client.get(f"/api/projects/{project}/model-versions").json() == {}
        _set_model_version(store, project, "v1")
        assert client.get(f"/api/projects/{project}/model-versions").json() == {"v1": 0}

    @pytest.mark.parametrize(
        ("path", "status"),
        [
            pytest.param("999/model-versions", 404, id="unknown-project"),
            pytest.param("1/model-versions?limit=-1", 400, id="negative-limit"),
            pytest.param("1/model-versions?extended=maybe", 400, id="extended-not-a-flag"),
        ],
    )
    def test_bad_request_fails_cleanly(
        self, client: TestClient, seeded: tuple[int, list[int]], path: str, status: int
    ) -> None:
        assert client.get(f"/api/projects/{path}").status_code == status


class TestDeleteModelVersion:
    def _delete(self, client: TestClient, project: int, body: Any) -> Any:
        return client.request("DELETE", f"/api/projects/{project}/model-versions/", json=body)

    def test_delete_removes_the_versions_predictions_and_keeps_counters(
        self, client: TestClient, store: Store, seeded: tuple[int, list[int]]
    ) -> None:
        project, _ = seeded
        response = self._delete(client, project, {"model_version": "v3"})
        assert response.status_code == 200
        assert response.json() == {"deleted_predictions": 2}
        assert _versions(store, project) == ["v2", "v1"]
        with store.session() as session:
            assert session.get(Project, project).model_version == "v1"
        assert_stored_counters_exact(store)

    def test_deleting_the_projects_version_unsets_it(
        self, client: TestClient, store: Store, seeded: tuple[int, list[int]]
    ) -> None:
        project, _ = seeded
        assert self._delete(client, project, {"model_version": "v1"}).json() == {
            "deleted_predictions": 1
        }
        with store.session() as session:
            assert session.get(Project, project).model_version is None
        assert "v1" not in client.get(f"/api/projects/{project}/model-versions").json()

    def test_a_version_without_predictions_deletes_none_as_in_label_studio(
        self, client: TestClient, store: Store, seeded: tuple[int, list[int]]
    ) -> None:
        project, _ = seeded
        response = self._delete(client, project, {"model_version": "v9"})
        assert response.status_code == 200
        assert response.json() == {"deleted_predictions": 0}
        assert len(_versions(store, project)) == 4

    @pytest.mark.parametrize(
        "body",
        [
            pytest.param({}, id="no-model-version"),
            pytest.param({"model_version": None}, id="null"),
            pytest.param({"model_version": ["v1"]}, id="a-list"),
            pytest.param({"model_version": "v\x00"}, id="nul-character"),
            pytest.param(None, id="no-body"),
        ],
    )
    def test_delete_without_a_version_is_400_and_deletes_nothing(
        self, client: TestClient, store: Store, seeded: tuple[int, list[int]], body: Any
    ) -> None:
        project, _ = seeded
        response = self._delete(client, project, body)
        assert response.status_code == 400
        assert len(_versions(store, project)) == 4

    def test_unknown_project_is_404(self, client: TestClient) -> None:
        assert self._delete(client, 999, {"model_version": "v1"}).status_code == 404
