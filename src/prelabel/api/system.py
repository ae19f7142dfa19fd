"""The health check and the version: what a load balancer and the SDK ask first."""

from __future__ import annotations

from sqlalchemy import text

import prelabel
from prelabel.api.deps import SessionDep
from prelabel.api.responses import JSONBody


def health(session: SessionDep) -> JSONBody:
    """Unauthenticated: answers 200 when the database does."""
    session.execute(text("SELECT 1"))
    return JSONBody({"status": "ok"})


def version() -> JSONBody:
    """``edition`` "Community" makes the SDK's export helpers use the quick export."""
    return JSONBody(
        {"release": prelabel.__version__, "prelabel": prelabel.__version__, "edition": "Community"}
    )
