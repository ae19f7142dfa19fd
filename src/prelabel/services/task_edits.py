"""One task at a time: read it whole, create it, change its data, delete it; and delete all
of a project's tasks at once.

Task data is checked against the project's config exactly as an import checks it, so a task
made here can be labelled, prompted and exported like an imported one. Deleting relies on the
database's cascades (annotations, predictions, run worklists), one statement however many
rows go.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from prelabel.errors import TaskDataError, ValidationError
from prelabel.services.imports import storage_refusal
from prelabel.services.projects import project_config
from prelabel.services.serialization import annotator_payload, task_list_item_payload
from prelabel.services.tasks import TaskQuery, list_tasks, score_version
from prelabel.store import Project, Task, User, get_or_raise
from prelabel.store.task_filters import Selection


def get_task(session: Session, task_id: int) -> Task:
    return get_or_raise(session, Task, task_id)


def task_detail(session: Session, task: Task) -> dict[str, Any]:
    """The task as Label Studio's ``GET /api/tasks/{id}`` gives it: a task-list item with
    every annotation and prediction and its computed columns, each annotation's
    ``completed_by`` expanded to its user."""
    project = get_or_raise(session, Project, task.project_id)
    query = TaskQuery(
        selection=Selection(all=False, ids=(task.id,)), score_version=score_version(project)
    )
    page = list_tasks(session, project, page_size=1, query=query)
    payload = task_list_item_payload(page.tasks[0], full=True)
    annotator_ids = {a["completed_by"] for a in payload["annotations"]} - {None}
    annotators = {
        user.id: annotator_payload(user)
        for user in session.scalars(select(User).where(User.id.in_(annotator_ids)))
    }
    for annotation in payload["annotations"]:
        annotation["completed_by"] = annotators.get(annotation["completed_by"])
    return payload


def create_task(session: Session, project_id: int, *, data: Any, meta: Any = None) -> Task:
    """A new task of project ``project_id``, its data checked against the project's config;
    an unknown project is a ValidationError (the body is at fault, not the URL)."""
    project = session.get(Project, project_id)
    if project is None:
        raise ValidationError(f"project: project {project_id} does not exist")
    task = Task(
        project_id=project.id,
        data=_checked_data(project, data),
        meta=_checked_meta(meta),
        total_annotations=0,
        cancelled_annotations=0,
        total_predictions=0,
    )
    session.add(task)
    session.flush()
    return task


def update_task(session: Session, task: Task, *, data: Any = None, meta: Any = None) -> Task:
    """Replace the task's ``data`` (checked against the config again) and/or ``meta``; a
    None leaves it as it is. Annotations and predictions are kept."""
    if data is not None:
        task.data = _checked_data(get_or_raise(session, Project, task.project_id), data)
    if meta is not None:
        task.meta = _checked_meta(meta)
    session.flush()
    return task


def delete_task(session: Session, task: Task) -> None:
    """Delete the task with its annotations and predictions."""
    session.delete(task)
    session.flush()


def delete_project_tasks(session: Session, project: Project) -> int:
    """Delete every task of ``project`` (their annotations and predictions cascade) with one
    statement; returns how many went."""
    result = session.execute(
        delete(Task).where(Task.project_id == project.id),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount


def _checked_data(project: Project, data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise TaskDataError("data: must be an object")
    try:
        project_config(project).check_task_data(data)
    except TaskDataError as exc:
        raise TaskDataError(f"data: {exc.message}") from exc
    return _storable("data", data)


def _checked_meta(meta: Any) -> dict[str, Any]:
    if meta is None:
        return {}
    if not isinstance(meta, dict):
        raise TaskDataError("meta: must be an object")
    return _storable("meta", meta)


def _storable(field: str, value: dict[str, Any]) -> dict[str, Any]:
    """``value`` if the database can hold it. A NUL character is refused on both backends,
    though only PostgreSQL cannot store one, so a task is accepted by both or by neither."""
    if (reason := storage_refusal(value)) is not None:
        raise TaskDataError(f"{field}: {reason}")
    return value
