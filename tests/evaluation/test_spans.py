"""Span metrics on hand-computed cases: exact and partial matching, duplicates, empty sides."""

from __future__ import annotations

import pytest

from prelabel.evaluation.spans import span_metrics

ZERO = {"precision": 0.0, "recall": 0.0, "f1": 0.0}
PERFECT = {"precision": 1.0, "recall": 1.0, "f1": 1.0}


def test_exact_spans_score_perfectly():
    truth = [(0, 5, "PER"), (15, 19, "ORG")]

    metrics, cells = span_metrics([(1, truth, list(reversed(truth)))])

    assert metrics["tasks"] == 1
    assert metrics["exact_match"] == 1.0
    assert metrics["exact"]["overall"] == PERFECT
    assert metrics["partial"]["overall"] == PERFECT
    assert metrics["exact"]["per_label"] == {
        "ORG": {**PERFECT, "support": 1},
        "PER": {**PERFECT, "support": 1},
    }
    assert cells == {"tp/PER": [1], "tp/ORG": [1]}


@pytest.mark.parametrize(
    ("predicted", "partial_hits"),
    [
        pytest.param([(2, 8, "PER")], 1, id="overlapping-same-label"),
        pytest.param([(0, 20, "PER")], 1, id="covering-same-label"),
        pytest.param([(6, 8, "PER")], 1, id="inside-same-label"),
        pytest.param([(2, 8, "ORG")], 0, id="overlapping-other-label"),
        pytest.param([(10, 12, "PER")], 0, id="touching-after"),
        pytest.param([(0, 5, "PER")], 0, id="touching-before"),
        pytest.param([(12, 20, "PER")], 0, id="disjoint"),
    ],
)
def test_partial_matching_counts_only_overlaps_of_the_same_label(predicted, partial_hits):
    # One true span 5..10 and one predicted span that is never exactly right.
    metrics, _ = span_metrics([(1, [(5, 10, "PER")], predicted)])

    assert metrics["exact"]["overall"] == ZERO
    assert metrics["exact_match"] == 0.0
    # One truth, one prediction: P = R = F1 = hits / 1.
    expected = float(partial_hits)
    assert metrics["partial"]["overall"] == {
        "precision": expected,
        "recall": expected,
        "f1": expected,
    }


def test_partial_overlap_is_counted_per_label():
    truth = [(0, 5, "PER"), (10, 20, "ORG"), (30, 35, "PER")]
    predicted = [(0, 4, "PER"), (12, 25, "ORG"), (40, 45, "PER")]

    metrics, cells = span_metrics([(7, truth, predicted)])

    # Exact: nothing matches -> PER tp 0 fp 2 fn 2, ORG tp 0 fp 1 fn 1.
    assert metrics["exact"]["per_label"] == {
        "ORG": {**ZERO, "support": 1},
        "PER": {**ZERO, "support": 2},
    }
    # Partial: 0..4 hits 0..5, 12..25 hits 10..20, 40..45 hits nothing.
    # PER tp 1 fp 1 fn 1 -> P 1/2, R 1/2, F1 2*1/(2+1+1) = 1/2; ORG tp 1 -> perfect.
    assert metrics["partial"]["per_label"] == {
        "ORG": {**PERFECT, "support": 1},
        "PER": {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2},
    }
    # Overall partial: tp 2 fp 1 fn 1 -> P 2/3, R 2/3, F1 4/6.
    assert metrics["partial"]["overall"] == pytest.approx(
        {"precision": 2 / 3, "recall": 2 / 3, "f1": 2 / 3}
    )
    # Cells follow exact matching.
    assert cells == {"fp/PER": [7], "fn/PER": [7], "fp/ORG": [7], "fn/ORG": [7]}


def test_duplicated_prediction_is_one_hit_and_one_false_positive():
    metrics, cells = span_metrics([(1, [(0, 5, "PER")], [(0, 5, "PER"), (0, 5, "PER")])])

    # tp 1, fp 1, fn 0 -> P 1/2, R 1, F1 2*1/(2+1+0) = 2/3, for exact and partial alike.
    expected = {"precision": 0.5, "recall": 1.0, "f1": pytest.approx(2 / 3)}
    assert metrics["exact"]["overall"] == expected
    assert metrics["partial"]["overall"] == expected
    assert metrics["exact_match"] == 0.0
    assert cells == {"tp/PER": [1], "fp/PER": [1]}


def test_one_prediction_overlapping_two_true_spans_matches_only_one():
    metrics, _ = span_metrics([(1, [(0, 5, "PER"), (6, 10, "PER")], [(3, 8, "PER")])])

    # Partial: tp 1, fp 0, fn 1 -> P 1, R 1/2, F1 2/3.
    assert metrics["partial"]["overall"] == pytest.approx(
        {"precision": 1.0, "recall": 0.5, "f1": 2 / 3}
    )


def test_duplicated_true_spans_need_two_predictions():
    truth = [(0, 5, "PER"), (0, 5, "PER")]

    once, _ = span_metrics([(1, truth, [(0, 5, "PER")])])
    twice, _ = span_metrics([(1, truth, truth)])

    # Once: tp 1, fp 0, fn 1 -> P 1, R 1/2, F1 2/3.
    assert once["exact"]["overall"] == pytest.approx({"precision": 1.0, "recall": 0.5, "f1": 2 / 3})
    assert once["exact"]["per_label"]["PER"]["support"] == 2
    assert twice["exact"]["overall"] == PERFECT
    assert twice["exact_match"] == 1.0


def test_empty_prediction_makes_every_true_span_a_false_negative():
    metrics, cells = span_metrics([(1, [(0, 5, "PER"), (6, 9, "ORG")], [])])

    # tp 0, fp 0, fn 2 -> P 0 (nothing predicted, zero_division 0), R 0, F1 0.
    assert metrics["exact"]["overall"] == ZERO
    assert metrics["partial"]["overall"] == ZERO
    assert metrics["exact"]["per_label"]["PER"] == {**ZERO, "support": 1}
    assert metrics["exact_match"] == 0.0
    assert cells == {"fn/PER": [1], "fn/ORG": [1]}


def test_empty_truth_makes_every_prediction_a_false_positive():
    metrics, cells = span_metrics([(1, [], [(0, 5, "PER"), (6, 9, "PER")])])

    # tp 0, fp 2, fn 0 -> P 0/2 = 0, R 0 (nothing to find, zero_division 0), F1 0.
    assert metrics["exact"]["overall"] == ZERO
    assert metrics["partial"]["overall"] == ZERO
    assert metrics["exact"]["per_label"] == {"PER": {**ZERO, "support": 0}}
    assert metrics["exact_match"] == 0.0
    assert cells == {"fp/PER": [1]}


def test_empty_truth_and_empty_prediction_is_an_exact_match_with_nothing_to_count():
    metrics, cells = span_metrics([(1, [], [])])

    assert metrics["exact_match"] == 1.0
    assert metrics["exact"] == {"per_label": {}, "overall": ZERO}
    assert cells == {}


def test_failed_task_counts_every_true_span_as_missed_and_is_never_an_exact_match():
    metrics, cells = span_metrics([(1, [(0, 5, "PER")], None), (2, [], None)])

    # Task 1: fn 1; task 2: nothing to count -> tp 0, fp 0, fn 1.
    assert metrics["exact"]["overall"] == ZERO
    assert metrics["exact"]["per_label"] == {"PER": {**ZERO, "support": 1}}
    assert metrics["exact_match"] == 0.0
    assert cells == {"fn/PER": [1]}


def test_metrics_add_up_over_tasks_and_exact_match_is_the_share_of_perfect_tasks():
    cases = [
        (1, [(0, 5, "PER")], [(0, 5, "PER")]),  # exact: tp 1
        (2, [(0, 5, "PER")], [(0, 4, "PER")]),  # exact: fp 1 fn 1; partial: tp 1
        (3, [(0, 5, "ORG")], [(0, 5, "ORG"), (7, 9, "PER")]),  # exact: ORG tp 1, PER fp 1
        (4, [], []),  # nothing to count; perfect
    ]

    metrics, cells = span_metrics(cases)

    # Tasks 1 and 4 are perfect: 2 / 4.
    assert metrics["exact_match"] == 0.5
    # Exact: tp 2, fp 2, fn 1 -> P 2/4, R 2/3, F1 4/(4+2+1) = 4/7.
    assert metrics["exact"]["overall"] == pytest.approx(
        {"precision": 0.5, "recall": 2 / 3, "f1": 4 / 7}
    )
    # Exact PER: tp 1, fp 2, fn 1 -> P 1/3, R 1/2, F1 2/(2+2+1) = 2/5.
    assert metrics["exact"]["per_label"]["PER"] == pytest.approx(
        {"precision": 1 / 3, "recall": 0.5, "f1": 0.4, "support": 2}
    )
    # Partial: tp 3, fp 1, fn 0 -> P 3/4, R 1, F1 6/7.
    assert metrics["partial"]["overall"] == pytest.approx(
        {"precision": 0.75, "recall": 1.0, "f1": 6 / 7}
    )
    assert cells == {
        "tp/PER": [1],
        "fp/PER": [2, 3],
        "fn/PER": [2],
        "tp/ORG": [3],
    }


def test_span_metrics_of_no_tasks_are_empty():
    metrics, cells = span_metrics([])

    assert metrics["exact_match"] is None
    assert metrics["exact"] == {"per_label": {}, "overall": ZERO}
    assert cells == {}


def test_partial_matching_finds_the_most_pairs_whatever_the_order_of_the_predictions():
    # The wide prediction overlaps both true spans, the small one only the first: pairing the
    # wide one with the second leaves every span matched (2 of 2), which a first-come
    # matching of the wide one to the first true span would miss.
    truth = [(0, 5, "PER"), (6, 10, "PER")]
    metrics, _ = span_metrics([(1, truth, [(0, 10, "PER"), (2, 4, "PER")])])

    assert metrics["partial"]["overall"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0}
