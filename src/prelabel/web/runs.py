"""Runs in the prompts workspace: the estimate before a run, starting one (Evaluate, Get
Predictions for All Tasks), its progress while it runs, cancel and resume, and its report
with the drill-down into one cell once it has ended.

A run is started through ``services.run_execution.start_run``, as the API starts one, and
the job runner is woken once the request has committed (``JobsDep``). The page follows a
run by polling ``run_progress``, a small JSON endpoint, about once a second, and reloads
itself when the run ends so that the report is rendered on the server like the rest of the
page. Polling rather than Server-Sent Events because a run's counters only change in the
database, so a stream would poll it anyway, only while holding a worker thread and a
connection open per watching tab; short requests also pass every proxy, keep the login and
its expiry the same as any page's, and need no reconnection logic in the script.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Request
from sqlalchemy.orm import Session
from starlette.responses import JSONResponse, Response

from prelabel.api.deps import JobsDep, RuntimeDep, SessionDep
from prelabel.api.params import Id
from prelabel.engine.job import RunOptions
from prelabel.errors import NotFoundError, PrelabelError, ValidationError
from prelabel.services import runs as run_service
from prelabel.services.evaluations import cell_sizes, cell_tasks, run_report
from prelabel.services.projects import get_project
from prelabel.services.run_estimates import estimate_run
from prelabel.services.run_execution import start_run as start_service_run
from prelabel.services.runs import Baseline
from prelabel.store import PromptVersion, Run
from prelabel.web import formats
from prelabel.web.errors import refusals_go_back_to
from prelabel.web.rendering import flash, redirect, render
from prelabel.web.sessions import WebUser
from prelabel.web.workspace import project_and_version, run_in, version_path

#: What the baseline selector offers; ``sample`` takes its size from a field of its own.
BASELINES = {
    "ground-truth": "Ground truth: the tasks with a ground-truth annotation",
    "sample": "A sample of tasks",
    "all": "All tasks",
    "missing": "Only tasks this version has not predicted",
}
DEFAULT_SAMPLE = 20
#: The most tasks a drill-down lists on the page.
DRILL_ROWS = 500


def run_panel(
    session: Session, version: PromptVersion, run_id: int | None, cell: str | None
) -> dict[str, Any]:
    """The version page's part about runs: the version's runs, the one shown (``run_id``, else
    the newest) with its progress, or its report once ended, and the tasks behind ``cell``."""
    runs = run_service.list_version_runs(session, version)
    shown = _chosen(runs, run_id, version)
    context: dict[str, Any] = {
        "baselines": BASELINES,
        "default_sample": DEFAULT_SAMPLE,
        "runs": [
            {"run": run, "progress": formats.progress(run), "accuracy": _accuracy(session, run)}
            for run in runs
        ],
        "run": shown,
        "progress": formats.progress(shown) if shown else None,
        "report": None,
        "cells": {},
        "cell": cell,
        "drill": None,
        "drill_total": 0,
        "drill_error": None,
    }
    if shown is None or shown.status in formats.ACTIVE:
        return context
    context["report"] = run_report(session, shown)
    context["cells"] = cell_sizes(session, shown)
    if cell:
        try:
            rows = cell_tasks(session, shown, cell)
        except ValidationError as exc:
            context["drill_error"] = exc.message
        else:
            context["drill"], context["drill_total"] = rows[:DRILL_ROWS], len(rows)
    return context


def latest_accuracy(session: Session, version: PromptVersion) -> float | None:
    """The accuracy of the version's newest ended run that had ground truth to score."""
    for run in run_service.list_version_runs(session, version):
        accuracy = _accuracy(session, run)
        if accuracy is not None:
            return accuracy
    return None


def estimate(
    request: Request,
    project_id: Id,
    version_id: Id,
    session: SessionDep,
    user: WebUser,
    runtime: RuntimeDep,
    baseline: str = "ground-truth",
    sample_size: str = "",
) -> Response:
    """The estimate of running the version on a baseline, as a piece of the page for its
    script to show: tokens and cost, low, expected and high."""
    _, version = project_and_version(session, project_id, version_id)
    context: dict[str, Any] = {"fmt": formats, "estimate": None, "problem": None}
    try:
        chosen = _baseline(baseline, sample_size)
        context["estimate"] = estimate_run(session, runtime, version, chosen)
        context["baseline"] = formats.baseline(chosen.as_json())
    except PrelabelError as exc:
        if exc.status >= 500:
            raise
        context["problem"] = exc.message
    return render(request, "prompt_estimate.html", context, user=user)


def start_run(
    request: Request,
    project_id: Id,
    version_id: Id,
    session: SessionDep,
    user: WebUser,
    runtime: RuntimeDep,
    jobs: JobsDep,
    baseline: Annotated[str, Form()] = "ground-truth",
    sample_size: Annotated[str, Form()] = "",
) -> Response:
    """Start a run of the version on the baseline; the runner executes it in the background
    and the version page follows it."""
    project, version = project_and_version(session, project_id, version_id)
    with refusals_go_back_to(version_path(request, project, version.id)):
        chosen = _baseline(baseline, sample_size)
        run = start_service_run(session, runtime, version, chosen, RunOptions(), created_by=user.id)
    jobs.run_soon()
    words = formats.baseline(run.baseline)
    flash(
        request, "success", f"Started run {run.id} on {formats.count(run.total, 'task')} ({words})"
    )
    return redirect(version_path(request, project, version.id, run.id))


def run_progress(
    request: Request, project_id: Id, run_id: Id, session: SessionDep, user: WebUser
) -> JSONResponse:
    """The run's progress as JSON, for the page's script: counts, percent, rate, time left,
    cost and tokens, and whether it is still active."""
    run = run_in(session, get_project(session, project_id), run_id)
    return JSONResponse(formats.progress(run), headers={"Cache-Control": "no-store"})


def cancel_run(
    request: Request, project_id: Id, run_id: Id, session: SessionDep, user: WebUser
) -> Response:
    """Stop the run; the tasks it has done keep their predictions, and it can be resumed."""
    run, back = _run_and_back(request, session, project_id, run_id)
    with refusals_go_back_to(back):
        run_service.cancel_run(session, run)
    flash(
        request,
        "success",
        f"Canceled run {run.id}: {run.done:,} of {formats.count(run.total, 'task')} done; "
        "resume it to do the rest",
    )
    return redirect(back)


def resume_run(
    request: Request,
    project_id: Id,
    run_id: Id,
    session: SessionDep,
    user: WebUser,
    jobs: JobsDep,
) -> Response:
    """Continue a canceled, failed or interrupted run with the tasks it has not done."""
    run, back = _run_and_back(request, session, project_id, run_id)
    with refusals_go_back_to(back):
        run_service.resume_run(session, run)
    jobs.run_soon()
    flash(request, "success", f"Resumed run {run.id}")
    return redirect(back)


def _run_and_back(
    request: Request, session: Session, project_id: int, run_id: int
) -> tuple[Run, str]:
    """The project's run, and where its version's page shows it: the page a form about the
    run comes back to, whether it was done or refused."""
    project = get_project(session, project_id)
    run = run_in(session, project, run_id)
    return run, version_path(request, project, run.prompt_version_id, run.id)


def _baseline(kind: str, sample_size: str) -> Baseline:
    """The baseline the selector chose; a sample's size comes from its own field."""
    if kind == "sample":
        size = sample_size.strip()
        if not size.isdecimal():
            raise ValidationError(f"sample size: {sample_size!r} is not a whole number of tasks")
        return Baseline.parse(f"sample:{int(size)}")
    if kind not in BASELINES:
        raise ValidationError(f"baseline: {kind!r} is not one of {', '.join(BASELINES)}")
    return Baseline.parse(kind)


def _chosen(runs: list[Run], run_id: int | None, version: PromptVersion) -> Run | None:
    if run_id is None:
        return runs[0] if runs else None
    for run in runs:
        if run.id == run_id:
            return run
    raise NotFoundError(f"Run {run_id} not found for prompt version {version.id}")


def _accuracy(session: Session, run: Run) -> float | None:
    if run.status in formats.ACTIVE:
        return None
    report = run_report(session, run)
    accuracy: float | None = report["accuracy"] if report["tasks"] else None
    return accuracy
