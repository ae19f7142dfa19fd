"""The system message stating a config's task, and the messages built for one task."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import pytest

from prelabel.errors import TemplateError
from prelabel.labeling import Control, LabelConfig, parse_label_config
from prelabel.prompting.instructions import Messages, build_messages, system_message
from prelabel.prompting.template import parse_template

EVERY_KIND_CONFIG = """<View>
  <Image name="photo" value="$image"/>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text" choice="single">
    <Choice value="Positive" alias="POS" hint="the customer is satisfied"/>
    <Choice value="Negative" hint="the customer
      complains"/>
  </Choices>
  <Choices name="topics" toName="text" choice="multiple">
    <Choice value="Sports"/><Choice value="Politics" hint="elections, laws"/>
  </Choices>
  <Labels name="ner" toName="text">
    <Label value="PER" hint="a person"/><Label value="ORG"/>
  </Labels>
  <TextArea name="summary" toName="text"/>
  <Rating name="stars" toName="text" maxRating="10"/>
  <Number name="price" toName="text" min="0" max="99.5"/>
  <Taxonomy name="tax" toName="text" pathSeparator=" > ">
    <Choice value="Animal"><Choice value="Cat" hint="felines"/></Choice><Choice value="Plant"/>
  </Taxonomy>
  <Choices name="pic" toName="photo"><Choice value="Indoor"/><Choice value="Outdoor"/></Choices>
</View>"""


@pytest.fixture(scope="module")
def every_kind() -> LabelConfig:
    return parse_label_config(EVERY_KIND_CONFIG)


@pytest.fixture(scope="module")
def message(every_kind: LabelConfig) -> str:
    return system_message(every_kind)


def single_text(controls: str) -> LabelConfig:
    return parse_label_config(f'<View><Text name="text" value="$text"/>{controls}</View>')


def test_system_message_of_a_small_choices_config_reads_exactly() -> None:
    config = single_text(
        '<Choices name="sentiment" toName="text">'
        '<Choice value="Positive" hint="the reviewer liked it"/>'
        '<Choice value="Negative" alias="NEG"/>'
        "</Choices>"
    )
    assert system_message(config) == (
        "You label data for a Label Studio project. The user message holds one task; "
        "answer every field below about it.\n"
        "\n"
        '"sentiment": exactly one of these choices; the closest one when none fits exactly.\n'
        "- Positive: the reviewer liked it\n"
        "- NEG (Negative)\n"
        "\n"
        'Answer with one JSON object matching the schema, with exactly these keys: "sentiment".'
    )


@pytest.mark.parametrize(
    "fact",
    [
        pytest.param("You label data for a Label Studio project.", id="role"),
        pytest.param('The image "photo" is not shown to you', id="image-not-shown"),
        pytest.param('"sentiment" (about "text"): exactly one of these choices', id="single"),
        pytest.param("- POS (Positive): the customer is satisfied\n", id="alias-and-hint"),
        pytest.param("- Negative: the customer complains\n", id="hint-on-one-line"),
        pytest.param(
            '"topics" (about "text"): a list of every choice below that applies; '
            "[] when none does.\n- Sports\n- Politics: elections, laws",
            id="multiple",
        ),
        pytest.param('"ner" (about "text"): a list of spans', id="spans"),
        pytest.param('"text" is the entity exactly as it appears in the text', id="exact-text"),
        pytest.param(
            '"occurrence" is 1, 2, ... for which appearance of that text you mean when the same '
            "text appears more than once, else null.",
            id="occurrence",
        ),
        pytest.param("- PER: a person\n- ORG\n", id="labels"),
        pytest.param('"summary" (about "text"): free text; null when there is none.', id="text"),
        pytest.param("a whole number from 1 to 10; null when unknown.", id="rating"),
        pytest.param("a number between 0 and 99.5; null when unknown.", id="number"),
        pytest.param('joined by " > "; [] when none does.', id="taxonomy-separator"),
        pytest.param("- Animal\n- Animal > Cat: felines\n- Plant\n", id="taxonomy-paths"),
        pytest.param('"pic" (about "photo"): exactly one', id="image-control"),
        pytest.param(
            'Answer with one JSON object matching the schema, with exactly these keys: "sentiment"'
            ', "topics", "ner", "summary", "stars", "price", "tax", "pic".',
            id="keys",
        ),
    ],
)
def test_system_message_states_every_control_of_the_config(message: str, fact: str) -> None:
    assert fact in message


def test_system_message_lists_controls_in_config_order(message: str) -> None:
    names = ["sentiment", "topics", "ner", "summary", "stars", "price", "tax", "pic"]
    positions = [message.index(f'\n"{name}"') for name in names]
    assert positions == sorted(positions)


def test_system_message_is_deterministic(every_kind: LabelConfig, message: str) -> None:
    assert system_message(every_kind) == message
    assert system_message(parse_label_config(EVERY_KIND_CONFIG)) == message


@pytest.mark.parametrize(
    ("attributes", "words"),
    [
        pytest.param('min="1" max="5"', "a number between 1 and 5;", id="both"),
        pytest.param('min="-2.5"', "a number of at least -2.5;", id="min"),
        pytest.param('max="1e300"', "a number of at most 1e+300;", id="max"),
        pytest.param("", "a number; null when unknown.", id="unbounded"),
    ],
)
def test_system_message_states_number_bounds(attributes: str, words: str) -> None:
    config = single_text(f'<Number name="n" toName="text" {attributes}/>')
    assert words in system_message(config)


def test_system_message_lists_only_leaf_paths_of_a_leafs_only_taxonomy() -> None:
    config = single_text(
        '<Taxonomy name="t" toName="text" leafsOnly="true">'
        '<Choice value="A"><Choice value="A1" alias="a-one" hint="first"/></Choice>'
        '<Choice value="B"/></Taxonomy>'
    )
    assert system_message(config).endswith(
        "\n- A / a-one (A1): first\n- B\n\nAnswer with one JSON object matching the schema, "
        'with exactly these keys: "t".'
    )


def test_system_message_names_no_object_when_the_config_has_one() -> None:
    message = system_message(single_text('<TextArea name="c" toName="text"/>'))
    assert '"c": free text' in message
    assert "about" not in message.split("\n\n")[1]
    assert "not shown" not in message


def test_system_message_quotes_names_as_json_strings() -> None:
    message = system_message(single_text('<TextArea name="say &quot;hi&quot;" toName="text"/>'))
    assert '"say \\"hi\\"": free text' in message


def test_system_message_states_a_new_control_kind_by_its_schema_description() -> None:
    @dataclass(frozen=True)
    class Slider(Control):
        tag: ClassVar[str] = "Slider"

        def schema(self) -> dict[str, Any]:
            return {"type": "number", "description": "A position from 0 to 1."}

    base = single_text('<TextArea name="s" toName="text"/>')
    config = LabelConfig(base.xml, base.objects, {"s": Slider(name="s", to_name=("text",))})
    assert '"s": A position from 0 to 1.' in system_message(config)


def test_build_messages_sends_the_system_message_and_the_rendered_template(
    every_kind: LabelConfig,
) -> None:
    template = parse_template("Review: {text}\n{{photo}}: {image}")
    data = {"text": "Bon 😀", "image": "s3://a.png"}
    messages = build_messages(every_kind, template, data)
    assert messages == Messages(
        system=system_message(every_kind), user="Review: Bon 😀\n{photo}: s3://a.png"
    )
    assert messages.as_openai() == [
        {"role": "system", "content": messages.system},
        {"role": "user", "content": "Review: Bon 😀\n{photo}: s3://a.png"},
    ]


def test_build_messages_raises_template_error_when_the_task_lacks_a_field(
    every_kind: LabelConfig,
) -> None:
    with pytest.raises(TemplateError, match='task data has no "text"'):
        build_messages(every_kind, parse_template("{text}"), {"image": "x"})
