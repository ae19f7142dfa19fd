"""Builders for test data, going through the services as a user would."""

from __future__ import annotations

import io
from typing import Any

import orjson
from sqlalchemy.orm import Session

from prelabel.services.imports import ImportSummary, import_tasks
from prelabel.services.projects import create_project
from prelabel.store import Project

#: LABEL_STUDIO.md §12's example: one control of every supported kind.
ALL_CONTROLS_CONFIG = """<View>
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
</View>"""

SENTIMENT_CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text">
    <Choice value="Positive"/><Choice value="Negative"/>
  </Choices>
</View>"""


def region(from_name: str, type_: str, value: dict[str, Any]) -> dict[str, Any]:
    return {"from_name": from_name, "to_name": "text", "type": type_, "value": value}


def sentiment(label: str) -> list[dict[str, Any]]:
    return [region("sentiment", "choices", {"choices": [label]})]


def make_project(
    session: Session, config: str = SENTIMENT_CONFIG, title: str = "Reviews"
) -> Project:
    return create_project(session, title=title, label_config=config)


def import_json(
    session: Session, project: Project, tasks: Any, *, batch_size: int = 2000
) -> ImportSummary:
    stream = io.BytesIO(orjson.dumps(tasks))
    return import_tasks(session, project, stream, fmt="json", batch_size=batch_size)
