"""The prompts workspace: a project's prompts, the editor of a version, and two versions
compared side by side.

Each form posts to a handler that calls the service the API and the CLI call. A refusal
(an unknown template variable, a title already taken, a temperature out of range...) shows
the page again as it was filled in, with the reason beside the field it concerns; the work
is done in a savepoint so that nothing of a refused save is kept. The runs of a version
(starting, progress, reports) are ``web.runs``'s.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Form, Request
from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session
from starlette.responses import Response

from prelabel.api.deps import RuntimeDep, SessionDep
from prelabel.api.params import Id
from prelabel.errors import ConflictError, PrelabelError, TemplateError, ValidationError
from prelabel.services import prompts as service
from prelabel.services.connections import get_connection, list_connections
from prelabel.services.evaluations import compare_versions
from prelabel.services.projects import get_project, project_config
from prelabel.services.run_execution import Runtime
from prelabel.store import Project, PromptVersion, ProviderConnection, User
from prelabel.store.models import model_version_name
from prelabel.web import formats
from prelabel.web.errors import refusals_go_back_to
from prelabel.web.rendering import flash, redirect, render
from prelabel.web.runs import latest_accuracy, run_panel
from prelabel.web.sessions import WebUser
from prelabel.web.workspace import (
    optional_path,
    project_and_version,
    task_url_for,
    version_in,
    version_path,
)

#: The generation parameters the editor shows; others a version has (top_p, seed) are kept.
EDITED_PARAMETERS = ("temperature", "max_tokens")
#: Where a service's reason points, by the field path its message starts with.
_FIELDS = {
    "name": "name",
    "connection": "connection",
    "title": "title",
    "model": "model",
    "parameters.temperature": "temperature",
    "parameters.max_tokens": "max_tokens",
}

T = TypeVar("T")


class VersionForm(BaseModel):
    """What the prompt and version forms hold, as typed (numbers are still text). The three
    forms that make or change a version post these fields, so FastAPI reads them into this
    model (``Annotated[VersionForm, Form()]``) and a refused form is shown again from it."""

    model_config = ConfigDict(frozen=True)

    template: str = ""
    connection: Id | None = None
    model: str = ""
    temperature: str = ""
    max_tokens: str = ""
    name: str = ""
    title: str = ""

    @classmethod
    def of(cls, version: PromptVersion) -> VersionForm:
        parameters = version.parameters
        return cls(
            template=version.template,
            connection=version.connection_id,
            model=version.model,
            temperature=_text(parameters.get("temperature")),
            max_tokens=_text(parameters.get("max_tokens")),
        )

    def parameters(self, kept: dict[str, Any]) -> dict[str, Any]:
        """``kept`` (the version's other parameters) with the edited ones; an empty field
        leaves its parameter unset. The services check the ranges."""
        parameters = {k: v for k, v in kept.items() if k not in EDITED_PARAMETERS}
        if self.temperature.strip():
            parameters["temperature"] = _number("temperature", self.temperature, float)
        if self.max_tokens.strip():
            parameters["max_tokens"] = _number("max_tokens", self.max_tokens, int)
        return parameters


class NewPromptForm(VersionForm):
    """The new-prompt form: a prompt's first version is titled v1 unless it says otherwise."""

    title: str = "v1"


@dataclass(frozen=True)
class Refusal:
    """A form's refusal: the message and the field it is about (``None``: the whole form)."""

    message: str
    field: str | None

    @classmethod
    def of(cls, error: PrelabelError, conflict_field: str) -> Refusal:
        if isinstance(error, TemplateError):
            return cls(error.message, "template")
        if isinstance(error, ConflictError):
            return cls(error.message, conflict_field)
        return cls(error.message, _FIELDS.get(error.message.split(":", 1)[0]))


def prompts_page(
    request: Request, project_id: Id, session: SessionDep, user: WebUser, runtime: RuntimeDep
) -> Response:
    """The project's prompts with their versions, and the form that creates one."""
    project = get_project(session, project_id)
    connections = list_connections(session)
    form = NewPromptForm(
        connection=connections[0].id if connections else None,
        model=(connections[0].default_model or "") if connections else "",
    )
    return _prompts_page(request, session, runtime, user, project, form)


def create_prompt(
    request: Request,
    project_id: Id,
    session: SessionDep,
    user: WebUser,
    runtime: RuntimeDep,
    form: Annotated[NewPromptForm, Form()],
) -> Response:
    """A prompt and its first version; then the version's editor."""
    project = get_project(session, project_id)
    created = _saved_or_refused(
        session,
        lambda: service.create_prompt(
            session,
            project,
            name=form.name,
            title=form.title,
            template=form.template,
            connection=_chosen_connection(session, form),
            model=form.model or None,
            parameters=form.parameters({}),
        ),
        conflict_field="name",
    )
    if isinstance(created, Refusal):
        return _prompts_page(request, session, runtime, user, project, form, created)
    prompt, version = created
    flash(request, "success", f"Created prompt {prompt.name} with version {version.title}")
    return redirect(version_path(request, project, version.id))


def version_page(
    request: Request,
    project_id: Id,
    version_id: Id,
    session: SessionDep,
    user: WebUser,
    runtime: RuntimeDep,
    run: Id | None = None,
    cell: str | None = None,
) -> Response:
    """The editor of a version, its runs (the one chosen, else the newest, with its progress
    or report and a drill-down into one cell) and its prompt's other versions."""
    project, version = project_and_version(session, project_id, version_id)
    return _version_page(
        request, session, runtime, user, project, version, VersionForm.of(version), run, cell
    )


def save_version(
    request: Request,
    project_id: Id,
    version_id: Id,
    session: SessionDep,
    user: WebUser,
    runtime: RuntimeDep,
    posted: Annotated[VersionForm, Form()],
    confirmed: Annotated[int, Form()] = 0,
) -> Response:
    """Save in place: the version changes and its predictions, which described the old one,
    are deleted; the message says how many. ``confirmed`` is how many the user agreed to
    delete: with more to delete (a run ended since the page was shown), nothing is saved and
    the page asks again."""
    project, version = project_and_version(session, project_id, version_id)
    # The Save-as dialog's title is posted along (its field is in the same form); Save has
    # none, and the page shown again starts the dialog empty.
    form = posted.model_copy(update={"title": ""})
    if service.count_version_predictions(session, [version])[version.id] > confirmed:
        return _version_page(
            request, session, runtime, user, project, version, form, confirm_save=True
        )
    saved = _saved_or_refused(
        session,
        lambda: service.save_version(session, version, **_changes(session, version, form)),
        conflict_field="template",
    )
    if isinstance(saved, Refusal):
        return _version_page(request, session, runtime, user, project, version, form, refusal=saved)
    name = _name(session, version)
    deleted = saved.deleted_predictions
    flash(
        request,
        "success",
        f"Saved {name}; deleted its {formats.count(deleted, 'prediction')}"
        if deleted
        else f"Saved {name}",
    )
    return redirect(version_path(request, project, version.id))


def save_version_as(
    request: Request,
    project_id: Id,
    version_id: Id,
    session: SessionDep,
    user: WebUser,
    runtime: RuntimeDep,
    form: Annotated[VersionForm, Form()],
) -> Response:
    """Save as: a new version of the same prompt with what the form holds; its editor next."""
    project, version = project_and_version(session, project_id, version_id)
    created = _saved_or_refused(
        session,
        lambda: service.save_version_as(
            session, version, title=form.title, **_changes(session, version, form)
        ),
        conflict_field="title",
    )
    if isinstance(created, Refusal):
        return _version_page(
            request, session, runtime, user, project, version, form, refusal=created
        )
    flash(request, "success", f"Saved as {_name(session, created)}")
    return redirect(version_path(request, project, created.id))


def compare_page(
    request: Request, project_id: Id, session: SessionDep, user: WebUser, a: Id, b: Id
) -> Response:
    """Two versions side by side: their settings, and their scores, cost and latency on the
    ground-truth tasks both have predicted, with the tasks on which they answer differently."""
    project = get_project(session, project_id)
    versions = [version_in(session, project, a), version_in(session, project, b)]
    with refusals_go_back_to(version_path(request, project, versions[0].id)):
        comparison = compare_versions(session, versions)
    rows = comparison["versions"]
    controls = list(dict.fromkeys(name for row in rows for name in row["report"]["controls"]))
    connections = {c.id: c for c in list_connections(session)}
    context = {
        "project": project,
        "tab": "prompts",
        "sides": [
            {
                "version": version,
                "prompt": service.prompt_of(session, version),
                "connection": connections.get(version.connection_id),
                "row": row,
                "url": version_path(request, project, version.id),
            }
            for version, row in zip(versions, rows, strict=True)
        ],
        "comparison": comparison,
        "controls": controls,
        "task_url": task_url_for(request, project),
        "fmt": formats,
    }
    return render(request, "prompt_compare.html", context, user=user)


def _prompts_page(
    request: Request,
    session: Session,
    runtime: Runtime,
    user: User,
    project: Project,
    form: VersionForm,
    refusal: Refusal | None = None,
) -> Response:
    prompts = service.list_prompts(session, project)
    counts = service.count_version_predictions(
        session, [version for _, versions in prompts for version in versions]
    )
    connections = {c.id: c for c in list_connections(session)}
    context = {
        "project": project,
        "tab": "prompts",
        "prompts": prompts,
        "totals": {
            prompt.id: sum(counts[version.id] for version in versions)
            for prompt, versions in prompts
        },
        "form": form,
        "refusal": refusal,
        **_editor_choices(project, runtime, list(connections.values())),
        "connection_names": {i: c.name for i, c in connections.items()},
        "providers_url": optional_path(request, "providers"),
        "version_url": lambda version: version_path(request, project, version.id),
    }
    status = 400 if refusal else 200
    return render(request, "prompts.html", context, user=user, status_code=status)


def _version_page(
    request: Request,
    session: Session,
    runtime: Runtime,
    user: User,
    project: Project,
    version: PromptVersion,
    form: VersionForm,
    run_id: int | None = None,
    cell: str | None = None,
    refusal: Refusal | None = None,
    *,
    confirm_save: bool = False,
) -> Response:
    prompt = service.prompt_of(session, version)
    siblings = service.prompt_versions(session, prompt)
    counts = service.count_version_predictions(session, siblings)
    earlier = [v for v in siblings if v.id != version.id]
    context = {
        "project": project,
        "tab": "prompts",
        "prompt": prompt,
        "version": version,
        "name": model_version_name(prompt.name, version.title),
        "here": version_path(request, project, version.id),
        "form": form,
        "refusal": refusal,
        "predictions": counts[version.id],
        **_editor_choices(project, runtime, list_connections(session)),
        "history": [
            {
                "version": sibling,
                "predictions": counts[sibling.id],
                "accuracy": latest_accuracy(session, sibling),
                "url": version_path(request, project, sibling.id),
            }
            for sibling in siblings
        ],
        "compare_with": earlier[-1].id if earlier else None,
        "task_url": task_url_for(request, project),
        "fmt": formats,
        **run_panel(session, version, run_id, cell),
        "save_as_open": refusal is not None and refusal.field == "title",
        "confirm_save": confirm_save,
    }
    status = 400 if refusal else 409 if confirm_save else 200
    return render(request, "prompt_version.html", context, user=user, status_code=status)


def _editor_choices(project: Project, runtime: Runtime, connections: list[Any]) -> dict[str, Any]:
    """What the editor's pickers offer: the connections, the priced models (any other name
    can be typed), and the data fields a template may use."""
    return {
        "connections": connections,
        "models": sorted(runtime.prices.prices),
        "data_fields": list(project_config(project).data_fields),
    }


def _saved_or_refused(session: Session, save: Callable[[], T], conflict_field: str) -> T | Refusal:
    """What ``save`` returns, or why the services refused it (a 4xx error), for the page to
    show beside the form; ``conflict_field`` is the field a name already taken is about. The
    save runs in a savepoint, so a refused one keeps nothing; a server error (5xx) goes on to
    the error page."""
    try:
        with session.begin_nested():
            return save()
    except PrelabelError as exc:
        if exc.status >= 500:
            raise
        return Refusal.of(exc, conflict_field)


def _chosen_connection(session: Session, form: VersionForm) -> ProviderConnection:
    """The connection a new prompt's form chose; it has none to keep, so one must be chosen."""
    if form.connection is None:
        raise ValidationError("connection: choose a provider connection")
    return get_connection(session, form.connection)


def _changes(session: Session, version: PromptVersion, form: VersionForm) -> dict[str, Any]:
    return {
        "template": form.template,
        "connection": get_connection(session, form.connection) if form.connection else None,
        "model": form.model,
        "parameters": form.parameters(version.parameters),
    }


def _name(session: Session, version: PromptVersion) -> str:
    return model_version_name(service.prompt_of(session, version).name, version.title)


def _number(field: str, text: str, kind: type[int] | type[float]) -> int | float:
    try:
        return kind(text.strip())
    except ValueError:
        noun = "a whole number" if kind is int else "a number"
        raise ValidationError(f"parameters.{field}: must be {noun}, got {text!r}") from None


def _text(value: Any) -> str:
    if value is None:
        return ""
    return f"{value:g}" if isinstance(value, float) else str(value)
