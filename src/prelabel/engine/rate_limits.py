"""Requests and tokens per minute: the pace a run keeps so that the provider never has to refuse.

Two sources set the pace. The run's own caps (``--rpm``, ``--tpm``) are counted in a moving
one-minute window by the ``limits`` library, whose storage can be memory (one process) or Redis
(every worker of a deployment counting against the same window). The provider's own state comes
with its answers: a 429's ``Retry-After`` and ``x-ratelimit-remaining-*`` headers at zero pause
every new request until the budget is restored.
"""

from __future__ import annotations

import asyncio
import time

from limits import RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from prelabel.providers.base import RateLimitInfo

# The shortest wait between checks of a full window: short enough to lose little throughput,
# long enough not to spin.
_MIN_WAIT = 0.01


class RatePacer:
    """Waits before each request until the request and token budgets allow it.

    ``key`` names the budget being counted: runs that share a key share a budget (the same
    connection seen from several workers). A request's token cost is an estimate made before
    it is sent; one larger than the whole ``tpm`` budget is counted as the whole budget, so it
    waits for an empty window rather than forever::

        pacer = RatePacer(rpm=500, tpm=200_000, key="connection:3")
        await pacer.acquire(tokens=850)
    """

    def __init__(
        self,
        *,
        rpm: int | None = None,
        tpm: int | None = None,
        key: str = "default",
        storage: Storage | None = None,
    ) -> None:
        self._limiter = MovingWindowRateLimiter(storage or MemoryStorage())
        self._requests = RateLimitItemPerMinute(rpm) if rpm else None
        self._tokens = RateLimitItemPerMinute(tpm) if tpm else None
        self._key = key
        self._paused_until = 0.0

    async def acquire(self, tokens: int) -> None:
        """Return once one request of about ``tokens`` tokens may be sent, and count it."""
        while True:
            wait = self._paused_until - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
                continue
            wait = await self._take(max(1, tokens))
            if wait is None:
                return
            await asyncio.sleep(wait)

    def pause(self, seconds: float) -> None:
        """Send nothing new for ``seconds`` (a ``Retry-After``); a longer pause already set wins."""
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)

    def observe(self, info: RateLimitInfo | None, tokens: int) -> None:
        """Follow the budget an answer's headers report: pause until it resets when it is spent.

        ``tokens`` is the size of a typical request: a token budget smaller than that is spent.
        """
        if info is None:
            return
        if info.requests_remaining == 0 and info.requests_reset:
            self.pause(info.requests_reset)
        if (
            info.tokens_remaining is not None
            and info.tokens_remaining < tokens
            and info.tokens_reset
        ):
            self.pause(info.tokens_reset)

    async def _take(self, tokens: int) -> float | None:
        """Count one request of ``tokens``; ``None`` when it fits, else seconds to wait first."""
        if self._tokens is not None:
            cost = min(tokens, self._tokens.amount)
            if not await self._limiter.hit(self._tokens, self._key, "tokens", cost=cost):
                return await self._wait(self._tokens, "tokens")
        if self._requests is not None and not await self._limiter.hit(
            self._requests, self._key, "requests"
        ):
            # The tokens counted above stay counted: a little under-use, never an overrun.
            return await self._wait(self._requests, "requests")
        return None

    async def _wait(self, item: RateLimitItemPerMinute, budget: str) -> float:
        stats = await self._limiter.get_window_stats(item, self._key, budget)
        return max(_MIN_WAIT, stats.reset_time - time.time())
