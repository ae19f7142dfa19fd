"""``/api/prompts/...``: runs of prompt versions, their estimates, reports and comparisons.

Creating, resuming or retrying a run only records it as Pending and wakes the server's job
runner (``JobsDep``) once the request has committed; the runner executes it in the
background, and ``GET /api/prompts/runs/{id}`` shows its progress meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Query
from pydantic import ConfigDict, Field
from sqlalchemy.orm import Session

from prelabel.api.deps import CurrentUser, Jobs, JobsDep, RuntimeDep, SessionDep
from prelabel.api.params import BodyId, Id, comma_ids
from prelabel.api.prompts import Body
from prelabel.api.responses import JSONBody
from prelabel.engine.job import RunOptions
from prelabel.errors import ValidationError
from prelabel.services import runs as run_service
from prelabel.services.evaluations import cell_tasks, compare_versions, run_report
from prelabel.services.projects import get_project
from prelabel.services.prompts import get_version
from prelabel.services.run_estimates import estimate_run
from prelabel.services.run_execution import start_run
from prelabel.services.runs import Baseline
from prelabel.services.serialization import run_failure_payload
from prelabel.store import Run

BASELINE_HELP = "all, ground-truth, missing, sample:N[:SEED] or ids:1,2,3"


class Options(Body):
    """How a run presses its provider; a field left out keeps its default (on create) or the
    run's current value (on resume and retry-failed). Types are strict: ``"4"`` is no number."""

    model_config = ConfigDict(strict=True)

    concurrency: int | None = Field(default=None, description="Requests in flight (16).")
    rpm: int | None = Field(default=None, description="Most requests per minute.")
    tpm: int | None = Field(default=None, description="Most tokens per minute.")
    budget_usd: float | None = Field(default=None, description="Stop before spending more.")
    cache: bool | None = Field(default=None, description="Reuse answers to identical requests.")
    timeout: float | None = Field(default=None, description="Seconds per answer (60).")
    max_attempts: int | None = Field(default=None, description="Tries per task (5).")

    def applied_to(self, options: RunOptions) -> RunOptions:
        """``options`` with the fields given here, checked by ``RunOptions``; its reasons are
        reported under ``options.<field>``, where the request put them."""
        try:
            return options.replace(**self.model_dump())
        except ValidationError as exc:
            raise ValidationError(f"options.{exc.message}") from exc


class RunCreate(Body):
    prompt_version: BodyId
    baseline: str = Field(default="all", description=f"Tasks to run on: {BASELINE_HELP}.")
    options: Options = Field(default_factory=Options)


class RunChanges(Body):
    options: Options | None = None


class EstimateRequest(Body):
    baseline: str = Field(default="all", description=f"Tasks to run on: {BASELINE_HELP}.")


def create_run(
    body: RunCreate,
    session: SessionDep,
    runtime: RuntimeDep,
    jobs: JobsDep,
    user: CurrentUser,
) -> JSONBody:
    """A Pending run of the version over the baseline, which the server then executes."""
    run = start_run(
        session,
        runtime,
        get_version(session, body.prompt_version),
        Baseline.parse(body.baseline),
        body.options.applied_to(RunOptions()),
        created_by=user.id,
    )
    jobs.run_soon()
    return JSONBody(_described(session, run), status_code=201)


def list_runs(
    project: Annotated[Id, Query(description="Project id.")], session: SessionDep
) -> JSONBody:
    """The project's runs, newest first."""
    runs = run_service.list_runs(session, get_project(session, project))
    return JSONBody([run_service.describe_run(session, run) for run in runs])


def get_run(run_id: Id, session: SessionDep) -> JSONBody:
    """The run with its live progress, cost, tokens and failures by kind."""
    return JSONBody(_described(session, run_service.get_run(session, run_id)))


def cancel_run(run_id: Id, session: SessionDep) -> JSONBody:
    """Stop the run; done tasks keep their predictions and it can be resumed later."""
    run = run_service.cancel_run(session, run_service.get_run(session, run_id))
    return JSONBody(_described(session, run))


def resume_run(
    run_id: Id, session: SessionDep, jobs: JobsDep, body: RunChanges | None = None
) -> JSONBody:
    """Continue a canceled, failed or interrupted run with its pending tasks."""
    return _reactivated(session, jobs, run_id, body, run_service.resume_run)


def retry_failed(
    run_id: Id, session: SessionDep, jobs: JobsDep, body: RunChanges | None = None
) -> JSONBody:
    """Put a finished run's failed tasks back in its worklist and execute them again."""
    return _reactivated(session, jobs, run_id, body, run_service.retry_failed)


def _reactivated(
    session: Session,
    jobs: Jobs,
    run_id: int,
    body: RunChanges | None,
    reactivate: Callable[[Session, Run, RunOptions | None], Run],
) -> JSONBody:
    """The run made ready to execute again by ``reactivate``, handed to the job runner."""
    run = run_service.get_run(session, run_id)
    reactivate(session, run, _changed_options(run, body))
    jobs.run_soon()
    return JSONBody(_described(session, run))


def list_failures(
    run_id: Id,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=10_000, description="Most failures to list.")] = 100,
) -> JSONBody:
    """The run's failed tasks in task order: kind, attempts, message, raw answer excerpt."""
    failed = run_service.failed_tasks(session, run_service.get_run(session, run_id), limit=limit)
    return JSONBody([run_failure_payload(item) for item in failed])


def get_report(
    run_id: Id,
    session: SessionDep,
    refresh: Annotated[
        bool, Query(description="Evaluate again against today's ground truth.")
    ] = False,
) -> JSONBody:
    """How the run scored against the ground truth: metrics per control, cost, latency."""
    return JSONBody(run_report(session, run_service.get_run(session, run_id), refresh=refresh))


def list_cell_tasks(
    run_id: Id,
    cell: Annotated[
        str,
        Query(
            description="A report cell: CONTROL/tp|fp|fn/LABEL, CONTROL/confusion/TRUTH/"
            "PREDICTED, CONTROL/match, failure/KIND, overall/right|wrong."
        ),
    ],
    session: SessionDep,
) -> JSONBody:
    """Drill-down: the tasks behind one cell of the run's report, prediction beside truth."""
    return JSONBody(cell_tasks(session, run_service.get_run(session, run_id), cell))


def estimate(
    version_id: Id, body: EstimateRequest, session: SessionDep, runtime: RuntimeDep
) -> JSONBody:
    """The tokens and cost of running the version on the baseline (low, expected, high)."""
    result = estimate_run(
        session, runtime, get_version(session, version_id), Baseline.parse(body.baseline)
    )
    return JSONBody(result.as_json())


def compare(
    versions: Annotated[str, Query(description="Two or more version ids: 1,2.")],
    session: SessionDep,
) -> JSONBody:
    """Versions side by side on the ground-truth tasks they all predicted."""
    chosen = [get_version(session, version_id) for version_id in _ids("versions", versions)]
    return JSONBody(compare_versions(session, chosen))


def _described(session: Session, run: Run) -> dict[str, Any]:
    return run_service.describe_run(session, run, failures=True)


def _changed_options(run: Run, body: RunChanges | None) -> RunOptions | None:
    """The run's options with the requested changes; ``None`` (kept) when none are asked."""
    if body is None or body.options is None:
        return None
    return body.options.applied_to(RunOptions.from_json(run.options))


def _ids(field: str, text: str) -> list[int]:
    ids = comma_ids(field, [text])
    if not ids:
        raise ValidationError(f"{field}: {text!r} is not a comma-separated list of ids")
    return ids
