"""The API's JSON response: orjson-encoded, timestamps in UTC with a ``Z``.

Handlers return payloads built by ``services.serialization`` wrapped in ``JSONBody``, which
skips FastAPI's per-field re-encoding of plain dicts: a page of 1,000 tasks with their
predictions is encoded once, by orjson.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC | orjson.OPT_NON_STR_KEYS


class JSONBody(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=_OPTIONS)
