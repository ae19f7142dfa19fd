"""The ``<Labels>`` control: labelled spans of a ``<Text>``.

A model cannot count characters, so it answers with the span's text, its label and which
occurrence of that text it means; ``spans.align_spans`` finds the offsets, and a span it cannot
find is reported, never given made-up offsets. Stored results carry ``start``/``end`` in code
points (Python) or in UTF-16 units (Label Studio's browser); ``value.text`` tells which, and
everything here converts to code points before comparing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar, Literal, Self
from xml.etree.ElementTree import Element

from prelabel.errors import LabelConfigError
from prelabel.labeling.controls import (
    Control,
    Found,
    InvalidValue,
    Option,
    describe_options,
    is_int,
    label_names,
    not_an_option,
    read_options,
    require,
)
from prelabel.labeling.objects import json_type
from prelabel.labeling.spans import (
    SpanRequest,
    UnlocatedSpan,
    align_spans,
    codepoint_offsets,
    occurrence_of,
    span_unit,
    utf16_offsets,
)

__all__ = ["Labels"]

_ITEM_KEYS = ("text", "label", "occurrence")


@dataclass(frozen=True)
class Labels(Control):
    """``<Labels>``: spans on a ``<Text>``, each region holding one span and its labels."""

    tag: ClassVar[str] = "Labels"
    object_tags: ClassVar[tuple[str, ...]] = ("Text",)
    reads_text: ClassVar[bool] = True

    options: tuple[Option, ...] = ()

    @classmethod
    def from_element(cls, element: Element, name: str, to_name: tuple[str, ...]) -> Self:
        where = f'<Labels name="{name}">'
        options = read_options(element, "Label", where)
        if not options:
            raise LabelConfigError(f"{where} has no <Label> options")
        return cls(name=name, to_name=to_name, options=options)

    @property
    def empty_answer(self) -> object:
        return []

    @cached_property
    def _labels(self) -> dict[str, str]:
        return label_names(self.options)

    def schema(self) -> dict[str, Any]:
        summary = (
            "Every span to label: its exact text as written, its label, and which occurrence "
            "of that text it is (1 for the first; null for the first one not already labelled)."
        )
        labels = [option.label for option in self.options]
        item = {
            "type": "object",
            "properties": {
                "text": {"type": "string"},
                "label": {"type": "string", "enum": labels},
                "occurrence": {"type": ["integer", "null"], "minimum": 1},
            },
            "required": list(_ITEM_KEYS),
            "additionalProperties": False,
        }
        pairs = [(option.label, option) for option in self.options]
        return {"type": "array", "items": item, "description": describe_options(summary, pairs)}

    def to_regions(
        self, answer: object, to_name: str, document: str | None
    ) -> tuple[list[dict[str, Any]], list[UnlocatedSpan]]:
        assert document is not None, "Labels only annotate <Text>, which always has text"
        if not isinstance(answer, list):
            raise InvalidValue(f"expected a list of spans, got {json_type(answer)}")
        spans, unlocated = align_spans(document, [self._request(item) for item in answer])
        regions = []
        for index, span in enumerate(spans):
            value = {
                "start": span.start,
                "end": span.end,
                "text": span.text,
                "labels": [span.label],
            }
            regions.append({"id": f"{self.name}-{index}", **self.region(to_name, value)})
        return regions, unlocated

    def check_value(self, value: Mapping[str, Any], document: str | None) -> None:
        assert document is not None
        labels = require(value, "labels")
        if not isinstance(labels, list) or not labels:
            raise InvalidValue(f"labels must be a non-empty list, got {labels!r}")
        for label in labels:
            if not isinstance(label, str) or label not in self._labels:
                raise not_an_option(label, self.options, "label")
        self._codepoints(value, document)

    def from_values(self, found: Sequence[Found]) -> object:
        """One answer item per span and label, naming the span by text and occurrence.

        Whitespace at a span's edges is left out, as alignment would strip it from an answer
        anyway; a span that is only whitespace, or that cuts a character in two, cannot be
        named by its text and raises InvalidValue.
        """
        answer = []
        for value, document in found:
            assert document is not None
            start, end = self._codepoints(value, document)
            covered = document[start:end]
            start += len(covered) - len(covered.lstrip())
            end -= len(covered) - len(covered.rstrip())
            if start >= end:
                raise InvalidValue(f"span {covered!r} is only whitespace, which no answer can name")
            try:
                occurrence = occurrence_of(document, start, end)
            except ValueError as error:
                raise InvalidValue(
                    f"span {covered!r} cannot be named by its text: {error}"
                ) from None
            for label in value["labels"]:
                item = {"text": document[start:end], "label": self._labels[label]}
                answer.append({**item, "occurrence": occurrence})
        return answer

    def convert_offsets(
        self, value: Mapping[str, Any], document: str | None, unit: Literal["utf16", "codepoint"]
    ) -> dict[str, Any]:
        """Offsets in ``unit``, with ``text`` filled in so that the unit stays detectable."""
        assert document is not None
        start, end = self._codepoints(value, document)
        text = document[start:end]
        if unit == "utf16":
            start, end = utf16_offsets(document, start, end)
        return {**value, "start": start, "end": end, "text": text}

    def _request(self, item: object) -> SpanRequest:
        """Check one answer item against the schema and turn it into an alignment request."""
        if not isinstance(item, Mapping) or set(item) != set(_ITEM_KEYS):
            raise InvalidValue(
                f'each span must be an object with exactly "text", "label" and "occurrence", '
                f"got {item!r}"
            )
        text, label, occurrence = (item[key] for key in _ITEM_KEYS)
        if not isinstance(text, str):
            raise InvalidValue(f"span text must be a string, got {json_type(text)}")
        if not isinstance(label, str) or self._labels.get(label) != label:
            raise not_an_option(label, self.options, "label")
        if occurrence is not None and (not is_int(occurrence) or occurrence < 1):
            raise InvalidValue(f"occurrence must be a positive integer or null, got {occurrence!r}")
        return SpanRequest(text=text, label=label, occurrence=occurrence)

    def _codepoints(self, value: Mapping[str, Any], document: str) -> tuple[int, int]:
        """The code-point offsets of a stored span, checked against the document.

        With ``value.text`` the offsets may be code points or UTF-16 units, whichever makes them
        cover that text; without it they are taken as code points, Python's own unit.
        """
        start, end = require(value, "start"), require(value, "end")
        if not (is_int(start) and is_int(end)):
            raise InvalidValue(f"start and end must be integers, got {start!r} and {end!r}")
        if "text" not in value:
            if not 0 <= start < end <= len(document):
                raise InvalidValue(
                    f"span {start}..{end} is not inside the text (0..{len(document)} code points)"
                )
            return start, end
        text = value["text"]
        if not isinstance(text, str):
            raise InvalidValue(f"value.text must be a string, got {json_type(text)}")
        unit = span_unit(document, start, end, text) if 0 <= start < end else None
        if unit is None:
            raise InvalidValue(
                f"value.text {text!r} is not the text at {start}..{end} "
                "in code points or in UTF-16 units"
            )
        return codepoint_offsets(document, start, end) if unit == "utf16" else (start, end)
