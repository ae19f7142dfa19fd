"""The URL map of the API, in one place.

Paths are declared without a trailing slash (``OptionalTrailingSlash`` accepts both). Every
route but the health check requires a token. Label Studio's paths and shapes come first;
prelabel's own (prompts, versions, runs, reports) live under ``/api/prompts``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, FastAPI

from prelabel.api import system
from prelabel.api.deps import current_user


def configure_routes(app: FastAPI) -> None:
    public = APIRouter()
    public.add_api_route("/health", system.health, methods=["GET"], tags=["system"])
    app.include_router(public)

    api = APIRouter(dependencies=[Depends(current_user)])
    route = _adder(api)

    route("GET", "/api/version", system.version, tags=["system"])

    # -- Label Studio: projects, import, export, tasks ------------------------------------

    # -- Label Studio: predictions, annotations, model versions, Data Manager actions -----

    # -- prelabel: provider connections, prompts, versions, runs, reports -----------------

    app.include_router(api)


def _adder(router: APIRouter) -> Callable[..., None]:
    def route(method: str, path: str, endpoint: Callable[..., Any], **options: Any) -> None:
        router.add_api_route(path, endpoint, methods=[method], **options)

    return route
