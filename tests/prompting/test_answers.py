"""Reading model answers: each safe repair with its record, each refusal with its message, and
properties over arbitrary text (only ModelOutputError), valid answers (unchanged) and near
misses (never between labels)."""

from __future__ import annotations

import difflib
import json
from importlib.resources import files
from typing import Any
from xml.sax.saxutils import quoteattr

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prelabel.errors import ModelOutputError
from prelabel.labeling import LabelConfig, UnlocatedSpan, parse_label_config
from prelabel.prompting.answers import (
    NEAR_MISS_CUTOFF,
    ReadAnswer,
    read_answer,
    read_answer_object,
)
from tests.factories import ALL_CONTROLS_CONFIG

FAST = settings(max_examples=200, deadline=None)

#: LABEL_STUDIO.md §12: one control of every kind.
EXAMPLE = parse_label_config(ALL_CONTROLS_CONFIG)
DATA = {"text": "Alice works at ACME with Bob; Alice likes it."}
#: The demo project's config: single sentiment with hints, multiple topics.
DEMO = parse_label_config(files("prelabel.demo").joinpath("product_reviews.xml").read_text())
REVIEW = {"text": "Great kettle, arrived late."}
#: Options whose alias is the label, so that their value is another name for it.
ALIASED = parse_label_config(
    """<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text">
    <Choice value="Positive" alias="pos"/><Choice value="Negative" alias="neg"/>
  </Choices>
  <Taxonomy name="tax" toName="text">
    <Choice value="Animals" alias="ani"><Choice value="Dogs" alias="dog"/></Choice>
  </Taxonomy>
</View>"""
)

EMPTY = {
    "sentiment": "Positive",
    "topics": [],
    "ner": [],
    "comment": None,
    "rating": None,
    "num": None,
    "tax": [],
}
FULL = {
    "sentiment": "Negative",
    "topics": ["Sports", "Politics"],
    "ner": [
        {"text": "Alice", "label": "PER", "occurrence": 2},
        {"text": "ACME", "label": "ORG", "occurrence": None},
    ],
    "comment": "Two people.",
    "rating": 4,
    "num": 2.5,
    "tax": ["A / A1", "B"],
}


def example(**values: Any) -> dict[str, Any]:
    return {**EMPTY, **values}


def read_demo(answer: dict[str, Any]) -> ReadAnswer:
    return read_answer(DEMO, json.dumps(answer), REVIEW)


def refusal(config: LabelConfig, text: str, data: dict[str, Any] = DATA) -> str:
    with pytest.raises(ModelOutputError) as caught:
        read_answer(config, text, data)
    return caught.value.message


# --- Valid answers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "answer", [pytest.param(EMPTY, id="empty"), pytest.param(FULL, id="every-control")]
)
def test_schema_valid_answer_is_returned_unchanged_with_no_repairs(answer: dict[str, Any]) -> None:
    read = read_answer(EXAMPLE, json.dumps(answer, indent=2) + "\n", DATA)
    assert (read.answer, read.repairs, read.unlocated) == (answer, (), ())
    assert read.result == EXAMPLE.answer_to_result(answer, DATA).result


def test_schema_valid_object_is_returned_unchanged_with_no_repairs() -> None:
    read = read_answer_object(EXAMPLE, FULL, DATA)
    assert (read.answer, read.repairs) == (FULL, ())


def test_answer_is_converted_to_label_studio_regions() -> None:
    read = read_demo({"sentiment": "Positive", "topics": ["Quality", "Delivery"]})
    assert read.result == [
        {
            "from_name": "sentiment",
            "to_name": "text",
            "type": "choices",
            "value": {"choices": ["Positive"]},
        },
        {
            "from_name": "topics",
            "to_name": "text",
            "type": "choices",
            "value": {"choices": ["Quality", "Delivery"]},
        },
    ]


def test_span_missing_from_the_text_is_reported_not_a_failure() -> None:
    ner = [
        {"text": "Alice", "label": "PER", "occurrence": 1},
        {"text": "Carol", "label": "PER", "occurrence": None},
    ]
    read = read_answer(EXAMPLE, json.dumps(example(ner=ner)), DATA)
    spans = [region["value"]["text"] for region in read.result if region["type"] == "labels"]
    assert spans == ["Alice"]
    assert read.unlocated == (UnlocatedSpan("Carol", "PER", None, "not found in the text"),)
    assert read.answer["ner"] == ner and read.repairs == ()


# --- Text repairs ----------------------------------------------------------------------------

ANSWER = json.dumps(EMPTY)


@pytest.mark.parametrize(
    ("text", "repairs"),
    [
        pytest.param(f"```json\n{ANSWER}\n```", ("removed a ```json code fence",), id="json-fence"),
        pytest.param(f"```JSON\n{ANSWER}```", ("removed a ```JSON code fence",), id="upper-case"),
        pytest.param(f"```\n{ANSWER}\n```", ("removed a ``` code fence",), id="bare-fence"),
        pytest.param(f" ```json {ANSWER}``` \n", ("removed a ```json code fence",), id="one-line"),
        pytest.param(
            f"Here is the answer:\n{ANSWER}\nI hope it helps.",
            ("took the JSON object out of surrounding text",),
            id="prose",
        ),
        pytest.param(
            f"Sure! {{not json}} then {ANSWER}",
            ("took the JSON object out of surrounding text",),
            id="prose-with-braces",
        ),
        pytest.param(
            f"Answer:\n```json\n{ANSWER}\n```\nDone.",
            ("took the JSON object out of surrounding text",),
            id="fence-in-prose",
        ),
        pytest.param(
            f"```json\nThe labels: {ANSWER}\n```",
            ("removed a ```json code fence", "took the JSON object out of surrounding text"),
            id="prose-in-fence",
        ),
        pytest.param(
            f'{{"answer": {ANSWER}}}',
            ('took the answer out of the wrapper field "answer"',),
            id="wrapper-object",
        ),
    ],
)
def test_text_around_the_answer_is_removed_and_recorded(text: str, repairs: tuple[str]) -> None:
    read = read_answer(EXAMPLE, text, DATA)
    assert (read.answer, read.repairs) == (EMPTY, repairs)


def test_surrounding_whitespace_is_no_repair() -> None:
    assert read_answer(EXAMPLE, f"\n\t {ANSWER} \n\n", DATA).repairs == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("", "the answer is empty", id="empty"),
        pytest.param(" \n ", "the answer is empty", id="whitespace"),
        pytest.param(
            "It is positive.", "not JSON: Expecting value at line 1 column 1", id="prose-only"
        ),
        pytest.param(
            '{"sentiment": "Positive" "topics": []}',
            "not JSON: Expecting ',' delimiter at line 1 column 26",
            id="syntax",
        ),
        pytest.param(
            '{"sentiment": "Positive",',
            "not JSON: Expecting property name enclosed in double quotes at line 1 column 26",
            id="truncated",
        ),
        pytest.param(
            '\n\n```json\n{"sentiment": }\n```',
            "not JSON: Expecting value at line 4 column 15",
            id="position-counts-in-the-raw-text",
        ),
        pytest.param(
            "{'sentiment': 'Positive'}",
            "not JSON: Expecting property name enclosed in double quotes at line 1 column 2",
            id="single-quotes",
        ),
        pytest.param(
            f"First {ANSWER}, or maybe {ANSWER}",
            "the text holds 2 JSON objects, expected one",
            id="two-objects",
        ),
        pytest.param(
            f'{{"answer": {ANSWER}',
            "not JSON: Expecting ',' delimiter at line 1 column 119",
            id="object-inside-broken-json",
        ),
        pytest.param(
            "{" * 200 + ANSWER,
            "not JSON: Expecting property name enclosed in double quotes at line 1 column 2",
            id="object-after-too-many-braces",
        ),
        pytest.param(
            f"[{ANSWER}]", "the answer is a list, expected an object", id="list-of-the-answer"
        ),
        pytest.param('"Positive"', "the answer is a string, expected an object", id="string"),
        pytest.param("null", "the answer is null, expected an object", id="null"),
        pytest.param(
            json.dumps(json.dumps(EMPTY)),
            "the answer is a string, expected an object",
            id="json-in-a-string",
        ),
        pytest.param(
            '{"sentiment": "Positive", "sentiment": "Negative"}',
            'not JSON that reads one way: the key "sentiment" appears twice',
            id="repeated-key",
        ),
        pytest.param(
            '{"sentiment": "Positive", "num": NaN}', "not JSON: NaN is not a JSON value", id="nan"
        ),
        pytest.param(
            '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}",
            "not JSON that can be read: nested too deeply",
            id="too-deep",
        ),
    ],
)
def test_text_that_is_not_one_json_object_is_refused(text: str, message: str) -> None:
    assert refusal(EXAMPLE, text) == message


def test_trailing_comma_is_not_repaired() -> None:
    message = refusal(EXAMPLE, '{"sentiment": "Positive", "topics": [],}')
    assert message.startswith("not JSON: ") and " at line 1 column " in message


def test_refusal_is_invalid_output_carrying_the_raw_text() -> None:
    text = "I cannot decide. " * 200
    with pytest.raises(ModelOutputError) as caught:
        read_answer(EXAMPLE, text, DATA)
    assert (caught.value.kind, caught.value.code, caught.value.status) == (
        "invalid_output",
        "invalid_output",
        502,
    )
    assert caught.value.excerpt == text[:2000]


# --- Structure -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "repairs"),
    [
        pytest.param(
            {"Sentiment": "Positive"},
            ('field "Sentiment" -> "sentiment" (case)',),
            id="key-case",
        ),
        pytest.param(
            {" sentiment\n": "Positive"},
            ('field " sentiment\\n" -> "sentiment" (whitespace)',),
            id="key-whitespace",
        ),
        pytest.param(
            {"SENTIMENT ": "Positive"},
            ('field "SENTIMENT " -> "sentiment" (case and whitespace)',),
            id="key-case-and-whitespace",
        ),
        pytest.param(
            {"sentiment": "Positive", "reasoning": "It says great."},
            ('ignored unknown field "reasoning"',),
            id="unknown-field-with-nothing-missing",
        ),
    ],
)
def test_field_names_are_matched_and_recorded(
    answer: dict[str, Any], repairs: tuple[str, ...]
) -> None:
    read = read_demo({"topics": [], **answer})
    assert read.answer == {"sentiment": "Positive", "topics": []}
    assert read.repairs == repairs


def test_missing_fields_that_may_be_empty_are_filled_and_recorded() -> None:
    read = read_answer(EXAMPLE, '{"sentiment": "Positive"}', DATA)
    assert read.answer == EMPTY
    assert read.repairs == (
        'filled missing field "topics" with []',
        'filled missing field "ner" with []',
        'filled missing field "comment" with null',
        'filled missing field "rating" with null',
        'filled missing field "num" with null',
        'filled missing field "tax" with []',
    )


def test_null_for_a_list_becomes_the_empty_list() -> None:
    read = read_answer(EXAMPLE, json.dumps(example(topics=None, ner=None, tax=None)), DATA)
    assert read.answer == EMPTY
    assert read.repairs == (
        "topics: null -> [] (empty list)",
        "ner: null -> [] (empty list)",
        "tax: null -> [] (empty list)",
    )


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        pytest.param({"topics": []}, 'missing field "sentiment"', id="required-choice-missing"),
        pytest.param(
            {"topics": [], "sentiment": None},
            "sentiment: expected one of Positive, Negative, Neutral, got null",
            id="required-choice-null",
        ),
        pytest.param(
            {"sentiment": "Positive", "topic": ["Price"]},
            'unknown field "topic" and missing field "topics"',
            id="unknown-field-while-one-is-missing",
        ),
        pytest.param(
            {"topics": [], "sentiment": "Positive", "Sentiment": "Negative"},
            'fields "sentiment" and "Sentiment" both name "sentiment"',
            id="two-keys-for-one-field",
        ),
        pytest.param(
            {"answer": {"sentiment": "Positive", "topics": [], "why": "..."}},
            'unknown field "answer" and missing field "sentiment", "topics"',
            id="wrapper-around-an-unknown-field",
        ),
        pytest.param(
            {"answer": {"sentiment": "Positive"}, "topics": []},
            'unknown field "answer" and missing field "sentiment"',
            id="wrapper-beside-a-field",
        ),
    ],
)
def test_fields_that_cannot_be_matched_safely_are_refused(
    answer: dict[str, Any], message: str
) -> None:
    assert refusal(DEMO, json.dumps(answer), REVIEW) == message


def test_wrapper_naming_a_control_is_that_control() -> None:
    config = parse_label_config(
        '<View><Text name="text" value="$text"/><TextArea name="answer" toName="text"/></View>'
    )
    assert refusal(config, '{"answer": {"answer": "x"}}') == (
        'answer for "answer": expected a string, got object'
    )


# --- Labels ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "read", "repairs"),
    [
        pytest.param(
            {"sentiment": "positive"},
            {"sentiment": "Positive"},
            ('sentiment: "positive" -> "Positive" (case)',),
            id="case",
        ),
        pytest.param(
            {"sentiment": " Positive\n"},
            {"sentiment": "Positive"},
            ('sentiment: " Positive\\n" -> "Positive" (whitespace)',),
            id="whitespace",
        ),
        pytest.param(
            {"sentiment": "NEUTRAL "},
            {"sentiment": "Neutral"},
            ('sentiment: "NEUTRAL " -> "Neutral" (case and whitespace)',),
            id="case-and-whitespace",
        ),
        pytest.param(
            {"sentiment": "Postive"},
            {"sentiment": "Positive"},
            ('sentiment: "Postive" -> "Positive" (near miss)',),
            id="near-miss",
        ),
        pytest.param(
            {"topics": ["Qualty"]},
            {"topics": ["Quality"]},
            ('topics: "Qualty" -> "Quality" (near miss)',),
            id="near-miss-in-a-list",
        ),
        pytest.param(
            {"sentiment": ["Negative"]},
            {"sentiment": "Negative"},
            ('sentiment: ["Negative"] -> "Negative" (unwrapped a list of one)',),
            id="single-choice-in-a-list",
        ),
        pytest.param(
            {"topics": "Price"},
            {"topics": ["Price"]},
            ('topics: "Price" -> ["Price"] (wrapped in a list)',),
            id="multiple-choice-alone",
        ),
        pytest.param(
            {"topics": ["Price", "price", "Delivery", "Price"]},
            {"topics": ["Price", "Delivery"]},
            (
                'topics: "price" -> "Price" (case)',
                'topics: dropped "Price" repeated 2 more time(s)',
            ),
            id="repeated-choices",
        ),
    ],
)
def test_labels_are_read_as_the_one_label_they_mean_and_recorded(
    answer: dict[str, Any], read: dict[str, Any], repairs: tuple[str, ...]
) -> None:
    full = {"sentiment": "Positive", "topics": []}
    result = read_demo({**full, **answer})
    assert (result.answer, result.repairs) == ({**full, **read}, repairs)


@pytest.mark.parametrize(
    ("answer", "read", "repairs"),
    [
        pytest.param(
            {"sentiment": "Negative"},
            {"sentiment": "neg"},
            ('sentiment: "Negative" -> "neg" (value of the option)',),
            id="value-for-alias",
        ),
        pytest.param(
            {"sentiment": "negative"},
            {"sentiment": "neg"},
            ('sentiment: "negative" -> "neg" (case, value of the option)',),
            id="value-in-other-case",
        ),
        pytest.param(
            {"tax": ["Animals / Dogs"]},
            {"tax": ["ani / dog"]},
            ('tax: "Animals / Dogs" -> "ani / dog" (value of the option)',),
            id="taxonomy-path-of-values",
        ),
        pytest.param(
            {"tax": "ANI"},
            {"tax": ["ani"]},
            ('tax: "ANI" -> ["ANI"] (wrapped in a list)', 'tax: "ANI" -> "ani" (case)'),
            id="taxonomy-path-alone",
        ),
    ],
)
def test_option_values_name_their_aliased_label(
    answer: dict[str, Any], read: dict[str, Any], repairs: tuple[str, ...]
) -> None:
    full = {"sentiment": "pos", "tax": []}
    result = read_answer(ALIASED, json.dumps({**full, **answer}), DATA)
    assert (result.answer, result.repairs) == ({**full, **read}, repairs)
    assert result.result[0]["value"] == {"choices": [result.answer["sentiment"]]}


@pytest.mark.parametrize(
    ("tax", "read", "repair"),
    [
        pytest.param("a / a1", "A / A1", 'tax: "a / a1" -> "A / A1" (case)', id="case"),
        pytest.param("A  /  A1", "A / A1", 'tax: "A  /  A1" -> "A / A1" (whitespace)', id="space"),
    ],
)
def test_taxonomy_paths_are_matched_whole(tax: str, read: str, repair: str) -> None:
    result = read_answer(EXAMPLE, json.dumps(example(tax=[tax])), DATA)
    assert (result.answer["tax"], result.repairs) == ([read], (repair,))
    assert result.result[-1]["value"] == {"taxonomy": [["A", "A1"]]}


def test_span_items_are_repaired_like_answers() -> None:
    ner = [
        {"Text": "Alice", "label": "per"},
        {"text": "ACME", "label": "ORG", "occurrence": 1, "start": 15},
    ]
    read = read_answer(EXAMPLE, json.dumps(example(ner=ner)), DATA)
    assert read.answer["ner"] == [
        {"text": "Alice", "label": "PER", "occurrence": None},
        {"text": "ACME", "label": "ORG", "occurrence": 1},
    ]
    assert read.repairs == (
        'ner[0]: field "Text" -> "text" (case)',
        'ner[0]: filled missing field "occurrence" with null',
        'ner[0].label: "per" -> "PER" (case)',
        'ner[1]: ignored unknown field "start"',
    )
    labels = [region["value"]["labels"] for region in read.result if region["type"] == "labels"]
    assert labels == [["PER"], ["ORG"]]


def test_one_span_alone_is_put_in_a_list() -> None:
    span = {"text": "Bob", "label": "PER", "occurrence": None}
    read = read_answer(EXAMPLE, json.dumps(example(ner=span)), DATA)
    assert read.answer["ner"] == [span]
    assert read.repairs == ("ner: one span -> a list of one (wrapped in a list)",)


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        pytest.param(
            {"sentiment": "Maybe"},
            "sentiment: 'Maybe' is not one of Positive, Negative, Neutral",
            id="not-an-option",
        ),
        pytest.param(
            {"sentiment": 1},
            "sentiment: expected one of Positive, Negative, Neutral, got a number",
            id="number",
        ),
        pytest.param(
            {"sentiment": ["Positive", "Neutral"]},
            "sentiment: expected one choice, got a list of 2",
            id="two-single-choices",
        ),
        pytest.param(
            {"sentiment": []}, "sentiment: expected one choice, got a list of 0", id="no-choice"
        ),
        pytest.param(
            {"topics": {"Price": True}}, "topics: expected a list, got an object", id="object"
        ),
        pytest.param(
            {"topics": ["Price", "Shipping"]},
            "topics: 'Shipping' is not one of Price, Quality, Delivery, Support",
            id="one-bad-item",
        ),
        pytest.param(
            {"sentiment": "Neg"},
            "sentiment: 'Neg' is not one of Positive, Negative, Neutral",
            id="too-short-for-a-near-miss",
        ),
    ],
)
def test_labels_that_name_no_one_option_are_refused(answer: dict[str, Any], message: str) -> None:
    assert refusal(DEMO, json.dumps({"sentiment": "Positive", "topics": [], **answer})) == message


def near_config(*labels: str) -> LabelConfig:
    choices = "".join(f"<Choice value={quoteattr(label)}/>" for label in labels)
    return parse_label_config(
        f'<View><Text name="text" value="$text"/>'
        f'<Choices name="c" toName="text">{choices}</Choices></View>'
    )


@pytest.mark.parametrize(
    ("labels", "given", "message"),
    [
        pytest.param(
            ("Class A1", "Class A2"),
            "Class A3",
            "c: 'Class A3' is not one of Class A1, Class A2",
            id="near-two-labels",
        ),
        pytest.param(
            ("Positive", "POSITIVE"),
            "positive",
            "c: 'positive' could be any of Positive, POSITIVE",
            id="case-variant-of-two",
        ),
        pytest.param(
            ("Positive", "POSITIVE"),
            "Positiv",
            "c: 'Positiv' is not one of Positive, POSITIVE",
            id="near-miss-of-two-case-variants",
        ),
        pytest.param(
            ("Very positive", "Positive"),
            "Very positiv",
            None,
            id="far-enough-from-the-runner-up",
        ),
    ],
)
def test_near_miss_never_lands_between_labels(
    labels: tuple[str, ...], given: str, message: str | None
) -> None:
    text = json.dumps({"c": given})
    if message is None:
        assert read_answer(near_config(*labels), text, DATA).answer == {"c": labels[0]}
    else:
        assert refusal(near_config(*labels), text) == message


def test_long_label_list_is_cut_short_in_messages() -> None:
    config = near_config(*(f"label {index:02}" for index in range(30)))
    message = refusal(config, '{"c": "nothing like it"}')
    assert message.endswith(", label 18, label 19 and 10 more")


# --- Numbers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "read", "repairs"),
    [
        pytest.param(
            {"rating": "4"}, {"rating": 4}, ('rating: "4" -> 4 (number in a string)',), id="string"
        ),
        pytest.param(
            {"rating": " 5.0 "},
            {"rating": 5},
            ('rating: " 5.0 " -> 5 (number in a string)',),
            id="whole-float-string",
        ),
        pytest.param(
            {"rating": 4.0}, {"rating": 4}, ("rating: 4.0 -> 4 (whole number)",), id="whole-float"
        ),
        pytest.param(
            {"num": "2.5"}, {"num": 2.5}, ('num: "2.5" -> 2.5 (number in a string)',), id="number"
        ),
        pytest.param(
            {"num": "1e1"}, {"num": 10.0}, ('num: "1e1" -> 10.0 (number in a string)',), id="exp"
        ),
        pytest.param({"num": 7.0}, {"num": 7.0}, (), id="float-number-stays"),
    ],
)
def test_numbers_in_strings_and_whole_ratings_are_read(
    values: dict[str, Any], read: dict[str, Any], repairs: tuple[str, ...]
) -> None:
    result = read_answer(EXAMPLE, json.dumps(example(**values)), DATA)
    assert (result.answer, result.repairs) == (example(**read), repairs)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        pytest.param(
            {"rating": 4.5},
            'answer for "rating": 4.5 is not an integer from 1 to 5',
            id="half-star",
        ),
        pytest.param(
            {"rating": 6}, 'answer for "rating": 6 is not an integer from 1 to 5', id="too-high"
        ),
        pytest.param(
            {"rating": "0"}, 'answer for "rating": 0 is not an integer from 1 to 5', id="zero"
        ),
        pytest.param(
            {"num": 10.5}, 'answer for "num": 10.5 is not between 0 and 10', id="out-of-bounds"
        ),
        pytest.param({"num": "four"}, "num: 'four' is not a number", id="word"),
        pytest.param({"num": "4 stars"}, "num: '4 stars' is not a number", id="with-unit"),
        pytest.param({"num": "NaN"}, "num: 'NaN' is not a number", id="nan-string"),
        pytest.param({"num": "1e999"}, "num: '1e999' is not a number", id="infinite"),
        pytest.param(
            {"rating": True},
            'answer for "rating": True is not an integer from 1 to 5',
            id="boolean",
        ),
    ],
)
def test_numbers_out_of_range_or_unreadable_are_refused_never_clamped(
    values: dict[str, Any], message: str
) -> None:
    assert refusal(EXAMPLE, json.dumps(example(**values))) == message


# --- Conversion and storage ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "message"),
    [
        pytest.param(
            {"comment": 42}, 'answer for "comment": expected a string, got number', id="textarea"
        ),
        pytest.param(
            {"ner": [{"text": 5, "label": "PER", "occurrence": None}]},
            'answer for "ner": span text must be a string, got number',
            id="span-text",
        ),
        pytest.param(
            {"ner": [{"text": "Bob", "label": "PER", "occurrence": 0}]},
            'answer for "ner": occurrence must be a positive integer or null, got 0',
            id="span-occurrence",
        ),
        pytest.param(
            {"ner": ["Bob"]}, "ner[0]: expected a span object, got a string", id="span-not-object"
        ),
        pytest.param(
            {"comment": "a\u0000b"},
            "comment: a NUL character (\\u0000) cannot be stored",
            id="nul",
        ),
    ],
)
def test_answers_the_converter_refuses_are_invalid_output(
    values: dict[str, Any], message: str
) -> None:
    assert refusal(EXAMPLE, json.dumps(example(**values))) == message


def test_lone_surrogate_is_refused_as_text_that_cannot_be_stored() -> None:
    text = '{"sentiment": "Positive", "comment": "broken \\ud83d emoji"}'
    assert refusal(EXAMPLE, text) == "comment: a lone surrogate (\\ud83d) is not valid text"


def test_repairs_escape_characters_the_database_cannot_store() -> None:
    text = '{"sentiment": "Positive", "topics": [], "x\\u0000\\udc00": 1}'
    read = read_answer(DEMO, text, REVIEW)
    assert read.repairs == ('ignored unknown field "x\\u0000\\udc00"',)
    orjson.dumps(read.repairs)


# --- Already parsed objects ------------------------------------------------------------------


def test_object_gets_label_repairs_but_no_text_repairs() -> None:
    read = read_answer_object(DEMO, {"Sentiment": "positive", "topics": "Price"}, REVIEW)
    assert read.answer == {"sentiment": "Positive", "topics": ["Price"]}
    assert read.repairs == (
        'field "Sentiment" -> "sentiment" (case)',
        'sentiment: "positive" -> "Positive" (case)',
        'topics: "Price" -> ["Price"] (wrapped in a list)',
    )


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        pytest.param(
            '{"sentiment": "Positive", "topics": []}',
            "the answer is a string, expected an object",
            id="json-text",
        ),
        pytest.param([], "the answer is a list, expected an object", id="list"),
        pytest.param(
            {1: "x", "sentiment": "Positive"},
            'unknown field 1 and missing field "topics"',
            id="non-string-key",
        ),
    ],
)
def test_object_that_is_not_the_answer_is_refused_with_its_json_as_excerpt(
    answer: object, message: str
) -> None:
    with pytest.raises(ModelOutputError) as caught:
        read_answer_object(DEMO, answer, REVIEW)
    assert caught.value.message == message
    assert caught.value.excerpt == json.dumps(answer)


# --- Properties ------------------------------------------------------------------------------


def unique_subsets(items: list[str]) -> st.SearchStrategy[list[str]]:
    return st.lists(st.sampled_from(items), unique=True)


spans = st.fixed_dictionaries(
    {
        "text": st.sampled_from(["Alice", "ACME", "Bob", "Carol", "works at"]),
        "label": st.sampled_from(["PER", "ORG"]),
        "occurrence": st.none() | st.integers(1, 3),
    }
)
valid_answers = st.fixed_dictionaries(
    {
        "sentiment": st.sampled_from(["Positive", "Negative"]),
        "topics": unique_subsets(["Sports", "Politics"]),
        "ner": st.lists(spans, max_size=4),
        # Valid text: no NUL and no lone surrogate, which the reader refuses (tested above).
        "comment": st.none() | st.text(st.characters(codec="utf-8", exclude_characters="\x00")),
        "rating": st.none() | st.integers(1, 5),
        "num": st.none() | st.integers(0, 10) | st.floats(0, 10),
        "tax": unique_subsets(["A", "A / A1", "B"]),
    }
)
LABELISH = ["positive", "Postive", "sports", "A/A1", "a / a1", "per", "Org", "4", "4.0", "11"]
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**20), 10**20)
    | st.floats()
    | st.text(max_size=8)
    | st.sampled_from(LABELISH),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["text", "label", "occurrence", "Label", "x"]), inner)
    ),
    max_leaves=8,
)
other_keys = st.sampled_from(["reasoning", "answer", "Sentiment", " topics ", "NER"])
other_keys |= st.text(max_size=4)


@st.composite
def damaged_answers(draw: st.DrawFn) -> dict[str, Any]:
    """A valid answer with a few fields renamed, dropped, added or given other values."""
    answer = draw(valid_answers)
    for _ in range(draw(st.integers(1, 3))):
        key = draw(st.sampled_from(sorted(answer) or ["sentiment"]))
        action = draw(st.sampled_from(["rename", "drop", "add", "change"]))
        value = answer.pop(key, None)
        if action == "rename":
            answer[draw(st.sampled_from([key.upper(), f" {key}", key.title()]))] = value
        elif action == "add":
            answer.update({key: value, draw(other_keys): draw(json_values)})
        elif action == "change":
            answer[key] = draw(json_values)
    return answer


wrappings = st.sampled_from(["{0}", "```json\n{0}\n```", "Answer: {0} Done.", '{{"a": {0}}}'])
answer_texts = (
    st.text()
    | st.builds(lambda answer, wrap: wrap.format(json.dumps(answer)), damaged_answers(), wrappings)
    | st.builds(
        lambda answer, cut: json.dumps(answer)[:cut], damaged_answers(), st.integers(1, 300)
    )
)


def assert_sound(read: ReadAnswer, config: LabelConfig, data: dict[str, Any]) -> None:
    """A read answer is stored as is: its result must be valid and it must need no more repair."""
    config.check_result(read.result, data)
    again = read_answer_object(config, read.answer, data)
    assert (again.answer, again.repairs, again.result) == (read.answer, (), read.result)
    orjson.dumps([read.answer, read.result, read.repairs])


@FAST
@given(text=answer_texts)
def test_any_text_reads_soundly_or_fails_with_model_output_error(text: str) -> None:
    try:
        read = read_answer(EXAMPLE, text, DATA)
    except ModelOutputError:
        return
    assert_sound(read, EXAMPLE, DATA)


@FAST
@given(answer=json_values | damaged_answers())
def test_any_object_reads_soundly_or_fails_with_model_output_error(answer: object) -> None:
    try:
        read = read_answer_object(EXAMPLE, answer, DATA)
    except ModelOutputError:
        return
    assert_sound(read, EXAMPLE, DATA)


@FAST
@given(answer=valid_answers, indent=st.sampled_from([None, 2]))
def test_any_schema_valid_answer_is_returned_unchanged_with_no_repairs(
    answer: dict[str, Any], indent: int | None
) -> None:
    read = read_answer(EXAMPLE, json.dumps(answer, indent=indent), DATA)
    assert (read.answer, read.repairs) == (answer, ())
    assert read.result == EXAMPLE.answer_to_result(answer, DATA).result


def fold(text: str) -> str:
    return " ".join(text.casefold().split())


label_text = st.text(st.characters(codec="ascii", categories=("L", "N", "Zs")), min_size=1)


def misspell(draw: st.DrawFn, label: str) -> str:
    """``label`` with one letter dropped, added or changed."""
    at = draw(st.integers(0, len(label)))
    letter = draw(st.sampled_from("aeiostAEIOST "))
    edit = draw(st.sampled_from(["drop", "add", "change"]))
    if edit == "drop":
        return label[:at] + label[at + 1 :]
    return label[:at] + letter + label[at + (edit == "change") :]


@st.composite
def misspellings(draw: st.DrawFn) -> tuple[list[str], str]:
    """A set of labels and one of them misspelt."""
    labels = draw(st.lists(label_text, min_size=2, max_size=6, unique_by=fold))
    return labels, misspell(draw, draw(st.sampled_from(labels)))


@FAST
@given(data=st.data())
def test_misspelt_sentiment_is_read_as_itself_or_refused(data: st.DataObject) -> None:
    label = data.draw(st.sampled_from(["Positive", "Negative", "Neutral"]))
    misspelt = misspell(data.draw, misspell(data.draw, label))
    try:
        read = read_demo({"sentiment": misspelt, "topics": []})
    except ModelOutputError:
        return
    assert read.answer["sentiment"] == label


@FAST
@given(case=misspellings())
def test_near_miss_maps_only_to_the_one_label_within_the_cutoff(
    case: tuple[list[str], str],
) -> None:
    labels, given_text = case
    config = near_config(*labels)
    try:
        read = read_answer_object(config, {"c": given_text}, DATA)
    except ModelOutputError:
        return
    if not read.repairs or not read.repairs[0].endswith("(near miss)"):
        return
    mapped = read.answer["c"]
    close = difflib.get_close_matches(
        fold(given_text), [fold(label) for label in labels], n=len(labels), cutoff=NEAR_MISS_CUTOFF
    )
    assert close == [fold(mapped)]
    assert all(fold(given_text) != fold(label) for label in labels)
