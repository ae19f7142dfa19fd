"""What a result says for one control, in the shape its metrics compare.

Results are Label Studio regions; each function reads the regions of one control (``from_name``)
and returns ``None`` when the result has none, so that a task whose ground truth does not answer
a control is not evaluated on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from prelabel.labeling import Choices, Control, Labels, Number, Rating, Taxonomy, TextArea

KINDS: dict[type[Control], str] = {
    Taxonomy: "multiple",
    Labels: "spans",
    TextArea: "text",
    Number: "number",
    Rating: "number",
}


def kind_of(control: Control) -> str:
    """The metric family of a control: ``single``, ``multiple``, ``spans``, ``text``, ``number``."""
    if isinstance(control, Choices):
        return "multiple" if control.multiple else "single"
    return KINDS[type(control)]


def value_of(control: Control, result: Sequence[dict[str, Any]]) -> Any:
    """The control's answer in ``result``: a label, a set of labels, spans, text or a number."""
    regions = [region for region in result if region.get("from_name") == control.name]
    if not regions:
        return None
    values = [region.get("value", {}) for region in regions]
    kind = kind_of(control)
    if kind in ("single", "multiple"):
        labels = frozenset(_labels(control, values))
        if kind == "multiple":
            return labels
        return min(labels) if labels else None
    if kind == "spans":
        return [
            (value["start"], value["end"], label)
            for value in values
            for label in value.get("labels", [])
            if "start" in value and "end" in value
        ]
    if kind == "text":
        return "\n".join(line for value in values for line in value.get("text", []))
    key = "rating" if isinstance(control, Rating) else "number"
    numbers = [value[key] for value in values if isinstance(value.get(key), int | float)]
    return float(numbers[0]) if numbers else None


def _labels(control: Control, values: list[dict[str, Any]]) -> list[str]:
    if isinstance(control, Taxonomy):
        return [
            control.separator.join(path) for value in values for path in value.get("taxonomy", [])
        ]
    return [choice for value in values for choice in value.get("choices", [])]
