"""Label Studio's annotation endpoints: a task's annotations (``/api/tasks/{id}/annotations``)
and one annotation (``/api/annotations/{id}``).

(Not ``api/annotations.py``: ``from prelabel.api import annotations`` would find the
``__future__`` feature that ``prelabel/api/__init__.py`` imports under that name.)

Annotations created here are not ground truth unless they say so (imported ones are), and
belong to the acting user unless ``completed_by`` names another.
"""

from __future__ import annotations

from typing import Annotated, Any

from annotated_types import Ge
from fastapi import Query, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from prelabel.api.deps import CurrentUser, SessionDep
from prelabel.api.params import BodyId, FiniteNumber, Id, sent_fields
from prelabel.api.responses import JSONBody
from prelabel.services import annotations as service
from prelabel.store import Annotation

_RESULT = "A list of regions, or the JSON text of one."
Flag = Annotated[bool, Field(strict=True)]
LeadTime = Annotated[FiniteNumber, Ge(0)]


class AnnotationCreate(BaseModel):
    model_config = ConfigDict(extra="allow")

    result: Any = Field(default_factory=list, description=_RESULT)
    ground_truth: Flag = False
    was_cancelled: Flag = False
    lead_time: LeadTime | None = Field(default=None, description="Seconds spent on it.")
    completed_by: BodyId | None = Field(default=None, description="Default: the acting user.")
    parent_prediction: BodyId | None = Field(
        default=None, description="The task's prediction it was made from."
    )


class AnnotationUpdate(BaseModel):
    """Only the fields sent change; ``ground_truth: true`` clears it on the task's others."""

    model_config = ConfigDict(extra="allow")

    result: Any = Field(default=None, description=_RESULT)
    ground_truth: Flag = False
    was_cancelled: Flag = False
    lead_time: LeadTime | None = None
    completed_by: BodyId = Field(default=None, description="A user id.")


def list_annotations(task_id: Id, session: SessionDep) -> JSONBody:
    """A plain array by id, without cancelled (skipped) annotations, as Label Studio lists."""
    annotations = service.list_annotations(session, task_id)
    return JSONBody(service.annotation_payloads(session, annotations))


def create_annotation(
    task_id: Id,
    body: AnnotationCreate,
    session: SessionDep,
    user: CurrentUser,
    was_cancelled: Annotated[
        bool, Query(description="Label Studio's other way to send was_cancelled.")
    ] = False,
) -> JSONBody:
    annotation = service.create_annotation(
        session,
        task_id,
        user=user,
        result=body.result,
        ground_truth=body.ground_truth,
        was_cancelled=body.was_cancelled or was_cancelled,
        lead_time=body.lead_time,
        completed_by=body.completed_by,
        parent_prediction=body.parent_prediction,
    )
    return _answer(session, annotation, status_code=201)


def get_annotation(annotation_id: Id, session: SessionDep) -> JSONBody:
    return _answer(session, service.get_annotation(session, annotation_id))


def update_annotation(annotation_id: Id, body: AnnotationUpdate, session: SessionDep) -> JSONBody:
    annotation = service.update_annotation(
        session, service.get_annotation(session, annotation_id), **sent_fields(body)
    )
    return _answer(session, annotation)


def delete_annotation(annotation_id: Id, session: SessionDep) -> Response:
    service.delete_annotation(session, service.get_annotation(session, annotation_id))
    return Response(status_code=204)


def _answer(session: Session, annotation: Annotation, status_code: int = 200) -> JSONBody:
    return JSONBody(service.annotation_payloads(session, [annotation])[0], status_code=status_code)
