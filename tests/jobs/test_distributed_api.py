"""With PRELABEL_REDIS_URL set the API server only enqueues and reports: a run created through
the API becomes chunk jobs on the queue, a worker executes them, the API shows the result."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from prelabel.api import create_app
from prelabel.jobs.distributed import ChunkQueue, run_worker
from prelabel.settings import Settings
from prelabel.store import Store
from tests.api.conftest import make_account
from tests.api.prompt_builders import (
    TASKS,
    add_connection,
    add_prompt,
    reviews_project,
    start_run,
    wait_until_ended,
)
from tests.fakes.llm_server import FakeLLMServer


@pytest.fixture
def server(distributed: Settings, store: Store) -> Iterator[TestClient]:
    account = make_account(store, "admin@example.com", is_admin=True)
    with TestClient(create_app(distributed, store=store)) as client:
        client.headers.update(account.headers)
        yield client


def _queued_jobs(settings: Settings, expected: int) -> int:
    """The jobs on the queue once ``expected`` are there (the server enqueues them just
    after the request commits), or after ten seconds."""
    queue = ChunkQueue(settings)
    try:
        deadline = time.monotonic() + 10
        while queue.queue.count < expected and time.monotonic() < deadline:
            time.sleep(0.05)
        return queue.queue.count
    finally:
        queue.close()


def test_the_server_enqueues_a_run_and_reports_what_the_workers_did(
    server: TestClient, store: Store, distributed: Settings, fake_llm: FakeLLMServer
) -> None:
    project_id = reviews_project(store)
    prompt = add_prompt(server, project_id, add_connection(server, fake_llm))
    run_id = start_run(server, prompt["versions"][0]["id"])

    assert _queued_jobs(distributed, 2) == 2, f"{TASKS} tasks in chunks of 10"
    assert server.get(f"/api/prompts/runs/{run_id}").json()["status"] == "Running"
    assert fake_llm.request_count == 0, "the server calls no model itself"

    run_worker(distributed, burst=True)

    run = wait_until_ended(server, run_id)
    assert (run["status"], run["done"], run["total"]) == ("Completed", TASKS, TASKS)
    report = server.get(f"/api/prompts/runs/{run_id}/report")
    assert report.status_code == 200 and report.json()["accuracy"] is not None
