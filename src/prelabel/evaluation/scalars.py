"""Metrics of free text (TextArea) and numbers (Number, Rating).

Text is matched exactly and after normalising (case, punctuation, spacing), and scored by
token-level F1, the usual measure for short extracted answers. Numbers are matched exactly and
scored by mean absolute error over the tasks that have a predicted number.
"""

from __future__ import annotations

import re
import string
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

from prelabel.evaluation.classification import ratio

TextCase = tuple[int, str, str | None]
NumberCase = tuple[int, float, float | None]

_PUNCTUATION = re.compile(f"[{re.escape(string.punctuation)}]")


def normalise(text: str) -> str:
    """Lower case, no punctuation, spaces collapsed: ``"Fine,  thanks!"`` → ``"fine thanks"``."""
    return " ".join(_PUNCTUATION.sub(" ", text.casefold()).split())


def token_f1(truth: str, predicted: str) -> float:
    """F1 of the normalised tokens two texts share (as bags); two empty texts agree fully."""
    expected, given = normalise(truth).split(), normalise(predicted).split()
    if not expected and not given:
        return 1.0
    shared = sum((Counter(expected) & Counter(given)).values())
    if not shared:
        return 0.0
    precision, recall = shared / len(given), shared / len(expected)
    return 2 * precision * recall / (precision + recall)


def text_metrics(cases: Sequence[TextCase]) -> tuple[dict[str, Any], dict[str, list[int]]]:
    cells: dict[str, list[int]] = defaultdict(list)
    exact = normalised = 0
    f1 = 0.0
    for task, truth, predicted in cases:
        given = predicted if predicted is not None else ""
        if predicted is not None and given == truth:
            exact += 1
        if predicted is not None and normalise(given) == normalise(truth):
            normalised += 1
            cells["match"].append(task)
        else:
            cells["mismatch"].append(task)
        f1 += token_f1(truth, given) if predicted is not None else 0.0
    metrics = {
        "kind": "text",
        "tasks": len(cases),
        "exact_match": ratio(exact, len(cases)),
        "normalised_match": ratio(normalised, len(cases)),
        "token_f1": f1 / len(cases) if cases else None,
    }
    return metrics, dict(cells)


def number_metrics(cases: Sequence[NumberCase]) -> tuple[dict[str, Any], dict[str, list[int]]]:
    cells: dict[str, list[int]] = defaultdict(list)
    exact = 0
    errors = []
    for task, truth, predicted in cases:
        if predicted is not None:
            errors.append(abs(predicted - truth))
        if predicted is not None and predicted == truth:
            exact += 1
            cells["match"].append(task)
        else:
            cells["mismatch"].append(task)
    metrics = {
        "kind": "number",
        "tasks": len(cases),
        "exact_match": ratio(exact, len(cases)),
        "mae": sum(errors) / len(errors) if errors else None,
    }
    return metrics, dict(cells)
