"""The task page: a task's data, its annotations and its predictions, and what a person does
with them: accept a prediction, edit an annotation's answers, mark the ground truth.

A task opened from the Data Manager carries the view's query string, so its previous and next
buttons follow the view's filters and order, and the way back returns to the same view. Forms
post that query string along, and each comes back to the task with what it did.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any

from fastapi import Depends, Form, Request
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.responses import Response

from prelabel.api.deps import SessionDep
from prelabel.api.params import Id
from prelabel.errors import ValidationError
from prelabel.labeling import Choices, LabelConfig, Number, Rating, TextArea
from prelabel.services.annotations import (
    accept_prediction,
    get_annotation,
    set_annotation_answers,
    update_annotation,
)
from prelabel.services.predictions import get_prediction
from prelabel.services.projects import get_project, project_config
from prelabel.services.task_edits import get_task, task_detail
from prelabel.services.tasks import adjacent_tasks, score_version
from prelabel.store import Annotation, Prediction, Project, Task
from prelabel.web.data_view import DataView
from prelabel.web.errors import held_by, refusals_go_back_to
from prelabel.web.rendering import flash, page_path, redirect, render
from prelabel.web.sessions import WebUser
from prelabel.web.task_view import (
    by_model_version,
    editable_controls,
    legend,
    result_cards,
    shown_objects,
    shown_result,
)

_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


async def posted_form(request: Request) -> FormData:
    """The posted form as a whole, for fields named after the config's controls."""
    return await request.form()


PostedForm = Annotated[FormData, Depends(posted_form)]


def task_page(
    request: Request,
    project_id: Id,
    task_id: Id,
    session: SessionDep,
    user: WebUser,
    show: str = "",
) -> Response:
    """The task; ``show`` (``annotation-3``, ``prediction-5``) picks whose spans the text
    highlights, by default the ground truth, else the newest annotation, else a prediction."""
    project, task = _task_of(session, project_id, task_id)
    config = project_config(project)
    view_query = _kept_view(request)
    previous, following = _neighbours(session, project, task, view_query)
    detail = task_detail(session, task)
    annotations, predictions = result_cards(config, detail)
    shown = shown_result(config, show, annotations, predictions)
    context = {
        "project": project,
        "task": detail,
        "objects": shown_objects(config, task.data, shown["item"]["view"].spans if shown else ()),
        "shown": shown,
        "legend": legend(config),
        "annotations": annotations,
        "prediction_groups": by_model_version(predictions),
        "editable": editable_controls(config),
        "view_query": view_query,
        "links": {
            "previous": previous and _task_url(request, project.id, previous, view_query),
            "next": following and _task_url(request, project.id, following, view_query),
            "data_manager": _with_query(
                page_path(request, "data_manager", project_id=project.id), view_query
            ),
            "self": _task_url(request, project.id, task.id, view_query),
        },
    }
    return render(request, "task.html", context, user=user)


def accept(
    request: Request,
    project_id: Id,
    task_id: Id,
    prediction_id: Id,
    session: SessionDep,
    user: WebUser,
    view: Annotated[str, Form()] = "",
) -> Response:
    """Turn the prediction into an annotation by the user, and show it on the text."""
    _, task, back = _task_and_back(request, session, project_id, task_id, view)
    with refusals_go_back_to(back):
        prediction = _prediction_of(session, task, prediction_id)
        annotation = accept_prediction(session, prediction, user=user)
    version = prediction.model_version or "(no model version)"
    flash(
        request, "success", f"Accepted the prediction of {version} as annotation #{annotation.id}"
    )
    return redirect(_with_query(back, f"show=annotation-{annotation.id}"))


def edit_annotation(
    request: Request,
    project_id: Id,
    task_id: Id,
    annotation_id: Id,
    session: SessionDep,
    form: PostedForm,
    view: Annotated[str, Form()] = "",
) -> Response:
    """Save the answers the form edits (the controls it names in ``edited``); an answer the
    config refuses changes nothing and says why."""
    project, task, back = _task_and_back(request, session, project_id, task_id, view)
    with refusals_go_back_to(back):
        annotation = _annotation_of(session, task, annotation_id)
        answers = form_answers(project_config(project), form)
        set_annotation_answers(session, annotation, answers)
    flash(request, "success", f"Saved annotation #{annotation.id}")
    return redirect(back)


def set_ground_truth(
    request: Request,
    project_id: Id,
    task_id: Id,
    annotation_id: Id,
    session: SessionDep,
    ground_truth: Annotated[bool, Form()],
    view: Annotated[str, Form()] = "",
) -> Response:
    """Mark the annotation as the task's ground truth (unmarking any other), or unmark it."""
    _, task, back = _task_and_back(request, session, project_id, task_id, view)
    with refusals_go_back_to(back):
        annotation = _annotation_of(session, task, annotation_id)
        update_annotation(session, annotation, ground_truth=ground_truth)
    said = "is now the ground truth" if ground_truth else "is no longer the ground truth"
    flash(request, "success", f"Annotation #{annotation.id} {said}")
    return redirect(back)


def form_answers(config: LabelConfig, form: FormData) -> dict[str, Any]:
    """The answers an edit form sends, typed for their controls: the form names each control
    it shows in ``edited`` and its answer in ``answer.<control>``; an empty field is None."""
    answers: dict[str, Any] = {}
    for name in form.getlist("edited"):
        if not isinstance(name, str):
            continue
        control = config.controls.get(name)
        sent = [value for value in form.getlist(f"answer.{name}") if isinstance(value, str)]
        if isinstance(control, Choices):
            chosen = [value for value in sent if value]
            answers[name] = chosen if control.multiple else _one(chosen)
            continue
        text = sent[0] if sent else ""
        if isinstance(control, TextArea):
            text = text.replace("\r\n", "\n")
            answers[name] = text if text.strip() else None
        elif not text.strip():
            answers[name] = None
        elif isinstance(control, Number):
            answers[name] = _number(name, text.strip())
        elif isinstance(control, Rating):
            if not text.strip().isdecimal():
                raise ValidationError(f"{name}: {text!r} is not a whole number of stars")
            answers[name] = int(text.strip())
        else:
            answers[name] = text  # the service says what is wrong with it
    return answers


def _one(chosen: list[str]) -> Any:
    """A single choice's answer: None, the one chosen, or the list (which the config refuses)."""
    if not chosen:
        return None
    return chosen[0] if len(chosen) == 1 else chosen


def _number(name: str, text: str) -> int | float:
    if not _NUMBER.fullmatch(text):
        raise ValidationError(f"{name}: {text!r} is not a number")
    if re.fullmatch(r"[+-]?\d+", text):
        return int(text)
    number = float(text)
    if not math.isfinite(number):
        raise ValidationError(f"{name}: {text!r} is not a finite number")
    return number


def _task_of(session: Session, project_id: int, task_id: int) -> tuple[Project, Task]:
    project = get_project(session, project_id)
    task = get_task(session, task_id)
    return project, held_by(task, project, task.project_id)


def _task_and_back(
    request: Request, session: Session, project_id: int, task_id: int, view: str
) -> tuple[Project, Task, str]:
    """The project's task, and its page in the Data Manager view it was opened from: the page
    a form about the task comes back to, whether it was done or refused."""
    project, task = _task_of(session, project_id, task_id)
    return project, task, _task_url(request, project.id, task.id, view)


def _prediction_of(session: Session, task: Task, prediction_id: int) -> Prediction:
    prediction = get_prediction(session, prediction_id)
    return held_by(prediction, task, prediction.task_id)


def _annotation_of(session: Session, task: Task, annotation_id: int) -> Annotation:
    annotation = get_annotation(session, annotation_id)
    return held_by(annotation, task, annotation.task_id)


def _kept_view(request: Request) -> str:
    """The Data Manager view this page was opened from, as its query string; "" when it
    cannot be read."""
    try:
        return DataView.from_params(request.query_params).query_string()
    except ValidationError:
        return ""


def _neighbours(
    session: Session, project: Project, task: Task, view_query: str
) -> tuple[int | None, int | None]:
    """The tasks before and after this one in the view; in id order when the view's filters
    cannot be read (a link from an older page, say)."""
    try:
        query = DataView.from_query_string(view_query).task_query(
            score_version=score_version(project)
        )
        return adjacent_tasks(session, project, task.id, query)
    except ValidationError:
        return adjacent_tasks(session, project, task.id)


def _task_url(request: Request, project_id: int, task_id: int, query: str) -> str:
    return _with_query(page_path(request, "task", project_id=project_id, task_id=task_id), query)


def _with_query(path: str, query: str) -> str:
    if not query:
        return path
    return f"{path}{'&' if '?' in path else '?'}{query}"
