"""Predictions: removing them while keeping every task's ``total_predictions`` exact."""

from __future__ import annotations

from sqlalchemy import ColumnElement, bindparam, delete, func, select, update
from sqlalchemy.orm import Session

from prelabel.store import Prediction, Task

_tasks = Task.__table__
_decrement = (
    update(_tasks)
    .where(_tasks.c.id == bindparam("task"))
    .values(total_predictions=_tasks.c.total_predictions - bindparam("removed"))
)


def delete_predictions(session: Session, *where: ColumnElement[bool]) -> int:
    """Delete the predictions matching ``where``; returns how many went.

    Each affected task's counter drops by its own number of deleted predictions in the same
    transaction, so the Data Manager never shows a stale count (Label Studio's can be).
    """
    per_task = session.execute(
        select(Prediction.task_id, func.count(Prediction.id))
        .where(*where)
        .group_by(Prediction.task_id)
    ).all()
    if not per_task:
        return 0
    session.execute(
        delete(Prediction).where(*where), execution_options={"synchronize_session": False}
    )
    session.execute(_decrement, [{"task": task, "removed": count} for task, count in per_task])
    return sum(count for _, count in per_task)
