"""Object tags: the parts of a label config that show task data.

An object tag reads one data field (``value="$text"``) or shows a literal string. This module
knows how each supported object reads ``task.data``: which JSON types it accepts and what text a
text model should see for it. Controls never read task data themselves; they ask their object.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from prelabel.errors import LabelConfigError, TaskDataError

__all__ = ["OBJECT_TAGS", "ObjectTag", "json_type", "parse_value"]

#: Object tags prelabel understands, in the order error messages list them.
OBJECT_TAGS = ("Text", "HyperText", "Paragraphs", "Image")

# One or more identifier segments joined by dots: "text", "meta.lang", "row_1.body-text".
_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z_][A-Za-z0-9_-]*)*")

_MISSING = object()


def parse_value(value: str, where: str) -> str | None:
    """Return the data key path of a ``value`` attribute, or None for a literal value.

    ``where`` names the tag for the error message, so a user can find the bad attribute.
    """
    if not value.startswith("$"):
        return None
    field = value[1:]
    if not _FIELD.fullmatch(field):
        raise LabelConfigError(
            f'{where} has value="{value}", which is not a data field: write "$" followed by '
            "a key such as $text or $meta.lang (letters, digits, _ and -, not starting with "
            "a digit, segments joined by single dots)"
        )
    return field


def json_type(value: object) -> str:
    """Name a Python value by its JSON type, the vocabulary users of task data know."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, list | tuple):
        return "array"
    return type(value).__name__


@dataclass(frozen=True)
class ObjectTag:
    """One ``<Text>``, ``<HyperText>``, ``<Paragraphs>`` or ``<Image>`` of a config.

    ``field`` is the data key path without ``$`` (``"meta.lang"`` reads ``data["meta"]["lang"]``),
    or None when ``value`` is a literal that every task shows alike. ``name_key`` and ``text_key``
    are the Paragraphs ``nameKey``/``textKey`` attributes: which keys of each item hold the speaker
    and the words.
    """

    name: str
    tag: str
    value: str
    field: str | None
    name_key: str = "author"
    text_key: str = "text"

    @property
    def is_text(self) -> bool:
        """True when the object shows text a text model can read; an Image is only shown."""
        return self.tag != "Image"

    def check_data(self, data: Mapping[str, Any]) -> None:
        """Raise TaskDataError when ``data`` lacks this object's field or holds the wrong type."""
        if self.field is None:
            return
        value = self._lookup(data)
        if value is _MISSING:
            raise TaskDataError(f'task data is missing "{self.field}"')
        if self.tag == "Text":
            if isinstance(value, bool) or not isinstance(value, str | int | float):
                raise TaskDataError(
                    f'"{self.field}" must be a string or a number, got {json_type(value)}'
                )
        elif self.tag == "Paragraphs":
            if not isinstance(value, list):
                raise TaskDataError(
                    f'"{self.field}" must be a list of objects, got {json_type(value)}'
                )
            for index, item in enumerate(value):
                if not isinstance(item, Mapping):
                    raise TaskDataError(
                        f'"{self.field}" item {index} must be an object, got {json_type(item)}'
                    )
        elif not isinstance(value, str):
            raise TaskDataError(f'"{self.field}" must be a string, got {json_type(value)}')

    def text(self, data: Mapping[str, Any]) -> str | None:
        """The text this object shows for a task, or None for an Image.

        Paragraphs become one ``"author: text"`` line per item, the way a transcript reads;
        an item without a speaker is just its words. Raises TaskDataError when the data does not
        fit, so callers never get a half-made document to align spans against.
        """
        if not self.is_text:
            return None
        if self.field is None:
            return self.value
        self.check_data(data)
        value = self._lookup(data)
        if self.tag != "Paragraphs":
            return value if isinstance(value, str) else str(value)
        lines = []
        for item in value:
            words = item.get(self.text_key, "")
            speaker = item.get(self.name_key)
            lines.append(f"{speaker}: {words}" if speaker is not None else f"{words}")
        return "\n".join(lines)

    def _lookup(self, data: Mapping[str, Any]) -> Any:
        """Follow the dotted field through nested objects; ``_MISSING`` when any step is absent."""
        assert self.field is not None
        value: Any = data
        for key in self.field.split("."):
            if not isinstance(value, Mapping) or key not in value:
                return _MISSING
            value = value[key]
        return value
