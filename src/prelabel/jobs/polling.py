"""A background thread that does one pass of work every few seconds, or at once when woken:
the shape of both job backends (the in-process runner and the dispatcher of workers)."""

from __future__ import annotations

import logging
import threading

from prelabel.errors import PrelabelError

log = logging.getLogger(__name__)


class PollingThread:
    """Calls ``run_pass`` every ``poll_seconds`` until stopped, or sooner after ``wake``.

    A pass that fails is logged and tried again at the next one: the store may be
    unreachable for a while (a PostgreSQL failover), and the thread must outlive that."""

    def __init__(self, *, name: str, poll_seconds: float) -> None:
        self._poll_seconds = poll_seconds
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def run_pass(self) -> None:
        raise NotImplementedError

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        """Make a pass now (a run was just created or resumed) instead of at the next poll."""
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop making passes; returns once the pass in progress, if any, has ended."""
        self._stopping.set()
        self._wake.set()
        self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                self.run_pass()
            except PrelabelError as exc:  # the store is unreachable for now: retry later
                log.warning("%s: %s", self._thread.name, exc.message)
            except Exception:
                log.exception("%s: pass failed", self._thread.name)
            self._wake.wait(self._poll_seconds)
            self._wake.clear()
