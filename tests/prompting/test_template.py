"""Templates: parsing and its errors, the check against a config, rendering one task."""

from __future__ import annotations

import contextlib
import dataclasses
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prelabel.errors import TemplateError, ValidationError
from prelabel.labeling import parse_label_config
from prelabel.prompting.template import (
    Template,
    check_template,
    parse_template,
    render_template,
)

FAST = settings(max_examples=300, deadline=None)

NESTED_CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Text name="lang" value="$meta.lang"/>
  <Choices name="sentiment" toName="text"><Choice value="Positive"/></Choices>
</View>"""


def render(text: str, data: dict[str, Any]) -> str:
    return render_template(parse_template(text), data)


# Parsing


@pytest.mark.parametrize(
    ("text", "variables"),
    [
        pytest.param("{text}", ("text",), id="one"),
        pytest.param("{a} and {meta.lang} then {a}", ("a", "meta.lang"), id="first-use-order"),
        pytest.param("{row_1.body-text}", ("row_1.body-text",), id="underscore-and-dash"),
        pytest.param("{_x}", ("_x",), id="leading-underscore"),
        pytest.param("no variables here", (), id="none"),
        pytest.param("{{text}}", (), id="escaped-is-literal"),
        pytest.param("{{{text}}}", ("text",), id="escaped-around-variable"),
        pytest.param("Positive: the reviewer liked it\n{text}", ("text",), id="option-lines"),
    ],
)
def test_parse_template_lists_variables_in_order_of_first_use(
    text: str, variables: tuple[str, ...]
) -> None:
    assert parse_template(text) == Template(text=text, variables=variables)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("", "the template is empty", id="empty"),
        pytest.param(" \n\t", "the template is empty", id="blank"),
        pytest.param("a { b", 'a single "{" at line 1, column 3 is never closed', id="open"),
        pytest.param("a } b", 'a single "}" at line 1, column 3 closes no variable', id="close"),
        pytest.param("{text", 'a single "{" at line 1, column 1 is never closed', id="unclosed"),
        pytest.param("{a{b}", 'a single "{" at line 1, column 1', id="nested-open"),
        pytest.param("{a}}", 'a single "}" at line 1, column 4', id="extra-close"),
        pytest.param("x\n  {", 'a single "{" at line 2, column 3', id="second-line"),
        pytest.param("{}", 'empty braces "{}" at line 1, column 1 name no variable', id="empty"),
        pytest.param("{  }", 'empty braces "{  }"', id="blank-braces"),
        pytest.param("{a b}", '"{a b}" at line 1, column 1 is not a variable', id="space"),
        pytest.param("{ text }", '"{ text }" at line 1, column 1 is not a variable', id="padded"),
        pytest.param("{1x}", '"{1x}" at line 1, column 1 is not a variable', id="digit-first"),
        pytest.param("{a..b}", '"{a..b}" at line 1, column 1 is not a variable', id="double-dot"),
        pytest.param("{.a}", '"{.a}" at line 1, column 1 is not a variable', id="leading-dot"),
        pytest.param("{a.}", '"{a.}" at line 1, column 1 is not a variable', id="trailing-dot"),
        pytest.param("{a[0]}", '"{a[0]}" at line 1, column 1 is not a variable', id="index"),
        pytest.param("{0}", '"{0}" at line 1, column 1 is not a variable', id="positional"),
        pytest.param("{текст}", '"{текст}" at line 1, column 1 is not a variable', id="non-ascii"),
        pytest.param(
            "{x!r}",
            '"{x!r}" at line 1, column 1 uses a conversion or format spec, which templates do '
            "not support; write {x} for the value as it is, or {{ and }} for literal braces",
            id="conversion",
        ),
        pytest.param(
            "{meta.lang:>3}",
            '"{meta.lang:>3}" at line 1, column 1 uses a conversion or format spec',
            id="format-spec",
        ),
        pytest.param(
            'Answer like {"sentiment": "Positive"}',
            '"{"sentiment": "Positive"}" at line 1, column 13 is not a variable',
            id="json-example",
        ),
    ],
)
def test_parse_template_explains_each_mistake(text: str, message: str) -> None:
    with pytest.raises(TemplateError) as raised:
        parse_template(text)
    assert raised.value.message.startswith(message)
    assert raised.value.code == "invalid_template"


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("{", id="open"),
        pytest.param("}", id="close"),
        pytest.param("{a b}", id="bad-name"),
        pytest.param("{}", id="empty"),
    ],
)
def test_brace_errors_say_how_to_write_literal_braces(text: str) -> None:
    with pytest.raises(TemplateError, match=re.escape("write {{ and }} for literal braces")):
        parse_template(text)


def test_a_long_bad_placeholder_is_shortened_to_one_line_in_the_message() -> None:
    with pytest.raises(TemplateError) as raised:
        parse_template("{" + "a b\n" * 30 + "}")
    assert "\n" not in raised.value.message
    assert '"{a b\\na b\\n' in raised.value.message
    assert "…" in raised.value.message


def test_template_error_is_a_validation_error_with_status_400() -> None:
    assert issubclass(TemplateError, ValidationError)
    assert TemplateError("x").status == 400


def test_template_is_immutable() -> None:
    template = parse_template("{text}")
    with pytest.raises(dataclasses.FrozenInstanceError):
        template.text = "{other}"  # type: ignore[misc]


# Checking against a config


def test_check_template_accepts_the_fields_the_config_reads() -> None:
    config = parse_label_config(NESTED_CONFIG)
    check_template(parse_template("{text} ({meta.lang})"), config)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            "{txt}",
            "unknown variable {txt} (did you mean {text}?); the config reads: text, meta.lang",
            id="typo",
        ),
        pytest.param(
            "{text} {title} {meta.lng}",
            "unknown variables {title}, {meta.lng} (did you mean {meta.lang}?); "
            "the config reads: text, meta.lang",
            id="several",
        ),
        pytest.param(
            "{meta}",
            "unknown variable {meta} (did you mean {meta.lang}?); "
            "the config reads: text, meta.lang",
            id="parent",
        ),
        pytest.param(
            "{meta.lang.code}",
            "unknown variable {meta.lang.code}",
            id="child",
        ),
        pytest.param(
            "Classify this review.",
            "the template uses no variable, so every task would get the same prompt; "
            "the config reads: text, meta.lang",
            id="no-variable",
        ),
    ],
)
def test_check_template_refuses_variables_the_config_does_not_read(text: str, message: str) -> None:
    config = parse_label_config(NESTED_CONFIG)
    with pytest.raises(TemplateError) as raised:
        check_template(parse_template(text), config)
    assert raised.value.message.startswith(message)


def test_check_template_allows_an_image_url_field() -> None:
    config = parse_label_config(
        '<View><Image name="img" value="$image"/>'
        '<Choices name="c" toName="img"><Choice value="cat"/></Choices></View>'
    )
    check_template(parse_template("Describe {image}"), config)


def test_check_template_with_a_config_that_reads_no_field() -> None:
    config = parse_label_config(
        '<View><Text name="t" value="Always the same"/>'
        '<Choices name="c" toName="t"><Choice value="yes"/></Choices></View>'
    )
    check_template(parse_template("Is it fine?"), config)
    with pytest.raises(TemplateError, match="the config reads no task data field"):
        check_template(parse_template("{text}"), config)


# Rendering


@pytest.mark.parametrize(
    ("text", "data", "rendered"),
    [
        pytest.param("Review: {text}", {"text": "Great"}, "Review: Great", id="string"),
        pytest.param("{meta.lang}", {"meta": {"lang": "fr"}}, "fr", id="nested"),
        pytest.param("{a.b.c}", {"a": {"b": {"c": "deep"}}}, "deep", id="deeply-nested"),
        pytest.param("{{{text}}} {{x}}", {"text": "t"}, "{t} {x}", id="literal-braces"),
        pytest.param("}}{{", {}, "}{", id="only-escapes"),
        pytest.param("{n}/{f}", {"n": 3, "f": 2.5}, "3/2.5", id="numbers"),
        pytest.param("{n}", {"n": 10**30}, str(10**30), id="big-int"),
        pytest.param("{n}", {"n": 1e20}, "1e+20", id="float-exponent"),
        pytest.param("{yes} {no}", {"yes": True, "no": False}, "true false", id="booleans"),
        pytest.param("{x}", {"x": None}, "null", id="null"),
        pytest.param("{x}", {"x": [1, "a", None]}, '[1,"a",null]', id="list-compact-json"),
        pytest.param(
            "{x}", {"x": {"k": "é", "n": [True]}}, '{"k":"é","n":[true]}', id="object-json"
        ),
        pytest.param("{text}", {"text": "北京 😀 e\u0301"}, "北京 😀 e\u0301", id="unicode"),
        pytest.param("{text}", {"text": "{not} a {{template}}"}, "{not} a {{template}}", id="raw"),
        pytest.param("{a}{a}", {"a": "x"}, "xx", id="repeated"),
        pytest.param("line 1\n{a}\n", {"a": ""}, "line 1\n\n", id="empty-value"),
    ],
)
def test_render_template_substitutes_task_data(
    text: str, data: dict[str, Any], rendered: str
) -> None:
    assert render(text, data) == rendered


@pytest.mark.parametrize(
    ("text", "data"),
    [
        pytest.param("{text}", {}, id="top-level"),
        pytest.param("{meta.lang}", {"meta": {}}, id="nested"),
        pytest.param("{meta.lang}", {"meta": "fr"}, id="parent-not-an-object"),
        pytest.param("{meta.lang}", {"meta.lang": "fr"}, id="dotted-key-is-not-nested"),
    ],
)
def test_render_template_names_a_field_the_task_lacks(text: str, data: dict[str, Any]) -> None:
    name = text.strip("{}")
    with pytest.raises(TemplateError) as raised:
        render(text, data)
    assert raised.value.message == f'task data has no "{name}", which the template reads as {text}'


def deeply_nested(depth: int) -> list[Any]:
    nested: list[Any] = []
    for _ in range(depth):
        nested = [nested]
    return nested


@pytest.mark.parametrize(
    "value",
    [
        pytest.param({1, 2}, id="not-json"),
        pytest.param(10**5000, id="int-too-long-for-str"),
        pytest.param(deeply_nested(100_000), id="too-deep"),
    ],
)
def test_render_template_refuses_a_value_it_cannot_write(value: object) -> None:
    with pytest.raises(TemplateError, match=r"the value of \{x\} cannot be written as text"):
        render("{x}", {"x": value})


# Properties

# Mostly the characters the grammar cares about, so that generated templates hit every branch.
template_text = st.text(st.sampled_from([*"{}{}..ab_1-!: \n"]) | st.characters(), max_size=30)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from("ab_"), inner, max_size=3)
    ),
    max_leaves=8,
)
task_data = st.dictionaries(st.sampled_from(["a", "b", "a_1", "text"]), json_values, max_size=4)


@FAST
@given(template_text)
def test_parse_template_returns_or_raises_template_error_only(text: str) -> None:
    try:
        template = parse_template(text)
    except TemplateError:
        return
    assert template.text == text
    assert len(set(template.variables)) == len(template.variables)


@FAST
@given(template_text, task_data)
def test_render_template_returns_text_or_raises_template_error_only(
    text: str, data: dict[str, Any]
) -> None:
    with contextlib.suppress(TemplateError):
        assert isinstance(render(text, data), str)


# Variables that can all be present in one task, nested or not, each with a distinct value.
ROUND_TRIP_DATA = {
    "text": "T",
    "meta": {"lang": "L", "id": 7},
    "a-b": ["x"],
    "_x": {"y": {"z": None}},
}
ROUND_TRIP_VALUES = {
    "text": "T",
    "meta.lang": "L",
    "meta.id": "7",
    "a-b": '["x"]',
    "_x.y.z": "null",
}


@FAST
@given(st.lists(st.tuples(st.text(max_size=6), st.sampled_from(list(ROUND_TRIP_VALUES)))))
def test_escaped_literals_and_variables_render_as_written(parts: list[tuple[str, str]]) -> None:
    text = "".join(
        literal.replace("{", "{{").replace("}", "}}") + "{" + name + "}" for literal, name in parts
    )
    if not text.strip():
        return
    template = parse_template(text)
    assert template.variables == tuple(dict.fromkeys(name for _, name in parts))
    rendered = render_template(template, ROUND_TRIP_DATA)
    assert rendered == "".join(literal + ROUND_TRIP_VALUES[name] for literal, name in parts)
