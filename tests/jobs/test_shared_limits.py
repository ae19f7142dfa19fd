"""A run's limits counted in Redis hold across workers: each "worker" here has its own Redis
client and its own limits, as a process on another machine would."""

from __future__ import annotations

import asyncio
import secrets
from types import SimpleNamespace
from typing import Any

from redis import Redis as SyncRedis
from redis.asyncio import Redis

from prelabel.engine.job import RunOptions
from prelabel.jobs.shared_limits import RedisSlots, redis_limits


def _job(**options: Any) -> Any:
    """What the limits read of a job: its run and its options."""
    return SimpleNamespace(run_id=1, options=RunOptions(**options))


def test_concurrency_slots_are_shared_by_every_worker(redis_url: str) -> None:
    async def scenario() -> int:
        key = f"prelabel-test-{secrets.token_hex(6)}:slots"
        clients = [Redis.from_url(redis_url) for _ in range(3)]
        slots = [RedisSlots(client, key, 3, hold_seconds=30) for client in clients]
        holding = peak = 0

        async def call(worker: RedisSlots) -> None:
            nonlocal holding, peak
            async with worker.slot():
                holding += 1
                peak = max(peak, holding)
                await asyncio.sleep(0.01)
                holding -= 1

        try:
            await asyncio.gather(*(call(slots[i % 3]) for i in range(30)))
            assert await clients[0].zcard(key) == 0, "every slot was given back"
        finally:
            await clients[0].delete(key)
            for client in clients:
                await client.aclose()
        return peak

    assert asyncio.run(scenario()) == 3


def test_a_slot_never_given_back_frees_itself_after_its_hold(redis_url: str) -> None:
    async def scenario() -> None:
        key = f"prelabel-test-{secrets.token_hex(6)}:slots"
        client = Redis.from_url(redis_url)
        try:
            killed = RedisSlots(client, key, 1, hold_seconds=0.3)
            held = killed.slot()
            await held.__aenter__()  # a worker killed mid-call never leaves the block
            other = RedisSlots(client, key, 1, hold_seconds=30)
            try:
                async with asyncio.timeout(0.1):
                    async with other.slot():
                        raise AssertionError("the slot is held")
            except TimeoutError:
                pass
            async with asyncio.timeout(2):
                async with other.slot():
                    pass
        finally:
            await client.delete(key)
            await client.aclose()

    asyncio.run(scenario())


def test_requests_per_minute_are_counted_across_workers(redis_url: str) -> None:
    namespace = f"prelabel-test-{secrets.token_hex(6)}"

    async def scenario() -> tuple[int, bool]:
        job = _job(rpm=4)
        async with (
            redis_limits(redis_url, namespace, job) as (first, _),
            redis_limits(redis_url, namespace, job) as (second, _),
        ):
            sent = 0
            for pacer in (first, second, first, second):
                async with asyncio.timeout(1):
                    await pacer.acquire(10)
                sent += 1
            try:
                async with asyncio.timeout(0.3):
                    await second.acquire(10)
                waited = False
            except TimeoutError:
                waited = True
        return sent, waited

    try:
        sent, waited = asyncio.run(scenario())
    finally:
        client = SyncRedis.from_url(redis_url)
        keys = list(client.scan_iter(match=f"*{namespace}*"))
        if keys:
            client.delete(*keys)
        client.close()
    assert sent == 4
    assert waited, "the fifth request of the minute waits, whichever worker sends it"
