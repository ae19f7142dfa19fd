"""What a run would cost, before it starts: every prompt of the baseline rendered and counted.

Input tokens are counted from each task's rendered messages with ``estimate_tokens`` (a
character count, not the model's tokenizer), so they are given a margin of a fifth either way.
Output tokens come from this version's earlier predictions when it has enough of them (what the
model really wrote), else from the answer schema's bounds (``engine.estimates``).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from prelabel.engine.estimates import TokenRange, answer_tokens
from prelabel.errors import TemplateError, ValidationError
from prelabel.providers.prices import estimate_tokens
from prelabel.services.run_execution import Runtime, build_job
from prelabel.services.runs import Baseline, baseline_tasks
from prelabel.store import Prediction, PromptVersion, Task

#: Predictions of the version it takes to trust their output length over the schema's.
MIN_HISTORY = 5
#: How far a character-based token count may be from the model's tokenizer, either way.
INPUT_MARGIN = 0.2
_CHUNK = 1000


@dataclass(frozen=True)
class RunEstimate:
    """Tokens and cost of running a version on a baseline: low, expected and high.

    ``cost_usd`` is ``None`` when the model has no price. ``output_basis`` says where the
    output tokens come from: ``"history"`` (earlier predictions) or ``"schema"``.
    ``unrenderable`` counts tasks whose data lacks a template variable: they would fail.
    """

    tasks: int
    input_tokens: TokenRange
    output_tokens: TokenRange
    cost_usd: tuple[float, float, float] | None
    output_basis: str
    unrenderable: int

    def as_json(self) -> dict[str, Any]:
        def spread(value: TokenRange | tuple[float, float, float] | None) -> Any:
            if value is None:
                return None
            low, expected, high = (
                (value.low, value.expected, value.high) if isinstance(value, TokenRange) else value
            )
            return {"low": low, "expected": expected, "high": high}

        return {
            "tasks": self.tasks,
            "input_tokens": spread(self.input_tokens),
            "output_tokens": spread(self.output_tokens),
            "cost_usd": spread(self.cost_usd),
            "output_basis": self.output_basis,
            "unrenderable": self.unrenderable,
        }


def estimate_run(
    session: Session, runtime: Runtime, version: PromptVersion, baseline: Baseline
) -> RunEstimate:
    """Project the tokens and cost of running ``version`` on ``baseline``."""
    job = build_job(session, version, runtime)
    counted, tasks, unrenderable = 0, 0, 0
    for chunk in _task_data(session, baseline_tasks(session, version, baseline)):
        for data in chunk:
            tasks += 1
            try:
                messages = job.messages(data)
            except TemplateError:
                unrenderable += 1
                continue
            counted += estimate_tokens(messages.system) + estimate_tokens(messages.user)
    if tasks == 0:
        raise ValidationError(f"baseline {baseline.kind}: selects no task")
    answered = tasks - unrenderable
    per_answer, basis = _output_per_answer(session, version, job.schema)
    output = TokenRange(
        per_answer.low * answered, per_answer.expected * answered, per_answer.high * answered
    )
    inputs = TokenRange(
        math.floor(counted * (1 - INPUT_MARGIN)), counted, math.ceil(counted * (1 + INPUT_MARGIN))
    )
    price = job.price
    cost = (
        (
            price.cost(inputs.low, output.low),
            price.cost(inputs.expected, output.expected),
            price.cost(inputs.high, output.high),
        )
        if price is not None
        else None
    )
    return RunEstimate(tasks, inputs, output, cost, basis, unrenderable)


def _output_per_answer(
    session: Session, version: PromptVersion, schema: Mapping[str, Any]
) -> tuple[TokenRange, str]:
    count, low, mean, high = session.execute(
        select(
            func.count(Prediction.output_tokens),
            func.min(Prediction.output_tokens),
            func.avg(Prediction.output_tokens),
            func.max(Prediction.output_tokens),
        ).where(Prediction.prompt_version_id == version.id)
    ).one()
    if count >= MIN_HISTORY:
        return TokenRange(int(low), round(float(mean)), int(high)), "history"
    return answer_tokens(schema, version.parameters.get("max_tokens")), "schema"


def _task_data(session: Session, chosen: Any) -> Iterator[list[Any]]:
    """Task data of the chosen tasks, a chunk at a time, in id order."""
    if isinstance(chosen, list):
        for start in range(0, len(chosen), _CHUNK):
            ids = chosen[start : start + _CHUNK]
            yield list(session.scalars(select(Task.data).where(Task.id.in_(ids)).order_by(Task.id)))
        return
    rows = session.scalars(
        select(Task.data)
        .where(Task.id.in_(chosen))
        .order_by(Task.id)
        .execution_options(yield_per=_CHUNK)
    )
    for partition in rows.partitions():
        yield list(partition)
