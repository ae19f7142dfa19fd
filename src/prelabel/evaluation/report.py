"""A prompt version's answers against the ground truth: every control's metrics, overall
accuracy, failures, calibration, and the tasks behind every cell.

``evaluate`` is pure: it takes the labeling config and one ``Case`` per evaluated task and
returns an ``Evaluation``, so the same code scores a run, a version, or a test's hand-made cases.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from prelabel.evaluation.calibration import calibration
from prelabel.evaluation.classification import multi_label_metrics, ratio, single_label_metrics
from prelabel.evaluation.scalars import normalise, number_metrics, text_metrics
from prelabel.evaluation.spans import span_metrics
from prelabel.evaluation.values import kind_of, value_of
from prelabel.labeling import Control, LabelConfig

_METRICS: dict[str, Callable[[Any], tuple[dict[str, Any], dict[str, list[int]]]]] = {
    "single": single_label_metrics,
    "multiple": multi_label_metrics,
    "spans": span_metrics,
    "text": text_metrics,
    "number": number_metrics,
}
# Kinds whose missing regions mean "none" (no label checked, no span), not "not answered".
_EMPTY_WHEN_ABSENT: dict[str, Any] = {"multiple": frozenset(), "spans": []}


@dataclass(frozen=True)
class Case:
    """One evaluated task: its reference result and what the version answered.

    ``predicted`` is ``None`` when the task failed (``failure`` says how) or has no prediction.
    """

    task_id: int
    truth: Sequence[dict[str, Any]]
    predicted: Sequence[dict[str, Any]] | None
    failure: str | None = None
    score: float | None = None


@dataclass(frozen=True)
class Evaluation:
    """The report (JSON-ready) and the drill-down cells: cell name -> task ids."""

    report: dict[str, Any]
    cells: dict[str, list[int]]


def evaluate(config: LabelConfig, cases: Sequence[Case]) -> Evaluation:
    """Score ``cases`` per control and overall.

    A task is right overall when it matches the truth on every control its truth answers;
    failed tasks are wrong, and are also counted by failure kind.
    """
    controls: dict[str, Any] = {}
    cells: dict[str, list[int]] = {}
    matches: dict[int, bool] = {case.task_id: case.predicted is not None for case in cases}
    for control in config.controls.values():
        kind = kind_of(control)
        pairs = _pairs(control, kind, cases)
        if not pairs:
            continue
        metrics, control_cells = _METRICS[kind](pairs)
        controls[control.name] = metrics
        cells.update({f"{control.name}/{cell}": ids for cell, ids in control_cells.items()})
        for task, truth, predicted in pairs:
            matches[task] = matches[task] and _same(kind, truth, predicted)
    failures = Counter(case.failure or "no_prediction" for case in cases if case.predicted is None)
    for case in cases:
        if case.predicted is None:
            cells.setdefault(f"failure/{case.failure or 'no_prediction'}", []).append(case.task_id)
        cells.setdefault("overall/right" if matches[case.task_id] else "overall/wrong", []).append(
            case.task_id
        )
    scored = [(c.score, matches[c.task_id]) for c in cases if c.score is not None]
    report = {
        "tasks": len(cases),
        "accuracy": ratio(sum(matches.values()), len(cases)),
        "controls": controls,
        "failures": dict(failures.most_common()),
        "calibration": calibration(scored),
    }
    return Evaluation(report, cells)


def agreement(
    config: LabelConfig, truth: Sequence[dict[str, Any]], predicted: Sequence[dict[str, Any]]
) -> float | None:
    """The share of the controls the truth answers on which ``predicted`` matches it (0-1),
    as the Data Manager shows per task; ``None`` when the truth answers none."""
    case = Case(0, truth, predicted)
    verdicts = [
        _same(kind, pair[1], pair[2])
        for control in config.controls.values()
        for kind in (kind_of(control),)
        for pair in _pairs(control, kind, [case])
    ]
    return sum(verdicts) / len(verdicts) if verdicts else None


def percentile(values: Sequence[float], share: float) -> float | None:
    """The ``share`` quantile of ``values`` by linear interpolation (numpy's default)."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * share
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _pairs(control: Control, kind: str, cases: Sequence[Case]) -> list[tuple[int, Any, Any]]:
    """``(task, truth, predicted)`` of the cases whose truth answers ``control``."""
    empty = _EMPTY_WHEN_ABSENT.get(kind)
    pairs = []
    for case in cases:
        truth = value_of(control, case.truth)
        if truth is None:
            truth = empty
        if truth is None:
            continue
        predicted = None
        if case.predicted is not None:
            predicted = value_of(control, case.predicted)
            if predicted is None:
                predicted = empty
        pairs.append((case.task_id, truth, predicted))
    return pairs


def _same(kind: str, truth: Any, predicted: Any) -> bool:
    if predicted is None:
        return False
    if kind == "spans":
        return Counter(truth) == Counter(predicted)
    if kind == "text":
        return normalise(truth) == normalise(predicted)
    return bool(truth == predicted)
