"""Creating runs: baselines pick the right tasks, and a version runs once at a time."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from prelabel.encryption import SecretBox
from prelabel.errors import ConflictError, ValidationError
from prelabel.services.connections import add_connection
from prelabel.services.prompts import create_prompt
from prelabel.services.runs import Baseline, create_run
from prelabel.store import Prediction, Project, PromptVersion, Run, RunTask, Task
from tests.factories import import_json, make_project, sentiment


@pytest.fixture
def project(session: Session) -> Project:
    project = make_project(session)
    tasks = [
        {
            "data": {"text": f"t{i}"},
            "annotations": [{"result": sentiment("Positive")}] if i % 3 == 0 else [],
        }
        for i in range(12)
    ]
    import_json(session, project, tasks)
    return project


@pytest.fixture
def version(session: Session, project: Project) -> PromptVersion:
    connection = add_connection(
        session, SecretBox("s"), name="local", kind="local", default_model="m"
    )
    return create_prompt(session, project, name="p", template="{text}", connection=connection)[1]


def _task_ids(session: Session, project: Project) -> list[int]:
    return list(
        session.scalars(select(Task.id).where(Task.project_id == project.id).order_by(Task.id))
    )


def _worklist(session: Session, run_id: int) -> list[int]:
    return list(
        session.scalars(
            select(RunTask.task_id).where(RunTask.run_id == run_id).order_by(RunTask.id)
        )
    )


def _finish(session: Session, run_id: int) -> None:
    session.get(Run, run_id).status = "Completed"
    session.flush()


def test_all_and_ground_truth_baselines(
    session: Session, project: Project, version: PromptVersion
) -> None:
    ids = _task_ids(session, project)
    run = create_run(session, version, Baseline.parse("all"))
    assert (run.status, run.total, _worklist(session, run.id)) == ("Pending", 12, ids)
    _finish(session, run.id)
    truth = create_run(session, version, Baseline.parse("ground-truth"))
    assert _worklist(session, truth.id) == ids[::3]


def test_sample_is_reproducible_and_of_the_asked_size(
    session: Session, project: Project, version: PromptVersion
) -> None:
    picks = []
    for _ in range(2):
        run = create_run(session, version, Baseline.parse("sample:5:42"))
        picks.append(_worklist(session, run.id))
        _finish(session, run.id)
    assert picks[0] == picks[1] and len(picks[0]) == 5 and picks[0] == sorted(picks[0])
    other = create_run(session, version, Baseline.parse("sample:5:43"))
    assert _worklist(session, other.id) != picks[0]
    _finish(session, other.id)
    everything = create_run(session, version, Baseline.parse("sample:500"))
    assert everything.total == 12


def test_missing_baseline_skips_tasks_this_version_predicted(
    session: Session, project: Project, version: PromptVersion
) -> None:
    ids = _task_ids(session, project)
    for task_id in ids[:4]:
        session.add(
            Prediction(
                task_id=task_id,
                project_id=project.id,
                result=[],
                model_version="p__v1",
                prompt_version_id=version.id,
            )
        )
    session.add(Prediction(task_id=ids[5], project_id=project.id, result=[], model_version="other"))
    session.flush()
    run = create_run(session, version, Baseline.parse("missing"))
    assert _worklist(session, run.id) == ids[4:]


def test_explicit_ids_must_belong_to_the_project(
    session: Session, project: Project, version: PromptVersion
) -> None:
    ids = _task_ids(session, project)
    run = create_run(session, version, Baseline.parse(f"ids:{ids[3]},{ids[1]},{ids[3]}"))
    assert _worklist(session, run.id) == [ids[1], ids[3]]
    _finish(session, run.id)
    with pytest.raises(ValidationError, match="not tasks of project .*: 99999"):
        create_run(session, version, Baseline.parse(f"ids:{ids[0]},99999"))


def test_a_second_active_run_of_the_same_version_is_refused(
    session: Session, project: Project, version: PromptVersion
) -> None:
    first = create_run(session, version, Baseline.parse("all"))
    with pytest.raises(ConflictError, match=f"already has run {first.id} in progress"):
        create_run(session, version, Baseline.parse("missing"))


@pytest.mark.parametrize(
    "text", ["", "everything", "sample:0", "sample:x", "ids:", "ids:1,,2", "ids:a", "sample:-3"]
)
def test_malformed_baseline_is_refused(text: str) -> None:
    with pytest.raises(ValidationError, match="baseline"):
        Baseline.parse(text)
