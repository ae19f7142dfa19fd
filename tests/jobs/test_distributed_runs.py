"""Runs executed as chunk jobs by RQ workers behave as in-process runs do: progress, cancel,
resume, retry-failed, the budget, and a chunk whose worker died finished by another.

The worker here is ``run_worker`` in burst mode in the test's process (it executes every
queued job, then returns); ``test_worker_processes.py`` runs real worker processes.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from prelabel.engine.chunks import claim_chunk
from prelabel.jobs.distributed import ChunkQueue, run_worker
from prelabel.services.run_execution import Runtime
from prelabel.services.runs import cancel_run, resume_run, retry_failed
from prelabel.settings import Settings
from prelabel.store import ProviderConnection, Run, RunChunk, Store
from tests.conftest import CliResult
from tests.engine.conftest import predictions_per_task, task_ids
from tests.fakes.llm_server import FakeLLMServer
from tests.jobs.conftest import dispatch, make_version, run_of, start

pytestmark = pytest.mark.usefixtures("fake_llm")


def _queued_jobs(settings: Settings) -> int:
    queue = ChunkQueue(settings)
    try:
        return queue.queue.count
    finally:
        queue.close()


def test_a_dispatched_run_is_cut_into_chunk_jobs_that_workers_complete(
    store: Store, distributed: Settings, runtime: Runtime, fake_llm: FakeLLMServer
) -> None:
    version = make_version(store, distributed, fake_llm, tasks=35)
    run_id = start(store, runtime, version)
    dispatch(store, distributed)
    assert _queued_jobs(distributed) == 4, "35 tasks in chunks of 10"
    assert run_of(store, run_id).status == "Running"
    assert fake_llm.request_count == 0, "the dispatcher only enqueues"

    run_worker(distributed, burst=True)

    run = run_of(store, run_id)
    assert (run.status, run.done, run.failed, run.total) == ("Completed", 35, 0, 35)
    assert run.evaluation is not None, "the worker that ends the run evaluates it"
    with store.session() as session:
        assert predictions_per_task(session, version.id) == dict.fromkeys(task_ids(session), 1)
        chunks = session.scalars(select(RunChunk).where(RunChunk.run_id == run_id)).all()
    assert [(c.first_row, c.status) for c in chunks][0] == (1, "done")
    assert all(c.status == "done" for c in chunks)
    assert fake_llm.request_count == 35


def test_a_cancelled_run_is_left_alone_by_its_queued_jobs_and_resumes_on_new_chunks(
    store: Store, distributed: Settings, runtime: Runtime, fake_llm: FakeLLMServer
) -> None:
    version = make_version(store, distributed, fake_llm, tasks=25)
    run_id = start(store, runtime, version)
    dispatch(store, distributed)
    with store.session() as session:
        cancel_run(session, session.get(Run, run_id))

    run_worker(distributed, burst=True)
    assert run_of(store, run_id).status == "Canceled"
    assert fake_llm.request_count == 0, "jobs of a cancelled run call nothing"

    with store.session() as session:
        old_chunks = set(session.scalars(select(RunChunk.id)))
        resume_run(session, session.get(Run, run_id))
    dispatch(store, distributed)
    run_worker(distributed, burst=True)

    run = run_of(store, run_id)
    assert (run.status, run.done) == ("Completed", 25)
    with store.session() as session:
        assert not old_chunks & set(session.scalars(select(RunChunk.id)))
        assert set(predictions_per_task(session, version.id).values()) == {1}
    assert fake_llm.request_count == 25


def test_the_budget_stops_a_run_across_its_chunks(
    store: Store, distributed: Settings, fake_llm: FakeLLMServer, tmp_path: Path
) -> None:
    prices = tmp_path / "prices.json"
    # $1,000 per million tokens: each call costs a few cents.
    prices.write_text(json.dumps({"models": {"fake-model": {"input": 1000, "output": 1000}}}))
    settings = distributed.model_copy(update={"prices_file": prices})
    runtime = Runtime.from_settings(settings)
    version = make_version(store, settings, fake_llm, tasks=40)
    run_id = start(store, runtime, version, budget_usd=0.5, concurrency=2)
    dispatch(store, settings)

    run_worker(settings, burst=True)

    run = run_of(store, run_id)
    assert run.status == "Canceled"
    assert "budget" in (run.error or "")
    assert 0 < run.cost_usd <= 0.5
    assert 0 < run.done < 40, "it stopped part way, in whichever chunk reached the budget"


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_chunk_whose_worker_died_is_queued_again_and_finished_by_another(
    store: Store, distributed: Settings, runtime: Runtime, fake_llm: FakeLLMServer
) -> None:
    version = make_version(store, distributed, fake_llm, tasks=20)
    run_id = start(store, runtime, version)
    dispatch(store, distributed)
    dead = f"{socket.gethostname()}:{_dead_pid()}:gone"
    with store.session() as session:
        first = session.scalars(select(RunChunk.id).order_by(RunChunk.id)).first()
        assert claim_chunk(session, first, dead) is not None

    dispatch(store, distributed)  # finds the chunk's worker gone
    with store.session() as session:
        chunk = session.get(RunChunk, first)
        assert (chunk.status, chunk.attempt, chunk.worker) == ("queued", 2, None)
    run_worker(distributed, burst=True)

    run = run_of(store, run_id)
    assert (run.status, run.done) == ("Completed", 20)
    with store.session() as session:
        assert predictions_per_task(session, version.id) == dict.fromkeys(task_ids(session), 1)


def test_retry_failed_runs_the_failed_tasks_again_on_the_workers(
    store: Store, distributed: Settings, runtime: Runtime, fake_llm: FakeLLMServer
) -> None:
    version = make_version(store, distributed, fake_llm, tasks=20)
    fake_llm.fail_randomly(0.3, ["off_schema"], seed=4)
    run_id = start(store, runtime, version, max_attempts=1)
    dispatch(store, distributed)
    run_worker(distributed, burst=True)
    failed = run_of(store, run_id)
    assert failed.status == "Completed" and failed.failed > 0

    fake_llm.reset()
    with store.session() as session:
        retry_failed(session, session.get(Run, run_id))
    dispatch(store, distributed)
    run_worker(distributed, burst=True)

    run = run_of(store, run_id)
    assert (run.status, run.done, run.failed) == ("Completed", 20, 0)
    assert fake_llm.request_count == failed.failed, "only the failed tasks were asked again"


def test_a_worker_without_redis_says_what_it_needs(
    cli: Callable[..., CliResult], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PRELABEL_REDIS_URL", raising=False)
    result = cli("worker", "--burst")
    assert result.status == 1
    assert "PRELABEL_REDIS_URL" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_run_whose_key_is_gone_when_a_worker_takes_it_fails_with_the_reason(
    store: Store,
    distributed: Settings,
    runtime: Runtime,
    fake_llm: FakeLLMServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    version = make_version(store, distributed, fake_llm, tasks=5)
    monkeypatch.setenv("PRELABEL_TEST_WORKER_KEY", "sk-from-env")
    with store.session() as session:
        connection = session.get(ProviderConnection, version.connection_id)
        connection.api_key_encrypted = None
        connection.api_key_env = "PRELABEL_TEST_WORKER_KEY"
    run_id = start(store, runtime, version)
    monkeypatch.delenv("PRELABEL_TEST_WORKER_KEY")  # unset where the workers run
    dispatch(store, distributed)

    run_worker(distributed, burst=True)

    run = run_of(store, run_id)
    assert run.status == "Failed"
    assert "PRELABEL_TEST_WORKER_KEY" in (run.error or "")
    assert fake_llm.request_count == 0
