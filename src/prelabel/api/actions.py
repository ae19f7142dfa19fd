"""Label Studio's Data Manager actions (``/api/dm/actions``): the list, their forms, and
running one on a selection of a project's tasks.

Each action runs in the request's one transaction, through the services the CLI uses, so
it is all or nothing and leaves every counter exact. Beyond Label Studio,
``delete_tasks_predictions`` takes ``model_version`` too, and ``retrieve_tasks_predictions``
runs a prompt version (there are no ML backends to ask). An unknown action is a 400, not
Label Studio's 500 (which the SDK sends three times).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Query
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, Strict
from sqlalchemy.orm import Session

from prelabel.api.deps import CurrentUser, Jobs, JobsDep, RuntimeDep, SessionDep
from prelabel.api.params import BodyId, Id, Text
from prelabel.api.responses import JSONBody
from prelabel.engine.job import RunOptions
from prelabel.errors import NotFoundError, ValidationError
from prelabel.services import actions as service
from prelabel.services.predictions import model_version_counts
from prelabel.services.projects import get_project
from prelabel.services.run_execution import Runtime
from prelabel.services.task_queries import task_query_from_json
from prelabel.services.tasks import TaskQuery, score_version
from prelabel.store import Project, User


def _digits_to_int(value: Any) -> Any:
    return int(value) if isinstance(value, str) and value.isdecimal() else value


UserId = Annotated[BodyId, BeforeValidator(_digits_to_int)]
"""A user id, as a number or (as Label Studio's frontend sends it) a string of digits."""


class SelectedItems(BaseModel):
    model_config = ConfigDict(extra="allow")

    all: Annotated[bool, Strict()]
    included: list[BodyId] | None = None
    excluded: list[BodyId] | None = None


class ActionRequest(BaseModel):
    """The Data Manager's query plus the extra keys some actions read; others are ignored."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    selected_items: SelectedItems | None = Field(
        default=None,
        alias="selectedItems",
        description='{"all": true, "excluded": [ids]} or {"all": false, "included": [ids]}; '
        "default: every task the filters keep.",
    )
    filters: dict[str, Any] | None = Field(
        default=None, description='{"conjunction": "and", "items": [...]}, as the task list.'
    )
    ordering: list[Any] | None = None
    model_version: Text | list[Text] | None = Field(
        default=None,
        description="predictions_to_annotations, delete_tasks_predictions: one version, a "
        "list, or none for every version.",
    )
    annotator: UserId | None = Field(
        default=None, description="delete_tasks_annotations: only this user's annotations."
    )
    prompt_version: BodyId | None = Field(
        default=None,
        description="retrieve_tasks_predictions: the prompt version to run; default: the one "
        "the project's model_version names.",
    )
    options: dict[str, Any] | None = Field(
        default=None,
        description="retrieve_tasks_predictions: run options (concurrency, rpm, tpm, "
        "budget_usd, cache, timeout, max_attempts).",
    )
    project: BodyId | None = Field(
        default=None, description="The legacy SDK sends the project here too."
    )


@dataclass(frozen=True)
class Call:
    """One action to perform: on which tasks, asked how, by whom."""

    session: Session
    project: Project
    query: TaskQuery
    request: ActionRequest
    user: User
    runtime: Runtime
    jobs: Jobs


@dataclass(frozen=True)
class Action:
    id: str
    title: str
    order: int
    permission: str | list[str]
    dialog: dict[str, Any]
    perform: Callable[[Call], dict[str, Any]]
    form: Callable[[Session, Project], list[dict[str, Any]]] | None = None

    def payload(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "order": self.order,
            "permission": self.permission,
            "dialog": self.dialog,
        }


def _delete_predictions(call: Call) -> dict[str, Any]:
    deleted = service.delete_selected_predictions(
        call.session, call.project, call.query, model_version=call.request.model_version
    )
    return {"processed_items": deleted, "detail": f"Deleted {deleted} predictions"}


def _predictions_to_annotations(call: Call) -> dict[str, Any]:
    created = service.predictions_to_annotations(
        call.session,
        call.project,
        call.query,
        model_version=call.request.model_version,
        user=call.user,
    )
    return {"detail": f"Created {created} annotations", "processed_items": created}


def _delete_annotations(call: Call) -> dict[str, Any]:
    deleted = service.delete_selected_annotations(
        call.session, call.project, call.query, annotator=call.request.annotator
    )
    return {"processed_items": deleted, "detail": f"Deleted {deleted} annotations"}


def _retrieve_predictions(call: Call) -> dict[str, Any]:
    version = service.version_to_run(call.session, call.project, call.request.prompt_version)
    run = service.run_on_selection(
        call.session,
        call.runtime,
        call.project,
        call.query,
        version,
        RunOptions.from_json(call.request.options or {}),
        created_by=call.user.id,
    )
    call.jobs.run_soon()
    detail = f"Retrieved {run.total} predictions"
    return {"processed_items": run.total, "detail": detail, "run": run.id}


def _model_version_form(session: Session, project: Project) -> list[dict[str, Any]]:
    """A select of the project's model versions, its current one first and chosen."""
    current = project.model_version
    versions = list(model_version_counts(session, project))
    if current:
        versions = [current, *(version for version in versions if version != current)]
    field = {
        "type": "select",
        "name": "model_version",
        "label": "Choose predictions",
        "options": versions,
        "value": current,
    }
    return [{"columnCount": 1, "fields": [field]}]


def _confirm(text: str, title: str | None = None) -> dict[str, Any]:
    dialog: dict[str, Any] = {"text": text, "type": "confirm", "form": None}
    return {"title": title, **dialog} if title else dialog


ACTIONS = {
    action.id: action
    for action in (
        Action(
            "retrieve_tasks_predictions",
            "Retrieve Predictions",
            90,
            "predictions.any",
            _confirm(
                "Run a prompt version on the selected tasks: the one given as prompt_version, "
                "or the one the project's model version names. The run starts in the "
                "background and replaces that version's predictions on these tasks.",
                "Retrieve Predictions",
            ),
            _retrieve_predictions,
        ),
        Action(
            "predictions_to_annotations",
            "Create Annotations From Predictions",
            91,
            "tasks.change",
            _confirm(
                "Create annotations from the predictions of the chosen model version on each "
                "selected task. Your account will own them; a prediction already turned into "
                "an annotation is skipped.",
                "Create Annotations From Predictions",
            ),
            _predictions_to_annotations,
            _model_version_form,
        ),
        Action(
            "delete_tasks_annotations",
            "Delete Annotations",
            101,
            ["tasks.change", "annotations.delete"],
            _confirm(
                "You are going to delete all annotations from the selected tasks. Please "
                "confirm your action."
            ),
            _delete_annotations,
        ),
        Action(
            "delete_tasks_predictions",
            "Delete Predictions",
            102,
            "predictions.any",
            _confirm(
                "You are going to delete all predictions from the selected tasks. Please "
                "confirm your action."
            ),
            _delete_predictions,
        ),
    )
}


def list_actions(session: SessionDep, project: Id | None = None) -> JSONBody:
    """The actions, by ``order``, as the Data Manager lists them."""
    _project(session, project)
    return JSONBody([action.payload() for action in ACTIONS.values()])


def action_form(action_id: str, session: SessionDep, project: Id | None = None) -> JSONBody:
    """The form the Data Manager shows before the action (``[]`` for those without one)."""
    target = _project(session, project)
    form = _action(action_id).form
    return JSONBody(form(session, target) if form else [])


def run_action(
    session: SessionDep,
    user: CurrentUser,
    runtime: RuntimeDep,
    jobs: JobsDep,
    id: Annotated[str | None, Query(description="The action's id.")] = None,
    project: Annotated[Id | None, Query(description="Project id.")] = None,
    view: Annotated[int | None, Query(description="Not supported: send the query.")] = None,
    body: ActionRequest | None = None,
) -> JSONBody:
    """Run action ``id`` on the project's tasks that ``filters`` then ``selectedItems`` pick;
    answers its result (HTTP 200)."""
    request = body or ActionRequest()
    if id is None:
        raise ValidationError('id: No action id "None", use ?id=<action-id>')
    action = _action(id)
    if view is not None:
        raise ValidationError("view: saved views are not supported; send filters and selectedItems")
    target = _project(session, project if project is not None else request.project)
    query = task_query_from_json(
        request.model_dump(
            by_alias=True, include={"selected_items", "filters", "ordering"}, exclude_none=True
        ),
        score_version=score_version(target),
    )
    call = Call(session, target, query, request, user, runtime, jobs)
    return JSONBody(action.perform(call))


def _action(action_id: str) -> Action:
    action = ACTIONS.get(action_id)
    if action is None:
        raise ValidationError(f"id: no action {action_id!r}; actions: {', '.join(ACTIONS)}")
    return action


def _project(session: Session, project_id: int | None) -> Project:
    if project_id is None:
        raise NotFoundError("project: no project given; use ?project=<project-id>")
    return get_project(session, project_id)
