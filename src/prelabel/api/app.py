"""The FastAPI application: ``create_app(settings)`` builds it, nothing happens at import.

It serves the REST API and, at every other path, the web pages (``prelabel.web``).

The app owns a store (or is given one by tests), the runtime that executes runs (the key box
and prices) and the job runner (in-process, or the dispatcher of distributed workers); its lifespan
opens and closes them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

import prelabel
from prelabel.api.errors import install_error_handlers
from prelabel.api.middleware import OptionalTrailingSlash
from prelabel.api.responses import JSONBody
from prelabel.api.routes import configure_routes
from prelabel.jobs import InProcessRunner, Runner
from prelabel.jobs.distributed import ChunkQueue, Dispatcher
from prelabel.services.run_execution import Runtime
from prelabel.settings import Settings
from prelabel.store import Store
from prelabel.web import configure_web


def create_app(
    settings: Settings | None = None, *, store: Store | None = None, run_jobs: bool = True
) -> FastAPI:
    """The API for ``settings``' database, or for ``store`` when given (then not closed).

    ``run_jobs`` starts the job runner: the in-process one that executes runs, or with
    ``PRELABEL_REDIS_URL`` the dispatcher that hands them to ``prelabel worker`` processes.
    Without it runs wait, Pending, for another executor (a ``prelabel serve``, a worker or a
    ``prelabel run resume``).
    """
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.store = store or Store.open(settings)
        app.state.settings = settings
        app.state.runtime = Runtime.from_settings(settings)
        runner = _runner(settings, app.state.store, app.state.runtime) if run_jobs else None
        app.state.runner = runner
        if runner is not None:
            runner.start()
        try:
            yield
        finally:
            if runner is not None:
                runner.stop()
            if store is None:
                app.state.store.close()

    app = FastAPI(
        title="prelabel",
        version=prelabel.__version__,
        summary="Label Studio-compatible REST API with LLM prompts, runs and evaluations.",
        lifespan=lifespan,
        default_response_class=JSONBody,
        max_body_size=int(settings.max_upload_mb * 1_000_000),
    )
    install_error_handlers(app)
    configure_routes(app)
    configure_web(app, settings)
    app.add_middleware(OptionalTrailingSlash)
    return app


def _runner(settings: Settings, store: Store, runtime: Runtime) -> Runner:
    if settings.redis_url:
        queue = ChunkQueue(settings)
        return Dispatcher(store, queue, rows_per_chunk=settings.chunk_size)
    return InProcessRunner(store, runtime, slots=settings.run_concurrency)
