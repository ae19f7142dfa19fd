"""Reading a project's tasks page by page."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from prelabel.errors import NotFoundError, ValidationError
from prelabel.services.serialization import annotation_payload, prediction_payload, task_payload
from prelabel.store import Annotation, Prediction, Project, Task

MAX_PAGE_SIZE = 1000


@dataclass(frozen=True)
class TaskPage:
    """One page of tasks and the totals over every page, as Label Studio's task list gives."""

    total: int
    total_annotations: int
    total_predictions: int
    tasks: list[dict[str, Any]]


def list_tasks(
    session: Session, project: Project, *, page: int = 1, page_size: int = 100
) -> TaskPage:
    """Tasks in id order; a page past the last one is NotFound, never the last page again."""
    if page < 1:
        raise ValidationError(f"page: must be 1 or more, got {page}")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValidationError(f"page_size: must be between 1 and {MAX_PAGE_SIZE}, got {page_size}")
    total, annotations, predictions = session.execute(
        select(
            func.count(Task.id),
            func.coalesce(func.sum(Task.total_annotations), 0),
            func.coalesce(func.sum(Task.total_predictions), 0),
        ).where(Task.project_id == project.id)
    ).one()
    if page > 1 and (page - 1) * page_size >= total:
        raise NotFoundError(f"page {page} is past the last page of {total} tasks")
    tasks = session.execute(
        select(Task.__table__)
        .where(Task.project_id == project.id)
        .order_by(Task.id)
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    payloads = task_payloads(session, tasks)
    return TaskPage(total, annotations, predictions, payloads)


def task_payloads(session: Session, tasks: Sequence[Any]) -> list[dict[str, Any]]:
    """Label Studio JSON of ``tasks`` (rows of the tasks table) with their annotations and
    predictions, loaded with one query each.

    The query asks for the tasks' id range and nothing else, which both backends answer by
    walking the ``task_id`` index even before they have statistics on freshly imported rows:
    a project filter lured SQLite into reading every prediction of the project per batch, and
    an IN list of ids led PostgreSQL to scan the whole table. Rows of other projects' tasks
    inside the range are never looked up.
    """
    ids = [task.id for task in tasks]
    annotations = _rows_by_task(session, Annotation, ids)
    predictions = _rows_by_task(session, Prediction, ids)
    return [
        task_payload(
            task,
            annotations=[annotation_payload(a) for a in annotations.get(task.id, ())],
            predictions=[prediction_payload(p) for p in predictions.get(task.id, ())],
        )
        for task in tasks
    ]


def _rows_by_task(
    session: Session, model: type[Annotation] | type[Prediction], task_ids: list[int]
) -> dict[int, list[Any]]:
    """Plain rows (not ORM objects, which the session would keep) grouped by task id."""
    grouped: dict[int, list[Any]] = {}
    if task_ids:
        rows = session.execute(
            select(model.__table__)
            .where(model.task_id.between(min(task_ids), max(task_ids)))
            .order_by(model.id)
        )
        for row in rows:
            grouped.setdefault(row.task_id, []).append(row)
    return grouped
