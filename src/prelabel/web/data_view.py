"""The Data Manager's view, held in its URL: filters, order, page, page size, columns.

A view is read from the query string (so a view can be bookmarked, shared and reloaded),
turned into the services' ``TaskQuery``, and written back into the links of the page (sort by
a column, next page) with everything else kept. Actions post the view's query string along
with the selection, so "all tasks" means all tasks the filters keep, as on the page.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from itertools import zip_longest
from typing import Any
from urllib.parse import urlencode

import orjson
from starlette.datastructures import QueryParams

from prelabel.errors import ValidationError
from prelabel.services.task_queries import typed_filter
from prelabel.services.tasks import TaskQuery
from prelabel.store.task_filters import Filters, Selection

PAGE_SIZES = (25, 50, 100, 200)
DEFAULT_PAGE_SIZE = 50


@dataclass(frozen=True)
class Column:
    """A column of the task table: ``key`` is what filters and ordering call it."""

    key: str
    title: str
    sortable: bool = True
    numeric: bool = False
    shown: bool = True


_BEFORE_DATA = (Column("id", "ID", numeric=True),)
_AFTER_DATA = (
    Column("total_annotations", "Total annotations", numeric=True),
    Column("cancelled_annotations", "Cancelled annotations", numeric=True, shown=False),
    Column("total_predictions", "Total predictions per task", numeric=True),
    Column("predictions_score", "Prediction score", numeric=True),
    Column("predictions_model_versions", "Model versions"),
    Column("agreement", "Agreement", sortable=False),
    Column("has_ground_truth", "Ground truth", shown=False),
    Column("created_at", "Created", shown=False),
    Column("updated_at", "Updated", shown=False),
)

#: How the filter form names each operator of the query language (``OPERATORS``), in its order.
OPERATOR_LABELS = {
    "equal": "=",
    "not_equal": "≠",
    "less": "<",
    "greater": ">",
    "less_or_equal": "≤",
    "greater_or_equal": "≥",
    "in": "between",
    "not_in": "not between",
    "in_list": "in list",
    "not_in_list": "not in list",
    "empty": "is empty",
    "contains": "contains",
    "not_contains": "does not contain",
}


def table_columns(data_fields: Sequence[str]) -> list[Column]:
    """The columns a project's tasks can show: its config's data fields between the id and
    the counters."""
    fields = [Column(f"data.{name}", name) for name in data_fields]
    return [*_BEFORE_DATA, *fields, *_AFTER_DATA]


def filter_columns(columns: Sequence[Column], model_versions: Sequence[str]) -> list[Column]:
    """What filters can test: every column but agreement, which is tested per model version."""
    agreements = [Column(f"agreement.{v}", f"Agreement of {v}") for v in model_versions]
    return [column for column in columns if column.key != "agreement"] + agreements


@dataclass(frozen=True)
class FilterRow:
    """A filter as typed in the form: its value is text until the query reads it."""

    column: str
    operator: str
    value: str = ""


@dataclass(frozen=True)
class DataView:
    filters: tuple[FilterRow, ...] = ()
    match_any: bool = False
    order: str | None = None
    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE
    columns: tuple[str, ...] = ()
    """The columns shown, by key; none chosen shows the default ones."""

    @classmethod
    def from_params(cls, params: QueryParams) -> DataView:
        """The view a query string describes; a filter row without a column is a blank row
        of the form and means nothing, and a missing operator or value is empty."""
        rows = zip_longest(
            params.getlist("filter_column"),
            params.getlist("filter_operator"),
            params.getlist("filter_value"),
            fillvalue="",
        )
        return cls(
            filters=tuple(FilterRow(*row) for row in rows if row[0]),
            match_any=params.get("match") == "any",
            order=params.get("order") or None,
            page=_whole_number(params, "page", 1),
            page_size=_whole_number(params, "page_size", DEFAULT_PAGE_SIZE),
            columns=tuple(params.getlist("column")),
        )

    @classmethod
    def from_query_string(cls, query: str) -> DataView:
        return cls.from_params(QueryParams(query))

    def task_query(
        self, *, selection: Selection | None = None, score_version: str | None = None
    ) -> TaskQuery:
        """The tasks of this view, narrowed by ``selection`` (default: all of them)."""
        filters = tuple(typed_filter(row.column, row.operator, row.value) for row in self.filters)
        return TaskQuery(
            Filters("or" if self.match_any else "and", filters),
            selection or Selection(),
            ordering=self.order,
            score_version=score_version,
        )

    def shown(self, columns: Sequence[Column]) -> list[Column]:
        """The columns to show, in table order; unknown keys are ignored."""
        if self.columns:
            return [column for column in columns if column.key in self.columns]
        return [column for column in columns if column.shown]

    def query_string(self, **changes: Any) -> str:
        """This view with ``changes`` (fields of the view), as a query string."""
        view = replace(self, **changes)
        pairs: list[tuple[str, str | int]] = []
        for row in view.filters:
            pairs += [
                ("filter_column", row.column),
                ("filter_operator", row.operator),
                ("filter_value", row.value),
            ]
        if view.match_any:
            pairs.append(("match", "any"))
        if view.order:
            pairs.append(("order", view.order))
        if view.page != 1:
            pairs.append(("page", view.page))
        if view.page_size != DEFAULT_PAGE_SIZE:
            pairs.append(("page_size", view.page_size))
        pairs += [("column", key) for key in view.columns]
        return urlencode(pairs)

    def sorted_by(self, key: str) -> str:
        """The query string that sorts by ``key``: ascending first, then descending, from the
        first page."""
        return self.query_string(order=f"-{key}" if self.order == key else key, page=1)

    def sort_direction(self, key: str) -> str:
        """``aria-sort`` of column ``key``."""
        if self.order == key:
            return "ascending"
        return "descending" if self.order == f"-{key}" else "none"


def cell_text(task: Mapping[str, Any], key: str) -> str:
    """What a cell of column ``key`` shows for a task of ``list_tasks``."""
    if key.startswith("data."):
        value = task["data"].get(key.removeprefix("data."))
        return value if isinstance(value, str) else _json(value)
    value = task.get(key)
    if key == "agreement":
        return ", ".join(f"{v}: {a:.0%}" for v, a in value.items() if a is not None)
    if key == "predictions_model_versions":
        return value.replace(",", ", ")
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return "" if value is None else str(value)


def _json(value: Any) -> str:
    return "" if value is None else orjson.dumps(value).decode()


def _whole_number(params: QueryParams, name: str, default: int) -> int:
    text = params.get(name) or str(default)
    if not text.isdecimal():
        raise ValidationError(f"{name}: must be a whole number, got {text!r}")
    return int(text)
