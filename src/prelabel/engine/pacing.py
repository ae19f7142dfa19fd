"""How hard the engine presses a provider: retry delays and an adaptive concurrency limit.

Providers answer too many requests with 429 and a hint of how long to wait. The engine
retries with jittered exponential back-off that never waits less than the hint, and halves
its concurrency on a 429 (multiplicative decrease), earning it back one slot at a time as
calls succeed (additive increase): the AIMD rule TCP uses, so a run settles just under the
provider's limit instead of hammering it or idling.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from prelabel.errors import ProviderError, ValidationError

if TYPE_CHECKING:
    from prelabel.engine.job import RunJob
    from prelabel.engine.rate_limits import RatePacer


@dataclass(frozen=True)
class RetryPolicy:
    """When and after how long a failed call is tried again.

    Only retryable failures (rate limits, timeouts, 5xx, connection errors) are retried, at
    most ``max_attempts`` calls in all. The wait before attempt ``n + 1`` is drawn uniformly
    from ``[0, min(max_delay, base_delay * 2**(n-1))]`` ("full jitter", so many workers do not
    retry in lockstep) and is never shorter than the provider's ``Retry-After``::

        policy = RetryPolicy(max_attempts=4)
        if policy.should_retry(error, attempt):
            await asyncio.sleep(policy.delay(attempt, error_retry_after, rng))
    """

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 60.0

    def __post_init__(self) -> None:
        if not 1 <= self.max_attempts <= 100:
            raise ValidationError(f"max_attempts: must be 1 to 100, got {self.max_attempts}")
        if not 0 < self.base_delay <= self.max_delay:
            raise ValidationError("delays: need 0 < base_delay <= max_delay")

    def should_retry(self, error: ProviderError, attempt: int) -> bool:
        """Whether the call that failed on its ``attempt``-th try (from 1) gets another."""
        return error.retryable and attempt < self.max_attempts

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        """Seconds to wait after the ``attempt``-th try failed."""
        ceiling = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        backoff = rng.uniform(0.0, ceiling)
        return max(backoff, retry_after) if retry_after is not None else backoff


class AdaptiveConcurrency:
    """A concurrency limit between ``minimum`` and ``maximum`` that follows the provider.

    Callers hold a slot for each call (``async with limiter.slot() as ticket``) and report
    how it went. A 429 halves the limit, but only once per generation: calls that were
    already in flight when the limit dropped do not drop it again. After ``limit``
    successes in a row the limit grows by one.
    """

    def __init__(self, maximum: int, *, minimum: int = 1) -> None:
        if not 1 <= minimum <= maximum:
            raise ValidationError(
                f"concurrency: need 1 <= minimum <= maximum, got {minimum}..{maximum}"
            )
        self.maximum = maximum
        self.minimum = minimum
        self.limit = maximum
        self.in_flight = 0
        self._generation = 0
        self._successes = 0
        self._changed = asyncio.Condition()

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[int]:
        """Wait for a free slot; yields the generation to report outcomes against."""
        async with self._changed:
            await self._changed.wait_for(lambda: self.in_flight < self.limit)
            self.in_flight += 1
            generation = self._generation
        try:
            yield generation
        finally:
            async with self._changed:
                self.in_flight -= 1
                self._changed.notify_all()

    async def succeeded(self) -> None:
        async with self._changed:
            self._successes += 1
            if self._successes >= self.limit and self.limit < self.maximum:
                self.limit += 1
                self._successes = 0
                self._changed.notify_all()

    async def rate_limited(self, generation: int) -> None:
        """A call started in ``generation`` was told to slow down."""
        async with self._changed:
            self._successes = 0
            if generation == self._generation:
                self.limit = max(self.minimum, self.limit // 2)
                self._generation += 1


class SharedSlots(Protocol):
    """A concurrency limit shared by every worker of a deployment (the run's ``concurrency``
    counted across processes), held for each call on top of the worker's own limit."""

    def slot(self) -> AbstractAsyncContextManager[object]:
        """Wait for a free slot and hold it for the ``async with`` block."""
        ...


#: Opens a run's limits shared across workers, inside the loop executing it: its rate pacer
#: and its concurrency slots (``prelabel.jobs.shared_limits.redis_limits``, say).
SharedLimits = Callable[["RunJob"], AbstractAsyncContextManager[tuple["RatePacer", SharedSlots]]]
