"""A local OpenAI- and Anthropic-compatible LLM server: the test double for every model call.

The LLM is the one thing the tests replace, and they replace it at the HTTP boundary rather
than by mocking an SDK, so that the real client code path runs: request building, SDK error
classes, timeouts, header parsing, retries and answer reading. The server speaks just enough
of the OpenAI Chat Completions, Embeddings and Anthropic Messages APIs for the official SDKs
to accept its answers, and can be told to misbehave the ways real providers do (latency, 429
with ``Retry-After``, 5xx, stalls, malformed, off-schema, refused and truncated answers, and
200s that are no answer: another JSON body or a proxy's HTML page).

It runs a FastAPI app under uvicorn in a background thread with its own event loop, bound to
an ephemeral port so that every xdist worker can run its own. Handlers are async and wait
on the event loop, so latency does not limit concurrency.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import itertools
import math
import random
import re
import struct
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Literal, get_args

import orjson
import uvicorn
from fastapi import FastAPI, Request, Response
from starlette.requests import ClientDisconnect

FaultKind = Literal[
    "rate_limit",
    "server_error",
    "timeout",
    "malformed",
    "off_schema",
    "refusal",
    "truncated",
    "auth",
    "bad_request",
    "not_a_completion",
    "html_page",
]
FAULT_KINDS: tuple[FaultKind, ...] = get_args(FaultKind)

EMBEDDING_DIMENSIONS = 64
REFUSAL = "I'm sorry, but I can't help with that request."
OFF_SCHEMA_LABEL = "Maybe"

Responder = Callable[[dict[str, Any]], object]
"""Request body -> answer: an object is sent as JSON, a ``str`` verbatim as the content.

A ``str`` answering a forced Anthropic tool comes back as a text block, as a model that
ignored the tool would answer.
"""

# Plausible budgets for the rate-limit headers of answers that are not 429s.
_REQUESTS_LIMIT = 10_000
_TOKENS_LIMIT = 2_000_000
_REQUESTS_RESET = 0.006  # 60 s / 10,000 requests per minute
_TOKENS_RESET = 0.03

# An error status -> (OpenAI error type, OpenAI error code, Anthropic error type).
_ERROR_TYPES: dict[int, tuple[str, str | None, str]] = {
    400: ("invalid_request_error", None, "invalid_request_error"),
    401: ("invalid_request_error", "invalid_api_key", "authentication_error"),
    429: ("requests", "rate_limit_exceeded", "rate_limit_error"),
    500: ("server_error", None, "api_error"),
}
# The faults answered with an error: kind -> (status, message).
_HTTP_FAULTS: dict[str, tuple[int, str]] = {
    "rate_limit": (429, "Rate limit reached for requests. Please try again later."),
    "server_error": (500, "The server had an error while processing your request."),
    "auth": (401, "Incorrect API key provided."),
    "bad_request": (400, "The request is invalid."),
}

# The faults answered 200 with something that is not an answer, as a misconfigured proxy or a
# half-compatible server does: kind -> the response.
_NOT_ANSWERS: dict[str, Callable[[], Response]] = {
    "not_a_completion": lambda: _json(
        {"object": "error", "message": "The upstream model is overloaded."}, {}
    ),
    "html_page": lambda: Response(
        "<html><body><h1>502 Bad Gateway</h1></body></html>", media_type="text/html"
    ),
}

_REQUIRED_FIELDS = {
    "openai": ("model", "messages"),
    "anthropic": ("model", "messages", "max_tokens"),
    "embeddings": ("model", "input"),
}
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Fault:
    """One misbehaviour for one request.

    ``retry_after`` (rate_limit) is sent as ``Retry-After`` and as the rate-limit reset; when
    ``None`` the 429 carries no ``Retry-After`` at all. ``delay`` (timeout) is how long the
    server stalls before answering normally; 0 stalls until ``release()``, ``reset()`` or
    ``stop()``, so a client timeout of any length fires first.
    """

    kind: FaultKind
    retry_after: float | None = None
    delay: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; kinds: {', '.join(FAULT_KINDS)}")


def schema_answer(schema: Mapping[str, Any]) -> object:
    """The simplest answer valid against ``schema``, so tests need no canned answers.

    The first ``const``/``enum`` value; ``null`` where the type allows it; ``[]`` for arrays
    (or ``minItems`` copies of the item answer); objects with each required property answered;
    0 (clamped to ``minimum``/``maximum``), ``""`` or ``false`` otherwise. ``anyOf``/``oneOf``
    answer their first branch that allows null, else their first branch.
    """
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    branches = schema.get("anyOf") or schema.get("oneOf")
    if branches:
        nullable = [branch for branch in branches if "null" in _types(branch)]
        return schema_answer((nullable or branches)[0])
    types = _types(schema)
    if "null" in types:
        return None
    kind = types[0] if types else ("object" if "properties" in schema else None)
    if kind == "object":
        properties = schema.get("properties", {})
        return {key: schema_answer(properties.get(key, {})) for key in schema.get("required", ())}
    if kind == "array":
        return [schema_answer(schema.get("items", {})) for _ in range(schema.get("minItems", 0))]
    if kind in ("integer", "number"):
        number = max(0, schema.get("minimum", 0))
        number = min(number, schema.get("maximum", number))
        return math.ceil(number) if kind == "integer" else number
    if kind == "string":
        return ""
    if kind == "boolean":
        return False
    return None


def request_schema(body: Mapping[str, Any]) -> dict[str, Any] | None:
    """The answer schema a chat request carries, or ``None`` (json_object and text modes).

    OpenAI: ``response_format.json_schema.schema``. Anthropic: the forced tool's
    ``input_schema``, else ``output_config.format.schema`` (structured outputs).
    """
    response_format = body.get("response_format") or {}
    if response_format.get("type") == "json_schema":
        return response_format.get("json_schema", {}).get("schema")
    tool = _forced_tool(body)
    if tool is not None:
        return tool.get("input_schema")
    output_format = (body.get("output_config") or {}).get("format") or {}
    if output_format.get("type") == "json_schema":
        return output_format.get("schema")
    return None


def default_responder(body: dict[str, Any]) -> object:
    """The schema-valid answer to the request's schema, or ``{}`` when it carries none."""
    schema = request_schema(body)
    return {} if schema is None else schema_answer(schema)


def embed(text: str, dimensions: int = EMBEDDING_DIMENSIONS) -> list[float]:
    """A deterministic unit vector for ``text``: a signed, hashed bag of its lowercase words.

    Texts that share words point the same way, which is all an embedding-based classifier
    needs to be tested; a text without words gives the zero vector.
    """
    vector = [0.0] * dimensions
    for word in _WORD.findall(text.lower()):
        digest = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")
        vector[digest % dimensions] += 1.0 if digest >> 63 else -1.0
    norm = math.sqrt(sum(value * value for value in vector))
    return [value / norm for value in vector] if norm else vector


class FakeLLMServer:
    """Runs a FastAPI app under uvicorn in a background thread (own event loop).

    Serves ``POST /v1/chat/completions`` (OpenAI), ``POST /v1/messages`` (Anthropic),
    ``POST /v1/embeddings`` and ``GET /v1/models``. Every knob can be changed while it runs;
    ``reset()`` restores the constructor's values. ``requests`` holds every POST body
    received; ``max_in_flight`` the most requests it was answering at once, which shows
    concurrency without timing anything; ``errors`` the exceptions a custom ``responder``
    raised (answered as 500s, which a test could otherwise mistake for an injected fault).
    Embeddings take the HTTP faults and timeouts; the answer faults leave them unchanged.
    """

    def __init__(
        self,
        *,
        latency: float = 0.0,
        usage: bool = True,
        reject_json_schema: bool = False,
        reject_json_object: bool = False,
    ) -> None:
        self._defaults = (latency, usage, reject_json_schema, reject_json_object)
        self.latency = latency
        self.usage = usage
        self.reject_json_schema = reject_json_schema
        self.reject_json_object = reject_json_object
        self.responder: Responder = default_responder
        self.requests: list[dict[str, Any]] = []
        self.errors: list[Exception] = []
        self.max_in_flight = 0
        self._in_flight = 0
        self._lock = threading.Lock()
        self._script: list[Fault] = []
        self._generation = 0
        self._random: tuple[float, list[Fault], random.Random] | None = None
        self._ids = itertools.count(1)
        self._port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._uvicorn: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    # Lifecycle

    def start(self) -> None:
        """Start serving and return once the port is bound."""
        if self._thread is not None:
            raise RuntimeError("the fake LLM server is already running")
        config = uvicorn.Config(
            self._app(),
            host="127.0.0.1",
            port=0,
            loop="asyncio",
            http="h11",
            lifespan="off",
            access_log=False,
            log_config=None,
            log_level="warning",
            timeout_graceful_shutdown=2,
        )
        self._uvicorn = uvicorn.Server(config)
        ready = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(ready,), name="fake-llm-server", daemon=True
        )
        self._thread.start()
        ready.wait()
        if not self._uvicorn.started:
            self._thread.join()
            self._thread = None
            raise RuntimeError("the fake LLM server failed to start; see the log")
        self._port = self._uvicorn.servers[0].sockets[0].getsockname()[1]

    def stop(self) -> None:
        """Release waiting requests, shut uvicorn down and wait for its thread to end."""
        if self._thread is None or self._uvicorn is None:
            return
        self.release()
        self._uvicorn.should_exit = True
        self._thread.join()
        self._thread = None
        self._loop = None

    def __enter__(self) -> FakeLLMServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """What ``openai.AsyncOpenAI(base_url=...)`` wants."""
        return f"http://127.0.0.1:{self._port}/v1"

    @property
    def anthropic_base_url(self) -> str:
        """What ``anthropic.AsyncAnthropic(base_url=...)`` wants (the SDK adds ``/v1``)."""
        return f"http://127.0.0.1:{self._port}"

    # Behaviour

    def script(self, *faults: Fault) -> None:
        """Give the next requests these faults, in order, one per request; then normal answers."""
        with self._lock:
            self._script.extend(faults)

    def fail_randomly(self, rate: float, kinds: Sequence[FaultKind | Fault], *, seed: int) -> None:
        """Fault each later request with probability ``rate``, of a kind drawn from ``kinds``.

        ``kinds`` may hold ``Fault`` objects to set ``retry_after`` or ``delay``. Scripted
        faults come first. The same seed gives the same sequence of faults.
        """
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"rate must be between 0 and 1, got {rate}")
        if not kinds:
            raise ValueError("fail_randomly needs at least one fault kind")
        faults = [kind if isinstance(kind, Fault) else Fault(kind) for kind in kinds]
        with self._lock:
            self._random = (rate, faults, random.Random(seed))

    def reset(self) -> None:
        """Clear script, random faults, records and errors; restore the constructor's settings."""
        with self._lock:
            self._generation += 1
            self._script.clear()
            self._random = None
            self.requests.clear()
        self.errors.clear()
        self.max_in_flight = 0
        self.latency, self.usage, self.reject_json_schema, self.reject_json_object = self._defaults
        self.responder = default_responder
        self.release()

    def release(self) -> None:
        """Let every request that has arrived and waits out ``latency`` or a timeout answer now.

        Tests use it to hold many requests in flight without timing anything, and ``reset()``
        and ``stop()`` call it so that no stalled request outlives its test.
        """
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._wake_all)

    @property
    def request_count(self) -> int:
        """How many POST requests arrived since the last ``reset()``, faulted ones included."""
        return len(self.requests)

    # Server thread

    def _run(self, ready: threading.Event) -> None:
        try:
            asyncio.run(self._serve(ready))
        finally:
            ready.set()

    async def _serve(self, ready: threading.Event) -> None:
        assert self._uvicorn is not None
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        serving = asyncio.create_task(self._uvicorn.serve())
        while not self._uvicorn.started and not serving.done():
            await asyncio.sleep(0.001)
        ready.set()
        await serving

    def _wake_all(self) -> None:
        assert self._wake is not None
        self._wake.set()
        self._wake = asyncio.Event()

    def _app(self) -> FastAPI:
        """The app; plain Starlette routes, as FastAPI's dependency solving would halve the rate."""
        app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

        async def chat_completions(request: Request) -> Response:
            return await self._handle(request, "openai")

        async def messages(request: Request) -> Response:
            return await self._handle(request, "anthropic")

        async def embeddings(request: Request) -> Response:
            return await self._handle(request, "embeddings")

        async def models(request: Request) -> Response:
            if "anthropic-version" in request.headers:
                return _json(_ANTHROPIC_MODELS, {})
            return _json(_OPENAI_MODELS, {})

        app.add_route("/v1/chat/completions", chat_completions, methods=["POST"])
        app.add_route("/v1/messages", messages, methods=["POST"])
        app.add_route("/v1/embeddings", embeddings, methods=["POST"])
        app.add_route("/v1/models", models, methods=["GET"])
        return app

    def _next_fault(self) -> Fault | None:
        with self._lock:
            if self._script:
                return self._script.pop(0)
            if self._random is not None:
                rate, faults, rng = self._random
                if rng.random() < rate:
                    return rng.choice(faults)
        return None

    async def _handle(self, request: Request, api: str) -> Response:
        """Record the body, wait out ``latency``, check key and fields, apply a fault, answer."""
        dialect = "anthropic" if api == "anthropic" else "openai"
        assert self._wake is not None
        wake = self._wake  # taken on arrival, so a release() from now on frees this request
        generation = self._generation
        self._in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self._in_flight)
        try:
            try:
                body = orjson.loads(await request.body())
            except ClientDisconnect:
                # The client died mid-request (tests kill clients on purpose): nobody to answer.
                return Response(status_code=499)
            except orjson.JSONDecodeError:
                return _error(dialect, 400, "The body is not valid JSON.")
            if not isinstance(body, dict):
                return _error(dialect, 400, "The body must be a JSON object.")
            with self._lock:
                self.requests.append(body)
            if self.latency:
                await _pause(wake, self.latency)
            if generation != self._generation:
                # Arrived before a reset(): its test is over, and it must not take a fault
                # scripted by the next one.
                return Response(status_code=499)
            if not (request.headers.get("authorization") or request.headers.get("x-api-key")):
                return _error(dialect, 401, "No API key provided.")
            missing = [field for field in _REQUIRED_FIELDS[api] if field not in body]
            if missing:
                return _error(dialect, 400, f"Missing required parameter: '{missing[0]}'.")
            fault = self._next_fault()
            kind = fault.kind if fault is not None else None
            if fault is not None and fault.kind in _HTTP_FAULTS:
                return _fault_error(dialect, fault)
            if fault is not None and fault.kind == "timeout":
                await _pause(wake, fault.delay or None)
                kind = None
            if kind in _NOT_ANSWERS:
                return _NOT_ANSWERS[kind]()
            if api == "embeddings":
                return self._embeddings(body)
            rejection = self._rejection(body, dialect)
            if rejection is not None:
                return _error(dialect, 400, rejection, param="response_format")
            try:
                answer = self.responder(body)
            except Exception as exc:
                self.errors.append(exc)
                return _error(dialect, 500, f"The test's responder raised {exc!r}.")
            if api == "openai":
                return self._chat_completion(body, answer, kind)
            return self._message(body, answer, kind)
        finally:
            self._in_flight -= 1

    def _rejection(self, body: Mapping[str, Any], dialect: str) -> str | None:
        """The message of a 400 for a structured-output mode this server plays unable to do."""
        if dialect == "anthropic":
            output_format = ((body.get("output_config") or {}).get("format") or {}).get("type")
            if self.reject_json_schema and output_format == "json_schema":
                return "output_config.format: json_schema is not supported on this model."
            return None
        response_format = (body.get("response_format") or {}).get("type")
        if (self.reject_json_schema and response_format == "json_schema") or (
            self.reject_json_object and response_format == "json_object"
        ):
            return (
                f"Invalid parameter: 'response_format' of type '{response_format}' "
                "is not supported with this model."
            )
        return None

    # Answers

    def _chat_completion(
        self, body: Mapping[str, Any], answer: object, kind: str | None
    ) -> Response:
        refusal = REFUSAL if kind == "refusal" else None
        content = None if refusal else _answer_text(body, answer, kind)
        payload: dict[str, Any] = {
            "id": f"chatcmpl-fake{next(self._ids)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body["model"],
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content, "refusal": refusal},
                    "logprobs": None,
                    "finish_reason": "length" if kind == "truncated" else "stop",
                }
            ],
        }
        if self.usage:
            prompt = _tokens(_text(body.get("messages")))
            completion = _tokens(content or refusal or "")
            payload["usage"] = {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
            }
        return _json(payload, _openai_headers(None))

    def _message(self, body: Mapping[str, Any], answer: object, kind: str | None) -> Response:
        tool = _forced_tool(body)
        content: list[dict[str, Any]]
        if kind == "refusal":
            content, stop_reason, output = [], "refusal", ""
        elif tool is not None and (
            kind == "off_schema" or (kind is None and not isinstance(answer, str))
        ):
            tool_input = answer if kind is None else _off_schema_answer(request_schema(body))
            block = {
                "type": "tool_use",
                "id": f"toolu_fake{next(self._ids)}",
                "name": tool["name"],
                "input": tool_input,
            }
            content, stop_reason, output = [block], "tool_use", orjson.dumps(tool_input).decode()
        else:
            output = _answer_text(body, answer, kind)
            content = [{"type": "text", "text": output}]
            stop_reason = "max_tokens" if kind == "truncated" else "end_turn"
        payload: dict[str, Any] = {
            "id": f"msg_fake{next(self._ids)}",
            "type": "message",
            "role": "assistant",
            "model": body["model"],
            "content": content,
            "stop_reason": stop_reason,
            "stop_sequence": None,
        }
        if self.usage:
            payload["usage"] = {
                "input_tokens": _tokens(_text(body.get("system")) + _text(body.get("messages"))),
                "output_tokens": _tokens(output),
            }
        return _json(payload, _anthropic_headers(None))

    def _embeddings(self, body: Mapping[str, Any]) -> Response:
        texts = _embedding_inputs(body["input"])
        dimensions = body.get("dimensions") or EMBEDDING_DIMENSIONS
        as_base64 = body.get("encoding_format") == "base64"
        data = []
        for index, text in enumerate(texts):
            vector: list[float] | str = embed(text, dimensions)
            if as_base64:
                packed = struct.pack(f"<{dimensions}f", *vector)
                vector = base64.b64encode(packed).decode()
            data.append({"object": "embedding", "index": index, "embedding": vector})
        payload: dict[str, Any] = {"object": "list", "data": data, "model": body["model"]}
        if self.usage:
            tokens = sum(_tokens(text) for text in texts)
            payload["usage"] = {"prompt_tokens": tokens, "total_tokens": tokens}
        return _json(payload, _openai_headers(None))


def _error(
    dialect: str,
    status: int,
    message: str,
    *,
    param: str | None = None,
    exhausted_for: float | None = None,
) -> Response:
    """An error body that each SDK parses into its exception class for ``status``."""
    openai_type, code, anthropic_type = _ERROR_TYPES[status]
    if dialect == "anthropic":
        payload: dict[str, Any] = {
            "type": "error",
            "error": {"type": anthropic_type, "message": message},
        }
        return _json(payload, _anthropic_headers(exhausted_for), status)
    payload = {"error": {"message": message, "type": openai_type, "param": param, "code": code}}
    return _json(payload, _openai_headers(exhausted_for), status)


def _fault_error(dialect: str, fault: Fault) -> Response:
    """The error answer of an HTTP fault; a 429 also spends the requests budget."""
    status, message = _HTTP_FAULTS[fault.kind]
    if fault.kind != "rate_limit":
        return _error(dialect, status, message)
    wait = _REQUESTS_RESET if fault.retry_after is None else fault.retry_after
    response = _error(dialect, status, message, exhausted_for=wait)
    if fault.retry_after is not None:
        response.headers["retry-after"] = f"{fault.retry_after:g}"
    return response


_OPENAI_MODELS = {
    "object": "list",
    "data": [
        {"id": name, "object": "model", "created": 1_700_000_000, "owned_by": "fake"}
        for name in ("fake-chat", "fake-chat-mini", "fake-embedding")
    ],
}
_ANTHROPIC_MODELS = {
    "data": [
        {
            "type": "model",
            "id": name,
            "display_name": name,
            "created_at": "2025-01-01T00:00:00Z",
        }
        for name in ("fake-claude", "fake-claude-mini")
    ],
    "has_more": False,
    "first_id": "fake-claude",
    "last_id": "fake-claude-mini",
}


def _types(schema: Mapping[str, Any]) -> list[str]:
    kind = schema.get("type")
    if kind is None:
        return []
    return [kind] if isinstance(kind, str) else list(kind)


def _forced_tool(body: Mapping[str, Any]) -> dict[str, Any] | None:
    """The tool an Anthropic request forces with ``tool_choice: {"type": "tool"}``, if any."""
    choice = body.get("tool_choice") or {}
    if choice.get("type") != "tool":
        return None
    for tool in body.get("tools") or ():
        if tool.get("name") == choice.get("name"):
            return tool
    return None


def _off_schema_answer(schema: Mapping[str, Any] | None) -> object:
    """Valid JSON that breaks ``schema``: a label outside an enum, else a required key missing.

    Without a schema (json_object and text modes) it is ``{"label": "Maybe"}``, which no
    closed answer schema accepts.
    """
    if schema is not None:
        answer = _violate(schema)
        if answer is not _NOTHING:
            return answer
    return {"label": OFF_SCHEMA_LABEL}


_NOTHING = object()


def _violate(schema: Mapping[str, Any]) -> object:
    """An answer to ``schema`` with one value outside an enum, or ``_NOTHING`` if none can be."""
    if schema.get("enum"):
        return OFF_SCHEMA_LABEL if OFF_SCHEMA_LABEL not in schema["enum"] else OFF_SCHEMA_LABEL * 2
    properties = schema.get("properties", {})
    required = list(schema.get("required", ()))
    if properties or required:
        answer = schema_answer(schema)
        assert isinstance(answer, dict)
        for key in required:
            value = _violate(properties.get(key, {}))
            if value is not _NOTHING:
                answer[key] = value
                return answer
        if required:
            del answer[required[0]]
            return answer
        return _NOTHING
    if "items" in schema:
        item = _violate(schema["items"])
        return _NOTHING if item is _NOTHING else [item]
    return _NOTHING


def _answer_text(body: Mapping[str, Any], answer: object, kind: str | None) -> str:
    """The answer as the content string, misshapen as the fault ``kind`` asks."""
    if kind == "off_schema":
        answer = _off_schema_answer(request_schema(body))
    text = answer if isinstance(answer, str) else orjson.dumps(answer).decode()
    if kind == "malformed":
        return "Sure! " + text[:-1]
    if kind == "truncated":
        return text[: len(text) // 2]
    return text


def _text(value: object) -> str:
    """All prompt text in messages or a system prompt, whether strings or content blocks."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "".join(_text(item) for item in value)
    if isinstance(value, dict):
        return _text(value.get("text")) + _text(value.get("content"))
    return ""


def _tokens(text: str) -> int:
    return len(text) // 4 + 1


def _embedding_inputs(value: object) -> list[str]:
    """Embeddings ``input`` as texts: a string, strings, token ids, or lists of token ids."""
    if isinstance(value, str):
        return [value]
    items = list(value) if isinstance(value, list) else []
    if items and all(isinstance(item, int) for item in items):
        items = [items]
    return [item if isinstance(item, str) else " ".join(map(str, item)) for item in items]


def _duration(seconds: float) -> str:
    """An OpenAI-style duration (``"6ms"``, ``"1.5s"``)."""
    return f"{round(seconds * 1000)}ms" if seconds < 1 else f"{seconds:g}s"


def _openai_headers(exhausted_for: float | None) -> dict[str, str]:
    """``x-ratelimit-*``: a roomy budget, or the requests budget spent for ``exhausted_for`` s."""
    return {
        "x-ratelimit-limit-requests": str(_REQUESTS_LIMIT),
        "x-ratelimit-remaining-requests": "0" if exhausted_for is not None else "9999",
        "x-ratelimit-reset-requests": _duration(
            _REQUESTS_RESET if exhausted_for is None else exhausted_for
        ),
        "x-ratelimit-limit-tokens": str(_TOKENS_LIMIT),
        "x-ratelimit-remaining-tokens": str(_TOKENS_LIMIT - 1000),
        "x-ratelimit-reset-tokens": _duration(_TOKENS_RESET),
    }


def _anthropic_headers(exhausted_for: float | None) -> dict[str, str]:
    """``anthropic-ratelimit-*``, whose resets are RFC 3339 times rather than durations."""
    now = datetime.now(UTC)
    requests_reset = _REQUESTS_RESET if exhausted_for is None else exhausted_for
    return {
        "anthropic-ratelimit-requests-limit": str(_REQUESTS_LIMIT),
        "anthropic-ratelimit-requests-remaining": "0" if exhausted_for is not None else "9999",
        "anthropic-ratelimit-requests-reset": (now + timedelta(seconds=requests_reset)).isoformat(),
        "anthropic-ratelimit-tokens-limit": str(_TOKENS_LIMIT),
        "anthropic-ratelimit-tokens-remaining": str(_TOKENS_LIMIT - 1000),
        "anthropic-ratelimit-tokens-reset": (now + timedelta(seconds=_TOKENS_RESET)).isoformat(),
    }


async def _pause(wake: asyncio.Event, seconds: float | None) -> None:
    """Sleep ``seconds`` (``None``: forever), or until ``wake`` is set by ``release()``."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(wake.wait(), seconds)


def _json(payload: object, headers: Mapping[str, str], status: int = 200) -> Response:
    return Response(
        orjson.dumps(payload), status_code=status, headers=headers, media_type="application/json"
    )
