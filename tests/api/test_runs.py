"""``/api/prompts/runs``: runs created Pending and executed by the server's runner, their
progress, state changes, failures, estimates, reports, drill-down and version comparison."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from prelabel.api import create_app
from prelabel.engine.worklist import worker_name
from prelabel.settings import Settings
from prelabel.store import Run, Store
from prelabel.store.types import utcnow
from tests.api.conftest import Account
from tests.api.prompt_builders import (
    GROUND_TRUTH,
    TASKS,
    add_connection,
    add_prompt,
    execute,
    model_versions,
    reviews_project,
    start_run,
    task_ids,
    wait_until_ended,
)
from tests.fakes.llm_server import FakeLLMServer, Fault

RUNS = "/api/prompts/runs"
KEY_VARIABLE = "PRELABEL_TEST_API_RUNS_KEY"


@pytest.fixture
def project_id(store: Store) -> int:
    return reviews_project(store)


@pytest.fixture
def version_id(client: TestClient, project_id: int, fake_llm: FakeLLMServer) -> int:
    prompt = add_prompt(client, project_id, add_connection(client, fake_llm))
    version: int = prompt["versions"][0]["id"]
    return version


@contextmanager
def _server_starting_now(settings: Settings, store: Store, admin: Account) -> Iterator[TestClient]:
    """A second server on the same database whose runner starts now, as after a restart."""
    with TestClient(create_app(settings, store=store, run_jobs=True)) as server:
        server.headers.update(admin.headers)
        yield server


def _set_run(store: Store, run_id: int, **values: Any) -> None:
    with store.session() as session:
        session.execute(update(Run).where(Run.id == run_id).values(**values))


def _ground_truth_ids(store: Store, project_id: int) -> dict[str, list[int]]:
    """Task ids whose ground truth the fake's default answer (Positive) gets right / wrong."""
    ids = task_ids(store, project_id)
    right = [ids[n - 1] for n, label in GROUND_TRUTH.items() if label == "Positive"]
    wrong = [ids[n - 1] for n, label in GROUND_TRUTH.items() if label != "Positive"]
    return {"right": right, "wrong": wrong}


# -- creating and executing ------------------------------------------------------------------


def test_a_created_run_waits_pending_until_executed_then_shows_its_results(
    client: TestClient, project_id: int, version_id: int
) -> None:
    created = client.post(
        RUNS, json={"prompt_version": version_id, "options": {"concurrency": 2, "cache": False}}
    )

    assert created.status_code == 201
    run = created.json()
    assert (run["status"], run["total"], run["pending"]) == ("Pending", TASKS, TASKS)
    assert run["model_version"] == "sentiment__v1" and run["interrupted"] is False
    assert (run["options"]["concurrency"], run["options"]["cache"]) == (2, False)
    assert run["options"]["max_attempts"] == 5, "options left out keep their defaults"
    assert client.get(f"{RUNS}/{run['id']}").json()["status"] == "Pending"

    ended = execute(client, run["id"])

    assert (ended["status"], ended["done"], ended["failed"], ended["pending"]) == (
        "Completed",
        TASKS,
        0,
        0,
    )
    assert ended["cost_usd"] > 0 and ended["input_tokens"] > 0 and ended["output_tokens"] > 0
    assert ended["failures"] == {}
    listed = client.get(RUNS, params={"project": project_id}).json()
    assert [r["id"] for r in listed] == [run["id"]] and listed[0]["status"] == "Completed"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"baseline": "some"}, "baseline", id="baseline"),
        pytest.param({"baseline": "sample:0"}, "baseline", id="empty-sample"),
        pytest.param({"baseline": "sample:" + "9" * 5000}, "baseline", id="huge-sample"),
        pytest.param({"options": {"concurrency": -1}}, "options.concurrency", id="negative"),
        pytest.param({"options": {"concurrency": "4"}}, "options.concurrency", id="text-number"),
        pytest.param({"options": {"budget_usd": 0}}, "options.budget_usd", id="zero-budget"),
        pytest.param({"options": {"timeout": 5000}}, "options.timeout", id="long-timeout"),
        pytest.param({"options": {"retries": 3}}, "options.retries", id="unknown-option"),
        pytest.param({"prompt_version": None}, "prompt_version", id="no-version"),
        pytest.param({"baselines": "all"}, "baselines", id="misspelt-field"),
    ],
)
def test_bad_run_input_is_a_400_naming_the_field_and_creates_no_run(
    client: TestClient, project_id: int, version_id: int, body: dict[str, Any], field: str
) -> None:
    response = client.post(RUNS, json={"prompt_version": version_id, **body})

    assert response.status_code == 400, response.text
    assert field in response.json()["validation_errors"]
    assert client.get(RUNS, params={"project": project_id}).json() == []


@pytest.mark.parametrize(
    "unknown",
    [
        pytest.param("99999", id="no-such-task"),
        pytest.param("3000000000", id="beyond-any-id"),
        pytest.param("999999999999999999", id="beyond-64-bits"),
    ],
)
def test_a_baseline_naming_tasks_of_no_project_is_a_400(
    client: TestClient, project_id: int, version_id: int, unknown: str
) -> None:
    baseline = f"ids:1,{unknown}"
    response = client.post(RUNS, json={"prompt_version": version_id, "baseline": baseline})

    assert response.status_code == 400
    assert f"not tasks of project {project_id}: {unknown}" in response.json()["detail"]


def test_an_unknown_run_or_version_is_a_404(client: TestClient) -> None:
    assert client.get(f"{RUNS}/999").status_code == 404
    assert client.post(f"{RUNS}/999/cancel").status_code == 404
    assert client.post(RUNS, json={"prompt_version": 999}).status_code == 404


# -- state changes -----------------------------------------------------------------------------


def test_a_canceled_run_resumes_with_new_options_and_keeps_the_others(
    client: TestClient, version_id: int
) -> None:
    run_id = start_run(client, version_id, concurrency=2)

    canceled = client.post(f"{RUNS}/{run_id}/cancel")
    assert canceled.status_code == 200 and canceled.json()["status"] == "Canceled"
    bad = client.post(f"{RUNS}/{run_id}/resume", json={"options": {"concurrency": 0}})
    assert bad.status_code == 400 and "options.concurrency" in bad.json()["validation_errors"]
    resumed = client.post(f"{RUNS}/{run_id}/resume", json={"options": {"budget_usd": 5}})

    assert resumed.status_code == 200
    run = resumed.json()
    assert run["status"] == "Pending" and run["error"] is None
    assert (run["options"]["budget_usd"], run["options"]["concurrency"]) == (5.0, 2)
    assert execute(client, run_id)["status"] == "Completed"


def test_state_errors_are_4xx_saying_why(client: TestClient, version_id: int) -> None:
    run_id = start_run(client, version_id, baseline="ids:1")
    pending_retry = client.post(f"{RUNS}/{run_id}/retry-failed")
    second = client.post(RUNS, json={"prompt_version": version_id})
    execute(client, run_id)

    cancel = client.post(f"{RUNS}/{run_id}/cancel")
    resume = client.post(f"{RUNS}/{run_id}/resume")
    retry = client.post(f"{RUNS}/{run_id}/retry-failed")

    assert pending_retry.status_code == 409 and "wait for it" in pending_retry.json()["detail"]
    assert second.status_code == 409 and f"already has run {run_id}" in second.json()["detail"]
    assert cancel.status_code == 409 and "only a Pending or Running" in cancel.json()["detail"]
    assert resume.status_code == 409 and "is Completed" in resume.json()["detail"]
    assert retry.status_code == 400 and "no failed task" in retry.json()["detail"]


def test_a_run_whose_executor_is_alive_cannot_be_resumed(
    client: TestClient, store: Store, version_id: int
) -> None:
    run_id = start_run(client, version_id)
    _set_run(store, run_id, status="Running", worker=worker_name(), heartbeat_at=utcnow())

    response = client.post(f"{RUNS}/{run_id}/resume")

    assert response.status_code == 409 and "is running" in response.json()["detail"]
    assert client.get(f"{RUNS}/{run_id}").json()["interrupted"] is False


def test_failures_are_listed_by_kind_and_retry_failed_redoes_only_them(
    client: TestClient, version_id: int, fake_llm: FakeLLMServer
) -> None:
    fake_llm.script(Fault("off_schema"), Fault("malformed"))
    run = execute(client, start_run(client, version_id, concurrency=1))
    assert (run["done"], run["failed"], run["failures"]) == (TASKS - 2, 2, {"invalid_output": 2})

    failures = client.get(f"{RUNS}/{run['id']}/failures").json()
    assert [f["kind"] for f in failures] == ["invalid_output"] * 2
    assert all(f["message"] and f["raw_excerpt"] and f["attempts"] >= 1 for f in failures)
    assert len(client.get(f"{RUNS}/{run['id']}/failures", params={"limit": 1}).json()) == 1

    retried = client.post(f"{RUNS}/{run['id']}/retry-failed")
    assert retried.status_code == 200
    assert (retried.json()["status"], retried.json()["failed"]) == ("Pending", 0)
    ended = execute(client, run["id"])
    assert (ended["status"], ended["done"], ended["failed"]) == ("Completed", TASKS, 0)
    assert fake_llm.request_count == TASKS + 2, "only the failed tasks were asked again"


# -- estimates, reports, drill-down, comparison -----------------------------------------------


def test_an_estimate_projects_tokens_and_cost_without_calling_the_model(
    client: TestClient, version_id: int, fake_llm: FakeLLMServer
) -> None:
    url = f"/api/prompts/versions/{version_id}/estimate"

    everything = client.post(url, json={"baseline": "all"})
    ground_truth = client.post(url, json={"baseline": "ground-truth"}).json()
    bad = client.post(url, json={"baseline": "half"})

    assert everything.status_code == 200
    estimate = everything.json()
    assert (estimate["tasks"], estimate["output_basis"], estimate["unrenderable"]) == (
        TASKS,
        "schema",
        0,
    )
    tokens = estimate["input_tokens"]
    assert 0 < tokens["low"] < tokens["expected"] < tokens["high"]
    assert 0 < estimate["cost_usd"]["low"] < estimate["cost_usd"]["high"]
    assert ground_truth["tasks"] == len(GROUND_TRUTH)
    assert bad.status_code == 400 and "baseline" in bad.json()["validation_errors"]
    assert fake_llm.request_count == 0


def test_the_report_scores_a_run_and_its_cells_drill_down_to_tasks(
    client: TestClient, store: Store, project_id: int, version_id: int
) -> None:
    run_id = start_run(client, version_id, baseline="ground-truth")
    execute(client, run_id)
    expected = _ground_truth_ids(store, project_id)

    report = client.get(f"{RUNS}/{run_id}/report")
    wrong = client.get(f"{RUNS}/{run_id}/tasks", params={"cell": "overall/wrong"})
    unknown = client.get(f"{RUNS}/{run_id}/tasks", params={"cell": "nothing/here"})

    assert report.status_code == 200
    assert (report.json()["tasks"], report.json()["accuracy"]) == (len(GROUND_TRUTH), 0.5)
    assert client.get(f"{RUNS}/{run_id}/report", params={"refresh": True}).json()["accuracy"] == 0.5
    assert wrong.status_code == 200
    assert [row["task"] for row in wrong.json()] == expected["wrong"]
    row = wrong.json()[0]
    assert row["ground_truth"][0]["value"]["choices"] == ["Negative"]
    assert row["prediction"][0]["value"]["choices"] == ["Positive"]
    assert unknown.status_code == 400 and "cell" in unknown.json()["validation_errors"]


def test_versions_compare_side_by_side_on_the_tasks_both_predicted(
    client: TestClient, store: Store, project_id: int, version_id: int, fake_llm: FakeLLMServer
) -> None:
    execute(client, start_run(client, version_id, baseline="ground-truth"))
    copy = client.post(
        f"/api/prompts/versions/{version_id}/save-as",
        json={"title": "v2", "template": "Sentiment of: {text}"},
    ).json()
    fake_llm.responder = lambda _body: {"sentiment": "Negative"}
    execute(client, start_run(client, copy["id"], baseline="ground-truth"))

    response = client.get(
        "/api/prompts/versions/compare", params={"versions": f"{version_id},{copy['id']}"}
    )

    assert response.status_code == 200
    comparison = response.json()
    assert comparison["tasks"] == len(GROUND_TRUTH)
    assert [row["model_version"] for row in comparison["versions"]] == [
        "sentiment__v1",
        "sentiment__v2",
    ]
    assert [row["report"]["accuracy"] for row in comparison["versions"]] == [0.5, 0.5]
    assert comparison["disagreements"] == sorted(task_ids(store, project_id)[: len(GROUND_TRUTH)])


@pytest.mark.parametrize(
    ("versions", "status", "message"),
    [
        pytest.param("{v}", 400, "at least two different versions", id="one"),
        pytest.param("{v},{v}", 400, "at least two different versions", id="same-twice"),
        pytest.param("{v},x", 400, "not a comma-separated list of ids", id="not-ids"),
        pytest.param("{v},999", 404, "PromptVersion 999 not found", id="unknown"),
    ],
)
def test_a_bad_comparison_says_why(
    client: TestClient, version_id: int, versions: str, status: int, message: str
) -> None:
    response = client.get(
        "/api/prompts/versions/compare", params={"versions": versions.format(v=version_id)}
    )

    assert response.status_code == status and message in response.json()["detail"]


# -- the server's runner -------------------------------------------------------------------


def test_the_server_executes_a_run_from_creation_to_report(
    client_with_runner: TestClient, store: Store, fake_llm: FakeLLMServer
) -> None:
    client = client_with_runner
    project_id = reviews_project(store)
    prompt = add_prompt(client, project_id, add_connection(client, fake_llm))
    version_id = prompt["versions"][0]["id"]

    run_id = start_run(client, version_id, baseline="ground-truth")
    ended = wait_until_ended(client, run_id)

    assert (ended["status"], ended["done"], ended["failed"]) == (
        "Completed",
        len(GROUND_TRUTH),
        0,
    )
    assert client.get(f"{RUNS}/{run_id}/report").json()["accuracy"] == 0.5
    predicted = model_versions(store, version_id)
    assert sorted(predicted) == task_ids(store, project_id)[: len(GROUND_TRUTH)]
    assert set(predicted.values()) == {"sentiment__v1"}


def test_a_run_left_pending_is_executed_when_the_server_starts(
    client: TestClient, settings: Settings, store: Store, admin: Account, version_id: int
) -> None:
    run_id = start_run(client, version_id)

    with _server_starting_now(settings, store, admin) as server:
        ended = wait_until_ended(server, run_id)

    assert (ended["status"], ended["done"]) == ("Completed", TASKS)


def test_a_run_whose_executor_died_is_resumed_when_the_server_starts(
    client: TestClient, settings: Settings, store: Store, admin: Account, version_id: int
) -> None:
    run_id = start_run(client, version_id)
    dead = f"{socket.gethostname()}:999999:dead"
    long_ago = utcnow() - timedelta(hours=1)
    _set_run(store, run_id, status="Running", worker=dead, heartbeat_at=long_ago)
    assert client.get(f"{RUNS}/{run_id}").json()["interrupted"] is True

    with _server_starting_now(settings, store, admin) as server:
        ended = wait_until_ended(server, run_id)

    assert (ended["status"], ended["done"], ended["interrupted"]) == ("Completed", TASKS, False)


def test_a_run_that_cannot_start_fails_with_the_reason_and_resumes_once_fixed(
    client: TestClient,
    settings: Settings,
    store: Store,
    admin: Account,
    project_id: int,
    fake_llm: FakeLLMServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(KEY_VARIABLE, "sk-from-the-environment")
    connection = client.post(
        "/api/prompts/connections",
        json={
            "name": "env",
            "kind": "openai",
            "base_url": fake_llm.base_url,
            "api_key_env": KEY_VARIABLE,
            "default_model": "gpt-4o-mini",
        },
    ).json()
    prompt = add_prompt(client, project_id, connection["id"])
    run_id = start_run(client, prompt["versions"][0]["id"])
    monkeypatch.delenv(KEY_VARIABLE)

    with _server_starting_now(settings, store, admin) as server:
        failed = wait_until_ended(server, run_id)
        asked_before_the_fix = fake_llm.request_count
        monkeypatch.setenv(KEY_VARIABLE, "sk-set-again")
        resumed = server.post(f"{RUNS}/{run_id}/resume")
        ended = wait_until_ended(server, run_id)

    assert failed["status"] == "Failed" and f"${KEY_VARIABLE}, which is not set" in failed["error"]
    assert failed["pending"] == TASKS and asked_before_the_fix == 0
    assert resumed.status_code == 200
    assert (ended["status"], ended["done"]) == ("Completed", TASKS)
