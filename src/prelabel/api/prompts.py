"""``/api/prompts/...``: provider connections, prompts and their versions.

Handlers parse the request, call the service the CLI calls, and return its payload. An API
key is accepted when a connection is created and never returned: payloads say only whether
one is stored (``has_api_key``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Response
from pydantic import BaseModel, ConfigDict, Field, SecretStr
from sqlalchemy.orm import Session

from prelabel.api.deps import RuntimeDep, SessionDep
from prelabel.api.params import BodyId, Id
from prelabel.api.responses import JSONBody
from prelabel.services import connections as connection_service
from prelabel.services import prompts as prompt_service
from prelabel.services.projects import get_project
from prelabel.services.serialization import connection_payload, prompt_payload, version_payload
from prelabel.store import PromptVersion


class Body(BaseModel):
    """A request body of prelabel's own endpoints: a misspelt field is an error, not ignored."""

    model_config = ConfigDict(extra="forbid")


class Capabilities(Body):
    structured_output: str | None = Field(
        default=None,
        description="Best structured-output mode the endpoint supports: json_schema (default), "
        "json_object or text.",
    )


class ConnectionCreate(Body):
    name: str = Field(description="Unique name: letters, digits, '.', '_' or '-'.")
    kind: str = Field(description="openai (any OpenAI-compatible endpoint), anthropic or local.")
    base_url: str | None = Field(default=None, description="Endpoint, e.g. http://host:8000/v1.")
    api_key: SecretStr | None = Field(
        default=None, description="Stored encrypted; write-only: never returned."
    )
    api_key_env: str | None = Field(
        default=None, description="Read the key from this server environment variable instead."
    )
    default_model: str | None = Field(default=None, description="Model of new prompt versions.")
    capabilities: Capabilities = Field(default_factory=Capabilities)


class VersionChanges(Body):
    """Changes to a version: each field given replaces the version's; the others are kept."""

    template: str | None = Field(default=None, description="Template; variables are {field}.")
    connection: BodyId | None = Field(default=None, description="Provider connection id.")
    model: str | None = None
    parameters: dict[str, Any] | None = Field(
        default=None,
        description="temperature, top_p, max_tokens, seed; replaces all of the version's.",
    )


class VersionCopy(VersionChanges):
    title: str = Field(description="Title of the new version, unique in its prompt.")


class PromptCreate(Body):
    project: BodyId
    name: str = Field(description="Unique in the project; predictions carry <name>__<title>.")
    description: str = ""
    title: str = Field(default="v1", description="Title of the first version.")
    template: str = Field(description="Template; variables are task data fields: {text}.")
    connection: BodyId = Field(description="Provider connection id.")
    model: str | None = Field(default=None, description="Default: the connection's model.")
    parameters: dict[str, Any] = Field(default_factory=dict)


class PromptRename(Body):
    name: str


class VersionRename(Body):
    title: str


# -- provider connections -----------------------------------------------------------------


def list_connections(session: SessionDep) -> JSONBody:
    return JSONBody([connection_payload(c) for c in connection_service.list_connections(session)])


def create_connection(body: ConnectionCreate, session: SessionDep, runtime: RuntimeDep) -> JSONBody:
    connection = connection_service.add_connection(
        session,
        runtime.box,
        name=body.name,
        kind=body.kind,
        base_url=body.base_url,
        api_key=body.api_key.get_secret_value() if body.api_key is not None else None,
        api_key_env=body.api_key_env,
        default_model=body.default_model,
        structured_output=body.capabilities.structured_output,
    )
    return JSONBody(connection_payload(connection), status_code=201)


def get_connection(connection_id: Id, session: SessionDep) -> JSONBody:
    return JSONBody(connection_payload(connection_service.get_connection(session, connection_id)))


def delete_connection(connection_id: Id, session: SessionDep) -> Response:
    """Refused (409) while a prompt version uses the connection."""
    connection_service.delete_connection(
        session, connection_service.get_connection(session, connection_id)
    )
    return Response(status_code=204)


# -- prompts ---------------------------------------------------------------------------------


def list_prompts(
    project: Annotated[Id, Query(description="Project id.")], session: SessionDep
) -> JSONBody:
    """The project's prompts by name, each with its versions oldest first."""
    prompts = prompt_service.list_prompts(session, get_project(session, project))
    return JSONBody([prompt_payload(prompt, versions) for prompt, versions in prompts])


def create_prompt(body: PromptCreate, session: SessionDep) -> JSONBody:
    """A prompt and its first version."""
    prompt, version = prompt_service.create_prompt(
        session,
        get_project(session, body.project),
        name=body.name,
        template=body.template,
        connection=connection_service.get_connection(session, body.connection),
        model=body.model,
        parameters=body.parameters,
        description=body.description,
        title=body.title,
    )
    return JSONBody(prompt_payload(prompt, [version]), status_code=201)


def get_prompt(prompt_id: Id, session: SessionDep) -> JSONBody:
    prompt = prompt_service.get_prompt(session, prompt_id)
    return JSONBody(prompt_payload(prompt, prompt_service.prompt_versions(session, prompt)))


def rename_prompt(prompt_id: Id, body: PromptRename, session: SessionDep) -> JSONBody:
    """Rename; the predictions of every version take the new model version name."""
    prompt = prompt_service.rename_prompt(
        session, prompt_service.get_prompt(session, prompt_id), body.name
    )
    return JSONBody(prompt_payload(prompt, prompt_service.prompt_versions(session, prompt)))


def delete_prompt(prompt_id: Id, session: SessionDep) -> Response:
    """Delete with its versions, runs and predictions; refused (409) while a run is active."""
    prompt_service.delete_prompt(session, prompt_service.get_prompt(session, prompt_id))
    return Response(status_code=204)


# -- versions --------------------------------------------------------------------------------


def get_version(version_id: Id, session: SessionDep) -> JSONBody:
    return JSONBody(_version(session, prompt_service.get_version(session, version_id)))


def save_version(version_id: Id, body: VersionChanges, session: SessionDep) -> JSONBody:
    """Save: edit the version in place. Its predictions described the old version, so they
    are deleted; the answer says how many."""
    saved = prompt_service.save_version(
        session, prompt_service.get_version(session, version_id), **_changes(session, body)
    )
    return JSONBody(
        {
            "version": _version(session, saved.version),
            "deleted_predictions": saved.deleted_predictions,
        }
    )


def save_version_as(version_id: Id, body: VersionCopy, session: SessionDep) -> JSONBody:
    """Save as: a new version of the same prompt, this one's settings with the changes."""
    created = prompt_service.save_version_as(
        session,
        prompt_service.get_version(session, version_id),
        title=body.title,
        **_changes(session, body),
    )
    return JSONBody(_version(session, created), status_code=201)


def rename_version(version_id: Id, body: VersionRename, session: SessionDep) -> JSONBody:
    """Retitle; the version's predictions keep their results and take the new name."""
    version = prompt_service.rename_version(
        session, prompt_service.get_version(session, version_id), body.title
    )
    return JSONBody(_version(session, version))


def delete_version(version_id: Id, session: SessionDep) -> Response:
    """Delete with its runs and predictions; refused (409) for a prompt's only version and
    while a run of it is active."""
    prompt_service.delete_version(session, prompt_service.get_version(session, version_id))
    return Response(status_code=204)


def render_version(
    version_id: Id,
    task: Annotated[Id, Query(description="Task id, in the version's project.")],
    session: SessionDep,
) -> JSONBody:
    """The exact messages the version sends for the task, as a chat completion's
    ``messages``: the system message (the labeling task) and the rendered template."""
    messages = prompt_service.render_messages(
        session, prompt_service.get_version(session, version_id), task
    )
    return JSONBody({"task": task, "messages": messages.as_openai()})


def _version(session: Session, version: PromptVersion) -> dict[str, Any]:
    return version_payload(prompt_service.prompt_of(session, version), version)


def _changes(session: Session, body: VersionChanges) -> dict[str, Any]:
    """The edits save and save-as share, the connection resolved; ``None`` keeps a field."""
    return {
        "template": body.template,
        "connection": connection_service.get_connection(session, body.connection)
        if body.connection is not None
        else None,
        "model": body.model,
        "parameters": body.parameters,
    }
