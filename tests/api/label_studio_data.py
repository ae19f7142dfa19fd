"""Builders for the tests of the predictions, annotations, model versions and actions
endpoints: projects with tasks, and prompt versions with their predictions, made through the
services (the endpoints under test are what the tests call)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from prelabel.encryption import SecretBox
from prelabel.services.connections import add_connection
from prelabel.services.prompts import create_prompt
from prelabel.store import Prediction, Project, Store, Task
from prelabel.store.models import model_version_name
from tests.factories import SENTIMENT_CONFIG, import_json, make_project, sentiment


def seed_project(
    store: Store,
    tasks: list[dict[str, Any]],
    *,
    config: str = SENTIMENT_CONFIG,
    title: str = "Reviews",
) -> tuple[int, list[int]]:
    """A project holding ``tasks`` (Label Studio import shape); its id and its task ids."""
    with store.session() as session:
        project = make_project(session, config, title=title)
        import_json(session, project, tasks)
        ids = session.scalars(
            select(Task.id).where(Task.project_id == project.id).order_by(Task.id)
        )
        return project.id, list(ids)


def prediction(label: str, version: str, score: float | None = None) -> dict[str, Any]:
    return {"result": sentiment(label), "model_version": version, "score": score}


def add_prompt_version(store: Store, project_id: int, name: str = "p") -> tuple[int, str]:
    """A prompt of the project, on a local connection; its version's id and model_version."""
    with store.session() as session:
        connection = add_connection(
            session, SecretBox("s"), name=f"local-{name}", kind="local", default_model="m"
        )
        prompt, version = create_prompt(
            session,
            session.get(Project, project_id),
            name=name,
            template="{text}",
            connection=connection,
        )
        return version.id, model_version_name(prompt.name, version.title)


def add_prompt_prediction(store: Store, version: tuple[int, str], task_id: int, label: str) -> int:
    """The prediction a run of ``version`` (id, model_version) would write for the task."""
    version_id, model_version = version
    with store.session() as session:
        task = session.get(Task, task_id)
        made = Prediction(
            task_id=task.id,
            project_id=task.project_id,
            result=sentiment(label),
            model_version=model_version,
            prompt_version_id=version_id,
            input_tokens=10,
            output_tokens=2,
            cost_usd=0.001,
            latency_ms=120.0,
            repairs=[],
        )
        session.add(made)
        task.total_predictions += 1
        session.flush()
        return made.id
