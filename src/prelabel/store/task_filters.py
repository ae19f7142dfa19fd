"""The Data Manager's query language in SQL: filters on task columns, selections, ordering.

A filter names a column (``id``, a counter, ``predictions_score``, ``predictions_model_versions``,
``has_ground_truth``, ``data.<field>``...), an operator (Label Studio's: ``equal``, ``contains``,
``in`` with ``{"min", "max"}``, ``in_list``, ``empty``...) and a value. Filters combine with
``and`` or ``or``; a selection (``{"all": true, "excluded": [...]}`` or ``{"all": false,
"included": [...]}``) then narrows the filtered tasks. Everything here builds SQLAlchemy
expressions over ``tasks``; per-task aggregates are correlated subqueries, so a page only
computes them for the rows it shows.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    and_,
    bindparam,
    exists,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.ext.compiler import compiles

from prelabel.errors import ValidationError
from prelabel.store.models import Annotation, Prediction, Task
from prelabel.store.types import MAX_INT4

OPERATORS = (
    "equal",
    "not_equal",
    "less",
    "greater",
    "less_or_equal",
    "greater_or_equal",
    "in",
    "not_in",
    "in_list",
    "not_in_list",
    "empty",
    "contains",
    "not_contains",
)
COUNTERS = ("total_annotations", "cancelled_annotations", "total_predictions")
COLUMNS = (
    "id",
    *COUNTERS,
    "created_at",
    "updated_at",
    "predictions_score",
    "predictions_model_versions",
    "has_ground_truth",
)
"""Columns that filters and ordering accept, besides ``data.<field>``."""


@dataclass(frozen=True)
class Filter:
    """One condition: ``column operator value`` (Label Studio's filter item, prefix removed)."""

    column: str
    operator: str
    value: Any = None

    def __post_init__(self) -> None:
        if self.operator not in OPERATORS:
            raise ValidationError(
                f"filter {self.column}: unknown operator {self.operator!r}; "
                f"operators: {', '.join(OPERATORS)}"
            )
        _check_column(self.column, "filter")


@dataclass(frozen=True)
class Filters:
    conjunction: str = "and"
    items: tuple[Filter, ...] = ()

    def __post_init__(self) -> None:
        if self.conjunction not in ("and", "or"):
            raise ValidationError(
                f"filters: conjunction must be and or or, not {self.conjunction!r}"
            )


@dataclass(frozen=True)
class Selection:
    """Which of the filtered tasks: all but ``ids`` (``all=True``), or only ``ids``.

    Unlike Label Studio, ``all=False`` with no ids selects nothing rather than everything.
    """

    all: bool = True
    ids: tuple[int, ...] = field(default_factory=tuple)


def task_condition(
    project_id: int,
    filters: Filters = Filters(),
    selection: Selection = Selection(),
    *,
    score_version: str | None = None,
    agreements: Mapping[str, Mapping[int, float]] | None = None,
) -> ColumnElement[bool]:
    """The WHERE clause of the project's tasks that the filters and selection pick.

    Agreement is computed by the evaluation, not by SQL: an ``agreement.<version>`` filter
    needs ``agreements[version]``, the agreement of each task that has one.
    """
    conditions: list[ColumnElement[bool]] = [Task.project_id == project_id]
    if filters.items:
        parts = [
            _agreement_condition(item, (agreements or {}).get(version, {}))
            if (version := agreement_version(item.column))
            else _condition(item, score_version)
            for item in filters.items
        ]
        conditions.append(and_(*parts) if filters.conjunction == "and" else or_(*parts))
    if selection.all:
        if selection.ids:
            conditions.append(Task.id.not_in(selection.ids))
    else:
        conditions.append(Task.id.in_(selection.ids) if selection.ids else false())
    return and_(*conditions)


def counter_condition(filters: Filters, counters: Any) -> ColumnElement[bool] | None:
    """The filters' condition on ``counters`` (anything with the task counters as
    attributes, such as ``TaskCounterHistogram``) when every filter is on a counter column,
    else None: checked, typed and compared exactly as ``task_condition`` does on tasks."""
    if not all(item.column in COUNTERS for item in filters.items):
        return None
    parts = [_condition(item, None, counters) for item in filters.items]
    if not parts:
        return true()
    return and_(*parts) if filters.conjunction == "and" else or_(*parts)


def order_by(column: str, *, score_version: str | None = None) -> list[Any]:
    """ORDER BY for ``column`` (``-column`` descending), NULLs last, then by id."""
    descending = column.startswith("-")
    name = column.lstrip("-")
    _check_column(name, "order")
    expression = column_expression(name, score_version)
    ordered = expression.desc() if descending else expression.asc()
    return [ordered.nulls_last(), Task.id.desc() if descending else Task.id.asc()]


def column_expression(name: str, score_version: str | None = None, source: Any = Task) -> Any:
    """The SQL value of a column for the task row being read (a plain column, as the
    counters, is read from ``source``)."""
    if name.startswith("data."):
        return Task.data[name[5:]].as_string()
    if name == "predictions_score":
        scores = select(func.avg(Prediction.score)).where(Prediction.task_id == Task.id)
        if score_version is not None:
            scores = scores.where(Prediction.model_version == score_version)
        return scores.scalar_subquery()
    if name == "predictions_model_versions":
        return (
            select(func.count(func.distinct(Prediction.model_version)))
            .where(Prediction.task_id == Task.id)
            .scalar_subquery()
        )
    if name == "has_ground_truth":
        return _has_ground_truth()
    return getattr(source, name)


def _condition(item: Filter, score_version: str | None, source: Any = Task) -> ColumnElement[bool]:
    if item.column == "predictions_model_versions":
        return _model_version_condition(item)
    if item.column == "has_ground_truth":
        return _flag_condition(item, _has_ground_truth())
    if item.operator == "empty":
        return _empty_condition(item, score_version, source)
    values = _values(item)
    expression = _operand(item, values, score_version, source)
    operator = item.operator
    if operator in ("in", "not_in"):
        inside = and_(expression >= values[0], expression <= values[1])
        return inside if operator == "in" else not_(inside)
    if operator in ("in_list", "not_in_list"):
        chosen = expression.in_(values)
        return chosen if operator == "in_list" else not_(chosen)
    if operator in ("contains", "not_contains"):
        found = expression.icontains(values[0], autoescape=True)
        return found if operator == "contains" else or_(not_(found), expression.is_(None))
    value = values[0]
    comparisons = {
        "equal": expression == value,
        "not_equal": expression != value,
        "less": expression < value,
        "greater": expression > value,
        "less_or_equal": expression <= value,
        "greater_or_equal": expression >= value,
    }
    return comparisons[operator]


def _values(item: Filter) -> list[Any]:
    """The filter's values, checked and typed for its column: two for a range, several for a
    list, one otherwise; datetimes for timestamps, numbers for numeric columns, text or
    numbers (not both) for data fields."""
    if item.operator in ("in", "not_in"):
        raw = list(_range(item))
    elif item.operator in ("in_list", "not_in_list"):
        raw = list(_list(item))
    else:
        raw = [item.value]
    if item.operator in ("contains", "not_contains") and not isinstance(raw[0], str):
        raise ValidationError(f"filter {item.column}: {item.operator} needs text, got {raw[0]!r}")
    if item.column in ("created_at", "updated_at"):
        return [_datetime(item.column, value) for value in raw]
    if item.column in _NUMERIC_COLUMNS:
        if not all(_is_number(value) for value in raw):
            raise ValidationError(
                f"filter {item.column}: {item.operator} needs numbers, got {raw!r}"
            )
        if item.column in _INTEGER_COLUMNS and not all(abs(value) <= MAX_INT4 for value in raw):
            raise ValidationError(
                f"filter {item.column}: {raw!r} is beyond the column's range (±{MAX_INT4})"
            )
        return raw
    if not (all(isinstance(v, str) for v in raw) or all(_is_number(v) for v in raw)):
        raise ValidationError(
            f"filter {item.column}: {item.operator} needs text or numbers, got {raw!r}"
        )
    return raw


def _operand(item: Filter, values: list[Any], score_version: str | None, source: Any) -> Any:
    """The column as the values compare with it: a data field holding a number is compared as
    a number with numbers (a field that is not a number then matches nothing), else as text."""
    if item.column.startswith("data.") and _is_number(values[0]):
        return JsonNumber(Task.data, item.column[5:])
    return column_expression(item.column, score_version, source)


def _empty_condition(item: Filter, score_version: str | None, source: Any) -> ColumnElement[bool]:
    wanted = _boolean(item)
    expression = column_expression(item.column, score_version, source)
    if item.column in COUNTERS:
        return (expression == 0) if wanted else (expression != 0)
    missing = expression.is_(None)
    if item.column.startswith("data."):
        missing = or_(missing, expression == "")
    return missing if wanted else not_(missing)


def _flag_condition(item: Filter, flag: ColumnElement[bool]) -> ColumnElement[bool]:
    """A yes/no column: ``equal``/``not_equal`` true or false, or ``empty`` (meaning no)."""
    if item.operator not in ("equal", "not_equal", "empty"):
        raise ValidationError(
            f"filter {item.column}: use equal, not_equal or empty, not {item.operator!r}"
        )
    wanted = _boolean(item)
    if item.operator != "equal":
        wanted = not wanted
    return flag if wanted else not_(flag)


def _datetime(column: str, value: object) -> datetime:
    if not isinstance(value, str):
        raise ValidationError(f"filter {column}: needs an ISO date, got {value!r}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationError(f"filter {column}: {value!r} is not an ISO date") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


_NUMERIC_COLUMNS = ("id", *COUNTERS, "predictions_score")
_INTEGER_COLUMNS = ("id", *COUNTERS)


class JsonNumber(ColumnElement[float]):
    """A field of a JSON column as a number, or NULL when it holds anything else, so that
    comparing a text value with a number never raises (PostgreSQL's cast would)."""

    inherit_cache = True
    type = Float()

    def __init__(self, column: Any, key: str) -> None:
        self.column = column
        self.key = key


@compiles(JsonNumber, "postgresql")
def _json_number_postgresql(element: JsonNumber, compiler: Any, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    key = compiler.process(literal(element.key), **kw)
    return (
        f"(CASE WHEN jsonb_typeof({column} -> {key}) = 'number' "
        f"THEN ({column} ->> {key})::float END)"
    )


@compiles(JsonNumber)
def _json_number_sqlite(element: JsonNumber, compiler: Any, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    escaped = element.key.replace("\\", "\\\\").replace('"', '\\"')
    path = compiler.process(literal(f'$."{escaped}"'), **kw)
    return (
        f"(CASE WHEN json_type({column}, {path}) IN ('integer', 'real') "
        f"THEN json_extract({column}, {path}) END)"
    )


def _model_version_condition(item: Filter) -> ColumnElement[bool]:
    """Tasks with a prediction whose version contains (or equals) one of the values."""
    versions = Prediction.model_version
    if item.operator == "empty":
        unversioned = exists().where(Prediction.task_id == Task.id, versions == "")
        return unversioned if _boolean(item) else not_(unversioned)
    values = item.value if isinstance(item.value, list) else [item.value]
    if not values or not all(isinstance(v, str) for v in values):
        raise ValidationError("filter predictions_model_versions: give one or more versions")
    if item.operator in ("contains", "not_contains"):
        matches = or_(*(versions.contains(v, autoescape=True) for v in values))
    elif item.operator in ("equal", "not_equal", "in_list", "not_in_list"):
        matches = versions.in_(values)
    else:
        raise ValidationError(
            f"filter predictions_model_versions: operator {item.operator!r} does not apply; "
            "use contains, not_contains, equal, not_equal, in_list, not_in_list or empty"
        )
    found = exists().where(Prediction.task_id == Task.id, matches)
    return not_(found) if item.operator.startswith("not_") else found


def _agreement_condition(item: Filter, known: Mapping[int, float]) -> ColumnElement[bool]:
    """Tasks whose agreement passes the filter, named by id (inlined: there may be more than
    a database accepts as bound parameters)."""
    judge = agreement_predicate(item)
    if isinstance(judge, bool):
        ids = list(known)
        wanted_missing = judge
    else:
        ids = [task for task, value in known.items() if judge(value)]
        wanted_missing = False
    listed = Task.id.in_(bindparam(None, ids, expanding=True, literal_execute=True))
    return not_(listed) if wanted_missing else listed


def _has_ground_truth() -> ColumnElement[bool]:
    return exists().where(
        Annotation.task_id == Task.id,
        Annotation.ground_truth.is_(True),
        Annotation.was_cancelled.is_(False),
    )


def _check_column(name: str, what: str) -> None:
    if name in COLUMNS or (name.startswith("data.") and len(name) > 5):
        return
    if what == "filter" and agreement_version(name):
        return
    raise ValidationError(
        f"{what}: unknown column {name!r}; columns: {', '.join(COLUMNS)}, data.<field>"
        + (", agreement.<model version>" if what == "filter" else "")
    )


def agreement_version(column: str) -> str | None:
    """The model version an ``agreement.<model version>`` column names, else None."""
    prefix = "agreement."
    return column[len(prefix) :] or None if column.startswith(prefix) else None


AgreementPredicate = Callable[[float], bool]


def agreement_predicate(item: Filter) -> AgreementPredicate | bool:
    """How an agreement filter judges a task: a predicate on its agreement (0-1), for tasks
    that have one; or, for ``empty``, whether it wants the tasks that have none."""
    if item.operator == "empty":
        return _boolean(item)
    if item.operator in ("in", "not_in"):
        low, high = _range(item)
        if not (_is_number(low) and _is_number(high)):
            raise ValidationError(f"filter {item.column}: {item.operator} needs numbers")
        inside = item.operator == "in"
        return lambda value: (low <= value <= high) == inside
    compare = _COMPARISONS.get(item.operator)
    if compare is None:
        raise ValidationError(
            f"filter {item.column}: operator {item.operator!r} does not apply; use "
            f"{', '.join(_COMPARISONS)}, in, not_in or empty"
        )
    if not _is_number(item.value):
        raise ValidationError(f"filter {item.column}: {item.operator} needs a number")
    threshold = item.value
    return lambda value: compare(value, threshold)


_COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    "less": operator.lt,
    "less_or_equal": operator.le,
    "greater": operator.gt,
    "greater_or_equal": operator.ge,
    "equal": operator.eq,
    "not_equal": operator.ne,
}


def _boolean(item: Filter) -> bool:
    if isinstance(item.value, bool):
        return item.value
    if item.value in ("true", "false"):
        return item.value == "true"
    raise ValidationError(f"filter {item.column}: {item.operator} needs true or false")


def _range(item: Filter) -> tuple[Any, Any]:
    value = item.value
    if not (isinstance(value, dict) and "min" in value and "max" in value):
        raise ValidationError(
            f'filter {item.column}: {item.operator} needs {{"min": .., "max": ..}}'
        )
    return value["min"], value["max"]


def _list(item: Filter) -> Sequence[Any]:
    if not isinstance(item.value, list) or not item.value:
        raise ValidationError(f"filter {item.column}: {item.operator} needs a non-empty list")
    return item.value


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
