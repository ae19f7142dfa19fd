"""Annotations one at a time: create, read, edit, delete, keeping the task's counters exact.

``total_annotations`` counts a task's annotations that were not cancelled (skipped) and
``cancelled_annotations`` the others; both change in the same transaction as the annotation,
also when an edit flips ``was_cancelled``. A task has at most one ground-truth annotation:
marking one clears the flag on the others, as Label Studio does. Results are checked against
the project's config like imported ones.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from prelabel.errors import ConflictError, ResultError, ValidationError
from prelabel.labeling.controls import InvalidValue
from prelabel.services.counters import adjust_task_counters
from prelabel.services.predictions import KEEP, Keep, checked_result
from prelabel.services.projects import project_config
from prelabel.services.serialization import annotation_resource
from prelabel.store import Annotation, Prediction, Project, Task, User, get_or_raise
from prelabel.store.types import utcnow


def list_annotations(session: Session, task_id: int) -> list[Annotation]:
    """The task's annotations that were not cancelled, by id, as Label Studio lists them."""
    get_or_raise(session, Task, task_id)
    return list(
        session.scalars(
            select(Annotation)
            .where(Annotation.task_id == task_id, Annotation.was_cancelled.is_(False))
            .order_by(Annotation.id)
        )
    )


def get_annotation(session: Session, annotation_id: int) -> Annotation:
    return get_or_raise(session, Annotation, annotation_id)


def create_annotation(
    session: Session,
    task_id: int,
    *,
    user: User | None,
    result: Any,
    ground_truth: bool = False,
    was_cancelled: bool = False,
    lead_time: float | None = None,
    completed_by: int | None = None,
    parent_prediction: int | None = None,
) -> Annotation:
    """An annotation of task ``task_id``, by ``completed_by`` (a user id) or else ``user``.

    ``result`` is a list of regions or the JSON text of one; ``parent_prediction``, the
    prediction it was made from, must be one of the task's.
    """
    task = get_or_raise(session, Task, task_id)
    project = get_or_raise(session, Project, task.project_id)
    if completed_by is not None:
        _check_user(session, completed_by)
    if parent_prediction is not None:
        _check_parent(session, task, parent_prediction)
    annotation = Annotation(
        task_id=task.id,
        project_id=project.id,
        result=_result(project, task, result),
        ground_truth=ground_truth,
        was_cancelled=was_cancelled,
        lead_time=lead_time,
        completed_by_id=completed_by if completed_by is not None else (user.id if user else None),
        parent_prediction_id=parent_prediction,
    )
    session.add(annotation)
    session.flush()
    adjust_task_counters(session, task.id, **{_counter(was_cancelled): 1})
    if ground_truth:
        _clear_other_ground_truth(session, annotation)
    return annotation


def update_annotation(
    session: Session,
    annotation: Annotation,
    *,
    result: Any = KEEP,
    ground_truth: bool | Keep = KEEP,
    was_cancelled: bool | Keep = KEEP,
    lead_time: float | None | Keep = KEEP,
    completed_by: int | Keep = KEEP,
) -> Annotation:
    """Change the given fields of ``annotation``, keeping the counters and the single ground
    truth of its task true."""
    # Every check before any change, so that a refused update alters nothing.
    if completed_by is not KEEP:
        _check_user(session, completed_by)
    if result is not KEEP:
        task = get_or_raise(session, Task, annotation.task_id)
        result = _result(get_or_raise(session, Project, task.project_id), task, result)
    for name, value in (
        ("result", result),
        ("completed_by_id", completed_by),
        ("lead_time", lead_time),
        ("ground_truth", ground_truth),
    ):
        if value is not KEEP:
            setattr(annotation, name, value)
    if was_cancelled is not KEEP and was_cancelled != annotation.was_cancelled:
        adjust_task_counters(
            session,
            annotation.task_id,
            **{_counter(annotation.was_cancelled): -1, _counter(was_cancelled): 1},
        )
        annotation.was_cancelled = was_cancelled
    session.flush()
    if ground_truth is True:
        _clear_other_ground_truth(session, annotation)
    return annotation


def accept_prediction(session: Session, prediction: Prediction, *, user: User) -> Annotation:
    """An annotation by ``user`` with the prediction's result, linked to it: one prediction
    at a time, as the "create annotations from predictions" action does in bulk; a prediction
    already turned into an annotation is a ConflictError, since that action skips it too."""
    made = session.scalar(
        select(Annotation.id).where(Annotation.parent_prediction_id == prediction.id).limit(1)
    )
    if made is not None:
        raise ConflictError(f"prediction {prediction.id} was already accepted as annotation {made}")
    return create_annotation(
        session,
        prediction.task_id,
        user=user,
        result=prediction.result,
        parent_prediction=prediction.id,
    )


def set_annotation_answers(
    session: Session, annotation: Annotation, answers: Mapping[str, Any]
) -> Annotation:
    """Replace the regions of each control named in ``answers`` by the regions of its new
    answer, keeping every other region as it is.

    An answer is what the control's answer schema takes (a choice, a list of choices, a
    text, a number, a rating); None or an empty one removes the control's regions. Spans
    cannot be set this way: their answers need the text they label. An answer that breaks
    the config is a ResultError naming the control, and nothing changes.
    """
    task = get_or_raise(session, Task, annotation.task_id)
    config = project_config(get_or_raise(session, Project, task.project_id))
    kept = [region for region in annotation.result if region.get("from_name") not in answers]
    targets = {region.get("from_name"): region.get("to_name") for region in annotation.result}
    added: list[dict[str, Any]] = []
    for name, answer in answers.items():
        control = config.controls.get(name)
        if control is None:
            raise ValidationError(
                f"{name}: names no control; controls: {', '.join(config.controls)}"
            )
        if control.reads_text:
            raise ValidationError(f"{name}: spans cannot be answered without their text")
        if answer is None:
            continue
        to_name = targets.get(name)
        if to_name not in control.to_name:
            to_name = control.to_name[0]
        try:
            regions, _ = control.to_regions(answer, to_name, None)
        except InvalidValue as error:
            raise ResultError(f"{name}: {error}") from None
        added.extend(regions)
    return update_annotation(session, annotation, result=[*kept, *added])


def delete_annotation(session: Session, annotation: Annotation) -> None:
    session.delete(annotation)
    adjust_task_counters(session, annotation.task_id, **{_counter(annotation.was_cancelled): -1})
    session.flush()


def annotation_payloads(
    session: Session, annotations: Sequence[Annotation]
) -> list[dict[str, Any]]:
    """The annotations as the API answers them, their annotators read with one query."""
    ids = {a.completed_by_id for a in annotations if a.completed_by_id is not None}
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}
    now = utcnow()
    return [annotation_resource(a, users.get(a.completed_by_id), now=now) for a in annotations]


def _result(project: Project, task: Task, result: Any) -> list[Any]:
    """The checked result; Label Studio also takes the JSON text of a list."""
    if isinstance(result, str):
        try:
            result = orjson.loads(result)
        except orjson.JSONDecodeError as exc:
            raise ValidationError(f"result: a string must be JSON text of a list: {exc}") from None
    return checked_result(project_config(project), result, task.data)


def _counter(was_cancelled: bool) -> str:
    return "cancelled_annotations" if was_cancelled else "total_annotations"


def _check_user(session: Session, user_id: int) -> None:
    if session.get(User, user_id) is None:
        raise ValidationError(f"completed_by: user {user_id} does not exist")


def _check_parent(session: Session, task: Task, prediction_id: int) -> None:
    prediction = session.get(Prediction, prediction_id)
    if prediction is None or prediction.task_id != task.id:
        raise ValidationError(
            f"parent_prediction: prediction {prediction_id} is not a prediction of task {task.id}"
        )


def _clear_other_ground_truth(session: Session, annotation: Annotation) -> None:
    session.execute(
        update(Annotation)
        .where(
            Annotation.task_id == annotation.task_id,
            Annotation.id != annotation.id,
            Annotation.ground_truth.is_(True),
        )
        .values(ground_truth=False, updated_at=utcnow())
    )
