"""Provider tests run their SDK against the local fake LLM server, over real HTTP."""

from __future__ import annotations

import socket

import pytest


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    """Providers bound each request with ``asyncio.timeout``, so they run on asyncio only."""
    return "asyncio"


@pytest.fixture
def unreachable_url() -> str:
    """The address of a local port nothing listens on: connections to it are refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"
