"""Rows as Label Studio JSON: the one place that knows the task, annotation and prediction shapes.

Shapes follow Label Studio's snapshot export (LABEL_STUDIO.md §10) with full prediction
bodies; export, the task list and (later) the REST API all use these.
"""

from __future__ import annotations

from typing import Any

from prelabel.engine.worklist import is_interrupted
from prelabel.store import (
    Annotation,
    Prediction,
    Project,
    Prompt,
    PromptVersion,
    ProviderConnection,
    Run,
    Task,
    User,
)
from prelabel.store.models import model_version_name

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
    }


def prediction_payload(prediction: Prediction | Any) -> dict[str, Any]:
    return {
        "id": prediction.id,
        "result": prediction.result,
        "score": prediction.score,
        "model_version": prediction.model_version,
        "created_at": prediction.created_at,
        "updated_at": prediction.updated_at,
        "task": prediction.task_id,
        "project": prediction.project_id,
    }


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
