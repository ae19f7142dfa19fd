"""Builders for the prompts API tests: a project with ground truth, a connection to the fake
LLM server and a prompt, made through the API where the API makes them.

The fake LLM answers every task "Positive" unless a test says otherwise, so a run on the
ground truth below scores 2 right (tasks 1 and 3) and 2 wrong (tasks 2 and 4).
"""

from __future__ import annotations

import time
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from prelabel.services.run_execution import execute_run
from prelabel.store import Prediction, Store, Task
from tests.factories import import_json, make_project, sentiment
from tests.fakes.llm_server import FakeLLMServer

#: A key no response and no log line may ever contain.
KEY = "sk-api-UNMISTAKABLE-4242"
TASKS = 12
#: Review number -> its ground-truth label; the other reviews have none.
GROUND_TRUTH = {1: "Positive", 2: "Negative", 3: "Positive", 4: "Negative"}
FINAL = ("Completed", "Failed", "Canceled")


def reviews_project(store: Store, title: str = "Reviews") -> int:
    """A sentiment project of TASKS reviews, "review number 1" first; returns its id."""
    tasks: list[dict[str, Any]] = []
    for n in range(1, TASKS + 1):
        task: dict[str, Any] = {"data": {"text": f"review number {n}"}}
        if n in GROUND_TRUTH:
            task["annotations"] = [{"result": sentiment(GROUND_TRUTH[n]), "ground_truth": True}]
        tasks.append(task)
    with store.session() as session:
        project = make_project(session, title=title)
        import_json(session, project, tasks)
        return project.id


def task_ids(store: Store, project_id: int) -> list[int]:
    """The project's task ids in review-number order."""
    with store.session() as session:
        return list(
            session.scalars(select(Task.id).where(Task.project_id == project_id).order_by(Task.id))
        )


def add_connection(client: TestClient, fake_llm: FakeLLMServer, name: str = "fake") -> int:
    """An openai connection to the fake LLM with a stored key and a priced model."""
    response = client.post(
        "/api/prompts/connections",
        json={
            "name": name,
            "kind": "openai",
            "base_url": fake_llm.base_url,
            "api_key": KEY,
            "default_model": "gpt-4o-mini",
        },
    )
    assert response.status_code == 201, response.text
    connection_id: int = response.json()["id"]
    return connection_id


def add_prompt(
    client: TestClient, project_id: int, connection_id: int, name: str = "sentiment"
) -> dict[str, Any]:
    """A prompt with its first version, v1; returns the prompt payload."""
    response = client.post(
        "/api/prompts",
        json={
            "project": project_id,
            "name": name,
            "template": "Review: {text}",
            "connection": connection_id,
        },
    )
    assert response.status_code == 201, response.text
    prompt: dict[str, Any] = response.json()
    return prompt


def start_run(client: TestClient, version_id: int, baseline: str = "all", **options: Any) -> int:
    response = client.post(
        "/api/prompts/runs",
        json={"prompt_version": version_id, "baseline": baseline, "options": options},
    )
    assert response.status_code == 201, response.text
    run_id: int = response.json()["id"]
    return run_id


def execute(client: TestClient, run_id: int) -> dict[str, Any]:
    """Execute the run here, as the server's runner would, and return it as the API shows it."""
    execute_run(client.app.state.store, client.app.state.runtime, run_id)
    run: dict[str, Any] = client.get(f"/api/prompts/runs/{run_id}").json()
    return run


def wait_until_ended(client: TestClient, run_id: int) -> dict[str, Any]:
    """Poll the run until it ends. The deadline only keeps a broken runner from hanging the
    suite; no speed is asserted."""
    deadline = time.monotonic() + 120
    while True:
        run: dict[str, Any] = client.get(f"/api/prompts/runs/{run_id}").json()
        if run["status"] in FINAL:
            return run
        assert time.monotonic() < deadline, f"run {run_id} is still {run['status']}"
        time.sleep(0.05)


def model_versions(store: Store, version_id: int) -> dict[int, str]:
    """Task id -> model_version of the version's predictions."""
    with store.session() as session:
        rows = session.execute(
            select(Prediction.task_id, Prediction.model_version).where(
                Prediction.prompt_version_id == version_id
            )
        ).all()
    return dict(rows)
