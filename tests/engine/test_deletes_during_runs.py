"""Tasks and projects deleted while a run of theirs is executing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from prelabel.errors import NotFoundError
from prelabel.services.projects import delete_project
from prelabel.services.task_edits import delete_task
from prelabel.store import Prediction, Project, Run, Store, Task
from tests.engine.conftest import Factory, predictions_per_task, task_ids
from tests.fakes.llm_server import FakeLLMServer, schema_answer


def test_a_task_deleted_while_its_answer_is_awaited_leaves_the_others_predicted(
    store: Store, fake_llm: FakeLLMServer, run_version: Factory
) -> None:
    with store.session() as session:
        ids = task_ids(session)
    doomed = ids[5]

    def delete_then_answer(body: dict[str, Any]) -> object:
        if "review number 5" in str(body["messages"]):
            with store.session() as session:
                delete_task(session, session.get(Task, doomed))
        return schema_answer(body["response_format"]["json_schema"]["schema"])

    fake_llm.responder = delete_then_answer

    run = run_version(concurrency=4)

    with store.session() as session:
        run = session.get(Run, run.id)
        predicted = predictions_per_task(session, run.prompt_version_id)
        assert run.status == "Completed", run.error
        assert set(predicted) == set(ids) - {doomed}
        assert run.done == len(ids) - 1 and run.failed == 0
        # The deleted task's call was paid for: the run counts its tokens.
        written = session.scalar(
            select(func.sum(Prediction.input_tokens)).where(Prediction.run_id == run.id)
        )
        assert run.input_tokens > written
        assert session.scalar(select(Prediction.id).where(Prediction.task_id == doomed)) is None


def test_a_project_deleted_while_its_run_executes_ends_the_run_with_the_reason(
    store: Store, project: Project, fake_llm: FakeLLMServer, run_version: Factory
) -> None:
    def delete_then_answer(body: dict[str, Any]) -> object:
        if "review number 5" in str(body["messages"]):
            with store.session() as session:
                delete_project(session, session.get(Project, project.id))
        return schema_answer(body["response_format"]["json_schema"]["schema"])

    fake_llm.responder = delete_then_answer

    with pytest.raises(NotFoundError, match=r"^Run \d+ was deleted while it executed$"):
        run_version(concurrency=4)

    with store.session() as session:
        assert session.scalar(select(func.count(Run.id))) == 0
        assert session.scalar(select(func.count(Prediction.id))) == 0
