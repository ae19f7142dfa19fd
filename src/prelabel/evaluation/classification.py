"""Metrics of labels: one label per task (single choice, rating as classes) or a set of labels
per task (multiple choices, taxonomy paths).

Every function takes the cases of one control as ``(task id, truth, prediction)``, where a
prediction of ``None`` is a task that failed or gave no answer: it counts as wrong, against the
truth's labels, and is never a label of its own. Results are plain JSON-ready dicts; ``cells``
maps each drill-down cell (``tp/<label>``, ``fp/<label>``, ``fn/<label>``,
``confusion/<truth>/<predicted>``) to the task ids behind it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

NONE = "(none)"
"""The confusion-matrix column of tasks with no predicted label (failed, or no answer)."""

SingleCase = tuple[int, str, str | None]
MultiCase = tuple[int, frozenset[str], frozenset[str] | None]


def single_label_metrics(
    cases: Sequence[SingleCase],
) -> tuple[dict[str, Any], dict[str, list[int]]]:
    """Accuracy, per-class precision/recall/F1/support, micro and macro F1, confusion matrix."""
    cells: dict[str, list[int]] = defaultdict(list)
    counts = _Counts()
    matrix: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    correct = 0
    for task, truth, predicted in cases:
        matrix[truth][predicted or NONE] += 1
        cells[f"confusion/{truth}/{predicted or NONE}"].append(task)
        if predicted == truth:
            correct += 1
        counts.add(task, {truth}, {predicted} if predicted is not None else set(), cells)
    classes = counts.labels()
    columns = [*classes, NONE] if any(NONE in row for row in matrix.values()) else classes
    metrics = {
        "kind": "single",
        "tasks": len(cases),
        "accuracy": ratio(correct, len(cases)),
        **counts.summary(),
        "confusion_matrix": {
            "labels": classes,
            "columns": columns,
            "rows": [[matrix[truth][column] for column in columns] for truth in classes],
        },
    }
    return metrics, dict(cells)


def multi_label_metrics(cases: Sequence[MultiCase]) -> tuple[dict[str, Any], dict[str, list[int]]]:
    """Exact-match ratio, per-label precision/recall/F1/support, micro/macro F1, mean Jaccard."""
    cells: dict[str, list[int]] = defaultdict(list)
    counts = _Counts()
    exact = 0
    jaccard = 0.0
    for task, truth, predicted in cases:
        chosen = predicted if predicted is not None else frozenset()
        if predicted is not None and chosen == truth:
            exact += 1
        union = truth | chosen
        if predicted is not None:  # a failed task shares nothing, even with an empty truth
            jaccard += len(truth & chosen) / len(union) if union else 1.0
        counts.add(task, truth, chosen, cells)
    metrics = {
        "kind": "multiple",
        "tasks": len(cases),
        "exact_match": ratio(exact, len(cases)),
        "jaccard": jaccard / len(cases) if cases else None,
        **counts.summary(),
    }
    return metrics, dict(cells)


class _Counts:
    """True positives, false positives and false negatives per label, with their tasks."""

    def __init__(self) -> None:
        self.tp: dict[str, int] = defaultdict(int)
        self.fp: dict[str, int] = defaultdict(int)
        self.fn: dict[str, int] = defaultdict(int)

    def add(
        self, task: int, truth: Iterable[str], predicted: Iterable[str], cells: dict[str, list[int]]
    ) -> None:
        truth, predicted = set(truth), set(predicted)
        for label in truth | predicted:
            kind = (
                "tp" if label in truth and label in predicted else "fn" if label in truth else "fp"
            )
            getattr(self, kind)[label] += 1
            cells[f"{kind}/{label}"].append(task)

    def labels(self) -> list[str]:
        return sorted(set(self.tp) | set(self.fp) | set(self.fn))

    def summary(self) -> dict[str, Any]:
        per_class = {}
        for label in self.labels():
            tp, fp, fn = self.tp[label], self.fp[label], self.fn[label]
            per_class[label] = {**prf(tp, fp, fn), "support": tp + fn}
        tp, fp, fn = (sum(c.values()) for c in (self.tp, self.fp, self.fn))
        macro = [scores["f1"] for scores in per_class.values()]
        return {
            "per_class": per_class,
            "micro": prf(tp, fp, fn),
            "macro_f1": sum(macro) / len(macro) if macro else None,
        }


def prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    """Precision, recall and F1; a ratio with nothing to count is 0 (as scikit-learn's
    ``zero_division=0``)."""
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def ratio(part: int, whole: int) -> float | None:
    """``part / whole``, or ``None`` when there is nothing to count."""
    return part / whole if whole else None
