"""Controls whose answer is one free value: ``<TextArea>``, ``<Number>`` and ``<Rating>``."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Self
from xml.etree.ElementTree import Element

from prelabel.errors import LabelConfigError
from prelabel.labeling.controls import Control, Found, InvalidValue, is_int, require, single
from prelabel.labeling.objects import json_type
from prelabel.labeling.spans import UnlocatedSpan

__all__ = ["Number", "Rating", "TextArea"]


def _number_attr(element: Element, attr: str, where: str) -> float | None:
    """A finite float attribute, None when absent; LabelConfigError when it is not a number."""
    raw = element.get(attr)
    if raw is None:
        return None
    try:
        number = float(raw)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise LabelConfigError(f'{where} has {attr}="{raw}", which is not a number')
    return number


def _is_number(value: object) -> bool:
    """True for a finite JSON number; ints are exact, however many digits they have."""
    return is_int(value) or (isinstance(value, float) and math.isfinite(value))


@dataclass(frozen=True)
class TextArea(Control):
    """``<TextArea>``: free text. Several entries of a stored result read as lines of one text."""

    tag: ClassVar[str] = "TextArea"

    def schema(self) -> dict[str, Any]:
        return {"type": ["string", "null"], "description": "Free text; null when there is none."}

    def to_regions(
        self, answer: object, to_name: str, document: str | None
    ) -> tuple[list[dict[str, Any]], list[UnlocatedSpan]]:
        if not isinstance(answer, str):
            raise InvalidValue(f"expected a string, got {json_type(answer)}")
        return ([self.region(to_name, {"text": [answer]})] if answer else []), []

    def check_value(self, value: Mapping[str, Any], document: str | None) -> None:
        texts = require(value, "text")
        if not isinstance(texts, list) or not all(isinstance(text, str) for text in texts):
            raise InvalidValue(f"text must be a list of strings, got {json_type(texts)}")

    def from_values(self, found: Sequence[Found]) -> object:
        return "\n".join(text for value, _ in found for text in value["text"]) or None


@dataclass(frozen=True)
class Number(Control):
    """``<Number>``: one number, within ``min``/``max`` when the config sets them."""

    tag: ClassVar[str] = "Number"

    minimum: float | None = None
    maximum: float | None = None

    @classmethod
    def from_element(cls, element: Element, name: str, to_name: tuple[str, ...]) -> Self:
        where = f'<Number name="{name}">'
        minimum = _number_attr(element, "min", where)
        maximum = _number_attr(element, "max", where)
        if minimum is not None and maximum is not None and minimum > maximum:
            raise LabelConfigError(f"{where} has min={minimum:g} above max={maximum:g}")
        return cls(name=name, to_name=to_name, minimum=minimum, maximum=maximum)

    def schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": ["number", "null"]}
        if self.minimum is not None:
            schema["minimum"] = self.minimum
        if self.maximum is not None:
            schema["maximum"] = self.maximum
        schema["description"] = f"A number{self._bounds()}; null when unknown."
        return schema

    def to_value(self, answer: object) -> dict[str, Any]:
        self._check(answer)
        return {"number": answer}

    def check_value(self, value: Mapping[str, Any], document: str | None) -> None:
        self._check(require(value, "number"))

    def from_values(self, found: Sequence[Found]) -> object:
        return single([value["number"] for value, _ in found], "number")

    def _check(self, number: object) -> None:
        if not _is_number(number):
            raise InvalidValue(f"expected a number, got {json_type(number)}")
        low = self.minimum if self.minimum is not None else -math.inf
        high = self.maximum if self.maximum is not None else math.inf
        if not low <= number <= high:  # type: ignore[operator]
            raise InvalidValue(f"{number!r} is not{self._bounds()}")

    def _bounds(self) -> str:
        if self.minimum is not None and self.maximum is not None:
            return f" between {self.minimum:g} and {self.maximum:g}"
        if self.minimum is not None:
            return f" of at least {self.minimum:g}"
        if self.maximum is not None:
            return f" of at most {self.maximum:g}"
        return ""


@dataclass(frozen=True)
class Rating(Control):
    """``<Rating>``: stars from 1 to ``maxRating``; a stored 0 is Label Studio's "no stars"."""

    tag: ClassVar[str] = "Rating"

    max_rating: int = 5

    @classmethod
    def from_element(cls, element: Element, name: str, to_name: tuple[str, ...]) -> Self:
        raw = element.get("maxRating", "5")
        try:
            max_rating = int(raw) if raw.strip().isdecimal() else 0
        except ValueError:  # more digits than Python converts
            max_rating = 0
        if max_rating < 1:
            raise LabelConfigError(
                f'<Rating name="{name}"> has maxRating="{raw}", which is not a positive integer'
            )
        return cls(name=name, to_name=to_name, max_rating=max_rating)

    def schema(self) -> dict[str, Any]:
        return {
            "type": ["integer", "null"],
            "minimum": 1,
            "maximum": self.max_rating,
            "description": f"A rating from 1 to {self.max_rating}; null when unknown.",
        }

    def to_value(self, answer: object) -> dict[str, Any]:
        if isinstance(answer, float) and answer.is_integer():
            answer = int(answer)
        if not is_int(answer) or not 1 <= answer <= self.max_rating:  # type: ignore[operator]
            raise InvalidValue(f"{answer!r} is not an integer from 1 to {self.max_rating}")
        return {"rating": answer}

    def check_value(self, value: Mapping[str, Any], document: str | None) -> None:
        rating = require(value, "rating")
        if not is_int(rating) or not 0 <= rating <= self.max_rating:
            raise InvalidValue(f"rating {rating!r} is not an integer from 0 to {self.max_rating}")

    def from_values(self, found: Sequence[Found]) -> object:
        return single([value["rating"] for value, _ in found], "rating") or None
