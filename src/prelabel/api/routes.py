"""The URL map of the API, in one place.

Paths are declared without a trailing slash (``OptionalTrailingSlash`` accepts both). Every
route but the health check requires a token. Label Studio's paths and shapes come first;
prelabel's own (prompts, versions, runs, reports) live under ``/api/prompts``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, FastAPI

from prelabel.api import (
    actions,
    annotation_endpoints,
    predictions,
    projects,
    prompts,
    runs,
    system,
    tasks,
    transfer,
)
from prelabel.api.deps import current_user


def configure_routes(app: FastAPI) -> None:
    public = APIRouter()
    public.add_api_route("/health", system.health, methods=["GET"], tags=["system"])
    app.include_router(public)

    api = APIRouter(dependencies=[Depends(current_user)])
    route = _adder(api)

    route("GET", "/api/version", system.version, tags=["system"])

    # -- Label Studio: projects, import, export, tasks ------------------------------------
    project = "/api/projects/{project_id:int}"
    route("GET", "/api/projects", projects.list_projects, tags=["projects"])
    route("POST", "/api/projects", projects.create_project, tags=["projects"], status_code=201)
    route("GET", project, projects.get_project, tags=["projects"])
    route("PATCH", project, projects.update_project, tags=["projects"])
    route("DELETE", project, projects.delete_project, tags=["projects"], status_code=204)
    route("POST", f"{project}/validate", projects.validate_label_config, tags=["projects"])
    route(
        "POST",
        f"{project}/import",
        transfer.import_tasks,
        tags=["import"],
        status_code=201,
        openapi_extra=transfer.IMPORT_BODY,
    )
    route(
        "POST",
        f"{project}/import/predictions",
        transfer.import_predictions,
        tags=["import"],
        status_code=201,
    )
    route("GET", f"{project}/export", transfer.export_tasks, tags=["export"])
    route("DELETE", f"{project}/tasks", tasks.delete_project_tasks, tags=["tasks"], status_code=204)
    route("GET", "/api/tasks", tasks.list_tasks, tags=["tasks"])
    route("POST", "/api/tasks", tasks.create_task, tags=["tasks"], status_code=201)
    route("GET", "/api/tasks/{task_id:int}", tasks.get_task, tags=["tasks"])
    route("PATCH", "/api/tasks/{task_id:int}", tasks.update_task, tags=["tasks"])
    route("DELETE", "/api/tasks/{task_id:int}", tasks.delete_task, tags=["tasks"], status_code=204)

    # -- Label Studio: predictions, annotations, model versions, Data Manager actions -----
    prediction = "/api/predictions/{prediction_id:int}"
    tags = ["predictions"]
    route("GET", "/api/predictions", predictions.list_predictions, tags=tags)
    route("POST", "/api/predictions", predictions.create_prediction, tags=tags, status_code=201)
    route("GET", prediction, predictions.get_prediction, tags=tags)
    route("PATCH", prediction, predictions.update_prediction, tags=tags)
    route("DELETE", prediction, predictions.delete_prediction, tags=tags, status_code=204)
    versions = "/api/projects/{project_id:int}/model-versions"
    route("GET", versions, predictions.list_model_versions, tags=tags)
    route("DELETE", versions, predictions.delete_model_version, tags=tags)
    of_task = "/api/tasks/{task_id:int}/annotations"
    annotation = "/api/annotations/{annotation_id:int}"
    tags = ["annotations"]
    route("GET", of_task, annotation_endpoints.list_annotations, tags=tags)
    route("POST", of_task, annotation_endpoints.create_annotation, tags=tags, status_code=201)
    route("GET", annotation, annotation_endpoints.get_annotation, tags=tags)
    route("PATCH", annotation, annotation_endpoints.update_annotation, tags=tags)
    route("DELETE", annotation, annotation_endpoints.delete_annotation, tags=tags, status_code=204)
    tags = ["actions"]
    route("GET", "/api/dm/actions", actions.list_actions, tags=tags)
    route("POST", "/api/dm/actions", actions.run_action, tags=tags)
    route("GET", "/api/dm/actions/{action_id}/form", actions.action_form, tags=tags)

    # -- prelabel: provider connections, prompts, versions, runs, reports -----------------
    # Ids are typed in the paths ({id:int}), so /api/prompts/runs is never read as a prompt id.
    connection = "/api/prompts/connections/{connection_id:int}"
    tags = ["connections"]
    route("GET", "/api/prompts/connections", prompts.list_connections, tags=tags)
    route("POST", "/api/prompts/connections", prompts.create_connection, tags=tags)
    route("GET", connection, prompts.get_connection, tags=tags)
    route("DELETE", connection, prompts.delete_connection, tags=tags)
    prompt = "/api/prompts/{prompt_id:int}"
    version = "/api/prompts/versions/{version_id:int}"
    tags = ["prompts"]
    route("GET", "/api/prompts", prompts.list_prompts, tags=tags)
    route("POST", "/api/prompts", prompts.create_prompt, tags=tags)
    route("GET", prompt, prompts.get_prompt, tags=tags)
    route("PATCH", prompt, prompts.rename_prompt, tags=tags)
    route("DELETE", prompt, prompts.delete_prompt, tags=tags)
    route("GET", "/api/prompts/versions/compare", runs.compare, tags=tags)
    route("GET", version, prompts.get_version, tags=tags)
    route("PATCH", version, prompts.rename_version, tags=tags)
    route("DELETE", version, prompts.delete_version, tags=tags)
    route("POST", f"{version}/save", prompts.save_version, tags=tags)
    route("POST", f"{version}/save-as", prompts.save_version_as, tags=tags)
    route("GET", f"{version}/render", prompts.render_version, tags=tags)
    run = "/api/prompts/runs/{run_id:int}"
    tags = ["runs"]
    route("POST", f"{version}/estimate", runs.estimate, tags=tags)
    route("GET", "/api/prompts/runs", runs.list_runs, tags=tags)
    route("POST", "/api/prompts/runs", runs.create_run, tags=tags)
    route("GET", run, runs.get_run, tags=tags)
    route("POST", f"{run}/cancel", runs.cancel_run, tags=tags)
    route("POST", f"{run}/resume", runs.resume_run, tags=tags)
    route("POST", f"{run}/retry-failed", runs.retry_failed, tags=tags)
    route("GET", f"{run}/failures", runs.list_failures, tags=tags)
    route("GET", f"{run}/report", runs.get_report, tags=tags)
    route("GET", f"{run}/tasks", runs.list_cell_tasks, tags=tags)

    app.include_router(api)


def _adder(router: APIRouter) -> Callable[..., None]:
    def route(method: str, path: str, endpoint: Callable[..., Any], **options: Any) -> None:
        router.add_api_route(path, endpoint, methods=[method], **options)

    return route
