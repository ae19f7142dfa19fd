"""Starting and executing runs in this process: the in-process job backend.

``start_run`` checks everything that would make every call fail (a connection that cannot run,
a key that is not set, a budget on a model without a price) before a run exists, so a run that
is created can execute. ``execute_run`` claims the run and drives the engine until the run
ends; the CLI calls it in the foreground, and calling it again on a run whose process died
resumes it where it stopped.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from prelabel.encryption import SecretBox, open_secret_box
from prelabel.engine.cache import StoreEmbeddingCache
from prelabel.engine.chunks import claim_chunk, claimable_chunk_run, complete_run, end_run
from prelabel.engine.executor import RunProgress
from prelabel.engine.executor import execute_run as execute_on_engine
from prelabel.engine.job import RunJob, RunOptions
from prelabel.engine.pacing import SharedLimits
from prelabel.engine.worklist import (
    Lease,
    RunLease,
    claim_run,
    release_run,
    worker_is_gone,
    worker_name,
)
from prelabel.errors import (
    ConflictError,
    NotFoundError,
    PrelabelError,
    TemplateError,
    ValidationError,
)
from prelabel.prompting.instructions import system_message
from prelabel.prompting.template import parse_template
from prelabel.providers.base import Provider
from prelabel.providers.factory import open_local_provider, open_provider
from prelabel.providers.local import Example
from prelabel.providers.prices import Price, PriceTable
from prelabel.services.connections import connection_api_key
from prelabel.services.evaluations import evaluate_run
from prelabel.services.ground_truth import ground_truth
from prelabel.services.projects import project_config
from prelabel.services.prompts import prompt_of
from prelabel.services.run_dispatch import evaluate_if_ended
from prelabel.services.runs import ACTIVE_STATUSES, Baseline, create_run
from prelabel.settings import Settings
from prelabel.store import (
    Project,
    PromptVersion,
    ProviderConnection,
    Run,
    Store,
    get_or_raise,
)


@dataclass(frozen=True)
class Runtime:
    """What executing runs needs beyond the database: the key box and the price table."""

    box: SecretBox
    prices: PriceTable

    @classmethod
    def from_settings(cls, settings: Settings) -> Runtime:
        return cls(open_secret_box(settings), PriceTable.load(settings.prices_file))


def start_run(
    session: Session,
    runtime: Runtime,
    version: PromptVersion,
    baseline: Baseline,
    options: RunOptions,
    *,
    created_by: int | None = None,
) -> Run:
    """A Pending run of ``version`` that can execute: its provider and its budget are checked."""
    connection = get_or_raise(session, ProviderConnection, version.connection_id)
    _check_runnable(connection, runtime.box)
    _check_budget(options, version, connection, runtime.prices)
    return create_run(session, version, baseline, options=options, created_by=created_by)


def execute_run(
    store: Store,
    runtime: Runtime,
    run_id: int,
    *,
    on_progress: Callable[[RunProgress], None] | None = None,
    worker: str | None = None,
) -> Run:
    """Execute run ``run_id`` here until it ends; returns the run as it ended.

    The run must be Pending, or Running with its executor gone (its process died). ``worker``
    names this executor in the run's lease (a fresh name by default). A run that cannot start
    any more (its key's variable is unset, say) ends Failed with the reason, which is raised.
    """
    worker = worker or worker_name()
    try:
        job, provider = _prepare(store, runtime, run_id)
    except PrelabelError as exc:
        _fail_to_start(store, run_id, worker, exc.message)
        raise
    with store.session() as session:
        run = get_or_raise(session, Run, run_id)
        claimed = claim_run(session, run.id, worker, replacing=_dead_worker(run))
    if not claimed:
        asyncio.run(provider.aclose())
        raise ConflictError(_unclaimable(run))
    asyncio.run(_execute(job, store, provider, RunLease(run_id, worker), on_progress=on_progress))
    with store.session() as session:
        ended = session.get(Run, run_id)
        if ended is None:  # its project, prompt or version was deleted meanwhile
            raise NotFoundError(f"Run {run_id} was deleted while it executed")
        if ended.status != "Running":  # not taken over by another worker meanwhile
            evaluate_run(session, ended)
        return ended


def execute_chunk(
    store: Store,
    runtime: Runtime,
    chunk_id: int,
    *,
    worker: str,
    limits: SharedLimits | None = None,
) -> None:
    """Execute one chunk of a dispatched run here, as a distributed worker does.

    Nothing happens when the chunk cannot be claimed: it was superseded (the run was
    dispatched again), another worker holds it, or its run no longer runs. ``limits`` opens
    the run's rate and concurrency limits shared with the other workers. The worker that ends
    the run (its last chunk, or a chunk that stopped it) evaluates it.
    """
    with store.session() as session:
        run_id = claimable_chunk_run(session, chunk_id)
    if run_id is None:  # checked before opening a provider, which may cost (the local model)
        return
    try:
        job, provider = _prepare(store, runtime, run_id)
    except PrelabelError as exc:
        with store.session() as session:
            end_run(session, run_id, status="Failed", error=exc.message)
        raise
    with store.session() as session:
        lease = claim_chunk(session, chunk_id, worker)
    if lease is None:
        asyncio.run(provider.aclose())
        return
    asyncio.run(_execute(job, store, provider, lease, limits=limits))
    with store.session() as session:
        complete_run(session, run_id)
    with store.session() as session:
        evaluate_if_ended(session, run_id)


def follow_run(
    store: Store,
    run_id: int,
    *,
    on_progress: Callable[[RunProgress], None],
    poll_seconds: float = 0.5,
) -> Run:
    """Report the progress of a run executed elsewhere (by workers) until it ends."""
    while True:
        with store.session() as session:
            run = get_or_raise(session, Run, run_id)
            on_progress(RunProgress.of(run))
            if run.status not in ACTIVE_STATUSES:
                return run
        time.sleep(poll_seconds)


def _prepare(store: Store, runtime: Runtime, run_id: int) -> tuple[RunJob, Provider]:
    """The run's job as its version is now, and an open provider to execute it with."""
    with store.session() as session:
        run = get_or_raise(session, Run, run_id)
        version = get_or_raise(session, PromptVersion, run.prompt_version_id)
        job = build_job(
            session, version, runtime, run_id=run.id, options=RunOptions.from_json(run.options)
        )
        return job, _provider(session, store, runtime, version, job)


def _dead_worker(run: Run) -> str | None:
    """The executor of a Running run whose process is known to be dead, which may be replaced
    at once rather than when its lease runs out."""
    return run.worker if run.status == "Running" and worker_is_gone(run.worker) else None


def _fail_to_start(store: Store, run_id: int, worker: str, error: str) -> None:
    """End a run that cannot start (its key's variable was unset since it was created, say) as
    Failed with the reason, if it was waiting for an executor: left waiting, it would be picked
    up and fail again without end. Resuming it once the cause is fixed starts it."""
    with store.session() as session:
        run = session.get(Run, run_id)
        if run is not None and claim_run(session, run_id, worker, replacing=_dead_worker(run)):
            release_run(session, run_id, worker, status="Failed", error=error)


def _provider(
    session: Session, store: Store, runtime: Runtime, version: PromptVersion, job: RunJob
) -> Provider:
    """The provider of the version's connection; the local one learns the ground truth."""
    connection = get_or_raise(session, ProviderConnection, version.connection_id)
    api_key = connection_api_key(connection, runtime.box)
    if connection.kind != "local":
        return open_provider(
            connection.kind,
            base_url=connection.base_url,
            api_key=api_key,
            capabilities=dict(connection.capabilities),
        )
    project_id = prompt_of(session, version).project_id
    examples = []
    for task_id, data, result in ground_truth(session, project_id):
        try:
            text = job.messages(data).user
        except TemplateError:
            continue
        examples.append(Example(task_id, text, job.config.result_to_answer(result, data)))
    return open_local_provider(
        base_url=connection.base_url,
        api_key=api_key,
        model=version.model,
        config=job.config,
        examples=examples,
        cache=StoreEmbeddingCache(store),
    )


async def _execute(
    job: RunJob,
    store: Store,
    provider: Provider,
    lease: Lease,
    *,
    on_progress: Callable[[RunProgress], None] | None = None,
    limits: SharedLimits | None = None,
) -> None:
    try:
        if limits is None:
            await execute_on_engine(job, store, provider, lease=lease, on_progress=on_progress)
            return
        async with limits(job) as (pacer, slots):
            await execute_on_engine(
                job, store, provider, lease=lease, pacer=pacer, shared_slots=slots
            )
    finally:
        await provider.aclose()


def build_job(
    session: Session,
    version: PromptVersion,
    runtime: Runtime,
    *,
    run_id: int = 0,
    options: RunOptions | None = None,
) -> RunJob:
    """The job of running ``version`` as it is now: config, template, schema, model, price."""
    project = get_or_raise(session, Project, prompt_of(session, version).project_id)
    connection = get_or_raise(session, ProviderConnection, version.connection_id)
    config = project_config(project)
    return RunJob(
        run_id=run_id,
        config=config,
        template=parse_template(version.template),
        system=system_message(config),
        model=version.model,
        parameters=dict(version.parameters),
        schema=config.answer_schema(),
        base_url=connection.base_url,
        price=_price(runtime.prices, version, connection),
        options=options or RunOptions(),
        cache_answers=connection.kind != "local",
    )


def _price(
    prices: PriceTable, version: PromptVersion, connection: ProviderConnection
) -> Price | None:
    return prices.price_for("local" if connection.kind == "local" else version.model)


def _check_runnable(connection: ProviderConnection, box: SecretBox) -> None:
    """Fail now, not on every task, when the connection cannot be called: a key read from an
    environment variable that is not set."""
    connection_api_key(connection, box)


def _check_budget(
    options: RunOptions, version: PromptVersion, connection: ProviderConnection, prices: PriceTable
) -> None:
    if options.budget_usd is not None and _price(prices, version, connection) is None:
        raise ValidationError(
            f"budget: model {version.model!r} has no price, so its cost cannot be counted; "
            "add it to a price file named by PRELABEL_PRICES_FILE, or run without a budget"
        )


def _unclaimable(run: Run) -> str:
    if run.status == "Running":
        return f"run {run.id} is already running (worker {run.worker})"
    if run.status == "Completed":
        return f"run {run.id} is Completed; nothing is left to execute"
    return f"run {run.id} is {run.status}; resume it first"
