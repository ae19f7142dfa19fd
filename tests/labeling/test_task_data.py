"""Task data against a config: which data fits each object, and the text a model is shown."""

from __future__ import annotations

import pytest

from prelabel.errors import TaskDataError
from prelabel.labeling import LabelConfig, parse_label_config


@pytest.fixture(scope="module")
def config() -> LabelConfig:
    return parse_label_config(
        "<View>"
        '<Text name="title" value="Read this:"/>'
        '<Text name="text" value="$text"/>'
        '<Text name="lang" value="$meta.lang"/>'
        '<HyperText name="html" value="$html"/>'
        '<Paragraphs name="chat" value="$dialogue"/>'
        '<Image name="img" value="$image"/>'
        '<TextArea name="c" toName="text"/>'
        "</View>"
    )


VALID = {
    "text": "Hello",
    "meta": {"lang": "en"},
    "html": "<p>Hi</p>",
    "dialogue": [{"author": "Ann", "text": "Hi"}, {"author": "Bob", "text": "Hello"}],
    "image": "https://example.com/a.png",
}


def test_valid_task_data_passes(config: LabelConfig) -> None:
    config.check_task_data(VALID)


@pytest.mark.parametrize("text", [pytest.param(7, id="int"), pytest.param(2.5, id="float")])
def test_text_object_accepts_numbers_and_shows_them_as_text(
    config: LabelConfig, text: object
) -> None:
    data = {**VALID, "text": text}
    config.check_task_data(data)
    assert config.text_of("text", data) == str(text)


def test_extra_data_keys_are_allowed(config: LabelConfig) -> None:
    config.check_task_data({**VALID, "id_in_source": 12, "notes": None})


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param(["Hello"], "task data must be an object, got array", id="not-an-object"),
        pytest.param(
            {k: v for k, v in VALID.items() if k != "text"},
            'task data is missing "text"',
            id="missing-field",
        ),
        pytest.param(
            {**VALID, "meta": {}}, 'task data is missing "meta.lang"', id="missing-nested"
        ),
        pytest.param(
            {**VALID, "meta": "en"},
            'task data is missing "meta.lang"',
            id="nested-parent-not-object",
        ),
        pytest.param(
            {**VALID, "text": {"body": "x"}},
            '"text" must be a string or a number, got object',
            id="text-object",
        ),
        pytest.param(
            {**VALID, "text": True},
            '"text" must be a string or a number, got boolean',
            id="text-bool",
        ),
        pytest.param(
            {**VALID, "text": None}, '"text" must be a string or a number, got null', id="text-null"
        ),
        pytest.param(
            {**VALID, "html": 3}, '"html" must be a string, got number', id="hypertext-number"
        ),
        pytest.param(
            {**VALID, "image": ["a"]}, '"image" must be a string, got array', id="image-list"
        ),
        pytest.param(
            {**VALID, "dialogue": "Ann: hi"},
            '"dialogue" must be a list of objects, got string',
            id="paragraphs-string",
        ),
        pytest.param(
            {**VALID, "dialogue": [{"text": "hi"}, "Bob: hi"]},
            '"dialogue" item 1 must be an object, got string',
            id="paragraphs-item",
        ),
    ],
)
def test_task_data_that_does_not_fit_is_refused_naming_the_field(
    config: LabelConfig, data: object, message: str
) -> None:
    with pytest.raises(TaskDataError) as caught:
        config.check_task_data(data)
    assert caught.value.message == message


def test_text_of_each_object_kind(config: LabelConfig) -> None:
    texts = {name: config.text_of(name, VALID) for name in config.objects}
    assert texts == {
        "title": "Read this:",
        "text": "Hello",
        "lang": "en",
        "html": "<p>Hi</p>",
        "chat": "Ann: Hi\nBob: Hello",
        "img": None,
    }


def test_paragraphs_text_uses_name_and_text_keys_and_tolerates_missing_speaker() -> None:
    config = parse_label_config(
        '<View><Paragraphs name="chat" value="$d" nameKey="who" textKey="says"/>'
        '<TextArea name="c" toName="chat"/></View>'
    )
    data = {"d": [{"who": "Ann", "says": "Hi"}, {"says": "(silence)"}, {"who": "Bob"}]}
    assert config.text_of("chat", data) == "Ann: Hi\n(silence)\nBob: "


def test_text_of_raises_task_data_error_when_the_data_does_not_fit(config: LabelConfig) -> None:
    with pytest.raises(TaskDataError, match='task data is missing "html"'):
        config.text_of("html", {"text": "Hello"})
