"""The Data Manager's actions on a selection of tasks, each atomic and keeping counters exact.

Every action takes the project and a ``TaskQuery`` (filters, then a selection), reads the
selected task ids once, then works through them in chunks with set-based SQL in the caller's
transaction: a million tasks take a few hundred statements, not millions, and an error midway
leaves nothing changed.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence

from sqlalchemy import ColumnElement, and_, delete, exists, func, insert, literal, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased

from prelabel.engine.job import RunOptions
from prelabel.errors import ValidationError
from prelabel.services.predictions import delete_predictions, prompt_version_named
from prelabel.services.prompts import prompt_of
from prelabel.services.run_execution import Runtime, start_run
from prelabel.services.runs import Baseline
from prelabel.services.tasks import TaskQuery
from prelabel.store import Annotation, Prediction, Project, PromptVersion, Run, Task, User
from prelabel.store.types import utcnow

#: Tasks per statement: large enough that a million tasks take 200 rounds, small enough for
#: any database's limit on bound parameters.
CHUNK = 5000

ModelVersions = str | Sequence[str] | None
"""Whose predictions an action takes: one model version, several, or None for every one."""


def delete_selected_predictions(
    session: Session, project: Project, query: TaskQuery, *, model_version: ModelVersions = None
) -> int:
    """Delete the predictions of the selected tasks (only those of ``model_version`` when
    given); returns how many went."""
    deleted = 0
    for chunk in _selected_chunks(session, project, query):
        # The ids are the project's, and naming the project would steer the planner to the
        # project index, which reads every prediction of the project for each chunk.
        deleted += delete_predictions(
            session,
            Prediction.task_id.in_(chunk),
            *_of_versions(Prediction.model_version, model_version),
        )
    return deleted


def predictions_to_annotations(
    session: Session,
    project: Project,
    query: TaskQuery,
    *,
    model_version: ModelVersions,
    user: User | None,
) -> int:
    """Turn predictions of the selected tasks into annotations; returns how many were made.

    Of each selected task, the newest prediction of each chosen model version (every version
    when ``model_version`` is None) becomes an annotation by ``user`` with its result and
    linked to it, unless an annotation already came from that prediction: running it again
    creates none, and a task with several versions gets one annotation per version. Tasks
    that already have annotations are not skipped.
    """
    now = utcnow()
    created = 0
    for chunk in _selected_chunks(session, project, query):
        chosen = _unconverted(model_version, chunk)
        # Counters first, while "not yet converted" still picks the same predictions; joined
        # (UPDATE ... FROM, SQLite 3.33+), since a correlated count re-ran the newest-per-task
        # subquery for every task.
        per_task = (
            select(Prediction.task_id, func.count(Prediction.id).label("added"))
            .where(chosen)
            .group_by(Prediction.task_id)
            .subquery()
        )
        counted = session.execute(
            update(Task)
            .where(Task.id == per_task.c.task_id)
            .values(total_annotations=Task.total_annotations + per_task.c.added, updated_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not counted:
            continue
        created += session.execute(
            insert(Annotation)
            .from_select(
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
                select(
                    Prediction.task_id,
                    literal(project.id),
                    Prediction.result,
                    literal(False),
                    literal(False),
                    literal(user.id if user is not None else None),
                    Prediction.id,
                    literal(now, Task.created_at.type),
                    literal(now, Task.created_at.type),
                ).where(chosen),
            )
            .execution_options(preserve_rowcount=True)  # else psycopg's is gone
        ).rowcount
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


def _unconverted(model_version: ModelVersions, tasks: Sequence[int]) -> ColumnElement[bool]:
    """Predictions of ``tasks`` to convert: each task's newest of each chosen model version,
    unless an annotation already came from it."""
    latest = aliased(Prediction)
    converted = aliased(Annotation)
    newest = (
        select(func.max(latest.id))
        .where(latest.task_id.in_(tasks), *_of_versions(latest.model_version, model_version))
        .group_by(latest.task_id, latest.model_version)
    )
    return and_(
        Prediction.id.in_(newest),
        ~exists().where(converted.parent_prediction_id == Prediction.id),
    )


def _of_versions(
    column: InstrumentedAttribute[str], model_version: ModelVersions
) -> list[ColumnElement[bool]]:
    """The condition that ``column`` is one of the chosen versions; none for every version."""
    if model_version is None:
        return []
    versions = [model_version] if isinstance(model_version, str) else list(model_version)
    return [column.in_(versions)]


def _selected_chunks(session: Session, project: Project, query: TaskQuery) -> list[list[int]]:
    """The selected task ids, read once before anything changes (the filters may read the
    counters an action updates), in chunks of ``CHUNK``; a compact array holds a million."""
    ids = array("q")
    rows = session.scalars(
        select(Task.id)
        .where(query.condition(session, project))
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
    ids = tuple(
        session.scalars(select(Task.id).where(query.condition(session, project)).order_by(Task.id))
    )
    if not ids:
        raise ValidationError("the selection holds no task")
    return start_run(
        session, runtime, version, Baseline("ids", ids=ids), options, created_by=created_by
    )


def version_to_run(
    session: Session, project: Project, prompt_version_id: int | None = None
) -> PromptVersion:
    """The prompt version "retrieve predictions" runs: the one given, else the one whose
    predictions the project shows (its ``model_version`` names ``"<prompt>__<version>"``)."""
    if prompt_version_id is not None:
        version = session.get(PromptVersion, prompt_version_id)
        if version is None:
            raise ValidationError(
                f"prompt_version: prompt version {prompt_version_id} does not exist"
            )
        return version
    version = prompt_version_named(session, project.id, project.model_version)
    if version is None:
        raise ValidationError(
            f"prompt_version: project {project.id}'s model_version {project.model_version!r} "
            "names no prompt version; pass the id of the one to run as prompt_version, or set "
            "the project's model_version to a prompt version's (\"<prompt>__<version>\")"
        )
    return version
