"""pytest fixtures for the fake LLM server: one server per xdist worker, reset for each test.

Registered by ``pytest_plugins`` in ``tests/conftest.py``. Starting the server is cheap, but
stopping it waits out uvicorn's shutdown ticks (about 0.2 s), so each worker process shares
one session server and every test gets it back in its constructor state by ``reset()``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.llm_server import FakeLLMServer


@pytest.fixture(scope="session")
def fake_llm_server() -> Iterator[FakeLLMServer]:
    """This worker's fake LLM server, running for the whole session; prefer ``fake_llm``."""
    with FakeLLMServer() as server:
        yield server


@pytest.fixture
def fake_llm(fake_llm_server: FakeLLMServer) -> Iterator[FakeLLMServer]:
    """The worker's fake LLM server, reset: default answers, no faults, no latency, no records.

    A test fails if its custom ``responder`` raised, since the client saw only a 500 that
    could pass for an injected ``server_error``.
    """
    fake_llm_server.reset()
    yield fake_llm_server
    if fake_llm_server.errors:
        errors = fake_llm_server.errors
        raise AssertionError(f"the fake LLM's responder raised {len(errors)} time(s)") from errors[
            0
        ]
