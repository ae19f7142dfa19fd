"""What must hold after any change to annotations or predictions, checked against the rows."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from prelabel.store import Annotation, Prediction, Store, Task
from prelabel.store.models import TaskCounterHistogram


def assert_counters_exact(session: Session) -> None:
    """Every task's counters equal what they count, in every project."""
    session.flush()
    predictions = dict(
        session.execute(select(Prediction.task_id, func.count()).group_by(Prediction.task_id)).all()
    )
    annotations: dict[tuple[int, bool], int] = {
        (task, bool(cancelled)): count
        for task, cancelled, count in session.execute(
            select(Annotation.task_id, Annotation.was_cancelled, func.count()).group_by(
                Annotation.task_id, Annotation.was_cancelled
            )
        ).all()
    }
    stored = session.execute(
        select(
            Task.id, Task.total_predictions, Task.total_annotations, Task.cancelled_annotations
        ).order_by(Task.id)
    ).all()
    assert stored, "no task to check"
    counted = [
        (
            task,
            predictions.get(task, 0),
            annotations.get((task, False), 0),
            annotations.get((task, True), 0),
        )
        for task, *_ in stored
    ]
    assert [tuple(row) for row in stored] == counted
    assert_histogram_exact(session)


def assert_histogram_exact(session: Session) -> None:
    """Every project's counter histogram says how many of its tasks hold each combination
    of counters, as a fresh count of the tasks does (rows summing to zero are absent)."""
    session.flush()
    histogram = TaskCounterHistogram
    combination = (
        histogram.project_id,
        histogram.total_annotations,
        histogram.cancelled_annotations,
        histogram.total_predictions,
    )
    summed = {
        tuple(key): int(tasks)
        for *key, tasks in session.execute(
            select(*combination, func.sum(histogram.tasks)).group_by(*combination)
        ).all()
        if tasks != 0
    }
    counters = (
        Task.project_id,
        Task.total_annotations,
        Task.cancelled_annotations,
        Task.total_predictions,
    )
    counted = {
        tuple(key): tasks
        for *key, tasks in session.execute(
            select(*counters, func.count(Task.id)).group_by(*counters)
        ).all()
    }
    assert summed == counted


def assert_stored_counters_exact(store: Store) -> None:
    """``assert_counters_exact`` on what is committed, for tests that act through the API."""
    with store.session() as session:
        assert_counters_exact(session)
