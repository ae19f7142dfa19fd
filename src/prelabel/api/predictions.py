"""Label Studio's predictions (``/api/predictions``) and a project's model versions
(``/api/projects/{id}/model-versions``).

Results are checked against the project's labeling config (Label Studio does not check them
by default), and a prompt version's ``model_version`` is reserved for what running it makes.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Response
from pydantic import BaseModel, ConfigDict, Field

from prelabel.api.deps import SessionDep
from prelabel.api.params import BodyId, FiniteNumber, Id, Text, sent_fields
from prelabel.api.responses import JSONBody
from prelabel.services import predictions as service
from prelabel.services.projects import get_project
from prelabel.services.serialization import prediction_resource
from prelabel.store.types import utcnow

_RESULT = (
    "A list of regions; or Label Studio's shorthands: a control's value ({'choices': [...]}), "
    "or a bare answer (a string for Choices/TextArea, a number for Rating/Number)."
)


class PredictionCreate(BaseModel):
    model_config = ConfigDict(extra="allow")

    task: BodyId
    result: Any = Field(description=_RESULT)
    score: FiniteNumber | None = None
    model_version: Text = ""
    project: BodyId | None = Field(default=None, description="The task's project, if sent.")


class PredictionUpdate(BaseModel):
    """Only the fields sent change."""

    model_config = ConfigDict(extra="allow")

    result: Any = Field(default=None, description=_RESULT)
    score: FiniteNumber | None = None
    model_version: Text = ""


class ModelVersionDeletion(BaseModel):
    model_config = ConfigDict(extra="allow")

    model_version: Text


def list_predictions(
    session: SessionDep,
    task: Id | None = None,
    project: Id | None = None,
    task__project: Id | None = None,
) -> JSONBody:
    """A plain array by id, not paginated: without a filter, every prediction there is."""
    rows = service.list_predictions(
        session, task_id=task, project_id=project, task_project_id=task__project
    )
    now = utcnow()
    return JSONBody([prediction_resource(row, now=now) for row in rows])


def create_prediction(body: PredictionCreate, session: SessionDep) -> JSONBody:
    prediction = service.create_prediction(
        session,
        body.task,
        result=body.result,
        score=body.score,
        model_version=body.model_version,
        project_id=body.project,
    )
    return JSONBody(prediction_resource(prediction), status_code=201)


def get_prediction(prediction_id: Id, session: SessionDep) -> JSONBody:
    return JSONBody(prediction_resource(service.get_prediction(session, prediction_id)))


def update_prediction(prediction_id: Id, body: PredictionUpdate, session: SessionDep) -> JSONBody:
    prediction = service.update_prediction(
        session, service.get_prediction(session, prediction_id), **sent_fields(body)
    )
    return JSONBody(prediction_resource(prediction))


def delete_prediction(prediction_id: Id, session: SessionDep) -> Response:
    service.delete_prediction(session, service.get_prediction(session, prediction_id))
    return Response(status_code=204)


def list_model_versions(
    project_id: Id,
    session: SessionDep,
    extended: bool = False,
    limit: Annotated[int | None, Query(ge=0, description="Keep the N newest.")] = None,
) -> JSONBody:
    """``{version: count}``, newest first, the project's current version always there; with
    ``extended``, ``{"static": [{model_version, count, latest, prompt_version}], "live": null}``."""
    project = get_project(session, project_id)
    if extended:
        static = service.list_model_versions(session, project)[:limit]
        return JSONBody({"static": static, "live": None})
    return JSONBody(service.model_version_counts(session, project, limit=limit))


def delete_model_version(
    project_id: Id, body: ModelVersionDeletion, session: SessionDep
) -> JSONBody:
    """Like Label Studio, a version without predictions deletes 0 (the CLI calls it an error)."""
    deleted = service.delete_model_version(
        session, get_project(session, project_id), body.model_version, missing_ok=True
    )
    return JSONBody({"deleted_predictions": deleted})
