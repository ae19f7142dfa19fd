"""Prompts and their versions: create, save in place, save as a new version, rename, delete.

A version's predictions carry ``model_version = "<prompt name>__<version title>"``. Saving a
version in place changes what it would answer, so its predictions no longer describe it and
are deleted (the caller is told how many); renaming keeps them and renames their version.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session

from prelabel.errors import ConflictError, ValidationError
from prelabel.prompting.instructions import Messages, build_messages
from prelabel.prompting.template import check_template, parse_template
from prelabel.providers.local import check_local_controls
from prelabel.services.predictions import delete_predictions
from prelabel.services.projects import project_config
from prelabel.store import (
    Prediction,
    Project,
    Prompt,
    PromptVersion,
    ProviderConnection,
    Run,
    Task,
    get_or_raise,
)
from prelabel.store.models import model_version_name

#: ``runs.ACTIVE_STATUSES``, which this module cannot import: the runs service imports it.
_IN_PROGRESS = ("Pending", "Running")
_NAME = re.compile(r"^\S(?:.{0,98}\S)?$")
_MODEL_LENGTH = PromptVersion.__table__.c.model.type.length
_PARAMETER_RANGES: dict[str, tuple[type, float, float]] = {
    "temperature": (float, 0.0, 2.0),
    "top_p": (float, 0.0, 1.0),
    "max_tokens": (int, 1, 1_000_000),
    "seed": (int, -(2**63), 2**63 - 1),
}


@dataclass(frozen=True)
class SavedVersion:
    version: PromptVersion
    deleted_predictions: int


def create_prompt(
    session: Session,
    project: Project,
    *,
    name: str,
    template: str,
    connection: ProviderConnection,
    model: str | None = None,
    parameters: dict[str, Any] | None = None,
    description: str = "",
    title: str = "v1",
) -> tuple[Prompt, PromptVersion]:
    """A prompt and its first version; the template must only use fields the config reads."""
    _check_name("name", name)
    if session.scalar(
        select(Prompt.id).where(Prompt.project_id == project.id, Prompt.name == name)
    ):
        raise ConflictError(f"project {project.id} already has a prompt named {name!r}")
    prompt = Prompt(project_id=project.id, name=name, description=description)
    session.add(prompt)
    session.flush()
    version = _new_version(
        session, project, prompt, title, template, connection, model, parameters or {}
    )
    return prompt, version


def save_version(
    session: Session,
    version: PromptVersion,
    *,
    template: str | None = None,
    connection: ProviderConnection | None = None,
    model: str | None = None,
    parameters: dict[str, Any] | None = None,
) -> SavedVersion:
    """Edit ``version`` in place and delete its predictions, which described the old one."""
    prompt, project = _owners(session, version)
    if template is not None:
        version.template = _checked_template(project, template)
    if connection is not None:
        _check_connection(project, connection)
        version.connection_id = connection.id
    if model is not None:
        version.model = _checked_model(model)
    if parameters is not None:
        version.parameters = checked_parameters(parameters)
    deleted = delete_predictions(session, Prediction.prompt_version_id == version.id)
    session.flush()
    return SavedVersion(version, deleted)


def save_version_as(
    session: Session,
    version: PromptVersion,
    *,
    title: str,
    template: str | None = None,
    connection: ProviderConnection | None = None,
    model: str | None = None,
    parameters: dict[str, Any] | None = None,
) -> PromptVersion:
    """A new version of the same prompt: ``version``'s settings with the given changes."""
    prompt, project = _owners(session, version)
    chosen = connection or session.get(ProviderConnection, version.connection_id)
    assert chosen is not None, "versions reference their connection (RESTRICT)"
    return _new_version(
        session,
        project,
        prompt,
        title,
        template if template is not None else version.template,
        chosen,
        model if model is not None else version.model,
        parameters if parameters is not None else version.parameters,
    )


def rename_prompt(session: Session, prompt: Prompt, name: str) -> Prompt:
    """Rename a prompt; every prediction of its versions takes the new model version name."""
    _check_name("name", name)
    taken = session.scalar(
        select(Prompt.id).where(
            Prompt.project_id == prompt.project_id, Prompt.name == name, Prompt.id != prompt.id
        )
    )
    if taken:
        raise ConflictError(f"project {prompt.project_id} already has a prompt named {name!r}")
    old_name = prompt.name
    prompt.name = name
    for version in session.scalars(
        select(PromptVersion).where(PromptVersion.prompt_id == prompt.id)
    ):
        _rename_predictions(session, prompt, version, model_version_name(old_name, version.title))
    session.flush()
    return prompt


def rename_version(session: Session, version: PromptVersion, title: str) -> PromptVersion:
    """Retitle a version; its predictions keep their results and take the new name."""
    prompt, _ = _owners(session, version)
    _check_unique_title(session, prompt, title, exclude=version.id)
    old_name = model_version_name(prompt.name, version.title)
    version.title = title
    _rename_predictions(session, prompt, version, old_name)
    session.flush()
    return version


def render_messages(session: Session, version: PromptVersion, task_id: int) -> Messages:
    """The exact messages ``version`` sends for task ``task_id`` of its project."""
    _, project = _owners(session, version)
    task = get_or_raise(session, Task, task_id)
    if task.project_id != project.id:
        raise ValidationError(
            f"task {task_id} belongs to project {task.project_id}, not {project.id}"
        )
    config = project_config(project)
    return build_messages(config, parse_template(version.template), task.data)


def list_prompts(session: Session, project: Project) -> list[tuple[Prompt, list[PromptVersion]]]:
    """The project's prompts by name, each with its versions oldest first."""
    prompts = session.scalars(
        select(Prompt).where(Prompt.project_id == project.id).order_by(Prompt.name)
    ).all()
    versions = session.scalars(
        select(PromptVersion)
        .where(PromptVersion.prompt_id.in_([prompt.id for prompt in prompts]))
        .order_by(PromptVersion.id)
    ).all()
    return [(p, [v for v in versions if v.prompt_id == p.id]) for p in prompts]


def delete_prompt(session: Session, prompt: Prompt) -> int:
    """Delete a prompt with its versions, their runs and predictions; returns how many
    predictions went. Refused while one of its versions has a run in progress."""
    versions = select(PromptVersion.id).where(PromptVersion.prompt_id == prompt.id)
    _check_no_run_in_progress(
        session, Run.prompt_version_id.in_(versions), f"prompt {prompt.name!r}"
    )
    deleted = delete_predictions(session, Prediction.prompt_version_id.in_(versions))
    titles = session.scalars(
        select(PromptVersion.title).where(PromptVersion.prompt_id == prompt.id)
    )
    _forget_model_versions(
        session, prompt.project_id, [model_version_name(prompt.name, t) for t in titles]
    )
    session.delete(prompt)
    session.flush()
    return deleted


def delete_version(session: Session, version: PromptVersion) -> int:
    """Delete a version with its runs and predictions; returns how many predictions went.

    Refused while it has a run in progress, and for a prompt's only version: a prompt without
    versions could neither run nor be saved as a new version (delete the prompt instead).
    """
    prompt, _ = _owners(session, version)
    _check_no_run_in_progress(
        session, Run.prompt_version_id == version.id, f"version {version.id} ({version.title!r})"
    )
    siblings = session.scalar(
        select(func.count(PromptVersion.id)).where(PromptVersion.prompt_id == prompt.id)
    )
    if siblings == 1:
        raise ConflictError(
            f"version {version.id} is the only version of prompt {prompt.name!r}; "
            "delete the prompt instead"
        )
    deleted = delete_predictions(session, Prediction.prompt_version_id == version.id)
    _forget_model_versions(
        session, prompt.project_id, [model_version_name(prompt.name, version.title)]
    )
    session.delete(version)
    session.flush()
    return deleted


def get_prompt(session: Session, prompt_id: int) -> Prompt:
    return get_or_raise(session, Prompt, prompt_id)


def prompt_versions(session: Session, prompt: Prompt) -> list[PromptVersion]:
    """The prompt's versions, oldest first."""
    return list(
        session.scalars(
            select(PromptVersion)
            .where(PromptVersion.prompt_id == prompt.id)
            .order_by(PromptVersion.id)
        )
    )


def count_version_predictions(session: Session, versions: list[PromptVersion]) -> dict[int, int]:
    """How many predictions each version made (what saving it in place would delete), by id."""
    ids = [version.id for version in versions]
    counts = dict.fromkeys(ids, 0)
    rows = session.execute(
        select(Prediction.prompt_version_id, func.count(Prediction.id))
        .where(Prediction.prompt_version_id.in_(ids))
        .group_by(Prediction.prompt_version_id)
    )
    counts.update({version_id: count for version_id, count in rows if version_id is not None})
    return counts


def prompt_of(session: Session, version: PromptVersion) -> Prompt:
    return _owners(session, version)[0]


def get_version(session: Session, version_id: int) -> PromptVersion:
    return get_or_raise(session, PromptVersion, version_id)


def checked_parameters(parameters: dict[str, Any]) -> dict[str, Any]:
    """Generation parameters, each of a known name, the right type and within range."""
    checked: dict[str, Any] = {}
    for name, value in parameters.items():
        if name not in _PARAMETER_RANGES:
            raise ValidationError(
                f"parameters: unknown {name!r}; known: {', '.join(_PARAMETER_RANGES)}"
            )
        if value is None:
            continue
        kind, low, high = _PARAMETER_RANGES[name]
        valid_type = isinstance(value, int | float) if kind is float else isinstance(value, int)
        if (
            isinstance(value, bool)
            or not valid_type
            or (kind is float and not math.isfinite(value))
        ):
            raise ValidationError(f"parameters.{name}: must be {kind.__name__}, got {value!r}")
        if not low <= value <= high:
            raise ValidationError(f"parameters.{name}: must be between {low:g} and {high:g}")
        checked[name] = kind(value)
    return checked


def _new_version(
    session: Session,
    project: Project,
    prompt: Prompt,
    title: str,
    template: str,
    connection: ProviderConnection,
    model: str | None,
    parameters: dict[str, Any],
) -> PromptVersion:
    _check_unique_title(session, prompt, title)
    _check_connection(project, connection)
    version = PromptVersion(
        prompt_id=prompt.id,
        title=title,
        template=_checked_template(project, template),
        connection_id=connection.id,
        model=_checked_model(model or connection.default_model),
        parameters=checked_parameters(parameters),
    )
    session.add(version)
    session.flush()
    return version


def _owners(session: Session, version: PromptVersion) -> tuple[Prompt, Project]:
    prompt = session.get(Prompt, version.prompt_id)
    project = session.get(Project, prompt.project_id) if prompt else None
    assert prompt is not None and project is not None, "foreign keys keep versions owned"
    return prompt, project


def _check_connection(project: Project, connection: ProviderConnection) -> None:
    """The local model answers some controls only; a version it cannot run is refused now."""
    if connection.kind == "local":
        check_local_controls(project_config(project))


def _checked_template(project: Project, text: str) -> str:
    check_template(parse_template(text), project_config(project))
    return text


def _checked_model(model: str | None) -> str:
    if not model or not model.strip():
        raise ValidationError("model: required (the connection has no default model)")
    if len(model.strip()) > _MODEL_LENGTH:
        raise ValidationError(f"model: at most {_MODEL_LENGTH} characters")
    return model.strip()


def _check_unique_title(
    session: Session, prompt: Prompt, title: str, *, exclude: int | None = None
) -> None:
    _check_name("title", title)
    query = select(PromptVersion.id).where(
        PromptVersion.prompt_id == prompt.id, PromptVersion.title == title
    )
    if exclude is not None:
        query = query.where(PromptVersion.id != exclude)
    if session.scalar(query):
        raise ConflictError(f"prompt {prompt.name!r} already has a version titled {title!r}")


def _check_name(field: str, value: str) -> None:
    if not _NAME.match(value) or "__" in value:
        raise ValidationError(
            f"{field}: {value!r} must be 1-100 characters without leading or trailing spaces "
            "and without '__' (it separates prompt and version in model versions)"
        )


def _check_no_run_in_progress(session: Session, of: ColumnElement[bool], what: str) -> None:
    """Deleting under a run in progress would leave its executor writing predictions of a
    version that no longer exists; it must end (or be canceled) first."""
    active = session.scalar(
        select(Run.id).where(of, Run.status.in_(_IN_PROGRESS)).order_by(Run.id).limit(1)
    )
    if active is not None:
        raise ConflictError(f"{what} has run {active} in progress; cancel it first")


def _rename_predictions(
    session: Session, prompt: Prompt, version: PromptVersion, old_name: str
) -> None:
    """Give the version's predictions its new name; a project whose chosen model version
    (its prediction score, its prelabels) was the old name follows it."""
    new_name = model_version_name(prompt.name, version.title)
    session.execute(
        update(Prediction)
        .where(Prediction.prompt_version_id == version.id)
        .values(model_version=new_name)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(Project)
        .where(Project.id == prompt.project_id, Project.model_version == old_name)
        .values(model_version=new_name)
    )


def _forget_model_versions(session: Session, project_id: int, names: list[str]) -> None:
    """A project whose chosen model version is deleted chooses none, as deleting a model
    version's predictions does."""
    session.execute(
        update(Project)
        .where(Project.id == project_id, Project.model_version.in_(names))
        .values(model_version=None)
    )
