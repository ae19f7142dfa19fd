"""``/api/predictions``: list, create, read, change and delete predictions, every result checked
against the project's config and every task's ``total_predictions`` kept exact."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from prelabel.store import Annotation, Prediction, Store, Task
from tests.api.label_studio_data import (
    add_prompt_prediction,
    add_prompt_version,
    prediction,
    seed_project,
)
from tests.factories import ALL_CONTROLS_CONFIG, region, sentiment
from tests.invariants import assert_stored_counters_exact

TASKS: list[dict[str, Any]] = [
    {"data": {"text": "first"}, "predictions": [prediction("Positive", "v1", 0.9)]},
    {"data": {"text": "second"}},
]


@pytest.fixture
def seeded(store: Store) -> tuple[int, list[int]]:
    return seed_project(store, TASKS)


def _prediction_rows(store: Store, task_id: int) -> list[tuple[str, Any, float | None]]:
    with store.session() as session:
        rows = session.execute(
            select(Prediction.model_version, Prediction.result, Prediction.score)
            .where(Prediction.task_id == task_id)
            .order_by(Prediction.id)
        )
        return [tuple(row) for row in rows]


def _with_extra(extra: Any) -> list[dict[str, Any]]:
    """A Positive region whose value carries an extra key, which the config does not check."""
    return [region("sentiment", "choices", {"choices": ["Positive"], "extra": extra})]


def _nested(depth: int) -> Any:
    value: Any = []
    for _ in range(depth):
        value = [value]
    return value


def _total_predictions(store: Store, task_id: int) -> int:
    with store.session() as session:
        return session.get(Task, task_id).total_predictions


class TestCreatePrediction:
    def test_create_answers_201_with_label_studio_shape_and_counts_it(
        self, client: TestClient, store: Store, seeded: tuple[int, list[int]]
    ) -> None:
        project, (_, task) = seeded
        sent = {"task": task, "result": sentiment("Negative"), "score": 0.4, "model_version": "v2"}
        response = client.post("/api/predictions/", json=sent)
        assert response.status_code == 201
        body = response.json()
        assert body == {
            **body,
            "result": sentiment("Negative"),
            "score": 0.4,
            "model_version": "v2",
            "task": task,
            "project": project,
            "cluster": None,
            "neighbors": None,
            "mislabeling": 0.0,
            "model": None,
            "model_run": None,
            "created_ago": "0 minutes",
        }
        assert body["created_at"].endswith("Z") and body["updated_at"].endswith("Z")
        assert "prompt_version" not in body
        assert _prediction_rows(store, task) == [("v2", sentiment("Negative"), 0.4)]
        assert _total_predictions(store, task) == 1
        assert_stored_counters_exact(store)

    def test_model_version_defaults_to_the_empty_string_and_score_to_null(
        self, client: TestClient, store: Store, seeded: tuple[int, list[int]]
    ) -> None:
        _, (_, task) = seeded
        response = client.post("/api/predictions", json={"task": task, "result": []})
        assert response.status_code == 201
        assert (response.json()["model_version"], response.json()["score"]) == ("", None)

    def test_extra_keys_are_ignored(
        self, client: TestClient, seeded: tuple[int, list[int]]
    ) -> None:
        project, (_, task) = seeded
        response = client.post(
            "/api/predictions",
            json={"task": task, "result": [], "project": project, "cluster": 3, "x": {"y": 1}},
        )
        assert response.status_code == 201

    @pytest.mark.parametrize(
        ("result", "stored"),
        [
            pytest.param(
                {"choices": ["Negative"]},
                [region("sentiment", "choices", {"choices": ["Negative"]})],
                id="value-of-a-control",
            ),
            pytest.param(
                "Negative",
                [region("sentiment", "choices", {"choices": ["Negative"]})],
                id="string-answers-the-first-choices",
            ),
            pytest.param(4, [region("rating", "rating", {"rating": 4})], id="integer-rates"),
            pytest.param(7.5, [region("num", "number", {"number": 7.5})], id="float-numbers"),
        ],
    )
    def test_label_studio_result_shorthands_become_regions(
        self, client: TestClient, store: Store, result: Any, stored: list[dict[str, Any]]
    ) -> None:
        _, (task,) = seed_project(store, [{"text": "t"}], config=ALL_CONTROLS_CONFIG)
        response = client.post("/api/predictions", json={"task": task, "result": result})
        assert response.status_code == 201, response.text
        assert response.json()["result"] == stored

    @pytest.mark.parametrize(
        ("result", "reason"),
        [
            pytest.param(sentiment("Neutral"), "'Neutral'", id="unknown-label"),
            pytest.param(
                [region("mood", "choices", {"choices": ["Positive"]})],
                "names no control",
                id="unknown-control",
            ),
            pytest.param(
                [region("sentiment", "labels", {"choices": ["Positive"]})],
                "type 'labels' should be 'choices'",
                id="wrong-type",
            ),
            pytest.param(["Positive"], "must be an object", id="region-not-an-object"),
            pytest.param(None, "must be a list", id="null"),
            pytest.param(True, "must be a list", id="boolean"),
            pytest.param({"labels": ["Positive"]}, "keyed by its type", id="value-of-no-control"),
            pytest.param(3, "needs a Rating or Number control", id="number-without-rating"),
            pytest.param(_with_extra("a\x00b"), "NUL character", id="nul-character"),
            pytest.param(_with_extra(2**70), "cannot be stored", id="integer-past-64-bits"),
            pytest.param(_with_extra(_nested(300)), "cannot be stored", id="nested-too-deep"),
        ],
    )
    def test_result_that_does_not_fit_the_config_is_400_and_stores_nothing(
        self,
        client: TestClient,
        store: Store,
        seeded: tuple[int, list[int]],
        result: Any,
        reason: str,
    ) -> None:
        _, (_, task) = seeded
        response = client.post("/api/predictions", json={"task": task, "result": result})
        assert response.status_code == 400
        body = response.json()
        assert body["code"] == "invalid_result"
        assert reason in body["validation_errors"]["result"][0]
        assert _prediction_rows(store, task) == []
        assert _total_predictions(store, task) == 0

    def test_unknown_task_is_400_naming_the_task(self, client: TestClient) -> None:
        response = client.post("/api/predictions", json={"task": 999, "result": []})
        assert response.status_code == 400
        assert response.json()["validation_errors"] == {"task": ["task 999 does not exist"]}

    def test_project_other_than_the_tasks_is_400(
        self, client: TestClient, store: Store, seeded: tuple[int, list[int]]
    ) -> None:
        _, (task, _) = seeded
        other, _ = seed_project(store, [{"text": "x"}], title="Other")
        response = client.post(
            "/api/predictions", json={"task": task, "result": [], "project": other}
        )
        assert response.status_code == 400
        assert "project" in response.json()["validation_errors"]

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            pytest.param({"result": []}, "task", id="no-task"),
            pytest.param({"task": "1", "result": []}, "task", id="task-as-string"),
            pytest.param({"task": True, "result": []}, "task", id="task-as-boolean"),
            pytest.param({"task": 2**40, "result": []}, "task", id="task-beyond-any-id"),
            pytest.param({"task": 1}, "result", id="no-result"),
            pytest.param({"task": 1, "result": [], "score": "0.5"}, "score", id="score-as-string"),
            pytest.param({"task": 1, "result": [], "score": True}, "score", id="score-as-boolean"),
            pytest.param({"task": 1, "result": [], "model_version": 2}, "model_version", id="mv"),
            pytest.param(
                {"task": 1, "result": [], "model_version": "v\x00"}, "model_version", id="nul"
            ),
            pytest.param([{"task": 1, "result": []}], "body", id="a-list"),
        ],
    )
    def test_malformed_body_is_400_naming_the_field(
        self,
        client: TestClient,
        store: Store,
        seeded: tuple[int, list[int]],
        body: Any,
        field: str,
    ) -> None:
        response = client.post("/api/predictions", json=body)
        assert response.status_code == 400
        assert field in response.json()["validation_errors"]
        assert_stored_counters_exact(store)

    def test_body_that_is_not_json_is_400(self, client: TestClient) -> None:
        response = client.post(
            "/api/predictions", content=b"{task: 1", headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 400

    def test_a_prompt_versions_model_version_is_refused(
        self, client: TestClient, store: Store, seeded: tuple[int, list[int]]
    ) -> None:
        project, (_, task) = seeded
        version_id, model_version = add_prompt_version(store, project)
        response = client.post(
            "/api/predictions",
            json={"task": task, "result": sentiment("Positive"), "model_version": model_version},
        )
        assert response.status_code == 400
        reason = response.json()["validation_errors"]["model_version"][0]
        assert f"prompt version {version_id}" in reason
        assert _prediction_rows(store, task) == []


class TestListPredictions:
    @pytest.fixture
    def two_projects(self, store: Store) -> tuple[int, list[int], int, list[int]]:
        first, first_tasks = seed_project(
            store,
            [
                {"data": {"text": "a"}, "predictions": [prediction("Positive", "v1")]},
                {"data": {"text": "b"}, "predictions": [prediction("Negative", "v1")] * 2},
            ],
        )
        second, second_tasks = seed_project(
            store,
            [{"data": {"text": "c"}, "predictions": [prediction("Positive", "v9")]}],
            title="Second",
        )
        return first, first_tasks, second, second_tasks

    def _ids(self, client: TestClient, **params: Any) -> list[tuple[int, str]]:
        response = client.get("/api/predictions/", params=params)
        assert response.status_code == 200
        return [(p["task"], p["model_version"]) for p in response.json()]

    def test_filters_by_task_project_and_task_project(
        self, client: TestClient, two_projects: tuple[int, list[int], int, list[int]]
    ) -> None:
        first, (a, b), second, (c,) = two_projects
        assert self._ids(client, task=b) == [(b, "v1"), (b, "v1")]
        assert self._ids(client, project=first) == [(a, "v1"), (b, "v1"), (b, "v1")]
        assert self._ids(client, task__project=second) == [(c, "v9")]
        assert self._ids(client, task=a, project=second) == []
        assert self._ids(client, project=first, task__project=second) == []
        assert self._ids(client) == [(a, "v1"), (b, "v1"), (b, "v1"), (c, "v9")]

    def test_list_is_a_plain_array_by_id(
        self, client: TestClient, two_projects: tuple[int, list[int], int, list[int]]
    ) -> None:
        listed = client.get("/api/predictions").json()
        assert [p["id"] for p in listed] == sorted(p["id"] for p in listed)
        assert listed[0]["created_ago"] == "0 minutes"

    def test_unknown_filter_values_list_nothing(self, client: TestClient) -> None:
        assert client.get("/api/predictions", params={"task": 12345}).json() == []

    @pytest.mark.parametrize(
        "params",
        [{"task": "abc"}, {"project": 0}, {"task__project": 2**40}],
        ids=["not-a-number", "zero", "beyond-any-id"],
    )
    def test_bad_filter_is_400(self, client: TestClient, params: dict[str, Any]) -> None:
        assert client.get("/api/predictions", params=params).status_code == 400


class TestGetPrediction:
    def test_get_answers_the_prediction(
        self, client: TestClient, store: Store, seeded: tuple[int, list[int]]
    ) -> None:
        _, (task, _) = seeded
        (listed,) = client.get("/api/predictions", params={"task": task}).json()
        response = client.get(f"/api/predictions/{listed['id']}/")
        assert response.status_code == 200
        assert response.json() == listed

    def test_a_prompt_versions_prediction_names_its_version_and_usage(
        self, client: TestClient, store: Store, seeded: tuple[int, list[int]]
    ) -> None:
        project, (_, task) = seeded
        version = add_prompt_version(store, project)
        made = add_prompt_prediction(store, version, task, "Positive")
        body = client.get(f"/api/predictions/{made}").json()
        assert body == {
            **body,
            "model_version": version[1],
            "prompt_version": version[0],
            "run": None,
            "input_tokens": 10,
            "output_tokens": 2,
            "cost_usd": 0.001,
            "latency_ms": 120.0,
            "repairs": [],
        }

    @pytest.mark.parametrize(
        ("path", "status"),
        [
            pytest.param("999", 404, id="unknown"),
            pytest.param("abc", 404, id="not-a-number"),
            pytest.param("0", 400, id="zero"),
            pytest.param(str(2**40), 400, id="beyond-any-id"),
        ],
    )
    def test_get_of_no_prediction_fails_cleanly(
        self, client: TestClient, path: str, status: int
    ) -> None:
        assert client.get(f"/api/predictions/{path}").status_code == status


class TestUpdatePrediction:
    def _first(self, client: TestClient, task: int) -> dict[str, Any]:
        return client.get("/api/predictions", params={"task": task}).json()[0]

    def test_patch_changes_only_the_fields_sent(
        self, client: TestClient, store: Store, seeded: tuple[int, list[int]]
    ) -> None:
        _, (task, _) = seeded
        before = self._first(client, task)
        response = client.patch(f"/api/predictions/{before['id']}", json={"score": 0.1})
        assert response.status_code == 200
        assert response.json()["score"] == 0.1
        assert _prediction_rows(store, task) == [("v1", sentiment("Positive"), 0.1)]
        response = client.patch(
            f"/api/predictions/{before['id']}",
            json={"result": sentiment("Negative"), "model_version": "v3", "score": None},
        )
        assert response.status_code == 200
        assert _prediction_rows(store, task) == [("v3", sentiment("Negative"), None)]
        assert_stored_counters_exact(store)

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            pytest.param({"result": sentiment("Neutral")}, "result", id="result-off-config"),
            pytest.param({"result": None}, "result", id="null-result"),
            pytest.param({"model_version": None}, "model_version", id="null-model-version"),
            pytest.param({"score": "high"}, "score", id="score-as-string"),
        ],
    )
    def test_bad_change_is_400_and_changes_nothing(
        self,
        client: TestClient,
        store: Store,
        seeded: tuple[int, list[int]],
        body: dict[str, Any],
        field: str,
    ) -> None:
        _, (task, _) = seeded
        before = _prediction_rows(store, task)
        response = client.patch(f"/api/predictions/{self._first(client, task)['id']}", json=body)
        assert response.status_code == 400
        assert field in response.json()["validation_errors"]
        assert _prediction_rows(store, task) == before

    def test_a_prompt_versions_prediction_keeps_its_model_version(
        self, client: TestClient, store: Store, seeded: tuple[int, list[int]]
    ) -> None:
        project, (_, task) = seeded
        version = add_prompt_version(store, project)
        made = add_prompt_prediction(store, version, task, "Positive")
        refused = client.patch(f"/api/predictions/{made}", json={"model_version": "mine"})
        assert refused.status_code == 400
        assert "owns its model_version" in refused.json()["validation_errors"]["model_version"][0]
        same = client.patch(
            f"/api/predictions/{made}", json={"model_version": version[1], "score": 0.3}
        )
        assert same.status_code == 200
        assert _prediction_rows(store, task) == [(version[1], sentiment("Positive"), 0.3)]

    def test_no_prediction_moves_into_a_prompt_versions_model_version(
        self, client: TestClient, store: Store, seeded: tuple[int, list[int]]
    ) -> None:
        project, (task, _) = seeded
        _, model_version = add_prompt_version(store, project)
        response = client.patch(
            f"/api/predictions/{self._first(client, task)['id']}",
            json={"model_version": model_version},
        )
        assert response.status_code == 400
        assert [v for v, _, _ in _prediction_rows(store, task)] == ["v1"]

    def test_unknown_prediction_is_404(self, client: TestClient) -> None:
        assert client.patch("/api/predictions/999", json={"score": 1}).status_code == 404


class TestDeletePrediction:
    def test_delete_answers_204_and_uncounts_it(
        self, client: TestClient, store: Store, seeded: tuple[int, list[int]]
    ) -> None:
        _, (task, _) = seeded
        made = client.get("/api/predictions", params={"task": task}).json()[0]["id"]
        response = client.delete(f"/api/predictions/{made}/")
        assert response.status_code == 204
        assert response.content == b""
        assert _prediction_rows(store, task) == []
        assert _total_predictions(store, task) == 0
        assert client.get(f"/api/predictions/{made}").status_code == 404
        assert_stored_counters_exact(store)

    def test_annotation_made_from_it_stays_unlinked(
        self, client: TestClient, store: Store, seeded: tuple[int, list[int]]
    ) -> None:
        _, (task, _) = seeded
        made = client.get("/api/predictions", params={"task": task}).json()[0]["id"]
        annotation = client.post(
            f"/api/tasks/{task}/annotations",
            json={"result": sentiment("Positive"), "parent_prediction": made},
        ).json()
        assert annotation["parent_prediction"] == made
        assert client.delete(f"/api/predictions/{made}").status_code == 204
        kept = client.get(f"/api/annotations/{annotation['id']}").json()
        assert (kept["parent_prediction"], kept["result"]) == (None, sentiment("Positive"))
        with store.session() as session:
            assert session.scalar(select(Annotation.task_id)) == task
        assert_stored_counters_exact(store)

    def test_unknown_prediction_is_404(self, client: TestClient) -> None:
        assert client.delete("/api/predictions/999").status_code == 404
