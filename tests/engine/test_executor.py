"""Executing runs against the fake LLM server: one validated prediction per task, failures
recorded by kind, retries, the cache, the budget cap and the run's end states."""

from __future__ import annotations

import re
import threading
import time
from typing import Any

import pytest
from sqlalchemy import select

from prelabel.engine.job import RunOptions
from prelabel.errors import ConflictError
from prelabel.services.connections import add_connection
from prelabel.services.prompts import create_prompt
from prelabel.services.run_execution import execute_run, start_run
from prelabel.services.runs import Baseline, cancel_run, resume_run, retry_failed
from prelabel.store import Prediction, Project, Run, RunTask, Store
from tests.engine.conftest import BOX, RUNTIME, Factory, predictions_per_task, states
from tests.fakes.llm_server import FakeLLMServer, Fault, request_schema


def _by_parity(body: dict[str, Any]) -> object:
    """Positive for even review numbers, Negative for odd: each answer depends on its task."""
    assert request_schema(body) is not None
    number = int(re.findall(r"review number (\d+)", body["messages"][-1]["content"])[0])
    return {"sentiment": "Positive" if number % 2 == 0 else "Negative"}


def _labels(store: Store, version_id: int) -> dict[str, str]:
    with store.session() as session:
        rows = session.execute(
            select(Prediction.result, RunTask.task_id)
            .join(RunTask, RunTask.task_id == Prediction.task_id)
            .where(Prediction.prompt_version_id == version_id)
        ).all()
    return {task_id: result[0]["value"]["choices"][0] for result, task_id in rows}


def _failures(store: Store, run_id: int) -> list[tuple[str | None, int]]:
    with store.session() as session:
        rows = session.execute(
            select(RunTask.failure_kind, RunTask.attempts)
            .where(RunTask.run_id == run_id, RunTask.status == "failed")
            .order_by(RunTask.task_id)
        ).all()
    return [tuple(row) for row in rows]


def test_a_run_predicts_every_task_once_and_counts_tokens_and_cost(
    store: Store, run_version: Factory, fake_llm: FakeLLMServer
) -> None:
    fake_llm.responder = _by_parity
    run = run_version("all", concurrency=8)

    assert (run.status, run.total, run.done, run.failed, run.error) == (
        "Completed",
        30,
        30,
        0,
        None,
    )
    with store.session() as session:
        assert set(predictions_per_task(session, run.prompt_version_id).values()) == {1}
        assert states(session, run.id) == {"done": 30}
        predictions = session.scalars(select(Prediction).order_by(Prediction.task_id)).all()
    assert {p.model_version for p in predictions} == {"p__v1"}
    assert {p.run_id for p in predictions} == {run.id}
    labels = [p.result[0]["value"]["choices"][0] for p in predictions]
    assert labels == ["Positive", "Negative"] * 15, "each answer lands on its own task"
    assert run.input_tokens == sum(p.input_tokens for p in predictions) > 0
    assert run.cost_usd == pytest.approx((run.input_tokens + run.output_tokens) / 1e6)
    assert all(p.latency_ms is not None and p.latency_ms >= 0 for p in predictions)
    assert run.started_at is not None and run.finished_at >= run.started_at
    assert fake_llm.request_count == 30


def test_concurrency_limits_the_requests_in_flight(
    run_version: Factory, fake_llm: FakeLLMServer
) -> None:
    fake_llm.latency = 0.1
    run_version("all", concurrency=5)

    assert fake_llm.max_in_flight == 5


def test_usage_missing_from_answers_is_estimated(
    run_version: Factory, fake_llm: FakeLLMServer
) -> None:
    fake_llm.usage = False
    run = run_version("all")

    assert run.status == "Completed"
    assert run.input_tokens > 30 and run.output_tokens >= 30
    assert run.cost_usd > 0


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param(Fault("rate_limit", retry_after=0.05), id="429-retry-after"),
        pytest.param(Fault("rate_limit"), id="429-no-retry-after"),
        pytest.param(Fault("server_error"), id="500"),
        pytest.param(Fault("timeout"), id="timeout"),
    ],
)
def test_passing_faults_are_retried_and_the_task_succeeds(
    store: Store, run_version: Factory, fake_llm: FakeLLMServer, fault: Fault
) -> None:
    fake_llm.script(fault, fault)
    run = run_version("all", concurrency=1, timeout=1.0)

    assert (run.status, run.done, run.failed) == ("Completed", 30, 0)
    assert fake_llm.request_count == 32
    with store.session() as session:
        attempts = session.scalars(
            select(RunTask.attempts).where(RunTask.run_id == run.id).order_by(RunTask.task_id)
        ).all()
    assert attempts[:2] == [3, 1] and set(attempts[2:]) == {1}


def test_a_task_whose_retries_run_out_fails_with_the_kind_of_its_last_error(
    store: Store, run_version: Factory, fake_llm: FakeLLMServer
) -> None:
    fake_llm.script(*[Fault("server_error")] * 3)
    run = run_version("all", concurrency=1, max_attempts=3)

    assert (run.status, run.done, run.failed) == ("Completed", 29, 1)
    assert _failures(store, run.id) == [("provider_error", 3)]


@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        pytest.param("malformed", "invalid_output", id="malformed-json"),
        pytest.param("off_schema", "invalid_output", id="off-schema-label"),
        pytest.param("truncated", "invalid_output", id="truncated"),
        pytest.param("refusal", "refusal", id="refusal"),
        pytest.param("bad_request", "bad_request", id="400"),
    ],
)
def test_answers_that_cannot_be_used_fail_the_task_without_a_retry_or_a_prediction(
    store: Store, run_version: Factory, fake_llm: FakeLLMServer, fault: str, kind: str
) -> None:
    fake_llm.script(Fault(fault))  # type: ignore[arg-type]
    run = run_version("all", concurrency=1)

    assert (run.status, run.done, run.failed, run.error) == ("Completed", 29, 1, None)
    assert fake_llm.request_count == 30
    assert _failures(store, run.id) == [(kind, 1)]
    with store.session() as session:
        failed = session.scalars(select(RunTask).where(RunTask.status == "failed")).one()
        assert failed.failure_message
        assert failed.task_id not in predictions_per_task(session, run.prompt_version_id)
        if fault == "truncated":
            assert "cut off at max_tokens" in failed.failure_message
        if kind == "invalid_output":
            assert failed.raw_excerpt, "the raw answer is kept for review"


def test_a_refused_key_stops_the_run_and_fails_it_with_the_reason(
    store: Store, run_version: Factory, fake_llm: FakeLLMServer
) -> None:
    fake_llm.fail_randomly(1.0, ["auth"], seed=1)
    run = run_version("all", concurrency=2)

    assert run.status == "Failed"
    assert "refused the API key" in run.error and "sk-test" not in run.error
    assert (run.done, run.failed) == (0, 0)
    assert fake_llm.request_count <= 2, "no task is tried once the key is known to be wrong"
    with store.session() as session:
        assert states(session, run.id) == {"pending": 30}


def test_the_budget_stops_the_run_before_passing_it_and_resuming_with_more_finishes(
    store: Store, run_version: Factory, fake_llm: FakeLLMServer
) -> None:
    budget = 0.0009  # about 10 tasks at $1 per million tokens
    run = run_version("all", concurrency=2, budget_usd=budget)

    assert run.status == "Canceled" and "budget" in run.error
    assert 0 < run.done < 30 and run.cost_usd <= budget
    with store.session() as session:
        resumed = resume_run(
            session,
            session.get(Run, run.id),
            RunOptions.from_json(run.options).replace(budget_usd=1.0),
        )
    finished = execute_run(store, RUNTIME, resumed.id)
    assert (finished.status, finished.done) == ("Completed", 30)
    assert fake_llm.request_count == 30, "no task was asked twice"
    with store.session() as session:
        assert set(predictions_per_task(session, run.prompt_version_id).values()) == {1}


def test_the_cache_answers_a_repeated_run_for_free_unless_disabled(
    store: Store, run_version: Factory, fake_llm: FakeLLMServer
) -> None:
    first = run_version("all")
    with store.session() as session:
        before = dict(session.execute(select(Prediction.task_id, Prediction.id)).all())

    second = run_version("all")

    assert (second.status, second.done) == ("Completed", 30)
    assert fake_llm.request_count == 30, "the second run made no request"
    assert second.cost_usd == 0 and second.input_tokens == first.input_tokens
    with store.session() as session:
        rows = session.execute(select(Prediction.task_id, Prediction.id, Prediction.run_id))
        assert {task: (id_, run) for task, id_, run in rows} == {
            task: (id_, second.id) for task, id_ in before.items()
        }, "each prediction was replaced in place by the new run's"

    third = run_version("all", cache=False)
    assert third.status == "Completed" and fake_llm.request_count == 60


def test_a_failed_call_keeps_the_task_previous_prediction(
    store: Store, run_version: Factory, fake_llm: FakeLLMServer
) -> None:
    first = run_version("all")
    fake_llm.fail_randomly(1.0, ["bad_request"], seed=1)

    second = run_version("all", cache=False)

    assert (second.done, second.failed) == (0, 30)
    with store.session() as session:
        assert set(session.scalars(select(Prediction.run_id))) == {first.id}
        assert set(predictions_per_task(session, first.prompt_version_id).values()) == {1}


def test_retry_failed_runs_only_the_failed_tasks(
    store: Store, run_version: Factory, fake_llm: FakeLLMServer
) -> None:
    fake_llm.fail_randomly(0.3, ["off_schema"], seed=3)
    run = run_version("all", concurrency=4)
    assert run.status == "Completed" and run.failed > 0
    failed = run.failed
    fake_llm.reset()

    with store.session() as session:
        retried = retry_failed(session, session.get(Run, run.id))
        assert (retried.status, retried.failed) == ("Pending", 0)
    finished = execute_run(store, RUNTIME, run.id)

    assert (finished.status, finished.done, finished.failed) == ("Completed", 30, 0)
    assert fake_llm.request_count == failed
    with store.session() as session:
        assert set(predictions_per_task(session, run.prompt_version_id).values()) == {1}


def test_a_canceled_run_stops_and_resumes_where_it_stopped(
    store: Store, run_version: Factory, fake_llm: FakeLLMServer
) -> None:
    fake_llm.latency = 0.05
    ended: list[Run] = []
    worker = threading.Thread(target=lambda: ended.append(run_version("all", concurrency=2)))
    worker.start()
    run_id, done = None, 0
    while run_id is None or done < 4:
        time.sleep(0.02)
        with store.session() as session:
            run = session.scalars(select(Run)).first()
            run_id, done = (run.id, run.done) if run else (None, 0)
    with store.session() as session:
        cancel_run(session, session.get(Run, run_id))
    worker.join()

    canceled = ended[0]
    assert canceled.status == "Canceled" and canceled.done < 30
    with store.session() as session:
        assert states(session, run_id).get("pending", 0) == 30 - canceled.done
        with pytest.raises(ConflictError, match="only a Pending or Running run"):
            cancel_run(session, session.get(Run, run_id))
        resume_run(session, session.get(Run, run_id))
    finished = execute_run(store, RUNTIME, run_id)

    assert (finished.status, finished.done, finished.failed) == ("Completed", 30, 0)
    with store.session() as session:
        assert set(predictions_per_task(session, finished.prompt_version_id).values()) == {1}
        assert len(predictions_per_task(session, finished.prompt_version_id)) == 30


def test_a_running_run_cannot_be_executed_twice(store: Store, run_version: Factory) -> None:
    run = run_version("ids:1")
    with pytest.raises(ConflictError, match="Completed"):
        execute_run(store, RUNTIME, run.id)


def test_an_anthropic_connection_runs_through_tool_use(
    store: Store, project: Project, fake_llm: FakeLLMServer
) -> None:
    with store.session() as session:
        connection = add_connection(
            session,
            BOX,
            name="claude",
            kind="anthropic",
            base_url=fake_llm.anthropic_base_url,
            api_key="sk-ant-test",
            default_model="claude-test",
        )
        version = create_prompt(
            session, project, name="c", template="Review: {text}", connection=connection
        )[1]
        run = start_run(session, RUNTIME, version, Baseline.parse("sample:5"), RunOptions())
    ended = execute_run(store, RUNTIME, run.id)

    assert (ended.status, ended.done) == ("Completed", 5)
    assert all(body.get("tool_choice") for body in fake_llm.requests)
    with store.session() as session:
        names = set(session.scalars(select(Prediction.model_version)))
    assert names == {"c__v1"}
