"""ASGI middleware: paths with or without their trailing slash.

Label Studio's SDK asks for ``api/projects/`` but ``api/projects/1/import``; every route is
declared once, without a trailing slash, and a request's trailing slash is dropped before
routing, so both spellings reach the same handler without a redirect (which clients would
have to follow with their body).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send


class OptionalTrailingSlash:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            if len(path) > 1 and path.endswith("/"):
                scope = dict(scope, path=path.rstrip("/") or "/")
                scope["raw_path"] = scope["path"].encode()
        await self.app(scope, receive, send)
