"""The messages sent for one task: a system message stating the task, the rendered template.

The system message is written from the labeling config alone, so users write only what is
particular to their data in the template, and every prompt version of a project states the
labeling task the same way. It is deterministic (the same config gives the same text, which keeps
response caches and provider prompt caches warm) and compact, because it is sent with every task.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from prelabel.labeling import (
    Choices,
    Control,
    LabelConfig,
    Labels,
    Number,
    Option,
    Rating,
    Taxonomy,
    TextArea,
)
from prelabel.prompting.template import Template, render_template

__all__ = ["Messages", "build_messages", "system_message"]

_ROLE = (
    "You label data for a Label Studio project. The user message holds one task; "
    "answer every field below about it."
)
_SPANS = (
    'a list of spans, each {"text", "label", "occurrence"}; [] when there are none. '
    '"text" is the entity exactly as it appears in the text (same characters, case and spacing); '
    '"label" is one of the labels below; "occurrence" is 1, 2, ... for which appearance of that '
    "text you mean when the same text appears more than once, else null."
)


@dataclass(frozen=True)
class Messages:
    """The system and user messages of one task, exactly as a provider receives them."""

    system: str
    user: str

    def as_openai(self) -> list[dict[str, str]]:
        """The ``messages`` list of an OpenAI-compatible chat completion request."""
        return [
            {"role": "system", "content": self.system},
            {"role": "user", "content": self.user},
        ]


def system_message(config: LabelConfig) -> str:
    """State the labeling task of ``config``: each control, in config order, and its answer.

    Each control says what kind of answer it takes, lists its options with their alias and hint
    (one ``- Label: hint`` line each) and says what an empty answer is; the message ends with the
    keys of the JSON object to answer with.
    """
    several = len(config.objects) > 1
    sections = [_ROLE, *_unseen_images(config)]
    sections.extend(_control(control, several) for control in config.controls.values())
    keys = ", ".join(_quoted(name) for name in config.controls)
    sections.append(
        f"Answer with one JSON object matching the schema, with exactly these keys: {keys}."
    )
    return "\n\n".join(sections)


def build_messages(config: LabelConfig, template: Template, data: Mapping[str, Any]) -> Messages:
    """The messages for one task; TemplateError when its data lacks a variable of the template."""
    return Messages(system=system_message(config), user=render_template(template, data))


def _unseen_images(config: LabelConfig) -> list[str]:
    """A line per image: a text model is sent only the template, never the picture."""
    return [
        f"The image {_quoted(obj.name)} is not shown to you; answer from the text you are given."
        for obj in config.objects.values()
        if not obj.is_text
    ]


def _control(control: Control, several_objects: bool) -> str:
    """One control's section: its key, the object it is about when that is ambiguous, the rest."""
    about = f" (about {_quoted(control.to_name[0])})" if several_objects else ""
    lines = _answer(control)
    lines[0] = f"{_quoted(control.name)}{about}: {lines[0]}"
    return "\n".join(lines)


def _answer(control: Control) -> list[str]:
    """What kind of answer a control takes, then its options, one line each."""
    match control:
        case Choices(multiple=False):
            head = "exactly one of these choices; the closest one when none fits exactly."
            return [head, *_options((option.label, option) for option in control.options)]
        case Choices():
            head = "a list of every choice below that applies; [] when none does."
            return [head, *_options((option.label, option) for option in control.options)]
        case Labels():
            return [_SPANS, *_options((option.label, option) for option in control.options)]
        case Taxonomy():
            head = (
                "a list of every category below that applies, each written as its path "
                f"from the root joined by {_quoted(control.separator)}; [] when none does."
            )
            return [head, *_options(_taxonomy_options(control))]
        case TextArea():
            return ["free text; null when there is none."]
        case Number():
            return [f"a number{_bounds(control.minimum, control.maximum)}; null when unknown."]
        case Rating():
            return [f"a rating, a whole number from 1 to {control.max_rating}; null when unknown."]
    # A kind added later is still stated, by the description its answer schema carries.
    return [str(control.schema().get("description", "an answer matching the schema."))]


def _options(options: Iterable[tuple[str, Option]]) -> list[str]:
    """``- Label: hint`` lines; an alias shows the value it stands for, ``- POS (Positive)``.

    Hints are put on one line, so that each option stays one line a reader can split.
    """
    lines = []
    for answer_name, option in options:
        line = f"- {answer_name}"
        if option.alias is not None:
            line += f" ({option.value})"
        if option.hint is not None:
            line += f": {' '.join(option.hint.split())}"
        lines.append(line)
    return lines


def _taxonomy_options(taxonomy: Taxonomy) -> Iterable[tuple[str, Option]]:
    """Each path an answer may name (leaves only with ``leafsOnly``) and the option it ends at."""
    for joined, labels in taxonomy.paths.items():
        siblings, node = taxonomy.options, None
        for label in labels:
            node = next(option for option in siblings if option.label == label)
            siblings = node.children
        assert node is not None, "a taxonomy path has at least one node"
        yield joined, node


def _bounds(minimum: float | None, maximum: float | None) -> str:
    """The range a Number answer must fall in, in words."""
    if minimum is not None and maximum is not None:
        return f" between {_number(minimum)} and {_number(maximum)}"
    if minimum is not None:
        return f" of at least {_number(minimum)}"
    if maximum is not None:
        return f" of at most {_number(maximum)}"
    return ""


def _number(value: float) -> str:
    """The shortest text that reads back as exactly ``value``: 10, 0.5, 1e+300."""
    return repr(value).removesuffix(".0")


def _quoted(text: str) -> str:
    """A name as a JSON string, so quotes or spaces in it cannot blur where it ends."""
    return json.dumps(text, ensure_ascii=False)
