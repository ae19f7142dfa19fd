"""``LabelConfig``: a parsed labeling config and everything prelabel does with one.

It routes work to the right object or control and owns the result envelope (``from_name``,
``to_name``, ``type``, ``id``, relations); each control kind owns the rules for its ``value``.
Everything here is pure: no database, no network, so the engine, the importer and the evaluator
can share one set of rules.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from prelabel.errors import ResultError, TaskDataError
from prelabel.labeling.controls import Control, Found, InvalidValue
from prelabel.labeling.objects import ObjectTag, json_type
from prelabel.labeling.spans import UnlocatedSpan

__all__ = ["Conversion", "LabelConfig"]

_RELATION_DIRECTIONS = ("right", "left", "bi")


@dataclass(frozen=True)
class Conversion:
    """An answer turned into a result, plus the spans that could not be found in the text."""

    result: list[dict[str, Any]]
    unlocated: list[UnlocatedSpan]


@dataclass(frozen=True)
class LabelConfig:
    """A labeling config: its XML, its object tags and its control tags, in document order.

    Build one with ``parse_label_config``; the constructor trusts its arguments.
    """

    xml: str
    objects: Mapping[str, ObjectTag]
    controls: Mapping[str, Control]

    @property
    def data_fields(self) -> tuple[str, ...]:
        """The task data keys the object tags read, in document order, each once."""
        fields = (obj.field for obj in self.objects.values() if obj.field is not None)
        return tuple(dict.fromkeys(fields))

    def text_of(self, object_name: str, data: Mapping[str, Any]) -> str | None:
        """The text object ``object_name`` shows for a task; None for an Image.

        Raises KeyError for a name that is no object and TaskDataError when the data does not fit.
        """
        return self.objects[object_name].text(data)

    def check_task_data(self, data: object) -> None:
        """Raise TaskDataError when ``data`` lacks a field the objects read or has a wrong type."""
        if not isinstance(data, Mapping):
            raise TaskDataError(f"task data must be an object, got {json_type(data)}")
        for obj in self.objects.values():
            obj.check_data(data)

    def answer_schema(self) -> dict[str, Any]:
        """The JSON Schema of the answer a model must return: one property per control.

        It is strict-mode compatible (OpenAI structured outputs): every object closes
        ``additionalProperties`` and requires all of its properties.
        """
        return {
            "type": "object",
            "properties": {name: control.schema() for name, control in self.controls.items()},
            "required": list(self.controls),
            "additionalProperties": False,
        }

    def answer_to_result(self, answer: Mapping[str, Any], data: Mapping[str, Any]) -> Conversion:
        """Turn a model's answer into Label Studio result regions.

        A null answer for any control means "no answer" and gives no region, even where the
        schema offers no null (single Choices), so that ``result_to_answer`` output converts back.
        Raises ResultError naming the control when the answer breaks the schema, and
        TaskDataError when a span answer needs text the task data lacks.
        """
        if not isinstance(answer, Mapping):
            raise ResultError(f"answer must be an object, got {json_type(answer)}")
        for key in answer:
            if key not in self.controls:
                raise ResultError(
                    f"answer names no control {key!r}; controls: {', '.join(self.controls)}"
                )
        text_of = self._texts(data)
        result: list[dict[str, Any]] = []
        unlocated: list[UnlocatedSpan] = []
        for name, control in self.controls.items():
            if name not in answer:
                raise ResultError(f'answer is missing "{name}"')
            if answer[name] is None:
                continue
            to_name = control.to_name[0]
            document = text_of(to_name) if control.reads_text else None
            try:
                regions, lost = control.to_regions(answer[name], to_name, document)
            except InvalidValue as error:
                raise ResultError(f'answer for "{name}": {error}') from None
            result.extend(regions)
            unlocated.extend(lost)
        return Conversion(result=result, unlocated=unlocated)

    def result_to_answer(
        self, result: Sequence[Mapping[str, Any]], data: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Turn a stored result back into an answer, the inverse of ``answer_to_result``.

        Regions of one control merge into its one answer; a control without regions gets the
        schema's empty answer (null or []). Raises ResultError when the result is not valid or
        when regions of a one-value control disagree.
        """
        self.check_result(result, data)
        text_of = self._texts(data)
        found: dict[str, list[Found]] = {name: [] for name in self.controls}
        for region in result:
            if _is_relation(region):
                continue
            control = self.controls[region["from_name"]]
            document = text_of(region["to_name"]) if control.reads_text else None
            found[control.name].append((region["value"], document))
        answer = {}
        for name, control in self.controls.items():
            try:
                value = control.from_values(found[name]) if found[name] else None
            except InvalidValue as error:
                raise ResultError(f'result for "{name}": {error}') from None
            answer[name] = control.empty_answer if value is None else value
        return answer

    def check_result(self, result: object, data: Mapping[str, Any]) -> None:
        """Raise ResultError when a result does not fit this config.

        The message names the region's index, its ``from_name`` and the reason, the way
        Label Studio's own validation does. Span regions are checked against their object's
        text, so task data that lacks it raises TaskDataError.
        """
        if not isinstance(result, list):
            raise ResultError(f"result must be a list of regions, got {json_type(result)}")
        text_of = self._texts(data)
        ids: set[str] = set()
        for index, region in enumerate(result):
            if not isinstance(region, Mapping):
                raise ResultError(f"region {index}: must be an object, got {json_type(region)}")
            _check_envelope(index, region)
            if not _is_relation(region):
                self._check_region(index, region, text_of)
                if "id" in region:
                    ids.add(region["id"])
        for index, region in enumerate(result):
            if _is_relation(region):
                _check_relation(index, region, ids)

    def convert_span_offsets(
        self,
        result: Sequence[Mapping[str, Any]],
        data: Mapping[str, Any],
        unit: Literal["utf16", "codepoint"],
    ) -> list[dict[str, Any]]:
        """A copy of a valid result whose span offsets are in ``unit``; other regions unchanged.

        Python and prelabel count code points; Label Studio's browser counts UTF-16 units, so
        results cross that border through here.
        """
        self.check_result(result, data)
        text_of = self._texts(data)
        converted = []
        for region in copy.deepcopy(list(result)):
            if not _is_relation(region):
                control = self.controls[region["from_name"]]
                document = text_of(region["to_name"]) if control.reads_text else None
                region["value"] = control.convert_offsets(region["value"], document, unit)
            converted.append(region)
        return converted

    def _check_region(
        self, index: int, region: Mapping[str, Any], text_of: Callable[[str], str | None]
    ) -> None:
        """Check a region's control, object, type and value."""
        name = region.get("from_name")
        if not isinstance(name, str):
            raise ResultError(f"region {index}: from_name must be a string, got {name!r}")
        control = self.controls.get(name)
        if control is None:
            raise ResultError(
                f"region {index}: from_name {name!r} names no control; "
                f"controls: {', '.join(self.controls)}"
            )
        where = f"region {index} ({name})"
        to_name = region.get("to_name")
        if to_name not in control.to_name:
            raise ResultError(
                f"{where}: to_name {to_name!r} is not one of its toName: "
                f"{', '.join(control.to_name)}"
            )
        if region.get("type") != control.type:
            raise ResultError(f"{where}: type {region.get('type')!r} should be {control.type!r}")
        value = region.get("value")
        if not isinstance(value, Mapping):
            raise ResultError(f"{where}: value must be an object, got {json_type(value)}")
        document = text_of(to_name) if control.reads_text else None
        try:
            control.check_value(value, document)
        except InvalidValue as error:
            raise ResultError(f"{where}: {error}") from None

    def _texts(self, data: Mapping[str, Any]) -> Callable[[str], str | None]:
        """``text_of`` for one task, remembering each object's text across its regions.

        A plain dict rather than ``functools.cache``: this runs once per imported result, and
        building a cache wrapper each time cost more than the lookups it saved.
        """
        texts: dict[str, str | None] = {}

        def text_of(object_name: str) -> str | None:
            if object_name not in texts:
                texts[object_name] = self.text_of(object_name, data)
            return texts[object_name]

        return text_of


def _is_relation(region: Mapping[str, Any]) -> bool:
    """Relations are result items of their own kind: they link regions instead of labelling."""
    return region.get("type") == "relation"


def _check_envelope(index: int, region: Mapping[str, Any]) -> None:
    """Check the optional keys any region or relation may carry."""
    checks = (
        ("id", str, "a string"),
        ("origin", str, "a string"),
        ("readonly", bool, "true or false"),
        ("hidden", bool, "true or false"),
    )
    for key, kind, expected in checks:
        if key in region and not isinstance(region[key], kind):
            raise ResultError(f"region {index}: {key} must be {expected}, got {region[key]!r}")
    score = region.get("score")
    if score is not None and (isinstance(score, bool) or not isinstance(score, int | float)):
        raise ResultError(f"region {index}: score must be a number, got {score!r}")


def _check_relation(index: int, relation: Mapping[str, Any], ids: set[str]) -> None:
    """A relation links two regions of the same result by id."""
    for key in ("from_id", "to_id"):
        target = relation.get(key)
        if not isinstance(target, str) or target not in ids:
            raise ResultError(
                f"region {index} (relation): {key} {target!r} names no region of this result"
            )
    direction = relation.get("direction", "right")
    if direction not in _RELATION_DIRECTIONS:
        raise ResultError(
            f"region {index} (relation): direction {direction!r} is not one of "
            f"{', '.join(_RELATION_DIRECTIONS)}"
        )
