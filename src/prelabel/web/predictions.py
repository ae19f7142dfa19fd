"""Settings → Predictions: each model version of a project's predictions, and deleting one."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request
from starlette.responses import Response

from prelabel.api.deps import SessionDep
from prelabel.api.params import Id
from prelabel.services.predictions import delete_model_version, list_model_versions
from prelabel.services.projects import get_project
from prelabel.services.serialization import created_ago
from prelabel.web.errors import refusals_go_back_to
from prelabel.web.rendering import flash, page_path, redirect, render
from prelabel.web.sessions import WebUser


def predictions_settings(
    request: Request, project_id: Id, session: SessionDep, user: WebUser
) -> Response:
    """A card per model version: its prediction count and when its last one was made."""
    project = get_project(session, project_id)
    context = {
        "project": project,
        "tab": "predictions_settings",
        "versions": list_model_versions(session, project),
        "ago": created_ago,
    }
    return render(request, "predictions.html", context, user=user)


def delete_version(
    request: Request,
    project_id: Id,
    session: SessionDep,
    model_version: Annotated[str, Form()] = "",
) -> Response:
    """Delete every prediction of one model version; a version already gone is said so."""
    project = get_project(session, project_id)
    back = page_path(request, "predictions_settings", project_id=project.id)
    with refusals_go_back_to(back):
        deleted = delete_model_version(session, project, model_version)
    shown = model_version or "(no model version)"
    flash(request, "success", f"Deleted {deleted} predictions of {shown}")
    return redirect(back)
