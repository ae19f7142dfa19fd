"""Handing runs to distributed workers and keeping them going: the operations a dispatcher
repeats (``prelabel.jobs.distributed``), on any process — the server, or any worker.

Each operation changes the store only by conditional updates that name the state they saw,
so any number of dispatchers may run at once: two that find the same waiting run or the same
abandoned chunk act on it once. What they return is the chunks to put on the queue, after
their transaction has committed (a worker must find the chunk it is handed).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from prelabel.engine.chunks import (
    abandoned_chunks,
    complete_run,
    dispatch_run,
    queued_chunks,
    requeue_chunk,
    runs_to_complete,
)
from prelabel.engine.worklist import LEASE
from prelabel.services.evaluations import evaluate_run
from prelabel.store import Run, RunChunk, Store
from prelabel.store.types import utcnow

# Queued chunks looked at per pass for a job that was lost (Redis restarted, say).
_LOST_JOBS_PER_PASS = 1000


@dataclass(frozen=True)
class ChunkJob:
    """A chunk to put on the queue: one job per attempt, so a retried chunk has a new job."""

    chunk_id: int
    attempt: int

    @classmethod
    def of(cls, chunk: RunChunk) -> ChunkJob:
        return cls(chunk.id, chunk.attempt)


def dispatch_waiting_runs(store: Store, *, rows_per_chunk: int) -> list[ChunkJob]:
    """Cut every Pending run into chunks, one run per transaction; the chunks to enqueue."""
    with store.session() as session:
        waiting = list(
            session.scalars(select(Run.id).where(Run.status == "Pending").order_by(Run.id))
        )
    jobs: list[ChunkJob] = []
    for run_id in waiting:
        with store.session() as session:
            chunks = dispatch_run(session, run_id, rows_per_chunk=rows_per_chunk)
            jobs.extend(ChunkJob.of(chunk) for chunk in chunks)
            if not chunks:
                evaluate_if_ended(session, run_id)
    return jobs


def recover_chunks(store: Store, *, live_jobs: Callable[[], set[ChunkJob]]) -> list[ChunkJob]:
    """Chunks to enqueue again: those whose worker died, and queued ones whose job is gone.

    A job is looked for only once its chunk has waited longer than a lease, so a job being
    handed to a worker is not taken for lost; one enqueued twice does no harm either, since
    only one worker can claim the chunk."""
    jobs: list[ChunkJob] = []
    with store.session() as session:
        for chunk in abandoned_chunks(session):
            if requeue_chunk(session, chunk):
                jobs.append(ChunkJob(chunk.id, chunk.attempt + 1))
    with store.session() as session:
        waiting = queued_chunks(session, before=utcnow() - LEASE, limit=_LOST_JOBS_PER_PASS)
        stale = [ChunkJob.of(chunk) for chunk in waiting]
    if stale:
        live = live_jobs()
        jobs.extend(job for job in stale if job not in live)
    return jobs


def complete_finished_runs(store: Store) -> None:
    """End the dispatched runs whose chunks are all done but which were never ended (their
    last worker died in between), and evaluate them."""
    with store.session() as session:
        finished = runs_to_complete(session)
    for run_id in finished:
        with store.session() as session:
            if complete_run(session, run_id):
                evaluate_if_ended(session, run_id)


def evaluate_if_ended(session: Session, run_id: int) -> None:
    """Evaluate a run that has ended and has no evaluation yet."""
    run = session.get(Run, run_id)
    if run is not None and run.status not in ("Pending", "Running") and run.evaluation is None:
        evaluate_run(session, run)
