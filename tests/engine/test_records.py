"""Recording a run's outcomes: one prediction per version and task, replaced in place."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from prelabel.encryption import SecretBox
from prelabel.engine.records import Failed, Predicted, record_batch
from prelabel.services.connections import add_connection
from prelabel.services.prompts import create_prompt
from prelabel.services.runs import Baseline, create_run
from prelabel.store import Prediction, Project, PromptVersion, Run, RunTask, Task
from tests.factories import import_json, make_project, sentiment


@pytest.fixture
def project(session: Session) -> Project:
    project = make_project(session)
    import_json(
        session,
        project,
        [
            {
                "data": {"text": "a"},
                "predictions": [{"result": sentiment("Negative"), "model_version": "imported"}],
            },
            {"data": {"text": "b"}},
            {"data": {"text": "c"}},
        ],
    )
    return project


@pytest.fixture
def version(session: Session, project: Project) -> PromptVersion:
    connection = add_connection(
        session, SecretBox("s"), name="local", kind="local", default_model="m"
    )
    return create_prompt(session, project, name="p", template="{text}", connection=connection)[1]


def _ids(session: Session) -> list[int]:
    return list(session.scalars(select(Task.id).order_by(Task.id)))


def _finish(session: Session, run: Run) -> None:
    run.status = "Completed"
    session.flush()


def test_outcomes_write_predictions_failures_counters_and_totals(
    session: Session, version: PromptVersion
) -> None:
    a, b, c = _ids(session)
    run = create_run(session, version, Baseline.parse("all"))
    record_batch(
        session,
        run,
        [
            Predicted(
                a,
                sentiment("Positive"),
                score=0.9,
                input_tokens=10,
                output_tokens=2,
                cost_usd=0.5,
                repairs=('sentiment: "positive" -> "Positive" (case)',),
            ),
            Predicted(b, sentiment("Negative"), input_tokens=8, output_tokens=2, cost_usd=0.25),
            Failed(c, "invalid_output", "not JSON", raw_excerpt="Sure!"),
        ],
    )
    assert (run.done, run.failed, run.input_tokens, run.output_tokens, run.cost_usd) == (
        2,
        1,
        18,
        4,
        0.75,
    )
    rows = session.execute(
        select(Prediction.task_id, Prediction.model_version, Prediction.run_id, Prediction.repairs)
        .where(Prediction.prompt_version_id == version.id)
        .order_by(Prediction.task_id)
    ).all()
    assert [tuple(r) for r in rows] == [
        (a, "p__v1", run.id, ['sentiment: "positive" -> "Positive" (case)']),
        (b, "p__v1", run.id, None),
    ]
    counters = session.scalars(select(Task.total_predictions).order_by(Task.id)).all()
    assert counters == [2, 1, 0], "the imported prediction stays beside the version's"
    states = session.execute(
        select(
            RunTask.task_id,
            RunTask.status,
            RunTask.attempts,
            RunTask.failure_kind,
            RunTask.raw_excerpt,
        ).order_by(RunTask.task_id)
    ).all()
    assert [tuple(s) for s in states] == [
        (a, "done", 1, None, None),
        (b, "done", 1, None, None),
        (c, "failed", 1, "invalid_output", "Sure!"),
    ]


def test_a_new_run_replaces_the_version_prediction_and_a_failure_keeps_the_old_one(
    session: Session, version: PromptVersion
) -> None:
    a, b, _ = _ids(session)
    first = create_run(session, version, Baseline.parse(f"ids:{a},{b}"))
    record_batch(
        session, first, [Predicted(a, sentiment("Positive")), Predicted(b, sentiment("Positive"))]
    )
    _finish(session, first)
    before = dict(
        session.execute(
            select(Prediction.task_id, Prediction.id).where(
                Prediction.prompt_version_id == version.id
            )
        ).all()
    )
    second = create_run(session, version, Baseline.parse(f"ids:{a},{b}"))
    record_batch(
        session,
        second,
        [Predicted(a, sentiment("Negative")), Failed(b, "timeout", "no answer in 30 s")],
    )
    after = session.execute(
        select(Prediction.task_id, Prediction.id, Prediction.result, Prediction.run_id)
        .where(Prediction.prompt_version_id == version.id)
        .order_by(Prediction.task_id)
    ).all()
    assert [(t, i, r[0]["value"]["choices"], run) for t, i, r, run in after] == [
        (a, before[a], ["Negative"], second.id),
        (b, before[b], ["Positive"], first.id),
    ]
    assert session.scalars(select(Task.total_predictions).order_by(Task.id)).all()[:2] == [2, 1]
