"""Predictions: their model versions, and removing them while keeping every task's
``total_predictions`` exact."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.orm import Session

from prelabel.errors import NotFoundError
from prelabel.store import Prediction, Project, Task


def delete_predictions(session: Session, *where: ColumnElement[bool]) -> int:
    """Delete the predictions matching ``where``; returns how many went.

    Each affected task's counter drops by its own number of deleted predictions in the same
    transaction, so the Data Manager never shows a stale count (Label Studio's can be). Both
    steps are single set-based statements: a million deletions hold no list in memory.
    """
    removed = (
        select(func.count(Prediction.id))
        .where(Prediction.task_id == Task.id, *where)
        .scalar_subquery()
    )
    session.execute(
        update(Task)
        .where(Task.id.in_(select(Prediction.task_id).where(*where)))
        .values(total_predictions=Task.total_predictions - removed)
        .execution_options(synchronize_session=False)
    )
    deleted = session.execute(
        delete(Prediction).where(*where), execution_options={"synchronize_session": False}
    )
    return deleted.rowcount


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
