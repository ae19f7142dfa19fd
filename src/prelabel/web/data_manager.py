"""The Data Manager page: a project's tasks as a table, and the actions on a selection.

The table is rendered on the server from the view in the URL (``DataView``). Actions post
the selection (``all`` with the ids unticked on the page, or the ticked ids) and the view's
query string, run in the request's transaction through the services the API's actions use,
and come back to the same view with what they did.

A model-version picker posts ``=`` and the version (``PICKED``): ``=`` alone picks the
predictions that have no model version (imported ones), while an empty value picks none
(every version, for Delete Predictions). A bare version could not tell "" from nothing, and
the form parser reads an empty field as a missing one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Form, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from prelabel.api.deps import Jobs, JobsDep, RuntimeDep, SessionDep
from prelabel.api.params import Id
from prelabel.engine.job import MAX_CONCURRENCY, RunOptions
from prelabel.errors import NotFoundError, ValidationError
from prelabel.services.actions import (
    delete_selected_annotations,
    delete_selected_predictions,
    predictions_to_annotations,
    run_on_selection,
    version_to_run,
)
from prelabel.services.predictions import model_version_counts
from prelabel.services.projects import get_project, project_config
from prelabel.services.prompts import list_prompts
from prelabel.services.run_execution import Runtime
from prelabel.services.tasks import TaskQuery, list_tasks, score_version
from prelabel.store import Project, User
from prelabel.store.task_filters import Selection
from prelabel.web.data_view import (
    OPERATOR_LABELS,
    PAGE_SIZES,
    DataView,
    cell_text,
    filter_columns,
    table_columns,
)
from prelabel.web.errors import refusals_go_back_to
from prelabel.web.rendering import flash, page_path, redirect, render
from prelabel.web.sessions import WebUser

#: What a model-version picker puts before the version it posts (see above).
PICKED = "="


def data_manager(request: Request, project_id: Id, session: SessionDep, user: WebUser) -> Response:
    """The tasks the view picks; a filter the services refuse shows its reason (a 400) with
    the form to mend it, and a page past the last (after a deletion, say) goes to the first."""
    project = get_project(session, project_id)
    view = DataView.from_params(request.query_params)
    columns = table_columns(project_config(project).data_fields)
    versions = model_version_counts(session, project)
    problem = None
    try:
        query = view.task_query(score_version=score_version(project))
        found = list_tasks(session, project, page=view.page, page_size=view.page_size, query=query)
    except NotFoundError:
        return redirect(_url(request, project, view.query_string(page=1)))
    except ValidationError as exc:
        found, problem = None, exc.message
    context = {
        "project": project,
        "tab": "data_manager",
        "view": view,
        "columns": columns,
        "shown": view.shown(columns),
        "filter_columns": filter_columns(columns, list(versions)),
        "operators": OPERATOR_LABELS,
        "page_sizes": PAGE_SIZES,
        "found": found,
        "problem": problem,
        "cell": cell_text,
        "model_versions": versions,
        "prompts": list_prompts(session, project),
        "actions": ACTIONS.values(),
        "picked": PICKED,
        "run_defaults": RunOptions(),
        "max_concurrency": MAX_CONCURRENCY,
    }
    status = 400 if problem else 200
    return render(request, "data_manager.html", context, user=user, status_code=status)


def run_action(
    request: Request,
    project_id: Id,
    session: SessionDep,
    user: WebUser,
    runtime: RuntimeDep,
    jobs: JobsDep,
    action: Annotated[str, Form()],
    view: Annotated[str, Form()] = "",
    every: Annotated[bool, Form(alias="all")] = False,
    included: Annotated[list[Id] | None, Form()] = None,
    excluded: Annotated[list[Id] | None, Form()] = None,
    model_version: Annotated[str | None, Form()] = None,
    prompt_version: Annotated[Id | None, Form()] = None,
    concurrency: Annotated[str, Form()] = "",
    budget_usd: Annotated[str, Form()] = "",
) -> Response:
    """Run ``action`` on the selected tasks of the view, then show the view again; a field
    the action does not ask for is ignored."""
    project = get_project(session, project_id)
    data_view = DataView.from_query_string(view)
    back = _url(request, project, data_view.query_string())
    with refusals_go_back_to(back):
        chosen = ACTIONS.get(action)
        if chosen is None:
            raise ValidationError(f"action: no action {action!r}")
        ids = (excluded if every else included) or []
        query = data_view.task_query(
            selection=Selection(all=every, ids=tuple(ids)), score_version=score_version(project)
        )
        selected = Selected(
            session,
            project,
            query,
            user,
            runtime,
            jobs,
            model_version=picked_version(model_version),
            prompt_version=prompt_version,
            run_fields=RunFields(concurrency, budget_usd),
        )
        flash(request, "success", chosen.perform(selected))
    return redirect(back)


def _url(request: Request, project: Project, query: str) -> str:
    path = page_path(request, "data_manager", project_id=project.id)
    return f"{path}?{query}" if query else path


def picked_version(value: str | None) -> str | None:
    """The model version a picker posted ("" for predictions without one), or None when it
    picked none."""
    if not value:
        return None
    if not value.startswith(PICKED):
        raise ValidationError(f"model_version: {value!r} is not a model version of the list")
    return value.removeprefix(PICKED)


@dataclass(frozen=True)
class RunFields:
    """The run options of the "Run prompt on selection" dialog, as typed; an empty field
    keeps the default."""

    concurrency: str = ""
    budget_usd: str = ""

    def options(self) -> RunOptions:
        """The options, checked as the API's are (``RunOptions``), naming the field at fault."""
        return RunOptions().replace(
            concurrency=_number(self.concurrency, int), budget_usd=_number(self.budget_usd, float)
        )


def _number(text: str, kind: type[int] | type[float]) -> int | float | str | None:
    """``text`` read as a ``kind``, None when empty, else as typed for RunOptions to refuse."""
    text = text.strip()
    if not text:
        return None
    try:
        return kind(text)
    except ValueError:
        return text


@dataclass(frozen=True)
class Selected:
    """The tasks an action acts on, who acts, and what its dialog asked: ``model_version``
    is None when none was picked."""

    session: Session
    project: Project
    query: TaskQuery
    user: User
    runtime: Runtime
    jobs: Jobs
    model_version: str | None
    prompt_version: int | None
    run_fields: RunFields


@dataclass(frozen=True)
class Action:
    """An entry of the Actions menu and its dialog; ``asks`` names the dialog's one field:
    ``model_version`` (optional), ``model_version_required`` or ``prompt_version``."""

    id: str
    title: str
    text: str
    button: str
    perform: Callable[[Selected], str]
    asks: str | None = None
    destructive: bool = False


def _delete_predictions(selected: Selected) -> str:
    deleted = delete_selected_predictions(
        selected.session,
        selected.project,
        selected.query,
        model_version=selected.model_version,
    )
    return f"Deleted {_count(deleted, 'prediction')}"


def _predictions_to_annotations(selected: Selected) -> str:
    if selected.model_version is None:
        raise ValidationError("model_version: choose the model version to create annotations from")
    created = predictions_to_annotations(
        selected.session,
        selected.project,
        selected.query,
        model_version=selected.model_version,
        user=selected.user,
    )
    return f"Created {_count(created, 'annotation')}"


def _delete_annotations(selected: Selected) -> str:
    deleted = delete_selected_annotations(selected.session, selected.project, selected.query)
    return f"Deleted {_count(deleted, 'annotation')}"


def _run_prompt(selected: Selected) -> str:
    if selected.prompt_version is None:
        raise ValidationError("prompt_version: choose the prompt version to run")
    options = selected.run_fields.options()
    version = version_to_run(selected.session, selected.project, selected.prompt_version)
    run = run_on_selection(
        selected.session,
        selected.runtime,
        selected.project,
        selected.query,
        version,
        options,
        created_by=selected.user.id,
    )
    selected.jobs.run_soon()
    return f"Started run {run.id} on {_count(run.total, 'task')}"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


ACTIONS = {
    action.id: action
    for action in (
        Action(
            "predictions_to_annotations",
            "Create Annotations from Predictions",
            "Each selected task with a prediction of the chosen model version gets an "
            "annotation with its result, owned by you. A prediction already turned into an "
            "annotation is skipped.",
            "Create annotations",
            _predictions_to_annotations,
            asks="model_version_required",
        ),
        Action(
            "retrieve_tasks_predictions",
            "Run prompt on selection",
            "Run a prompt version on the selected tasks in the background. Its new "
            "predictions replace its earlier ones on these tasks.",
            "Start run",
            _run_prompt,
            asks="prompt_version",
        ),
        Action(
            "delete_tasks_predictions",
            "Delete Predictions",
            "Delete the predictions of the selected tasks: every model version's, or only "
            "the chosen one's. This cannot be undone.",
            "Delete predictions",
            _delete_predictions,
            asks="model_version",
            destructive=True,
        ),
        Action(
            "delete_tasks_annotations",
            "Delete Annotations",
            "Delete every annotation of the selected tasks, cancelled ones too. This cannot "
            "be undone.",
            "Delete annotations",
            _delete_annotations,
            destructive=True,
        ),
    )
}
