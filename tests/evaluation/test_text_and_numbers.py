"""Free text and number metrics on hand cases."""

from __future__ import annotations

import pytest

from prelabel.evaluation.scalars import normalise, number_metrics, text_metrics, token_f1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("Fine,  thanks!", "fine thanks", id="case-punctuation-spaces"),
        pytest.param("  New\tYork\n", "new york", id="tabs-and-newlines"),
        pytest.param("don't", "don t", id="apostrophe-splits"),
        pytest.param("Straße", "strasse", id="casefold"),
        pytest.param("?!...", "", id="only-punctuation"),
        pytest.param("", "", id="empty"),
    ],
)
def test_normalise_ignores_case_punctuation_and_spacing(text, expected):
    assert normalise(text) == expected


@pytest.mark.parametrize(
    ("truth", "predicted", "expected"),
    [
        pytest.param("the cat sat", "the cat sat", 1.0, id="same"),
        pytest.param("The cat, sat.", "the CAT sat", 1.0, id="same-once-normalised"),
        # Shared {cat, sat}: P 2/3, R 2/3 -> F1 2/3 (articles are tokens like any other).
        pytest.param("the cat sat", "cat sat down", 2 / 3, id="two-of-three-shared"),
        # Shared {cat}: P 1/1, R 1/3 -> F1 2 * 1 * 1/3 / (4/3) = 1/2.
        pytest.param("the cat sat", "cat", 0.5, id="short-answer"),
        # Bags: a x2 vs a x1 -> shared a x1 (and b): P 2/2, R 2/3 -> F1 4/5.
        pytest.param("a a b", "a b", 0.8, id="repeated-token-counts-once"),
        pytest.param("the cat sat", "a dog ran", 0.0, id="nothing-shared"),
        pytest.param("", "", 1.0, id="both-empty"),
        pytest.param("...", "", 1.0, id="both-empty-once-normalised"),
        pytest.param("cat", "", 0.0, id="empty-prediction"),
        pytest.param("", "cat", 0.0, id="empty-truth"),
    ],
)
def test_token_f1_scores_shared_normalised_tokens(truth, predicted, expected):
    assert token_f1(truth, predicted) == pytest.approx(expected)


def test_text_metrics_separate_exact_normalised_and_token_matches():
    cases = [
        (1, "Fine, thanks!", "Fine, thanks!"),  # exact
        (2, "Fine, thanks!", "fine thanks"),  # normalised only
        (3, "the cat sat", "cat sat down"),  # token F1 2/3
        (4, "yes", None),  # failed: wrong everywhere, token F1 0
    ]

    metrics, cells = text_metrics(cases)

    assert metrics == {
        "kind": "text",
        "tasks": 4,
        "exact_match": 0.25,
        "normalised_match": 0.5,
        # (1 + 1 + 2/3 + 0) / 4 = 2/3.
        "token_f1": pytest.approx(2 / 3),
    }
    assert cells == {"match": [1, 2], "mismatch": [3, 4]}


def test_failed_text_prediction_is_wrong_even_against_an_empty_truth():
    metrics, cells = text_metrics([(1, "", None), (2, "", "")])

    # Task 2 is right in every way; task 1 is not: 1/2 each.
    assert metrics["exact_match"] == 0.5
    assert metrics["normalised_match"] == 0.5
    assert metrics["token_f1"] == 0.5
    assert cells == {"match": [2], "mismatch": [1]}


def test_text_metrics_of_no_tasks_are_empty():
    metrics, cells = text_metrics([])

    assert metrics["exact_match"] is None
    assert metrics["normalised_match"] is None
    assert metrics["token_f1"] is None
    assert cells == {}


def test_number_metrics_count_exact_matches_and_mean_absolute_error():
    cases = [
        (1, 3.0, 3.0),  # error 0
        (2, 4.0, 2.5),  # error 1.5
        (3, 1.0, 5.0),  # error 4
        (4, 2.0, None),  # failed: wrong, and no error to average
    ]

    metrics, cells = number_metrics(cases)

    assert metrics == {
        "kind": "number",
        "tasks": 4,
        "exact_match": 0.25,
        # (0 + 1.5 + 4) / 3 tasks with a number.
        "mae": pytest.approx(5.5 / 3),
    }
    assert cells == {"match": [1], "mismatch": [2, 3, 4]}


def test_number_metrics_have_no_mae_when_every_task_failed():
    metrics, cells = number_metrics([(1, 2.0, None), (2, 5.0, None)])

    assert metrics["exact_match"] == 0.0
    assert metrics["mae"] is None
    assert cells == {"mismatch": [1, 2]}


def test_number_metrics_of_no_tasks_are_empty():
    metrics, cells = number_metrics([])

    assert metrics["exact_match"] is None
    assert metrics["mae"] is None
    assert cells == {}
