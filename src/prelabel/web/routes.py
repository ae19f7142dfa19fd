"""The URL map of the web pages, in one place.

Pages are GET routes behind the login; forms POST to routes behind the login and the CSRF
check. Each route has a name, which templates (``path('data_manager', project_id=1)``) and
handlers (``page_path``) turn into paths, so a URL is written here only. The export is the
API's own handler, served here behind the session login instead of a token.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.params import Depends as DependsParam
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse

from prelabel.api import transfer
from prelabel.web import auth, data_manager, predictions, projects, prompts, providers, runs, tasks
from prelabel.web.rendering import ROUTE_PREFIX, STATIC
from prelabel.web.sessions import check_csrf, current_web_user


def configure_web_routes(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
    signed_in = [Depends(current_web_user)]
    posted = [Depends(current_web_user), Depends(check_csrf)]
    route = _adder(router)

    route("GET", "/", projects.home, "home")
    route("GET", "/login", auth.login_page, "login")
    route("POST", "/login", auth.log_in, "log_in", [Depends(check_csrf)])
    route("POST", "/logout", auth.log_out, "log_out", [Depends(check_csrf)])

    route("GET", "/projects", projects.projects_page, "projects", signed_in)
    route("GET", "/projects/new", projects.new_project_page, "new_project", signed_in)
    route("POST", "/projects", projects.create_project, "create_project", posted)
    check = projects.check_label_config
    route("POST", "/projects/check-config", check, "check_label_config", posted)

    project = "/projects/{project_id:int}"
    route("GET", f"{project}/data", data_manager.data_manager, "data_manager", signed_in)
    route("POST", f"{project}/data/actions", data_manager.run_action, "run_action", posted)
    route("POST", f"{project}/import", projects.import_file, "import_file", posted)
    route("GET", f"{project}/export", transfer.export_tasks, "export_tasks", signed_in)
    settings = f"{project}/settings/predictions"
    route("GET", settings, predictions.predictions_settings, "predictions_settings", signed_in)
    route("POST", f"{settings}/delete", predictions.delete_version, "delete_version", posted)

    # The task page (web/tasks.py) and Settings → Model providers (web/providers.py).
    task = f"{project}/tasks/{{task_id:int}}"
    route("GET", task, tasks.task_page, "task", signed_in)
    accept = f"{task}/predictions/{{prediction_id:int}}/accept"
    route("POST", accept, tasks.accept, "accept_prediction", posted)
    annotation = f"{task}/annotations/{{annotation_id:int}}"
    route("POST", annotation, tasks.edit_annotation, "edit_annotation", posted)
    truth = f"{annotation}/ground-truth"
    route("POST", truth, tasks.set_ground_truth, "set_ground_truth", posted)
    route("GET", "/settings/providers", providers.providers_page, "providers", signed_in)
    route("POST", "/settings/providers", providers.add_provider, "add_provider", posted)
    remove = "/settings/providers/{connection_id:int}/delete"
    route("POST", remove, providers.remove_provider, "remove_provider", posted)

    # The prompts workspace (web/prompts.py, web/runs.py).
    workspace = f"{project}/prompts"
    version = f"{workspace}/versions/{{version_id:int}}"
    run = f"{project}/runs/{{run_id:int}}"
    route("GET", workspace, prompts.prompts_page, "prompts", signed_in)
    route("POST", workspace, prompts.create_prompt, "create_prompt", posted)
    route("GET", f"{workspace}/compare", prompts.compare_page, "compare_versions", signed_in)
    route("GET", version, prompts.version_page, "prompt_version", signed_in)
    route("POST", f"{version}/save", prompts.save_version, "save_version", posted)
    route("POST", f"{version}/save-as", prompts.save_version_as, "save_version_as", posted)
    route("GET", f"{version}/estimate", runs.estimate, "estimate_run", signed_in)
    route("POST", f"{version}/runs", runs.start_run, "start_run", posted)
    route("GET", f"{run}/progress", runs.run_progress, "run_progress", signed_in)
    route("POST", f"{run}/cancel", runs.cancel_run, "cancel_run", posted)
    route("POST", f"{run}/resume", runs.resume_run, "resume_run", posted)

    app.include_router(router)


def _adder(router: APIRouter) -> Callable[..., None]:
    def route(
        method: str,
        path: str,
        endpoint: Callable[..., Any],
        name: str,
        dependencies: Sequence[DependsParam] = (),
    ) -> None:
        router.add_api_route(
            path,
            endpoint,
            methods=[method],
            name=ROUTE_PREFIX + name,
            dependencies=list(dependencies),
        )

    return route
