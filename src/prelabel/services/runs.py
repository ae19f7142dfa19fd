"""Runs: which tasks a prompt version will be run on, recorded before any call is made.

Creating a run writes its worklist (``run_tasks``) in the same transaction as the run, so
whatever happens later, the run knows exactly which tasks it covers: executing, resuming and
retrying only ever read and update that list.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, exists, func, insert, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from prelabel.engine.job import RunOptions
from prelabel.engine.worklist import count_pending, is_interrupted
from prelabel.errors import ConflictError, ValidationError
from prelabel.services.prompts import prompt_of
from prelabel.services.serialization import run_payload
from prelabel.store import (
    Annotation,
    Prediction,
    Project,
    PromptVersion,
    Run,
    RunTask,
    Task,
    get_or_raise,
)
from prelabel.store.bulk import insert_rows
from prelabel.store.models import model_version_name
from prelabel.store.types import MAX_INT4, utcnow

ACTIVE_STATUSES = ("Pending", "Running")
MAX_SAMPLE = 10_000_000
# Numbers are ASCII digits, short enough for int() and for a 64-bit database integer.
_BASELINE = re.compile(
    r"^(?:(?P<simple>all|ground-truth|missing)"
    r"|sample:(?P<n>[0-9]{1,18})(?::(?P<seed>-?[0-9]{1,18}))?"
    r"|ids:(?P<ids>[0-9]{1,18}(?:,[0-9]{1,18})*))$"
)
#: Task ids are 32-bit integer columns: a larger number names no task, and PostgreSQL refuses
#: to compare one with an id column.


@dataclass(frozen=True)
class Baseline:
    """Which tasks a run covers: all, a seeded sample of n, ground-truth tasks, explicit ids,
    or the tasks this version has not predicted yet ("missing").

    >>> Baseline.parse("sample:100:7")
    Baseline(kind='sample', n=100, seed=7, ids=())
    """

    kind: str
    n: int | None = None
    seed: int = 0
    ids: tuple[int, ...] = ()

    @classmethod
    def parse(cls, text: str) -> Baseline:
        match = _BASELINE.match(text.strip())
        if match is None:
            raise ValidationError(
                f"baseline: {text!r} is not one of all, ground-truth, missing, "
                "sample:N[:SEED], ids:1,2,3"
            )
        if match["simple"]:
            return cls(match["simple"])
        if match["ids"]:
            return cls("ids", ids=tuple(dict.fromkeys(int(i) for i in match["ids"].split(","))))
        n = int(match["n"])
        if not 1 <= n <= MAX_SAMPLE:
            raise ValidationError(f"baseline: a sample needs 1 to {MAX_SAMPLE:,} tasks, got {n}")
        return cls("sample", n=n, seed=int(match["seed"] or 0))

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "n": self.n, "seed": self.seed, "ids": list(self.ids)}


def create_run(
    session: Session,
    version: PromptVersion,
    baseline: Baseline,
    *,
    options: RunOptions | None = None,
    created_by: int | None = None,
) -> Run:
    """A Pending run of ``version`` over ``baseline``'s tasks, with its worklist written.

    A version has at most one Pending or Running run (the database enforces it): a second
    run at once would write the same predictions twice over.
    """
    project_id = prompt_of(session, version).project_id
    active = session.scalar(
        select(Run).where(Run.prompt_version_id == version.id, Run.status.in_(ACTIVE_STATUSES))
    )
    if active is not None:
        advice = (
            "it was interrupted: resume or cancel it"
            if is_interrupted(active)
            else "wait for it, or cancel it first"
        )
        raise ConflictError(
            f"prompt version {version.id} already has run {active.id} in progress; {advice}"
        )
    run = Run(
        prompt_version_id=version.id,
        project_id=project_id,
        baseline=baseline.as_json(),
        options=(options or RunOptions()).as_json(),
        status="Pending",
        created_by_id=created_by,
    )
    session.add(run)
    try:
        session.flush()
    except IntegrityError as exc:
        raise ConflictError(f"prompt version {version.id} already has a run in progress") from exc
    run.total = _write_worklist(session, run, version, baseline)
    if run.total == 0:
        raise ValidationError(f"baseline {baseline.kind}: selects no task of project {project_id}")
    session.flush()
    return run


def _write_worklist(session: Session, run: Run, version: PromptVersion, baseline: Baseline) -> int:
    """Insert the run's tasks in id order; returns how many."""
    chosen = baseline_tasks(session, version, baseline)
    if isinstance(chosen, list):
        rows = [{"run_id": run.id, "task_id": task_id} for task_id in chosen]
        insert_rows(session, RunTask.__table__, rows)
        return len(rows)
    selection = chosen.with_only_columns(literal(run.id), Task.id).order_by(Task.id)
    session.execute(insert(RunTask).from_select(["run_id", "task_id"], selection))
    return session.scalar(select(func.count(RunTask.id)).where(RunTask.run_id == run.id)) or 0


def baseline_tasks(
    session: Session, version: PromptVersion, baseline: Baseline
) -> Select[Any] | list[int]:
    """The baseline's tasks in ``version``'s project: sorted ids when they are picked one by
    one (a sample, explicit ids), else a query of ``Task.id`` for the database to stream."""
    project_id = prompt_of(session, version).project_id
    tasks = select(Task.id).where(Task.project_id == project_id)
    if baseline.kind == "sample":
        return sorted(_sample(session, tasks, baseline))
    if baseline.kind == "ids":
        return sorted(_explicit(session, tasks, baseline.ids, project_id))
    if baseline.kind == "ground-truth":
        return tasks.where(
            exists().where(
                Annotation.task_id == Task.id,
                Annotation.ground_truth.is_(True),
                Annotation.was_cancelled.is_(False),
            )
        )
    if baseline.kind == "missing":
        return tasks.where(
            ~exists().where(
                Prediction.task_id == Task.id, Prediction.prompt_version_id == version.id
            )
        )
    return tasks


def _sample(session: Session, tasks: Any, baseline: Baseline) -> list[int]:
    """A reproducible sample: reservoir sampling over ids in id order with a seeded generator,
    so memory holds the sample, never the project."""
    assert baseline.n is not None
    generator = random.Random(baseline.seed)
    reservoir: list[int] = []
    ids = session.scalars(tasks.order_by(Task.id).execution_options(yield_per=10_000))
    for seen, task_id in enumerate(ids):
        if seen < baseline.n:
            reservoir.append(task_id)
        else:
            slot = generator.randint(0, seen)
            if slot < baseline.n:
                reservoir[slot] = task_id
    return reservoir


def _explicit(session: Session, tasks: Any, ids: tuple[int, ...], project_id: int) -> list[int]:
    found: set[int] = set()
    possible = [task_id for task_id in ids if task_id <= MAX_INT4]
    for start in range(0, len(possible), 1000):
        chunk = possible[start : start + 1000]
        found.update(session.scalars(tasks.where(Task.id.in_(chunk))))
    missing = [task_id for task_id in ids if task_id not in found]
    if missing:
        shown = ", ".join(map(str, missing[:10])) + (" ..." if len(missing) > 10 else "")
        raise ValidationError(f"baseline ids: not tasks of project {project_id}: {shown}")
    return list(ids)


def get_run(session: Session, run_id: int) -> Run:
    return get_or_raise(session, Run, run_id)


def list_runs(session: Session, project: Project) -> list[Run]:
    """The project's runs, newest first."""
    return list(
        session.scalars(select(Run).where(Run.project_id == project.id).order_by(Run.id.desc()))
    )


def list_version_runs(session: Session, version: PromptVersion) -> list[Run]:
    """The version's runs, newest first."""
    return list(
        session.scalars(
            select(Run).where(Run.prompt_version_id == version.id).order_by(Run.id.desc())
        )
    )


def cancel_run(session: Session, run: Run) -> Run:
    """Stop a Pending or Running run; its executor notices at its next write and stops.

    Tasks already done keep their predictions; the rest stay pending, so the run can be
    resumed later.
    """
    if run.status not in ACTIVE_STATUSES:
        raise ConflictError(
            f"run {run.id} is {run.status}; only a Pending or Running run can be canceled"
        )
    run.status = "Canceled"
    run.error = "canceled by a user"
    run.worker = None
    run.finished_at = utcnow()
    session.flush()
    return run


def resume_run(session: Session, run: Run, options: RunOptions | None = None) -> Run:
    """Make a Canceled, Failed or interrupted run ready to execute its pending tasks again.

    ``options`` replace the run's options (a larger budget, a lower rate). A run whose
    executor is alive cannot be resumed: it is running.
    """
    if run.status == "Running" and not is_interrupted(run):
        raise ConflictError(f"run {run.id} is running (worker {run.worker}); nothing to resume")
    if run.status == "Completed":
        raise ConflictError(
            f"run {run.id} is Completed; retry its failed tasks or start a new run instead"
        )
    if run.status in ("Canceled", "Failed") and not count_pending(session, run.id):
        raise ConflictError(
            f"run {run.id} has no pending task left; retry its failed tasks instead"
        )
    return _reactivate(session, run, options)


def retry_failed(session: Session, run: Run, options: RunOptions | None = None) -> Run:
    """Put the run's failed tasks back in its worklist and make it ready to execute them.

    Their failure records are cleared (their attempts are kept); tasks done stay done.
    """
    if run.status in ACTIVE_STATUSES:
        raise ConflictError(f"run {run.id} is {run.status}; wait for it or cancel it first")
    reset = session.execute(
        update(RunTask)
        .where(RunTask.run_id == run.id, RunTask.status == "failed")
        .values(status="pending", failure_kind=None, failure_message=None, raw_excerpt=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not reset:
        raise ValidationError(f"run {run.id} has no failed task to retry")
    run.failed -= reset
    return _reactivate(session, run, options)


def failure_summary(session: Session, run: Run) -> dict[str, int]:
    """How many of the run's tasks failed, by failure kind, most frequent first."""
    rows = session.execute(
        select(RunTask.failure_kind, func.count(RunTask.id))
        .where(RunTask.run_id == run.id, RunTask.status == "failed")
        .group_by(RunTask.failure_kind)
        .order_by(func.count(RunTask.id).desc(), RunTask.failure_kind)
    ).all()
    return {kind or "unknown": count for kind, count in rows}


def failed_tasks(session: Session, run: Run, *, limit: int = 100) -> list[RunTask]:
    """The run's failed tasks in task order, with their failure records."""
    return list(
        session.scalars(
            select(RunTask)
            .where(RunTask.run_id == run.id, RunTask.status == "failed")
            .order_by(RunTask.task_id)
            .limit(limit)
        )
    )


def _reactivate(session: Session, run: Run, options: RunOptions | None) -> Run:
    if options is not None:
        run.options = options.as_json()
    if run.status != "Running":
        run.status = "Pending"
        run.error = None
        run.finished_at = None
        run.worker = None
    try:
        session.flush()
    except IntegrityError as exc:
        raise ConflictError(
            f"prompt version {run.prompt_version_id} already has another run in progress"
        ) from exc
    return run


def describe_run(session: Session, run: Run, *, failures: bool = False) -> dict[str, Any]:
    """The run as shown to users, named by its model version; with its failures by kind."""
    version = get_or_raise(session, PromptVersion, run.prompt_version_id)
    name = model_version_name(prompt_of(session, version).name, version.title)
    return run_payload(run, name, failure_summary(session, run) if failures else None)
