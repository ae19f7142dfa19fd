"""Annotations one at a time: whatever sequence of creates, edits and deletes, every task's
counters equal the rows they count and a task has at most one ground-truth annotation."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from prelabel.errors import ValidationError
from prelabel.services.annotations import (
    create_annotation,
    delete_annotation,
    get_annotation,
    list_annotations,
    update_annotation,
)
from prelabel.services.users import create_user
from prelabel.store import Annotation, Project, Task, User
from tests.factories import import_json, make_project, sentiment
from tests.invariants import assert_counters_exact

Step = tuple[str, int, bool]
"""(what, which task or annotation, a flag): create/flip-cancelled/mark-truth/delete."""

STEPS = st.lists(
    st.tuples(
        st.sampled_from(["create", "cancel", "truth", "delete"]),
        st.integers(0, 9),
        st.booleans(),
    ),
    max_size=12,
)


@pytest.fixture
def project(session: Session) -> Project:
    project = make_project(session)
    import_json(
        session,
        project,
        [
            {"data": {"text": "a"}, "annotations": [{"result": sentiment("Positive")}]},
            {"data": {"text": "b"}},
        ],
    )
    return project


@pytest.fixture
def user(session: Session, project: Project) -> User:
    return create_user(session, email="annotator@example.com")


def _tasks(session: Session, project: Project) -> list[int]:
    return list(
        session.scalars(select(Task.id).where(Task.project_id == project.id).order_by(Task.id))
    )


def _annotation_ids(session: Session, project: Project) -> list[int]:
    return list(
        session.scalars(
            select(Annotation.id).where(Annotation.project_id == project.id).order_by(Annotation.id)
        )
    )


def _apply(session: Session, project: Project, user: User, step: Step) -> None:
    what, which, flag = step
    tasks, annotations = _tasks(session, project), _annotation_ids(session, project)
    if what == "create":
        create_annotation(
            session,
            tasks[which % len(tasks)],
            user=user,
            result=sentiment("Negative"),
            was_cancelled=flag,
            ground_truth=not flag,
        )
    elif annotations:
        annotation = get_annotation(session, annotations[which % len(annotations)])
        if what == "cancel":
            update_annotation(session, annotation, was_cancelled=flag)
        elif what == "truth":
            update_annotation(session, annotation, ground_truth=flag)
        else:
            delete_annotation(session, annotation)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(steps=STEPS)
def test_any_sequence_keeps_counters_exact_and_one_ground_truth(
    session: Session, project: Project, user: User, steps: list[Step]
) -> None:
    for step in steps:
        _apply(session, project, user, step)
        assert_counters_exact(session)
        most = session.scalar(
            select(func.count(Annotation.id))
            .where(Annotation.ground_truth.is_(True))
            .group_by(Annotation.task_id)
            .order_by(func.count(Annotation.id).desc())
            .limit(1)
        )
        assert (most or 0) <= 1


def test_list_leaves_out_cancelled_annotations(
    session: Session, project: Project, user: User
) -> None:
    task = _tasks(session, project)[1]
    kept = create_annotation(session, task, user=user, result=[])
    create_annotation(session, task, user=user, result=[], was_cancelled=True)
    assert [a.id for a in list_annotations(session, task)] == [kept.id]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        pytest.param({"result": sentiment("Neutral")}, "result", id="result-off-config"),
        pytest.param({"completed_by": 999}, "completed_by", id="unknown-user"),
    ],
)
def test_a_refused_change_leaves_the_annotation_as_it_was(
    session: Session, project: Project, user: User, changes: dict[str, Any], field: str
) -> None:
    annotation = create_annotation(
        session, _tasks(session, project)[1], user=user, result=sentiment("Positive")
    )
    with pytest.raises(ValidationError, match=f"^{field}: "):
        update_annotation(session, annotation, **changes)
    session.refresh(annotation)
    assert (annotation.result, annotation.completed_by_id) == (sentiment("Positive"), user.id)
