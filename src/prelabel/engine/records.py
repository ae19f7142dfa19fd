"""Writing what a run's calls produced: predictions, per-task failures and the run's totals.

One call writes one batch in the caller's transaction, so each batch is durable as a whole
and a crash never leaves half of one behind. Predictions are not cumulative: a task's new
prediction replaces the version's old one in place (same row, new content), so there is no
moment where the task has neither, and a task whose call failed keeps its old prediction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from prelabel.store import Prediction, Prompt, PromptVersion, Run, RunTask, Task
from prelabel.store.bulk import insert_rows
from prelabel.store.in_lists import padded
from prelabel.store.models import model_version_name
from prelabel.store.types import utcnow

_predictions = Prediction.__table__
_run_tasks = RunTask.__table__
_tasks = Task.__table__


@dataclass(frozen=True)
class Predicted:
    """A task the model answered: its Label Studio result and what the answer cost."""

    task_id: int
    result: list[dict[str, Any]]
    score: float | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cost_usd: float | None = None
    latency_ms: float | None = None
    repairs: tuple[str, ...] = field(default_factory=tuple)
    attempts: int = 1


@dataclass(frozen=True)
class Failed:
    """A task whose call failed after its retries: the failure's kind, message and excerpt."""

    task_id: int
    kind: str
    message: str
    raw_excerpt: str = ""
    input_tokens: int | None = None
    output_tokens: int | None = None
    cost_usd: float | None = None
    attempts: int = 1


def record_batch(session: Session, run: Run, outcomes: list[Predicted | Failed]) -> None:
    """Write a batch of outcomes of ``run`` and add them to its totals.

    Totals are added in SQL (``done = done + n``), not read and written back, so that
    writers of other chunks of the same run never lose each other's counts.

    A task deleted while its answer was awaited has nowhere to put it: its outcome is
    dropped, though its tokens and cost still count, since they were spent. The executor
    renews its lease in the same transaction first, and on SQLite that write already holds
    the database's write lock, so no delete can come between reading which tasks remain and
    writing theirs; PostgreSQL locks those tasks against deletion instead.
    """
    if not outcomes:
        return
    now = utcnow()
    remaining = _remaining_tasks(session, [o.task_id for o in outcomes])
    predicted = [o for o in outcomes if isinstance(o, Predicted) and o.task_id in remaining]
    failed = [o for o in outcomes if isinstance(o, Failed) and o.task_id in remaining]
    _write_predictions(session, run, predicted, now)
    _mark(session, run, predicted, failed, now)
    session.execute(
        update(Run)
        .where(Run.id == run.id)
        .values(
            done=Run.done + len(predicted),
            failed=Run.failed + len(failed),
            input_tokens=Run.input_tokens + sum(o.input_tokens or 0 for o in outcomes),
            output_tokens=Run.output_tokens + sum(o.output_tokens or 0 for o in outcomes),
            cost_usd=Run.cost_usd + sum(o.cost_usd or 0.0 for o in outcomes),
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    session.expire(run, ["done", "failed", "input_tokens", "output_tokens", "cost_usd"])


def _remaining_tasks(session: Session, task_ids: list[int]) -> set[int]:
    """Those of ``task_ids`` that still exist, kept from being deleted (PostgreSQL's
    ``FOR KEY SHARE``) until the batch commits."""
    return set(
        session.scalars(
            select(Task.id)
            .where(Task.id.in_(padded(task_ids)))
            .with_for_update(read=True, key_share=True)
        )
    )


def _write_predictions(session: Session, run: Run, predicted: list[Predicted], now: Any) -> None:
    if not predicted:
        return
    existing = dict(
        session.execute(
            select(Prediction.task_id, Prediction.id).where(
                Prediction.prompt_version_id == run.prompt_version_id,
                Prediction.task_id.in_(padded([o.task_id for o in predicted])),
            )
        ).all()
    )
    # Read at write time, so that a prompt or version renamed mid-run names what follows.
    prompt_name, title = session.execute(
        select(Prompt.name, PromptVersion.title)
        .join(PromptVersion, PromptVersion.prompt_id == Prompt.id)
        .where(PromptVersion.id == run.prompt_version_id)
    ).one()
    name = model_version_name(prompt_name, title)

    def row(outcome: Predicted) -> dict[str, Any]:
        return {
            "result": outcome.result,
            "score": outcome.score,
            "model_version": name,
            "run_id": run.id,
            "input_tokens": outcome.input_tokens,
            "output_tokens": outcome.output_tokens,
            "cost_usd": outcome.cost_usd,
            "latency_ms": outcome.latency_ms,
            "repairs": list(outcome.repairs) or None,
            "updated_at": now,
        }

    # Bound names must differ from column names in an executemany UPDATE, hence "new_".
    replaced = [
        {"prediction": existing[o.task_id], **{f"new_{k}": v for k, v in row(o).items()}}
        for o in predicted
        if o.task_id in existing
    ]
    if replaced:
        columns = row(predicted[0]).keys()
        session.execute(
            update(_predictions)
            .where(_predictions.c.id == bindparam("prediction"))
            .values({column: bindparam(f"new_{column}") for column in columns}),
            replaced,
        )
    added = [o for o in predicted if o.task_id not in existing]
    insert_rows(
        session,
        _predictions,
        [
            {
                "task_id": o.task_id,
                "project_id": run.project_id,
                "prompt_version_id": run.prompt_version_id,
                "created_at": now,
                **row(o),
            }
            for o in added
        ],
    )
    if added:
        session.execute(
            update(_tasks)
            .where(_tasks.c.id == bindparam("task"))
            .values(total_predictions=_tasks.c.total_predictions + 1),
            [{"task": o.task_id} for o in added],
        )


def _mark(
    session: Session,
    run: Run,
    predicted: list[Predicted],
    failed: list[Failed],
    now: Any,
) -> None:
    """Record each task's state in the run's worklist: done, or failed with why."""
    rows = [
        {
            "task": o.task_id,
            "state": "done",
            "tries": o.attempts,
            "kind": None,
            "message": None,
            "excerpt": None,
        }
        for o in predicted
    ] + [
        {
            "task": o.task_id,
            "state": "failed",
            "tries": o.attempts,
            "kind": o.kind,
            "message": o.message,
            "excerpt": o.raw_excerpt[:2000] or None,
        }
        for o in failed
    ]
    session.execute(
        update(_run_tasks)
        .where(_run_tasks.c.run_id == run.id, _run_tasks.c.task_id == bindparam("task"))
        .values(
            status=bindparam("state"),
            attempts=_run_tasks.c.attempts + bindparam("tries"),
            failure_kind=bindparam("kind"),
            failure_message=bindparam("message"),
            raw_excerpt=bindparam("excerpt"),
            updated_at=now,
        ),
        rows,
    )
