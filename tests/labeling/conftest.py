"""Configs shared by the labeling tests: the LABEL_STUDIO.md §12 example and its task."""

from __future__ import annotations

import pytest

from prelabel.labeling import LabelConfig, parse_label_config

EXAMPLE_XML = """
<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text" choice="single">
    <Choice value="Positive"/><Choice value="Negative"/>
  </Choices>
  <Choices name="topics" toName="text" choice="multiple">
    <Choice value="Sports"/><Choice value="Politics"/>
  </Choices>
  <Labels name="ner" toName="text"><Label value="PER"/><Label value="ORG"/></Labels>
  <TextArea name="comment" toName="text"/>
  <Rating name="rating" toName="text" maxRating="5"/>
  <Number name="num" toName="text" min="0" max="10"/>
  <Taxonomy name="tax" toName="text">
    <Choice value="A"><Choice value="A1"/></Choice><Choice value="B"/>
  </Taxonomy>
</View>
"""


@pytest.fixture(scope="session")
def example() -> LabelConfig:
    """The config LABEL_STUDIO.md §12 uses for every probe: one control of each kind."""
    return parse_label_config(EXAMPLE_XML)


@pytest.fixture(scope="session")
def example_data() -> dict[str, str]:
    """A task for ``example`` whose text holds "Alice" at 0..5, as in the §11 Labels example."""
    return {"text": "Alice works at ACME with Bob; Alice likes it."}
