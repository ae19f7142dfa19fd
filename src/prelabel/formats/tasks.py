"""Label Studio's import task shape, read and checked against a labeling config.

Follows Label Studio's rules (LABEL_STUDIO.md §4.1): a task is either ``{"data": {...},
"annotations": [...], "predictions": [...]}`` or a flat dict that is all data; imported
annotations default to ground truth; predictions without a version get ``"undefined"``.
Unlike Label Studio, every annotation and prediction result is validated against the
config, and a bad score is an error rather than a silent null.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from prelabel.errors import ImportFormatError, ValidationError
from prelabel.labeling import LabelConfig

UNDEFINED_MODEL_VERSION = "undefined"

# Plain (not frozen) slotted dataclasses: an import builds one per task, annotation and
# prediction, and frozen dataclasses cost several times as much to construct.


@dataclass(slots=True)
class ImportedAnnotation:
    result: list[dict[str, Any]]
    ground_truth: bool
    was_cancelled: bool
    lead_time: float | None
    completed_by: int | str | None
    """A user id, an e-mail address, or None for the importing user."""
    import_id: int | None


@dataclass(slots=True)
class ImportedPrediction:
    result: list[dict[str, Any]]
    score: float | None
    model_version: str


@dataclass(slots=True)
class ImportedTask:
    data: dict[str, Any]
    meta: dict[str, Any]
    annotations: tuple[ImportedAnnotation, ...]
    predictions: tuple[ImportedPrediction, ...]


def parse_task(value: Any, where: str, config: LabelConfig) -> ImportedTask:
    """Check one task object against ``config``; errors name ``where`` and the field."""
    try:
        return _parse_task(value, config)
    except ValidationError as exc:
        raise ImportFormatError(f"{where}: {exc.message}") from exc


def _parse_task(value: Any, config: LabelConfig) -> ImportedTask:
    if not isinstance(value, dict):
        raise ImportFormatError(f"a task must be a JSON object, got {_kind(value)}")
    if "data" in value:
        data = value["data"]
        if not isinstance(data, dict):
            raise ImportFormatError(f"data must be an object, got {_kind(data)}")
        meta = value.get("meta") or {}
        if not isinstance(meta, dict):
            raise ImportFormatError(f"meta must be an object, got {_kind(meta)}")
        annotations = _list_of_objects(value, "annotations")
        predictions = _list_of_objects(value, "predictions")
    else:
        data, meta, annotations, predictions = value, {}, [], []
    config.check_task_data(data)
    return ImportedTask(
        data=data,
        meta=meta,
        annotations=tuple(
            _parse_annotation(item, f"annotations[{i}]", config, data)
            for i, item in enumerate(annotations)
        ),
        predictions=tuple(
            _parse_prediction(item, f"predictions[{i}]", config, data)
            for i, item in enumerate(predictions)
        ),
    )


def parse_prediction(
    value: Any, where: str, config: LabelConfig, data: Mapping[str, Any]
) -> ImportedPrediction:
    """Check one prediction object (``{"result", "score"?, "model_version"?}``) of a task
    whose data is ``data``; for predictions that arrive without their task, as in
    ``POST /api/projects/{id}/import/predictions``. Errors name ``where`` and the field."""
    if not isinstance(value, dict):
        raise ImportFormatError(f"{where} must be an object, got {_kind(value)}")
    if "result" not in value:
        raise ImportFormatError(f"{where} has no result")
    return _parse_prediction(value, where, config, data)


def _list_of_objects(task: Mapping[str, Any], key: str) -> list[dict[str, Any]]:
    items = task.get(key)
    if items is None:
        return []
    if not isinstance(items, list):
        raise ImportFormatError(f"{key} must be a list, got {_kind(items)}")
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise ImportFormatError(f"{key}[{index}] must be an object, got {_kind(item)}")
        if "result" not in item:
            raise ImportFormatError(f"{key}[{index}] has no result")
    return items


def _checked_result(
    item: Mapping[str, Any], where: str, config: LabelConfig, data: Mapping[str, Any]
) -> list[dict[str, Any]]:
    result = item["result"]
    try:
        config.check_result(result, data)
    except ValidationError as exc:
        raise ImportFormatError(f"{where}.result: {exc.message}") from exc
    return result


def _parse_annotation(
    item: dict[str, Any], where: str, config: LabelConfig, data: Mapping[str, Any]
) -> ImportedAnnotation:
    return ImportedAnnotation(
        result=_checked_result(item, where, config, data),
        ground_truth=_flag(item, "ground_truth", True, where),
        was_cancelled=_flag(item, "was_cancelled", False, where),
        lead_time=_number(item, "lead_time", where),
        completed_by=_completed_by(item.get("completed_by"), where),
        import_id=_import_id(item.get("id"), where),
    )


def _parse_prediction(
    item: dict[str, Any], where: str, config: LabelConfig, data: Mapping[str, Any]
) -> ImportedPrediction:
    version = item.get("model_version")
    if version is None:
        version = UNDEFINED_MODEL_VERSION
    elif not isinstance(version, str):
        raise ImportFormatError(f"{where}.model_version must be a string, got {_kind(version)}")
    return ImportedPrediction(
        result=_checked_result(item, where, config, data),
        score=_number(item, "score", where),
        model_version=version,
    )


def _flag(item: Mapping[str, Any], key: str, default: bool, where: str) -> bool:
    value = item.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise ImportFormatError(f"{where}.{key} must be true or false, got {_kind(value)}")
    return value


def _number(item: Mapping[str, Any], key: str, where: str) -> float | None:
    value = item.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise ImportFormatError(f"{where}.{key} must be a number, got {value!r}")
    return float(value)


def _completed_by(value: Any, where: str) -> int | str | None:
    """Label Studio accepts a user id or ``{"email": ...}``; so do we."""
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    if isinstance(value, dict) and isinstance(value.get("email"), str) and value["email"].strip():
        return value["email"].strip().lower()
    raise ImportFormatError(
        f'{where}.completed_by must be a user id or {{"email": ...}}, got {value!r}'
    )


def _import_id(value: Any, where: str) -> int | None:
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise ImportFormatError(f"{where}.id must be an integer, got {_kind(value)}")


def _kind(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "a number"
    return names.get(type(value), type(value).__name__)
