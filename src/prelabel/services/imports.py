"""Importing tasks, with their annotations and predictions, into a project.

An import is all or nothing: it runs in the caller's transaction and any bad task raises
before the caller commits, so a failed import leaves the project exactly as it was. Tasks are
read, checked and written in batches with bulk statements, so memory stays flat however
large the file, and counters are written with the rows they count.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any, BinaryIO, TypeVar

import orjson
from sqlalchemy import select
from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session

from prelabel.errors import ImportFormatError
from prelabel.formats import ImportedTask, RawTask, parse_task, read_tasks
from prelabel.services.projects import project_config
from prelabel.services.users import create_user, find_user_by_email
from prelabel.store import Annotation, Prediction, Project, Task, User
from prelabel.store.bulk import insert_rows, insert_rows_returning_ids
from prelabel.store.types import utcnow

T = TypeVar("T")


@dataclass(frozen=True)
class ImportSummary:
    """What an import added, in Label Studio's response terms."""

    task_count: int
    annotation_count: int
    prediction_count: int
    task_ids: list[int] | None = None


def import_tasks(
    session: Session,
    project: Project,
    stream: BinaryIO,
    *,
    fmt: str,
    user: User | None = None,
    batch_size: int = 2000,
    return_task_ids: bool = False,
) -> ImportSummary:
    """Add the tasks of ``stream`` (format ``fmt``) to ``project`` on behalf of ``user``.

    Annotations without ``completed_by`` are attributed to ``user``. If the project has no
    ``model_version`` yet, it takes that of the last imported prediction, as in Label Studio.
    """
    config = project_config(project)
    annotators = _Annotators(session, default=user)
    task_ids: list[int] | None = [] if return_task_ids else None
    tasks = annotations = predictions = 0
    last_model_version: str | None = None
    for batch in _batched(read_tasks(stream, fmt), batch_size):
        parsed = [parse_task(raw.value, raw.where, config) for raw in batch]
        wheres = [raw.where for raw in batch]
        try:
            ids = _insert_tasks(session, project.id, parsed)
            annotations += _insert_annotations(session, project.id, ids, parsed, wheres, annotators)
            predictions += _insert_predictions(session, project.id, ids, parsed)
        except DataError as exc:
            raise ImportFormatError(_refusal(batch, exc)) from exc
        last_model_version = next(
            (t.predictions[-1].model_version for t in reversed(parsed) if t.predictions),
            last_model_version,
        )
        tasks += len(ids)
        if task_ids is not None:
            task_ids.extend(ids)
    if tasks == 0:
        raise ImportFormatError("the file holds no tasks")
    if not project.model_version and last_model_version is not None:
        project.model_version = last_model_version
    project.updated_at = utcnow()
    session.flush()
    return ImportSummary(tasks, annotations, predictions, task_ids)


def _insert_tasks(session: Session, project_id: int, tasks: list[ImportedTask]) -> list[int]:
    now = utcnow()
    rows = [
        {
            "project_id": project_id,
            "data": task.data,
            "meta": task.meta,
            "total_annotations": sum(not a.was_cancelled for a in task.annotations),
            "cancelled_annotations": sum(a.was_cancelled for a in task.annotations),
            "total_predictions": len(task.predictions),
            "created_at": now,
            "updated_at": now,
        }
        for task in tasks
    ]
    return insert_rows_returning_ids(session, Task.__table__, rows)


def _insert_annotations(
    session: Session,
    project_id: int,
    task_ids: list[int],
    tasks: list[ImportedTask],
    wheres: list[str],
    annotators: _Annotators,
) -> int:
    now = utcnow()
    rows: list[dict[str, Any]] = [
        {
            "task_id": task_id,
            "project_id": project_id,
            "result": annotation.result,
            "ground_truth": annotation.ground_truth,
            "was_cancelled": annotation.was_cancelled,
            "lead_time": annotation.lead_time,
            "completed_by_id": annotators.resolve(annotation.completed_by, f"{where}: annotations"),
            "import_id": annotation.import_id,
            "created_at": now,
            "updated_at": now,
        }
        for task_id, task, where in zip(task_ids, tasks, wheres, strict=True)
        for annotation in task.annotations
    ]
    insert_rows(session, Annotation.__table__, rows)
    return len(rows)


def _insert_predictions(
    session: Session, project_id: int, task_ids: list[int], tasks: list[ImportedTask]
) -> int:
    now = utcnow()
    rows: list[dict[str, Any]] = [
        {
            "task_id": task_id,
            "project_id": project_id,
            "result": prediction.result,
            "score": prediction.score,
            "model_version": prediction.model_version,
            "created_at": now,
            "updated_at": now,
        }
        for task_id, task in zip(task_ids, tasks, strict=True)
        for prediction in task.predictions
    ]
    insert_rows(session, Prediction.__table__, rows)
    return len(rows)


class _Annotators:
    """Resolves ``completed_by`` (user id or e-mail) to a user id, once per distinct value.

    An e-mail without an account becomes an inactive user, so the attribution survives an
    import from another Label Studio server; an unknown numeric id is an error, since it
    names an account that is not here.
    """

    def __init__(self, session: Session, default: User | None) -> None:
        self._session = session
        self._default = default.id if default else None
        self._known: dict[int | str, int] = {}

    def resolve(self, reference: int | str | None, where: str) -> int | None:
        if reference is None:
            return self._default
        if reference not in self._known:
            self._known[reference] = self._lookup(reference, where)
        return self._known[reference]

    def _lookup(self, reference: int | str, where: str) -> int:
        if isinstance(reference, int):
            user_id = self._session.scalar(select(User.id).where(User.id == reference))
            if user_id is None:
                raise ImportFormatError(
                    f"{where}: completed_by names user {reference}, who does "
                    'not exist here; use {"email": ...} instead'
                )
            return user_id
        user = find_user_by_email(self._session, reference)
        if user is None:
            user = create_user(self._session, email=reference, is_active=False)
        return user.id


def _refusal(batch: list[RawTask], error: DataError) -> str:
    """Name the task the database refused; PostgreSQL cannot store NUL characters in JSON."""
    for raw in batch:
        if b"\\u0000" in orjson.dumps(raw.value):
            return f"{raw.where}: contains a NUL character (\\u0000), which PostgreSQL cannot store"
    return f"{batch[0].where} to {batch[-1].where}: the database refused a task: {error.orig}"


def _batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch
