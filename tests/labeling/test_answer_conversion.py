"""Answers to Label Studio results and back, for every control kind, in the LABEL_STUDIO.md §11
shapes; and span offsets between code points and UTF-16 units."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from prelabel.errors import ResultError
from prelabel.labeling import LabelConfig, parse_label_config
from prelabel.labeling.spans import UnlocatedSpan

EMPTY_ANSWER = {
    "sentiment": None,
    "topics": [],
    "ner": [],
    "comment": None,
    "rating": None,
    "num": None,
    "tax": [],
}


def answer(**values: Any) -> dict[str, Any]:
    return {**EMPTY_ANSWER, **values}


def test_result_without_regions_gives_the_empty_answer(
    example: LabelConfig, example_data: dict[str, str]
) -> None:
    assert example.result_to_answer([], example_data) == EMPTY_ANSWER


def test_empty_answer_gives_no_regions(example: LabelConfig, example_data: dict[str, str]) -> None:
    conversion = example.answer_to_result(EMPTY_ANSWER, example_data)
    assert (conversion.result, conversion.unlocated) == ([], [])


def test_null_answers_and_empty_text_give_no_regions(
    example: LabelConfig, example_data: dict[str, str]
) -> None:
    nothing = {**dict.fromkeys(EMPTY_ANSWER), "comment": ""}
    assert example.answer_to_result(nothing, example_data).result == []


@pytest.mark.parametrize(
    ("name", "value", "region"),
    [
        pytest.param(
            "sentiment",
            "Positive",
            {
                "from_name": "sentiment",
                "to_name": "text",
                "type": "choices",
                "value": {"choices": ["Positive"]},
            },
            id="choices-single",
        ),
        pytest.param(
            "topics",
            ["Sports", "Politics"],
            {
                "from_name": "topics",
                "to_name": "text",
                "type": "choices",
                "value": {"choices": ["Sports", "Politics"]},
            },
            id="choices-multiple",
        ),
        pytest.param(
            "ner",
            [{"text": "Alice", "label": "PER", "occurrence": 1}],
            {
                "id": "ner-0",
                "from_name": "ner",
                "to_name": "text",
                "type": "labels",
                "value": {"start": 0, "end": 5, "text": "Alice", "labels": ["PER"]},
            },
            id="labels",
        ),
        pytest.param(
            "comment",
            "free text",
            {
                "from_name": "comment",
                "to_name": "text",
                "type": "textarea",
                "value": {"text": ["free text"]},
            },
            id="textarea",
        ),
        pytest.param(
            "rating",
            4,
            {"from_name": "rating", "to_name": "text", "type": "rating", "value": {"rating": 4}},
            id="rating",
        ),
        pytest.param(
            "num",
            7,
            {"from_name": "num", "to_name": "text", "type": "number", "value": {"number": 7}},
            id="number",
        ),
        pytest.param(
            "tax",
            ["A / A1", "B"],
            {
                "from_name": "tax",
                "to_name": "text",
                "type": "taxonomy",
                "value": {"taxonomy": [["A", "A1"], ["B"]]},
            },
            id="taxonomy",
        ),
    ],
)
def test_each_control_converts_to_its_label_studio_shape_and_back(
    example: LabelConfig,
    example_data: dict[str, str],
    name: str,
    value: object,
    region: dict[str, Any],
) -> None:
    conversion = example.answer_to_result(answer(**{name: value}), example_data)
    assert conversion.result == [region]
    assert conversion.unlocated == []
    assert example.result_to_answer([region], example_data) == answer(**{name: value})


def test_whole_answer_gives_regions_in_control_order(
    example: LabelConfig, example_data: dict[str, str]
) -> None:
    full = answer(
        sentiment="Negative",
        topics=["Politics"],
        ner=[{"text": "ACME", "label": "ORG", "occurrence": 1}],
        comment="c",
        rating=1,
        num=0.5,
        tax=["B"],
    )
    result = example.answer_to_result(full, example_data).result
    assert [region["from_name"] for region in result] == list(EMPTY_ANSWER)
    assert example.result_to_answer(result, example_data) == full


def test_spans_without_occurrence_take_the_next_unused_one_and_get_stable_ids(
    example: LabelConfig, example_data: dict[str, str]
) -> None:
    spans = [
        {"text": "Alice", "label": "PER", "occurrence": None},
        {"text": "Alice", "label": "PER", "occurrence": None},
        {"text": "Bob", "label": "PER", "occurrence": None},
    ]
    result = example.answer_to_result(answer(ner=spans), example_data).result
    assert [(r["id"], r["value"]["start"], r["value"]["end"]) for r in result] == [
        ("ner-0", 0, 5),
        ("ner-1", 30, 35),
        ("ner-2", 25, 28),
    ]
    assert [
        item["occurrence"] for item in example.result_to_answer(result, example_data)["ner"]
    ] == [
        1,
        2,
        1,
    ]


def test_spans_that_cannot_be_located_are_reported_and_get_no_offsets(
    example: LabelConfig, example_data: dict[str, str]
) -> None:
    spans = [
        {"text": "Carol", "label": "PER", "occurrence": None},
        {"text": "Alice", "label": "PER", "occurrence": 3},
        {"text": "ACME", "label": "ORG", "occurrence": 1},
    ]
    conversion = example.answer_to_result(answer(ner=spans), example_data)
    assert [region["value"]["text"] for region in conversion.result] == ["ACME"]
    assert [(u.text, u.label, u.occurrence) for u in conversion.unlocated] == [
        ("Carol", "PER", None),
        ("Alice", "PER", 3),
    ]
    assert all(isinstance(u, UnlocatedSpan) and u.reason for u in conversion.unlocated)


def test_span_offsets_are_code_points_after_an_emoji(example: LabelConfig) -> None:
    data = {"text": "😀 Alice"}
    result = example.answer_to_result(
        answer(ner=[{"text": "Alice", "label": "PER", "occurrence": 1}]), data
    ).result
    assert result[0]["value"] == {"start": 2, "end": 7, "text": "Alice", "labels": ["PER"]}


@pytest.fixture(scope="module")
def aliased() -> LabelConfig:
    return parse_label_config(
        '<View><Text name="text" value="$text"/><Image name="img" value="$image"/>'
        '<Choices name="s" toName="text,img"><Choice value="Positive" alias="pos"/>'
        '<Choice value="Negative"/></Choices>'
        '<Labels name="l" toName="text"><Label value="Person" alias="PER"/></Labels>'
        '<Taxonomy name="t" toName="text"><Choice value="Animal" alias="an">'
        '<Choice value="Cat"/></Choice></Taxonomy>'
        "</View>"
    )


ALIASED_DATA = {"text": "Alice", "image": "https://example.com/a.png"}


def test_answers_and_results_use_aliases(aliased: LabelConfig) -> None:
    full = {
        "s": "pos",
        "l": [{"text": "Alice", "label": "PER", "occurrence": 1}],
        "t": ["an / Cat"],
    }
    result = aliased.answer_to_result(full, ALIASED_DATA).result
    assert [region["value"] for region in result] == [
        {"choices": ["pos"]},
        {"start": 0, "end": 5, "text": "Alice", "labels": ["PER"]},
        {"taxonomy": [["an", "Cat"]]},
    ]
    assert aliased.result_to_answer(result, ALIASED_DATA) == full


def test_results_naming_options_by_value_read_back_as_their_alias(aliased: LabelConfig) -> None:
    result = [
        {"from_name": "s", "to_name": "img", "type": "choices", "value": {"choices": ["Positive"]}},
        {
            "from_name": "l",
            "to_name": "text",
            "type": "labels",
            "value": {"start": 0, "end": 5, "labels": ["Person"]},
        },
        {
            "from_name": "t",
            "to_name": "text",
            "type": "taxonomy",
            "value": {"taxonomy": [["Animal"]]},
        },
    ]
    assert aliased.result_to_answer(result, ALIASED_DATA) == {
        "s": "pos",
        "l": [{"text": "Alice", "label": "PER", "occurrence": 1}],
        "t": ["an"],
    }


def test_answers_go_to_the_first_object_of_a_comma_separated_to_name(aliased: LabelConfig) -> None:
    result = aliased.answer_to_result({"s": "Negative", "l": [], "t": []}, ALIASED_DATA).result
    assert result[0]["to_name"] == "text"


def region(name: str, kind: str, value: dict[str, Any]) -> dict[str, Any]:
    return {"from_name": name, "to_name": "text", "type": kind, "value": value}


@pytest.mark.parametrize(
    ("regions", "expected"),
    [
        pytest.param(
            [
                region("topics", "choices", {"choices": ["Sports"]}),
                region("topics", "choices", {"choices": ["Politics", "Sports"]}),
            ],
            {"topics": ["Sports", "Politics"]},
            id="multiple-choices-union",
        ),
        pytest.param(
            [
                region("sentiment", "choices", {"choices": ["Positive"]}),
                region("sentiment", "choices", {"choices": ["Positive"]}),
            ],
            {"sentiment": "Positive"},
            id="agreeing-single-choices",
        ),
        pytest.param(
            [region("comment", "textarea", {"text": ["one", "two"]})],
            {"comment": "one\ntwo"},
            id="textarea-entries-become-lines",
        ),
        pytest.param(
            [region("comment", "textarea", {"text": []})],
            {"comment": None},
            id="textarea-no-entries",
        ),
        pytest.param(
            [region("rating", "rating", {"rating": 0})],
            {"rating": None},
            id="rating-zero-is-no-stars",
        ),
        pytest.param(
            [
                region("tax", "taxonomy", {"taxonomy": [["A"]]}),
                region("tax", "taxonomy", {"taxonomy": [["A"], ["A", "A1"]]}),
            ],
            {"tax": ["A", "A / A1"]},
            id="taxonomy-union",
        ),
        pytest.param(
            [
                region("ner", "labels", {"start": 0, "end": 5, "labels": ["PER", "ORG"]}),
            ],
            {
                "ner": [
                    {"text": "Alice", "label": "PER", "occurrence": 1},
                    {"text": "Alice", "label": "ORG", "occurrence": 1},
                ]
            },
            id="span-with-two-labels",
        ),
        pytest.param(
            [
                region(
                    "ner", "labels", {"start": 14, "end": 20, "text": " ACME ", "labels": ["ORG"]}
                )
            ],
            {"ner": [{"text": "ACME", "label": "ORG", "occurrence": 1}]},
            id="span-edges-whitespace-is-left-out",
        ),
    ],
)
def test_result_regions_of_one_control_merge_into_one_answer(
    example: LabelConfig,
    example_data: dict[str, str],
    regions: list[dict[str, Any]],
    expected: dict[str, Any],
) -> None:
    assert example.result_to_answer(regions, example_data) == answer(**expected)


def test_result_span_in_utf16_units_reads_back_by_its_text(example: LabelConfig) -> None:
    data = {"text": "😀 Alice and Alice"}
    regions = [
        region("ner", "labels", {"start": 13, "end": 18, "text": "Alice", "labels": ["PER"]})
    ]
    assert example.result_to_answer(regions, data)["ner"] == [
        {"text": "Alice", "label": "PER", "occurrence": 2}
    ]


@pytest.mark.parametrize(
    ("regions", "message"),
    [
        pytest.param(
            [
                region("sentiment", "choices", {"choices": ["Positive"]}),
                region("sentiment", "choices", {"choices": ["Negative"]}),
            ],
            "result for \"sentiment\": regions disagree ('Positive', 'Negative') but the answer "
            "holds one choice",
            id="single-choices-disagree",
        ),
        pytest.param(
            [region("num", "number", {"number": 1}), region("num", "number", {"number": 2})],
            'result for "num": regions disagree (1, 2) but the answer holds one number',
            id="numbers-disagree",
        ),
        pytest.param(
            [region("ner", "labels", {"start": 5, "end": 6, "labels": ["PER"]})],
            "result for \"ner\": span ' ' is only whitespace, which no answer can name",
            id="whitespace-span",
        ),
        pytest.param(
            [region("sentiment", "choices", {"choices": ["Neutral"]})],
            "region 0 (sentiment): 'Neutral' is not a choice; valid: Positive, Negative",
            id="invalid-result",
        ),
    ],
)
def test_result_that_no_answer_can_express_raises_result_error(
    example: LabelConfig, example_data: dict[str, str], regions: list[dict[str, Any]], message: str
) -> None:
    with pytest.raises(ResultError) as caught:
        example.result_to_answer(regions, example_data)
    assert caught.value.message == message


def test_span_cutting_a_combined_character_cannot_be_named(example: LabelConfig) -> None:
    data = {"text": "Cafe\u0301 open"}  # "e" + combining acute accent
    regions = [region("ner", "labels", {"start": 0, "end": 4, "labels": ["ORG"]})]
    with pytest.raises(ResultError, match="span 'Cafe' cannot be named by its text"):
        example.result_to_answer(regions, data)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        pytest.param(
            {"extra": 1},
            "answer names no control 'extra'; controls: sentiment, topics, ner, comment, rating, "
            "num, tax",
            id="unknown-control",
        ),
        pytest.param({"ner": None, "sentiment": None}, None, id="missing-control"),
        pytest.param(
            {"sentiment": "Neutral"},
            "answer for \"sentiment\": 'Neutral' is not a choice; valid: Positive, Negative",
            id="choice-not-in-enum",
        ),
        pytest.param(
            {"sentiment": ["Positive"]},
            "answer for \"sentiment\": ['Positive'] is not a choice; valid: Positive, Negative",
            id="single-choice-as-list",
        ),
        pytest.param(
            {"topics": "Sports"},
            'answer for "topics": expected a list of choices, got string',
            id="multiple-choices-not-a-list",
        ),
        pytest.param(
            {"ner": [{"text": "Alice", "label": "PER"}]},
            'answer for "ner": each span must be an object with exactly "text", "label" and '
            '"occurrence"',
            id="span-missing-occurrence",
        ),
        pytest.param(
            {"ner": [{"text": "Alice", "label": "PER", "occurrence": 1, "start": 0}]},
            'answer for "ner": each span must be an object with exactly',
            id="span-extra-key",
        ),
        pytest.param(
            {"ner": [{"text": "Alice", "label": "LOC", "occurrence": None}]},
            "answer for \"ner\": 'LOC' is not a label; valid: PER, ORG",
            id="span-label-not-in-enum",
        ),
        pytest.param(
            {"ner": [{"text": 5, "label": "PER", "occurrence": None}]},
            'answer for "ner": span text must be a string, got number',
            id="span-text-not-a-string",
        ),
        pytest.param(
            {"ner": [{"text": "Alice", "label": "PER", "occurrence": 0}]},
            'answer for "ner": occurrence must be a positive integer or null, got 0',
            id="occurrence-zero",
        ),
        pytest.param(
            {"ner": {"text": "Alice"}},
            'answer for "ner": expected a list of spans, got object',
            id="spans-not-a-list",
        ),
        pytest.param(
            {"comment": 3},
            'answer for "comment": expected a string, got number',
            id="textarea-not-a-string",
        ),
        pytest.param(
            {"num": 11}, 'answer for "num": 11 is not between 0 and 10', id="number-above-max"
        ),
        pytest.param(
            {"num": True}, 'answer for "num": expected a number, got boolean', id="number-bool"
        ),
        pytest.param(
            {"num": "7"}, 'answer for "num": expected a number, got string', id="number-string"
        ),
        pytest.param(
            {"rating": 0}, 'answer for "rating": 0 is not an integer from 1 to 5', id="rating-zero"
        ),
        pytest.param(
            {"rating": 4.5},
            'answer for "rating": 4.5 is not an integer from 1 to 5',
            id="rating-fraction",
        ),
        pytest.param(
            {"tax": ["A / A2"]},
            "answer for \"tax\": 'A / A2' is not a path of the taxonomy",
            id="taxonomy-unknown-path",
        ),
        pytest.param(
            {"tax": "A"},
            'answer for "tax": expected a list of paths, got string',
            id="taxonomy-string",
        ),
    ],
)
def test_answer_breaking_the_schema_raises_result_error_naming_the_control(
    example: LabelConfig, example_data: dict[str, str], values: dict[str, Any], message: str | None
) -> None:
    bad = answer(**values)
    if message is None:
        del bad["num"]
        message = 'answer is missing "num"'
    with pytest.raises(ResultError) as caught:
        example.answer_to_result(bad, example_data)
    assert caught.value.message.startswith(message)


def test_answer_that_is_not_an_object_raises_result_error(
    example: LabelConfig, example_data: dict[str, str]
) -> None:
    with pytest.raises(ResultError, match="answer must be an object, got array"):
        example.answer_to_result([], example_data)  # type: ignore[arg-type]


def test_integral_float_rating_is_accepted_as_an_integer(
    example: LabelConfig, example_data: dict[str, str]
) -> None:
    result = example.answer_to_result(answer(rating=4.0), example_data).result
    assert result[0]["value"] == {"rating": 4}


def test_leafs_only_taxonomy_refuses_a_stored_inner_node() -> None:
    config = parse_label_config(
        '<View><Text name="text" value="$text"/><Taxonomy name="t" toName="text" leafsOnly="true">'
        '<Choice value="A"><Choice value="A1"/></Choice></Taxonomy></View>'
    )
    with pytest.raises(ResultError, match="path \\['A'\\] ends at 'A', which is not a leaf"):
        config.check_result([region("t", "taxonomy", {"taxonomy": [["A"]]})], {"text": "x"})


EMOJI_DATA = {"text": "😀😀 Alice"}
CODEPOINT_SPAN = region("ner", "labels", {"start": 3, "end": 8, "text": "Alice", "labels": ["PER"]})
UTF16_SPAN = region("ner", "labels", {"start": 5, "end": 10, "text": "Alice", "labels": ["PER"]})
CHOICE = region("sentiment", "choices", {"choices": ["Positive"]})


@pytest.mark.parametrize(
    ("stored", "unit", "expected"),
    [
        pytest.param(CODEPOINT_SPAN, "utf16", UTF16_SPAN, id="codepoint-to-utf16"),
        pytest.param(UTF16_SPAN, "codepoint", CODEPOINT_SPAN, id="utf16-to-codepoint"),
        pytest.param(UTF16_SPAN, "utf16", UTF16_SPAN, id="utf16-stays"),
        pytest.param(CODEPOINT_SPAN, "codepoint", CODEPOINT_SPAN, id="codepoint-stays"),
        pytest.param(
            region("ner", "labels", {"start": 3, "end": 8, "labels": ["PER"]}),
            "utf16",
            region("ner", "labels", {"start": 5, "end": 10, "labels": ["PER"], "text": "Alice"}),
            id="no-text-means-code-points-and-text-is-added",
        ),
    ],
)
def test_convert_span_offsets_expresses_spans_in_the_unit_asked(
    example: LabelConfig, stored: dict[str, Any], unit: Any, expected: dict[str, Any]
) -> None:
    result = [CHOICE, stored]
    before = copy.deepcopy(result)
    assert example.convert_span_offsets(result, EMOJI_DATA, unit) == [CHOICE, expected]
    assert result == before


def test_convert_span_offsets_refuses_an_invalid_result(example: LabelConfig) -> None:
    with pytest.raises(ResultError, match="region 0 \\(ner\\): value.text 'Bob'"):
        example.convert_span_offsets(
            [region("ner", "labels", {"start": 3, "end": 8, "text": "Bob", "labels": ["PER"]})],
            EMOJI_DATA,
            "utf16",
        )
