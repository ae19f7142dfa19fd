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

from sqlalchemy import exists, func, insert, literal, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from prelabel.errors import ConflictError, ValidationError
from prelabel.services.prompts import prompt_of
from prelabel.store import Annotation, Prediction, PromptVersion, Run, RunTask, Task
from prelabel.store.bulk import insert_rows

ACTIVE_STATUSES = ("Pending", "Running")
MAX_SAMPLE = 10_000_000
_BASELINE = re.compile(
    r"^(?:(?P<simple>all|ground-truth|missing)|sample:(?P<n>\d+)(?::(?P<seed>-?\d+))?"
    r"|ids:(?P<ids>\d+(?:,\d+)*))$"
)


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
    options: dict[str, Any] | None = None,
    created_by: int | None = None,
) -> Run:
    """A Pending run of ``version`` over ``baseline``'s tasks, with its worklist written.

    A version has at most one Pending or Running run (the database enforces it): a second
    run at once would write the same predictions twice over.
    """
    project_id = prompt_of(session, version).project_id
    active = session.scalar(
        select(Run.id).where(Run.prompt_version_id == version.id, Run.status.in_(ACTIVE_STATUSES))
    )
    if active is not None:
        raise ConflictError(
            f"prompt version {version.id} already has run {active} in progress; "
            "wait for it, or cancel it first"
        )
    run = Run(
        prompt_version_id=version.id,
        project_id=project_id,
        baseline=baseline.as_json(),
        options=options or {},
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
    tasks = select(Task.id).where(Task.project_id == run.project_id)
    if baseline.kind in ("sample", "ids"):
        chosen = (
            _sample(session, tasks, baseline)
            if baseline.kind == "sample"
            else _explicit(session, tasks, baseline.ids, run.project_id)
        )
        rows = [{"run_id": run.id, "task_id": task_id} for task_id in sorted(chosen)]
        insert_rows(session, RunTask.__table__, rows)
        return len(rows)
    if baseline.kind == "ground-truth":
        tasks = tasks.where(
            exists().where(
                Annotation.task_id == Task.id,
                Annotation.ground_truth.is_(True),
                Annotation.was_cancelled.is_(False),
            )
        )
    elif baseline.kind == "missing":
        tasks = tasks.where(
            ~exists().where(
                Prediction.task_id == Task.id, Prediction.prompt_version_id == version.id
            )
        )
    selection = tasks.with_only_columns(literal(run.id), Task.id).order_by(Task.id)
    session.execute(insert(RunTask).from_select(["run_id", "task_id"], selection))
    return session.scalar(select(func.count(RunTask.id)).where(RunTask.run_id == run.id)) or 0


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
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        found.update(session.scalars(tasks.where(Task.id.in_(chunk))))
    missing = [task_id for task_id in ids if task_id not in found]
    if missing:
        shown = ", ".join(map(str, missing[:10])) + (" ..." if len(missing) > 10 else "")
        raise ValidationError(f"baseline ids: not tasks of project {project_id}: {shown}")
    return list(ids)
