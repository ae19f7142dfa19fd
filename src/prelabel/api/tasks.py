"""Label Studio's task endpoints: the Data Manager's task list, one task, and deleting all of
a project's tasks.

The task list reads the Data Manager's ``query`` (filters, selection, ordering) from the
query string. Saved views are not kept, so ``view`` is refused rather than ignored.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import Query, Response
from pydantic import BaseModel, Field

from prelabel.api.deps import SessionDep
from prelabel.api.params import BodyId, Id
from prelabel.api.responses import JSONBody
from prelabel.errors import NotFoundError, ValidationError
from prelabel.services import task_edits
from prelabel.services.projects import get_project
from prelabel.services.serialization import task_page_payload
from prelabel.services.task_queries import task_query_from_json
from prelabel.services.tasks import list_tasks as list_task_page
from prelabel.services.tasks import score_version


class TaskCreate(BaseModel):
    project: BodyId
    data: dict[str, Any] = Field(description="Must hold the fields the project's config reads.")
    meta: dict[str, Any] | None = None


class TaskUpdate(BaseModel):
    """Each field sent replaces the task's; annotations and predictions are kept."""

    data: dict[str, Any] | None = Field(default=None, description="Checked against the config.")
    meta: dict[str, Any] | None = None


def list_tasks(
    session: SessionDep,
    project: Annotated[Id | None, Query(description="Project id; required.")] = None,
    view: Annotated[int | None, Query(description="Not supported: pass project and query.")] = None,
    page: int = 1,
    page_size: Annotated[int, Query(description="At most 1000.")] = 100,
    fields: Annotated[
        str, Query(description="all: include annotations and predictions (the SDK's default).")
    ] = "task_only",
    query: Annotated[
        str | None,
        Query(description='JSON: {"filters": ..., "selectedItems": ..., "ordering": [...]}.'),
    ] = None,
) -> JSONBody:
    """A page of the tasks ``query`` picks, with Label Studio's totals; a page past the last
    is a 404 (what ends the SDK's paging)."""
    if project is None:
        if view is not None:
            raise ValidationError("view: saved views are not supported; pass project and query")
        raise NotFoundError("Neither project nor view id specified")
    target = get_project(session, project)
    task_query = task_query_from_json(_query_json(query), score_version=score_version(target))
    found = list_task_page(session, target, page=page, page_size=page_size, query=task_query)
    return JSONBody(task_page_payload(found, full=fields == "all"))


def create_task(body: TaskCreate, session: SessionDep) -> JSONBody:
    task = task_edits.create_task(session, body.project, data=body.data, meta=body.meta)
    return JSONBody(task_edits.task_detail(session, task), status_code=201)


def get_task(task_id: Id, session: SessionDep) -> JSONBody:
    """With every annotation (cancelled ones too) and prediction, whatever its version."""
    return JSONBody(task_edits.task_detail(session, task_edits.get_task(session, task_id)))


def update_task(task_id: Id, body: TaskUpdate, session: SessionDep) -> JSONBody:
    task = task_edits.update_task(
        session, task_edits.get_task(session, task_id), data=body.data, meta=body.meta
    )
    return JSONBody(task_edits.task_detail(session, task))


def delete_task(task_id: Id, session: SessionDep) -> Response:
    """Delete with its annotations and predictions."""
    task_edits.delete_task(session, task_edits.get_task(session, task_id))
    return Response(status_code=204)


def delete_project_tasks(project_id: Id, session: SessionDep) -> Response:
    """Delete every task of the project, with their annotations and predictions."""
    task_edits.delete_project_tasks(session, get_project(session, project_id))
    return Response(status_code=204)


def _query_json(text: str | None) -> Any:
    """The ``query`` parameter parsed; PostgreSQL cannot compare with NUL characters, so a
    string holding one is refused on both backends."""
    if not text:
        return {}
    try:
        query = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise ValidationError(f"query: not valid JSON: {exc}") from exc
    if _holds_nul(query):
        raise ValidationError("query: must not contain NUL characters")
    return query


def _holds_nul(value: Any) -> bool:
    """Whether any string in a parsed JSON value holds NUL; a loop, not recursion, since
    JSON may nest deeper than Python recurses."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str) and "\x00" in item:
            return True
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False
