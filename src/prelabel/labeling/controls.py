"""What every control tag shares: the ``Control`` base, ``Option`` and their helpers.

Every control kind keeps all of its rules in its own class: how it is read from the XML, the
JSON Schema fragment of its answer, answer -> result ``value``, result ``value`` -> answer, and
the check of a stored ``value``. ``LabelConfig`` only routes regions to their control, so adding
a kind means adding one class (``choices``, ``scalars``, ``labels``, ``taxonomy``).

Methods raise ``InvalidValue`` with the reason alone; the caller knows whether the value came
from a model's answer or from a stored result and says where.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Self
from xml.etree.ElementTree import Element

from prelabel.errors import LabelConfigError
from prelabel.labeling.objects import OBJECT_TAGS
from prelabel.labeling.spans import UnlocatedSpan

__all__ = [
    "Control",
    "Found",
    "InvalidValue",
    "Option",
    "describe_options",
    "is_int",
    "label_names",
    "not_an_option",
    "read_options",
    "require",
    "single",
]

#: A stored result ``value`` together with the text of the object its region points at.
Found = tuple[Mapping[str, Any], str | None]


class InvalidValue(Exception):
    """A value breaks a control's rules; the message is the reason, without saying where."""


@dataclass(frozen=True)
class Option:
    """One ``<Choice>`` or ``<Label>``; a Taxonomy's options nest through ``children``.

    ``background`` is the colour the config gives a label to be shown in, as written.
    """

    value: str
    alias: str | None = None
    hint: str | None = None
    children: tuple[Option, ...] = ()
    background: str | None = None

    @property
    def label(self) -> str:
        """The string results carry for this option: its alias when set, else its value."""
        return self.alias if self.alias is not None else self.value


@dataclass(frozen=True)
class Control:
    """What every control kind shares: its name, the objects it annotates and its result type.

    ``object_tags`` lists the object tags a kind can annotate; ``reads_text`` says whether its
    values need the text of their object (only spans do), so other kinds never touch task data.
    """

    tag: ClassVar[str]
    object_tags: ClassVar[tuple[str, ...]] = OBJECT_TAGS
    reads_text: ClassVar[bool] = False

    name: str
    to_name: tuple[str, ...]

    @property
    def type(self) -> str:
        """The result ``type`` of this control's regions: its tag in lower case."""
        return self.tag.lower()

    @property
    def empty_answer(self) -> object:
        """The answer that means "nothing here" when a result has no region for this control."""
        return None

    @classmethod
    def from_element(cls, element: Element, name: str, to_name: tuple[str, ...]) -> Self:
        """Build the control from its XML element; raises LabelConfigError for bad attributes."""
        return cls(name=name, to_name=to_name)

    def schema(self) -> dict[str, Any]:
        """The JSON Schema fragment of this control's answer, strict-mode compatible."""
        raise NotImplementedError

    def to_regions(
        self, answer: object, to_name: str, document: str | None
    ) -> tuple[list[dict[str, Any]], list[UnlocatedSpan]]:
        """Turn a non-null answer into result regions; raises InvalidValue when it is not valid."""
        return [self.region(to_name, self.to_value(answer))], []

    def to_value(self, answer: object) -> dict[str, Any]:
        """The result ``value`` of a one-region answer."""
        raise NotImplementedError

    def check_value(self, value: Mapping[str, Any], document: str | None) -> None:
        """Raise InvalidValue when a stored result ``value`` breaks this control's rules."""
        raise NotImplementedError

    def from_values(self, found: Sequence[Found]) -> object:
        """Merge the checked values of this control's regions into one answer."""
        raise NotImplementedError

    def convert_offsets(
        self, value: Mapping[str, Any], document: str | None, unit: Literal["utf16", "codepoint"]
    ) -> dict[str, Any]:
        """A copy of ``value`` with offsets in ``unit``; only span kinds have offsets to change."""
        return dict(value)

    def region(self, to_name: str, value: dict[str, Any]) -> dict[str, Any]:
        """A result region of this control, in the envelope Label Studio writes."""
        return {"from_name": self.name, "to_name": to_name, "type": self.type, "value": value}


def is_int(value: object) -> bool:
    """True for a JSON integer; Python's ``True`` is an int but no JSON number."""
    return isinstance(value, int) and not isinstance(value, bool)


def require(value: Mapping[str, Any], key: str) -> Any:
    """``value[key]``, or InvalidValue naming the missing key."""
    if key not in value:
        raise InvalidValue(f'value is missing "{key}"')
    return value[key]


def single(found: Sequence[Any], what: str) -> Any:
    """The one distinct value among several regions; InvalidValue when regions disagree."""
    distinct = list(dict.fromkeys(found))
    if len(distinct) > 1:
        shown = ", ".join(repr(item) for item in distinct)
        raise InvalidValue(f"regions disagree ({shown}) but the answer holds one {what}")
    return distinct[0]


def read_options(
    element: Element, option_tag: str, where: str, nested: bool = False
) -> tuple[Option, ...]:
    """Read the ``<Choice>``/``<Label>`` options under ``element``, looking through layout tags.

    With ``nested`` (Taxonomy) an option's own options become its children; labels only need to
    be unique among siblings then, since "Other" may sit under several branches.
    """
    options = []
    pending = list(reversed(element))  # a stack, so that options come out in document order
    while pending:
        child = pending.pop()
        if child.tag != option_tag:
            pending.extend(reversed(child))
            continue
        value = child.get("value")
        if not value:
            raise LabelConfigError(f'a <{option_tag}> in {where} has no "value"')
        children = read_options(child, option_tag, where, nested=True) if nested else ()
        alias = child.get("alias") or None
        background = child.get("background") or None
        options.append(Option(value, alias, child.get("hint") or None, children, background))
    seen: set[str] = set()
    for option in options:
        if option.label in seen:
            raise LabelConfigError(
                f'{where} has two <{option_tag}> options labelled "{option.label}"'
            )
        seen.add(option.label)
    return tuple(options)


def label_names(options: Sequence[Option]) -> dict[str, str]:
    """Every name a stored result may use for an option (value or alias) -> its label.

    Label Studio accepts either; labels win where a value of one option is another's label.
    """
    names = {option.value: option.label for option in options}
    names.update({option.label: option.label for option in options})
    return names


def not_an_option(item: object, options: Sequence[Option], noun: str) -> InvalidValue:
    """The error for a choice or label that is not in the config, listing the valid ones."""
    valid = ", ".join(option.label for option in options)
    return InvalidValue(f"{item!r} is not a {noun}; valid: {valid}")


def describe_options(summary: str, options: Sequence[tuple[str, Option]]) -> str:
    """A schema ``description``: the summary, then what each aliased or hinted option means.

    ``options`` pairs each option with the name the answer uses for it (a taxonomy path, or just
    the label), so a model can tell terse aliases apart. Order follows the config.
    """
    notes = [summary]
    for answer_name, option in options:
        note = f'"{answer_name}"'
        if option.alias is not None:
            note += f' means "{option.value}"'
        if option.hint is not None:
            note += f": {option.hint}"
        if option.alias is not None or option.hint is not None:
            notes.append(note.rstrip(".") + ".")
    return " ".join(notes)
