"""Prompts and versions: save deletes a version's predictions, save-as and renames keep them."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from prelabel.encryption import SecretBox
from prelabel.errors import ConflictError, TemplateError, ValidationError
from prelabel.services.connections import add_connection
from prelabel.services.prompts import (
    create_prompt,
    delete_prompt,
    delete_version,
    model_version_name,
    rename_prompt,
    rename_version,
    save_version,
    save_version_as,
)
from prelabel.store import Prediction, Project, PromptVersion, ProviderConnection, Task
from tests.factories import import_json, make_project, sentiment


@pytest.fixture
def connection(session: Session) -> ProviderConnection:
    return add_connection(
        session, SecretBox("s"), name="local", kind="local", default_model="embedded"
    )


@pytest.fixture
def project(session: Session) -> Project:
    project = make_project(session)
    import_json(session, project, [{"text": "good"}, {"text": "bad"}])
    return project


def _predict(session: Session, project: Project, version: PromptVersion, name: str) -> None:
    """Stand-in for a run's output: one prediction of ``version`` per task, counters kept."""
    for task in session.scalars(select(Task).where(Task.project_id == project.id)):
        session.add(
            Prediction(
                task_id=task.id,
                project_id=project.id,
                result=sentiment("Positive"),
                model_version=name,
                prompt_version_id=version.id,
            )
        )
        task.total_predictions += 1
    session.flush()


def test_create_prompt_makes_its_first_version_with_the_connection_default_model(
    session: Session, project: Project, connection: ProviderConnection
) -> None:
    prompt, version = create_prompt(
        session,
        project,
        name="sentiment",
        template="Review: {text}",
        connection=connection,
        parameters={"temperature": 0, "seed": 7},
    )
    assert (version.title, version.model, version.parameters) == (
        "v1",
        "embedded",
        {"temperature": 0.0, "seed": 7},
    )
    assert model_version_name(prompt.name, version.title) == "sentiment__v1"


def test_save_deletes_the_version_predictions_and_fixes_counters(
    session: Session, project: Project, connection: ProviderConnection
) -> None:
    prompt, version = create_prompt(
        session, project, name="p", template="{text}", connection=connection
    )
    other = save_version_as(session, version, title="v2")
    _predict(session, project, version, "p__v1")
    _predict(session, project, other, "p__v2")
    saved = save_version(session, version, template="Classify: {text}")
    assert saved.deleted_predictions == 2
    assert version.template == "Classify: {text}"
    versions = session.scalars(select(Prediction.model_version)).all()
    assert versions == ["p__v2", "p__v2"]
    counters = session.scalars(select(Task.total_predictions)).all()
    assert counters == [1, 1]


def test_renaming_prompt_and_version_renames_their_predictions(
    session: Session, project: Project, connection: ProviderConnection
) -> None:
    prompt, version = create_prompt(
        session, project, name="p", template="{text}", connection=connection
    )
    _predict(session, project, version, "p__v1")
    rename_prompt(session, prompt, "sentiment")
    rename_version(session, version, "baseline")
    assert set(session.scalars(select(Prediction.model_version))) == {"sentiment__baseline"}


def test_the_projects_chosen_model_version_follows_renames_and_is_forgotten_on_delete(
    session: Session, project: Project, connection: ProviderConnection
) -> None:
    prompt, first = create_prompt(
        session, project, name="p", template="{text}", connection=connection
    )
    second = save_version_as(session, first, title="v2")
    project.model_version = "p__v1"
    rename_prompt(session, prompt, "sentiment")
    rename_version(session, first, "baseline")
    session.refresh(project)
    assert project.model_version == "sentiment__baseline"
    delete_version(session, second)
    assert project.model_version == "sentiment__baseline", "another version's delete"
    delete_prompt(session, prompt)
    session.refresh(project)
    assert project.model_version is None


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        pytest.param({"template": "{txt}"}, TemplateError, "txt", id="unknown-variable"),
        pytest.param({"template": "{text"}, TemplateError, "brace", id="unbalanced-brace"),
        pytest.param({"name": "a__b"}, ValidationError, "__", id="double-underscore-name"),
        pytest.param({"parameters": {"temperature": 3}}, ValidationError, "between", id="temp"),
        pytest.param({"parameters": {"top_k": 3}}, ValidationError, "unknown", id="param"),
        pytest.param({"parameters": {"max_tokens": 1.5}}, ValidationError, "int", id="tokens"),
    ],
)
def test_invalid_prompt_is_refused(
    session: Session,
    project: Project,
    connection: ProviderConnection,
    changes: dict[str, object],
    error: type[Exception],
    message: str,
) -> None:
    options = {"name": "p", "template": "{text}", **changes}
    with pytest.raises(error, match=message):
        create_prompt(session, project, connection=connection, **options)  # type: ignore[arg-type]


def test_duplicate_prompt_names_and_version_titles_conflict(
    session: Session, project: Project, connection: ProviderConnection
) -> None:
    _, version = create_prompt(session, project, name="p", template="{text}", connection=connection)
    with pytest.raises(ConflictError):
        create_prompt(session, project, name="p", template="{text}", connection=connection)
    with pytest.raises(ConflictError):
        save_version_as(session, version, title="v1")
