"""A project, an OpenAI-compatible connection to the fake LLM server and a prompt version,
for tests that execute runs for real."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from prelabel.encryption import SecretBox
from prelabel.engine.job import RunOptions
from prelabel.providers.prices import Price, PriceTable
from prelabel.services.connections import add_connection
from prelabel.services.prompts import create_prompt
from prelabel.services.run_execution import Runtime, execute_run, start_run
from prelabel.services.runs import Baseline
from prelabel.store import Prediction, Project, PromptVersion, Run, RunTask, Store, Task
from tests.factories import import_json, make_project
from tests.fakes.llm_server import FakeLLMServer

BOX = SecretBox("test-secret")
#: $1 per million tokens either way, so a cost is the token count / 1e6.
PRICES = PriceTable({"fake-model": Price(1.0, 1.0), "local": Price(0.0, 0.0)})
RUNTIME = Runtime(box=BOX, prices=PRICES)


def reviews(n: int) -> list[dict[str, Any]]:
    return [{"data": {"text": f"review number {i}"}} for i in range(n)]


@pytest.fixture
def project(store: Store) -> Project:
    with store.session() as session:
        project = make_project(session)
        import_json(session, project, reviews(30))
    return project


def fake_version(
    session: Session, project: Project, box: SecretBox, fake_llm: FakeLLMServer
) -> PromptVersion:
    """A prompt version of the project on a connection to the fake LLM server, its key
    sealed by ``box`` (the key box of the runtime that will execute it)."""
    connection = add_connection(
        session,
        box,
        name="fake",
        kind="openai",
        base_url=fake_llm.base_url,
        api_key="sk-test",
        default_model="fake-model",
    )
    return create_prompt(
        session, project, name="p", template="Review: {text}", connection=connection
    )[1]


@pytest.fixture
def version(store: Store, project: Project, fake_llm: FakeLLMServer) -> PromptVersion:
    with store.session() as session:
        return fake_version(session, project, BOX, fake_llm)


@pytest.fixture
def run_version(store: Store, version: PromptVersion) -> Callable[..., Run]:
    """Start a run of the version on a baseline and execute it to its end, here."""

    def run(baseline: str = "all", **options: Any) -> Run:
        options.setdefault("max_attempts", 3)
        with store.session() as session:
            started = start_run(
                session,
                RUNTIME,
                session.get(PromptVersion, version.id),
                Baseline.parse(baseline),
                RunOptions(**options),
            )
        return execute_run(store, RUNTIME, started.id)

    return run


def predictions_per_task(session: Session, version_id: int) -> dict[int, int]:
    """How many predictions of the version each task has (absent: none)."""
    rows = session.execute(
        select(Prediction.task_id, func.count(Prediction.id))
        .where(Prediction.prompt_version_id == version_id)
        .group_by(Prediction.task_id)
    ).all()
    return dict(rows)


def states(session: Session, run_id: int) -> dict[str, int]:
    rows = session.execute(
        select(RunTask.status, func.count(RunTask.id))
        .where(RunTask.run_id == run_id)
        .group_by(RunTask.status)
    ).all()
    return dict(rows)


def task_ids(session: Session) -> list[int]:
    return list(session.scalars(select(Task.id).order_by(Task.id)))


Factory = Callable[..., Run]
