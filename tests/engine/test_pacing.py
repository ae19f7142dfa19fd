"""Retry delays and the AIMD concurrency limit."""

from __future__ import annotations

import asyncio
import random

import pytest

from prelabel.engine.pacing import AdaptiveConcurrency, RetryPolicy
from prelabel.errors import (
    ProviderAuthError,
    ProviderRateLimited,
    ProviderRequestError,
    ProviderTimeout,
    ProviderUnavailable,
    ValidationError,
)


@pytest.mark.parametrize(
    ("error", "retried"),
    [
        pytest.param(ProviderRateLimited("429"), True, id="rate-limit"),
        pytest.param(ProviderTimeout("slow"), True, id="timeout"),
        pytest.param(ProviderUnavailable("500"), True, id="server-error"),
        pytest.param(ProviderAuthError("401"), False, id="auth"),
        pytest.param(ProviderRequestError("400"), False, id="bad-request"),
    ],
)
def test_only_transient_failures_are_retried_and_only_up_to_the_limit(
    error: Exception, retried: bool
) -> None:
    policy = RetryPolicy(max_attempts=3)
    assert policy.should_retry(error, 1) is retried  # type: ignore[arg-type]
    assert policy.should_retry(error, 3) is False  # type: ignore[arg-type]


def test_backoff_grows_is_jittered_capped_and_honours_retry_after() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=8.0)
    rng = random.Random(1)
    for attempt, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (9, 8.0)]:
        delays = [policy.delay(attempt, None, rng) for _ in range(200)]
        assert all(0.0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling * 0.8 and len(set(delays)) > 100, "spread, not lockstep"
    assert policy.delay(1, 30.0, rng) == 30.0, "never sooner than the provider asked"


@pytest.mark.parametrize(
    "options",
    [{"max_attempts": 0}, {"base_delay": 0}, {"base_delay": 10, "max_delay": 1}],
)
def test_invalid_retry_policy_is_refused(options: dict[str, float]) -> None:
    with pytest.raises(ValidationError):
        RetryPolicy(**options)  # type: ignore[arg-type]


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def test_slots_beyond_the_limit_wait_until_one_is_released() -> None:
    async def scenario() -> None:
        limiter = AdaptiveConcurrency(2)
        first, second, waiting = limiter.slot(), limiter.slot(), limiter.slot()
        await first.__aenter__()
        await second.__aenter__()
        third = asyncio.create_task(waiting.__aenter__())
        await _settle()
        assert not third.done() and limiter.in_flight == 2
        await first.__aexit__(None, None, None)
        await _settle()
        assert third.done() and limiter.in_flight == 2
        await second.__aexit__(None, None, None)
        await waiting.__aexit__(None, None, None)
        assert limiter.in_flight == 0

    asyncio.run(scenario())


def test_rate_limit_halves_once_per_generation_and_successes_earn_slots_back() -> None:
    async def scenario() -> None:
        limiter = AdaptiveConcurrency(8, minimum=2)
        generation = 0
        await limiter.rate_limited(generation)
        await limiter.rate_limited(generation)  # already in flight when the limit dropped
        assert limiter.limit == 4
        await limiter.rate_limited(generation + 1)
        await limiter.rate_limited(generation + 2)
        assert limiter.limit == 2, "never below the minimum"
        for _ in range(2):
            await limiter.succeeded()
        assert limiter.limit == 3
        for _ in range(3 + 4 + 5 + 6 + 7 + 8):
            await limiter.succeeded()
        assert limiter.limit == 8, "never above the maximum"

    asyncio.run(scenario())


def test_invalid_concurrency_bounds_are_refused() -> None:
    with pytest.raises(ValidationError):
        AdaptiveConcurrency(2, minimum=3)
