"""The Data Manager's view in a URL: read, turned into a task query, and written back."""

from __future__ import annotations

from typing import Any

import pytest

from prelabel.errors import ValidationError
from prelabel.store.task_filters import OPERATORS, Filter, Selection
from prelabel.web.data_view import (
    OPERATOR_LABELS,
    DataView,
    FilterRow,
    cell_text,
    table_columns,
)


def test_every_operator_of_the_query_language_has_a_label_in_order() -> None:
    assert tuple(OPERATOR_LABELS) == OPERATORS


def test_a_view_survives_its_own_query_string() -> None:
    view = DataView(
        filters=(FilterRow("data.text", "contains", "a&b=c"), FilterRow("id", "in", '{"min": 1}')),
        match_any=True,
        order="-id",
        page=3,
        page_size=25,
        columns=("id", "data.text"),
    )
    assert DataView.from_query_string(view.query_string()) == view


def test_the_default_view_has_an_empty_query_string() -> None:
    assert DataView().query_string() == ""
    assert DataView.from_query_string("") == DataView()


def test_values_are_read_as_json_when_they_are_json() -> None:
    view = DataView(
        filters=(
            FilterRow("total_predictions", "greater", "1"),
            FilterRow("data.text", "equal", "plain text"),
            FilterRow("predictions_model_versions", "contains", "p__v1"),
        )
    )
    query = view.task_query(selection=Selection(all=False, ids=(4,)), score_version="v1")
    assert query.filters.items == (
        Filter("total_predictions", "greater", 1),
        Filter("data.text", "equal", "plain text"),
        Filter("predictions_model_versions", "contains", ["p__v1"]),
    )
    assert (query.selection, query.score_version) == (Selection(all=False, ids=(4,)), "v1")


def test_sorting_goes_ascending_then_descending_from_the_first_page() -> None:
    view = DataView(page=4)
    assert view.sorted_by("id") == "order=id"
    assert DataView(order="id").sorted_by("id") == "order=-id"
    assert DataView(order="-id").sorted_by("id") == "order=id"
    assert DataView(order="-id").sort_direction("id") == "descending"
    assert DataView(order="-id").sort_direction("total_predictions") == "none"


def test_the_default_columns_leave_out_the_rarely_wanted_ones() -> None:
    shown = [c.key for c in DataView().shown(table_columns(["text", "title"]))]
    assert shown == [
        "id",
        "data.text",
        "data.title",
        "total_annotations",
        "total_predictions",
        "predictions_score",
        "predictions_model_versions",
        "agreement",
    ]


@pytest.mark.parametrize("page", ["two", "-1", "1.5"])
def test_a_page_must_be_a_whole_number(page: str) -> None:
    with pytest.raises(ValidationError, match="page: must be a whole number"):
        DataView.from_query_string(f"page={page}")


@pytest.mark.parametrize(
    ("key", "value", "shown"),
    [
        pytest.param("data.text", {"text": "hello"}, "hello", id="text"),
        pytest.param("data.text", {"text": ["a", 1]}, '["a",1]', id="json"),
        pytest.param("data.text", {}, "", id="missing"),
        pytest.param("predictions_score", {"predictions_score": 0.456}, "0.46", id="score"),
        pytest.param("predictions_score", {"predictions_score": None}, "", id="no-score"),
        pytest.param("has_ground_truth", {"has_ground_truth": True}, "yes", id="flag"),
        pytest.param(
            "predictions_model_versions",
            {"predictions_model_versions": "a,b"},
            "a, b",
            id="versions",
        ),
        pytest.param(
            "agreement",
            {"agreement": {"a": 1.0, "b": None, "c": 0.5}},
            "a: 100%, c: 50%",
            id="agreement",
        ),
    ],
)
def test_cells_show_values_briefly(key: str, value: dict[str, Any], shown: str) -> None:
    task = {"data": value if key.startswith("data.") else {}, **value}
    assert cell_text(task, key) == shown
