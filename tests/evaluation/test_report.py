"""``evaluate``: Label Studio results scored per control and overall, with failures,
calibration and the drill-down cells."""

from __future__ import annotations

from typing import Any

import pytest

from prelabel.evaluation import Case, evaluate
from prelabel.labeling import LabelConfig, parse_label_config
from tests.factories import ALL_CONTROLS_CONFIG, SENTIMENT_CONFIG, region, sentiment

ALL_CONTROLS = parse_label_config(ALL_CONTROLS_CONFIG)
SENTIMENT = parse_label_config(SENTIMENT_CONFIG)


def topics(*labels: str) -> dict[str, Any]:
    return region("topics", "choices", {"choices": list(labels)})


def ner(start: int, end: int, label: str) -> dict[str, Any]:
    return region("ner", "labels", {"start": start, "end": end, "labels": [label]})


def comment(text: str) -> dict[str, Any]:
    return region("comment", "textarea", {"text": [text]})


def full_result(
    *, label: str = "Positive", text: str = "Nice place", rating: int = 4
) -> list[dict[str, Any]]:
    """A result answering every control of ALL_CONTROLS_CONFIG."""
    return [
        *sentiment(label),
        topics("Sports", "Politics"),
        ner(0, 5, "PER"),
        comment(text),
        region("rating", "rating", {"rating": rating}),
        region("num", "number", {"number": 3}),
        region("tax", "taxonomy", {"taxonomy": [["A", "A1"]]}),
    ]


def run(config: LabelConfig, *cases: Case) -> tuple[dict[str, Any], dict[str, list[int]]]:
    evaluation = evaluate(config, cases)
    return evaluation.report, evaluation.cells


def test_task_is_right_overall_only_when_every_control_is_right():
    report, cells = run(
        ALL_CONTROLS,
        Case(1, full_result(), full_result()),
        Case(2, full_result(), full_result(rating=2)),  # one control wrong
        Case(3, full_result(text="Nice place"), full_result(text="nice place!")),  # normalised
    )

    assert report["tasks"] == 3
    assert report["accuracy"] == pytest.approx(2 / 3)
    assert cells["overall/right"] == [1, 3]
    assert cells["overall/wrong"] == [2]
    assert set(report["controls"]) == set(ALL_CONTROLS.controls)
    assert report["controls"]["sentiment"]["accuracy"] == 1.0
    assert report["controls"]["topics"]["exact_match"] == 1.0
    assert report["controls"]["ner"]["exact_match"] == 1.0
    assert report["controls"]["tax"]["per_class"] == {
        "A / A1": {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 3}
    }
    assert report["controls"]["rating"]["exact_match"] == pytest.approx(2 / 3)
    # Errors 0, 2, 0 over three tasks.
    assert report["controls"]["rating"]["mae"] == pytest.approx(2 / 3)
    assert report["controls"]["comment"]["exact_match"] == pytest.approx(2 / 3)
    assert report["controls"]["comment"]["normalised_match"] == 1.0
    assert report["failures"] == {}
    assert report["calibration"] is None


def test_failed_tasks_count_wrong_and_are_tallied_by_kind():
    report, cells = run(
        SENTIMENT,
        Case(1, sentiment("Positive"), sentiment("Positive")),
        Case(2, sentiment("Positive"), None, failure="timeout"),
        Case(3, sentiment("Negative"), None, failure="invalid_answer"),
        Case(4, sentiment("Negative"), None),  # no prediction, no failure recorded
        Case(5, sentiment("Positive"), None, failure="timeout"),
    )

    assert report["accuracy"] == pytest.approx(1 / 5)
    assert report["failures"] == {"timeout": 2, "invalid_answer": 1, "no_prediction": 1}
    assert next(iter(report["failures"])) == "timeout"  # most frequent first
    assert cells["failure/timeout"] == [2, 5]
    assert cells["failure/invalid_answer"] == [3]
    assert cells["failure/no_prediction"] == [4]
    assert cells["overall/right"] == [1]
    assert cells["overall/wrong"] == [2, 3, 4, 5]
    # In the control's metrics a failure is a miss of the truth label, never a class.
    control = report["controls"]["sentiment"]
    assert control["accuracy"] == pytest.approx(1 / 5)
    assert list(control["per_class"]) == ["Negative", "Positive"]
    assert control["confusion_matrix"] == {
        "labels": ["Negative", "Positive"],
        "columns": ["Negative", "Positive", "(none)"],
        "rows": [[0, 0, 2], [0, 1, 2]],
    }
    assert cells["sentiment/confusion/Positive/(none)"] == [2, 5]
    assert cells["sentiment/fn/Negative"] == [3, 4]


def test_prediction_leaving_a_single_choice_unanswered_is_wrong_but_not_a_failure():
    report, cells = run(
        SENTIMENT,
        Case(1, sentiment("Positive"), []),
        Case(2, sentiment("Negative"), sentiment("Negative")),
    )

    assert report["accuracy"] == 0.5
    assert report["failures"] == {}
    assert "failure/no_prediction" not in cells
    assert cells["overall/wrong"] == [1]
    assert cells["sentiment/confusion/Positive/(none)"] == [1]


def test_control_the_truth_does_not_answer_is_skipped_for_that_task():
    report, cells = run(
        ALL_CONTROLS,
        Case(1, [*sentiment("Positive"), comment("ok")], [*sentiment("Positive"), comment("ok")]),
        # The truth gives no sentiment: the predicted one is neither right nor wrong.
        Case(2, [comment("ok")], [*sentiment("Negative"), comment("ok")]),
    )

    assert report["controls"]["sentiment"]["tasks"] == 1
    assert report["controls"]["sentiment"]["per_class"] == {
        "Positive": {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 1}
    }
    assert "sentiment/fp/Negative" not in cells
    assert report["controls"]["comment"]["tasks"] == 2
    # Text, rating and number answered by no truth are not reported at all.
    assert "rating" not in report["controls"]
    assert "num" not in report["controls"]
    assert cells["overall/right"] == [1, 2]


def test_missing_multiple_choice_region_means_no_label_checked():
    report, cells = run(
        ALL_CONTROLS,
        Case(1, sentiment("Positive"), [*sentiment("Positive"), topics("Sports")]),
        Case(2, sentiment("Positive"), sentiment("Positive")),
        Case(3, [*sentiment("Positive"), topics("Politics")], sentiment("Positive")),
    )

    control = report["controls"]["topics"]
    # Every task is evaluated on topics: {} vs {Sports}, {} vs {}, {Politics} vs {}.
    assert control["tasks"] == 3
    assert control["exact_match"] == pytest.approx(1 / 3)
    # Jaccard: 0, 1 (both empty), 0.
    assert control["jaccard"] == pytest.approx(1 / 3)
    assert cells["topics/fp/Sports"] == [1]
    assert cells["topics/fn/Politics"] == [3]
    assert cells["overall/right"] == [2]
    assert cells["overall/wrong"] == [1, 3]


def test_missing_span_region_means_no_span():
    report, cells = run(
        ALL_CONTROLS,
        Case(1, sentiment("Positive"), [*sentiment("Positive"), ner(0, 5, "PER")]),
        Case(2, [*sentiment("Positive"), ner(6, 9, "ORG")], sentiment("Positive")),
    )

    control = report["controls"]["ner"]
    assert control["tasks"] == 2
    assert control["exact_match"] == 0.0
    assert control["exact"]["overall"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    assert cells["ner/fp/PER"] == [1]
    assert cells["ner/fn/ORG"] == [2]
    assert cells["overall/wrong"] == [1, 2]


def test_cells_are_named_after_their_control():
    _, cells = run(
        SENTIMENT,
        Case(1, sentiment("Positive"), sentiment("Negative")),
        Case(2, sentiment("Positive"), sentiment("Positive")),
    )

    assert cells == {
        "sentiment/confusion/Positive/Negative": [1],
        "sentiment/fn/Positive": [1],
        "sentiment/fp/Negative": [1],
        "sentiment/confusion/Positive/Positive": [2],
        "sentiment/tp/Positive": [2],
        "overall/wrong": [1],
        "overall/right": [2],
    }


def test_calibration_is_reported_only_when_scores_exist():
    unscored, _ = run(
        SENTIMENT,
        Case(1, sentiment("Positive"), sentiment("Positive")),
        Case(2, sentiment("Positive"), sentiment("Negative")),
    )
    scored, _ = run(
        SENTIMENT,
        Case(1, sentiment("Positive"), sentiment("Positive"), score=0.9),
        Case(2, sentiment("Positive"), sentiment("Negative"), score=0.2),
        Case(3, sentiment("Negative"), sentiment("Negative")),  # no score: left out
        Case(4, sentiment("Negative"), sentiment("Negative"), score=0.7),
    )

    assert unscored["calibration"] is None
    calibration = scored["calibration"]
    assert calibration["tasks"] == 3
    # Right tasks score 0.9 and 0.7, the wrong one 0.2.
    assert calibration["auroc"] == 1.0
    # Bins: 0.9 right (gap 0.1), 0.2 wrong (gap 0.2), 0.7 right (gap 0.3) -> 0.6 / 3.
    assert calibration["ece"] == pytest.approx(0.2)
    assert [row["threshold"] for row in calibration["coverage"]] == [0.2, 0.7, 0.9]
    assert [row["accuracy"] for row in calibration["coverage"]] == pytest.approx([2 / 3, 1, 1])


def test_calibration_uses_overall_correctness():
    report, _ = run(
        ALL_CONTROLS,
        # Sentiment right but rating wrong: the task is wrong, whatever its score.
        Case(1, full_result(), full_result(rating=1), score=0.95),
        Case(2, full_result(), full_result(), score=0.4),
    )

    assert report["calibration"]["auroc"] == 0.0


def test_evaluating_no_tasks_gives_an_empty_report():
    report, cells = run(SENTIMENT)

    assert report == {
        "tasks": 0,
        "accuracy": None,
        "controls": {},
        "failures": {},
        "calibration": None,
    }
    assert cells == {}
