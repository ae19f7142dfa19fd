"""An ASGI app served for real by uvicorn on an ephemeral port, in a background thread.

For clients that bring their own HTTP stack (the official ``label-studio-sdk``, schemathesis
against a URL): they must reach the app over a socket, as they would reach ``prelabel serve``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """Serve ``app`` (lifespan included) until the block ends; yields its base URL."""
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=0, log_config=None, log_level="warning", access_log=False
        )
    )
    thread = threading.Thread(target=server.run, name="live-api-server", daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the API server failed to start; see the log")
        thread.join(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join()
