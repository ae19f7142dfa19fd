"""Run estimates: every prompt counted, output sizes from history once there is some."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from prelabel.encryption import SecretBox
from prelabel.engine.estimates import TokenRange, answer_tokens
from prelabel.engine.records import Predicted, record_batch
from prelabel.labeling import parse_label_config
from prelabel.services.connections import add_connection
from prelabel.services.prompts import create_prompt
from prelabel.services.run_estimates import MIN_HISTORY, estimate_run
from prelabel.services.runs import Baseline, create_run
from prelabel.store import Project, PromptVersion, Task
from tests.engine.conftest import RUNTIME, reviews
from tests.factories import SENTIMENT_CONFIG, import_json, make_project, sentiment


def _version(session: Session) -> tuple[Project, PromptVersion]:
    project = make_project(session)
    import_json(session, project, reviews(10))
    connection = add_connection(
        session,
        SecretBox("s"),
        name="fake",
        kind="openai",
        base_url="http://127.0.0.1:9/v1",
        default_model="fake-model",
    )
    version = create_prompt(
        session, project, name="p", template="Review: {text}", connection=connection
    )[1]
    return project, version


def test_an_estimate_counts_each_prompt_and_bounds_output_by_the_schema(session: Session) -> None:
    _, version = _version(session)

    estimate = estimate_run(session, RUNTIME, version, Baseline.parse("sample:4:1"))

    assert estimate.tasks == 4 and estimate.output_basis == "schema"
    per_answer = answer_tokens(parse_label_config(SENTIMENT_CONFIG).answer_schema())
    assert estimate.output_tokens.expected == 4 * per_answer.expected
    assert estimate.input_tokens.low < estimate.input_tokens.expected < estimate.input_tokens.high
    low, expected, high = estimate.cost_usd
    assert low < expected < high
    assert expected == pytest.approx(
        (estimate.input_tokens.expected + estimate.output_tokens.expected) / 1e6
    )


def test_output_sizes_come_from_the_version_history_once_it_has_enough(session: Session) -> None:
    _, version = _version(session)
    run = create_run(session, version, Baseline.parse("all"))
    first = list(session.scalars(select(Task.id).order_by(Task.id)))[:MIN_HISTORY]
    record_batch(
        session,
        run,
        [
            Predicted(task, sentiment("Positive"), output_tokens=3 + 2 * n)
            for n, task in enumerate(first)
        ],
    )
    run.status = "Completed"
    session.flush()

    estimate = estimate_run(session, RUNTIME, version, Baseline.parse("all"))

    assert estimate.output_basis == "history"
    assert estimate.output_tokens == TokenRange(3 * 10, 7 * 10, 11 * 10)
