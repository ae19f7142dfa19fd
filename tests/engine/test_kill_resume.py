"""A run killed with SIGKILL at random points resumes where it stopped: no task done twice,
none lost, every counter exact."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from prelabel.encryption import open_secret_box
from prelabel.services.connections import add_connection
from prelabel.services.prompts import create_prompt
from prelabel.services.runs import describe_run
from prelabel.settings import Settings
from prelabel.store import Prediction, Run, RunTask, Store, Task
from tests.engine.conftest import predictions_per_task, reviews
from tests.factories import import_json, make_project
from tests.fakes.llm_server import FakeLLMServer

TASKS = 150
KILLS = 3


def _prelabel(settings: Settings, *args: str) -> subprocess.Popen[bytes]:
    """``prelabel ARGS`` in a process of its own, as a user would start it; its error output
    goes to a file in the data directory."""
    errors = settings.data_dir / "stderr.txt"
    errors.parent.mkdir(parents=True, exist_ok=True)
    with errors.open("ab") as stderr:
        return subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from prelabel.cli import run; run()",
                "--data-dir",
                str(settings.data_dir),
                "--database-url",
                settings.resolved_database_url,
                *args,
            ],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        )


def _done(store: Store) -> int | None:
    with store.session() as session:
        run = session.scalars(select(Run)).first()
        return None if run is None else run.done


def _check_invariants(session: Session, version_id: int) -> dict[int, tuple[int, object]]:
    """The store is consistent whatever the moment of the kill; returns each done task's
    prediction id and last update, to show later that it was not done again."""
    run = session.scalars(select(Run)).one()
    counts = dict(
        session.execute(
            select(RunTask.status, func.count(RunTask.id))
            .where(RunTask.run_id == run.id)
            .group_by(RunTask.status)
        ).all()
    )
    assert run.done == counts.get("done", 0) and run.failed == counts.get("failed", 0)
    per_task = predictions_per_task(session, version_id)
    assert set(per_task.values()) <= {1}, "never two predictions of a version on a task"
    done_tasks = set(
        session.scalars(
            select(RunTask.task_id).where(RunTask.run_id == run.id, RunTask.status == "done")
        )
    )
    assert done_tasks == set(per_task), "a task is done exactly when its prediction is stored"
    stored = dict(session.execute(select(Task.id, Task.total_predictions)).all())
    assert stored == {task: per_task.get(task, 0) for task in stored}, "counters are exact"
    rows = session.execute(
        select(Prediction.task_id, Prediction.id, Prediction.updated_at).where(
            Prediction.prompt_version_id == version_id
        )
    )
    return {task: (id_, updated) for task, id_, updated in rows}


def test_a_run_killed_at_random_points_resumes_without_losing_or_redoing_a_task(
    settings: Settings, store: Store, fake_llm: FakeLLMServer
) -> None:
    with store.session() as session:
        project = make_project(session)
        import_json(session, project, reviews(TASKS))
        connection = add_connection(
            session,
            open_secret_box(settings),  # the one the CLI opens: same data directory
            name="fake",
            kind="openai",
            base_url=fake_llm.base_url,
            api_key="sk-kill",
            default_model="fake-model",
        )
        version_id = create_prompt(
            session, project, name="p", template="Review: {text}", connection=connection
        )[1].id
    fake_llm.latency = 0.04
    rng = random.Random()
    kept: dict[int, tuple[int, object]] = {}
    interrupted = 0
    for attempt in range(KILLS):
        args = ("run", "start", str(version_id)) if attempt == 0 else ("run", "resume", "1")
        process = _prelabel(settings, *args, "--concurrency", "4")
        # Anywhere from before the first write to a third into what is left; results are
        # written in batches, so a kill can still come after the last one.
        start = len(kept)
        target = rng.randint(start, start + (TASKS - start) // 3)
        while process.poll() is None and ((done := _done(store)) is None or done < target):
            time.sleep(0.02)
        time.sleep(rng.uniform(0, 0.03))
        process.send_signal(signal.SIGKILL)
        process.wait()
        with store.session() as session:
            now = _check_invariants(session, version_id)
            run = session.scalars(select(Run)).one()
            if run.status == "Running":
                interrupted += 1
                assert describe_run(session, run)["interrupted"], "status shows the lost process"
        assert {task: now[task] for task in kept} == kept, "a done task is never redone"
        kept = now
        if run.status == "Completed":
            break
    assert interrupted, "at least one kill landed while the run was running"

    if run.status != "Completed":
        finished = _prelabel(settings, "run", "resume", "1")
        assert finished.wait() == 0, (settings.data_dir / "stderr.txt").read_text()
    with store.session() as session:
        final = _check_invariants(session, version_id)
        run = session.scalars(select(Run)).one()
    assert (run.status, run.done, run.failed) == ("Completed", TASKS, 0)
    assert len(final) == TASKS
    assert {task: final[task] for task in kept} == kept
