"""The executor: a run's pending tasks through the provider, as fast as it allows, none lost.

One coroutine streams the worklist in chunks (never the whole project), renders each task's
messages and looks the whole chunk up in the response cache; ``concurrency`` workers call the
provider under the adaptive concurrency limit and the rate pacer, retrying what is worth
retrying; one writer commits what they produced every ``flush_interval`` in a single
transaction, renewing the run's lease as it does. A task is durable as soon as its batch
commits; until then it is still pending in the worklist, so a crash redoes it and nothing else.

The executor stops early, leaving the rest pending, when the run is cancelled (the lease is
gone: what is in flight is dropped, its paid answers kept in the cache), when the budget would
be passed (calls in flight finish and count), or on a fatal provider error such as a refused
key (the run fails with its message).
"""

from __future__ import annotations

import asyncio
import logging
import random
import threading
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass, replace
from typing import Any

import orjson

from prelabel.engine.cache import cache_key, cached_responses, store_responses
from prelabel.engine.estimates import answer_tokens
from prelabel.engine.job import RunJob
from prelabel.engine.pacing import AdaptiveConcurrency, RetryPolicy, SharedSlots
from prelabel.engine.rate_limits import RatePacer
from prelabel.engine.records import Failed, Predicted, record_batch
from prelabel.engine.worklist import Lease, PendingTask, pending_tasks
from prelabel.errors import ModelOutputError, ProviderError, ProviderRateLimited, TemplateError
from prelabel.prompting.answers import read_answer, read_answer_object
from prelabel.providers.base import ChatRequest, ChatResponse, Provider
from prelabel.providers.prices import estimate_tokens
from prelabel.store import Run, Store

logger = logging.getLogger(__name__)

# Writes that may fail in a row before the run stops.
_WRITE_ATTEMPTS = 5
# Tokens a chat request adds around its messages' text (roles, separators).
_MESSAGE_OVERHEAD = 8


@dataclass(frozen=True)
class RunProgress:
    """A run's totals as committed, reported after every batch the executor writes."""

    run_id: int
    total: int
    done: int
    failed: int
    input_tokens: int
    output_tokens: int
    cost_usd: float

    @classmethod
    def of(cls, run: Run) -> RunProgress:
        return cls(
            run.id,
            run.total,
            run.done,
            run.failed,
            run.input_tokens,
            run.output_tokens,
            run.cost_usd,
        )


@dataclass(frozen=True)
class _Item:
    """One task ready to send: its request, cache key, token estimate and any cached answer."""

    task: PendingTask
    request: ChatRequest | None
    key: str | None
    tokens: int
    cached: dict[str, Any] | None = None
    invalid: str | None = None


class _Halt(Exception):
    """Raised inside the executor to stop it: why, and the run's final status and error."""

    def __init__(self, reason: str, status: str | None, error: str | None) -> None:
        super().__init__(reason)
        self.status = status
        self.error = error


async def execute_run(
    job: RunJob,
    store: Store,
    provider: Provider,
    *,
    lease: Lease,
    on_progress: Callable[[RunProgress], None] | None = None,
    pacer: RatePacer | None = None,
    shared_slots: SharedSlots | None = None,
    rng: random.Random | None = None,
    chunk_size: int = 500,
    flush_interval: float = 0.25,
    heartbeat_interval: float = 2.0,
) -> None:
    """Execute the pending tasks of ``job``'s run that ``lease`` holds (the whole run, or a
    chunk of it for a distributed worker).

    Returns when the rows are done (the lease finishes them: the run is Completed, or the
    chunk is), the run was cancelled or taken over (left as the canceller set it), the budget
    stopped it (Canceled, with why) or a fatal provider error ended it (Failed, with the
    error). ``pacer`` and ``shared_slots`` are the rate and concurrency limits, counted in
    this process by default or across every worker of a deployment.
    """
    execution = _Execution(
        job,
        store,
        provider,
        lease=lease,
        on_progress=on_progress,
        shared_slots=shared_slots,
        pacer=pacer or RatePacer(rpm=job.options.rpm, tpm=job.options.tpm, key=f"run:{job.run_id}"),
        rng=rng or random.Random(),
        chunk_size=chunk_size,
        flush_interval=flush_interval,
        heartbeat_interval=heartbeat_interval,
    )
    await execution.run()


class _Execution:
    def __init__(
        self,
        job: RunJob,
        store: Store,
        provider: Provider,
        *,
        lease: Lease,
        on_progress: Callable[[RunProgress], None] | None,
        shared_slots: SharedSlots | None,
        pacer: RatePacer,
        rng: random.Random,
        chunk_size: int,
        flush_interval: float,
        heartbeat_interval: float,
    ) -> None:
        self.job = job
        self.store = store
        self.provider = provider
        self.lease = lease
        self.on_progress = on_progress
        self.shared_slots = shared_slots
        self.pacer = pacer
        self.rng = rng
        self.chunk_size = chunk_size
        self.flush_interval = flush_interval
        self.heartbeat_interval = heartbeat_interval
        options = job.options
        self.limit = AdaptiveConcurrency(options.concurrency)
        self.retry = RetryPolicy(max_attempts=options.max_attempts)
        self.answer = answer_tokens(job.schema, job.parameters.get("max_tokens"))
        self.halt: _Halt | None = None
        self.buffer: list[Predicted | Failed] = []
        self.answers: list[tuple[str, dict[str, Any]]] = []
        self.spent = 0.0
        # What other workers of the run spent since this one started (chunks run side by
        # side); read back at each write, so the budget counts the whole run's spending.
        self.spent_elsewhere = 0.0
        self.committed = 0.0
        self.reserved = 0.0
        self.tasks: list[asyncio.Task[None]] = []
        self._flushing = threading.Lock()
        self._caching = job.options.cache and job.cache_answers

    # The three parts: reader, workers, writer

    async def run(self) -> None:
        self.spent = self.committed = await asyncio.to_thread(self._committed_cost)
        work: asyncio.Queue[_Item | None] = asyncio.Queue(maxsize=self.job.options.concurrency * 2)
        workers = [self._work(work) for _ in range(self.job.options.concurrency)]
        self.tasks = [asyncio.create_task(part) for part in (self._feed(work), *workers)]
        writer = asyncio.create_task(self._write_periodically())
        try:
            outcomes = await asyncio.gather(*self.tasks, return_exceptions=True)
        except asyncio.CancelledError:
            # Interrupted (Ctrl-C): keep what is finished, then give the run up as Canceled.
            for task in self.tasks:
                task.cancel()
            await asyncio.to_thread(self._flush)
            await asyncio.to_thread(self._interrupt)
            raise
        finally:
            writer.cancel()
        errors = [e for e in outcomes if isinstance(e, Exception)]
        try:
            if errors:
                raise errors[0]
            await asyncio.to_thread(self._finish)
        except Exception as error:
            await asyncio.to_thread(self._end, "Failed", f"internal error: {error!r}")
            raise

    async def _feed(self, work: asyncio.Queue[_Item | None]) -> None:
        """Stream the pending tasks into ``work`` until none is left or the run must stop,
        then tell each worker there is no more."""
        after = self.lease.after
        while self.halt is None:
            chunk = await asyncio.to_thread(self._next_items, after)
            if not chunk:
                break
            after = chunk[-1].task.run_task_id
            for item in chunk:
                if self.halt is not None:
                    break
                await work.put(item)
        for _ in range(self.job.options.concurrency):
            await work.put(None)

    async def _work(self, work: asyncio.Queue[_Item | None]) -> None:
        while (item := await work.get()) is not None:
            if self.halt is None:
                outcome = await self._outcome(item)
                if outcome is not None:
                    self.buffer.append(outcome)

    async def _write_periodically(self) -> None:
        """Flush every ``flush_interval``, or renew the lease when idle that long; stop every
        part at once when the lease is gone (the run was cancelled or taken over).

        A failed write is tried again at the next flush (a locked SQLite file, a PostgreSQL
        failover); after ``_WRITE_ATTEMPTS`` failures in a row the run stops, since every
        answer from then on would be paid for and lost."""
        last_beat = time.monotonic()
        failures = 0
        while True:
            await asyncio.sleep(self.flush_interval)
            beat_due = time.monotonic() - last_beat >= self.heartbeat_interval
            if self.buffer or self.answers or beat_due:
                try:
                    await asyncio.to_thread(self._flush)
                except Exception as error:
                    failures += 1
                    logger.warning(
                        "run %s: cannot write results (%d): %s", self.job.run_id, failures, error
                    )
                    if failures < _WRITE_ATTEMPTS:
                        continue
                    self._stop(_Halt("store", "Failed", f"cannot write results: {error}"))
                    for task in self.tasks:
                        task.cancel()
                    return
                failures = 0
                last_beat = time.monotonic()
            if self.halt is not None and self.halt.status is None:
                for task in self.tasks:
                    task.cancel()
                return

    # One task

    async def _outcome(self, item: _Item) -> Predicted | Failed | None:
        """What became of one task; ``None`` when the run stopped before it was done."""
        if item.invalid is not None:
            return Failed(item.task.task_id, "invalid_input", item.invalid, attempts=0)
        if item.cached is not None:
            outcome = self._read_answer(item, _response_of(item.cached), attempts=0, cached=True)
            if isinstance(outcome, Predicted):
                return outcome
        assert item.request is not None
        attempt = 0
        while True:
            attempt += 1
            await self.pacer.acquire(item.tokens)
            reserve = self._reserve(item)
            if reserve is None:
                return None
            generation = 0
            try:
                async with self.limit.slot() as generation, self._shared_slot():
                    if self.halt is not None:
                        return None
                    started = time.monotonic()
                    response = await self.provider.complete(
                        item.request, timeout=self.job.options.timeout
                    )
            except ProviderError as error:
                self.reserved -= reserve
                wait = await self._after_failure(error, generation)
                if error.fatal:
                    self._stop(_Halt("fatal", "Failed", error.message))
                    return None
                if not self.retry.should_retry(error, attempt):
                    return Failed(item.task.task_id, error.kind, error.message, attempts=attempt)
                await asyncio.sleep(self.retry.delay(attempt, wait, self.rng))
                continue
            self.reserved -= reserve
            await self.limit.succeeded()
            self.pacer.observe(response.rate_limits, item.tokens)
            latency = (time.monotonic() - started) * 1000
            return self._read_answer(item, response, latency_ms=latency, attempts=attempt)

    async def _after_failure(self, error: ProviderError, generation: int) -> float | None:
        """Slow down after a 429; returns the wait the provider asked for, if any."""
        if not isinstance(error, ProviderRateLimited):
            return None
        await self.limit.rate_limited(generation)
        if error.retry_after:
            self.pacer.pause(error.retry_after)
        self.pacer.observe(getattr(error, "rate_limits", None), 0)
        return error.retry_after

    def _read_answer(
        self,
        item: _Item,
        response: ChatResponse,
        *,
        latency_ms: float | None = None,
        attempts: int = 1,
        cached: bool = False,
    ) -> Predicted | Failed:
        """The prediction an answer gives, or its ``invalid_output`` failure; either way what
        it cost (nothing when it came from the cache)."""
        task = item.task
        input_tokens = response.input_tokens
        if input_tokens is None:
            input_tokens = item.tokens - self.answer.expected
        output_tokens = response.output_tokens
        if output_tokens is None:
            output_tokens = estimate_tokens(_answer_text(response))
        cost = self._cost(input_tokens, output_tokens)
        if not cached:
            self.spent += cost or 0.0
        spent = {
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "cost_usd": 0.0 if cached else cost,
            "attempts": attempts,
        }
        try:
            if response.parsed is not None:
                read = read_answer_object(self.job.config, response.parsed, task.data)
            else:
                read = read_answer(self.job.config, response.text or "", task.data)
        except ModelOutputError as error:
            message = error.message
            if response.truncated:
                message = f"the answer was cut off at max_tokens: {message}"
            return Failed(task.task_id, error.kind, message, raw_excerpt=error.excerpt, **spent)
        if not cached and item.key is not None:
            self.answers.append((item.key, _cached_form(response, latency_ms)))
        if cached:
            latency_ms = (item.cached or {}).get("latency_ms")
        return Predicted(
            task.task_id,
            read.result,
            score=response.score,
            latency_ms=latency_ms,
            repairs=tuple(read.repairs),
            **spent,
        )

    # Money

    def _reserve(self, item: _Item) -> float | None:
        """Set aside the most the call could cost; ``None`` (and a halt) when the budget
        cannot cover it on top of what is spent and set aside already."""
        if self.halt is not None:
            return None
        budget = self.job.options.budget_usd
        most = self._cost(item.tokens - self.answer.expected, self.answer.high) or 0.0
        spent = self.spent + self.spent_elsewhere
        if budget is not None and spent + self.reserved + most > budget:
            self._stop(
                _Halt(
                    "budget",
                    "Canceled",
                    f"stopped before passing the budget of ${budget:.4f} "
                    f"(spent ${spent:.4f}); resume with a larger budget to go on",
                )
            )
            return None
        self.reserved += most
        return most

    def _cost(self, input_tokens: int, output_tokens: int) -> float | None:
        price = self.job.price
        return price.cost(input_tokens, output_tokens) if price is not None else None

    def _stop(self, halt: _Halt) -> None:
        if self.halt is None:
            self.halt = halt

    def _shared_slot(self) -> AbstractAsyncContextManager[object]:
        return self.shared_slots.slot() if self.shared_slots is not None else nullcontext()

    # Store work, run in a thread

    def _next_items(self, after: int) -> list[_Item]:
        with self.store.session() as session:
            tasks = pending_tasks(
                session, self.job.run_id, after=after, limit=self.chunk_size, upto=self.lease.upto
            )
            items = [self._item(task) for task in tasks]
            if self._caching:
                found = cached_responses(session, [i.key for i in items if i.key is not None])
                items = [replace(i, cached=found.get(i.key or "")) for i in items]
        return items

    def _item(self, task: PendingTask) -> _Item:
        try:
            messages = self.job.messages(task.data)
        except TemplateError as error:
            return _Item(task, None, None, 0, invalid=error.message)
        request = self.job.request(messages, task.task_id)
        tokens = (
            estimate_tokens(messages.system)
            + estimate_tokens(messages.user)
            + _MESSAGE_OVERHEAD
            + self.answer.expected
        )
        key = (
            cache_key(
                base_url=self.job.base_url,
                model=self.job.model,
                parameters=self.job.parameters,
                messages=request.messages,
                schema=self.job.schema,
            )
            if self._caching
            else None
        )
        return _Item(task, request, key, tokens)

    def _committed_cost(self) -> float:
        with self.store.session() as session:
            run = session.get(Run, self.job.run_id)
            return run.cost_usd if run is not None else 0.0

    def _flush(self) -> None:
        """Commit the buffered outcomes and renew the lease, in one transaction; when the
        lease is gone, only the paid answers are kept (in the cache) and the executor halts.

        One flush at a time: cancelling the periodic writer does not stop a flush already
        running in its thread, and the final flush must not overtake it."""
        with self._flushing:
            self._flush_now()

    def _flush_now(self) -> None:
        batch, self.buffer = self.buffer, []
        answers, self.answers = self.answers, []
        try:
            with self.store.session() as session:
                store_responses(session, answers)
                if not self.lease.renew(session):
                    self._stop(_Halt("lost", None, None))
                    return
                run = session.get(Run, self.job.run_id)
                assert run is not None, "a run with a lease exists"
                record_batch(session, run, batch)
                others = run.cost_usd - self.committed - sum(o.cost_usd or 0.0 for o in batch)
                progress = RunProgress.of(run)
        except Exception:
            # Nothing was committed: keep the outcomes for the next flush to write.
            self.buffer[:0] = batch
            self.answers[:0] = answers
            raise
        self.spent_elsewhere += others
        self.committed = progress.cost_usd
        if self.on_progress is not None:
            self.on_progress(progress)

    def _finish(self) -> None:
        self._flush()
        halt = self.halt
        if halt is None:
            self._end(None, None)
        elif halt.status is not None:
            self._end(halt.status, halt.error)

    def _end(self, status: str | None, error: str | None) -> None:
        with self.store.session() as session:
            self.lease.finish(session, status, error)

    def _interrupt(self) -> None:
        with self.store.session() as session:
            self.lease.interrupt(session)


def _answer_text(response: ChatResponse) -> str:
    if response.text is not None:
        return response.text
    return orjson.dumps(response.parsed).decode() if response.parsed is not None else ""


def _cached_form(response: ChatResponse, latency_ms: float | None) -> dict[str, Any]:
    return {
        "text": response.text,
        "parsed": response.parsed,
        "input_tokens": response.input_tokens,
        "output_tokens": response.output_tokens,
        "mode": response.mode,
        "model": response.model,
        "latency_ms": latency_ms,
        "score": response.score,
    }


def _response_of(cached: dict[str, Any]) -> ChatResponse:
    return ChatResponse(
        text=cached.get("text"),
        parsed=cached.get("parsed"),
        input_tokens=cached.get("input_tokens"),
        output_tokens=cached.get("output_tokens"),
        mode=cached.get("mode", "text"),
        model=cached.get("model", ""),
        rate_limits=None,
        score=cached.get("score"),
    )
