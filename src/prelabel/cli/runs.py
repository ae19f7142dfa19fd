"""``prelabel run ...``: run prompt versions over tasks, follow them, stop and resume them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from sqlalchemy.orm import Session

from prelabel.cli.context import (
    JsonOption,
    console,
    preview,
    print_json,
    settings_of,
    unit_of_work,
)
from prelabel.cli.reports import print_report
from prelabel.engine.executor import RunProgress
from prelabel.engine.job import RunOptions
from prelabel.jobs.distributed import ChunkQueue, Dispatcher
from prelabel.services.evaluations import cell_tasks, run_report
from prelabel.services.projects import find_project
from prelabel.services.prompts import get_version
from prelabel.services.run_estimates import estimate_run
from prelabel.services.run_execution import Runtime, execute_run, follow_run, start_run
from prelabel.services.runs import (
    ACTIVE_STATUSES,
    Baseline,
    cancel_run,
    describe_run,
    failed_tasks,
    get_run,
    list_runs,
    resume_run,
    retry_failed,
)
from prelabel.services.serialization import run_failure_payload
from prelabel.settings import Settings
from prelabel.store import Run, Store

app = typer.Typer(help="Run prompt versions over tasks; follow, cancel and resume runs.")

RunArgument = Annotated[int, typer.Argument(help="Run id.")]
VersionArgument = Annotated[int, typer.Argument(help="Prompt version id.")]
BaselineOption = Annotated[
    str,
    typer.Option(help="Tasks to run on: all, ground-truth, missing, sample:N[:SEED], ids:1,2,3."),
]
ConcurrencyOption = Annotated[
    int | None, typer.Option(help="Most requests in flight at once [default: 16].")
]
RpmOption = Annotated[int | None, typer.Option("--rpm", help="Most requests per minute.")]
TpmOption = Annotated[int | None, typer.Option("--tpm", help="Most tokens per minute.")]
BudgetOption = Annotated[
    float | None, typer.Option("--budget", help="Stop before spending more than this (USD).")
]
TimeoutOption = Annotated[
    float | None, typer.Option(help="Seconds to wait for each answer [default: 60].")
]
AttemptsOption = Annotated[
    int | None, typer.Option(help="Tries per task, the first included [default: 5].")
]


@app.command("start")
def start(
    ctx: typer.Context,
    version: VersionArgument,
    baseline: BaselineOption = "all",
    concurrency: ConcurrencyOption = None,
    rpm: RpmOption = None,
    tpm: TpmOption = None,
    budget: BudgetOption = None,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Ask the model again even for a request seen before.")
    ] = False,
    timeout: TimeoutOption = None,
    max_attempts: AttemptsOption = None,
    json: JsonOption = False,
):
    """Run a prompt version on a baseline of tasks, here, until it ends."""
    runtime = Runtime.from_settings(settings_of(ctx))
    changes = _changes(concurrency, rpm, tpm, budget, timeout, max_attempts)
    options = RunOptions().replace(**changes, cache=False if no_cache else None)
    with unit_of_work(ctx) as session:
        run = start_run(
            session, runtime, get_version(session, version), Baseline.parse(baseline), options
        )
    _execute(ctx, runtime, run.id, json)


@app.command("resume")
def resume(
    ctx: typer.Context,
    run: RunArgument,
    concurrency: ConcurrencyOption = None,
    rpm: RpmOption = None,
    tpm: TpmOption = None,
    budget: BudgetOption = None,
    timeout: TimeoutOption = None,
    max_attempts: AttemptsOption = None,
    json: JsonOption = False,
):
    """Continue a canceled, failed or interrupted run with its pending tasks."""
    changes = _changes(concurrency, rpm, tpm, budget, timeout, max_attempts)
    _reactivate_and_execute(ctx, run, resume_run, changes, json)


@app.command("retry-failed")
def retry_failed_(
    ctx: typer.Context,
    run: RunArgument,
    concurrency: ConcurrencyOption = None,
    rpm: RpmOption = None,
    tpm: TpmOption = None,
    budget: BudgetOption = None,
    timeout: TimeoutOption = None,
    max_attempts: AttemptsOption = None,
    json: JsonOption = False,
):
    """Run a finished run's failed tasks again."""
    changes = _changes(concurrency, rpm, tpm, budget, timeout, max_attempts)
    _reactivate_and_execute(ctx, run, retry_failed, changes, json)


@app.command("cancel")
def cancel(ctx: typer.Context, run: RunArgument, json: JsonOption = False):
    """Stop a run; what is done stays done, and it can be resumed later."""
    with unit_of_work(ctx) as session:
        payload = describe_run(session, cancel_run(session, get_run(session, run)))
    if json:
        print_json(payload)
    else:
        console().print(f"Canceled run {run}: {payload['done']} of {payload['total']} done.")


@app.command("status")
def status(ctx: typer.Context, run: RunArgument, json: JsonOption = False):
    """Show a run's progress, cost and failures."""
    with unit_of_work(ctx) as session:
        target = get_run(session, run)
        payload = describe_run(session, target, failures=True)
    if json:
        print_json(payload)
        return
    _print_status(payload)


@app.command("report")
def report(
    ctx: typer.Context,
    run: RunArgument,
    refresh: Annotated[
        bool, typer.Option("--refresh", help="Evaluate again against today's ground truth.")
    ] = False,
    json: JsonOption = False,
):
    """Show how a run scored against the ground truth: metrics per control, cost, latency."""
    with unit_of_work(ctx) as session:
        result = run_report(session, get_run(session, run), refresh=refresh)
    if json:
        print_json(result)
    else:
        print_report(console(), result)


@app.command("tasks")
def tasks(
    ctx: typer.Context,
    run: RunArgument,
    cell: Annotated[
        str,
        typer.Option(
            help="A report cell: CONTROL/tp|fp|fn/LABEL, CONTROL/confusion/TRUTH/PREDICTED, "
            "CONTROL/match|mismatch, failure/KIND, overall/right|wrong."
        ),
    ],
    json: JsonOption = False,
):
    """List the tasks behind one cell of a run's report, prediction beside ground truth."""
    with unit_of_work(ctx) as session:
        rows = cell_tasks(session, get_run(session, run), cell)
    if json:
        print_json(rows)
        return
    table = Table("task", "ground truth", "prediction", "score", title=f"{len(rows)} task(s)")
    for row in rows:
        score = row["score"]
        table.add_row(
            str(row["task"]),
            _regions(row["ground_truth"]),
            row["failure"] or _regions(row["prediction"]),
            "" if score is None else f"{score:.2f}",
        )
    console().print(table)


@app.command("failures")
def failures(
    ctx: typer.Context,
    run: RunArgument,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="Most failures to list.")] = 100,
    json: JsonOption = False,
):
    """List a run's failed tasks: kind, attempts, message and the raw answer's start."""
    with unit_of_work(ctx) as session:
        rows = [
            run_failure_payload(item)
            for item in failed_tasks(session, get_run(session, run), limit=limit)
        ]
    if json:
        print_json(rows)
        return
    table = Table("task", "kind", "attempts", "message", "raw answer")
    for row in rows:
        table.add_row(
            str(row["task"]),
            row["kind"] or "",
            str(row["attempts"]),
            row["message"] or "",
            (row["raw_excerpt"] or "")[:60],
        )
    console().print(table)


@app.command("list")
def list_(
    ctx: typer.Context,
    project: Annotated[str, typer.Argument(help="Project id or exact title.")],
    json: JsonOption = False,
):
    """List a project's runs, newest first."""
    with unit_of_work(ctx) as session:
        runs = list_runs(session, find_project(session, project))
        payloads = [describe_run(session, r) for r in runs]
    if json:
        print_json(payloads)
        return
    table = Table("run", "version", "status", "done", "failed", "total", "cost (USD)", "started")
    for p in payloads:
        started = p["started_at"].strftime("%Y-%m-%d %H:%M") if p["started_at"] else ""
        table.add_row(
            str(p["id"]),
            str(p["prompt_version"]),
            _status_text(p),
            str(p["done"]),
            str(p["failed"]),
            str(p["total"]),
            f"{p['cost_usd']:.4f}",
            started,
        )
    console().print(table)


@app.command("estimate")
def estimate(
    ctx: typer.Context,
    version: VersionArgument,
    baseline: BaselineOption = "all",
    json: JsonOption = False,
):
    """Project the tokens and cost of a run before starting it."""
    runtime = Runtime.from_settings(settings_of(ctx))
    with unit_of_work(ctx) as session:
        result = estimate_run(
            session, runtime, get_version(session, version), Baseline.parse(baseline)
        ).as_json()
    if json:
        print_json(result)
        return
    table = Table("", "low", "expected", "high", title=f"{result['tasks']:,} tasks")
    for name in ("input_tokens", "output_tokens"):
        spread = result[name]
        table.add_row(name.replace("_", " "), *(f"{spread[k]:,}" for k in _SPREAD))
    if result["cost_usd"] is None:
        table.add_row("cost (USD)", "unknown: the model has no price", "", "")
    else:
        table.add_row("cost (USD)", *(f"{result['cost_usd'][k]:.4f}" for k in _SPREAD))
    out = console()
    out.print(table)
    out.print(f"Output tokens from the {result['output_basis']}.")
    if result["unrenderable"]:
        out.print(f"{result['unrenderable']} task(s) lack a template variable and would fail.")


_SPREAD = ("low", "expected", "high")


def _reactivate_and_execute(
    ctx: typer.Context,
    run_id: int,
    reactivate: Callable[[Session, Run, RunOptions | None], Run],
    changes: dict[str, Any],
    json: bool,
) -> None:
    """Make the run ready again (resume, retry-failed) with any option changes; execute it."""
    runtime = Runtime.from_settings(settings_of(ctx))
    with unit_of_work(ctx) as session:
        target = get_run(session, run_id)
        reactivate(session, target, _options(target, changes))
    _execute(ctx, runtime, run_id, json)


def execute_with_progress(
    ctx: typer.Context, runtime: Runtime, run_id: int, *, transient: bool = False
) -> dict[str, Any]:
    """Execute the run here with a progress bar on stderr; returns the ended run's payload
    with its failures. Ctrl-C cancels the run (resumable) and exits with status 130.

    With ``PRELABEL_REDIS_URL`` set the run is handed to the workers instead, and followed
    here until it ends."""
    settings = settings_of(ctx)
    store = Store.open(settings)
    try:
        with _progress_bar(transient) as progress:
            bar = progress.add_task(f"run {run_id}", total=None, failed=0, cost=0.0)

            def show(state: RunProgress) -> None:
                progress.update(
                    bar,
                    total=state.total,
                    completed=state.done + state.failed,
                    failed=state.failed,
                    cost=state.cost_usd,
                )

            try:
                if settings.redis_url:
                    _hand_to_workers(settings, store, run_id, show)
                else:
                    execute_run(store, runtime, run_id, on_progress=show)
            except KeyboardInterrupt:
                console(stderr=True).print(
                    f"Interrupted: run {run_id} is canceled; `prelabel run resume {run_id}` "
                    "goes on where it stopped."
                )
                raise typer.Exit(130) from None
        with store.session() as session:
            return describe_run(session, get_run(session, run_id), failures=True)
    finally:
        store.close()


def _hand_to_workers(
    settings: Settings, store: Store, run_id: int, show: Callable[[RunProgress], None]
) -> None:
    """Dispatch the run to the workers now, rather than at a dispatcher's next pass, and
    follow it; Ctrl-C cancels it, as it would one executed here."""
    queue = ChunkQueue(settings)
    try:
        Dispatcher(store, queue, rows_per_chunk=settings.chunk_size).run_pass()
    finally:
        queue.close()
    try:
        follow_run(store, run_id, on_progress=show)
    except KeyboardInterrupt:
        with store.session() as session:
            run = get_run(session, run_id)
            if run.status in ACTIVE_STATUSES:
                cancel_run(session, run)
        raise


def _execute(ctx: typer.Context, runtime: Runtime, run_id: int, json: bool) -> None:
    """Execute the run with a progress bar; print how it ended; exit 1 if it failed."""
    payload = execute_with_progress(ctx, runtime, run_id, transient=json)
    if json:
        print_json(payload)
    else:
        _print_status(payload)
    if payload["status"] == "Failed":
        raise typer.Exit(1)


def _progress_bar(transient: bool) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[failed]} failed"),
        TextColumn("${task.fields[cost]:.4f}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console(stderr=True),
        transient=transient,
    )


def _regions(result: list[dict[str, Any]] | None) -> str:
    """A result in one line: each region's control and value."""
    if not result:
        return ""
    parts = []
    for region in result:
        value = {k: v for k, v in region.get("value", {}).items() if k not in ("start", "end")}
        parts.append(f"{region.get('from_name')}: {preview(value, 60)}")
    return "; ".join(parts)


def _print_status(payload: dict[str, Any]) -> None:
    out = console()
    out.print(
        f"Run {payload['id']} (prompt version {payload['prompt_version']}): "
        f"{_status_text(payload)}. {payload['done']} done, {payload['failed']} failed, "
        f"{payload['pending']} pending of {payload['total']}."
    )
    out.print(
        f"Tokens: {payload['input_tokens']:,} in, {payload['output_tokens']:,} out. "
        f"Cost: ${payload['cost_usd']:.4f}."
    )
    if payload["error"]:
        out.print(f"Why it stopped: {payload['error']}", markup=False)
    for kind, count in payload.get("failures", {}).items():
        out.print(f"  {count} failed: {kind}")


def _status_text(payload: dict[str, Any]) -> str:
    return f"{payload['status']} (interrupted)" if payload["interrupted"] else payload["status"]


def _changes(
    concurrency: int | None,
    rpm: int | None,
    tpm: int | None,
    budget: float | None,
    timeout: float | None,
    max_attempts: int | None,
) -> dict[str, Any]:
    return {
        "concurrency": concurrency,
        "rpm": rpm,
        "tpm": tpm,
        "budget_usd": budget,
        "timeout": timeout,
        "max_attempts": max_attempts,
    }


def _options(run: Run, changes: dict[str, Any]) -> RunOptions | None:
    """The run's options with the given changes, or ``None`` when nothing changes."""
    if all(value is None for value in changes.values()):
        return None
    return RunOptions.from_json(run.options).replace(**changes)
