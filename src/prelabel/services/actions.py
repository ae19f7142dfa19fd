"""The Data Manager's actions on a selection of tasks, each atomic and keeping counters exact.

Every action takes the project and a ``TaskQuery`` (filters, then a selection), reads the
selected task ids once, then works through them in chunks with set-based SQL in the caller's
transaction: a million tasks take a few hundred statements, not millions, and an error midway
leaves nothing changed.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, delete, exists, func, insert, literal, select, update
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

#: Tasks per statement: large enough that a million tasks take 200 rounds, small enough for
#: any database's limit on bound parameters.
CHUNK = 5000


def delete_selected_predictions(
    session: Session, project: Project, query: TaskQuery, *, model_version: str | None = None
) -> int:
    """Delete the predictions of the selected tasks (only ``model_version``'s when given);
    returns how many went."""
    deleted = 0
    for chunk in _selected_chunks(session, project, query):
        # The ids are the project's, and naming the project would steer the planner to the
        # project index, which reads every prediction of the project for each chunk.
        where = [Prediction.task_id.in_(chunk)]
        if model_version is not None:
            where.append(Prediction.model_version == model_version)
        deleted += delete_predictions(session, *where)
    return deleted


def predictions_to_annotations(
    session: Session, project: Project, query: TaskQuery, *, model_version: str, user: User | None
) -> int:
    """Give each selected task that has a prediction of ``model_version`` not yet turned into
    an annotation one annotation with that prediction's result (its newest, when it has
    several); returns how many were created. Running it again creates none."""
    if not model_version:
        raise ValidationError("model_version: required; choose whose predictions to accept")
    now = utcnow()
    created = 0
    for chunk in _selected_chunks(session, project, query):
        chosen = _unconverted(model_version, chunk)
        # Counters first, while "not yet converted" still picks the same predictions.
        counted = session.execute(
            update(Task)
            .where(Task.id.in_(chosen.with_only_columns(Prediction.task_id)))
            .values(total_annotations=Task.total_annotations + 1, updated_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not counted:
            continue
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
        created += counted
    return created


def delete_selected_annotations(
    session: Session, project: Project, query: TaskQuery, *, annotator: int | None = None
) -> int:
    """Delete the annotations (cancelled ones too) of the selected tasks, or only
    ``annotator``'s; returns how many went. Predictions are left alone."""
    now = utcnow()
    deleted = 0
    for chunk in _selected_chunks(session, project, query):
        where = [Annotation.task_id.in_(chunk)]  # the project's ids; see above
        if annotator is not None:
            where.append(Annotation.completed_by_id == annotator)
        for cancelled, counter in (
            (False, Task.total_annotations),
            (True, Task.cancelled_annotations),
        ):
            kind = Annotation.was_cancelled.is_(cancelled)
            removed = (
                select(func.count(Annotation.id))
                .where(Annotation.task_id == Task.id, kind, *where)
                .scalar_subquery()
            )
            session.execute(
                update(Task)
                .where(Task.id.in_(select(Annotation.task_id).where(kind, *where)))
                .values({counter: counter - removed, Task.updated_at: now})
                .execution_options(synchronize_session=False)
            )
        deleted += session.execute(
            delete(Annotation).where(*where), execution_options={"synchronize_session": False}
        ).rowcount
    return deleted


def _unconverted(model_version: str, tasks: Sequence[int]) -> Select[Any]:
    """The newest prediction of ``model_version`` of each of ``tasks``, unless an annotation
    already came from it."""
    converted = aliased(Annotation)
    newest = (
        select(func.max(Prediction.id))
        .where(Prediction.model_version == model_version, Prediction.task_id.in_(tasks))
        .group_by(Prediction.task_id)
    )
    return select(Prediction.id, Prediction.task_id, Prediction.result).where(
        Prediction.id.in_(newest),
        ~exists().where(converted.parent_prediction_id == Prediction.id),
    )


def _selected_chunks(session: Session, project: Project, query: TaskQuery) -> list[list[int]]:
    """The selected task ids, read once before anything changes (the filters may read the
    counters an action updates), in chunks of ``CHUNK``; a compact array holds a million."""
    ids = array("q")
    rows = session.scalars(
        select(Task.id)
        .where(query.condition(project))
        .order_by(Task.id)
        .execution_options(yield_per=CHUNK)
    )
    for part in rows.partitions():
        ids.extend(part)
    return [ids[start : start + CHUNK].tolist() for start in range(0, len(ids), CHUNK)]


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
