"""The official ``label-studio-sdk`` 2.x, pointed at a live prelabel server, just works.

One workflow a Label Studio script runs, every result asserted: create a project, import
tasks with annotations and predictions, page through the tasks, create/list/update/delete
predictions and annotations, run Data Manager actions (model version passed as an extra
body parameter), read the model versions, export, delete the project.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from label_studio_sdk import LabelStudio
from label_studio_sdk.core.api_error import ApiError

from prelabel.api import create_app
from prelabel.settings import Settings
from prelabel.store import Store
from tests.api.conftest import Account
from tests.factories import SENTIMENT_CONFIG, sentiment
from tests.live_server import serving

TASKS = 250


@pytest.fixture
def live_url(settings: Settings, store: Store) -> Iterator[str]:
    with serving(create_app(settings, store=store, run_jobs=False)) as url:
        yield url


@contextmanager
def sdk(url: str, key: str) -> Iterator[LabelStudio]:
    """The SDK on an HTTP client that is closed afterwards (the SDK never closes its own)."""
    with httpx.Client(timeout=30) as http:
        yield LabelStudio(base_url=url, api_key=key, httpx_client=http)


@pytest.fixture
def ls(live_url: str, admin: Account) -> Iterator[LabelStudio]:
    with sdk(live_url, admin.key) as client:
        yield client


def _tasks() -> list[dict[str, Any]]:
    tasks: list[dict[str, Any]] = []
    for i in range(TASKS):
        label = "Positive" if i % 2 else "Negative"
        task: dict[str, Any] = {"data": {"text": f"review {i}"}}
        if i % 5 == 0:
            task["annotations"] = [{"result": sentiment(label)}]
        if i % 2 == 0:
            task["predictions"] = [
                {"result": sentiment(label), "score": 0.5, "model_version": "v1"}
            ]
        tasks.append(task)
    return tasks


def _raw(ls: LabelStudio, method: str, path: str, **kwargs: Any) -> Any:
    """A call the SDK has no method for, through the SDK's own authenticated client."""
    response = ls._client_wrapper.httpx_client.request(path, method=method, **kwargs)
    assert response.status_code < 300, response.text
    return response.json()


def test_label_studio_sdk_drives_the_whole_workflow(ls: LabelStudio) -> None:
    assert ls.versions.get().edition == "Community"
    project = ls.projects.create(title="SDK project", label_config=SENTIMENT_CONFIG)
    assert project.id is not None
    assert any(p.id == project.id for p in ls.projects.list())

    imported = ls.projects.import_tasks(id=project.id, request=_tasks(), return_task_ids=True)
    assert imported.task_count == TASKS
    assert imported.annotation_count == TASKS // 5
    assert imported.prediction_count == TASKS // 2  # the server's key; the SDK keeps it as extra
    task_ids = imported.task_ids
    assert len(task_ids) == TASKS

    listed = list(ls.tasks.list(project=project.id, page_size=100))  # three pages, then a 404
    assert [task.id for task in listed] == task_ids
    first = listed[0]
    assert first.total_predictions == 1 and len(first.predictions) == 1
    assert first.predictions[0].model_version == "v1"
    assert first.total_annotations == 1 and first.annotations[0]["ground_truth"] is True

    # Predictions: create, list, update, delete.
    odd = task_ids[1]
    made = ls.predictions.create(
        task=odd, result=sentiment("Positive"), score=0.9, model_version="v2"
    )
    assert made.model_version == "v2" and made.score == 0.9
    assert [p.id for p in ls.predictions.list(task=odd)] == [made.id]
    assert ls.predictions.update(id=made.id, score=0.25).score == 0.25
    assert ls.predictions.get(id=made.id).score == 0.25
    ls.predictions.delete(id=made.id)
    assert ls.predictions.list(task=odd) == []
    assert ls.tasks.get(id=odd).total_predictions == 0

    # Annotations: create, list, update, delete.
    annotation = ls.annotations.create(id=odd, result=sentiment("Negative"), lead_time=1.5)
    assert annotation.ground_truth is False
    assert [a.id for a in ls.annotations.list(id=odd)] == [annotation.id]
    updated = ls.annotations.update(id=annotation.id, result=sentiment("Positive"))
    assert updated.result[0]["value"]["choices"] == ["Positive"]
    ls.annotations.delete(id=annotation.id)
    assert ls.annotations.list(id=odd) == []
    assert ls.tasks.get(id=odd).total_annotations == 0

    # Model versions, which the SDK reaches only raw.
    assert _raw(ls, "GET", f"api/projects/{project.id}/model-versions/") == {"v1": TASKS // 2}

    # Data Manager actions: annotations from v1's predictions, twice (the second adds none).
    v1 = {"additional_body_parameters": {"model_version": "v1"}}
    everything = {"all": True, "excluded": []}
    ls.actions.create(
        id="predictions_to_annotations",
        project=project.id,
        selected_items=everything,
        request_options=v1,
    )
    again = ls.actions.with_raw_response.create(
        id="predictions_to_annotations",
        project=project.id,
        selected_items=everything,
        request_options=v1,
    )
    assert again.response.json()["detail"] == "Created 0 annotations"
    even = task_ids[2]
    converted = ls.tasks.get(id=even)
    assert converted.total_annotations == 1
    assert converted.annotations[0]["parent_prediction"] == converted.predictions[0].id

    # Delete v1's predictions on the first ten tasks only.
    deleted = ls.actions.with_raw_response.create(
        id="delete_tasks_predictions",
        project=project.id,
        selected_items={"all": False, "included": task_ids[:10]},
        request_options=v1,
    )
    assert deleted.response.json()["processed_items"] == 5
    assert _raw(ls, "GET", f"api/projects/{project.id}/model-versions/") == {"v1": TASKS // 2 - 5}
    assert ls.tasks.get(id=task_ids[0]).total_predictions == 0
    assert ls.tasks.get(id=task_ids[10]).total_predictions == 1

    with pytest.raises(ApiError) as unknown:
        ls.actions.create(id="no_such_action", project=project.id)  # type: ignore[arg-type]
    assert unknown.value.status_code == 400

    # Export: every task, with full prediction bodies.
    exported = ls.projects.exports.as_json(project.id)
    assert [task["id"] for task in exported] == task_ids
    with_prediction = next(task for task in exported if task["predictions"])
    assert (
        with_prediction["predictions"][0]["result"] == with_prediction["annotations"][0]["result"]
    )

    ls.projects.delete(id=project.id)
    with pytest.raises(ApiError) as gone:
        ls.projects.get(id=project.id)
    assert gone.value.status_code == 404


def test_label_studio_sdk_reports_a_bad_key_as_401(live_url: str) -> None:
    with sdk(live_url, "0" * 40) as client, pytest.raises(ApiError) as refused:
        client.projects.create(title="x", label_config=SENTIMENT_CONFIG)
    assert refused.value.status_code == 401
