"""Calibration of scores on constructed cases, and AUROC checked against scikit-learn."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score

from prelabel.evaluation.calibration import (
    accuracy_at_coverage,
    auroc,
    calibration,
    expected_calibration_error,
)

# A few round scores make ties common; any score in 0-1 makes them rare.
scores = st.sampled_from([0.0, 0.1, 0.5, 0.9, 1.0]) | st.floats(0.0, 1.0)
pairs = st.lists(st.tuples(scores, st.booleans()), min_size=1, max_size=40)
# Pairs with at least one right and one wrong prediction, in any order.
mixed_pairs = st.tuples(
    st.lists(st.tuples(scores, st.booleans()), max_size=40), scores, scores
).flatmap(lambda drawn: st.permutations([*drawn[0], (drawn[1], True), (drawn[2], False)]))


@pytest.mark.parametrize(
    "pairs",
    [
        # One bin: confidence 0.8, 8 of 10 right.
        pytest.param([(0.8, True)] * 8 + [(0.8, False)] * 2, id="one-bin"),
        # Bin 2: confidence 0.25, 1 of 4 right; bin 7: confidence 0.75, 3 of 4 right.
        pytest.param(
            [(0.25, True)] + [(0.25, False)] * 3 + [(0.75, True)] * 3 + [(0.75, False)],
            id="two-bins",
        ),
        pytest.param([(1.0, True)] * 3 + [(0.0, False)] * 2, id="certain-and-right"),
        # Scores out of 0-1 are clipped: 1.7 -> 1 (right), -0.5 -> 0 (wrong).
        pytest.param([(1.7, True), (-0.5, False)], id="clipped"),
    ],
)
def test_perfectly_calibrated_scores_have_zero_ece(pairs):
    assert expected_calibration_error(pairs) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize(
    ("pairs", "ece"),
    [
        # Confidence 1, accuracy 1/2: gap 1/2 on every task.
        pytest.param([(1.0, True), (1.0, False)] * 2, 0.5, id="confident-half-wrong"),
        # Bin 9: confidence 0.9, accuracy 1, gap 0.1 x 4 tasks; bin 3: confidence 0.3,
        # accuracy 1/2, gap 0.2 x 2 tasks -> (0.4 + 0.4) / 6 = 2/15.
        pytest.param(
            [(0.9, True)] * 4 + [(0.3, True), (0.3, False)], 2 / 15, id="two-bins-weighted"
        ),
        # One bin (7): confidence (0.72 + 0.78) / 2 = 0.75, accuracy 1/2 -> 0.25; the gap is
        # taken per bin, not per task.
        pytest.param([(0.72, True), (0.78, False)], 0.25, id="gap-per-bin"),
        # Confidence 0.1, always right: gap 0.9.
        pytest.param([(0.1, True)] * 3, 0.9, id="underconfident"),
    ],
)
def test_miscalibrated_scores_have_the_expected_ece(pairs, ece):
    assert expected_calibration_error(pairs) == pytest.approx(ece)


@pytest.mark.parametrize(
    ("pairs", "expected"),
    [
        pytest.param(
            [(0.9, True), (0.8, True), (0.3, False), (0.1, False)], 1.0, id="right-scores-higher"
        ),
        pytest.param(
            [(0.1, True), (0.3, True), (0.8, False), (0.9, False)], 0.0, id="right-scores-lower"
        ),
        pytest.param([(0.5, True), (0.5, False), (0.5, True), (0.5, False)], 0.5, id="all-ties"),
        # Right/wrong pairs: 0.9>0.5, 0.9>0.1, 0.5=0.5 (half), 0.5>0.1 -> 3.5 / 4.
        pytest.param([(0.9, True), (0.5, False), (0.5, True), (0.1, False)], 0.875, id="one-tie"),
    ],
)
def test_auroc_of_constructed_cases(pairs, expected):
    assert auroc(pairs) == pytest.approx(expected)


@pytest.mark.parametrize(
    "pairs",
    [
        pytest.param([(0.9, True), (0.2, True)], id="all-right"),
        pytest.param([(0.9, False), (0.2, False)], id="all-wrong"),
        pytest.param([], id="no-tasks"),
    ],
)
def test_auroc_is_undefined_without_both_right_and_wrong_predictions(pairs):
    assert auroc(pairs) is None


@given(mixed_pairs)
def test_auroc_matches_scikit_learn(pairs):
    expected = roc_auc_score([correct for _, correct in pairs], [score for score, _ in pairs])

    assert auroc(pairs) == pytest.approx(expected)


def test_accuracy_at_coverage_of_a_hand_built_example():
    # Four scores: each is one of the ten thresholds (index int(4 * step / 10)).
    pairs = [(0.6, False), (0.2, False), (0.8, True), (0.4, True)]

    rows = accuracy_at_coverage(pairs)

    assert rows == [
        {"threshold": 0.2, "coverage": 1.0, "accuracy": 0.5},  # all four, 2 right
        {"threshold": 0.4, "coverage": 0.75, "accuracy": pytest.approx(2 / 3)},  # 0.4 0.6 0.8
        {"threshold": 0.6, "coverage": 0.5, "accuracy": 0.5},  # 0.6 0.8
        {"threshold": 0.8, "coverage": 0.25, "accuracy": 1.0},  # 0.8
    ]


def test_accuracy_at_coverage_uses_every_tenth_of_the_scores_as_thresholds():
    # Twenty scores 0.05 ... 1.0; thresholds are the scores at indices 0, 2, 4, ..., 18.
    pairs = [((index + 1) / 20, index % 4 != 0) for index in range(20)]

    rows = accuracy_at_coverage(pairs)

    assert [row["threshold"] for row in rows] == [(index + 1) / 20 for index in range(0, 20, 2)]
    assert [row["coverage"] for row in rows] == pytest.approx([1 - k / 10 for k in range(10)])
    # Wrong at indices 0, 4, 8, 12, 16: the threshold at index 2k keeps 20 - 2k scores, of which
    # the wrong ones are those at 4j >= 2k.
    expected = []
    for start in range(0, 20, 2):
        kept = 20 - start
        wrong = len([index for index in range(0, 20, 4) if index >= start])
        expected.append((kept - wrong) / kept)
    assert [row["accuracy"] for row in rows] == pytest.approx(expected)


def test_accuracy_at_coverage_of_tied_scores_is_one_row():
    assert accuracy_at_coverage([(0.7, True), (0.7, False), (0.7, True)]) == [
        {"threshold": 0.7, "coverage": 1.0, "accuracy": pytest.approx(2 / 3)}
    ]


@given(pairs)
def test_accuracy_at_coverage_trades_coverage_for_selectivity(pairs):
    rows = accuracy_at_coverage(pairs)

    thresholds = [row["threshold"] for row in rows]
    coverages = [row["coverage"] for row in rows]
    assert 1 <= len(rows) <= 10
    assert thresholds == sorted(set(thresholds))
    assert coverages == sorted(coverages, reverse=True)
    assert rows[0]["threshold"] == min(score for score, _ in pairs)
    assert rows[0]["coverage"] == 1.0
    for row in rows:
        kept = [correct for score, correct in pairs if score >= row["threshold"]]
        assert row["coverage"] == pytest.approx(len(kept) / len(pairs))
        assert row["accuracy"] == pytest.approx(sum(kept) / len(kept))


def test_calibration_report_is_absent_without_scores():
    assert calibration([]) is None


def test_calibration_report_gathers_coverage_ece_and_auroc():
    pairs = [(0.9, True), (0.8, True), (0.3, False), (0.1, False)]

    report = calibration(pairs)

    assert report == {
        "tasks": 4,
        "coverage": accuracy_at_coverage(pairs),
        "ece": pytest.approx(expected_calibration_error(pairs)),
        "auroc": 1.0,
    }
    # Bins 9, 8, 3, 1: gaps 0.1, 0.2, 0.3, 0.1 -> 0.7 / 4.
    assert report["ece"] == pytest.approx(0.175)
