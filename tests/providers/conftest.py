"""Provider tests run their SDK against the local fake LLM server, over real HTTP."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    """Providers bound each request with ``asyncio.timeout``, so they run on asyncio only."""
    return "asyncio"


@pytest.fixture
def unreachable_url(closed_port: int) -> str:
    """An endpoint whose connections are refused."""
    return f"http://127.0.0.1:{closed_port}/v1"
