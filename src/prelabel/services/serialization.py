"""Rows as Label Studio JSON: the one place that knows the task, annotation and prediction shapes.

Shapes follow Label Studio's snapshot export (LABEL_STUDIO.md §10) with full prediction
bodies; export, the task list and (later) the REST API all use these.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from prelabel.engine.worklist import is_interrupted
from prelabel.labeling import LabelConfig, Option
from prelabel.store import (
    Annotation,
    Prediction,
    Project,
    Prompt,
    PromptVersion,
    ProviderConnection,
    Run,
    RunTask,
    Task,
    User,
)
from prelabel.store.models import model_version_name
from prelabel.store.types import utcnow

if TYPE_CHECKING:
    from prelabel.services.imports import ImportSummary
    from prelabel.services.projects import ProjectCounts
    from prelabel.services.tasks import TaskPage

# Each function takes an ORM object or a plain row of its table: both expose the columns as
# attributes, and streaming export reads plain rows to keep the session's identity map empty.


def task_payload(
    task: Task | Any, *, annotations: list[dict[str, Any]], predictions: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "id": task.id,
        "data": task.data,
        "meta": task.meta,
        "annotations": annotations,
        "predictions": predictions,
        "drafts": [],
        "total_annotations": task.total_annotations,
        "cancelled_annotations": task.cancelled_annotations,
        "total_predictions": task.total_predictions,
        "created_at": task.created_at,
        "updated_at": task.updated_at,
        "project": task.project_id,
    }


def annotation_payload(annotation: Annotation | Any) -> dict[str, Any]:
    return {
        "id": annotation.id,
        "result": annotation.result,
        "completed_by": annotation.completed_by_id,
        "was_cancelled": annotation.was_cancelled,
        "ground_truth": annotation.ground_truth,
        "lead_time": annotation.lead_time,
        "created_at": annotation.created_at,
        "updated_at": annotation.updated_at,
        "task": annotation.task_id,
        "project": annotation.project_id,
        "parent_prediction": annotation.parent_prediction_id,
        "import_id": annotation.import_id,
        # Label Studio's keys for what prelabel does not track (drafts, review history, who
        # edited last): present, so clients reading them find the values LS gives by default.
        "draft_created_at": None,
        "last_action": None,
        "bulk_created": False,
        "updated_by": None,
        "parent_annotation": None,
        "last_created_by": None,
    }


def prediction_payload(prediction: Prediction | Any) -> dict[str, Any]:
    """Label Studio's prediction keys (those of ML backends and clusters are always null);
    a prediction made by a prompt version also names it, its run and what it cost."""
    payload = {
        "id": prediction.id,
        "result": prediction.result,
        "score": prediction.score,
        "model_version": prediction.model_version,
        "created_at": prediction.created_at,
        "updated_at": prediction.updated_at,
        "task": prediction.task_id,
        "project": prediction.project_id,
        "cluster": None,
        "neighbors": None,
        "mislabeling": 0.0,
        "model": None,
        "model_run": None,
    }
    if prediction.prompt_version_id is not None:
        payload.update(
            prompt_version=prediction.prompt_version_id,
            run=prediction.run_id,
            input_tokens=prediction.input_tokens,
            output_tokens=prediction.output_tokens,
            cost_usd=prediction.cost_usd,
            latency_ms=prediction.latency_ms,
            repairs=prediction.repairs,
        )
    return payload


def project_payload(project: Project) -> dict[str, Any]:
    return {
        "id": project.id,
        "title": project.title,
        "description": project.description,
        "label_config": project.label_config,
        "model_version": project.model_version,
        "created_by": project.created_by_id,
        "created_at": project.created_at,
        "updated_at": project.updated_at,
    }


def user_payload(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "is_admin": user.is_admin,
    }


def prompt_payload(prompt: Prompt, versions: list[PromptVersion]) -> dict[str, Any]:
    return {
        "id": prompt.id,
        "project": prompt.project_id,
        "name": prompt.name,
        "description": prompt.description,
        "created_at": prompt.created_at,
        "versions": [version_payload(prompt, version) for version in versions],
    }


def version_payload(prompt: Prompt, version: PromptVersion) -> dict[str, Any]:
    return {
        "id": version.id,
        "prompt": prompt.id,
        "title": version.title,
        "model_version": model_version_name(prompt.name, version.title),
        "template": version.template,
        "connection": version.connection_id,
        "model": version.model,
        "parameters": version.parameters,
        "created_at": version.created_at,
        "updated_at": version.updated_at,
    }


def connection_payload(connection: ProviderConnection) -> dict[str, Any]:
    """The connection as shown to users: whether a key is stored, never the key."""
    return {
        "id": connection.id,
        "name": connection.name,
        "kind": connection.kind,
        "base_url": connection.base_url,
        "default_model": connection.default_model,
        "has_api_key": connection.api_key_encrypted is not None,
        "api_key_env": connection.api_key_env,
        "capabilities": connection.capabilities,
        "created_at": connection.created_at,
    }


def run_payload(
    run: Run, model_version: str, failures: dict[str, int] | None = None
) -> dict[str, Any]:
    """A run with its progress; ``interrupted`` when it is Running with its process gone.

    ``failures`` (failed tasks by kind) is included when given.
    """
    payload: dict[str, Any] = {
        "id": run.id,
        "project": run.project_id,
        "prompt_version": run.prompt_version_id,
        "model_version": model_version,
        "baseline": run.baseline,
        "options": run.options,
        "status": run.status,
        "interrupted": is_interrupted(run),
        "total": run.total,
        "done": run.done,
        "failed": run.failed,
        "pending": run.total - run.done - run.failed,
        "input_tokens": run.input_tokens,
        "output_tokens": run.output_tokens,
        "cost_usd": run.cost_usd,
        "error": run.error,
        "created_at": run.created_at,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
    }
    if failures is not None:
        payload["failures"] = failures
    return payload


def prediction_resource(
    prediction: Prediction | Any, *, now: datetime | None = None
) -> dict[str, Any]:
    """A prediction as ``/api/predictions`` answers it: the export shape plus ``created_ago``."""
    return {
        **prediction_payload(prediction),
        "created_ago": created_ago(prediction.created_at, now),
    }


def annotation_resource(
    annotation: Annotation | Any, annotator: User | None, *, now: datetime | None = None
) -> dict[str, Any]:
    """An annotation as the annotation endpoints answer it: the export shape plus Label
    Studio's display keys, ``created_username`` (name, e-mail and id of its annotator) and
    ``created_ago``."""
    return {
        **annotation_payload(annotation),
        "created_username": _username(annotator),
        "created_ago": created_ago(annotation.created_at, now),
    }


def _username(user: User | None) -> str:
    """Label Studio's ``"<first> <last> <email>, <id>"``, e.g. ``" admin@example.com, 1"``."""
    if user is None:
        return ""
    name = " ".join(part for part in (user.first_name, user.last_name) if part)
    return f"{name} {user.email}, {user.id}"


_TIME_UNITS = (
    ("year", 365 * 86400),
    ("month", 30 * 86400),
    ("week", 7 * 86400),
    ("day", 86400),
    ("hour", 3600),
    ("minute", 60),
)


def created_ago(moment: datetime, now: datetime | None = None) -> str:
    """How long ago ``moment`` was, the way Label Studio (Django's ``timesince``) says it: the
    largest unit and, when not zero, the next one: "0 minutes", "3 hours, 5 minutes"."""
    seconds = max(0, int(((now or utcnow()) - moment).total_seconds()))
    index = next(
        (i for i, (_, size) in enumerate(_TIME_UNITS) if seconds >= size), len(_TIME_UNITS) - 1
    )
    unit, size = _TIME_UNITS[index]
    parts = [_count(seconds // size, unit)]
    if index + 1 < len(_TIME_UNITS):
        smaller, smaller_size = _TIME_UNITS[index + 1]
        if rest := seconds % size // smaller_size:
            parts.append(_count(rest, smaller))
    return ", ".join(parts)


def _count(n: int, unit: str) -> str:
    return f"{n} {unit}" if n == 1 else f"{n} {unit}s"


def run_failure_payload(item: RunTask) -> dict[str, Any]:
    """A failed task of a run: the failure's kind, attempts, message and raw answer's start."""
    return {
        "task": item.task_id,
        "kind": item.failure_kind,
        "attempts": item.attempts,
        "message": item.failure_message,
        "raw_excerpt": item.raw_excerpt,
    }


def project_detail_payload(
    project: Project, *, counts: ProjectCounts, created_by: User | None, config: LabelConfig
) -> dict[str, Any]:
    """A project as Label Studio's project JSON has it (LABEL_STUDIO.md §3.2), as far as
    prelabel has the fields: predictions are always shown to annotators and one annotation
    completes a task, so those two settings are constants."""
    return {
        "id": project.id,
        "title": project.title,
        "description": project.description,
        "label_config": project.label_config,
        "model_version": project.model_version,
        "created_by": creator_payload(created_by) if created_by is not None else None,
        "created_at": project.created_at,
        "updated_at": project.updated_at,
        "task_number": counts.tasks,
        "total_annotations_number": counts.annotations,
        "total_predictions_number": counts.predictions,
        "num_tasks_with_annotations": counts.tasks_with_annotations,
        "ground_truth_number": counts.ground_truth,
        "skipped_annotations_number": counts.cancelled_annotations,
        "show_collab_predictions": True,
        "maximum_annotations": 1,
        "parsed_label_config": parsed_label_config_payload(config),
    }


def parsed_label_config_payload(config: LabelConfig) -> dict[str, Any]:
    """Label Studio's ``parsed_label_config``: per control its tag, objects and option values
    (a Taxonomy's nested options flattened, parents first)."""
    return {
        name: {
            "type": control.tag,
            "to_name": list(control.to_name),
            "inputs": [
                {
                    "type": config.objects[target].tag,
                    "valueType": None,
                    "value": config.objects[target].value.removeprefix("$"),
                }
                for target in control.to_name
            ],
            "labels": _option_values(getattr(control, "options", ())),
        }
        for name, control in config.controls.items()
    }


def _option_values(options: Sequence[Option]) -> list[str]:
    return [
        value for option in options for value in (option.value, *_option_values(option.children))
    ]


def creator_payload(user: User) -> dict[str, Any]:
    """A user as Label Studio nests one in a project's ``created_by``."""
    return {
        "id": user.id,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "avatar": None,
    }


def annotator_payload(user: User) -> dict[str, Any]:
    """A user as Label Studio expands an annotation's ``completed_by`` in a single task."""
    return {**creator_payload(user), "initials": _initials(user)}


def _initials(user: User) -> str:
    """Label Studio's rule: first letters of the names, else the e-mail's first two."""
    letters = user.first_name[:1] + user.last_name[:1]
    return letters or user.email[:2]


def task_list_item_payload(task: dict[str, Any], *, full: bool) -> dict[str, Any]:
    """A task of Label Studio's task list, from a ``list_tasks`` payload.

    Adds the Data Manager columns Label Studio has and prelabel can give: ``inner_id`` (the
    id), ``is_labeled`` (one annotation completes a task), the annotation ids and annotators,
    and ``completed_at``. Without ``full`` the annotation and prediction bodies are left out,
    as Label Studio's ``fields=task_only`` does.
    """
    annotations = task["annotations"]
    item = {
        **task,
        "inner_id": task["id"],
        "is_labeled": task["total_annotations"] >= 1,
        "annotations_ids": ",".join(str(a["id"]) for a in annotations),
        "annotators": list(
            dict.fromkeys(a["completed_by"] for a in annotations if a["completed_by"] is not None)
        ),
        "completed_at": max(
            (a["created_at"] for a in annotations if not a["was_cancelled"]), default=None
        ),
    }
    if not full:
        del item["annotations"], item["predictions"]
    return item


def task_page_payload(page: TaskPage, *, full: bool) -> dict[str, Any]:
    """Label Studio's task list envelope; ``full`` (``fields=all``) keeps each task's
    annotations and predictions."""
    return {
        "total": page.total,
        "total_annotations": page.total_annotations,
        "total_predictions": page.total_predictions,
        "tasks": [task_list_item_payload(task, full=full) for task in page.tasks],
    }


def import_result_payload(summary: ImportSummary, *, duration: float) -> dict[str, Any]:
    """Label Studio's import answer; ``task_ids`` only when they were asked for. The keys
    about uploaded files are constants: prelabel keeps no uploads."""
    payload: dict[str, Any] = {
        "task_count": summary.task_count,
        "annotation_count": summary.annotation_count,
        "prediction_count": summary.prediction_count,
        "duration": duration,
        "file_upload_ids": [],
        "could_be_tasks_list": False,
        "found_formats": [],
        "data_columns": [],
    }
    if summary.task_ids is not None:
        payload["task_ids"] = summary.task_ids
    return payload
