"""A run's limits counted in Redis, so that every worker executing its chunks keeps them together.

Requests and tokens per minute are the ``limits`` library's moving windows on its Redis
storage, under the same key the in-process executor uses in memory. Concurrency has no such
library: :class:`RedisSlots` is a counting semaphore of a few lines — a sorted set of holders
scored by when their hold expires, so the slots of a worker killed mid-call free themselves
after the request timeout instead of leaking.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from limits.aio.storage import RedisStorage
from redis.asyncio import Redis

from prelabel.engine.job import RunJob
from prelabel.engine.pacing import SharedSlots
from prelabel.engine.rate_limits import RatePacer

# Takes a slot when fewer than ARGV[1] holders hold one; holds expire ARGV[3] s from now by
# the server's clock, so workers on machines whose clocks differ agree.
_TAKE_SLOT = """
local now = redis.call('TIME')
local seconds = tonumber(now[1]) + tonumber(now[2]) / 1000000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', seconds)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], seconds + tonumber(ARGV[3]), ARGV[2])
  redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[3])) + 60)
  return 1
end
return 0
"""

# The longest and shortest wait between two tries for a slot when all are taken.
_FIRST_WAIT = 0.002
_LONGEST_WAIT = 0.05
# How long past a request's timeout a slot stays held by a worker that never gave it back.
_HOLD_MARGIN = 30.0


class RedisSlots:
    """At most ``limit`` holders at once across every process that uses ``key``."""

    def __init__(self, client: Redis, key: str, limit: int, *, hold_seconds: float) -> None:
        self._client = client
        self._key = key
        self._limit = limit
        self._hold = hold_seconds
        self._take = client.register_script(_TAKE_SLOT)
        self._asking = asyncio.Lock()

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        holder = secrets.token_hex(8)
        if not await self._take_slot(holder):
            # Every slot is taken: one caller of this process polls Redis at a time, and the
            # others wait their turn here rather than all polling at once.
            async with self._asking:
                wait = _FIRST_WAIT
                while not await self._take_slot(holder):
                    await asyncio.sleep(wait)
                    wait = min(wait * 2, _LONGEST_WAIT)
        try:
            yield
        finally:
            await self._client.zrem(self._key, holder)

    async def _take_slot(self, holder: str) -> bool:
        return bool(await self._take(keys=[self._key], args=[self._limit, holder, self._hold]))


@asynccontextmanager
async def redis_limits(
    redis_url: str, namespace: str, job: RunJob
) -> AsyncIterator[tuple[RatePacer, SharedSlots]]:
    """The run's pacer and concurrency slots, counted in the Redis at ``redis_url`` under
    ``namespace`` (the queue's name: deployments sharing one Redis count apart).

    Opened inside the event loop that executes the chunk (redis' asyncio connections belong
    to one loop) and closed with it."""
    client = Redis.from_url(redis_url)
    try:
        storage = RedisStorage(
            "async+" + redis_url,
            implementation="redispy",
            connection_pool=client.connection_pool,
        )
        options = job.options
        key = f"prelabel:{namespace}:run:{job.run_id}"
        pacer = RatePacer(rpm=options.rpm, tpm=options.tpm, key=key, storage=storage)
        slots = RedisSlots(
            client,
            f"{key}:slots",
            options.concurrency,
            hold_seconds=options.timeout + _HOLD_MARGIN,
        )
        yield pacer, slots
    finally:
        await client.aclose()
