"""Annotations one at a time: whatever sequence of creates, edits and deletes, every task's
counters equal the rows they count and a task has at most one ground-truth annotation;
accepting a prediction and setting an annotation's answers keep them so, and a refused one
changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from prelabel.errors import ConflictError, ResultError, ValidationError
from prelabel.services.actions import predictions_to_annotations
from prelabel.services.annotations import (
    accept_prediction,
    create_annotation,
    delete_annotation,
    get_annotation,
    list_annotations,
    set_annotation_answers,
    update_annotation,
)
from prelabel.services.tasks import TaskQuery
from prelabel.services.users import create_user
from prelabel.store import Annotation, Prediction, Project, Task, User
from tests.factories import ALL_CONTROLS_CONFIG, import_json, make_project, region, sentiment
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


# -- Accepting a prediction ----------------------------------------------------------------


def _predictions(session: Session, project: Project) -> list[Prediction]:
    return list(
        session.scalars(
            select(Prediction).where(Prediction.project_id == project.id).order_by(Prediction.id)
        )
    )


def _annotation_count(session: Session) -> int:
    return session.scalar(select(func.count(Annotation.id))) or 0


@pytest.fixture
def predicted(session: Session, project: Project) -> list[Prediction]:
    """Task "b" of ``project`` gets a v1 and a v2 prediction."""
    import_json(
        session,
        project,
        [
            {
                "data": {"text": "c"},
                "predictions": [
                    {"model_version": "v1", "result": sentiment("Negative"), "score": 0.4},
                    {"model_version": "v2", "result": sentiment("Positive")},
                ],
            }
        ],
    )
    return _predictions(session, project)


def test_accepting_a_prediction_makes_an_annotation_by_the_user_linked_to_it(
    session: Session, project: Project, user: User, predicted: list[Prediction]
) -> None:
    v1 = predicted[0]
    task = session.get(Task, v1.task_id)
    assert task is not None and task.total_annotations == 0
    annotation = accept_prediction(session, v1, user=user)
    assert (annotation.task_id, annotation.completed_by_id) == (v1.task_id, user.id)
    assert (annotation.parent_prediction_id, annotation.result) == (v1.id, sentiment("Negative"))
    assert (annotation.ground_truth, annotation.was_cancelled) == (False, False)
    session.refresh(task)
    assert (task.total_annotations, task.cancelled_annotations, task.total_predictions) == (1, 0, 2)
    assert_counters_exact(session)


def test_a_prediction_is_accepted_once_and_the_second_changes_nothing(
    session: Session, project: Project, user: User, predicted: list[Prediction]
) -> None:
    v1, v2 = predicted
    first = accept_prediction(session, v1, user=user)
    before = _annotation_count(session)
    with pytest.raises(ConflictError) as refused:
        accept_prediction(session, v1, user=user)
    assert (
        refused.value.message == f"prediction {v1.id} was already accepted as annotation {first.id}"
    )
    assert _annotation_count(session) == before
    assert_counters_exact(session)
    # Another version's prediction of the same task is still its own to accept.
    assert accept_prediction(session, v2, user=user).parent_prediction_id == v2.id
    assert_counters_exact(session)


def test_a_prediction_converted_by_the_bulk_action_cannot_be_accepted(
    session: Session, project: Project, user: User, predicted: list[Prediction]
) -> None:
    v1 = predicted[0]
    converted = predictions_to_annotations(
        session, project, TaskQuery(), model_version="v1", user=user
    )
    assert converted == 1
    made = session.scalar(select(Annotation.id).where(Annotation.parent_prediction_id == v1.id))
    with pytest.raises(ConflictError, match=f"already accepted as annotation {made}$"):
        accept_prediction(session, v1, user=user)
    assert_counters_exact(session)


def test_a_prediction_whose_result_breaks_the_config_is_not_accepted(
    session: Session, project: Project, user: User, predicted: list[Prediction]
) -> None:
    v1 = predicted[0]
    v1.result = sentiment("Neutral")  # past the services, which refuse it
    session.flush()
    before = _annotation_count(session)
    with pytest.raises(ValidationError, match="^result: .*'Neutral' is not a choice"):
        accept_prediction(session, v1, user=user)
    assert _annotation_count(session) == before
    assert_counters_exact(session)


# -- Setting an annotation's answers -------------------------------------------------------

SPAN = region("ner", "labels", {"start": 0, "end": 5, "text": "Alice", "labels": ["PER"]})
TAXONOMY = region("tax", "taxonomy", {"taxonomy": [["A", "A1"]]})


@pytest.fixture
def answered(session: Session, user: User) -> Annotation:
    """An annotation with a choice, a span, a comment and a taxonomy path."""
    project = make_project(session, ALL_CONTROLS_CONFIG, title="Every control")
    import_json(session, project, [{"data": {"text": "Alice works at ACME."}}])
    task_id = session.scalar(select(Task.id).where(Task.project_id == project.id))
    assert task_id is not None
    return create_annotation(
        session,
        task_id,
        user=user,
        result=[
            region("sentiment", "choices", {"choices": ["Positive"]}),
            SPAN,
            region("comment", "textarea", {"text": ["first"]}),
            TAXONOMY,
        ],
    )


def test_answers_replace_their_controls_regions_and_keep_the_others(
    session: Session, answered: Annotation
) -> None:
    set_annotation_answers(
        session,
        answered,
        {"sentiment": "Negative", "num": 3, "rating": 4, "topics": ["Sports", "Politics"]},
    )
    session.refresh(answered)
    assert answered.result == [
        SPAN,
        region("comment", "textarea", {"text": ["first"]}),
        TAXONOMY,
        region("sentiment", "choices", {"choices": ["Negative"]}),
        region("num", "number", {"number": 3}),
        region("rating", "rating", {"rating": 4}),
        region("topics", "choices", {"choices": ["Sports", "Politics"]}),
    ]
    assert_counters_exact(session)


@pytest.mark.parametrize(
    "answer", [pytest.param(None, id="none"), pytest.param("", id="empty-text")]
)
def test_an_empty_answer_removes_its_controls_regions(
    session: Session, answered: Annotation, answer: str | None
) -> None:
    set_annotation_answers(session, answered, {"comment": answer, "topics": []})
    session.refresh(answered)
    assert answered.result == [
        region("sentiment", "choices", {"choices": ["Positive"]}),
        SPAN,
        TAXONOMY,
    ]


@pytest.mark.parametrize(
    ("answers", "error", "message"),
    [
        pytest.param(
            {"sentiment": "Negative", "num": 11},
            ResultError,
            "num: 11 is not between 0 and 10",
            id="number-out-of-range",
        ),
        pytest.param(
            {"sentiment": "Negative", "rating": 6},
            ResultError,
            "rating: 6 is not an integer from 1 to 5",
            id="rating-past-max",
        ),
        pytest.param(
            {"comment": "changed", "sentiment": "Meh"},
            ResultError,
            "sentiment: 'Meh' is not a choice; valid: Positive, Negative",
            id="unknown-choice",
        ),
        pytest.param(
            {"sentiment": "Negative", "ner": ["PER"]},
            ValidationError,
            "ner: spans cannot be answered without their text",
            id="span",
        ),
        pytest.param(
            {"sentiment": "Negative", "nope": 1},
            ValidationError,
            "nope: names no control; controls: sentiment, topics, ner, comment, rating, num, tax",
            id="unknown-control",
        ),
    ],
)
def test_a_refused_answer_changes_nothing(
    session: Session,
    answered: Annotation,
    answers: dict[str, Any],
    error: type[ValidationError],
    message: str,
) -> None:
    before = list(answered.result)
    with pytest.raises(error) as refused:
        set_annotation_answers(session, answered, answers)
    assert refused.value.message == message
    assert answered.result == before
    session.flush()
    session.refresh(answered)
    assert answered.result == before
    assert_counters_exact(session)
