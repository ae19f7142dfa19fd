"""A run's worklist in the store: who executes the run, and which of its tasks are left.

A run is executed by one worker at a time, which holds it by a lease: the run names the worker
and the worker renews ``heartbeat_at`` as it writes. A worker that finds the lease gone (the run
was cancelled, or taken over after the worker stalled past the lease) stops and writes nothing
more. A Running run whose heartbeat is older than the lease was interrupted — its process died —
and may be claimed again: that is how a run killed with ``kill -9`` resumes.
"""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from prelabel.store import Run, RunTask, Task
from prelabel.store.types import utcnow

#: How long a worker's heartbeat stays valid; workers renew it several times within it.
LEASE = timedelta(seconds=60)


@dataclass(frozen=True)
class PendingTask:
    """A task of the run still to be done, with the data its prompt is rendered from."""

    run_task_id: int
    task_id: int
    data: dict[str, Any]


def worker_name() -> str:
    """A name for this process as a run's executor: host, process id and a random suffix."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def worker_is_gone(name: str | None) -> bool:
    """Whether ``name`` is a process of this host that no longer exists.

    A run killed with ``kill -9`` can then be resumed at once on the same machine instead of
    after its lease runs out; a worker of another host is judged by its lease alone.
    """
    if name is None:
        return True
    host, _, rest = name.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def claim_run(session: Session, run_id: int, worker: str, *, replacing: str | None = None) -> bool:
    """Make ``worker`` the run's executor, if the run is Pending or its executor is gone:
    its lease lapsed, or it is ``replacing``, a worker known to be dead."""
    now = utcnow()
    gone = _lapsed(now) if replacing is None else or_(_lapsed(now), Run.worker == replacing)
    claimed = session.execute(
        update(Run)
        .where(
            Run.id == run_id,
            or_(Run.status == "Pending", and_(Run.status == "Running", gone)),
        )
        .values(
            status="Running",
            worker=worker,
            heartbeat_at=now,
            error=None,
            finished_at=None,
            started_at=func.coalesce(Run.started_at, now),
        )
        .execution_options(synchronize_session=False)
    )
    return claimed.rowcount == 1


def renew_lease(session: Session, run_id: int, worker: str) -> bool:
    """Renew the lease; False when ``worker`` no longer holds the run and must stop."""
    renewed = session.execute(
        update(Run)
        .where(Run.id == run_id, Run.worker == worker, Run.status == "Running")
        .values(heartbeat_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return renewed.rowcount == 1


def release_run(
    session: Session, run_id: int, worker: str, *, status: str, error: str | None
) -> None:
    """End ``worker``'s execution of the run with ``status``; a run it lost stays as it is."""
    session.execute(
        update(Run)
        .where(Run.id == run_id, Run.worker == worker, Run.status == "Running")
        .values(status=status, error=error, worker=None, finished_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def pending_tasks(
    session: Session, run_id: int, *, after: int, limit: int, upto: int | None = None
) -> list[PendingTask]:
    """The next ``limit`` pending tasks of the run past worklist row ``after`` (and up to row
    ``upto``, for a chunk), in order.

    Paging by row id rather than offset keeps each page an index range scan, so streaming a
    million-task run costs the same per page at the end as at the start.
    """
    query = (
        select(RunTask.id, RunTask.task_id, Task.data)
        .join(Task, Task.id == RunTask.task_id)
        .where(RunTask.run_id == run_id, RunTask.status == "pending", RunTask.id > after)
    )
    if upto is not None:
        query = query.where(RunTask.id <= upto)
    rows = session.execute(query.order_by(RunTask.id).limit(limit)).all()
    return [PendingTask(row_id, task_id, data) for row_id, task_id, data in rows]


class Lease(Protocol):
    """What an executor holds while it works: which worklist rows it executes, the right to
    write their outcomes (renewed with every write) and how its work ends."""

    run_id: int
    worker: str
    #: The rows executed: those past ``after`` and up to ``upto`` (``None``: to the end).
    after: int
    upto: int | None

    def renew(self, session: Session) -> bool:
        """Renew the lease; False when it is gone and the executor must stop writing."""

    def finish(self, session: Session, status: str | None, error: str | None) -> None:
        """End the work: ``status`` and ``error`` when it stopped early (budget, a fatal
        error), ``None`` when the rows ran out."""

    def interrupt(self, session: Session) -> None:
        """Give the work up unfinished (Ctrl-C, a worker shutting down)."""


@dataclass(frozen=True)
class RunLease:
    """A whole run executed by one worker: the in-process runner's and the CLI's lease."""

    run_id: int
    worker: str
    after: int = 0
    upto: int | None = None

    def renew(self, session: Session) -> bool:
        return renew_lease(session, self.run_id, self.worker)

    def finish(self, session: Session, status: str | None, error: str | None) -> None:
        if status is None and count_pending(session, self.run_id):
            status, error = "Failed", "tasks were left pending"
        release_run(session, self.run_id, self.worker, status=status or "Completed", error=error)

    def interrupt(self, session: Session) -> None:
        release_run(
            session,
            self.run_id,
            self.worker,
            status="Canceled",
            error="interrupted before it finished",
        )


def count_pending(session: Session, run_id: int) -> int:
    return (
        session.scalar(
            select(func.count(RunTask.id)).where(
                RunTask.run_id == run_id, RunTask.status == "pending"
            )
        )
        or 0
    )


def is_interrupted(run: Run, now: datetime | None = None) -> bool:
    """Whether a Running run's executor is gone: its process died, or its lease lapsed."""
    if run.status != "Running":
        return False
    if run.heartbeat_at is None or worker_is_gone(run.worker):
        return True
    return run.heartbeat_at < (now or utcnow()) - LEASE


def _lapsed(now: datetime) -> Any:
    return or_(Run.heartbeat_at.is_(None), Run.heartbeat_at < now - LEASE)


def executable_runs(session: Session, *, limit: int, skip: set[int]) -> list[int]:
    """Runs waiting for an executor, oldest first: Pending ones, and Running ones whose
    executor is gone (so a server restarted after a crash picks its runs up again)."""
    candidates = session.scalars(
        select(Run)
        .where(Run.status.in_(("Pending", "Running")), Run.id.not_in(skip))
        .order_by(Run.id)
    )
    return [run.id for run in candidates if run.status == "Pending" or is_interrupted(run)][:limit]


def requeue_runs(session: Session, workers: list[str]) -> int:
    """Hand the runs of ``workers`` back as Pending, for a clean shutdown: their executors
    lose the lease and stop, and the next executor resumes the runs where they stopped."""
    if not workers:
        return 0
    return session.execute(
        update(Run)
        .where(Run.worker.in_(workers), Run.status == "Running")
        .values(status="Pending", worker=None, heartbeat_at=None)
        .execution_options(synchronize_session=False)
    ).rowcount
