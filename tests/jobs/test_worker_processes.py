"""Real ``prelabel worker`` processes on PostgreSQL and Redis: a 5,000-task run over three of
them, one killed with SIGKILL midway, ends with exactly one prediction per task.

The run is started by ``prelabel run start``, which hands it to the workers and follows it to
its end, as a user would with ``PRELABEL_REDIS_URL`` set.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from prelabel.settings import Settings
from prelabel.store import Run, RunChunk, Store, Task
from tests.engine.conftest import predictions_per_task, states
from tests.fakes.llm_server import FakeLLMServer
from tests.jobs.conftest import make_version

TASKS = 5000
WORKERS = 3
CONCURRENCY = 12
CHUNK = 250
DEADLINE = 240.0


def _prelabel(
    settings: Settings, *args: str, stdout: int | None = subprocess.DEVNULL
) -> subprocess.Popen[bytes]:
    """``prelabel ARGS`` in a process of its own, configured by its environment as a worker
    on another machine would be; its error output goes to a file of the data directory."""
    errors = settings.data_dir / f"stderr-{args[0]}.txt"
    with errors.open("ab") as stderr:
        return subprocess.Popen(
            [sys.executable, "-c", "from prelabel.cli import run; run()", *args],
            stdout=stdout,
            stderr=stderr,
            env={
                **os.environ,
                "PYTHONPATH": os.pathsep.join(sys.path),
                "PRELABEL_DATA_DIR": str(settings.data_dir),
                "PRELABEL_DATABASE_URL": settings.resolved_database_url,
                "PRELABEL_REDIS_URL": settings.redis_url or "",
                "PRELABEL_QUEUE_NAME": settings.queue_name,
                "PRELABEL_CHUNK_SIZE": str(CHUNK),
            },
        )


def _errors(settings: Settings) -> str:
    return "\n".join(path.read_text() for path in sorted(settings.data_dir.glob("stderr-*.txt")))


def _holding_worker(store: Store, pids: set[int]) -> int | None:
    """The pid of a worker process holding a chunk now."""
    with store.session() as session:
        holders = session.scalars(select(RunChunk.worker).where(RunChunk.status == "running"))
        for holder in holders:
            pid = int((holder or "::").split(":")[1] or 0)
            if pid in pids:
                return pid
    return None


@pytest.mark.postgresql
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_worker_killed_midway_loses_no_task_and_duplicates_none(
    store: Store, distributed: Settings, fake_llm: FakeLLMServer, tmp_path: Path
) -> None:
    version = make_version(store, distributed, fake_llm, tasks=TASKS)
    fake_llm.latency = 0.02
    workers = {p.pid: p for p in (_prelabel(distributed, "worker") for _ in range(WORKERS))}
    follower = _prelabel(
        distributed,
        "run",
        "start",
        str(version.id),
        "--concurrency",
        str(CONCURRENCY),
        "--json",
        stdout=subprocess.PIPE,
    )
    killed = None
    try:
        deadline = time.monotonic() + DEADLINE
        while killed is None and time.monotonic() < deadline and follower.poll() is None:
            with store.session() as session:
                done = session.scalar(select(func.coalesce(func.max(Run.done), 0)))
            if done >= TASKS // 3:
                killed = _holding_worker(store, set(workers))
                if killed is not None:
                    workers[killed].send_signal(signal.SIGKILL)
                    workers[killed].wait()
            time.sleep(0.05)
        assert killed is not None, f"no worker was killed midway\n{_errors(distributed)}"
        output, _ = follower.communicate(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        for process in [*workers.values(), follower]:
            if process.poll() is None:
                process.kill()
                process.wait()

    assert follower.returncode == 0, _errors(distributed)
    ended = json.loads(output)
    assert (ended["status"], ended["done"], ended["failed"]) == ("Completed", TASKS, 0)
    with store.session() as session:
        run = session.scalars(select(Run)).one()
        per_task = predictions_per_task(session, version.id)
        tasks = set(session.scalars(select(Task.id)))
        assert per_task == dict.fromkeys(tasks, 1), "exactly one prediction per task"
        assert states(session, run.id) == {"done": TASKS}, "every task accounted for"
        counters = set(session.scalars(select(Task.total_predictions)))
        assert counters == {1}
        retried = session.scalar(select(func.count(RunChunk.id)).where(RunChunk.attempt > 1))
        assert retried >= 1, "the killed worker's chunk was queued again"
    assert fake_llm.max_in_flight <= CONCURRENCY, "the concurrency is shared by all workers"
    # Answers the killed worker had not written yet are asked for again, never more than the
    # rows of the chunk it held.
    assert fake_llm.request_count <= TASKS + CHUNK, "only the killed chunk's rows were redone"
