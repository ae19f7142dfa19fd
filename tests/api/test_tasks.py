"""``/api/tasks``: the Data Manager's task list, one task, creating, changing and deleting
tasks, and deleting all of a project's."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from prelabel.store import Annotation, Prediction, Project, Store, Task, User
from tests.api.conftest import Account
from tests.factories import import_json, make_project, sentiment


@pytest.fixture
def project_id(store: Store) -> int:
    with store.session() as session:
        return make_project(session).id


def _import(store: Store, project_id: int, tasks: list[dict[str, Any]]) -> list[int]:
    with store.session() as session:
        import_json(session, session.get(Project, project_id), tasks)
        return list(
            session.scalars(select(Task.id).where(Task.project_id == project_id).order_by(Task.id))
        )


def _rows(store: Store, model: type) -> int:
    with store.session() as session:
        return session.scalar(select(func.count()).select_from(model))


def _nested(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


LABELED = {
    "data": {"text": "labeled"},
    "meta": {"source": "web"},
    "annotations": [
        {"result": sentiment("Positive")},
        {"result": [], "was_cancelled": True},
    ],
    "predictions": [
        {"result": sentiment("Positive"), "score": 0.9, "model_version": "v1"},
        {"result": sentiment("Negative"), "score": 0.4, "model_version": "v2"},
    ],
}


class TestListTasks:
    def test_list_without_project_is_label_studio_404(self, client: TestClient) -> None:
        response = client.get("/api/tasks/")
        assert response.status_code == 404
        assert response.json()["detail"] == "Neither project nor view id specified"

    def test_list_by_view_is_refused(self, client: TestClient) -> None:
        response = client.get("/api/tasks", params={"view": 3})
        assert response.status_code == 400
        assert "view" in response.json()["validation_errors"]

    def test_list_leaves_out_annotations_and_predictions_unless_fields_all(
        self, client: TestClient, store: Store, project_id: int
    ) -> None:
        _import(store, project_id, [LABELED, {"text": "plain"}])
        body = client.get("/api/tasks", params={"project": project_id}).json()
        assert (body["total"], body["total_annotations"], body["total_predictions"]) == (2, 1, 2)
        assert all("annotations" not in t and "predictions" not in t for t in body["tasks"])
        full = client.get("/api/tasks", params={"project": project_id, "fields": "all"}).json()
        assert [len(t["predictions"]) for t in full["tasks"]] == [2, 0]
        assert [len(t["annotations"]) for t in full["tasks"]] == [2, 0]

    def test_list_tasks_carry_label_studio_columns(
        self, client: TestClient, store: Store, project_id: int, admin: Account
    ) -> None:
        annotated = {
            **LABELED,
            "annotations": [
                {"result": sentiment("Positive"), "completed_by": admin.user_id},
                {"result": [], "was_cancelled": True, "completed_by": admin.user_id},
            ],
        }
        _import(store, project_id, [annotated, {"text": "plain"}])
        labeled, plain = client.get(
            "/api/tasks", params={"project": project_id, "fields": "all"}
        ).json()["tasks"]
        annotation_ids = [a["id"] for a in labeled["annotations"]]
        assert labeled["inner_id"] == labeled["id"]
        assert labeled["is_labeled"] is True and plain["is_labeled"] is False
        assert labeled["annotations_ids"] == ",".join(map(str, annotation_ids))
        assert labeled["annotators"] == [admin.user_id]
        assert labeled["completed_at"] == labeled["annotations"][0]["created_at"]
        assert plain["completed_at"] is None
        assert labeled["predictions_model_versions"] == "v1,v2"
        assert labeled["drafts"] == [] and labeled["meta"] == {"source": "web"}
        assert labeled["project"] == project_id
        assert (labeled["total_annotations"], labeled["cancelled_annotations"]) == (1, 1)

    def test_list_scores_by_the_project_model_version_or_all_when_it_is_empty(
        self, client: TestClient, store: Store, project_id: int
    ) -> None:
        _import(store, project_id, [LABELED])
        params = {"project": project_id}
        score = client.get("/api/tasks", params=params).json()["tasks"][0]["predictions_score"]
        assert score == 0.4, "the import set the project's version to the last one, v2"
        client.patch(f"/api/projects/{project_id}", json={"model_version": ""})
        score = client.get("/api/tasks", params=params).json()["tasks"][0]["predictions_score"]
        assert score == pytest.approx(0.65)

    def test_list_pages_and_answers_404_past_the_last_page(
        self, client: TestClient, store: Store, project_id: int
    ) -> None:
        ids = _import(store, project_id, [{"text": str(i)} for i in range(3)])
        params = {"project": project_id, "page_size": 2}
        first = client.get("/api/tasks", params={**params, "page": 1}).json()
        second = client.get("/api/tasks", params={**params, "page": 2}).json()
        assert [t["id"] for t in first["tasks"] + second["tasks"]] == ids
        assert first["total"] == second["total"] == 3
        past = client.get("/api/tasks", params={**params, "page": 3})
        assert past.status_code == 404

    def test_list_first_page_of_an_empty_project_is_empty(
        self, client: TestClient, project_id: int
    ) -> None:
        body = client.get("/api/tasks", params={"project": project_id}).json()
        assert body == {"total": 0, "total_annotations": 0, "total_predictions": 0, "tasks": []}

    def test_list_filters_selects_and_orders_with_the_query(
        self, client: TestClient, store: Store, project_id: int
    ) -> None:
        ids = _import(
            store,
            project_id,
            [
                {
                    "data": {"text": str(i)},
                    "predictions": [{"result": sentiment("Positive"), "score": i / 10}],
                }
                for i in range(4)
            ]
            + [{"text": "none"}],
        )
        query = {
            "filters": {
                "conjunction": "and",
                "items": [
                    {
                        "filter": "filter:tasks:total_predictions",
                        "operator": "greater",
                        "type": "Number",
                        "value": 0,
                    }
                ],
            },
            "selectedItems": {"all": True, "excluded": [ids[1]]},
            "ordering": ["-tasks:predictions_score"],
        }
        body = client.get(
            "/api/tasks", params={"project": project_id, "query": orjson.dumps(query).decode()}
        ).json()
        assert [t["id"] for t in body["tasks"]] == [ids[3], ids[2], ids[0]]
        assert body["total"] == 3

    def test_list_filters_on_a_model_versions_agreement_with_the_ground_truth(
        self, client: TestClient, store: Store, project_id: int
    ) -> None:
        ids = _import(store, project_id, [LABELED, {"text": "unlabeled"}])
        wrong = {"filter": "filter:tasks:agreement.v2", "operator": "less", "value": 1}
        right = {**wrong, "filter": "filter:tasks:agreement.v1"}

        def listed(item: dict[str, Any]) -> list[int]:
            query = orjson.dumps({"filters": {"items": [item]}}).decode()
            body = client.get("/api/tasks", params={"project": project_id, "query": query})
            return [task["id"] for task in body.json()["tasks"]]

        assert listed(wrong) == [ids[0]]
        assert listed(right) == []

    @pytest.mark.parametrize(
        ("query", "message"),
        [
            pytest.param("{not json", "query: not valid JSON", id="bad-json"),
            pytest.param("[1]", "query: must be a JSON object", id="not-an-object"),
            pytest.param(
                '{"filters": {"items": [{"filter": "filter:tasks:nope", "operator": "equal"}]}}',
                "filters.items[0]",
                id="unknown-column",
            ),
            pytest.param('{"ordering": ["-tasks:id", "tasks:id"]}', "ordering", id="two-orders"),
            pytest.param(
                '{"filters": {"items": [{"filter": "filter:tasks:data.text", '
                '"operator": "contains", "value": "a\\u0000"}]}}',
                "NUL",
                id="nul-character",
            ),
        ],
    )
    def test_list_with_a_bad_query_is_a_400(
        self, client: TestClient, project_id: int, query: str, message: str
    ) -> None:
        response = client.get("/api/tasks", params={"project": project_id, "query": query})
        assert response.status_code == 400
        assert message in response.json()["detail"]

    @pytest.mark.parametrize(
        "params",
        [
            pytest.param({"page_size": 1001}, id="page-size-above-1000"),
            pytest.param({"page_size": 0}, id="page-size-zero"),
            pytest.param({"page": 0}, id="page-zero"),
        ],
    )
    def test_list_with_bad_paging_is_a_400(
        self, client: TestClient, project_id: int, params: dict[str, int]
    ) -> None:
        response = client.get("/api/tasks", params={"project": project_id, **params})
        assert response.status_code == 400

    def test_list_of_unknown_project_is_a_404(self, client: TestClient) -> None:
        assert client.get("/api/tasks", params={"project": 999}).status_code == 404


class TestGetTask:
    def test_get_task_expands_annotators_and_keeps_every_annotation_and_prediction(
        self, client: TestClient, store: Store, project_id: int, admin: Account
    ) -> None:
        with store.session() as session:
            session.get(User, admin.user_id).first_name = "Ada"
            session.get(User, admin.user_id).last_name = "Lovelace"
        task = {
            **LABELED,
            "annotations": [
                {"result": sentiment("Positive"), "completed_by": admin.user_id},
                {"result": [], "was_cancelled": True, "completed_by": {"email": "bob@x.io"}},
            ],
        }
        (task_id,) = _import(store, project_id, [task])
        response = client.get(f"/api/tasks/{task_id}/")
        assert response.status_code == 200
        body = response.json()
        first, second = (a["completed_by"] for a in body["annotations"])
        assert first == {
            "id": admin.user_id,
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": admin.email,
            "avatar": None,
            "initials": "AL",
        }
        assert second["email"] == "bob@x.io" and second["initials"] == "bo"
        assert [p["model_version"] for p in body["predictions"]] == ["v1", "v2"]
        assert body["predictions_score"] == 0.4, "the project's version is v2, the last imported"
        assert body["is_labeled"] is True and body["inner_id"] == task_id

    def test_get_unknown_task_is_a_404(self, client: TestClient) -> None:
        response = client.get("/api/tasks/999")
        assert response.status_code == 404
        assert response.json()["detail"] == "Task 999 not found"


class TestCreateTask:
    def test_create_task_answers_201_and_stores_it(
        self, client: TestClient, store: Store, project_id: int
    ) -> None:
        body = {"project": project_id, "data": {"text": "new"}, "meta": {"k": 1}}
        response = client.post("/api/tasks/", json=body)
        assert response.status_code == 201
        task = response.json()
        assert (task["data"], task["meta"], task["project"]) == (
            {"text": "new"},
            {"k": 1},
            project_id,
        )
        assert (task["annotations"], task["predictions"], task["is_labeled"]) == ([], [], False)
        with store.session() as session:
            stored = session.get(Task, task["id"])
            assert (stored.data, stored.total_annotations, stored.total_predictions) == (
                {"text": "new"},
                0,
                0,
            )

    def test_create_task_without_meta_has_empty_meta(
        self, client: TestClient, project_id: int
    ) -> None:
        response = client.post("/api/tasks", json={"project": project_id, "data": {"text": "x"}})
        assert response.json()["meta"] == {}

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            pytest.param({"data": {"body": "x"}}, "data", id="config-field-missing"),
            pytest.param({"data": {"text": ["x"]}}, "data", id="field-wrong-type"),
            pytest.param({"data": "x"}, "data", id="data-not-an-object"),
            pytest.param({"data": {"text": "x"}, "meta": []}, "meta", id="meta-not-an-object"),
            pytest.param({"data": {"text": "x"}, "project": 999}, "project", id="unknown-project"),
            pytest.param({"data": {"text": "x"}, "project": "1"}, "project", id="project-string"),
            pytest.param({"data": {"text": "x"}, "project": None}, "project", id="project-null"),
        ],
    )
    def test_create_task_with_bad_input_is_a_400_naming_the_field(
        self, client: TestClient, store: Store, project_id: int, body: dict[str, Any], field: str
    ) -> None:
        response = client.post("/api/tasks", json={"project": project_id, **body})
        assert response.status_code == 400
        assert field in response.json()["validation_errors"]
        assert _rows(store, Task) == 0

    @pytest.mark.parametrize(
        "body",
        [
            pytest.param({"data": {"text": "a\u0000b"}}, id="nul-in-data"),
            pytest.param({"data": {"text": "a"}, "meta": {"k": "\u0000"}}, id="nul-in-meta"),
            pytest.param({"data": {"text": "a", "deep": _nested(300)}}, id="nested-too-deep"),
        ],
    )
    def test_create_task_with_data_the_database_cannot_hold_is_a_400_on_both_backends(
        self, client: TestClient, store: Store, project_id: int, body: dict[str, Any]
    ) -> None:
        response = client.post("/api/tasks", json={"project": project_id, **body})
        assert response.status_code == 400
        assert set(response.json()["validation_errors"]) <= {"data", "meta"}
        assert _rows(store, Task) == 0


class TestUpdateTask:
    def test_update_task_replaces_data_and_meta_and_keeps_annotations(
        self, client: TestClient, store: Store, project_id: int
    ) -> None:
        (task_id,) = _import(store, project_id, [LABELED])
        response = client.patch(
            f"/api/tasks/{task_id}", json={"data": {"text": "edited"}, "meta": {"v": 2}}
        )
        assert response.status_code == 200
        body = response.json()
        assert (body["data"], body["meta"]) == ({"text": "edited"}, {"v": 2})
        assert len(body["annotations"]) == 2 and len(body["predictions"]) == 2
        with store.session() as session:
            assert session.get(Task, task_id).data == {"text": "edited"}

    def test_update_task_with_data_the_config_cannot_read_is_a_400_and_changes_nothing(
        self, client: TestClient, store: Store, project_id: int
    ) -> None:
        (task_id,) = _import(store, project_id, [{"text": "kept"}])
        response = client.patch(f"/api/tasks/{task_id}", json={"data": {"body": "x"}})
        assert response.status_code == 400
        assert "data" in response.json()["validation_errors"]
        with store.session() as session:
            assert session.get(Task, task_id).data == {"text": "kept"}

    def test_update_unknown_task_is_a_404(self, client: TestClient) -> None:
        assert client.patch("/api/tasks/999", json={"meta": {}}).status_code == 404


class TestDeleteTasks:
    def test_delete_task_answers_204_and_removes_its_annotations_and_predictions(
        self, client: TestClient, store: Store, project_id: int
    ) -> None:
        doomed, kept = _import(store, project_id, [LABELED, LABELED])
        response = client.delete(f"/api/tasks/{doomed}")
        assert response.status_code == 204 and response.content == b""
        assert client.get(f"/api/tasks/{doomed}").status_code == 404
        with store.session() as session:
            assert set(session.scalars(select(Annotation.task_id))) == {kept}
            assert set(session.scalars(select(Prediction.task_id))) == {kept}

    def test_delete_unknown_task_is_a_404(self, client: TestClient) -> None:
        assert client.delete("/api/tasks/999").status_code == 404

    def test_delete_all_tasks_of_a_project_leaves_other_projects_alone(
        self, client: TestClient, store: Store, project_id: int
    ) -> None:
        _import(store, project_id, [LABELED, {"text": "b"}])
        with store.session() as session:
            other = make_project(session, title="Other").id
        (kept,) = _import(store, other, [LABELED])
        response = client.delete(f"/api/projects/{project_id}/tasks/")
        assert response.status_code == 204
        with store.session() as session:
            assert list(session.scalars(select(Task.id))) == [kept]
            assert set(session.scalars(select(Annotation.task_id))) == {kept}
            assert set(session.scalars(select(Prediction.task_id))) == {kept}
        assert client.get(f"/api/projects/{project_id}").json()["task_number"] == 0

    def test_delete_all_tasks_of_unknown_project_is_a_404(self, client: TestClient) -> None:
        assert client.delete("/api/projects/999/tasks").status_code == 404
