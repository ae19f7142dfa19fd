"""The projects list, creating a project (with a live check of its labeling config and an
optional first import), and importing more tasks into one."""

from __future__ import annotations

from typing import Annotated

from fastapi import Body, File, Form, Request, UploadFile
from sqlalchemy.orm import Session
from starlette.responses import JSONResponse, Response

from prelabel.api.deps import SessionDep, SettingsDep
from prelabel.api.params import Id
from prelabel.errors import LabelConfigError, ValidationError
from prelabel.formats import detect_format
from prelabel.labeling import parse_label_config
from prelabel.services import projects as service
from prelabel.services.imports import ImportSummary, import_tasks
from prelabel.services.serialization import parsed_label_config_payload
from prelabel.settings import Settings
from prelabel.store import Project, User
from prelabel.web.errors import refusals_go_back_to
from prelabel.web.rendering import flash, page_path, redirect, render
from prelabel.web.sessions import WebUser

PROJECTS_PER_PAGE = 50

#: What the new-project form starts with: a config to edit rather than a blank box.
EXAMPLE_CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text">
    <Choice value="Positive"/>
    <Choice value="Negative"/>
  </Choices>
</View>"""


def home(request: Request) -> Response:
    return redirect(page_path(request, "projects"))


def projects_page(request: Request, session: SessionDep, user: WebUser, page: int = 1) -> Response:
    found = service.page_projects(session, page=page, page_size=PROJECTS_PER_PAGE)
    counts = service.count_project_contents(session, [project.id for project in found.projects])
    context = {"found": found, "counts": counts, "page": page}
    return render(request, "projects.html", context, user=user)


def new_project_page(request: Request, user: WebUser) -> Response:
    form = {"title": "", "description": "", "label_config": EXAMPLE_CONFIG}
    return render(request, "project_new.html", {"form": form}, user=user)


def create_project(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: WebUser,
    title: Annotated[str, Form()] = "",
    label_config: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Create the project and import the file, if one was chosen, all or nothing: a refusal
    shows the form again, as it was filled in, with the reason."""
    try:
        with session.begin_nested():
            project = service.create_project(
                session,
                title=title,
                label_config=label_config,
                description=description,
                created_by=user,
            )
            summary = None
            if file is not None and file.filename:  # a browser sends an empty part for no file
                summary = _import(session, project, file, user, settings)
    except ValidationError as exc:
        form = {"title": title, "description": description, "label_config": label_config}
        context = {"form": form, "error": exc.message}
        return render(request, "project_new.html", context, user=user, status_code=400)
    message = f"Created project {project.title}"
    flash(request, "success", f"{message}. {_imported(summary)}" if summary else message)
    return redirect(page_path(request, "data_manager", project_id=project.id))


def check_label_config(label_config: Annotated[str, Body(embed=True)]) -> JSONResponse:
    """Whether a labeling config parses and, if so, what it labels; the new-project form
    asks while the config is typed. A bad config is an answer here, not an error."""
    try:
        config = parse_label_config(label_config)
    except LabelConfigError as exc:
        return JSONResponse({"valid": False, "message": exc.message})
    controls = parsed_label_config_payload(config)
    return JSONResponse(
        {"valid": True, "controls": controls, "data_fields": list(config.data_fields)}
    )


def import_file(
    request: Request,
    project_id: Id,
    session: SessionDep,
    settings: SettingsDep,
    user: WebUser,
    file: Annotated[UploadFile, File()],
) -> Response:
    """Import a task file into the project, all or nothing, and show its Data Manager."""
    project = service.get_project(session, project_id)
    back = page_path(request, "data_manager", project_id=project.id)
    with refusals_go_back_to(back):
        summary = _import(session, project, file, user, settings)
    flash(request, "success", _imported(summary))
    return redirect(back)


def _import(
    session: Session, project: Project, file: UploadFile, user: User, settings: Settings
) -> ImportSummary:
    return import_tasks(
        session,
        project,
        file.file,
        fmt=detect_format(file.filename or ""),
        user=user,
        batch_size=settings.import_batch_size,
    )


def _imported(summary: ImportSummary) -> str:
    return (
        f"Imported {summary.task_count} tasks with {summary.annotation_count} annotations "
        f"and {summary.prediction_count} predictions."
    )
