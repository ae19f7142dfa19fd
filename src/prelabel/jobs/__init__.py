"""Job backends: who executes the runs the services create.

The in-process runner (``InProcessRunner``) is the embedded default: ``prelabel serve``
executes runs in its own threads.
"""

from __future__ import annotations

from prelabel.jobs.in_process import InProcessRunner

__all__ = ["InProcessRunner"]
