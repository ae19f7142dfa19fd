"""What the prompts workspace's pages share: finding a version or a run inside the project
of the URL, and the paths of versions and tasks."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.routing import NoMatchFound

from prelabel.services.projects import get_project
from prelabel.services.prompts import get_version, prompt_of
from prelabel.services.runs import get_run
from prelabel.store import Project, PromptVersion, Run
from prelabel.web.errors import held_by
from prelabel.web.rendering import page_path


def version_in(session: Session, project: Project, version_id: int) -> PromptVersion:
    """The version, which must be one of the project's: another project's is not found here."""
    version = get_version(session, version_id)
    return held_by(version, project, prompt_of(session, version).project_id)


def project_and_version(
    session: Session, project_id: int, version_id: int
) -> tuple[Project, PromptVersion]:
    """The project and the version a version's URL names: where its page and forms start."""
    project = get_project(session, project_id)
    return project, version_in(session, project, version_id)


def run_in(session: Session, project: Project, run_id: int) -> Run:
    """The run, which must be one of the project's."""
    run = get_run(session, run_id)
    return held_by(run, project, run.project_id)


def version_path(
    request: Request, project: Project, version_id: int, run_id: int | None = None
) -> str:
    """The version's page; with ``run_id``, showing that run."""
    path = page_path(request, "prompt_version", project_id=project.id, version_id=version_id)
    return f"{path}?run={run_id}#run" if run_id is not None else path


def task_url_for(request: Request, project: Project) -> Callable[[int], str]:
    """Links to a task: its page, or the Data Manager showing that task alone where the app
    has no task page."""
    if optional_path(request, "task", project_id=project.id, task_id=1) is None:
        data = page_path(request, "data_manager", project_id=project.id)
        return lambda task: f"{data}?filter_column=id&filter_operator=equal&filter_value={task}"
    return lambda task: page_path(request, "task", project_id=project.id, task_id=task)


def optional_path(request: Request, name: str, **params: int) -> str | None:
    """The path of a page the app may not serve (the task page, the providers settings)."""
    try:
        return page_path(request, name, **params)
    except NoMatchFound:
        return None
