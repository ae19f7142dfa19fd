"""The reference answers of a project: each task's newest ground-truth annotation.

A task may carry several ground-truth annotations; the newest one that was not cancelled is the
reference, for evaluation and for the local provider's few-shot examples alike.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from prelabel.store import Annotation, Task


def ground_truth(
    session: Session, project_id: int
) -> Iterator[tuple[int, dict[str, Any], list[dict[str, Any]]]]:
    """``(task id, task data, result)`` of every task with ground truth, in task order."""
    newest = (
        select(func.max(Annotation.id).label("id"))
        .where(
            Annotation.project_id == project_id,
            Annotation.ground_truth.is_(True),
            Annotation.was_cancelled.is_(False),
        )
        .group_by(Annotation.task_id)
        .subquery()
    )
    rows = session.execute(
        select(Task.id, Task.data, Annotation.result)
        .join(Annotation, Annotation.task_id == Task.id)
        .where(Annotation.id.in_(select(newest.c.id)))
        .order_by(Task.id)
        .execution_options(yield_per=1000)
    )
    # Rows unpack like the tuples they stand for.
    yield from rows
