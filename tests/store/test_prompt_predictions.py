"""The schema's guarantees for prompt predictions: at most one per prompt version and task."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from prelabel.store import Prediction, Prompt, PromptVersion, ProviderConnection, Store, Task
from tests.factories import import_json, make_project, sentiment


@pytest.fixture
def version_and_task(store: Store) -> tuple[int, int, int]:
    with store.session() as session:
        project = make_project(session)
        import_json(session, project, [{"text": "x"}])
        connection = ProviderConnection(name="local", kind="local")
        session.add(connection)
        session.flush()
        prompt = Prompt(project_id=project.id, name="p")
        session.add(prompt)
        session.flush()
        version = PromptVersion(
            prompt_id=prompt.id,
            title="v1",
            template="{text}",
            connection_id=connection.id,
            model="m",
        )
        session.add(version)
        session.flush()
        task_id = session.scalar(select(Task.id))
        return project.id, version.id, task_id


def _prediction(project_id: int, task_id: int, version_id: int | None) -> Prediction:
    return Prediction(
        project_id=project_id,
        task_id=task_id,
        result=sentiment("Positive"),
        model_version="p__v1",
        prompt_version_id=version_id,
    )


def test_second_prediction_of_a_prompt_version_for_a_task_is_refused(
    store: Store, version_and_task: tuple[int, int, int]
) -> None:
    project_id, version_id, task_id = version_and_task
    with store.session() as session:
        session.add(_prediction(project_id, task_id, version_id))
    with pytest.raises(IntegrityError), store.session() as session:
        session.add(_prediction(project_id, task_id, version_id))
        session.flush()


def test_predictions_without_a_prompt_version_may_repeat(
    store: Store, version_and_task: tuple[int, int, int]
) -> None:
    project_id, _, task_id = version_and_task
    with store.session() as session:
        session.add_all([_prediction(project_id, task_id, None) for _ in range(2)])
    with store.session() as session:
        assert session.scalar(select(func.count(Prediction.id))) == 2


def test_deleting_a_prompt_version_deletes_its_predictions(
    store: Store, version_and_task: tuple[int, int, int]
) -> None:
    project_id, version_id, task_id = version_and_task
    with store.session() as session:
        session.add_all(
            [_prediction(project_id, task_id, version_id), _prediction(project_id, task_id, None)]
        )
    with store.session() as session:
        session.delete(session.get(PromptVersion, version_id))
    with store.session() as session:
        assert session.scalars(select(Prediction.prompt_version_id)).all() == [None]
