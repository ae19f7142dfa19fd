"""How far a prediction's score can be trusted: accuracy against coverage, expected
calibration error, and the AUROC of the score as a predictor of being right.

All three take ``(score, correct)`` pairs of the tasks that have a score.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

BINS = 10


def calibration(pairs: Sequence[tuple[float, bool]]) -> dict[str, Any] | None:
    """The calibration report, or ``None`` when no prediction has a score."""
    if not pairs:
        return None
    return {
        "tasks": len(pairs),
        "coverage": accuracy_at_coverage(pairs),
        "ece": expected_calibration_error(pairs),
        "auroc": auroc(pairs),
    }


def accuracy_at_coverage(pairs: Sequence[tuple[float, bool]]) -> list[dict[str, float]]:
    """For thresholds at each tenth of the scores: the share of tasks kept (score at or above
    the threshold) and the accuracy among them, most selective last."""
    scores = sorted(score for score, _ in pairs)
    thresholds = sorted({scores[int(len(scores) * step / BINS)] for step in range(BINS)})
    rows = []
    for threshold in thresholds:
        kept = [correct for score, correct in pairs if score >= threshold]
        rows.append(
            {
                "threshold": threshold,
                "coverage": len(kept) / len(pairs),
                "accuracy": sum(kept) / len(kept),
            }
        )
    return rows


def expected_calibration_error(pairs: Sequence[tuple[float, bool]]) -> float:
    """The mean gap between confidence and accuracy over ``BINS`` equal-width score bins,
    weighted by how many tasks each holds (scores are clipped to 0-1)."""
    bins: list[list[tuple[float, bool]]] = [[] for _ in range(BINS)]
    for score, correct in pairs:
        clipped = min(max(score, 0.0), 1.0)
        bins[min(int(clipped * BINS), BINS - 1)].append((clipped, correct))
    gap = 0.0
    for members in bins:
        if members:
            confidence = sum(score for score, _ in members) / len(members)
            accuracy = sum(correct for _, correct in members) / len(members)
            gap += abs(confidence - accuracy) * len(members)
    return gap / len(pairs)


def auroc(pairs: Sequence[tuple[float, bool]]) -> float | None:
    """The chance that a right prediction scores above a wrong one (ties count half);
    ``None`` when all are right or all wrong. Mann-Whitney U over ranks, O(n log n)."""
    positives = sum(correct for _, correct in pairs)
    negatives = len(pairs) - positives
    if not positives or not negatives:
        return None
    ordered = sorted(pairs, key=lambda pair: pair[0])
    rank_sum = 0.0
    index = 0
    while index < len(ordered):
        end = index
        while end + 1 < len(ordered) and ordered[end + 1][0] == ordered[index][0]:
            end += 1
        mean_rank = (index + end) / 2 + 1
        rank_sum += mean_rank * sum(correct for _, correct in ordered[index : end + 1])
        index = end + 1
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)
