"""``prelabel serve``: the API, the web pages and the job runner (in-process, or the dispatcher
of distributed workers) in one process."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from prelabel.api import create_app
from prelabel.cli.context import console, settings_of
from prelabel.services.connections import ensure_local_connection
from prelabel.services.users import create_first_admin
from prelabel.settings import Settings
from prelabel.store import Store

DEFAULT_ADMIN_EMAIL = "admin@localhost"
HostOption = Annotated[str, typer.Option(help="Address to listen on.")]
PortOption = Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")]


def register(app: typer.Typer) -> None:
    app.command()(serve)


def serve(
    ctx: typer.Context,
    host: HostOption = "127.0.0.1",
    port: PortOption = 8080,
    jobs: Annotated[
        bool,
        typer.Option(
            help=(
                "Execute runs in this process (with PRELABEL_REDIS_URL: hand them to "
                "`prelabel worker` processes); --no-jobs leaves them to other executors."
            )
        ),
    ] = True,
):
    """Serve the web app and the REST API and execute runs; runs a crash left unfinished
    resume at start.

    The database is created or upgraded first; on an empty one the first admin user is
    created and their API token printed once.
    """
    serve_api(settings_of(ctx), host=host, port=port, jobs=jobs)


def serve_api(settings: Settings, *, host: str, port: int, jobs: bool = True) -> None:
    """Serve until interrupted, on a store created or upgraded first, with a first admin."""
    store = Store.open(settings, create=True)
    try:
        with store.session() as session:
            issued = create_first_admin(session, email=DEFAULT_ADMIN_EMAIL)
            ensure_local_connection(session)
        out = console(stderr=True)
        if issued is not None:
            out.print(f"Created admin {DEFAULT_ADMIN_EMAIL}; API token (shown once): {issued.key}")
            out.print(
                "To log in to the web app: "
                f"prelabel user set-password --email {DEFAULT_ADMIN_EMAIL}"
            )
        out.print(
            f"prelabel on http://{host}:{port} (web app at /, API docs at /docs); Ctrl-C stops it"
        )
        if jobs and settings.redis_url:
            out.print(
                f"Runs go to `prelabel worker` processes through queue {settings.queue_name!r}"
            )
        uvicorn.run(
            create_app(settings, store=store, run_jobs=jobs),
            host=host,
            port=port,
            log_level="info",
        )
    finally:
        store.close()
