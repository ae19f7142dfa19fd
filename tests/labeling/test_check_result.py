"""Checking stored results (predictions, annotations) against a config."""

from __future__ import annotations

from typing import Any

import pytest

from prelabel.errors import ResultError
from prelabel.labeling import LabelConfig

# The LABEL_STUDIO.md §11.2 examples, one per control of the §12 example config.
SECTION_11 = {
    "choices-single": {
        "from_name": "sentiment",
        "to_name": "text",
        "type": "choices",
        "value": {"choices": ["Positive"]},
    },
    "choices-multiple": {
        "from_name": "topics",
        "to_name": "text",
        "type": "choices",
        "value": {"choices": ["Sports", "Politics"]},
    },
    "labels": {
        "id": "r1",
        "from_name": "ner",
        "to_name": "text",
        "type": "labels",
        "value": {"start": 0, "end": 5, "text": "Alice", "labels": ["PER"]},
    },
    "textarea": {
        "from_name": "comment",
        "to_name": "text",
        "type": "textarea",
        "value": {"text": ["free text"]},
    },
    "rating": {"from_name": "rating", "to_name": "text", "type": "rating", "value": {"rating": 4}},
    "number": {"from_name": "num", "to_name": "text", "type": "number", "value": {"number": 7}},
    "taxonomy": {
        "from_name": "tax",
        "to_name": "text",
        "type": "taxonomy",
        "value": {"taxonomy": [["A", "A1"], ["B"]]},
    },
}


@pytest.mark.parametrize("region", [pytest.param(r, id=k) for k, r in SECTION_11.items()])
def test_each_section_11_example_is_valid(
    example: LabelConfig, example_data: dict[str, str], region: dict[str, Any]
) -> None:
    example.check_result([region], example_data)


def test_all_section_11_examples_together_with_a_relation_are_valid(
    example: LabelConfig, example_data: dict[str, str]
) -> None:
    second = {
        "id": "r2",
        "from_name": "ner",
        "to_name": "text",
        "type": "labels",
        "value": {"start": 15, "end": 19, "text": "ACME", "labels": ["ORG"]},
    }
    relation = {"from_id": "r1", "to_id": "r2", "type": "relation", "direction": "right"}
    example.check_result([*SECTION_11.values(), second, relation], example_data)


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param({"id": "abc", "score": 0.87}, id="id-and-score"),
        pytest.param({"origin": "prediction", "readonly": False, "hidden": True}, id="ui-flags"),
        pytest.param({"score": 1}, id="integer-score"),
        pytest.param({"meta": {"text": ["note"]}, "parentID": "x"}, id="unknown-ui-keys"),
    ],
)
def test_optional_region_keys_are_allowed(
    example: LabelConfig, example_data: dict[str, str], extra: dict[str, Any]
) -> None:
    example.check_result([{**SECTION_11["choices-single"], **extra}], example_data)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param({"rating": 0}, id="rating-zero-no-stars"),
        pytest.param({"rating": 5, "score": 0.4}, id="score-inside-value"),
    ],
)
def test_other_valid_rating_values(
    example: LabelConfig, example_data: dict[str, str], value: dict[str, Any]
) -> None:
    example.check_result([{**SECTION_11["rating"], "value": value}], example_data)


@pytest.mark.parametrize(
    ("value", "document"),
    [
        pytest.param({"start": 3, "end": 8, "text": "Alice"}, "😀 😀Alice", id="code-points"),
        pytest.param({"start": 5, "end": 10, "text": "Alice"}, "😀 😀Alice", id="utf16-units"),
        pytest.param({"start": 0, "end": 2, "text": "😀"}, "😀 😀Alice", id="utf16-emoji-itself"),
        pytest.param({"start": 3, "end": 8}, "😀 😀Alice", id="no-text-code-points"),
    ],
)
def test_span_offsets_in_code_points_or_utf16_units_are_accepted(
    example: LabelConfig, value: dict[str, Any], document: str
) -> None:
    region = {**SECTION_11["labels"], "value": {**value, "labels": ["PER"]}}
    example.check_result([region], {"text": document})


def with_value(key: str, value: object) -> list[dict[str, Any]]:
    return [{**SECTION_11[key], "value": value}]


@pytest.mark.parametrize(
    ("result", "message"),
    [
        pytest.param(
            {"choices": ["Positive"]},
            "result must be a list of regions, got object",
            id="not-a-list",
        ),
        pytest.param(
            ["choices"], "region 0: must be an object, got string", id="region-not-an-object"
        ),
        pytest.param(
            [{"to_name": "text", "type": "choices", "value": {}}],
            "region 0: from_name must be a string, got None",
            id="missing-from-name",
        ),
        pytest.param(
            [SECTION_11["rating"], {**SECTION_11["choices-single"], "from_name": "mood"}],
            "region 1: from_name 'mood' names no control; controls: sentiment, topics, ner, "
            "comment, rating, num, tax",
            id="unknown-from-name",
        ),
        pytest.param(
            [{**SECTION_11["choices-single"], "to_name": "image"}],
            "region 0 (sentiment): to_name 'image' is not one of its toName: text",
            id="wrong-to-name",
        ),
        pytest.param(
            [{**SECTION_11["choices-single"], "type": "labels"}],
            "region 0 (sentiment): type 'labels' should be 'choices'",
            id="wrong-type",
        ),
        pytest.param(
            with_value("choices-single", ["Positive"]),
            "region 0 (sentiment): value must be an object, got array",
            id="value-not-an-object",
        ),
        pytest.param(
            with_value("choices-single", {"choice": ["Positive"]}),
            'region 0 (sentiment): value is missing "choices"',
            id="value-missing-key",
        ),
        pytest.param(
            with_value("choices-single", {"choices": ["Neutral"]}),
            "region 0 (sentiment): 'Neutral' is not a choice; valid: Positive, Negative",
            id="unknown-choice",
        ),
        pytest.param(
            with_value("choices-single", {"choices": "Positive"}),
            "region 0 (sentiment): choices must be a list, got string",
            id="choices-not-a-list",
        ),
        pytest.param(
            with_value("choices-single", {"choices": ["Positive", "Negative"]}),
            "region 0 (sentiment): single choice needs exactly one choice, got 2",
            id="single-choice-with-two",
        ),
        pytest.param(
            with_value("choices-single", {"choices": []}),
            "region 0 (sentiment): single choice needs exactly one choice, got 0",
            id="single-choice-with-none",
        ),
        pytest.param(
            with_value("choices-multiple", {"choices": ["Sports", ["Politics"]]}),
            "region 0 (topics): ['Politics'] is not a choice; valid: Sports, Politics",
            id="choice-not-a-string",
        ),
        pytest.param(
            with_value("labels", {"start": 0, "end": 5, "labels": ["LOC"]}),
            "region 0 (ner): 'LOC' is not a label; valid: PER, ORG",
            id="unknown-label",
        ),
        pytest.param(
            with_value("labels", {"start": 0, "end": 5, "labels": []}),
            "region 0 (ner): labels must be a non-empty list, got []",
            id="no-labels",
        ),
        pytest.param(
            with_value("labels", {"end": 5, "labels": ["PER"]}),
            'region 0 (ner): value is missing "start"',
            id="missing-start",
        ),
        pytest.param(
            with_value("labels", {"start": "0", "end": 5, "labels": ["PER"]}),
            "region 0 (ner): start and end must be integers, got '0' and 5",
            id="start-not-an-integer",
        ),
        pytest.param(
            with_value("labels", {"start": 5, "end": 5, "labels": ["PER"]}),
            "region 0 (ner): span 5..5 is not inside the text (0..45 code points)",
            id="empty-span",
        ),
        pytest.param(
            with_value("labels", {"start": 40, "end": 50, "labels": ["PER"]}),
            "region 0 (ner): span 40..50 is not inside the text (0..45 code points)",
            id="span-past-the-end",
        ),
        pytest.param(
            with_value("labels", {"start": -1, "end": 5, "labels": ["PER"]}),
            "region 0 (ner): span -1..5 is not inside the text",
            id="negative-start",
        ),
        pytest.param(
            with_value("labels", {"start": 0, "end": 5, "text": "Alicia", "labels": ["PER"]}),
            "region 0 (ner): value.text 'Alicia' is not the text at 0..5 in code points or in "
            "UTF-16 units",
            id="text-mismatch",
        ),
        pytest.param(
            with_value("labels", {"start": 0, "end": 5, "text": 5, "labels": ["PER"]}),
            "region 0 (ner): value.text must be a string, got number",
            id="text-not-a-string",
        ),
        pytest.param(
            with_value("textarea", {"text": "free text"}),
            "region 0 (comment): text must be a list of strings, got string",
            id="textarea-not-a-list",
        ),
        pytest.param(
            with_value("textarea", {"text": ["a", 1]}),
            "region 0 (comment): text must be a list of strings, got array",
            id="textarea-non-string-entry",
        ),
        *(
            pytest.param(
                with_value("rating", {"rating": rating}),
                f"region 0 (rating): rating {rating!r} is not an integer from 0 to 5",
                id=f"rating-{case}",
            )
            for case, rating in [
                ("above-max", 6),
                ("negative", -1),
                ("string", "4"),
                ("bool", True),
            ]
        ),
        pytest.param(
            with_value("number", {"number": 10.5}),
            "region 0 (num): 10.5 is not between 0 and 10",
            id="number-above-max",
        ),
        pytest.param(
            with_value("number", {"number": float("nan")}),
            "region 0 (num): expected a number, got number",
            id="number-nan",
        ),
        pytest.param(
            with_value("taxonomy", {"taxonomy": ["A", "A1"]}),
            "region 0 (tax): a taxonomy path must be a non-empty list, got 'A'",
            id="taxonomy-path-not-a-list",
        ),
        pytest.param(
            with_value("taxonomy", {"taxonomy": [[]]}),
            "region 0 (tax): a taxonomy path must be a non-empty list, got []",
            id="taxonomy-empty-path",
        ),
        pytest.param(
            with_value("taxonomy", {"taxonomy": [["A1"]]}),
            "region 0 (tax): path ['A1'] does not follow the taxonomy: 'A1' is not at the top "
            "level",
            id="taxonomy-node-at-wrong-level",
        ),
        pytest.param(
            with_value("taxonomy", {"taxonomy": [["B", "A1"]]}),
            "region 0 (tax): path ['B', 'A1'] does not follow the taxonomy: 'A1' is not under 'B'",
            id="taxonomy-node-under-wrong-parent",
        ),
        pytest.param(
            with_value("taxonomy", {"taxonomy": "A"}),
            "region 0 (tax): taxonomy must be a list of paths, got string",
            id="taxonomy-not-a-list",
        ),
        pytest.param(
            [SECTION_11["labels"], {"from_id": "r1", "to_id": "r9", "type": "relation"}],
            "region 1 (relation): to_id 'r9' names no region of this result",
            id="relation-to-unknown-region",
        ),
        pytest.param(
            [
                SECTION_11["labels"],
                {"from_id": "r1", "to_id": "r1", "type": "relation", "direction": "up"},
            ],
            "region 1 (relation): direction 'up' is not one of right, left, bi",
            id="relation-bad-direction",
        ),
        pytest.param(
            [{**SECTION_11["labels"], "id": 1}],
            "region 0: id must be a string, got 1",
            id="id-not-a-string",
        ),
        pytest.param(
            [{**SECTION_11["rating"], "score": "high"}],
            "region 0: score must be a number, got 'high'",
            id="score-not-a-number",
        ),
        pytest.param(
            [{**SECTION_11["rating"], "readonly": "no"}],
            "region 0: readonly must be true or false, got 'no'",
            id="readonly-not-a-bool",
        ),
    ],
)
def test_bad_result_raises_result_error_naming_region_control_and_reason(
    example: LabelConfig, example_data: dict[str, str], result: object, message: str
) -> None:
    with pytest.raises(ResultError) as caught:
        example.check_result(result, example_data)
    assert caught.value.message.startswith(message)
