"""Filtering tasks on their agreement with the ground truth (``agreement.<model version>``):
"show me where this prompt disagrees with the reference"."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from prelabel.errors import ValidationError
from prelabel.services.actions import delete_selected_predictions
from prelabel.services.tasks import TaskQuery, list_tasks
from prelabel.store import Project
from prelabel.store.task_filters import Filter, Filters
from tests.factories import import_json, make_project, sentiment


def _task(text: str, truth: str | None, predictions: list[tuple[str, str]]) -> dict[str, Any]:
    task: dict[str, Any] = {
        "data": {"text": text},
        "predictions": [
            {"result": sentiment(label), "model_version": v} for v, label in predictions
        ],
    }
    if truth is not None:
        task["annotations"] = [{"result": sentiment(truth), "ground_truth": True}]
    return task


@pytest.fixture
def project(session: Session) -> Project:
    """agrees: v1 right; disagrees: v1 wrong; no-prediction: truth only; no-truth: v1 only;
    corrected: v1 right, then a newer v1 prediction that is wrong."""
    project = make_project(session)
    import_json(
        session,
        project,
        [
            _task("agrees", "Positive", [("v1", "Positive"), ("v2", "Negative")]),
            _task("disagrees", "Positive", [("v1", "Negative")]),
            _task("no-prediction", "Negative", []),
            _task("no-truth", None, [("v1", "Positive")]),
            _task("corrected", "Negative", [("v1", "Negative"), ("v1", "Positive")]),
        ],
    )
    return project


def _texts(
    session: Session, project: Project, *items: Filter, conjunction: str = "and"
) -> list[str]:
    query = TaskQuery(Filters(conjunction, items))
    return [task["data"]["text"] for task in list_tasks(session, project, query=query).tasks]


@pytest.mark.parametrize(
    ("operator", "value", "expected"),
    [
        pytest.param("less", 0.5, ["disagrees", "corrected"], id="less"),
        pytest.param("greater_or_equal", 1, ["agrees"], id="greater-or-equal"),
        pytest.param("equal", 0, ["disagrees", "corrected"], id="equal"),
        pytest.param("in", {"min": 0.5, "max": 1}, ["agrees"], id="in-range"),
        pytest.param("empty", True, ["no-prediction", "no-truth"], id="empty"),
        pytest.param("empty", False, ["agrees", "disagrees", "corrected"], id="not-empty"),
    ],
)
def test_agreement_filter_keeps_the_tasks_whose_newest_prediction_matches(
    session: Session, project: Project, operator: str, value: Any, expected: list[str]
) -> None:
    assert _texts(session, project, Filter("agreement.v1", operator, value)) == expected


def test_agreement_is_per_model_version(session: Session, project: Project) -> None:
    assert _texts(session, project, Filter("agreement.v2", "less", 0.5)) == ["agrees"]
    assert _texts(session, project, Filter("agreement.v3", "empty", False)) == []


def test_agreement_filter_combines_with_other_filters(session: Session, project: Project) -> None:
    disagreeing = Filter("agreement.v1", "less", 0.5)
    untruthed = Filter("has_ground_truth", "equal", False)
    assert _texts(session, project, disagreeing, untruthed, conjunction="or") == [
        "disagrees",
        "no-truth",
        "corrected",
    ]


def test_an_action_on_disagreeing_tasks_deletes_only_their_predictions(
    session: Session, project: Project
) -> None:
    query = TaskQuery(Filters(items=(Filter("agreement.v1", "less", 0.5),)))
    assert delete_selected_predictions(session, project, query, model_version="v1") == 3
    assert _texts(session, project, Filter("total_predictions", "equal", 0)) == [
        "disagrees",
        "no-prediction",
        "corrected",
    ]


@pytest.mark.parametrize(
    "item",
    [
        pytest.param(Filter("agreement.v1", "contains", "x"), id="text-operator"),
        pytest.param(Filter("agreement.v1", "less", "half"), id="not-a-number"),
        pytest.param(Filter("agreement.v1", "in", {"min": 0}), id="half-a-range"),
    ],
)
def test_an_agreement_filter_that_cannot_apply_is_refused(
    session: Session, project: Project, item: Filter
) -> None:
    with pytest.raises(ValidationError, match="filter agreement.v1"):
        _texts(session, project, item)


def test_agreement_without_a_version_is_an_unknown_column() -> None:
    with pytest.raises(ValidationError, match="agreement.<model version>"):
        Filter("agreement.", "less", 0.5)
