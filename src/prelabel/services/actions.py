"""The Data Manager's actions on a selection of tasks, each atomic and keeping counters exact.

Every action takes the project and a ``TaskQuery`` (filters, then a selection) and works in
the caller's transaction with set-based SQL, so acting on a million tasks is a few statements,
not a million, and an error midway leaves nothing changed.
"""

from __future__ import annotations

from sqlalchemy import and_, bindparam, delete, exists, func, insert, literal, select, update
from sqlalchemy.orm import Session, aliased

from prelabel.engine.job import RunOptions
from prelabel.errors import ValidationError
from prelabel.services.predictions import delete_predictions
from prelabel.services.prompts import prompt_of
from prelabel.services.run_execution import Runtime, start_run
from prelabel.services.runs import Baseline
from prelabel.services.tasks import TaskQuery
from prelabel.store import Annotation, Prediction, Project, PromptVersion, Run, Task, User
from prelabel.store.types import utcnow

_tasks = Task.__table__


def delete_selected_predictions(
    session: Session, project: Project, query: TaskQuery, *, model_version: str | None = None
) -> int:
    """Delete the predictions of the selected tasks (only ``model_version``'s when given);
    returns how many went."""
    where = [
        Prediction.project_id == project.id,
        Prediction.task_id.in_(select(Task.id).where(query.condition(project))),
    ]
    if model_version is not None:
        where.append(Prediction.model_version == model_version)
    return delete_predictions(session, *where)


def predictions_to_annotations(
    session: Session, project: Project, query: TaskQuery, *, model_version: str, user: User | None
) -> int:
    """Give each selected task that has a prediction of ``model_version`` not yet turned into
    an annotation one annotation with that prediction's result (its newest, when it has
    several); returns how many were created. Running it again creates none."""
    if not model_version:
        raise ValidationError("model_version: required; choose whose predictions to accept")
    converted = aliased(Annotation)
    newest = (
        select(func.max(Prediction.id).label("id"))
        .where(
            Prediction.project_id == project.id,
            Prediction.model_version == model_version,
            Prediction.task_id.in_(select(Task.id).where(query.condition(project))),
        )
        .group_by(Prediction.task_id)
        .subquery()
    )
    chosen = select(Prediction.id, Prediction.task_id, Prediction.result).where(
        Prediction.id.in_(select(newest.c.id)),
        ~exists().where(converted.parent_prediction_id == Prediction.id),
    )
    tasks = list(session.scalars(chosen.with_only_columns(Prediction.task_id)))
    if not tasks:
        return 0
    now = utcnow()
    session.execute(
        insert(Annotation).from_select(
            [
                "task_id",
                "project_id",
                "result",
                "ground_truth",
                "was_cancelled",
                "completed_by_id",
                "parent_prediction_id",
                "created_at",
                "updated_at",
            ],
            chosen.with_only_columns(
                Prediction.task_id,
                literal(project.id),
                Prediction.result,
                literal(False),
                literal(False),
                literal(user.id if user is not None else None),
                Prediction.id,
                literal(now, Task.created_at.type),
                literal(now, Task.created_at.type),
            ),
        )
    )
    _add_to_counter(session, "total_annotations", [(task, 1) for task in tasks], now)
    return len(tasks)


def delete_selected_annotations(
    session: Session, project: Project, query: TaskQuery, *, annotator: int | None = None
) -> int:
    """Delete the annotations (cancelled ones too) of the selected tasks, or only
    ``annotator``'s; returns how many went. Predictions are left alone."""
    where = [
        Annotation.project_id == project.id,
        Annotation.task_id.in_(select(Task.id).where(query.condition(project))),
    ]
    if annotator is not None:
        where.append(Annotation.completed_by_id == annotator)
    per_task = session.execute(
        select(Annotation.task_id, Annotation.was_cancelled, func.count(Annotation.id))
        .where(and_(*where))
        .group_by(Annotation.task_id, Annotation.was_cancelled)
    ).all()
    if not per_task:
        return 0
    session.execute(
        delete(Annotation).where(*where), execution_options={"synchronize_session": False}
    )
    now = utcnow()
    for cancelled, counter in ((False, "total_annotations"), (True, "cancelled_annotations")):
        changes = [(task, -count) for task, was, count in per_task if was is cancelled]
        _add_to_counter(session, counter, changes, now)
    return sum(count for *_, count in per_task)


def _add_to_counter(
    session: Session, counter: str, changes: list[tuple[int, int]], now: object
) -> None:
    """Add each task's change to one of its counters, in one executemany."""
    if not changes:
        return
    column = _tasks.c[counter]
    session.execute(
        update(_tasks)
        .where(_tasks.c.id == bindparam("task"))
        .values({counter: column + bindparam("change"), "updated_at": now}),
        [{"task": task, "change": change} for task, change in changes],
    )


def run_on_selection(
    session: Session,
    runtime: Runtime,
    project: Project,
    query: TaskQuery,
    version: PromptVersion,
    options: RunOptions,
    *,
    created_by: int | None = None,
) -> Run:
    """A Pending run of ``version`` on the selected tasks (the "ids" baseline), to execute."""
    if prompt_of(session, version).project_id != project.id:
        raise ValidationError(f"prompt version {version.id} belongs to another project")
    ids = tuple(session.scalars(select(Task.id).where(query.condition(project)).order_by(Task.id)))
    if not ids:
        raise ValidationError("the selection holds no task")
    return start_run(
        session, runtime, version, Baseline("ids", ids=ids), options, created_by=created_by
    )
