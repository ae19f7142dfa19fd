"""Job backends: who executes the runs the services create.

The in-process runner (``InProcessRunner``) is the embedded default: ``prelabel serve``
executes runs in its own threads. With ``PRELABEL_REDIS_URL`` set, the distributed backend
(``prelabel.jobs.distributed``) cuts runs into chunk jobs on an RQ queue that
``prelabel worker`` processes execute. Either is woken the same way when a run is created.
"""

from __future__ import annotations

from typing import Protocol

from prelabel.jobs.in_process import InProcessRunner


class Runner(Protocol):
    """What the server starts to have runs executed, and wakes when one is waiting."""

    def start(self) -> None: ...

    def wake(self) -> None: ...

    def stop(self, timeout: float = 10.0) -> None: ...


__all__ = ["InProcessRunner", "Runner"]
