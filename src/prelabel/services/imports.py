"""Importing tasks, with their annotations and predictions, into a project.

An import is all or nothing: it runs in the caller's transaction and any bad task raises
before the caller commits, so a failed import leaves the project exactly as it was. Tasks are
read, checked and written in batches with bulk statements, so memory stays flat however
large the file, and counters are written with the rows they count.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from itertools import islice
from typing import Any, BinaryIO, TypeVar

import orjson
from sqlalchemy import func, select, update
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session

from prelabel.errors import ImportFormatError
from prelabel.formats import ImportedTask, RawTask, parse_task, read_tasks
from prelabel.formats.tasks import parse_prediction
from prelabel.labeling import Control, LabelConfig
from prelabel.labeling.objects import json_type
from prelabel.services.projects import project_config
from prelabel.services.users import create_user, find_user_by_email
from prelabel.store import Annotation, Prediction, Project, Task, User
from prelabel.store.bulk import insert_rows, insert_rows_returning_ids
from prelabel.store.types import MAX_INT4, utcnow

T = TypeVar("T")

#: The model version of predictions made from ``preannotated_from_fields``, as in Label Studio.
PREANNOTATED_MODEL_VERSION = "preannotated"
#: Task ids per statement when reading the tasks predictions name: far below any database's
#: limit on bound parameters.
_ID_CHUNK = 5000


@dataclass(frozen=True)
class ImportSummary:
    """What an import added, in Label Studio's response terms."""

    task_count: int
    annotation_count: int
    prediction_count: int
    task_ids: list[int] | None = None


def import_tasks(
    session: Session,
    project: Project,
    stream: BinaryIO,
    *,
    fmt: str,
    user: User | None = None,
    batch_size: int = 2000,
    return_task_ids: bool = False,
    preannotated_from_fields: Sequence[str] = (),
) -> ImportSummary:
    """Add the tasks of ``stream`` (format ``fmt``) to ``project`` on behalf of ``user``.

    Annotations without ``completed_by`` are attributed to ``user``. If the project has no
    ``model_version`` yet, it takes that of the last imported prediction, as in Label Studio.
    Each of ``preannotated_from_fields`` names a control and the data field holding a flat
    answer for it (a CSV column, say), which becomes a prediction (see ``_preannotated``).
    """
    config = project_config(project)
    preannotated = _preannotated_controls(config, preannotated_from_fields)
    annotators = _Annotators(session, default=user)
    task_ids: list[int] | None = [] if return_task_ids else None
    tasks = annotations = predictions = 0
    last_model_version: str | None = None
    for batch in _batched(read_tasks(stream, fmt), batch_size):
        parsed = [parse_task(_preannotated(raw, preannotated), raw.where, config) for raw in batch]
        wheres = [raw.where for raw in batch]
        try:
            ids = _insert_tasks(session, project.id, parsed)
            annotations += _insert_annotations(session, project.id, ids, parsed, wheres, annotators)
            predictions += _insert_predictions(session, project.id, ids, parsed)
        except (StatementError, TypeError) as exc:  # TypeError: psycopg's JSON encoding
            raise ImportFormatError(_refusal(batch, exc)) from exc
        last_model_version = next(
            (t.predictions[-1].model_version for t in reversed(parsed) if t.predictions),
            last_model_version,
        )
        tasks += len(ids)
        if task_ids is not None:
            task_ids.extend(ids)
    if tasks == 0:
        raise ImportFormatError("the file holds no tasks")
    if not project.model_version and last_model_version is not None:
        project.model_version = last_model_version
    project.updated_at = utcnow()
    session.flush()
    return ImportSummary(tasks, annotations, predictions, task_ids)


def check_import(
    session: Session, project: Project, stream: BinaryIO, **options: Any
) -> ImportSummary:
    """What ``import_tasks`` would add, with nothing kept (Label Studio's
    ``commit_to_project=false``).

    The import runs for real inside a SAVEPOINT that is then rolled back, so the answer, and
    every refusal (the database's own included), is exactly what a real import would give.
    The ids it would assign are not reported, since no task keeps them.
    """
    savepoint = session.begin_nested()
    try:
        summary = import_tasks(session, project, stream, **options)
    finally:
        savepoint.rollback()
    return replace(summary, task_ids=[] if summary.task_ids is not None else None)


def import_predictions(session: Session, project: Project, items: Sequence[Any]) -> int:
    """Add predictions to tasks of ``project``; returns how many.

    Each item is ``{"task": <id>, "result": [...], "score"?, "model_version"?}``, checked like
    a prediction inside an imported task (its result against the config and the task's data;
    ``model_version`` defaults to "undefined"). All or nothing: an item naming a task of
    another project, or none, is an error that names it. Rows go in with one bulk insert and
    the tasks' ``total_predictions`` are recounted set-based; ``project.model_version`` is
    left alone, as in Label Studio.
    """
    config = project_config(project)
    task_ids = [_task_reference(item, index) for index, item in enumerate(items)]
    reads_text = any(control.reads_text for control in config.controls.values())
    task_data = _task_data(session, project, task_ids, with_data=reads_text)
    now = utcnow()
    rows: list[dict[str, Any]] = []
    for index, (item, task_id) in enumerate(zip(items, task_ids, strict=True)):
        where = f"predictions[{index}]"
        if task_id not in task_data:
            raise ImportFormatError(f"{where}.task: task {task_id} is not in project {project.id}")
        prediction = parse_prediction(item, where, config, task_data[task_id])
        rows.append(
            {
                "task_id": task_id,
                "project_id": project.id,
                "result": prediction.result,
                "score": prediction.score,
                "model_version": prediction.model_version,
                "created_at": now,
                "updated_at": now,
            }
        )
    try:
        insert_rows(session, Prediction.__table__, rows)
    except (StatementError, TypeError) as exc:  # TypeError: psycopg's JSON encoding
        refused = next(
            (
                f"predictions[{index}]: {reason}"
                for index, row in enumerate(rows)
                if (reason := storage_refusal(row["result"])) is not None
            ),
            f"the database refused a prediction: {exc}",
        )
        raise ImportFormatError(refused) from exc
    _recount_predictions(session, task_ids)
    return len(rows)


def _task_reference(item: Any, index: int) -> int:
    where = f"predictions[{index}]"
    if not isinstance(item, dict):
        raise ImportFormatError(f"{where}: must be an object, got {json_type(item)}")
    task_id = item.get("task")
    if isinstance(task_id, bool) or not isinstance(task_id, int) or not 1 <= task_id <= MAX_INT4:
        raise ImportFormatError(f"{where}.task: must be a task id, got {task_id!r}")
    return task_id


def _task_data(
    session: Session, project: Project, task_ids: Sequence[int], *, with_data: bool
) -> dict[int, dict[str, Any]]:
    """The data of those of ``task_ids`` that are tasks of ``project``, by id; without
    ``with_data`` (no control checks results against the task's text) an empty dict stands
    for it, so the tasks' JSON is not read for nothing."""
    distinct = sorted(set(task_ids))
    found: dict[int, dict[str, Any]] = {}
    for start in range(0, len(distinct), _ID_CHUNK):
        chunk = distinct[start : start + _ID_CHUNK]
        condition = (Task.project_id == project.id, Task.id.in_(chunk))
        if with_data:
            found.update(session.execute(select(Task.id, Task.data).where(*condition)).all())
        else:
            found.update(dict.fromkeys(session.scalars(select(Task.id).where(*condition)), {}))
    return found


def _recount_predictions(session: Session, task_ids: Sequence[int]) -> None:
    """Set each task's ``total_predictions`` to its count of predictions: a set-based
    statement per chunk of tasks, exact however the rows got there."""
    distinct = sorted(set(task_ids))
    counted = (
        select(func.count(Prediction.id)).where(Prediction.task_id == Task.id).scalar_subquery()
    )
    for start in range(0, len(distinct), _ID_CHUNK):
        session.execute(
            update(Task)
            .where(Task.id.in_(distinct[start : start + _ID_CHUNK]))
            .values(total_predictions=counted)
            .execution_options(synchronize_session=False)
        )


def _preannotated_controls(config: LabelConfig, fields: Sequence[str]) -> list[Control]:
    unknown = [field for field in fields if field not in config.controls]
    if unknown:
        raise ImportFormatError(
            f"preannotated_from_fields: {', '.join(map(repr, unknown))} names no control; "
            f"controls: {', '.join(config.controls)}"
        )
    return [config.controls[field] for field in dict.fromkeys(fields)]


def _preannotated(raw: RawTask, controls: Sequence[Control]) -> Any:
    """The task of ``raw`` with a prediction (score 1, version "preannotated") per control
    whose same-named data field holds a value, as Label Studio makes them.

    A flat value becomes the control's result value: ``{"choices": [v]}``, ``{"labels":
    [v]}``, ``{"text": [v]}`` for TextArea, ``{"rating": v}``/``{"number": v}`` (numeric text,
    as CSV and TSV cells always are, read as a number); an object is taken as the value
    itself. A null or empty value (an empty CSV cell) makes no prediction. The field stays in
    the data, and the prediction is checked like any other, so a value the control cannot
    hold is an error naming the task. A task lacking the field is an error too, since the
    file does not have the column it was said to have.
    """
    task = raw.value
    data = task.get("data", task) if isinstance(task, dict) else None
    if not controls or not isinstance(data, dict):
        return task  # parse_task says what is wrong with it
    for control in controls:
        if control.name not in data:
            raise ImportFormatError(
                f'{raw.where}: preannotated field "{control.name}" is not in the task data'
            )
    made = [
        {
            "result": [
                control.region(control.to_name[0], _flat_value(control, data[control.name]))
            ],
            "score": 1.0,
            "model_version": PREANNOTATED_MODEL_VERSION,
        }
        for control in controls
        if data[control.name] not in (None, "")
    ]
    full = task if "data" in task else {"data": task}
    existing = full.get("predictions")
    if existing is None:
        existing = []
    if not made or not isinstance(existing, list):
        return full
    return {**full, "predictions": [*existing, *made]}


def _flat_value(control: Control, value: Any) -> Any:
    if isinstance(value, dict):
        return value
    if control.type in ("rating", "number"):
        return {control.type: _number_from_text(value)}
    key = "text" if control.type == "textarea" else control.type
    return {key: value if isinstance(value, list) else [value]}


def _number_from_text(value: Any) -> Any:
    if isinstance(value, str):
        for kind in (int, float):
            try:
                return kind(value)
            except ValueError:
                pass
    return value


def _insert_tasks(session: Session, project_id: int, tasks: list[ImportedTask]) -> list[int]:
    now = utcnow()
    rows = [
        {
            "project_id": project_id,
            "data": task.data,
            "meta": task.meta,
            "total_annotations": sum(not a.was_cancelled for a in task.annotations),
            "cancelled_annotations": sum(a.was_cancelled for a in task.annotations),
            "total_predictions": len(task.predictions),
            "created_at": now,
            "updated_at": now,
        }
        for task in tasks
    ]
    return insert_rows_returning_ids(session, Task.__table__, rows)


def _insert_annotations(
    session: Session,
    project_id: int,
    task_ids: list[int],
    tasks: list[ImportedTask],
    wheres: list[str],
    annotators: _Annotators,
) -> int:
    now = utcnow()
    rows: list[dict[str, Any]] = [
        {
            "task_id": task_id,
            "project_id": project_id,
            "result": annotation.result,
            "ground_truth": annotation.ground_truth,
            "was_cancelled": annotation.was_cancelled,
            "lead_time": annotation.lead_time,
            "completed_by_id": annotators.resolve(annotation.completed_by, f"{where}: annotations"),
            "import_id": annotation.import_id,
            "created_at": now,
            "updated_at": now,
        }
        for task_id, task, where in zip(task_ids, tasks, wheres, strict=True)
        for annotation in task.annotations
    ]
    insert_rows(session, Annotation.__table__, rows)
    return len(rows)


def _insert_predictions(
    session: Session, project_id: int, task_ids: list[int], tasks: list[ImportedTask]
) -> int:
    now = utcnow()
    rows: list[dict[str, Any]] = [
        {
            "task_id": task_id,
            "project_id": project_id,
            "result": prediction.result,
            "score": prediction.score,
            "model_version": prediction.model_version,
            "created_at": now,
            "updated_at": now,
        }
        for task_id, task in zip(task_ids, tasks, strict=True)
        for prediction in task.predictions
    ]
    insert_rows(session, Prediction.__table__, rows)
    return len(rows)


class _Annotators:
    """Resolves ``completed_by`` (user id or e-mail) to a user id, once per distinct value.

    An e-mail without an account becomes an inactive user, so the attribution survives an
    import from another Label Studio server; an unknown numeric id is an error, since it
    names an account that is not here.
    """

    def __init__(self, session: Session, default: User | None) -> None:
        self._session = session
        self._default = default.id if default else None
        self._known: dict[int | str, int] = {}

    def resolve(self, reference: int | str | None, where: str) -> int | None:
        if reference is None:
            return self._default
        if reference not in self._known:
            self._known[reference] = self._lookup(reference, where)
        return self._known[reference]

    def _lookup(self, reference: int | str, where: str) -> int:
        if isinstance(reference, int):
            user_id = self._session.scalar(select(User.id).where(User.id == reference))
            if user_id is None:
                raise ImportFormatError(
                    f"{where}: completed_by names user {reference}, who does "
                    'not exist here; use {"email": ...} instead'
                )
            return user_id
        user = find_user_by_email(self._session, reference)
        if user is None:
            user = create_user(self._session, email=reference, is_active=False)
        return user.id


def storage_refusal(value: Any) -> str | None:
    """Why ``value`` cannot be stored in a JSON column, if it cannot: PostgreSQL refuses NUL
    characters, and the JSON encoder objects nested more than 254 levels deep."""
    try:
        encoded = orjson.dumps(value)
    except TypeError as exc:
        return f"cannot be stored as JSON ({exc}: at most 254 nested levels)"
    if b"\\u0000" in encoded:
        return "contains a NUL character (\\u0000), which PostgreSQL cannot store"
    return None


def _refusal(batch: list[RawTask], error: Exception) -> str:
    """Name the task the database (or the JSON encoder on the way to it) refused."""
    for raw in batch:
        if (reason := storage_refusal(raw.value)) is not None:
            return f"{raw.where}: {reason}"
    return f"{batch[0].where} to {batch[-1].where}: the database refused a task: {error}"


def _batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch
