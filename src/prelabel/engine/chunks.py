"""A run split into chunks that distributed workers execute side by side, each by a lease.

Dispatching a run claims it for the distributed workers (``Run.worker`` is :data:`DISPATCHED`)
and cuts the rows of its worklist still pending into chunks of consecutive rows. A worker
claims a chunk like the in-process executor claims a run: the chunk names the worker, which
renews ``heartbeat_at`` in the transaction of every write, and stops writing the moment the
chunk or the run is no longer its own. A chunk whose worker died (its process is gone, or its
lease lapsed) goes back to ``queued`` and is executed again by another worker, which finds
only the rows still pending: no task is done twice, none is lost.

The run ends when its last chunk does: Completed when no row is left pending. A chunk that
stops the whole run (the budget, a refused key) ends the run itself; a run cancelled by a user
makes every worker lose its lease at its next write.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, delete, exists, func, or_, select, update
from sqlalchemy.orm import Session

from prelabel.engine.worklist import LEASE, count_pending, worker_is_gone
from prelabel.store import Run, RunChunk, RunTask
from prelabel.store.types import utcnow

#: ``Run.worker`` of a run whose chunks the distributed workers execute.
DISPATCHED = "distributed"


@dataclass(frozen=True)
class ChunkLease:
    """A chunk of a run, held by one worker: rows ``after + 1`` to ``upto`` of its worklist."""

    chunk_id: int
    run_id: int
    worker: str
    after: int
    upto: int | None

    def renew(self, session: Session) -> bool:
        now = utcnow()
        renewed = session.execute(
            update(RunChunk)
            .where(
                RunChunk.id == self.chunk_id,
                RunChunk.worker == self.worker,
                RunChunk.status == "running",
                _run_is_dispatched(self.run_id),
            )
            .values(heartbeat_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if renewed:
            # The run's heartbeat says some worker is alive, as for an in-process run.
            session.execute(
                update(Run)
                .where(Run.id == self.run_id, Run.heartbeat_at < now - LEASE / 4)
                .values(heartbeat_at=now)
                .execution_options(synchronize_session=False)
            )
        return renewed == 1

    def finish(self, session: Session, status: str | None, error: str | None) -> None:
        """The chunk is done; a ``status`` (the budget, a fatal error) ends the whole run.

        The run is completed separately, once this chunk's end is committed, so that of two
        workers ending the last two chunks at once at least one sees both ended."""
        session.execute(
            update(RunChunk)
            .where(RunChunk.id == self.chunk_id, RunChunk.worker == self.worker)
            .values(status="done", worker=None)
            .execution_options(synchronize_session=False)
        )
        if status is not None:
            end_run(session, self.run_id, status=status, error=error)

    def interrupt(self, session: Session) -> None:
        """Hand the chunk back (its worker is shutting down): it is queued again."""
        session.execute(
            update(RunChunk)
            .where(RunChunk.id == self.chunk_id, RunChunk.worker == self.worker)
            .values(
                status="queued",
                worker=None,
                attempt=RunChunk.attempt + 1,
                queued_at=utcnow(),
            )
            .execution_options(synchronize_session=False)
        )


def dispatch_run(session: Session, run_id: int, *, rows_per_chunk: int) -> list[RunChunk]:
    """Claim a Pending run for the distributed workers and cut its pending rows into chunks;
    ``[]`` when another dispatcher claimed it first (or nothing is pending: it completes).

    Chunks of an earlier dispatch (before the run was cancelled and resumed) are dropped:
    their workers lose their leases, and the new chunks cover every row still pending.
    """
    now = utcnow()
    claimed = session.execute(
        update(Run)
        .where(Run.id == run_id, Run.status == "Pending")
        .values(
            status="Running",
            worker=DISPATCHED,
            heartbeat_at=now,
            error=None,
            finished_at=None,
            started_at=func.coalesce(Run.started_at, now),
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        return []
    session.execute(delete(RunChunk).where(RunChunk.run_id == run_id))
    chunks = [
        RunChunk(run_id=run_id, first_row=first, last_row=last, queued_at=now)
        for first, last in _row_ranges(session, run_id, rows_per_chunk)
    ]
    session.add_all(chunks)
    session.flush()
    if not chunks:
        complete_run(session, run_id)
    return chunks


def _row_ranges(session: Session, run_id: int, size: int) -> list[tuple[int, int]]:
    """The first and last row of each run of ``size`` consecutive pending rows.

    Only every ``size``-th row id is read (a window function numbers them), so cutting a
    million-row worklist reads a few thousand ids, not a million."""
    pending = (
        select(
            RunTask.id.label("row"),
            func.row_number().over(order_by=RunTask.id).label("number"),
        )
        .where(RunTask.run_id == run_id, RunTask.status == "pending")
        .subquery()
    )
    starts = list(
        session.scalars(
            select(pending.c.row).where((pending.c.number - 1) % size == 0).order_by(pending.c.row)
        )
    )
    if not starts:
        return []
    last = session.scalar(
        select(func.max(RunTask.id)).where(RunTask.run_id == run_id, RunTask.status == "pending")
    )
    assert last is not None
    ends = [start - 1 for start in starts[1:]] + [last]
    return list(zip(starts, ends, strict=True))


def claimable_chunk_run(session: Session, chunk_id: int) -> int | None:
    """The run of a chunk that waits for a worker, or ``None``: the chunk is gone, held,
    ended, or its run no longer runs (a job left on the queue after a cancel, say)."""
    return session.scalar(
        select(RunChunk.run_id).where(
            RunChunk.id == chunk_id,
            RunChunk.status == "queued",
            _run_is_dispatched(RunChunk.run_id),
        )
    )


def claim_chunk(session: Session, chunk_id: int, worker: str) -> ChunkLease | None:
    """Make ``worker`` the chunk's executor; ``None`` when the chunk is gone (the run was
    dispatched again), ended, held by a live worker, or its run no longer runs."""
    now = utcnow()
    claimed = session.execute(
        update(RunChunk)
        .where(
            RunChunk.id == chunk_id,
            RunChunk.status == "queued",
            _run_is_dispatched(RunChunk.run_id),
        )
        .values(status="running", worker=worker, heartbeat_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        return None
    chunk = session.get(RunChunk, chunk_id)
    assert chunk is not None
    return ChunkLease(
        chunk.id, chunk.run_id, worker, after=chunk.first_row - 1, upto=chunk.last_row
    )


def abandoned_chunks(session: Session, now: datetime | None = None) -> list[RunChunk]:
    """Running chunks of running runs whose worker is gone: dead, or silent past the lease."""
    now = now or utcnow()
    running = session.scalars(
        select(RunChunk)
        .join(Run, Run.id == RunChunk.run_id)
        .where(RunChunk.status == "running", Run.status == "Running")
        .order_by(RunChunk.id)
    )
    return [
        chunk
        for chunk in running
        if worker_is_gone(chunk.worker)
        or chunk.heartbeat_at is None
        or chunk.heartbeat_at < now - LEASE
    ]


def requeue_chunk(session: Session, chunk: RunChunk) -> bool:
    """Queue an abandoned chunk again under a new attempt, unless its worker renewed it or
    someone else requeued it meanwhile (the update names the state it was seen in)."""
    return (
        session.execute(
            update(RunChunk)
            .where(
                RunChunk.id == chunk.id,
                RunChunk.status == "running",
                RunChunk.attempt == chunk.attempt,
                or_(
                    RunChunk.heartbeat_at.is_(None),
                    RunChunk.heartbeat_at == chunk.heartbeat_at,
                ),
            )
            .values(status="queued", worker=None, attempt=chunk.attempt + 1, queued_at=utcnow())
            .execution_options(synchronize_session=False)
        ).rowcount
        == 1
    )


def queued_chunks(session: Session, *, before: datetime, limit: int) -> list[RunChunk]:
    """Chunks of running runs that have waited for a worker since before ``before``."""
    return list(
        session.scalars(
            select(RunChunk)
            .join(Run, Run.id == RunChunk.run_id)
            .where(
                RunChunk.status == "queued",
                RunChunk.queued_at < before,
                Run.status == "Running",
            )
            .order_by(RunChunk.id)
            .limit(limit)
        )
    )


def runs_to_complete(session: Session) -> list[int]:
    """Dispatched runs still Running with every chunk done: their last worker died between
    ending its chunk and completing the run."""
    return list(
        session.scalars(
            select(Run.id).where(
                Run.status == "Running",
                Run.worker == DISPATCHED,
                ~exists().where(RunChunk.run_id == Run.id, RunChunk.status != "done"),
            )
        )
    )


def complete_run(session: Session, run_id: int) -> bool:
    """End a dispatched run whose chunks are all done: Completed, or Failed when rows were
    left pending. True when this call ended it (so its caller evaluates it)."""
    if session.scalar(
        select(func.count(RunChunk.id)).where(RunChunk.run_id == run_id, RunChunk.status != "done")
    ):
        return False
    if count_pending(session, run_id):
        return end_run(session, run_id, status="Failed", error="tasks were left pending")
    return end_run(session, run_id, status="Completed", error=None)


def end_run(session: Session, run_id: int, *, status: str, error: str | None) -> bool:
    """End a dispatched run with ``status``, if it still runs; True when this call ended it."""
    return (
        session.execute(
            update(Run)
            .where(Run.id == run_id, Run.status == "Running", Run.worker == DISPATCHED)
            .values(status=status, error=error, worker=None, finished_at=utcnow())
            .execution_options(synchronize_session=False)
        ).rowcount
        == 1
    )


def _run_is_dispatched(run_id: object) -> object:
    """The condition that the run still runs under the distributed workers."""
    return exists().where(and_(Run.id == run_id, Run.status == "Running", Run.worker == DISPATCHED))
