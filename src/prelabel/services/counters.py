"""The task counters the Data Manager shows on every row, changed one task at a time.

Set-based actions update many tasks' counters in their own statements; creating, editing or
deleting one prediction or annotation comes through here. Whichever way a counter changes,
the database's triggers carry the change into the project's ``TaskCounterHistogram``.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from prelabel.store import Task
from prelabel.store.types import utcnow


def adjust_task_counters(session: Session, task_id: int, **deltas: int) -> None:
    """Add ``deltas`` (``total_predictions=1``...) to one task's counters and touch its
    ``updated_at``, in the caller's transaction.

    The addition happens in SQL (``x = x + 1``), not on a value read earlier, so two requests
    changing the same task at once both count; a loaded ``Task`` is expired to re-read them.
    """
    values = {getattr(Task, name): getattr(Task, name) + delta for name, delta in deltas.items()}
    session.execute(
        update(Task)
        .where(Task.id == task_id)
        .values({**values, Task.updated_at: utcnow()})
        .execution_options(synchronize_session=False)
    )
    task = session.identity_map.get(session.identity_key(Task, task_id))
    if task is not None:
        session.expire(task, [*deltas, "updated_at"])
