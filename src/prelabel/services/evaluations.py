"""Evaluating runs and versions against the project's ground truth, and drilling down.

A run is evaluated when it ends, over those of its tasks that have ground truth (the newest
ground-truth annotation of a task is its reference), and the report is stored with the run:
later runs of the same version replace its predictions, but not what this run measured. A run
without ground truth still reports its outputs, failures, tokens, cost and latency.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from prelabel.errors import ValidationError
from prelabel.evaluation import Case, evaluate, percentile
from prelabel.evaluation.values import kind_of, value_of
from prelabel.services.ground_truth import ground_truth
from prelabel.services.projects import project_config
from prelabel.services.prompts import prompt_of
from prelabel.services.runs import failure_summary
from prelabel.store import Prediction, Project, PromptVersion, Run, RunTask, get_or_raise
from prelabel.store.models import model_version_name

REFERENCE_NOTE = "the newest ground-truth annotation of each task is its reference"


def evaluate_run(session: Session, run: Run) -> dict[str, Any]:
    """Evaluate ``run`` now and store the result with it; returns the report."""
    project = get_or_raise(session, Project, run.project_id)
    config = project_config(project)
    truths = {task: result for task, _, result in ground_truth(session, project.id)}
    # The run's finished tasks with ground truth: done (None) or failed (its kind).
    outcomes: dict[int, str | None] = {}
    for chunk in _chunks(sorted(truths), 1000):
        rows = session.execute(
            select(RunTask.task_id, RunTask.failure_kind).where(
                RunTask.run_id == run.id,
                RunTask.task_id.in_(chunk),
                RunTask.status.in_(("done", "failed")),
            )
        )
        outcomes.update(rows.all())
    predictions = _predictions(session, run.prompt_version_id, list(outcomes))
    cases = []
    for task, failure in sorted(outcomes.items()):
        prediction = predictions.get(task) if failure is None else None
        cases.append(
            Case(
                task,
                truths[task],
                prediction.result if prediction else None,
                failure,
                prediction.score if prediction else None,
            )
        )
    evaluation = evaluate(config, cases)
    report = {
        **evaluation.report,
        "reference": REFERENCE_NOTE,
        "run": {
            "outputs": run.done,
            "failed": run.failed,
            "failures": failure_summary(session, run),
            "input_tokens": run.input_tokens,
            "output_tokens": run.output_tokens,
            "cost_usd": run.cost_usd,
            "latency_ms": {
                "p50": _latency_percentile(session, run, 0.5),
                "p95": _latency_percentile(session, run, 0.95),
            },
        },
    }
    run.evaluation = {"report": report, "cells": evaluation.cells}
    session.flush()
    return report


def run_report(session: Session, run: Run, *, refresh: bool = False) -> dict[str, Any]:
    """The report stored with the run (made now if the run has none yet, or on ``refresh``)."""
    if refresh or run.evaluation is None:
        return evaluate_run(session, run)
    report: dict[str, Any] = run.evaluation["report"]
    return report


def cell_tasks(session: Session, run: Run, cell: str) -> list[dict[str, Any]]:
    """The tasks behind one cell of the run's report, prediction and ground truth side by side.

    Cells are named ``<control>/tp/<label>``, ``<control>/fp/<label>``, ``<control>/fn/<label>``,
    ``<control>/confusion/<truth>/<predicted>``, ``<control>/match``, ``failure/<kind>``,
    ``overall/right`` and ``overall/wrong``.
    """
    run_report(session, run)
    assert run.evaluation is not None
    cells: dict[str, list[int]] = run.evaluation["cells"]
    if cell not in cells:
        known = ", ".join(sorted(cells)[:20])
        raise ValidationError(f"cell: run {run.id} has no cell {cell!r}; its cells: {known}")
    ids = cells[cell]
    wanted = set(ids)
    truths = {
        task: result for task, _, result in ground_truth(session, run.project_id) if task in wanted
    }
    predictions = _predictions(session, run.prompt_version_id, ids)
    failures: dict[int, str | None] = {}
    for chunk in _chunks(ids, 1000):
        rows = session.execute(
            select(RunTask.task_id, RunTask.failure_message).where(
                RunTask.run_id == run.id, RunTask.task_id.in_(chunk), RunTask.status == "failed"
            )
        )
        failures.update(rows.all())
    return [
        {
            "task": task,
            "ground_truth": truths.get(task),
            "prediction": predictions[task].result if task in predictions else None,
            "score": predictions[task].score if task in predictions else None,
            "failure": failures.get(task),
        }
        for task in ids
    ]


def cell_sizes(session: Session, run: Run) -> dict[str, int]:
    """How many tasks are behind each cell of the run's report (see ``cell_tasks``)."""
    run_report(session, run)
    assert run.evaluation is not None
    cells: dict[str, list[int]] = run.evaluation["cells"]
    return {cell: len(ids) for cell, ids in cells.items()}


def compare_versions(session: Session, versions: Sequence[PromptVersion]) -> dict[str, Any]:
    """Versions of one project side by side, on the ground-truth tasks all of them predicted.

    Returns each version's report on those tasks with its cost and latency, and the tasks on
    which their answers differ.
    """
    if len({v.id for v in versions}) < 2:
        raise ValidationError("compare: give at least two different versions")
    projects = {prompt_of(session, version).project_id for version in versions}
    if len(projects) > 1:
        raise ValidationError("compare: the versions belong to different projects")
    project = get_or_raise(session, Project, projects.pop())
    config = project_config(project)
    truths = {task: result for task, _, result in ground_truth(session, project.id)}
    by_version = {v.id: _predictions(session, v.id, list(truths)) for v in versions}
    common = sorted(set(truths).intersection(*(set(p) for p in by_version.values())))
    rows = []
    for version in versions:
        predictions = by_version[version.id]
        cases = [
            Case(task, truths[task], predictions[task].result, score=predictions[task].score)
            for task in common
        ]
        chosen = [predictions[task] for task in common]
        latencies = [p.latency_ms for p in chosen if p.latency_ms is not None]
        rows.append(
            {
                "version": version.id,
                "model_version": model_version_name(
                    prompt_of(session, version).name, version.title
                ),
                "report": evaluate(config, cases).report,
                "cost_usd": sum(p.cost_usd or 0.0 for p in chosen),
                "input_tokens": sum(p.input_tokens or 0 for p in chosen),
                "output_tokens": sum(p.output_tokens or 0 for p in chosen),
                "latency_ms": {
                    "p50": percentile(latencies, 0.5),
                    "p95": percentile(latencies, 0.95),
                },
            }
        )
    disagreements = [
        task
        for task in common
        if len({_answer_key(config, by_version[v.id][task].result) for v in versions}) > 1
    ]
    return {
        "tasks": len(common),
        "reference": REFERENCE_NOTE,
        "versions": rows,
        "disagreements": disagreements,
    }


def _latency_percentile(session: Session, run: Run, share: float) -> float | None:
    """A quantile of the run's call latencies, read from the database at the two rows around
    it and interpolated (as ``percentile``), so a million-task run loads two numbers, not a
    million."""
    latencies = select(Prediction.latency_ms).where(
        Prediction.run_id == run.id, Prediction.latency_ms.is_not(None)
    )
    count = session.scalar(select(func.count()).select_from(latencies.subquery())) or 0
    if not count:
        return None
    position = (count - 1) * share
    low = math.floor(position)
    around = list(session.scalars(latencies.order_by(Prediction.latency_ms).offset(low).limit(2)))
    high = around[1] if len(around) > 1 else around[0]
    return around[0] + (high - around[0]) * (position - low)


def _predictions(session: Session, version_id: int, task_ids: list[int]) -> dict[int, Prediction]:
    found: dict[int, Prediction] = {}
    for chunk in _chunks(task_ids, 1000):
        found.update(
            (p.task_id, p)
            for p in session.scalars(
                select(Prediction).where(
                    Prediction.prompt_version_id == version_id, Prediction.task_id.in_(chunk)
                )
            )
        )
    return found


def _answer_key(config: Any, result: list[dict[str, Any]]) -> tuple[Any, ...]:
    """A comparable form of a result: each control's value, spans sorted."""
    key = []
    for control in config.controls.values():
        value = value_of(control, result)
        key.append(tuple(sorted(value)) if kind_of(control) == "spans" and value else value)
    return tuple(key)


def _chunks(items: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
