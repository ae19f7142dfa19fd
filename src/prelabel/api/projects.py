"""Label Studio's project endpoints: list, create, read, change, delete, check a config.

Bodies accept Label Studio's other project settings (``color``, ``maximum_annotations``...)
and ignore them, since the SDK sends whichever the caller passed.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request, Response
from pydantic import BaseModel, Field

from prelabel.api.deps import CurrentUser, SessionDep
from prelabel.api.params import Id, comma_ids
from prelabel.api.responses import JSONBody
from prelabel.services import projects as service


class ProjectCreate(BaseModel):
    title: str = Field(description="1 to 50 characters.")
    label_config: str = Field(description="Label Studio labeling config (XML).")
    description: str = ""


class ProjectUpdate(BaseModel):
    """Each field sent replaces the project's; the others are kept."""

    title: str | None = None
    description: str | None = None
    label_config: str | None = Field(
        default=None, description="Must parse and read data fields the project's tasks have."
    )
    model_version: str | None = Field(
        default=None,
        description='"" or a model version of the project\'s predictions; '
        "predictions_score averages its predictions.",
    )


class LabelConfigCheck(BaseModel):
    label_config: str


def list_projects(
    request: Request,
    session: SessionDep,
    page: int = 1,
    page_size: Annotated[int, Query(description="At most 100; larger asks get 100.")] = 30,
    title: Annotated[str | None, Query(description="Part of the title, any case.")] = None,
    ids: Annotated[
        list[str] | None, Query(description="Project ids, comma-separated or repeated.")
    ] = None,
) -> JSONBody:
    """Newest first, in Label Studio's envelope; a page past the last is a 404."""
    found = service.page_projects(
        session, page=page, page_size=page_size, title=title, ids=_id_list(ids)
    )
    return JSONBody(
        {
            "count": found.count,
            "next": str(request.url.include_query_params(page=page + 1))
            if found.has_next
            else None,
            "previous": str(request.url.include_query_params(page=page - 1)) if page > 1 else None,
            "results": service.project_payloads(session, found.projects),
        }
    )


def create_project(body: ProjectCreate, session: SessionDep, user: CurrentUser) -> JSONBody:
    project = service.create_project(
        session,
        title=body.title,
        label_config=body.label_config,
        description=body.description,
        created_by=user,
    )
    return JSONBody(service.project_payloads(session, [project])[0], status_code=201)


def get_project(project_id: Id, session: SessionDep) -> JSONBody:
    project = service.get_project(session, project_id)
    return JSONBody(service.project_payloads(session, [project])[0])


def update_project(project_id: Id, body: ProjectUpdate, session: SessionDep) -> JSONBody:
    project = service.update_project(
        session,
        service.get_project(session, project_id),
        service.ProjectChanges(
            title=body.title,
            description=body.description,
            label_config=body.label_config,
            model_version=body.model_version,
        ),
    )
    return JSONBody(service.project_payloads(session, [project])[0])


def delete_project(project_id: Id, session: SessionDep) -> Response:
    """Delete with its tasks, annotations, predictions, prompts and runs."""
    service.delete_project(session, service.get_project(session, project_id))
    return Response(status_code=204)


def validate_label_config(project_id: Id, body: LabelConfigCheck, session: SessionDep) -> JSONBody:
    """Whether ``label_config`` could replace the project's (400 saying why not); nothing
    changes."""
    service.check_label_config(session, service.get_project(session, project_id), body.label_config)
    return JSONBody({"label_config": body.label_config})


def _id_list(values: list[str] | None) -> list[int] | None:
    """``ids=1,2`` (Label Studio) or ``ids=1&ids=2`` (the SDK's way with lists); an empty
    ``ids=`` filters nothing, as in Label Studio."""
    return comma_ids("ids", values or []) or None
