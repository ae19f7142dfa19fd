"""``/api/prompts`` and ``/api/prompts/versions``: save, save as, rename, delete, render."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from prelabel.store import Store, Task
from tests.api.prompt_builders import (
    TASKS,
    add_connection,
    add_prompt,
    execute,
    model_versions,
    reviews_project,
    start_run,
    task_ids,
)
from tests.fakes.llm_server import FakeLLMServer


@pytest.fixture
def project_id(store: Store) -> int:
    return reviews_project(store)


@pytest.fixture
def connection_id(client: TestClient, fake_llm: FakeLLMServer) -> int:
    return add_connection(client, fake_llm)


@pytest.fixture
def prompt(client: TestClient, project_id: int, connection_id: int) -> dict[str, Any]:
    return add_prompt(client, project_id, connection_id)


@pytest.fixture
def version_id(prompt: dict[str, Any]) -> int:
    version: int = prompt["versions"][0]["id"]
    return version


def _predict_all(client: TestClient, version_id: int) -> None:
    run = execute(client, start_run(client, version_id))
    assert (run["status"], run["done"]) == ("Completed", TASKS)


def _total_predictions(store: Store, project_id: int) -> int:
    """The sum of the tasks' prediction counters, which the Data Manager shows."""
    with store.session() as session:
        return session.scalar(
            select(func.sum(Task.total_predictions)).where(Task.project_id == project_id)
        )


def test_a_prompt_is_created_with_its_first_version_and_listed_by_project(
    client: TestClient, project_id: int, prompt: dict[str, Any], connection_id: int
) -> None:
    (version,) = prompt["versions"]
    assert (prompt["name"], prompt["project"]) == ("sentiment", project_id)
    assert (version["title"], version["model_version"]) == ("v1", "sentiment__v1")
    assert (version["connection"], version["model"]) == (connection_id, "gpt-4o-mini")

    assert client.get("/api/prompts", params={"project": project_id}).json() == [prompt]
    assert client.get(f"/api/prompts/{prompt['id']}").json() == prompt
    assert client.get(f"/api/prompts/versions/{version['id']}").json() == version


def test_a_template_with_an_unknown_variable_is_a_400_naming_it(
    client: TestClient, project_id: int, connection_id: int
) -> None:
    response = client.post(
        "/api/prompts",
        json={
            "project": project_id,
            "name": "p",
            "template": "Review: {body}",
            "connection": connection_id,
        },
    )

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_template" and "{body}" in body["detail"]
    assert client.get("/api/prompts", params={"project": project_id}).json() == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        pytest.param({"parameters": {"temperature": 5}}, "parameters.temperature", id="range"),
        pytest.param({"parameters": {"temprature": 1}}, "parameters", id="unknown-parameter"),
        pytest.param({"name": "a__b"}, "name", id="double-underscore"),
        pytest.param({"title": " "}, "title", id="blank-title"),
        pytest.param({"model": "m" * 201}, "model", id="long-model"),
        pytest.param({"project": 0}, "project", id="bad-project-id"),
        pytest.param({"tempreature": 1}, "tempreature", id="misspelt-field"),
    ],
)
def test_bad_prompt_input_is_a_400_naming_the_field(
    client: TestClient, project_id: int, connection_id: int, changes: dict[str, Any], field: str
) -> None:
    body = {"project": project_id, "name": "p", "template": "{text}", "connection": connection_id}
    response = client.post("/api/prompts", json={**body, **changes})

    assert response.status_code == 400, response.text
    assert field in response.json()["validation_errors"]


def test_a_prompt_of_an_unknown_project_or_connection_is_a_404(
    client: TestClient, project_id: int, connection_id: int
) -> None:
    body = {"project": project_id, "name": "p", "template": "{text}", "connection": connection_id}
    assert client.post("/api/prompts", json={**body, "project": 999}).status_code == 404
    assert client.post("/api/prompts", json={**body, "connection": 999}).status_code == 404


def test_save_as_makes_a_new_version_with_the_changes(
    client: TestClient, prompt: dict[str, Any], version_id: int
) -> None:
    response = client.post(
        f"/api/prompts/versions/{version_id}/save-as",
        json={"title": "v2", "template": "Is this review positive? {text}"},
    )

    assert response.status_code == 201
    copy = response.json()
    assert (copy["title"], copy["model_version"]) == ("v2", "sentiment__v2")
    assert copy["template"] == "Is this review positive? {text}" and copy["id"] != version_id
    listed = client.get(f"/api/prompts/{prompt['id']}").json()["versions"]
    assert [v["title"] for v in listed] == ["v1", "v2"]
    assert listed[0]["template"] == "Review: {text}", "the source version is unchanged"
    taken = client.post(f"/api/prompts/versions/{version_id}/save-as", json={"title": "v2"})
    assert taken.status_code == 409


def test_save_edits_the_version_and_deletes_its_predictions_saying_how_many(
    client: TestClient, store: Store, project_id: int, version_id: int
) -> None:
    _predict_all(client, version_id)
    assert _total_predictions(store, project_id) == TASKS

    response = client.post(
        f"/api/prompts/versions/{version_id}/save",
        json={"template": "Sentiment of: {text}", "parameters": {"temperature": 0}},
    )

    assert response.status_code == 200
    saved = response.json()
    assert saved["deleted_predictions"] == TASKS
    assert saved["version"]["id"] == version_id
    assert saved["version"]["template"] == "Sentiment of: {text}"
    assert saved["version"]["parameters"] == {"temperature": 0.0}
    assert model_versions(store, version_id) == {}
    assert _total_predictions(store, project_id) == 0, "the task counters follow"


def test_renaming_a_version_or_its_prompt_renames_its_predictions(
    client: TestClient, store: Store, prompt: dict[str, Any], version_id: int
) -> None:
    _predict_all(client, version_id)

    version = client.patch(f"/api/prompts/versions/{version_id}", json={"title": "first"})
    assert version.status_code == 200 and version.json()["model_version"] == "sentiment__first"
    assert set(model_versions(store, version_id).values()) == {"sentiment__first"}

    renamed = client.patch(f"/api/prompts/{prompt['id']}", json={"name": "mood"})
    assert renamed.status_code == 200
    assert renamed.json()["versions"][0]["model_version"] == "mood__first"
    assert set(model_versions(store, version_id).values()) == {"mood__first"}
    assert len(model_versions(store, version_id)) == TASKS, "predictions are kept"


def test_a_version_is_deleted_with_its_predictions_but_never_the_last_one(
    client: TestClient, store: Store, project_id: int, prompt: dict[str, Any], version_id: int
) -> None:
    only = client.delete(f"/api/prompts/versions/{version_id}")
    assert only.status_code == 409 and "delete the prompt instead" in only.json()["detail"]
    copy = client.post(f"/api/prompts/versions/{version_id}/save-as", json={"title": "v2"}).json()
    _predict_all(client, copy["id"])

    deleted = client.delete(f"/api/prompts/versions/{copy['id']}")

    assert deleted.status_code == 204
    assert client.get(f"/api/prompts/versions/{copy['id']}").status_code == 404
    assert [v["id"] for v in client.get(f"/api/prompts/{prompt['id']}").json()["versions"]] == [
        version_id
    ]
    assert _total_predictions(store, project_id) == 0
    assert client.get("/api/prompts/runs", params={"project": project_id}).json() == []


def test_a_prompt_with_a_run_in_progress_is_deleted_only_once_the_run_is_canceled(
    client: TestClient, store: Store, project_id: int, prompt: dict[str, Any], version_id: int
) -> None:
    _predict_all(client, version_id)
    run_id = start_run(client, version_id)

    refused = client.delete(f"/api/prompts/{prompt['id']}")
    assert refused.status_code == 409 and f"run {run_id} in progress" in refused.json()["detail"]
    assert client.post(f"/api/prompts/runs/{run_id}/cancel").status_code == 200
    deleted = client.delete(f"/api/prompts/{prompt['id']}")

    assert deleted.status_code == 204
    assert client.get(f"/api/prompts/{prompt['id']}").status_code == 404
    assert client.get(f"/api/prompts/versions/{version_id}").status_code == 404
    assert _total_predictions(store, project_id) == 0


def test_render_shows_the_exact_messages_for_a_task(
    client: TestClient, store: Store, project_id: int, version_id: int
) -> None:
    first = task_ids(store, project_id)[0]

    response = client.get(f"/api/prompts/versions/{version_id}/render", params={"task": first})

    assert response.status_code == 200
    system, user = response.json()["messages"]
    assert system["role"] == "system" and "sentiment" in system["content"]
    assert user == {"role": "user", "content": "Review: review number 1"}


def test_render_refuses_a_task_of_another_project_and_an_unknown_one(
    client: TestClient, store: Store, version_id: int
) -> None:
    other = task_ids(store, reviews_project(store, title="Other"))[0]
    url = f"/api/prompts/versions/{version_id}/render"

    foreign = client.get(url, params={"task": other})
    assert foreign.status_code == 400 and "belongs to project" in foreign.json()["detail"]
    assert client.get(url, params={"task": 10_000}).status_code == 404
    assert "query.task" in client.get(url).json()["validation_errors"]


def test_unknown_prompts_and_versions_are_404s(client: TestClient) -> None:
    assert client.get("/api/prompts/999").status_code == 404
    assert client.patch("/api/prompts/999", json={"name": "x"}).status_code == 404
    assert client.delete("/api/prompts/999").status_code == 404
    assert client.get("/api/prompts/versions/999").status_code == 404
    assert client.post("/api/prompts/versions/999/save", json={}).status_code == 404
    assert client.get("/api/prompts", params={"project": 999}).status_code == 404
