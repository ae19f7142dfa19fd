"""Reading a project's tasks page by page: the Data Manager's task list.

Pages are filtered, selected and ordered by a ``TaskQuery`` (the Data Manager's query
language, ``store.task_filters``) and carry the computed columns the Data Manager shows: the
prediction score (mean over the task's predictions, or over one model version's), the model
versions of its predictions, whether it has ground truth, and each model version's agreement
with that ground truth.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from prelabel.errors import NotFoundError, ValidationError
from prelabel.evaluation import agreement
from prelabel.services.ground_truth import ground_truth
from prelabel.services.projects import project_config
from prelabel.services.serialization import annotation_payload, prediction_payload, task_payload
from prelabel.store import Annotation, Prediction, Project, Task
from prelabel.store.counter_histogram import counter_totals
from prelabel.store.task_filters import (
    Filters,
    Selection,
    agreement_version,
    order_by,
    task_condition,
)

MAX_PAGE_SIZE = 1000
AGREEMENT_CHUNK = 1000


@dataclass(frozen=True)
class TaskQuery:
    """Which tasks, in which order: filters, then a selection; ``score_version`` makes
    ``predictions_score`` the mean of that model version's scores only."""

    filters: Filters = Filters()
    selection: Selection = Selection()
    ordering: str | None = None
    score_version: str | None = None

    def condition(self, session: Session, project: Project) -> ColumnElement[bool]:
        """The WHERE clause; agreement filters are worked out here, from the ground truth."""
        versions = {
            version
            for item in self.filters.items
            if (version := agreement_version(item.column)) is not None
        }
        return task_condition(
            project.id,
            self.filters,
            self.selection,
            score_version=self.score_version,
            agreements={
                version: task_agreements(session, project, version) for version in versions
            },
        )


def score_version(project: Project) -> str | None:
    """The model version whose predictions ``predictions_score`` averages: the project's,
    or every version when it has none.

    Label Studio filters on ``model_version == ""`` for a project whose version is the empty
    string, which leaves every task without a score; "" means "none chosen" here, as NULL
    does there.
    """
    return project.model_version or None


def task_agreements(session: Session, project: Project, model_version: str) -> dict[int, float]:
    """Each task's agreement between its ground truth and its (newest) prediction of
    ``model_version``, for the tasks that have both and whose truth answers some control.

    Read in chunks of ground-truth tasks: a project's ground truth is what people labeled,
    so this is thousands of comparisons, not millions.
    """
    config = project_config(project)
    agreements: dict[int, float] = {}
    truths = ground_truth(session, project.id)
    while chunk := list(islice(truths, AGREEMENT_CHUNK)):
        predicted: dict[int, list[dict[str, Any]]] = dict(
            session.execute(
                select(Prediction.task_id, Prediction.result)
                .where(
                    Prediction.task_id.in_([task_id for task_id, _, _ in chunk]),
                    Prediction.model_version == model_version,
                )
                .order_by(Prediction.id)
            ).all()
        )
        for task_id, _data, truth in chunk:
            if task_id in predicted:
                value = agreement(config, truth, predicted[task_id])
                if value is not None:
                    agreements[task_id] = value
    return agreements


@dataclass(frozen=True)
class TaskPage:
    """One page of tasks and the totals over every page, as Label Studio's task list gives."""

    total: int
    total_annotations: int
    total_predictions: int
    tasks: list[dict[str, Any]]


def list_tasks(
    session: Session,
    project: Project,
    *,
    page: int = 1,
    page_size: int = 100,
    query: TaskQuery = TaskQuery(),
) -> TaskPage:
    """One page of the tasks ``query`` picks, with their computed columns; a page past the
    last one is NotFound, never the last page again (clients page until they get one)."""
    if page < 1:
        raise ValidationError(f"page: must be 1 or more, got {page}")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValidationError(f"page_size: must be between 1 and {MAX_PAGE_SIZE}, got {page_size}")
    condition = query.condition(session, project)
    total, annotations, predictions = _totals(session, project, query, condition)
    if page > 1 and (page - 1) * page_size >= total:
        raise NotFoundError(f"page {page} is past the last page of {total} tasks")
    ordering = (
        order_by(query.ordering, score_version=query.score_version) if query.ordering else [Task.id]
    )
    tasks = session.execute(
        select(Task.__table__)
        .where(condition)
        .order_by(*ordering)
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    payloads = task_payloads(session, tasks)
    _add_computed_columns(project, payloads, query.score_version)
    return TaskPage(total, annotations, predictions, payloads)


def adjacent_tasks(
    session: Session, project: Project, task_id: int, query: TaskQuery = TaskQuery()
) -> tuple[int | None, int | None]:
    """The ids of the tasks before and after ``task_id`` among those ``query`` picks, in its
    order (None at either end): the previous and next buttons of a task opened from a view.

    In id order, two index lookups. In another order, the neighbours are read with a window
    over the tasks the filters keep, which costs what sorting that view costs. A task the
    filters no longer keep (its counters changed, say) has its neighbours in id order.
    """
    condition = query.condition(session, project)
    if query.ordering:
        ordering = order_by(query.ordering, score_version=query.score_version)
        window = (
            select(
                Task.id.label("id"),
                func.lag(Task.id).over(order_by=ordering).label("previous"),
                func.lead(Task.id).over(order_by=ordering).label("next"),
            )
            .where(condition)
            .subquery()
        )
        row = session.execute(
            select(window.c.previous, window.c.next).where(window.c.id == task_id)
        ).one_or_none()
        if row is not None:
            return row.previous, row.next
    previous = session.scalar(select(func.max(Task.id)).where(condition, Task.id < task_id))
    following = session.scalar(select(func.min(Task.id)).where(condition, Task.id > task_id))
    return previous, following


def _totals(
    session: Session, project: Project, query: TaskQuery, condition: ColumnElement[bool]
) -> tuple[int, int, int]:
    """How many tasks ``query`` picks and their annotations and predictions: from the
    project's counter histogram when every filter is on a counter and the selection is
    every task, else counted over the tasks."""
    if query.selection == Selection():
        counted = counter_totals(session, project.id, query.filters)
        if counted is not None:
            return counted.tasks, counted.total_annotations, counted.total_predictions
    total, annotations, predictions = session.execute(
        select(
            func.count(Task.id),
            func.coalesce(func.sum(Task.total_annotations), 0),
            func.coalesce(func.sum(Task.total_predictions), 0),
        ).where(condition)
    ).one()
    return total, annotations, predictions


def _add_computed_columns(
    project: Project, payloads: list[dict[str, Any]], score_version: str | None
) -> None:
    """The Data Manager's computed columns, from the annotations and predictions at hand."""
    config = project_config(project)
    for task in payloads:
        predictions = task["predictions"]
        scored = [
            p["score"]
            for p in predictions
            if p["score"] is not None
            and (score_version is None or p["model_version"] == score_version)
        ]
        truths = [a for a in task["annotations"] if a["ground_truth"] and not a["was_cancelled"]]
        truth = max(truths, key=lambda a: a["id"]) if truths else None
        task["predictions_score"] = sum(scored) / len(scored) if scored else None
        versions = list(dict.fromkeys(p["model_version"] for p in predictions))
        task["predictions_model_versions"] = ",".join(versions)
        task["has_ground_truth"] = truth is not None
        task["agreement"] = (
            {
                p["model_version"]: agreement(config, truth["result"], p["result"])
                for p in predictions
            }
            if truth is not None
            else {}
        )


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
