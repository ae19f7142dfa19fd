"""The ``<Choices>`` control: one or several labels for a whole object."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar, Self
from xml.etree.ElementTree import Element

from prelabel.errors import LabelConfigError
from prelabel.labeling.controls import (
    Control,
    Found,
    InvalidValue,
    Option,
    describe_options,
    label_names,
    not_an_option,
    read_options,
    require,
    single,
)
from prelabel.labeling.objects import json_type
from prelabel.labeling.spans import UnlocatedSpan

__all__ = ["Choices"]


@dataclass(frozen=True)
class Choices(Control):
    """``<Choices>``: one label (``choice="single"``/``"single-radio"``) or several."""

    tag: ClassVar[str] = "Choices"

    options: tuple[Option, ...] = ()
    multiple: bool = False

    @classmethod
    def from_element(cls, element: Element, name: str, to_name: tuple[str, ...]) -> Self:
        where = f'<Choices name="{name}">'
        if (element.get("value") or "").startswith("$"):
            raise LabelConfigError(
                f'{where} takes its options from task data (value="{element.get("value")}"); '
                "dynamic choices are not supported, list the <Choice> options in the config"
            )
        mode = element.get("choice", "single")
        if mode not in ("single", "single-radio", "multiple"):
            raise LabelConfigError(
                f'{where} has choice="{mode}"; expected "single", "single-radio" or "multiple"'
            )
        options = read_options(element, "Choice", where)
        if not options:
            raise LabelConfigError(f"{where} has no <Choice> options")
        return cls(name=name, to_name=to_name, options=options, multiple=mode == "multiple")

    @property
    def empty_answer(self) -> object:
        return [] if self.multiple else None

    @cached_property
    def _labels(self) -> dict[str, str]:
        return label_names(self.options)

    def schema(self) -> dict[str, Any]:
        labels = [option.label for option in self.options]
        pairs = [(option.label, option) for option in self.options]
        if not self.multiple:
            summary = "Exactly one of the choices."
            return {
                "type": "string",
                "enum": labels,
                "description": describe_options(summary, pairs),
            }
        summary = "Every choice that applies; an empty list when none does."
        return {
            "type": "array",
            "items": {"type": "string", "enum": labels},
            "description": describe_options(summary, pairs),
        }

    def to_regions(
        self, answer: object, to_name: str, document: str | None
    ) -> tuple[list[dict[str, Any]], list[UnlocatedSpan]]:
        if not self.multiple:
            return [self.region(to_name, {"choices": [self._answer_label(answer)]})], []
        if not isinstance(answer, list):
            raise InvalidValue(f"expected a list of choices, got {json_type(answer)}")
        labels = list(dict.fromkeys(self._answer_label(item) for item in answer))
        return ([self.region(to_name, {"choices": labels})] if labels else []), []

    def check_value(self, value: Mapping[str, Any], document: str | None) -> None:
        choices = require(value, "choices")
        if not isinstance(choices, list):
            raise InvalidValue(f"choices must be a list, got {json_type(choices)}")
        for choice in choices:
            if not isinstance(choice, str) or choice not in self._labels:
                raise not_an_option(choice, self.options, "choice")
        if not self.multiple and len(choices) != 1:
            raise InvalidValue(f"single choice needs exactly one choice, got {len(choices)}")

    def from_values(self, found: Sequence[Found]) -> object:
        labels = [self._labels[choice] for value, _ in found for choice in value["choices"]]
        if self.multiple:
            return list(dict.fromkeys(labels))
        return single(labels, "choice")

    def _answer_label(self, item: object) -> str:
        """The label an answer item names; answers use labels only, as the schema's enum says."""
        if not isinstance(item, str) or self._labels.get(item) != item:
            raise not_an_option(item, self.options, "choice")
        return item
