"""``prelabel worker``: execute chunk jobs of runs from the RQ queue (``PRELABEL_REDIS_URL``)."""

from __future__ import annotations

from typing import Annotated

import typer

from prelabel.cli.context import console, settings_of
from prelabel.errors import ValidationError
from prelabel.jobs.distributed import run_worker


def register(app: typer.Typer) -> None:
    app.command()(worker)


def worker(
    ctx: typer.Context,
    burst: Annotated[
        bool, typer.Option(help="Stop once the queue is empty instead of waiting for jobs.")
    ] = False,
):
    """Execute runs' chunk jobs from the queue until stopped (Ctrl-C or SIGTERM finish the
    chunk in hand first); start any number, on any machine that reaches the database and
    Redis."""
    settings = settings_of(ctx)
    if not settings.redis_url:
        raise ValidationError("a worker needs PRELABEL_REDIS_URL: the Redis its jobs are queued in")
    if settings.resolved_database_url.startswith("sqlite"):
        console(stderr=True).print(
            "Note: the database is SQLite, which only workers on this machine can share; "
            "set PRELABEL_DATABASE_URL to a PostgreSQL database for workers elsewhere."
        )
    console(stderr=True).print(f"Worker waiting for chunk jobs on queue {settings.queue_name!r}")
    run_worker(settings, burst=burst)
