"""Fixtures for the distributed backend: the real Redis on 127.0.0.1, a queue of each test's
own, settings that name both, and a version to run against the fake LLM server.

Redis is skipped with the reason when absent, except in CI (``PRELABEL_TEST_REQUIRE_REDIS``)
where its absence fails the run.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from prelabel.encryption import open_secret_box
from prelabel.engine.job import RunOptions
from prelabel.jobs.distributed import ChunkQueue, Dispatcher
from prelabel.services.run_execution import Runtime, start_run
from prelabel.services.runs import Baseline
from prelabel.settings import Settings
from prelabel.store import PromptVersion, Run, Store
from tests.engine.conftest import fake_version, reviews
from tests.factories import import_json, make_project
from tests.fakes.llm_server import FakeLLMServer

REDIS_URL = os.environ.get("PRELABEL_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(scope="session")
def redis_url() -> str:
    client = Redis.from_url(REDIS_URL, socket_connect_timeout=3)
    try:
        client.ping()
    except RedisConnectionError as exc:
        reason = f"Redis is not reachable at {REDIS_URL}: {exc}"
        if os.environ.get("PRELABEL_TEST_REQUIRE_REDIS"):
            pytest.fail(reason)
        pytest.skip(reason)
    finally:
        client.close()
    return REDIS_URL


@pytest.fixture
def distributed(settings: Settings, redis_url: str) -> Iterator[Settings]:
    """The test's settings with Redis and a queue of the test's own (tests and suites that
    run at once share the Redis, never a queue or a limit's keys)."""
    queue = f"prelabel-test-{secrets.token_hex(6)}"
    yield settings.model_copy(
        update={"redis_url": redis_url, "queue_name": queue, "chunk_size": 10}
    )
    client = Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"*{queue}*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture
def runtime(distributed: Settings) -> Runtime:
    """The runtime the workers open: the key box of the test's data directory."""
    return Runtime.from_settings(distributed)


def make_version(
    store: Store, settings: Settings, fake_llm: FakeLLMServer, *, tasks: int
) -> PromptVersion:
    """A project of ``tasks`` reviews and a prompt version against the fake LLM server, its
    key sealed with the data directory's secret, which the workers open too."""
    with store.session() as session:
        project = make_project(session)
        import_json(session, project, reviews(tasks))
        return fake_version(session, project, open_secret_box(settings), fake_llm)


def start(
    store: Store, runtime: Runtime, version: PromptVersion, baseline: str = "all", **options: Any
) -> int:
    """A Pending run of the version; its id."""
    with store.session() as session:
        run = start_run(
            session,
            runtime,
            session.get(PromptVersion, version.id),
            Baseline.parse(baseline),
            RunOptions(**options),
        )
        return run.id


def dispatch(store: Store, settings: Settings) -> None:
    """One dispatcher pass, as the server makes when a run is created."""
    queue = ChunkQueue(settings)
    try:
        Dispatcher(store, queue, rows_per_chunk=settings.chunk_size).run_pass()
    finally:
        queue.close()


def run_of(store: Store, run_id: int) -> Run:
    with store.session() as session:
        run = session.get(Run, run_id)
        assert run is not None
        session.expunge(run)
        return run
