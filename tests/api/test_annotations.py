"""``/api/tasks/{id}/annotations`` and ``/api/annotations/{id}``: list, create, read, change and
delete annotations, with the task's counters and its single ground truth kept true."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from prelabel.services.users import create_user
from prelabel.store import Annotation, Store, Task
from tests.api.conftest import Account
from tests.api.label_studio_data import prediction, seed_project
from tests.factories import sentiment
from tests.invariants import assert_stored_counters_exact

TASKS: list[dict[str, Any]] = [
    {
        "data": {"text": "first"},
        "annotations": [
            {"result": sentiment("Positive")},  # imported: ground truth
            {"result": [], "was_cancelled": True, "ground_truth": False},
        ],
        "predictions": [prediction("Positive", "v1")],
    },
    {"data": {"text": "second"}, "predictions": [prediction("Negative", "v1")]},
]


@pytest.fixture
def seeded(store: Store) -> tuple[int, list[int]]:
    return seed_project(store, TASKS)


def _counters(store: Store, task_id: int) -> tuple[int, int]:
    with store.session() as session:
        task = session.get(Task, task_id)
        return task.total_annotations, task.cancelled_annotations


def _ground_truth(store: Store, task_id: int) -> list[int]:
    with store.session() as session:
        return list(
            session.scalars(
                select(Annotation.id).where(
                    Annotation.task_id == task_id, Annotation.ground_truth.is_(True)
                )
            )
        )


def _stored(store: Store, annotation_id: int) -> Annotation | None:
    with store.session() as session:
        annotation = session.get(Annotation, annotation_id)
        if annotation is not None:
            session.expunge(annotation)
        return annotation


class TestListAnnotations:
    def test_list_is_a_plain_array_by_id_without_cancelled_ones(
        self, client: TestClient, seeded: tuple[int, list[int]]
    ) -> None:
        _, (task, _) = seeded
        response = client.get(f"/api/tasks/{task}/annotations/")
        assert response.status_code == 200
        (listed,) = response.json()
        assert (listed["result"], listed["was_cancelled"]) == (sentiment("Positive"), False)

    def test_task_without_annotations_lists_none(
        self, client: TestClient, seeded: tuple[int, list[int]]
    ) -> None:
        _, (_, task) = seeded
        assert client.get(f"/api/tasks/{task}/annotations").json() == []

    def test_unknown_task_is_404(self, client: TestClient) -> None:
        assert client.get("/api/tasks/999/annotations").status_code == 404


class TestCreateAnnotation:
    def test_create_answers_201_by_the_acting_user_and_counts_it(
        self,
        client: TestClient,
        store: Store,
        admin: Account,
        seeded: tuple[int, list[int]],
    ) -> None:
        project, (_, task) = seeded
        response = client.post(
            f"/api/tasks/{task}/annotations/",
            json={"result": sentiment("Negative"), "lead_time": 2.5},
        )
        assert response.status_code == 201
        body = response.json()
        assert body == {
            **body,
            "result": sentiment("Negative"),
            "completed_by": admin.user_id,
            "created_username": f" admin@example.com, {admin.user_id}",
            "created_ago": "0 minutes",
            "was_cancelled": False,
            "ground_truth": False,
            "lead_time": 2.5,
            "task": task,
            "project": project,
            "parent_prediction": None,
            "parent_annotation": None,
            "last_action": None,
            "updated_by": None,
            "draft_created_at": None,
        }
        assert _counters(store, task) == (1, 0)
        assert_stored_counters_exact(store)

    def test_result_may_be_the_json_text_of_a_list(
        self, client: TestClient, seeded: tuple[int, list[int]]
    ) -> None:
        _, (_, task) = seeded
        response = client.post(
            f"/api/tasks/{task}/annotations",
            json={
                "result": '[{"from_name": "sentiment", "to_name": "text", "type": "choices",'
                ' "value": {"choices": ["Positive"]}}]'
            },
        )
        assert response.status_code == 201
        assert response.json()["result"] == sentiment("Positive")

    @pytest.mark.parametrize(
        "how",
        [
            pytest.param({"json": {"result": [], "was_cancelled": True}}, id="body"),
            pytest.param({"json": {"result": []}, "params": {"was_cancelled": "true"}}, id="query"),
        ],
    )
    def test_cancelled_annotation_counts_as_cancelled_and_is_not_listed(
        self,
        client: TestClient,
        store: Store,
        seeded: tuple[int, list[int]],
        how: dict[str, Any],
    ) -> None:
        _, (_, task) = seeded
        response = client.post(f"/api/tasks/{task}/annotations", **how)
        assert response.status_code == 201
        assert response.json()["was_cancelled"] is True
        assert _counters(store, task) == (0, 1)
        assert client.get(f"/api/tasks/{task}/annotations").json() == []
        assert_stored_counters_exact(store)

    def test_ground_truth_becomes_the_tasks_only_one(
        self, client: TestClient, store: Store, seeded: tuple[int, list[int]]
    ) -> None:
        _, (task, _) = seeded
        (imported,) = _ground_truth(store, task)
        response = client.post(
            f"/api/tasks/{task}/annotations",
            json={"result": sentiment("Negative"), "ground_truth": True},
        )
        assert response.status_code == 201
        assert _ground_truth(store, task) == [response.json()["id"]]
        assert _stored(store, imported).ground_truth is False

    def test_completed_by_and_parent_prediction_are_kept(
        self, client: TestClient, store: Store, seeded: tuple[int, list[int]]
    ) -> None:
        _, (_, task) = seeded
        with store.session() as session:
            bob = create_user(session, email="bob@example.com")
            bob.first_name = "Bob"
            annotator = bob.id
        parent = client.get("/api/predictions", params={"task": task}).json()[0]["id"]
        response = client.post(
            f"/api/tasks/{task}/annotations",
            json={
                "result": sentiment("Negative"),
                "completed_by": annotator,
                "parent_prediction": parent,
            },
        )
        assert response.status_code == 201
        body = response.json()
        assert (body["completed_by"], body["parent_prediction"]) == (annotator, parent)
        assert body["created_username"] == f"Bob bob@example.com, {annotator}"

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            pytest.param({"result": sentiment("Neutral")}, "result", id="label-off-config"),
            pytest.param({"result": {"choices": ["Positive"]}}, "result", id="an-object"),
            pytest.param({"result": "[not json"}, "result", id="broken-json-text"),
            pytest.param({"result": "7"}, "result", id="json-text-of-no-list"),
            pytest.param(
                {"result": [{**sentiment("Positive")[0], "origin": "a\x00"}]},
                "result",
                id="nul-character",
            ),
            pytest.param({"ground_truth": "yes"}, "ground_truth", id="ground-truth-as-string"),
            pytest.param({"was_cancelled": 1}, "was_cancelled", id="was-cancelled-as-number"),
            pytest.param({"lead_time": -1}, "lead_time", id="negative-lead-time"),
            pytest.param({"lead_time": "fast"}, "lead_time", id="lead-time-as-string"),
            pytest.param({"completed_by": 999}, "completed_by", id="unknown-user"),
            pytest.param({"completed_by": "1"}, "completed_by", id="user-as-string"),
            pytest.param({"parent_prediction": 999}, "parent_prediction", id="unknown-prediction"),
        ],
    )
    def test_bad_input_is_400_naming_the_field_and_stores_nothing(
        self,
        client: TestClient,
        store: Store,
        seeded: tuple[int, list[int]],
        body: dict[str, Any],
        field: str,
    ) -> None:
        _, (_, task) = seeded
        response = client.post(f"/api/tasks/{task}/annotations", json=body)
        assert response.status_code == 400
        assert field in response.json()["validation_errors"]
        assert _counters(store, task) == (0, 0)
        assert_stored_counters_exact(store)

    def test_parent_prediction_of_another_task_is_400(
        self, client: TestClient, seeded: tuple[int, list[int]]
    ) -> None:
        _, (first, second) = seeded
        elsewhere = client.get("/api/predictions", params={"task": first}).json()[0]["id"]
        response = client.post(
            f"/api/tasks/{second}/annotations", json={"result": [], "parent_prediction": elsewhere}
        )
        assert response.status_code == 400
        assert (
            "not a prediction of task"
            in response.json()["validation_errors"]["parent_prediction"][0]
        )

    def test_unknown_task_is_404(self, client: TestClient) -> None:
        assert client.post("/api/tasks/999/annotations", json={"result": []}).status_code == 404


class TestGetAnnotation:
    def test_get_answers_the_annotation_cancelled_or_not(
        self, client: TestClient, store: Store, seeded: tuple[int, list[int]]
    ) -> None:
        _, (task, _) = seeded
        with store.session() as session:
            cancelled = session.scalar(
                select(Annotation.id).where(
                    Annotation.task_id == task, Annotation.was_cancelled.is_(True)
                )
            )
        response = client.get(f"/api/annotations/{cancelled}/")
        assert response.status_code == 200
        assert (response.json()["id"], response.json()["was_cancelled"]) == (cancelled, True)

    def test_unknown_annotation_is_404(self, client: TestClient) -> None:
        assert client.get("/api/annotations/999").status_code == 404


class TestUpdateAnnotation:
    @pytest.fixture
    def annotation(self, client: TestClient, seeded: tuple[int, list[int]]) -> dict[str, Any]:
        _, (_, task) = seeded
        return client.post(
            f"/api/tasks/{task}/annotations", json={"result": sentiment("Positive")}
        ).json()

    def test_patch_changes_only_the_fields_sent(
        self, client: TestClient, store: Store, annotation: dict[str, Any]
    ) -> None:
        response = client.patch(
            f"/api/annotations/{annotation['id']}", json={"result": sentiment("Negative")}
        )
        assert response.status_code == 200
        changed = _stored(store, annotation["id"])
        assert (changed.result, changed.lead_time, changed.ground_truth) == (
            sentiment("Negative"),
            None,
            False,
        )
        assert (
            client.patch(f"/api/annotations/{annotation['id']}", json={"lead_time": 4}).json()[
                "lead_time"
            ]
            == 4.0
        )
        assert _stored(store, annotation["id"]).result == sentiment("Negative")

    def test_flipping_was_cancelled_moves_it_between_counters(
        self, client: TestClient, store: Store, annotation: dict[str, Any]
    ) -> None:
        task = annotation["task"]
        url = f"/api/annotations/{annotation['id']}"
        assert client.patch(url, json={"was_cancelled": True}).status_code == 200
        assert _counters(store, task) == (0, 1)
        assert client.patch(url, json={"was_cancelled": True}).status_code == 200
        assert _counters(store, task) == (0, 1)
        assert client.patch(url, json={"was_cancelled": False}).status_code == 200
        assert _counters(store, task) == (1, 0)
        assert_stored_counters_exact(store)

    def test_marking_ground_truth_clears_it_on_the_tasks_others(
        self, client: TestClient, store: Store, seeded: tuple[int, list[int]]
    ) -> None:
        _, (task, _) = seeded
        (imported,) = _ground_truth(store, task)
        mine = client.post(f"/api/tasks/{task}/annotations", json={"result": []}).json()["id"]
        assert (
            client.patch(f"/api/annotations/{mine}", json={"ground_truth": True}).status_code == 200
        )
        assert _ground_truth(store, task) == [mine]
        assert (
            client.patch(f"/api/annotations/{imported}", json={"ground_truth": True}).status_code
            == 200
        )
        assert _ground_truth(store, task) == [imported]

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            pytest.param({"result": sentiment("Neutral")}, "result", id="label-off-config"),
            pytest.param({"result": None}, "result", id="null-result"),
            pytest.param({"was_cancelled": None}, "was_cancelled", id="null-was-cancelled"),
            pytest.param({"completed_by": 999}, "completed_by", id="unknown-user"),
            pytest.param({"completed_by": None}, "completed_by", id="null-user"),
        ],
    )
    def test_bad_change_is_400_and_changes_nothing(
        self,
        client: TestClient,
        store: Store,
        annotation: dict[str, Any],
        body: dict[str, Any],
        field: str,
    ) -> None:
        response = client.patch(f"/api/annotations/{annotation['id']}", json=body)
        assert response.status_code == 400
        assert field in response.json()["validation_errors"]
        assert _stored(store, annotation["id"]).result == sentiment("Positive")
        assert _counters(store, annotation["task"]) == (1, 0)

    def test_unknown_annotation_is_404(self, client: TestClient) -> None:
        assert client.patch("/api/annotations/999", json={"lead_time": 1}).status_code == 404


class TestDeleteAnnotation:
    @pytest.mark.parametrize("cancelled", [False, True], ids=["counted", "cancelled"])
    def test_delete_answers_204_and_uncounts_it(
        self,
        client: TestClient,
        store: Store,
        seeded: tuple[int, list[int]],
        cancelled: bool,
    ) -> None:
        _, (task, _) = seeded
        with store.session() as session:
            target = session.scalar(
                select(Annotation.id).where(
                    Annotation.task_id == task, Annotation.was_cancelled.is_(cancelled)
                )
            )
        before = _counters(store, task)
        response = client.delete(f"/api/annotations/{target}")
        assert response.status_code == 204
        assert _stored(store, target) is None
        expected = (before[0], before[1] - 1) if cancelled else (before[0] - 1, before[1])
        assert _counters(store, task) == expected
        assert_stored_counters_exact(store)

    def test_unknown_annotation_is_404(self, client: TestClient) -> None:
        assert client.delete("/api/annotations/999").status_code == 404
