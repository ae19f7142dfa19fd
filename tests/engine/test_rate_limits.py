"""The rate pacer: requests and tokens per minute, and the pauses a provider asks for."""

from __future__ import annotations

import asyncio

import pytest
from limits.aio.storage import MemoryStorage

from prelabel.engine.rate_limits import RatePacer
from prelabel.providers.base import RateLimitInfo

# A request that is held waits for the one-minute window to move on; this much waiting
# shows it is held without the test waiting for the window itself.
HELD = 0.2


async def _held(pacer: RatePacer, tokens: int = 1) -> bool:
    try:
        await asyncio.wait_for(pacer.acquire(tokens), HELD)
    except TimeoutError:
        return True
    return False


def test_requests_per_minute_let_that_many_through_then_hold_the_next() -> None:
    async def scenario() -> list[bool]:
        pacer = RatePacer(rpm=3)
        return [await _held(pacer) for _ in range(4)]

    assert asyncio.run(scenario()) == [False, False, False, True]


def test_tokens_per_minute_hold_a_request_that_would_pass_the_budget() -> None:
    async def scenario() -> list[bool]:
        pacer = RatePacer(tpm=100)
        return [await _held(pacer, 60), await _held(pacer, 30), await _held(pacer, 30)]

    assert asyncio.run(scenario()) == [False, False, True]


def test_a_request_larger_than_the_whole_token_budget_still_goes_in_an_empty_window() -> None:
    async def scenario() -> list[bool]:
        pacer = RatePacer(tpm=100)
        return [await _held(pacer, 5_000), await _held(pacer, 1)]

    assert asyncio.run(scenario()) == [False, True]


def test_runs_sharing_a_key_share_the_budget_and_others_do_not() -> None:
    async def scenario() -> list[bool]:
        storage = MemoryStorage()
        first = RatePacer(rpm=1, key="connection:1", storage=storage)
        same = RatePacer(rpm=1, key="connection:1", storage=storage)
        other = RatePacer(rpm=1, key="connection:2", storage=storage)
        return [await _held(first), await _held(same), await _held(other)]

    assert asyncio.run(scenario()) == [False, True, False]


@pytest.mark.parametrize(
    ("info", "tokens", "held"),
    [
        pytest.param(
            RateLimitInfo(requests_remaining=0, requests_reset=30), 10, True, id="requests-spent"
        ),
        pytest.param(
            RateLimitInfo(tokens_remaining=5, tokens_reset=30), 10, True, id="tokens-short"
        ),
        pytest.param(
            RateLimitInfo(requests_remaining=5, tokens_remaining=500), 10, False, id="budget-left"
        ),
        pytest.param(None, 10, False, id="no-headers"),
    ],
)
def test_an_answer_reporting_a_spent_budget_pauses_new_requests_until_it_resets(
    info: RateLimitInfo | None, tokens: int, held: bool
) -> None:
    async def scenario() -> bool:
        pacer = RatePacer()
        pacer.observe(info, tokens)
        return await _held(pacer)

    assert asyncio.run(scenario()) is held


def test_a_pause_holds_requests_and_a_shorter_one_does_not_shorten_it() -> None:
    async def scenario() -> list[bool]:
        pacer = RatePacer()
        pacer.pause(30)
        pacer.pause(0.01)
        first = await _held(pacer)
        released = RatePacer()
        released.pause(0.01)
        return [first, await _held(released)]

    assert asyncio.run(scenario()) == [True, False]
