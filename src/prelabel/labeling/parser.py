"""Reading a Label Studio labeling config (XML) into a ``LabelConfig``.

Configs come from users and from imported projects, so parsing is defensive: a size limit
before parsing, defusedxml with DTDs forbidden (no entity expansion, no external fetches), a
nesting limit so nothing downstream recurses deep, and one ``LabelConfigError`` that says what
is wrong and where for every way a config can be unusable.
"""

from __future__ import annotations

from collections.abc import Iterator
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as safe_xml
from defusedxml import DefusedXmlException

from prelabel.errors import LabelConfigError
from prelabel.labeling.choices import Choices
from prelabel.labeling.config import LabelConfig
from prelabel.labeling.controls import Control
from prelabel.labeling.labels import Labels
from prelabel.labeling.objects import OBJECT_TAGS, ObjectTag, parse_value
from prelabel.labeling.scalars import Number, Rating, TextArea
from prelabel.labeling.taxonomy import Taxonomy

__all__ = ["CONTROL_KINDS", "MAX_CONFIG_BYTES", "MAX_DEPTH", "parse_label_config"]

#: Configs above this many UTF-8 bytes are refused before any parsing.
MAX_CONFIG_BYTES = 1_000_000
#: Tags may nest this deep; real configs stay under ten levels.
MAX_DEPTH = 100

#: Control tags prelabel understands -> their kind, in the order error messages list them.
CONTROL_KINDS: dict[str, type[Control]] = {
    kind.tag: kind for kind in (Choices, Labels, TextArea, Number, Rating, Taxonomy)
}

# Visual tags that carry toName without producing results (<Filter> narrows a long label list).
_VISUAL_WITH_TO_NAME = frozenset({"Filter"})


def parse_label_config(xml: str) -> LabelConfig:
    """Parse and check a labeling config; raises LabelConfigError saying what is wrong."""
    root = _parse_xml(xml)
    if root.tag != "View":
        raise LabelConfigError(f"the root tag of a label config must be <View>, got <{root.tag}>")
    objects: dict[str, ObjectTag] = {}
    control_elements: list[Element] = []
    others: dict[str, str] = {}  # names of tags prelabel ignores, to explain a toName to one
    for element in _walk(root):
        if element.tag in OBJECT_TAGS:
            obj = _read_object(element)
            _check_unique(obj.name, obj.tag, objects.get(obj.name))
            objects[obj.name] = obj
        elif element.tag in CONTROL_KINDS:
            control_elements.append(element)
        elif "toName" in element.attrib and element.tag not in _VISUAL_WITH_TO_NAME:
            raise LabelConfigError(
                f"<{element.tag}> is not a supported control tag; supported: "
                f"{', '.join(CONTROL_KINDS)}"
            )
        elif element.get("name"):
            others[element.get("name", "")] = element.tag
    if not control_elements:
        raise LabelConfigError(
            f"the label config has no control tag; add one of {', '.join(CONTROL_KINDS)}"
        )
    controls: dict[str, Control] = {}
    for element in control_elements:
        control = _read_control(element, objects, others)
        _check_unique(control.name, control.tag, objects.get(control.name))
        _check_unique(control.name, control.tag, controls.get(control.name))
        controls[control.name] = control
    return LabelConfig(xml=xml, objects=objects, controls=controls)


def _parse_xml(xml: str) -> Element:
    """Parse safely; every refusal (size, encoding, syntax, DTD) becomes LabelConfigError."""
    try:
        size = len(xml.encode("utf-8"))
    except UnicodeEncodeError as error:
        raise LabelConfigError(
            f"the label config is not valid Unicode at character {error.start}: {error.reason}"
        ) from None
    if size > MAX_CONFIG_BYTES:
        raise LabelConfigError(
            f"the label config is {size:,} bytes; the limit is {MAX_CONFIG_BYTES:,}"
        )
    try:
        root = safe_xml.fromstring(xml, forbid_dtd=True)
    except ParseError as error:
        raise LabelConfigError(f"the label config is not well-formed XML: {error}") from None
    except DefusedXmlException as error:
        raise LabelConfigError(
            f"the label config declares a DTD or entities, which are not allowed ({error!r})"
        ) from None
    pending = [(root, 1)]
    while pending:
        element, depth = pending.pop()
        if depth > MAX_DEPTH:
            raise LabelConfigError(f"the label config nests tags deeper than {MAX_DEPTH} levels")
        pending.extend((child, depth + 1) for child in element)
    return root


def _walk(root: Element) -> Iterator[Element]:
    """Every tag below the root in document order, except what lies inside a control.

    A control's children are its options, read by the control itself; layout tags (View,
    Header, Style, Collapse, ...) are passed through so the tags inside them are found.
    """
    for child in root:
        yield child
        if child.tag not in CONTROL_KINDS:
            yield from _walk(child)


def _check_unique(name: str, tag: str, taken: ObjectTag | Control | None) -> None:
    """Results and toName refer to tags by name alone, so a name may be used once."""
    if taken is not None:
        raise LabelConfigError(
            f'the name "{name}" is used by both <{taken.tag}> and <{tag}>; names must be unique'
        )


def _read_object(element: Element) -> ObjectTag:
    name = element.get("name")
    if not name:
        raise LabelConfigError(f'an object tag <{element.tag}> has no "name"')
    where = f'<{element.tag} name="{name}">'
    value = element.get("value")
    if not value:
        raise LabelConfigError(f'{where} has no "value"; write value="$field" or a literal text')
    return ObjectTag(
        name=name,
        tag=element.tag,
        value=value,
        field=parse_value(value, where),
        name_key=element.get("nameKey", "author"),
        text_key=element.get("textKey", "text"),
    )


def _read_control(
    element: Element, objects: dict[str, ObjectTag], others: dict[str, str]
) -> Control:
    name = element.get("name")
    if not name:
        raise LabelConfigError(f'a control tag <{element.tag}> has no "name"')
    where = f'<{element.tag} name="{name}">'
    raw = element.get("toName")
    if raw is None:
        raise LabelConfigError(f'{where} has no "toName"; name the object tag it annotates')
    targets = tuple(dict.fromkeys(part.strip() for part in raw.split(",")))
    if "" in targets:
        raise LabelConfigError(f'{where} has toName="{raw}", which holds an empty name')
    kind = CONTROL_KINDS[element.tag]
    for target in targets:
        obj = objects.get(target)
        if obj is None:
            raise LabelConfigError(_unknown_target(where, target, objects, others))
        if obj.tag not in kind.object_tags:
            raise LabelConfigError(
                f'{where} cannot annotate <{obj.tag} name="{obj.name}">; it works on '
                + ", ".join(f"<{tag}>" for tag in kind.object_tags)
            )
    return kind.from_element(element, name, targets)


def _unknown_target(
    where: str, target: str, objects: dict[str, ObjectTag], others: dict[str, str]
) -> str:
    """Explain a toName that names no object tag prelabel reads."""
    if target in others:
        return (
            f'{where} annotates "{target}", a <{others[target]}>, which is not a supported '
            f"object tag; supported: {', '.join(OBJECT_TAGS)}"
        )
    known = ", ".join(objects) or "none"
    return f'{where} has toName "{target}", which names no object tag; objects: {known}'
