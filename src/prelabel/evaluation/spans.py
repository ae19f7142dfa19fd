"""Span metrics for Labels controls: precision, recall and F1 per label and overall, counting
a predicted span right when it matches a true one exactly (same start, end and label) or, for
partial matching, when it overlaps a true span of the same label.

Matching is one to one: a duplicated prediction of one true span is one hit and one false
positive, so repeating an answer never raises a score.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

from prelabel.evaluation.classification import prf

Span = tuple[int, int, str]
SpanCase = tuple[int, Sequence[Span], Sequence[Span] | None]


def span_metrics(cases: Sequence[SpanCase]) -> tuple[dict[str, Any], dict[str, list[int]]]:
    """Exact and partial span P/R/F1, per label and overall; cells by label and outcome."""
    exact = _Tally()
    partial = _Tally()
    cells: dict[str, list[int]] = defaultdict(list)
    all_exact = 0
    for task, truth, predicted in cases:
        chosen = list(predicted or [])
        hits = exact.add(task, truth, chosen, exact_hits(truth, chosen), cells)
        partial.add(task, truth, chosen, overlap_hits(truth, chosen), None)
        if predicted is not None and hits == len(truth) == len(chosen):
            all_exact += 1
    return (
        {
            "kind": "spans",
            "tasks": len(cases),
            "exact_match": all_exact / len(cases) if cases else None,
            "exact": exact.summary(),
            "partial": partial.summary(),
        },
        dict(cells),
    )


def exact_hits(truth: Sequence[Span], predicted: Sequence[Span]) -> Counter[str]:
    """True positives per label when spans must match exactly, as multisets."""
    common = Counter(truth) & Counter(predicted)
    hits: Counter[str] = Counter()
    for (_, _, label), count in common.items():
        hits[label] += count
    return hits


def overlap_hits(truth: Sequence[Span], predicted: Sequence[Span]) -> Counter[str]:
    """True positives per label when a span need only overlap a true one of its label: the
    largest one-to-one matching of overlapping pairs (augmenting paths, as in Kuhn's
    algorithm), so no order of the predictions can lose a hit."""
    hits: Counter[str] = Counter()
    partner: dict[int, int] = {}  # true span index -> predicted span index

    def overlapping(p: int) -> list[int]:
        start, end, label = predicted[p]
        return [
            t
            for t, (t_start, t_end, t_label) in enumerate(truth)
            if t_label == label and start < t_end and t_start < end
        ]

    def augment(p: int, seen: set[int]) -> bool:
        for t in overlapping(p):
            if t not in seen:
                seen.add(t)
                if t not in partner or augment(partner[t], seen):
                    partner[t] = p
                    return True
        return False

    for p in range(len(predicted)):
        augment(p, set())
    for p in partner.values():
        hits[predicted[p][2]] += 1
    return hits


class _Tally:
    def __init__(self) -> None:
        self.tp: Counter[str] = Counter()
        self.fp: Counter[str] = Counter()
        self.fn: Counter[str] = Counter()

    def add(
        self,
        task: int,
        truth: Sequence[Span],
        predicted: Sequence[Span],
        hits: Counter[str],
        cells: dict[str, list[int]] | None,
    ) -> int:
        truths = Counter(label for *_, label in truth)
        guesses = Counter(label for *_, label in predicted)
        for label in truths | guesses:
            tp = hits[label]
            fp, fn = guesses[label] - tp, truths[label] - tp
            self.tp[label] += tp
            self.fp[label] += fp
            self.fn[label] += fn
            if cells is not None:
                for kind, count in (("tp", tp), ("fp", fp), ("fn", fn)):
                    if count:
                        cells[f"{kind}/{label}"].append(task)
        return sum(hits.values())

    def summary(self) -> dict[str, Any]:
        labels = sorted(set(self.tp) | set(self.fp) | set(self.fn))
        per_label = {
            label: {
                **prf(self.tp[label], self.fp[label], self.fn[label]),
                "support": self.tp[label] + self.fn[label],
            }
            for label in labels
        }
        overall = prf(sum(self.tp.values()), sum(self.fp.values()), sum(self.fn.values()))
        return {"per_label": per_label, "overall": overall}
