"""``task_query_from_json``: the Data Manager's query JSON read into a ``TaskQuery``, every
error naming the key at fault."""

from __future__ import annotations

from typing import Any

import pytest

from prelabel.errors import ValidationError
from prelabel.services.task_queries import task_query_from_json
from prelabel.services.tasks import TaskQuery
from prelabel.store.task_filters import Filter, Filters, Selection


def test_empty_query_picks_every_task_in_id_order() -> None:
    assert task_query_from_json({}) == TaskQuery()


def test_full_query_reads_filters_selection_ordering_and_score_version() -> None:
    query = {
        "filters": {
            "conjunction": "or",
            "items": [
                {
                    "filter": "filter:tasks:total_predictions",
                    "operator": "greater",
                    "type": "Number",
                    "value": 0,
                },
                {"filter": "tasks:data.text", "operator": "contains", "value": "refund"},
            ],
        },
        "selectedItems": {"all": True, "excluded": [4, 5]},
        "ordering": ["-tasks:predictions_score"],
    }
    assert task_query_from_json(query, score_version="v1") == TaskQuery(
        filters=Filters(
            "or",
            (
                Filter("total_predictions", "greater", 0),
                Filter("data.text", "contains", "refund"),
            ),
        ),
        selection=Selection(all=True, ids=(4, 5)),
        ordering="-predictions_score",
        score_version="v1",
    )


@pytest.mark.parametrize(
    ("selected", "expected"),
    [
        pytest.param({"all": False, "included": [1, 2]}, Selection(False, (1, 2)), id="included"),
        pytest.param({"all": False, "included": []}, Selection(False, ()), id="nothing"),
        pytest.param({"all": True}, Selection(True, ()), id="all-without-excluded"),
    ],
)
def test_selection_is_read_as_written(selected: dict[str, Any], expected: Selection) -> None:
    assert task_query_from_json({"selectedItems": selected}).selection == expected


def test_ordering_ascending_and_empty() -> None:
    assert task_query_from_json({"ordering": ["tasks:id"]}).ordering == "id"
    assert task_query_from_json({"ordering": []}).ordering is None


@pytest.mark.parametrize(
    ("query", "message"),
    [
        pytest.param([], "query: must be a JSON object, got list", id="query-not-object"),
        pytest.param({"filters": []}, "filters: must be an object", id="filters-not-object"),
        pytest.param({"filters": {"items": {"a": 1}}}, "filters.items: must be a list", id="items"),
        pytest.param(
            {"filters": {"conjunction": 1, "items": []}}, "filters.conjunction", id="conjunction"
        ),
        pytest.param(
            {"filters": {"conjunction": "xor", "items": []}}, "conjunction", id="bad-conjunction"
        ),
        pytest.param({"filters": {"items": [3]}}, "filters.items[0]: must be an object", id="3"),
        pytest.param(
            {"filters": {"items": [{"filter": "filter:tasks:id"}]}},
            "filters.items[0]: needs 'filter' and 'operator'",
            id="no-operator",
        ),
        pytest.param(
            {"filters": {"items": [{"filter": "filter:annotations:id", "operator": "equal"}]}},
            "filters.items[0]: filters.items[0].filter: 'filter:annotations:id'",
            id="not-a-task-column",
        ),
        pytest.param(
            {"filters": {"items": [{"filter": "filter:tasks:id", "operator": "like"}]}},
            "filters.items[0]: filter id: unknown operator 'like'",
            id="unknown-operator",
        ),
        pytest.param(
            {"filters": {"items": [{"filter": "filter:tasks:color", "operator": "equal"}]}},
            "filters.items[0]: filter: unknown column 'color'",
            id="unknown-column",
        ),
        pytest.param({"selectedItems": []}, "selectedItems: must be", id="selection-not-object"),
        pytest.param({"selectedItems": {"all": "yes"}}, "selectedItems: must be", id="all-text"),
        pytest.param(
            {"selectedItems": {"all": True, "included": [1]}},
            "selectedItems: 'included' goes with all=false",
            id="included-with-all",
        ),
        pytest.param(
            {"selectedItems": {"all": False, "excluded": [1]}},
            "selectedItems: 'excluded' goes with all=true",
            id="excluded-without-all",
        ),
        pytest.param(
            {"selectedItems": {"all": False, "included": [True]}},
            "selectedItems.included: must be a list of task ids",
            id="boolean-id",
        ),
        pytest.param(
            {"selectedItems": {"all": False, "included": ["1"]}},
            "selectedItems.included",
            id="text-id",
        ),
        pytest.param(
            {"selectedItems": {"all": True, "excluded": [2**40]}},
            "selectedItems.excluded",
            id="id-beyond-32-bits",
        ),
        pytest.param({"ordering": "tasks:id"}, "ordering: must be a list", id="ordering-text"),
        pytest.param(
            {"ordering": ["tasks:id", "-tasks:id"]}, "ordering: must be a list of one", id="two"
        ),
        pytest.param({"ordering": ["id"]}, "ordering: 'id' does not name", id="no-prefix"),
    ],
)
def test_bad_query_is_refused_naming_the_key(query: Any, message: str) -> None:
    with pytest.raises(ValidationError) as refused:
        task_query_from_json(query)
    assert message in refused.value.message
