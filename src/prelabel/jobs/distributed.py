"""The distributed job backend: runs cut into chunk jobs on an RQ queue, executed by workers.

With ``PRELABEL_REDIS_URL`` set, the server only enqueues and reports: its
:class:`Dispatcher` cuts each waiting run into chunks (``services.run_dispatch``) and puts one
RQ job per chunk on the queue. ``prelabel worker`` processes, on any machine that reaches the
database and Redis, execute the jobs (:func:`execute_chunk_job`) under the run's rate and
concurrency limits counted in Redis.

Every worker runs a dispatcher too. The store, not RQ, says who executes what (each chunk
has a lease), so a dispatcher anywhere finds a chunk whose worker was killed and queues it
again, and the deployment keeps going with the server down. RQ's own record of a killed
worker's job (moved to its failed registry once the job's entry expires) is only a record.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import partial

from redis import Redis
from rq import Queue, SimpleWorker
from rq.registry import StartedJobRegistry

from prelabel.engine.worklist import worker_name
from prelabel.jobs.polling import PollingThread
from prelabel.jobs.shared_limits import redis_limits
from prelabel.services.run_dispatch import (
    ChunkJob,
    complete_finished_runs,
    dispatch_waiting_runs,
    recover_chunks,
)
from prelabel.services.run_execution import Runtime, execute_chunk
from prelabel.settings import Settings
from prelabel.store import Store

# Chunk jobs never time out in RQ: a worker that stalls or dies loses its chunk's lease
# instead, which the store can tell and RQ cannot.
_NO_TIMEOUT = -1
# How long RQ keeps a finished job's record, and a failed one's, in seconds.
_RESULT_TTL = 600
_FAILURE_TTL = 7 * 24 * 3600


class ChunkQueue:
    """The RQ queue the chunk jobs go to, on the Redis of ``settings``.

    A job's id names the queue, the chunk and the attempt: RQ keeps every queue's jobs under
    one key space, and deployments sharing a Redis (each with its queue and its database,
    whose chunk ids overlap) must never share a job."""

    def __init__(self, settings: Settings) -> None:
        if not settings.redis_url:
            raise ValueError("a chunk queue needs PRELABEL_REDIS_URL")
        self.redis = Redis.from_url(settings.redis_url)
        self.queue = Queue(settings.queue_name, connection=self.redis)
        self._prefix = f"prelabel-{settings.queue_name}-chunk-"

    def enqueue(self, jobs: list[ChunkJob]) -> None:
        for job in jobs:
            self.queue.enqueue(
                execute_chunk_job,
                job.chunk_id,
                job_id=f"{self._prefix}{job.chunk_id}-{job.attempt}",
                description=f"prelabel chunk {job.chunk_id} (attempt {job.attempt})",
                job_timeout=_NO_TIMEOUT,
                result_ttl=_RESULT_TTL,
                failure_ttl=_FAILURE_TTL,
            )

    def live_jobs(self) -> set[ChunkJob]:
        """The chunk jobs waiting on the queue or being executed."""
        started = StartedJobRegistry(queue=self.queue)
        ids = [*self.queue.get_job_ids(), *started.get_job_ids()]
        live = set()
        for job_id in ids:
            chunk, _, attempt = job_id.removeprefix(self._prefix).partition("-")
            if job_id.startswith(self._prefix) and chunk.isdigit() and attempt.isdigit():
                live.add(ChunkJob(int(chunk), int(attempt)))
        return live

    def close(self) -> None:
        self.redis.close()


class Dispatcher(PollingThread):
    """Hands waiting runs to the workers and keeps their chunks going, every ``poll_seconds``
    or when woken (a run was just created or resumed)."""

    def __init__(
        self, store: Store, queue: ChunkQueue, *, rows_per_chunk: int, poll_seconds: float = 2.0
    ) -> None:
        super().__init__(name="prelabel-dispatch", poll_seconds=poll_seconds)
        self._store = store
        self._queue = queue
        self._rows_per_chunk = rows_per_chunk

    def run_pass(self) -> None:
        """Dispatch waiting runs, queue again what was abandoned, end what ended."""
        self._queue.enqueue(dispatch_waiting_runs(self._store, rows_per_chunk=self._rows_per_chunk))
        self._queue.enqueue(recover_chunks(self._store, live_jobs=self._queue.live_jobs))
        complete_finished_runs(self._store)


@dataclass(frozen=True)
class _WorkerProcess:
    """What a worker process opens once and every chunk job uses."""

    settings: Settings
    store: Store
    runtime: Runtime


_process: _WorkerProcess | None = None
_process_lock = threading.Lock()


def _worker_process() -> _WorkerProcess:
    """This process's store and runtime: those ``run_worker`` opened, or, for a job executed
    by a plain ``rq worker``, those of the environment's settings."""
    global _process
    with _process_lock:
        if _process is None:
            settings = Settings()
            runtime = Runtime.from_settings(settings)
            _process = _WorkerProcess(settings, Store.open(settings), runtime)
        return _process


def execute_chunk_job(chunk_id: int) -> None:
    """The RQ job: execute one chunk of a dispatched run in this worker."""
    process = _worker_process()
    assert process.settings.redis_url is not None
    execute_chunk(
        process.store,
        process.runtime,
        chunk_id,
        worker=worker_name(),
        limits=partial(redis_limits, process.settings.redis_url, process.settings.queue_name),
    )


def run_worker(settings: Settings, *, burst: bool = False) -> None:
    """Execute chunk jobs from the queue until stopped (SIGINT or SIGTERM: the chunk in hand
    is finished first) or, with ``burst``, until the queue is empty.

    Jobs run in this process (RQ's ``SimpleWorker``) rather than in a fork per job, so the
    database connections and the provider's prices are opened once for all of them."""
    global _process
    store = Store.open(settings)
    queue = ChunkQueue(settings)
    with _process_lock:
        _process = _WorkerProcess(settings, store, Runtime.from_settings(settings))
    dispatcher = Dispatcher(store, queue, rows_per_chunk=settings.chunk_size)
    dispatcher.start()
    try:
        SimpleWorker([queue.queue], connection=queue.redis).work(burst=burst)
    finally:
        dispatcher.stop()
        queue.close()
        store.close()
        with _process_lock:
            _process = None
