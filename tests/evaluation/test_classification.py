"""Label metrics checked against scikit-learn on generated cases.

A ``None`` prediction (a failed task, or no answer) is never a class of its own: for
scikit-learn it becomes a sentinel that is left out of ``labels=``, so it only costs the truth
label a false negative. For label sets, a failed task also gets a sentinel column in its
predicted row, so it is never an exact match and shares nothing with the truth.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    jaccard_score,
    precision_recall_fscore_support,
)
from sklearn.preprocessing import MultiLabelBinarizer

from prelabel.evaluation.classification import multi_label_metrics, single_label_metrics

ALPHABET = ["a", "b", "c", "d"]
SENTINEL = "<failed>"  # never a label of the alphabet
# An always-empty column, so that scikit-learn reads a label matrix as multilabel even when no
# label occurs at all (one column alone would be taken for a binary target).
PADDING = "<padding>"

# Predictions are drawn from a list that may be all None, or miss some labels entirely, so
# that classes never predicted, never true, or only predicted all come up.
single_cases = st.lists(
    st.tuples(st.sampled_from(ALPHABET), st.none() | st.sampled_from(ALPHABET)),
    min_size=1,
    max_size=30,
).map(lambda pairs: [(task, truth, pred) for task, (truth, pred) in enumerate(pairs, start=100)])

label_sets = st.frozensets(st.sampled_from(ALPHABET), max_size=len(ALPHABET))
multi_cases = st.lists(st.tuples(label_sets, st.none() | label_sets), min_size=1, max_size=30).map(
    lambda pairs: [(task, truth, pred) for task, (truth, pred) in enumerate(pairs, start=100)]
)


def _single_reference(cases):
    truths = [truth for _, truth, _ in cases]
    preds = [SENTINEL if pred is None else pred for _, _, pred in cases]
    labels = sorted(set(truths) | {pred for pred in preds if pred != SENTINEL})
    return truths, preds, labels


@given(single_cases)
def test_single_label_metrics_match_scikit_learn(cases):
    metrics, _ = single_label_metrics(cases)
    truths, preds, labels = _single_reference(cases)

    assert metrics["tasks"] == len(cases)
    assert metrics["accuracy"] == pytest.approx(accuracy_score(truths, preds))

    precision, recall, f1, support = precision_recall_fscore_support(
        truths, preds, labels=labels, zero_division=0
    )
    assert list(metrics["per_class"]) == labels
    for index, label in enumerate(labels):
        scores = metrics["per_class"][label]
        assert scores["precision"] == pytest.approx(precision[index]), label
        assert scores["recall"] == pytest.approx(recall[index]), label
        assert scores["f1"] == pytest.approx(f1[index]), label
        assert scores["support"] == support[index], label

    micro = precision_recall_fscore_support(
        truths, preds, labels=labels, average="micro", zero_division=0
    )
    assert metrics["micro"]["precision"] == pytest.approx(micro[0])
    assert metrics["micro"]["recall"] == pytest.approx(micro[1])
    assert metrics["micro"]["f1"] == pytest.approx(micro[2])
    assert metrics["macro_f1"] == pytest.approx(
        f1_score(truths, preds, labels=labels, average="macro", zero_division=0)
    )


# scikit-learn warns about a one-label matrix even when ``labels=`` names it.
@pytest.mark.filterwarnings("ignore:A single label was found:UserWarning")
@given(single_cases)
def test_single_label_confusion_matrix_matches_scikit_learn(cases):
    metrics, _ = single_label_metrics(cases)
    truths, preds, labels = _single_reference(cases)
    failed = SENTINEL in preds
    columns = [*labels, SENTINEL] if failed else labels
    # Rows of the sentinel would be all zeros (it is never a truth); the report leaves them out.
    expected = confusion_matrix(truths, preds, labels=columns)[: len(labels)].tolist()

    matrix = metrics["confusion_matrix"]
    assert matrix["labels"] == labels
    assert matrix["columns"] == ([*labels, "(none)"] if failed else labels)
    assert matrix["rows"] == expected


@given(single_cases)
def test_single_label_cells_list_the_tasks_behind_each_count(cases):
    metrics, cells = single_label_metrics(cases)
    labels = metrics["confusion_matrix"]["labels"]

    def tasks(keep):
        return [task for task, truth, pred in cases if keep(truth, pred)]

    expected = {}
    for label in labels:
        expected[f"tp/{label}"] = tasks(lambda t, p, label=label: t == p == label)
        expected[f"fp/{label}"] = tasks(lambda t, p, label=label: p == label != t)
        expected[f"fn/{label}"] = tasks(lambda t, p, label=label: t == label != p)
        for column in metrics["confusion_matrix"]["columns"]:
            predicted = None if column == "(none)" else column
            expected[f"confusion/{label}/{column}"] = tasks(
                lambda t, p, label=label, predicted=predicted: t == label and p == predicted
            )
    # Cells are only listed when some task is behind them.
    assert cells == {name: ids for name, ids in expected.items() if ids}

    matrix = metrics["confusion_matrix"]
    for row, truth in zip(matrix["rows"], matrix["labels"], strict=True):
        for count, column in zip(row, matrix["columns"], strict=True):
            assert len(cells.get(f"confusion/{truth}/{column}", [])) == count
    for label, scores in metrics["per_class"].items():
        hits, misses = cells.get(f"tp/{label}", []), cells.get(f"fn/{label}", [])
        assert len(hits) + len(misses) == scores["support"]


def test_failed_single_label_task_costs_only_its_truth_a_false_negative():
    cases = [(1, "a", "a"), (2, "a", None), (3, "b", "b")]

    metrics, cells = single_label_metrics(cases)

    assert metrics["accuracy"] == pytest.approx(2 / 3)
    assert list(metrics["per_class"]) == ["a", "b"]  # "(none)" is not a class
    # a: tp 1, fp 0, fn 1 -> P 1, R 1/2, F1 2/3; b: perfect.
    assert metrics["per_class"]["a"] == pytest.approx(
        {"precision": 1.0, "recall": 0.5, "f1": 2 / 3, "support": 2}
    )
    # Micro: tp 2, fp 0, fn 1 -> P 1, R 2/3, F1 4/5.
    assert metrics["micro"] == pytest.approx({"precision": 1.0, "recall": 2 / 3, "f1": 0.8})
    assert metrics["confusion_matrix"] == {
        "labels": ["a", "b"],
        "columns": ["a", "b", "(none)"],
        "rows": [[1, 0, 1], [0, 1, 0]],
    }
    assert cells["fn/a"] == [2]
    assert cells["confusion/a/(none)"] == [2]


def test_single_label_metrics_of_no_tasks_are_empty():
    metrics, cells = single_label_metrics([])

    assert metrics["accuracy"] is None
    assert metrics["macro_f1"] is None
    assert metrics["per_class"] == {}
    assert metrics["confusion_matrix"] == {"labels": [], "columns": [], "rows": []}
    assert cells == {}


def _binarized(cases):
    labels = sorted(set().union(*(truth | (pred or frozenset()) for _, truth, pred in cases)))
    binarizer = MultiLabelBinarizer(classes=[*labels, SENTINEL, PADDING])
    truths = binarizer.fit_transform([truth for _, truth, _ in cases])
    preds = binarizer.transform([{SENTINEL} if pred is None else pred for _, _, pred in cases])
    return labels, truths, preds


@given(multi_cases)
def test_multi_label_metrics_match_scikit_learn(cases):
    metrics, _ = multi_label_metrics(cases)
    labels, truths, preds = _binarized(cases)
    columns = list(range(len(labels)))  # every column but the sentinel's and the padding

    assert metrics["tasks"] == len(cases)
    assert metrics["exact_match"] == pytest.approx(accuracy_score(truths, preds))
    assert list(metrics["per_class"]) == labels
    if labels:
        precision, recall, f1, support = precision_recall_fscore_support(
            truths, preds, labels=columns, zero_division=0
        )
        for index, label in enumerate(labels):
            scores = metrics["per_class"][label]
            assert scores["precision"] == pytest.approx(precision[index]), label
            assert scores["recall"] == pytest.approx(recall[index]), label
            assert scores["f1"] == pytest.approx(f1[index]), label
            assert scores["support"] == support[index], label
        micro = precision_recall_fscore_support(
            truths, preds, labels=columns, average="micro", zero_division=0
        )
        assert metrics["micro"]["precision"] == pytest.approx(micro[0])
        assert metrics["micro"]["recall"] == pytest.approx(micro[1])
        assert metrics["micro"]["f1"] == pytest.approx(micro[2])
        assert metrics["macro_f1"] == pytest.approx(
            f1_score(truths, preds, labels=columns, average="macro", zero_division=0)
        )
    else:
        assert metrics["micro"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0}
        assert metrics["macro_f1"] is None
    # Rows where truth and prediction are both empty agree fully; a failed task shares nothing.
    assert metrics["jaccard"] == pytest.approx(
        jaccard_score(truths, preds, average="samples", zero_division=1)
    )


@given(multi_cases)
def test_multi_label_cells_list_the_tasks_behind_each_count(cases):
    metrics, cells = multi_label_metrics(cases)

    expected = {}
    for label in metrics["per_class"]:
        for kind, keep in (
            ("tp", lambda truth, chosen, label=label: label in truth and label in chosen),
            ("fp", lambda truth, chosen, label=label: label in chosen and label not in truth),
            ("fn", lambda truth, chosen, label=label: label in truth and label not in chosen),
        ):
            ids = [task for task, truth, pred in cases if keep(truth, pred or frozenset())]
            if ids:
                expected[f"{kind}/{label}"] = ids
    assert cells == expected


@pytest.mark.parametrize(
    ("truth", "predicted", "exact", "jaccard"),
    [
        pytest.param(frozenset({"a", "b"}), frozenset({"a", "b"}), 1.0, 1.0, id="same-set"),
        pytest.param(frozenset({"a", "b"}), frozenset({"b", "c"}), 0.0, 1 / 3, id="overlap"),
        pytest.param(frozenset(), frozenset(), 1.0, 1.0, id="both-empty"),
        pytest.param(frozenset({"a"}), frozenset(), 0.0, 0.0, id="nothing-predicted"),
        pytest.param(frozenset({"a"}), None, 0.0, 0.0, id="failed"),
        pytest.param(frozenset(), None, 0.0, 0.0, id="failed-against-empty-truth"),
    ],
)
def test_multi_label_exact_match_and_jaccard_of_one_task(truth, predicted, exact, jaccard):
    metrics, _ = multi_label_metrics([(1, truth, predicted)])

    assert metrics["exact_match"] == exact
    assert metrics["jaccard"] == pytest.approx(jaccard)


def test_multi_label_metrics_of_no_tasks_are_empty():
    metrics, cells = multi_label_metrics([])

    assert metrics["exact_match"] is None
    assert metrics["jaccard"] is None
    assert metrics["macro_f1"] is None
    assert cells == {}
