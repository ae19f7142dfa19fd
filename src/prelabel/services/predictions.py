"""Predictions: their model versions, and removing them while keeping every task's
``total_predictions`` exact."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, bindparam, delete, func, select, update
from sqlalchemy.orm import Session

from prelabel.errors import NotFoundError
from prelabel.store import Prediction, Project, Task

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


def list_model_versions(session: Session, project: Project) -> list[dict[str, Any]]:
    """Each model version of the project's predictions with its count and newest creation
    time, newest first; ``prompt_version`` is the version that makes it, if any."""
    rows = session.execute(
        select(
            Prediction.model_version,
            func.count(Prediction.id),
            func.max(Prediction.created_at),
            func.max(Prediction.prompt_version_id),
        )
        .where(Prediction.project_id == project.id)
        .group_by(Prediction.model_version)
        .order_by(func.max(Prediction.created_at).desc(), Prediction.model_version)
    ).all()
    return [
        {"model_version": version, "count": count, "latest": latest, "prompt_version": prompt}
        for version, count, latest, prompt in rows
    ]


def delete_model_version(session: Session, project: Project, model_version: str) -> int:
    """Delete every prediction of one model version in the project; returns how many."""
    deleted = delete_predictions(
        session, Prediction.project_id == project.id, Prediction.model_version == model_version
    )
    if not deleted:
        raise NotFoundError(f"project {project.id} has no prediction of version {model_version!r}")
    if project.model_version == model_version:
        project.model_version = None
    return deleted
