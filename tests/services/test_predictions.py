"""Predictions one at a time: Label Studio's result shorthands, the model versions a prompt
version owns, and how long ago something was made, said the way Label Studio says it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from prelabel.encryption import SecretBox
from prelabel.errors import ResultError, ValidationError
from prelabel.services.connections import add_connection
from prelabel.services.predictions import (
    create_prediction,
    delete_prediction,
    prediction_result,
    prompt_version_named,
    update_prediction,
)
from prelabel.services.projects import project_config
from prelabel.services.prompts import create_prompt
from prelabel.services.serialization import created_ago
from prelabel.store import Project, Task
from tests.factories import (
    ALL_CONTROLS_CONFIG,
    SENTIMENT_CONFIG,
    import_json,
    make_project,
    region,
    sentiment,
)
from tests.invariants import assert_counters_exact


@pytest.fixture
def project(session: Session) -> Project:
    project = make_project(session)
    import_json(session, project, [{"text": "a"}, {"text": "b"}])
    return project


def _task(session: Session, project: Project) -> int:
    return session.scalars(select(Task.id).where(Task.project_id == project.id)).first()


@pytest.mark.parametrize(
    ("config", "result", "expected"),
    [
        pytest.param(SENTIMENT_CONFIG, sentiment("Positive"), sentiment("Positive"), id="list"),
        pytest.param(
            ALL_CONTROLS_CONFIG,
            {"taxonomy": [["A", "A1"]]},
            [region("tax", "taxonomy", {"taxonomy": [["A", "A1"]]})],
            id="object-of-the-control-its-key-names",
        ),
        pytest.param(
            ALL_CONTROLS_CONFIG,
            "Positive",
            [region("sentiment", "choices", {"choices": ["Positive"]})],
            id="string-goes-to-the-first-choices",
        ),
        pytest.param(
            '<View><Text name="text" value="$text"/><TextArea name="note" toName="text"/></View>',
            "free text",
            [region("note", "textarea", {"text": ["free text"]})],
            id="string-goes-to-a-textarea",
        ),
        pytest.param(
            ALL_CONTROLS_CONFIG,
            5,
            [region("rating", "rating", {"rating": 5})],
            id="integer-goes-to-the-first-rating",
        ),
    ],
)
def test_result_shorthands_become_the_regions_label_studio_makes(
    config: str, result: Any, expected: list[dict[str, Any]]
) -> None:
    parsed = project_config(Project(title="t", label_config=config))
    assert prediction_result(parsed, result, {"text": "some text"}) == expected


@pytest.mark.parametrize(
    "result",
    [
        pytest.param("Neutral", id="string-no-choice-knows"),
        pytest.param(9, id="rating-out-of-range"),
        pytest.param({"stars": 3}, id="object-of-no-control"),
    ],
)
def test_a_shorthand_that_fits_no_control_is_a_result_error(result: Any) -> None:
    parsed = project_config(Project(title="t", label_config=ALL_CONTROLS_CONFIG))
    with pytest.raises(ResultError, match="^result: "):
        prediction_result(parsed, result, {"text": "some text"})


def test_prompt_version_named_finds_only_its_projects_version(session: Session) -> None:
    first, second = make_project(session, title="First"), make_project(session, title="Second")
    connection = add_connection(session, SecretBox("s"), name="l", kind="local", default_model="m")
    _, version = create_prompt(
        session, first, name="p", template="{text}", connection=connection, title="v1"
    )
    assert prompt_version_named(session, first.id, "p__v1") == version
    for project, name in ((second, "p__v1"), (first, "p__v2"), (first, "p"), (first, None)):
        assert prompt_version_named(session, project.id, name) is None


def test_create_update_delete_keep_the_counter_and_refuse_without_changing(
    session: Session, project: Project
) -> None:
    task = _task(session, project)
    made = create_prediction(session, task, result="Positive", score=0.5, model_version="m")
    assert made.result == sentiment("Positive")
    assert_counters_exact(session)
    with pytest.raises(ValidationError, match="^result: "):
        update_prediction(session, made, result="Neutral", model_version="other", score=0.1)
    assert (made.model_version, made.score) == ("m", 0.5)
    delete_prediction(session, made)
    assert session.get(Task, task).total_predictions == 0
    assert_counters_exact(session)


NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("ago", "said"),
    [
        (timedelta(0), "0 minutes"),
        (timedelta(seconds=-30), "0 minutes"),
        (timedelta(seconds=59), "0 minutes"),
        (timedelta(minutes=1), "1 minute"),
        (timedelta(hours=2, minutes=5, seconds=9), "2 hours, 5 minutes"),
        (timedelta(days=1), "1 day"),
        (timedelta(days=9, hours=3), "1 week, 2 days"),
        (timedelta(days=400), "1 year, 1 month"),
    ],
)
def test_created_ago_names_the_two_largest_units(ago: timedelta, said: str) -> None:
    assert created_ago(NOW - ago, NOW) == said
