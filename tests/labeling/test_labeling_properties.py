"""Generated configs, answers and results: only the documented errors, and answers round-trip.

Configs are drawn valid (random unicode names and options, aliases, hints, nested taxonomies,
every control kind), then mutated (attributes set to odd values or dropped, random tags added)
so that most error paths of the parser are reached while some configs still parse.
"""

from __future__ import annotations

import contextlib
from itertools import pairwise
from typing import Any
from xml.etree import ElementTree
from xml.sax.saxutils import quoteattr

from hypothesis import given, settings
from hypothesis import strategies as st

from prelabel.errors import LabelConfigError, ResultError, TaskDataError
from prelabel.labeling import (
    Choices,
    LabelConfig,
    Labels,
    Number,
    Rating,
    Taxonomy,
    TextArea,
    parse_label_config,
)
from prelabel.labeling.spans import occurrence_of

FAST = settings(max_examples=100, deadline=None)

# What an XML 1.0 attribute can hold once escaped: no surrogates, controls or non-characters.
xml_text = st.text(st.characters(exclude_categories=("Cs", "Cc", "Cn")), min_size=1, max_size=8)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**20), 10**20) | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)
# Task texts mix ASCII, accents written both ways, emoji (astral, with modifiers, flags) and CJK.
documents = st.lists(
    st.sampled_from([*"ab AB,.\n\t", "é", "e\u0301", "😀", "👍🏽", "北", "京", "🇫🇷"]), max_size=30
).map("".join)


def tag(name: str, attributes: dict[str, str], children: list[str]) -> str:
    attrs = "".join(f" {key}={quoteattr(value)}" for key, value in attributes.items())
    return f"<{name}{attrs}>{''.join(children)}</{name}>" if children else f"<{name}{attrs}/>"


def parsed(xml: str) -> LabelConfig | None:
    try:
        return parse_label_config(xml)
    except LabelConfigError:
        return None


# Valid configs: a <Text name="text"> and one to five controls of any kind.


def options(draw: st.DrawFn, option_tag: str, nested: bool, depth: int = 0) -> list[str]:
    """Unique labels (alias or value), sometimes aliased or hinted; Taxonomy options nest."""
    labels = draw(st.lists(xml_text, min_size=1 if depth == 0 else 0, max_size=4, unique=True))
    elements = []
    for label in labels:
        aliased = draw(st.booleans())
        attrs = {"value": draw(xml_text), "alias": label} if aliased else {"value": label}
        if draw(st.booleans()):
            attrs["hint"] = draw(xml_text)
        children = options(draw, option_tag, nested, depth + 1) if nested and depth < 2 else []
        elements.append(tag(option_tag, attrs, children))
    return elements


def control_xml(draw: st.DrawFn, kind: str, name: str) -> str:
    base = {"name": name, "toName": "text"}
    if kind in ("single", "multiple"):
        return tag("Choices", {**base, "choice": kind}, options(draw, "Choice", nested=False))
    if kind == "Labels":
        return tag("Labels", base, options(draw, "Label", nested=False))
    if kind == "Number":
        bounds = sorted(draw(st.lists(st.floats(-1e6, 1e6), max_size=2)))
        keys = ["min", "max"] if len(bounds) == 2 else [draw(st.sampled_from(["min", "max"]))]
        return tag("Number", {**base, **dict(zip(keys, map(repr, bounds), strict=False))}, [])
    if kind == "Rating":
        return tag("Rating", {**base, "maxRating": str(draw(st.integers(1, 10)))}, [])
    if kind == "Taxonomy":
        extra = {
            "pathSeparator": draw(st.sampled_from([" / ", "::", ">"])),
            "leafsOnly": draw(st.sampled_from(["true", "false"])),
        }
        return tag("Taxonomy", {**base, **extra}, options(draw, "Choice", nested=True))
    return tag(kind, base, [])


@st.composite
def config_xmls(draw: st.DrawFn) -> str:
    kinds = ["single", "multiple", "Labels", "TextArea", "Number", "Rating", "Taxonomy"]
    drawn = draw(st.lists(st.sampled_from(kinds), min_size=1, max_size=5))
    name_text = st.text(st.characters(categories=("L", "N")), min_size=1, max_size=6)
    names = draw(
        st.lists(
            name_text.filter(lambda n: n != "text"),
            min_size=len(drawn),
            max_size=len(drawn),
            unique=True,
        )
    )
    controls = [control_xml(draw, kind, name) for kind, name in zip(drawn, names, strict=True)]
    return tag("View", {}, [tag("Text", {"name": "text", "value": "$text"}, []), *controls])


@st.composite
def valid_configs(draw: st.DrawFn) -> LabelConfig:
    config = parsed(draw(config_xmls()))
    # Only a taxonomy label holding its own separator makes a drawn config invalid.
    return draw(st.nothing()) if config is None else config


# Mutated configs: a valid one with attributes changed or dropped and random tags added.

TAGS = [
    "View", "Text", "HyperText", "Paragraphs", "Image", "Audio", "Choices", "Choice", "Labels",
    "Label", "TextArea", "Number", "Rating", "Taxonomy", "Header", "Filter", "RectangleLabels",
]  # fmt: skip
ATTRIBUTES = [
    "name", "toName", "value", "choice", "alias", "hint", "min", "max", "maxRating",
    "leafsOnly", "pathSeparator", "nameKey", "textKey", "showInline",
]  # fmt: skip
VALUES = [
    "text", "img", "text,img", "$text", "$image", "$a.b", "$", "$1", "single", "multiple",
    "true", "0", "3", "-1.5", "nan", "1e309", " / ", "",
]  # fmt: skip
attribute_values = st.sampled_from(VALUES) | xml_text
attributes = st.dictionaries(st.sampled_from(ATTRIBUTES), attribute_values, max_size=3)
elements = st.recursive(
    st.builds(tag, st.sampled_from(TAGS), attributes, st.just([])),
    lambda inner: st.builds(tag, st.sampled_from(TAGS), attributes, st.lists(inner, max_size=3)),
    max_leaves=4,
)


@st.composite
def mutated_config_xmls(draw: st.DrawFn) -> str:
    root = ElementTree.fromstring(draw(config_xmls()))  # our own XML, so the stdlib parser is fine
    nodes = list(root.iter())
    for _ in range(draw(st.integers(1, 3))):
        node = draw(st.sampled_from(nodes))
        action = draw(st.sampled_from(["set", "drop", "add"]))
        if action == "set":
            node.set(draw(st.sampled_from(ATTRIBUTES)), draw(attribute_values))
        elif action == "drop" and node.attrib:
            del node.attrib[draw(st.sampled_from(sorted(node.attrib)))]
        else:
            node.insert(draw(st.integers(0, len(node))), ElementTree.fromstring(draw(elements)))
    return ElementTree.tostring(root, encoding="unicode")


any_configs = mutated_config_xmls() | st.text(max_size=60)


def strict_objects(schema: dict[str, Any]) -> bool:
    """Whether every object in ``schema`` closes additionalProperties and requires all keys."""
    if schema.get("type") == "object" and (
        schema["additionalProperties"] is not False
        or schema["required"] != list(schema["properties"])
    ):
        return False
    children = [
        *schema.get("properties", {}).values(),
        *([schema["items"]] if "items" in schema else []),
    ]
    return all(strict_objects(child) for child in children)


@FAST
@given(xml=any_configs)
def test_any_config_is_parsed_or_refused_with_label_config_error(xml: str) -> None:
    config = parsed(xml)
    if config is not None:
        assert strict_objects(config.answer_schema())


def task_for(config: LabelConfig, draw: st.DrawFn) -> dict[str, Any] | None:
    """Task data that fits ``config``, or None when its fields contradict (``a`` and ``a.b``)."""
    data: dict[str, Any] = {}
    for obj in config.objects.values():
        if obj.field is None:
            continue
        *parents, last = obj.field.split(".")
        node: Any = data
        for key in parents:
            node = node.setdefault(key, {})
            if not isinstance(node, dict):
                return None
        text = draw(documents)
        node[last] = (
            [{obj.name_key: "Ann", obj.text_key: text}] if obj.tag == "Paragraphs" else text
        )
    try:
        config.check_task_data(data)
    except TaskDataError:
        return None
    return data


def region_for(config: LabelConfig, draw: st.DrawFn) -> dict[str, Any]:
    """A region that often looks right and is often subtly wrong."""
    control = draw(st.sampled_from(list(config.controls.values())))
    labels = [option.label for option in getattr(control, "options", ())] or ["x"]
    keys = st.sampled_from(
        ["choices", "labels", "start", "end", "text", "rating", "number", "taxonomy"]
    )
    values = json_values | st.integers(-2, 40) | st.lists(st.sampled_from(labels), max_size=2)
    region = {
        "id": draw(st.sampled_from(["r1", "r2"])),
        "from_name": draw(st.sampled_from([control.name, "nope"])),
        "to_name": draw(st.sampled_from([*control.to_name, "nope"])),
        "type": draw(st.sampled_from([control.type, "relation", "choices"])),
        "value": draw(st.dictionaries(keys, values, max_size=5)),
    }
    if region["type"] == "relation":
        region.update(from_id=draw(st.sampled_from(["r1", "r3"])), to_id="r2")
    return region


@FAST
@given(xml=mutated_config_xmls() | config_xmls(), data=st.data())
def test_any_answer_or_result_is_converted_or_refused_with_result_error(
    xml: str, data: st.DataObject
) -> None:
    config = parsed(xml)
    task = task_for(config, data.draw) if config is not None else None
    if config is None or task is None:
        return
    keys = st.sampled_from([*config.controls, "nope"])
    answer = data.draw(
        st.dictionaries(keys, json_values, max_size=4)
        | st.fixed_dictionaries(dict.fromkeys(config.controls, json_values))
    )
    result = [region_for(config, data.draw) for _ in range(data.draw(st.integers(0, 4)))]
    calls = [
        lambda: config.answer_to_result(answer, task),
        lambda: config.check_result(result, task),
        lambda: config.result_to_answer(result, task),
        lambda: config.convert_span_offsets(result, task, "utf16"),
    ]
    for call in calls:
        with contextlib.suppress(ResultError):
            call()


# Valid answers, and their round trip through Label Studio results.


def spans(draw: st.DrawFn, document: str, labels: list[str]) -> list[dict[str, Any]]:
    """Non-overlapping whole-character spans of ``document`` named by text and occurrence."""
    cuts = sorted(set(draw(st.lists(st.integers(0, len(document)), max_size=8))))
    items = []
    for start, end in pairwise(cuts):
        covered = document[start:end]
        start += len(covered) - len(covered.lstrip())
        end -= len(covered) - len(covered.rstrip())
        try:
            occurrence = occurrence_of(document, start, end)
        except ValueError:  # empty, or cutting a character in two
            continue
        label = draw(st.sampled_from(labels))
        items.append({"text": document[start:end], "label": label, "occurrence": occurrence})
    return draw(st.permutations(items))


def valid_answer(draw: st.DrawFn, config: LabelConfig, document: str) -> dict[str, Any]:
    answer: dict[str, Any] = {}
    for name, control in config.controls.items():
        if isinstance(control, Choices):
            labels = st.sampled_from([option.label for option in control.options])
            answer[name] = draw(
                st.lists(labels, unique=True) if control.multiple else st.none() | labels
            )
        elif isinstance(control, Labels):
            answer[name] = spans(draw, document, [option.label for option in control.options])
        elif isinstance(control, TextArea):
            answer[name] = draw(st.none() | st.text(min_size=1, max_size=10))
        elif isinstance(control, Number):
            numbers = st.floats(
                control.minimum, control.maximum, allow_nan=False, allow_infinity=False
            )
            answer[name] = draw(st.none() | numbers)
        elif isinstance(control, Rating):
            answer[name] = draw(st.none() | st.integers(1, control.max_rating))
        else:
            assert isinstance(control, Taxonomy)
            answer[name] = draw(st.lists(st.sampled_from(list(control.paths)), unique=True))
    return answer


@FAST
@given(config=valid_configs(), document=documents, data=st.data())
def test_valid_answers_round_trip_through_results(
    config: LabelConfig, document: str, data: st.DataObject
) -> None:
    task = {"text": document}
    answer = valid_answer(data.draw, config, document)
    conversion = config.answer_to_result(answer, task)
    assert conversion.unlocated == []
    config.check_result(conversion.result, task)
    assert config.result_to_answer(conversion.result, task) == answer
    in_utf16 = config.convert_span_offsets(conversion.result, task, "utf16")
    if not any(
        _reads_as_codepoints_too(before, after, document)
        for before, after in zip(conversion.result, in_utf16, strict=True)
    ):
        assert config.result_to_answer(in_utf16, task) == answer
        assert config.convert_span_offsets(in_utf16, task, "codepoint") == conversion.result


def _reads_as_codepoints_too(before: dict[str, Any], after: dict[str, Any], document: str) -> bool:
    """True when shifted UTF-16 offsets also cover the same text read as code points.

    Such a span is ambiguous by nature (code points win, by the documented rule), so the
    UTF-16 leg of the round trip cannot recover the original occurrence.
    """
    if after["type"] != "labels" or before["value"]["start"] == after["value"]["start"]:
        return False
    value = after["value"]
    return document[value["start"] : value["end"]] == value["text"]
