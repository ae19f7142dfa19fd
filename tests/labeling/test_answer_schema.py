"""The JSON Schema a model answers in: strict-mode compatible, exact per control kind."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from prelabel.labeling import LabelConfig, parse_label_config

# The keywords OpenAI structured outputs accept in strict mode that this schema may use.
STRICT_KEYWORDS = {
    "type",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "enum",
    "description",
    "minimum",
    "maximum",
}


def subschemas(schema: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield schema
    for child in schema.get("properties", {}).values():
        yield from subschemas(child)
    if "items" in schema:
        yield from subschemas(schema["items"])


def is_object(schema: dict[str, Any]) -> bool:
    kind = schema.get("type")
    return kind == "object" or (isinstance(kind, list) and "object" in kind)


def test_example_schema_is_strict_mode_compatible(example: LabelConfig) -> None:
    schema = example.answer_schema()
    objects = [sub for sub in subschemas(schema) if is_object(sub)]
    assert len(objects) == 2  # the answer and a Labels span
    for sub in objects:
        assert sub["additionalProperties"] is False
        assert sub["required"] == list(sub["properties"])
    for sub in subschemas(schema):
        assert set(sub) <= STRICT_KEYWORDS
        assert "type" in sub


def test_example_schema_has_one_required_property_per_control(example: LabelConfig) -> None:
    schema = example.answer_schema()
    assert schema["required"] == ["sentiment", "topics", "ner", "comment", "rating", "num", "tax"]


def without_descriptions(schema: dict[str, Any]) -> dict[str, Any]:
    return json.loads(
        json.dumps(schema), object_hook=lambda d: {k: v for k, v in d.items() if k != "description"}
    )


def test_example_schema_per_control(example: LabelConfig) -> None:
    properties = without_descriptions(example.answer_schema())["properties"]
    assert properties == {
        "sentiment": {"type": "string", "enum": ["Positive", "Negative"]},
        "topics": {"type": "array", "items": {"type": "string", "enum": ["Sports", "Politics"]}},
        "ner": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "text": {"type": "string"},
                    "label": {"type": "string", "enum": ["PER", "ORG"]},
                    "occurrence": {"type": ["integer", "null"], "minimum": 1},
                },
                "required": ["text", "label", "occurrence"],
                "additionalProperties": False,
            },
        },
        "comment": {"type": ["string", "null"]},
        "rating": {"type": ["integer", "null"], "minimum": 1, "maximum": 5},
        "num": {"type": ["number", "null"], "minimum": 0, "maximum": 10},
        "tax": {"type": "array", "items": {"type": "string", "enum": ["A", "A / A1", "B"]}},
    }


def test_every_property_has_a_description(example: LabelConfig) -> None:
    for name, prop in example.answer_schema()["properties"].items():
        assert prop["description"], name


def control_schema(*tags: str) -> dict[str, Any]:
    xml = '<View><Text name="text" value="$text"/>' + "".join(tags) + "</View>"
    (schema,) = parse_label_config(xml).answer_schema()["properties"].values()
    return schema


def test_number_without_bounds_has_no_minimum_or_maximum() -> None:
    assert without_descriptions(control_schema('<Number name="n" toName="text"/>')) == {
        "type": ["number", "null"]
    }


def test_number_with_one_bound_has_only_that_bound() -> None:
    schema = control_schema('<Number name="n" toName="text" min="-2.5"/>')
    assert (schema["minimum"], "maximum" in schema) == (-2.5, False)
    assert "at least -2.5" in schema["description"]


def test_rating_maximum_is_max_rating() -> None:
    schema = control_schema('<Rating name="r" toName="text" maxRating="10"/>')
    assert (schema["minimum"], schema["maximum"]) == (1, 10)


TREE = (
    '<Choice value="Animal"><Choice value="Cat"><Choice value="Lion"/></Choice>'
    '<Choice value="Dog"/></Choice><Choice value="Plant"/>'
)


@pytest.mark.parametrize(
    ("attributes", "paths"),
    [
        pytest.param(
            "",
            ["Animal", "Animal / Cat", "Animal / Cat / Lion", "Animal / Dog", "Plant"],
            id="all-nodes",
        ),
        pytest.param(
            ' leafsOnly="true"', ["Animal / Cat / Lion", "Animal / Dog", "Plant"], id="leafs-only"
        ),
        pytest.param(
            ' pathSeparator="&gt;" leafsOnly="true"',
            ["Animal>Cat>Lion", "Animal>Dog", "Plant"],
            id="custom-separator",
        ),
    ],
)
def test_taxonomy_enum_lists_paths_in_tree_order(attributes: str, paths: list[str]) -> None:
    schema = control_schema(f'<Taxonomy name="t" toName="text"{attributes}>{TREE}</Taxonomy>')
    assert schema["items"]["enum"] == paths


def test_description_explains_aliases_and_hints_in_config_order() -> None:
    schema = control_schema(
        '<Choices name="s" toName="text">'
        '<Choice value="Positive" alias="pos" hint="The writer is pleased."/>'
        '<Choice value="Negative" alias="neg"/>'
        '<Choice value="Mixed" hint="Both"/>'
        '<Choice value="Unclear"/>'
        "</Choices>"
    )
    assert schema["enum"] == ["pos", "neg", "Mixed", "Unclear"]
    assert schema["description"] == (
        'Exactly one of the choices. "pos" means "Positive": The writer is pleased. '
        '"neg" means "Negative". "Mixed": Both.'
    )


def test_taxonomy_description_names_hinted_nodes_by_path() -> None:
    schema = control_schema(
        '<Taxonomy name="t" toName="text"><Choice value="Animal">'
        '<Choice value="Cat" hint="meows"/></Choice></Taxonomy>'
    )
    assert schema["description"].endswith('"Animal / Cat": meows.')


def test_schema_is_deterministic() -> None:
    xml = (
        '<View><Text name="text" value="$text"/><Labels name="l" toName="text">'
        '<Label value="A" hint="first"/><Label value="B" alias="b"/></Labels></View>'
    )
    first = json.dumps(parse_label_config(xml).answer_schema())
    assert json.dumps(parse_label_config(xml).answer_schema()) == first
