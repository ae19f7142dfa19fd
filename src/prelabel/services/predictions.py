"""Predictions: creating, editing and removing them one by one, their model versions, and
removing them in bulk, while keeping every task's ``total_predictions`` exact.

Every result is checked against the project's labeling config, like an imported one (Label
Studio does not check predictions by default). A prompt version owns its ``model_version``
(``"<prompt>__<version>"``) and has at most one prediction per task, made by running it: a
prediction cannot be created under that name, nor moved to or from it.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from itertools import islice
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Row, delete, func, select, update
from sqlalchemy.orm import Session

from prelabel.errors import NotFoundError, ResultError, ValidationError
from prelabel.labeling import LabelConfig
from prelabel.services.counters import adjust_task_counters
from prelabel.services.projects import project_config
from prelabel.store import Prediction, Project, Prompt, PromptVersion, Task, get_or_raise


class Keep(enum.Enum):
    """The value of an update's argument that was not given: the field stays as it is."""

    KEEP = enum.auto()


KEEP = Keep.KEEP


def list_predictions(
    session: Session,
    *,
    task_id: int | None = None,
    project_id: int | None = None,
    task_project_id: int | None = None,
) -> list[Row[Any]]:
    """The predictions that every filter given keeps (all of them without one), by id, as
    plain rows: a long list does not fill the session.

    ``task_project_id`` is Label Studio's ``task__project``: the project of the prediction's
    task, which is always the prediction's own project here.
    """
    statement = select(Prediction.__table__).order_by(Prediction.id)
    if task_id is not None:
        statement = statement.where(Prediction.task_id == task_id)
    for project in (project_id, task_project_id):
        if project is not None:
            statement = statement.where(Prediction.project_id == project)
    return list(session.execute(statement))


def get_prediction(session: Session, prediction_id: int) -> Prediction:
    return get_or_raise(session, Prediction, prediction_id)


def create_prediction(
    session: Session,
    task_id: int,
    *,
    result: Any,
    score: float | None = None,
    model_version: str = "",
    project_id: int | None = None,
) -> Prediction:
    """A prediction of task ``task_id``, counted in its ``total_predictions``.

    ``result`` is a list of regions, or one of Label Studio's shorthands (see
    ``prediction_result``). ``project_id``, when given, must be the task's project.
    """
    task = session.get(Task, task_id)
    if task is None:
        raise ValidationError(f"task: task {task_id} does not exist")
    if project_id is not None and project_id != task.project_id:
        raise ValidationError(
            f"project: task {task_id} belongs to project {task.project_id}, not {project_id}"
        )
    project = get_or_raise(session, Project, task.project_id)
    _check_model_version_is_free(session, project.id, model_version)
    prediction = Prediction(
        task_id=task.id,
        project_id=project.id,
        result=prediction_result(project_config(project), result, task.data),
        score=score,
        model_version=model_version,
    )
    session.add(prediction)
    adjust_task_counters(session, task.id, total_predictions=1)
    session.flush()
    return prediction


def update_prediction(
    session: Session,
    prediction: Prediction,
    *,
    result: Any = KEEP,
    score: float | None | Keep = KEEP,
    model_version: str | Keep = KEEP,
) -> Prediction:
    """Change the given fields of ``prediction``; a new result is checked like a new one.

    A prompt version's prediction keeps its ``model_version``: the name is the version's.
    """
    # Every check before any change, so that a refused update alters nothing.
    if model_version is not KEEP and model_version != prediction.model_version:
        _check_model_version_change(session, prediction, model_version)
    if result is not KEEP:
        task = get_or_raise(session, Task, prediction.task_id)
        project = get_or_raise(session, Project, prediction.project_id)
        result = prediction_result(project_config(project), result, task.data)
    for name, value in (("result", result), ("score", score), ("model_version", model_version)):
        if value is not KEEP:
            setattr(prediction, name, value)
    session.flush()
    return prediction


def delete_prediction(session: Session, prediction: Prediction) -> None:
    """Delete one prediction; annotations made from it stay, their ``parent_prediction``
    cleared by the database."""
    session.delete(prediction)
    adjust_task_counters(session, prediction.task_id, total_predictions=-1)
    session.flush()


def prediction_result(config: LabelConfig, result: Any, data: Mapping[str, Any]) -> list[Any]:
    """``result`` as a list of regions that fits ``config``, or ResultError naming the fault.

    Besides a list, Label Studio's shorthands are read: an object is the ``value`` of the
    first control whose type is one of its keys (``{"choices": ["Positive"]}``); a string is
    the answer of the first Choices or TextArea control, a number that of the first Rating or
    Number control. Unlike Label Studio, which stores a shorthand it cannot place as null,
    one that fits no control is an error.
    """
    if isinstance(result, dict):
        result = _value_shorthand(config, result)
    elif isinstance(result, str | int | float) and not isinstance(result, bool):
        result = _answer_shorthand(config, result)
    return checked_result(config, result, data)


def checked_result(config: LabelConfig, result: Any, data: Mapping[str, Any]) -> list[Any]:
    """``result`` when it fits ``config`` for a task with ``data`` (the check imports make);
    otherwise its ResultError or TaskDataError, naming the field ``result``."""
    try:
        config.check_result(result, data)
    except ValidationError as exc:
        raise type(exc)(f"result: {exc.message}") from exc
    _check_storable(result)
    return result


def _check_storable(result: list[Any]) -> None:
    """Refuse what fits the config but not the database: JSON nested past what the encoder
    takes, integers past 64 bits, and NUL characters, which PostgreSQL cannot store."""
    try:
        orjson.dumps(result)
    except orjson.JSONEncodeError as exc:
        raise ResultError(f"result: cannot be stored as JSON: {exc}") from None
    if _has_nul(result):
        raise ResultError(
            "result: contains a NUL character (\\u0000), which PostgreSQL cannot store"
        )


def _has_nul(value: Any) -> bool:
    """Whether a string inside ``value`` holds a NUL (the encoder bounded its depth)."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


def _value_shorthand(config: LabelConfig, value: dict[str, Any]) -> list[dict[str, Any]]:
    for control in config.controls.values():
        if control.type in value:
            return [control.region(control.to_name[0], value)]
    kinds = ", ".join(dict.fromkeys(control.type for control in config.controls.values()))
    raise ResultError(
        f"result: an object must be a control's value keyed by its type ({kinds}), "
        f"got keys {', '.join(map(repr, value)) or 'none'}"
    )


#: The value of a region answering with a bare string or number, by control type.
_ANSWER_VALUES: dict[str, tuple[type | tuple[type, ...], Callable[[Any], dict[str, Any]]]] = {
    "choices": (str, lambda answer: {"choices": [answer]}),
    "textarea": (str, lambda answer: {"text": [answer]}),
    "rating": (int, lambda answer: {"rating": answer}),
    "number": ((int, float), lambda answer: {"number": answer}),
}


def _answer_shorthand(config: LabelConfig, answer: str | float) -> list[dict[str, Any]]:
    for control in config.controls.values():
        if control.type in _ANSWER_VALUES:
            kind, value = _ANSWER_VALUES[control.type]
            if isinstance(answer, kind):
                return [control.region(control.to_name[0], value(answer))]
    wanted = "Choices or TextArea" if isinstance(answer, str) else "Rating or Number"
    raise ResultError(f"result: {answer!r} needs a {wanted} control to answer, and none exists")


def prompt_version_named(
    session: Session, project_id: int, model_version: str | None
) -> PromptVersion | None:
    """The project's prompt version whose predictions carry ``model_version``, if any."""
    prompt_name, separator, title = (model_version or "").partition("__")
    if not separator:
        return None
    return session.scalar(
        select(PromptVersion)
        .join(Prompt, Prompt.id == PromptVersion.prompt_id)
        .where(Prompt.project_id == project_id, Prompt.name == prompt_name)
        .where(PromptVersion.title == title)
    )


def _check_model_version_change(
    session: Session, prediction: Prediction, model_version: str
) -> None:
    if prediction.prompt_version_id is not None:
        raise ValidationError(
            f"model_version: prediction {prediction.id} was made by prompt version "
            f"{prediction.prompt_version_id}, which owns its model_version "
            f"{prediction.model_version!r}; rename the version instead"
        )
    _check_model_version_is_free(session, prediction.project_id, model_version)


def _check_model_version_is_free(session: Session, project_id: int, model_version: str) -> None:
    """Refuse a ``model_version`` that names a prompt version: its predictions are made by
    running it, one per task, and a hand-made one would pass for its output."""
    version = prompt_version_named(session, project_id, model_version)
    if version is not None:
        raise ValidationError(
            f"model_version: {model_version!r} belongs to prompt version {version.id}, whose "
            "predictions come from running it (one per task); use another model_version"
        )


def delete_predictions(session: Session, *where: ColumnElement[bool]) -> int:
    """Delete the predictions matching ``where``; returns how many went.

    Each affected task's counter drops by its own number of deleted predictions in the same
    transaction, so the Data Manager never shows a stale count (Label Studio's can be). Both
    steps are single set-based statements: a million deletions hold no list in memory.
    """
    removed = (
        select(func.count(Prediction.id))
        .where(Prediction.task_id == Task.id, *where)
        .scalar_subquery()
    )
    session.execute(
        update(Task)
        .where(Task.id.in_(select(Prediction.task_id).where(*where)))
        .values(total_predictions=Task.total_predictions - removed)
        .execution_options(synchronize_session=False)
    )
    deleted = session.execute(
        delete(Prediction).where(*where), execution_options={"synchronize_session": False}
    )
    return deleted.rowcount


def list_model_versions(session: Session, project: Project) -> list[dict[str, Any]]:
    """Each model version of the project's predictions with its count and newest creation
    time, newest first; ``prompt_version`` is the version that makes it, if any."""
    rows = session.execute(
        select(
            Prediction.model_version,
            func.count(Prediction.id),
            func.max(Prediction.created_at),
            func.max(Prediction.prompt_version_id),
        )
        .where(Prediction.project_id == project.id)
        .group_by(Prediction.model_version)
        .order_by(func.max(Prediction.created_at).desc(), Prediction.model_version)
    ).all()
    return [
        {"model_version": version, "count": count, "latest": latest, "prompt_version": prompt}
        for version, count, latest, prompt in rows
    ]


def model_version_counts(
    session: Session, project: Project, *, limit: int | None = None
) -> dict[str, int]:
    """Prediction count by model version, newest first (the ``limit`` newest); the project's
    current version is always there, with 0 when no prediction has it (as in Label Studio)."""
    counts = {row["model_version"]: row["count"] for row in list_model_versions(session, project)}
    kept = dict(islice(counts.items(), limit))
    if project.model_version:
        kept.setdefault(project.model_version, counts.get(project.model_version, 0))
    return kept


def delete_model_version(
    session: Session, project: Project, model_version: str, *, missing_ok: bool = False
) -> int:
    """Delete every prediction of one model version in the project; returns how many.

    The project stops naming the version as its current one. A version without predictions
    is NotFound, unless ``missing_ok`` (Label Studio's API answers 0 deleted).
    """
    deleted = delete_predictions(
        session, Prediction.project_id == project.id, Prediction.model_version == model_version
    )
    if not deleted and not missing_ok:
        raise NotFoundError(f"project {project.id} has no prediction of version {model_version!r}")
    if project.model_version == model_version:
        project.model_version = None
    return deleted
