"""``/api/dm/actions``: the Data Manager's actions listed, their forms, and each one run on a
selection, answering Label Studio's result with every counter left exact."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from prelabel.store import Annotation, Prediction, Project, Run, RunTask, Store, Task
from tests.api.conftest import Account
from tests.api.label_studio_data import add_prompt_version, prediction, seed_project
from tests.factories import sentiment
from tests.invariants import assert_stored_counters_exact

# T0: v1 and v2 predictions and an imported (ground-truth) annotation.  T1: two v1
# predictions.  T2: a v2 prediction and a cancelled annotation.  T3: nothing.
TASKS: list[dict[str, Any]] = [
    {
        "data": {"text": "t0"},
        "annotations": [{"result": sentiment("Positive")}],
        "predictions": [prediction("Positive", "v1", 0.9), prediction("Negative", "v2", 0.4)],
    },
    {
        "data": {"text": "t1"},
        "predictions": [prediction("Negative", "v1", 0.2), prediction("Positive", "v1", 0.8)],
    },
    {
        "data": {"text": "t2"},
        "annotations": [{"result": [], "was_cancelled": True}],
        "predictions": [prediction("Positive", "v2")],
    },
    {"data": {"text": "t3"}},
]
EVERY_TASK = {"selectedItems": {"all": True, "excluded": []}}


@pytest.fixture
def seeded(store: Store) -> tuple[int, list[int]]:
    return seed_project(store, TASKS)


def _act(client: TestClient, action: str, project: int, body: dict[str, Any] | None = None) -> Any:
    return client.post("/api/dm/actions/", params={"id": action, "project": project}, json=body)


def _prediction_versions(store: Store, tasks: list[int]) -> list[list[str]]:
    with store.session() as session:
        return [
            list(
                session.scalars(
                    select(Prediction.model_version)
                    .where(Prediction.task_id == task)
                    .order_by(Prediction.id)
                )
            )
            for task in tasks
        ]


def _annotations(store: Store, tasks: list[int]) -> list[list[int | None]]:
    """The parent prediction of each task's annotations, oldest first."""
    with store.session() as session:
        return [
            list(
                session.scalars(
                    select(Annotation.parent_prediction_id)
                    .where(Annotation.task_id == task)
                    .order_by(Annotation.id)
                )
            )
            for task in tasks
        ]


def _newest(store: Store, task: int, version: str) -> int:
    with store.session() as session:
        return max(
            session.scalars(
                select(Prediction.id).where(
                    Prediction.task_id == task, Prediction.model_version == version
                )
            )
        )


class TestListActions:
    def test_lists_the_actions_with_label_studio_keys_by_order(
        self, client: TestClient, seeded: tuple[int, list[int]]
    ) -> None:
        project, _ = seeded
        response = client.get("/api/dm/actions/", params={"project": project})
        assert response.status_code == 200
        listed = response.json()
        assert [a["id"] for a in listed] == [
            "retrieve_tasks_predictions",
            "predictions_to_annotations",
            "delete_tasks_annotations",
            "delete_tasks_predictions",
        ]
        assert [a["order"] for a in listed] == sorted(a["order"] for a in listed)
        for action in listed:
            assert set(action) == {"id", "title", "order", "permission", "dialog"}
            assert action["dialog"]["type"] == "confirm" and action["dialog"]["text"]

    @pytest.mark.parametrize(
        ("params", "status"),
        [
            pytest.param({}, 404, id="no-project"),
            pytest.param({"project": 999}, 404, id="unknown-project"),
            pytest.param({"project": "x"}, 400, id="not-a-number"),
        ],
    )
    def test_list_needs_a_project(
        self, client: TestClient, params: dict[str, Any], status: int
    ) -> None:
        assert client.get("/api/dm/actions", params=params).status_code == status


class TestActionForm:
    def test_predictions_to_annotations_offers_the_model_versions_current_first(
        self, client: TestClient, store: Store, seeded: tuple[int, list[int]]
    ) -> None:
        project, _ = seeded
        with store.session() as session:
            session.get(Project, project).model_version = "v2"
        response = client.get(
            "/api/dm/actions/predictions_to_annotations/form/", params={"project": project}
        )
        assert response.status_code == 200
        ((form,),) = [response.json()]
        (field,) = form["fields"]
        assert field["name"] == "model_version" and field["type"] == "select"
        assert field["value"] == "v2"
        assert field["options"][0] == "v2" and sorted(field["options"]) == ["v1", "v2"]

    def test_an_action_without_a_form_has_an_empty_one(
        self, client: TestClient, seeded: tuple[int, list[int]]
    ) -> None:
        project, _ = seeded
        response = client.get(
            "/api/dm/actions/delete_tasks_predictions/form", params={"project": project}
        )
        assert (response.status_code, response.json()) == (200, [])

    def test_unknown_action_form_is_400(
        self, client: TestClient, seeded: tuple[int, list[int]]
    ) -> None:
        project, _ = seeded
        response = client.get("/api/dm/actions/nope/form", params={"project": project})
        assert response.status_code == 400


class TestRunActionRequest:
    def test_missing_id_is_400_with_label_studios_words(
        self, client: TestClient, seeded: tuple[int, list[int]]
    ) -> None:
        project, _ = seeded
        response = client.post("/api/dm/actions", params={"project": project}, json=EVERY_TASK)
        assert response.status_code == 400
        assert 'No action id "None", use ?id=<action-id>' in response.json()["detail"]

    def test_unknown_action_is_400_and_changes_nothing(
        self, client: TestClient, store: Store, seeded: tuple[int, list[int]]
    ) -> None:
        project, tasks = seeded
        before = _prediction_versions(store, tasks), _annotations(store, tasks)
        response = _act(client, "remove_everything", project, EVERY_TASK)
        assert response.status_code == 400
        assert "delete_tasks_predictions" in response.json()["detail"]
        assert (_prediction_versions(store, tasks), _annotations(store, tasks)) == before

    @pytest.mark.parametrize(
        ("params", "status"),
        [
            pytest.param({"id": "delete_tasks_predictions"}, 404, id="no-project"),
            pytest.param({"id": "delete_tasks_predictions", "project": 999}, 404, id="unknown"),
            pytest.param({"id": "delete_tasks_predictions", "project": 2**40}, 400, id="huge"),
        ],
    )
    def test_project_must_exist(
        self, client: TestClient, seeded: tuple[int, list[int]], params: Any, status: int
    ) -> None:
        assert client.post("/api/dm/actions", params=params, json=EVERY_TASK).status_code == status

    def test_the_legacy_sdks_project_in_the_body_is_read(
        self, client: TestClient, store: Store, seeded: tuple[int, list[int]]
    ) -> None:
        project, tasks = seeded
        response = client.post(
            "/api/dm/actions",
            params={"id": "predictions_to_annotations"},
            json={
                "filters": {"conjunction": "and", "items": []},
                "model_version": None,
                "ordering": [],
                "project": project,
                "selectedItems": {"all": True, "excluded": []},
            },
        )
        assert response.status_code == 200
        assert response.json()["processed_items"] == 4

    def test_views_are_not_supported(
        self, client: TestClient, seeded: tuple[int, list[int]]
    ) -> None:
        project, _ = seeded
        response = client.post(
            "/api/dm/actions",
            params={"id": "delete_tasks_predictions", "project": project, "view": 1},
            json=EVERY_TASK,
        )
        assert response.status_code == 400

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            pytest.param({"selectedItems": {"all": "yes"}}, "selectedItems.all", id="all-text"),
            pytest.param({"selectedItems": {"included": [1]}}, "selectedItems.all", id="no-all"),
            pytest.param(
                {"selectedItems": {"all": False, "included": ["1"]}},
                "selectedItems.included.0",
                id="id-as-string",
            ),
            pytest.param(
                {"selectedItems": {"all": False, "included": [2**40]}},
                "selectedItems.included.0",
                id="id-beyond-any",
            ),
            pytest.param(
                {"selectedItems": {"all": True, "included": [1]}}, "selectedItems", id="mixed"
            ),
            pytest.param({"selectedItems": [1, 2]}, "selectedItems", id="a-list"),
            pytest.param({"filters": {"items": "all"}}, "filters.items", id="filter-items"),
            pytest.param(
                {"filters": {"items": [{"filter": "filter:tasks:nope", "operator": "equal"}]}},
                "filters.items[0]",
                id="unknown-column",
            ),
            pytest.param({"ordering": "tasks:id"}, "ordering", id="ordering-not-a-list"),
            pytest.param({"model_version": 1}, "model_version", id="version-as-number"),
            pytest.param({"model_version": [1]}, "model_version", id="versions-as-numbers"),
            pytest.param({"model_version": "v\x00"}, "model_version", id="nul-character"),
        ],
    )
    def test_bad_selection_is_400_and_changes_nothing(
        self,
        client: TestClient,
        store: Store,
        seeded: tuple[int, list[int]],
        body: dict[str, Any],
        field: str,
    ) -> None:
        project, tasks = seeded
        before = _prediction_versions(store, tasks)
        response = _act(client, "delete_tasks_predictions", project, body)
        assert response.status_code == 400
        assert any(key.startswith(field) for key in response.json()["validation_errors"])
        assert _prediction_versions(store, tasks) == before

    def test_body_that_is_not_json_is_400(
        self, client: TestClient, seeded: tuple[int, list[int]]
    ) -> None:
        project, _ = seeded
        response = client.post(
            "/api/dm/actions",
            params={"id": "delete_tasks_predictions", "project": project},
            content=b"selectedItems=all",
            headers={"Content-Type": "application/json"},
        )
        assert response.status_code == 400


class TestDeleteTasksPredictions:
    @pytest.mark.parametrize(
        ("body", "deleted", "left"),
        [
            pytest.param({}, 5, [[], [], [], []], id="no-selection-is-every-task"),
            pytest.param(
                {"selectedItems": {"all": False, "included": ["T0", "T2"]}},
                3,
                [[], ["v1", "v1"], [], []],
                id="included",
            ),
            pytest.param(
                {"selectedItems": {"all": True, "excluded": ["T1"]}},
                3,
                [[], ["v1", "v1"], [], []],
                id="excluded",
            ),
            pytest.param(
                {
                    "filters": {
                        "conjunction": "and",
                        "items": [
                            {
                                "filter": "filter:tasks:predictions_model_versions",
                                "operator": "contains",
                                "type": "List",
                                "value": ["v2"],
                            }
                        ],
                    }
                },
                3,
                [[], ["v1", "v1"], [], []],
                id="model-version-filter-picks-tasks",
            ),
            pytest.param(
                {"selectedItems": {"all": False, "included": []}},
                0,
                [["v1", "v2"], ["v1", "v1"], ["v2"], []],
                id="empty-included-is-nothing",
            ),
        ],
    )
    def test_deletes_every_prediction_of_the_selected_tasks(
        self,
        client: TestClient,
        store: Store,
        seeded: tuple[int, list[int]],
        body: dict[str, Any],
        deleted: int,
        left: list[list[str]],
    ) -> None:
        project, tasks = seeded
        response = _act(client, "delete_tasks_predictions", project, _named(body, tasks))
        assert response.status_code == 200
        assert response.json() == {
            "processed_items": deleted,
            "detail": f"Deleted {deleted} predictions",
        }
        assert _prediction_versions(store, tasks) == left
        assert_stored_counters_exact(store)

    @pytest.mark.parametrize(
        ("version", "deleted", "left"),
        [
            pytest.param("v1", 3, [["v2"], [], ["v2"], []], id="one"),
            pytest.param(["v1", "v2"], 5, [[], [], [], []], id="a-list"),
            pytest.param("v9", 0, [["v1", "v2"], ["v1", "v1"], ["v2"], []], id="unknown"),
        ],
    )
    def test_model_version_extension_deletes_only_those_versions(
        self,
        client: TestClient,
        store: Store,
        seeded: tuple[int, list[int]],
        version: str | list[str],
        deleted: int,
        left: list[list[str]],
    ) -> None:
        project, tasks = seeded
        response = _act(
            client, "delete_tasks_predictions", project, {**EVERY_TASK, "model_version": version}
        )
        assert response.json()["processed_items"] == deleted
        assert _prediction_versions(store, tasks) == left
        assert_stored_counters_exact(store)

    def test_annotations_made_from_deleted_predictions_stay(
        self, client: TestClient, store: Store, seeded: tuple[int, list[int]]
    ) -> None:
        project, tasks = seeded
        _act(client, "predictions_to_annotations", project, {**EVERY_TASK, "model_version": "v2"})
        _act(client, "delete_tasks_predictions", project, EVERY_TASK)
        assert _annotations(store, tasks) == [[None, None], [], [None, None], []]
        assert_stored_counters_exact(store)


class TestPredictionsToAnnotations:
    @pytest.mark.parametrize(
        ("version", "parents"),
        [
            pytest.param(None, [("T0", "v1"), ("T0", "v2"), ("T1", "v1"), ("T2", "v2")], id="all"),
            pytest.param("v1", [("T0", "v1"), ("T1", "v1")], id="one"),
            pytest.param(["v2", "v9"], [("T0", "v2"), ("T2", "v2")], id="a-list"),
            pytest.param("v9", [], id="unknown"),
        ],
    )
    def test_converts_the_newest_prediction_of_each_chosen_version(
        self,
        client: TestClient,
        store: Store,
        admin: Account,
        seeded: tuple[int, list[int]],
        version: str | list[str] | None,
        parents: list[tuple[str, str]],
    ) -> None:
        project, tasks = seeded
        body = dict(EVERY_TASK) if version is None else {**EVERY_TASK, "model_version": version}
        response = _act(client, "predictions_to_annotations", project, body)
        assert response.status_code == 200
        assert response.json() == {
            "detail": f"Created {len(parents)} annotations",
            "processed_items": len(parents),
        }
        with store.session() as session:
            made = session.execute(
                select(
                    Annotation.parent_prediction_id, Annotation.completed_by_id, Annotation.result
                )
                .where(Annotation.parent_prediction_id.is_not(None))
                .order_by(Annotation.parent_prediction_id)
            ).all()
        expected = sorted(_newest(store, tasks[int(t[1])], v) for t, v in parents)
        assert [parent for parent, _, _ in made] == expected
        assert {user for _, user, _ in made} == ({admin.user_id} if parents else set())
        assert_stored_counters_exact(store)

    def test_running_it_again_creates_none(
        self, client: TestClient, store: Store, seeded: tuple[int, list[int]]
    ) -> None:
        project, tasks = seeded
        first = _act(client, "predictions_to_annotations", project, EVERY_TASK).json()
        again = _act(client, "predictions_to_annotations", project, EVERY_TASK).json()
        assert (first["processed_items"], again) == (
            4,
            {"detail": "Created 0 annotations", "processed_items": 0},
        )
        with store.session() as session:
            counts = session.execute(
                select(Task.total_annotations, Task.cancelled_annotations)
                .where(Task.id.in_(tasks))
                .order_by(Task.id)
            ).all()
        assert [tuple(row) for row in counts] == [(3, 0), (1, 0), (1, 1), (0, 0)]
        assert_stored_counters_exact(store)

    def test_only_the_selected_tasks_are_converted(
        self, client: TestClient, store: Store, seeded: tuple[int, list[int]]
    ) -> None:
        project, tasks = seeded
        body = {"selectedItems": {"all": False, "included": [tasks[1]]}, "model_version": "v1"}
        assert (
            _act(client, "predictions_to_annotations", project, body).json()["processed_items"] == 1
        )
        assert [len(a) for a in _annotations(store, tasks)] == [1, 1, 1, 0]


class TestDeleteTasksAnnotations:
    def test_deletes_every_annotation_cancelled_too(
        self, client: TestClient, store: Store, seeded: tuple[int, list[int]]
    ) -> None:
        project, tasks = seeded
        response = _act(client, "delete_tasks_annotations", project, EVERY_TASK)
        assert response.json() == {"processed_items": 2, "detail": "Deleted 2 annotations"}
        assert _annotations(store, tasks) == [[], [], [], []]
        assert _prediction_versions(store, tasks)[0] == ["v1", "v2"]
        assert_stored_counters_exact(store)

    @pytest.mark.parametrize("annotator", ["admin-int", "admin-str"])
    def test_annotator_deletes_only_that_users_annotations(
        self,
        client: TestClient,
        store: Store,
        admin: Account,
        seeded: tuple[int, list[int]],
        annotator: str,
    ) -> None:
        project, tasks = seeded
        _act(client, "predictions_to_annotations", project, {**EVERY_TASK, "model_version": "v2"})
        who: int | str = admin.user_id if annotator == "admin-int" else str(admin.user_id)
        response = _act(
            client, "delete_tasks_annotations", project, {**EVERY_TASK, "annotator": who}
        )
        assert response.json()["processed_items"] == 2
        assert [len(a) for a in _annotations(store, tasks)] == [1, 0, 1, 0]
        assert_stored_counters_exact(store)

    @pytest.mark.parametrize("annotator", ["bob", True, 0, 2**40])
    def test_bad_annotator_is_400(
        self, client: TestClient, seeded: tuple[int, list[int]], annotator: Any
    ) -> None:
        project, _ = seeded
        response = _act(
            client, "delete_tasks_annotations", project, {**EVERY_TASK, "annotator": annotator}
        )
        assert response.status_code == 400
        assert "annotator" in response.json()["validation_errors"]


class TestRetrieveTasksPredictions:
    def _runs(self, store: Store) -> list[tuple[int, str, int, list[int]]]:
        with store.session() as session:
            return [
                (
                    run.prompt_version_id,
                    run.status,
                    run.total,
                    list(
                        session.scalars(
                            select(RunTask.task_id)
                            .where(RunTask.run_id == run.id)
                            .order_by(RunTask.task_id)
                        )
                    ),
                )
                for run in session.scalars(select(Run).order_by(Run.id))
            ]

    def test_runs_the_given_prompt_version_on_the_selection(
        self, client: TestClient, store: Store, seeded: tuple[int, list[int]]
    ) -> None:
        project, tasks = seeded
        version, _ = add_prompt_version(store, project)
        body = {"selectedItems": {"all": True, "excluded": [tasks[0]]}, "prompt_version": version}
        response = _act(client, "retrieve_tasks_predictions", project, body)
        assert response.status_code == 200
        (run,) = self._runs(store)
        assert run == (version, "Pending", 3, tasks[1:])
        with store.session() as session:
            run_id = session.scalar(select(Run.id))
        assert response.json() == {
            "processed_items": 3,
            "detail": "Retrieved 3 predictions",
            "run": run_id,
        }

    def test_runs_the_prompt_version_the_projects_model_version_names(
        self, client: TestClient, store: Store, seeded: tuple[int, list[int]]
    ) -> None:
        project, tasks = seeded
        version, model_version = add_prompt_version(store, project)
        with store.session() as session:
            session.get(Project, project).model_version = model_version
        response = _act(
            client,
            "retrieve_tasks_predictions",
            project,
            {"selectedItems": {"all": False, "included": [tasks[2]]}, "options": {"rpm": 60}},
        )
        assert response.status_code == 200
        assert self._runs(store) == [(version, "Pending", 1, [tasks[2]])]

    @pytest.mark.parametrize(
        ("body", "reason"),
        [
            pytest.param({}, "names no prompt version", id="nothing-to-run"),
            pytest.param({"prompt_version": 999}, "does not exist", id="unknown-version"),
            pytest.param({"options": {"rpm": 0}}, "rpm", id="bad-options"),
            pytest.param({"options": {"speed": 9}}, "speed", id="unknown-option"),
        ],
    )
    def test_without_a_runnable_version_is_400_saying_how_to_pick_one(
        self,
        client: TestClient,
        store: Store,
        seeded: tuple[int, list[int]],
        body: dict[str, Any],
        reason: str,
    ) -> None:
        project, _ = seeded
        if "options" in body:
            body = {**body, "prompt_version": add_prompt_version(store, project)[0]}
        response = _act(client, "retrieve_tasks_predictions", project, {**EVERY_TASK, **body})
        assert response.status_code == 400
        assert reason in response.json()["detail"]
        assert self._runs(store) == []

    def test_another_projects_prompt_version_is_refused(
        self, client: TestClient, store: Store, seeded: tuple[int, list[int]]
    ) -> None:
        project, _ = seeded
        other, _ = seed_project(store, [{"text": "x"}], title="Other")
        version, _ = add_prompt_version(store, other, name="elsewhere")
        response = _act(
            client, "retrieve_tasks_predictions", project, {**EVERY_TASK, "prompt_version": version}
        )
        assert response.status_code == 400
        assert self._runs(store) == []


def _named(body: dict[str, Any], tasks: list[int]) -> dict[str, Any]:
    """``body`` with the placeholders "T0".."T3" in its selection replaced by task ids."""
    selected = body.get("selectedItems")
    if not selected:
        return body
    key = "excluded" if selected["all"] else "included"
    ids = [tasks[int(name[1])] for name in selected.get(key, [])]
    return {**body, "selectedItems": {**selected, key: ids}}
