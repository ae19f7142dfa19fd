"""The in-process job backend: the server executes runs in its own threads.

The runner asks the store which runs wait for an executor (``executable_runs``) rather than
being handed them, so a run created by any process, a run left Running by a crash, and a
run that waited for a free slot are all picked up the same way. ``wake`` makes it look at
once instead of at its next poll.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from prelabel.engine.worklist import executable_runs, requeue_runs, worker_name
from prelabel.errors import ConflictError, PrelabelError
from prelabel.jobs.polling import PollingThread
from prelabel.services.run_execution import Runtime, execute_run
from prelabel.store import Store

log = logging.getLogger(__name__)


class InProcessRunner(PollingThread):
    """Executes up to ``slots`` runs at once, each in its own thread and event loop."""

    def __init__(
        self, store: Store, runtime: Runtime, *, slots: int = 2, poll_seconds: float = 2.0
    ) -> None:
        super().__init__(name="prelabel-runner", poll_seconds=poll_seconds)
        self._store = store
        self._runtime = runtime
        self._slots = slots
        self._pool = ThreadPoolExecutor(max_workers=slots, thread_name_prefix="prelabel-run")
        self._active: dict[int, str] = {}  # run id -> worker name in its lease
        self._lock = threading.Lock()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop executing: the runs in progress go back to Pending, to resume at next start.

        Their executors lose the lease and stop at their next write; answers they had not
        written yet are asked for again on resume.
        """
        super().stop(timeout)
        with self._lock:
            workers = list(self._active.values())
        if workers:
            with self._store.session() as session:
                requeue_runs(session, workers)
        self._pool.shutdown(wait=True, cancel_futures=True)

    def run_pass(self) -> None:
        """Start the runs waiting for an executor, as many as there are free slots."""
        with self._lock:
            free = self._slots - len(self._active)
            busy = set(self._active)
        if free <= 0:
            return
        with self._store.session() as session:
            run_ids = executable_runs(session, limit=free, skip=busy)
        for run_id in run_ids:
            worker = worker_name()
            with self._lock:
                self._active[run_id] = worker
            future = self._pool.submit(self._execute, run_id, worker)
            future.add_done_callback(lambda _f, run_id=run_id: self._done(run_id))

    def _execute(self, run_id: int, worker: str) -> None:
        try:
            execute_run(self._store, self._runtime, run_id, worker=worker)
        except ConflictError as exc:  # taken by another executor meanwhile, say
            log.info("run %s not executed here: %s", run_id, exc.message)
        except PrelabelError as exc:  # it cannot start (a key gone): it ended Failed with why
            log.warning("run %s cannot start: %s", run_id, exc.message)
        except Exception:
            log.exception("run %s stopped on an unexpected error", run_id)

    def _done(self, run_id: int) -> None:
        with self._lock:
            self._active.pop(run_id, None)
        self.wake()  # a slot is free
