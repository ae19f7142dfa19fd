"""Label Studio's Data Manager query JSON read into a ``TaskQuery``.

The task list (``GET /api/tasks?query=``), the actions (``POST /api/dm/actions``) and the web
Data Manager all send the same three keys::

    {"filters": {"conjunction": "and", "items": [{"filter": "filter:tasks:total_predictions",
                 "operator": "greater", "type": "Number", "value": 0}]},
     "selectedItems": {"all": true, "excluded": [4]},       # or {"all": false, "included": [1]}
     "ordering": ["-tasks:predictions_score"]}

Every key is optional. Unlike Label Studio, a selection is read as written: ``{"all": false,
"included": []}`` selects nothing (Label Studio acts on every task), and ``included`` with
``all: true`` is an error rather than silently ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from prelabel.errors import ValidationError
from prelabel.services.tasks import TaskQuery
from prelabel.store.task_filters import Filter, Filters, Selection
from prelabel.store.types import MAX_INT4

#: Task ids are 32-bit: PostgreSQL refuses to compare the column with a larger number.


def task_query_from_json(
    query: Mapping[str, Any], *, score_version: str | None = None
) -> TaskQuery:
    """The ``TaskQuery`` of a Data Manager query; each error names the key at fault."""
    if not isinstance(query, Mapping):
        raise ValidationError(f"query: must be a JSON object, got {_kind(query)}")
    return TaskQuery(
        filters=_filters(query.get("filters")),
        selection=_selection(query.get("selectedItems")),
        ordering=_ordering(query.get("ordering")),
        score_version=score_version,
    )


def _filters(value: Any) -> Filters:
    if value is None:
        return Filters()
    if not isinstance(value, Mapping):
        raise ValidationError(f"filters: must be an object, got {_kind(value)}")
    items = value.get("items") or []
    if not isinstance(items, list):
        raise ValidationError(f"filters.items: must be a list, got {_kind(items)}")
    conjunction = value.get("conjunction", "and")
    if not isinstance(conjunction, str):
        raise ValidationError(f"filters.conjunction: must be and or or, got {conjunction!r}")
    return Filters(conjunction, tuple(_filter(item, i) for i, item in enumerate(items)))


def _filter(item: Any, index: int) -> Filter:
    where = f"filters.items[{index}]"
    if not isinstance(item, Mapping):
        raise ValidationError(f"{where}: must be an object, got {_kind(item)}")
    name = item.get("filter")
    operator = item.get("operator")
    if not isinstance(name, str) or not isinstance(operator, str):
        raise ValidationError(f"{where}: needs 'filter' and 'operator' strings")
    try:
        return Filter(_column(name, f"{where}.filter"), operator, item.get("value"))
    except ValidationError as exc:
        raise ValidationError(f"{where}: {exc.message}") from None


def _column(name: str, where: str) -> str:
    """``filter:tasks:total_predictions`` or ``tasks:total_predictions`` -> the column."""
    prefix = "filter:tasks:" if name.startswith("filter:") else "tasks:"
    if not name.startswith(prefix):
        raise ValidationError(f"{where}: {name!r} does not name a task column (filter:tasks:...)")
    return name.removeprefix(prefix)


def _selection(value: Any) -> Selection:
    if value is None:
        return Selection()
    if not isinstance(value, Mapping) or not isinstance(value.get("all"), bool):
        raise ValidationError(
            'selectedItems: must be {"all": true, "excluded": [...]} '
            'or {"all": false, "included": [...]}'
        )
    everything = value["all"]
    key, other = ("excluded", "included") if everything else ("included", "excluded")
    if value.get(other):
        raise ValidationError(
            f"selectedItems: {other!r} goes with all={str(not everything).lower()}; "
            f"with all={str(everything).lower()} list task ids in {key!r}"
        )
    ids = value.get(key) or []
    if not isinstance(ids, list) or not all(
        isinstance(i, int) and not isinstance(i, bool) and 1 <= i <= MAX_INT4 for i in ids
    ):
        raise ValidationError(f"selectedItems.{key}: must be a list of task ids")
    return Selection(all=everything, ids=tuple(ids))


def _ordering(value: Any) -> str | None:
    if value is None or value == []:
        return None
    if not isinstance(value, list) or len(value) != 1 or not isinstance(value[0], str):
        raise ValidationError(
            'ordering: must be a list of one column such as ["-tasks:predictions_score"]'
        )
    text = value[0]
    descending = text.startswith("-")
    column = _column(text.lstrip("-"), "ordering")
    return f"-{column}" if descending else column


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def typed_filter(column: str, operator: str, text: str) -> Filter:
    """A filter whose value was typed as text (on the command line, in a web form): read as
    JSON when it is JSON (``3``, ``true``, ``{"min": 1, "max": 9}``), else as the text itself;
    one model version stands for a list of one."""
    try:
        value: Any = orjson.loads(text)
    except orjson.JSONDecodeError:
        value = text
    if column == "predictions_model_versions" and isinstance(value, str):
        value = [value]
    return Filter(column, operator, value)
