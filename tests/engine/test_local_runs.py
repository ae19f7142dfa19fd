"""Runs on a local connection: offline predictions with scores, free, embeddings cached."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from prelabel.engine.job import RunOptions
from prelabel.errors import ValidationError
from prelabel.services.connections import add_connection, ensure_local_connection
from prelabel.services.prompts import create_prompt
from prelabel.services.run_execution import execute_run, start_run
from prelabel.services.runs import Baseline
from prelabel.store import CachedEmbedding, Prediction, Store
from tests.engine.conftest import BOX, RUNTIME
from tests.factories import ALL_CONTROLS_CONFIG, import_json, make_project, sentiment
from tests.fakes.llm_server import FakeLLMServer

TEMPLATE = "Positive: good great lovely\nNegative: bad awful broken\nReview: {text}"


def _project_with_ground_truth(store: Store) -> int:
    with store.session() as session:
        project = make_project(session)
        tasks = [
            {"data": {"text": "good great lovely"}, "annotations": [
                {"result": sentiment("Positive"), "ground_truth": True}]},
            {"data": {"text": "bad awful broken"}, "annotations": [
                {"result": sentiment("Negative"), "ground_truth": True}]},
            {"data": {"text": "lovely great good day"}},
            {"data": {"text": "awful bad broken day"}},
        ]  # fmt: skip
        import_json(session, project, tasks)
        return project.id


def test_a_local_run_predicts_with_scores_for_free_and_caches_embeddings(
    store: Store, fake_llm: FakeLLMServer
) -> None:
    project_id = _project_with_ground_truth(store)
    with store.session() as session:
        from prelabel.store import Project

        connection = add_connection(
            session, BOX, name="embeddings", kind="local", base_url=fake_llm.base_url,
            default_model="fake-embeddings",
        )  # fmt: skip
        version = create_prompt(
            session, session.get(Project, project_id), name="p", template=TEMPLATE,
            connection=connection,
        )[1]  # fmt: skip
        run = start_run(session, RUNTIME, version, Baseline.parse("all"), RunOptions())
    ended = execute_run(store, RUNTIME, run.id)

    assert (ended.status, ended.done, ended.cost_usd) == ("Completed", 4, 0.0)
    assert ended.input_tokens > 0 and ended.output_tokens == 0
    with store.session() as session:
        rows = session.execute(
            select(Prediction.task_id, Prediction.result, Prediction.score).order_by(
                Prediction.task_id
            )
        ).all()
        cached = session.scalar(select(func.count()).select_from(CachedEmbedding))
    labels = [result[0]["value"]["choices"][0] for _, result, _ in rows]
    assert labels == ["Positive", "Negative", "Positive", "Negative"]
    assert all(0 < score <= 1 for *_, score in rows)
    assert cached > 0
    embedding_requests = fake_llm.request_count

    with store.session() as session:
        again = start_run(session, RUNTIME, version, Baseline.parse("all"), RunOptions())
    assert execute_run(store, RUNTIME, again.id).status == "Completed"
    assert fake_llm.request_count == embedding_requests, "every text came from the cache"


def test_the_bundled_model_runs_a_project_offline(store: Store) -> None:
    project_id = _project_with_ground_truth(store)
    with store.session() as session:
        from prelabel.store import Project

        version = create_prompt(
            session, session.get(Project, project_id), name="p", template=TEMPLATE,
            connection=ensure_local_connection(session),
        )[1]  # fmt: skip
        run = start_run(session, RUNTIME, version, Baseline.parse("all"), RunOptions())
    ended = execute_run(store, RUNTIME, run.id)

    assert (ended.status, ended.done, ended.failed) == ("Completed", 4, 0)


def test_a_local_version_is_refused_for_controls_it_cannot_answer(store: Store) -> None:
    with store.session() as session:
        project = make_project(session, ALL_CONTROLS_CONFIG)
        with pytest.raises(ValidationError, match="cannot answer the Labels control 'ner'"):
            create_prompt(
                session, project, name="p", template="{text}",
                connection=ensure_local_connection(session),
            )  # fmt: skip


def test_tasks_asked_at_once_are_embedded_in_batches(store: Store, fake_llm: FakeLLMServer) -> None:
    with store.session() as session:
        from prelabel.store import Project

        project = make_project(session)
        import_json(session, project, [{"data": {"text": f"text {n}"}} for n in range(40)])
        connection = add_connection(
            session, BOX, name="embeddings", kind="local", base_url=fake_llm.base_url,
            default_model="fake-embeddings",
        )  # fmt: skip
        version = create_prompt(
            session, session.get(Project, project.id), name="p", template="{text}",
            connection=connection,
        )[1]  # fmt: skip
        run = start_run(session, RUNTIME, version, Baseline.parse("all"), RunOptions())
    fake_llm.latency = 0.05  # so that tasks queue up while a batch is out

    assert execute_run(store, RUNTIME, run.id).done == 40
    sizes = [len(body["input"]) for body in fake_llm.requests]
    assert sum(sizes) >= 40 and len(sizes) < 40 and max(sizes) > 1
