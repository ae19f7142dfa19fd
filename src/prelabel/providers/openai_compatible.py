"""Any endpoint that speaks OpenAI's chat completions, through the ``openai`` SDK.

OpenAI, Azure OpenAI, vLLM, Ollama, llama.cpp, LM Studio, Gemini's OpenAI endpoint and
OpenRouter differ mostly in how they can be asked for JSON, so the provider starts in the
strictest mode the connection claims and steps down by itself when an endpoint rejects it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Mapping
from typing import Any

import openai
from pydantic import BaseModel, Field

from prelabel.errors import (
    ProviderError,
    ProviderRefusal,
    ProviderUnavailable,
)
from prelabel.providers._errors import (
    connection_error,
    error_code,
    error_for_status,
    provider_message,
)
from prelabel.providers._ratelimits import openai_rate_limits
from prelabel.providers.base import (
    STRUCTURED_MODES,
    ChatRequest,
    ChatResponse,
    RateLimitInfo,
    StructuredMode,
    token_count,
)

__all__ = ["OpenAICompatibleProvider"]

logger = logging.getLogger(__name__)

# Words by which servers name the part of the request they cannot honour when they reject a
# structured-output mode; anything else in a 400 is a genuine request error.
_MODE_WORDS = ("response_format", "response format", "json_schema", "json_object")


def _schema_instruction(schema: Mapping[str, Any]) -> str:
    """The sentence that asks for JSON in modes where the server does not enforce the schema."""
    text = json.dumps(schema, ensure_ascii=False, separators=(",", ":"))
    return f"Answer with a JSON object matching this JSON Schema: {text}"


class OpenAICompatibleProvider:
    """Chat completions at ``base_url`` (OpenAI's own when ``None``) with structured output.

    ``structured_output`` is the strictest mode the connection is known to support:

    - ``json_schema``: the schema is sent as a strict ``response_format``, so the server
      enforces it;
    - ``json_object``: the server guarantees JSON and the schema is stated in the system
      message;
    - ``text``: nothing is enforced; the schema is stated in the system message and the
      answer reader extracts the JSON from whatever prose comes back.

    When the endpoint rejects a mode (a 400 or 422 naming ``response_format``, ``json_schema``
    or ``json_object``), the call is sent again at once in the next mode, and this instance
    starts there from then on: the rejection is a fact about the endpoint, not the request.
    Every other failure is one attempt, translated into a ``ProviderError``.

    An endpoint that needs no key (a local server) is given a placeholder, because the SDK
    refuses to start without one. The key is never part of a message or of ``repr``.

    The client's one core is what bounds a run's throughput, so requests take the SDK's
    cheapest path. They go through its aiohttp transport (the ``aiohttp`` extra) rather than
    its default HTTP client, whose connection pool scans every connection on each request and
    response: at a concurrency of 64 that scan alone was a fifth of the client's CPU. And they
    go through its plain ``post`` rather than ``chat.completions.create``, which walks every
    message and the schema through its type annotations to build a body that is already plain
    JSON here, then builds a full ``ChatCompletion``; only the fields read here are validated.
    """

    def __init__(
        self,
        base_url: str | None,
        api_key: str | None,
        *,
        structured_output: StructuredMode = "json_schema",
    ) -> None:
        if structured_output not in STRUCTURED_MODES:
            raise ValueError(
                f"structured_output must be one of {', '.join(STRUCTURED_MODES)}, "
                f"not {structured_output!r}"
            )
        self._mode: StructuredMode = structured_output
        self._secret = api_key
        self._client = openai.AsyncOpenAI(
            base_url=base_url,
            api_key=api_key or "not-needed",
            max_retries=0,
            http_client=openai.DefaultAioHttpClient(),
        )

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(base_url={str(self._client.base_url)!r}, "
            f"structured_output={self._mode!r})"
        )

    @property
    def structured_output(self) -> StructuredMode:
        """The mode the next call starts in: the configured one, or where rejections led."""
        return self._mode

    async def complete(self, request: ChatRequest, *, timeout: float) -> ChatResponse:
        """One answer to ``request``; a mode rejection costs one more request per step down.

        ``timeout`` bounds each request as a whole, not only each network read, so a server
        that trickles its answer out is still cut off on time.
        """
        mode = self._mode
        while True:
            try:
                return await self._attempt(request, mode, timeout)
            except _ModeRejected as rejection:
                mode = self._step_down(mode, rejection.reason)

    async def aclose(self) -> None:
        await self._client.close()

    async def _attempt(
        self, request: ChatRequest, mode: StructuredMode, timeout: float
    ) -> ChatResponse:
        """Send once in ``mode``; the error is raised after the ``except`` so that it does not
        chain the SDK exception, whose request object holds the ``Authorization`` header."""
        error: ProviderError
        started = time.monotonic()
        try:
            async with asyncio.timeout(timeout):
                raw = await self._client.post(
                    "/chat/completions",
                    body=_arguments(request, mode),
                    cast_to=openai.AsyncAPIResponse[object],
                    # As create() sends it: the connection's key only, never an admin key the
                    # SDK would otherwise take from OPENAI_ADMIN_KEY.
                    options={"timeout": timeout, "security": {"bearer_auth": True}},
                )
                completion = await _completion(raw)
        except openai.APIStatusError as exc:
            if mode != "text" and _rejects_mode(exc):
                raise _ModeRejected(provider_message(exc.body, exc.message, self._secret)) from None
            error = error_for_status(
                exc.status_code,
                provider_message(exc.body, exc.message, self._secret),
                code=error_code(exc.body),
                headers=exc.response.headers,
                rate_limits=openai_rate_limits(exc.response.headers),
            )
        except (TimeoutError, openai.APIConnectionError) as exc:
            error = connection_error(
                exc,
                sdk_timeout=openai.APITimeoutError,
                elapsed=time.monotonic() - started,
                timeout=timeout,
                secret=self._secret,
            )
        except openai.APIError as exc:
            message = provider_message(exc.body, exc.message, self._secret)
            error = ProviderUnavailable(f"the provider sent an unreadable response: {message}")
        else:
            return _response(request, mode, completion, openai_rate_limits(raw.headers))
        raise error

    def _step_down(self, rejected: StructuredMode, reason: str) -> StructuredMode:
        """The mode after ``rejected``, remembered unless another call already went further.

        Logged as a warning, once per step: answers are less reliably shaped from then on,
        and a strict-schema rejection can also mean the schema itself needs fixing.
        """
        following = STRUCTURED_MODES[STRUCTURED_MODES.index(rejected) + 1]
        if STRUCTURED_MODES.index(following) > STRUCTURED_MODES.index(self._mode):
            logger.warning(
                "%s rejected structured output mode %s (%s); using %s from now on",
                self._client.base_url,
                rejected,
                reason,
                following,
            )
            self._mode = following
        return following


class _ModeRejected(Exception):
    """The endpoint does not support the structured-output mode it was asked for."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _arguments(request: ChatRequest, mode: StructuredMode) -> dict[str, Any]:
    """The ``create`` arguments for ``request`` in ``mode``; unset sampling fields are left out."""
    messages = [dict(message) for message in request.messages]
    arguments: dict[str, Any] = {"model": request.model, "messages": messages}
    if mode == "json_schema":
        arguments["response_format"] = {
            "type": "json_schema",
            "json_schema": {
                "name": request.schema_name,
                "schema": request.schema,
                "strict": True,
            },
        }
    else:
        _state_schema(messages, request.schema)
        if mode == "json_object":
            arguments["response_format"] = {"type": "json_object"}
    optional = {
        "temperature": request.temperature,
        "max_tokens": request.max_tokens,
        "seed": request.seed,
        "top_p": request.top_p,
    }
    arguments.update((name, value) for name, value in optional.items() if value is not None)
    return arguments


def _state_schema(messages: list[dict[str, str]], schema: Mapping[str, Any]) -> None:
    """Append the schema to the first system message, or open with one that states it.

    JSON mode on OpenAI also requires the word "JSON" to appear in the messages, which this
    sentence provides.
    """
    instruction = _schema_instruction(schema)
    for message in messages:
        if message["role"] == "system":
            message["content"] = f"{message['content']}\n\n{instruction}"
            return
    messages.insert(0, {"role": "system", "content": instruction})


def _rejects_mode(exc: openai.APIStatusError) -> bool:
    """Whether a 400/422 says the structured-output mode, not the request, is the problem."""
    if exc.status_code not in (400, 422):
        return False
    if exc.param == "response_format":
        return True
    text = f"{exc.message} {exc.body}".lower()
    return any(word in text for word in _MODE_WORDS)


class _Message(BaseModel):
    content: str | None = None
    refusal: str | None = None


class _Choice(BaseModel):
    message: _Message
    finish_reason: str | None = None


class _Completion(BaseModel):
    """The fields of a chat completion the provider reads; the rest of the body is ignored.

    Usage is read field by field with ``token_count``, so a half-compatible server's odd usage
    block costs the token counts, not the answer.
    """

    choices: list[_Choice] = Field(min_length=1)
    model: str | None = None
    usage: object = None


async def _completion(raw: openai.AsyncAPIResponse[object]) -> _Completion:
    """The response's body read as a chat completion with a choice and a message; a proxy's
    error page or a half-compatible server's other JSON is a ``ProviderUnavailable``."""
    try:
        return _Completion.model_validate(await raw.parse())
    except ValueError:  # a body that is not JSON, or JSON that is not a completion
        raise ProviderUnavailable("the provider's response is not a chat completion") from None


def _response(
    request: ChatRequest,
    mode: StructuredMode,
    completion: _Completion,
    rate_limits: RateLimitInfo | None,
) -> ChatResponse:
    """Read the first choice; a refusal or a content filter raises ``ProviderRefusal``.

    An answer cut off at ``max_tokens`` is returned with ``truncated`` set rather than raised:
    whether what arrived is usable is the answer reader's call, and its ``invalid_output``
    failure is the honest kind for it.
    """
    choice = completion.choices[0]
    if choice.message.refusal:
        raise ProviderRefusal(f"the model refused to answer: {choice.message.refusal}")
    if choice.finish_reason == "content_filter":
        raise ProviderRefusal("the provider's content filter withheld the answer")
    usage = completion.usage if isinstance(completion.usage, dict) else {}
    return ChatResponse(
        text=choice.message.content,
        parsed=None,
        input_tokens=token_count(usage.get("prompt_tokens")),
        output_tokens=token_count(usage.get("completion_tokens")),
        mode=mode,
        model=completion.model or request.model,
        rate_limits=rate_limits,
        truncated=choice.finish_reason == "length",
    )
