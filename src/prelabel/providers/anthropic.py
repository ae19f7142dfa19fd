"""Anthropic's Messages API through the ``anthropic`` SDK, an optional extra.

Structure comes from tool use: the request offers one tool whose input schema is the answer
schema and forces the model to call it, so the answer arrives as the tool's already-decoded
input rather than as text to be parsed.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from prelabel.errors import (
    ProviderError,
    ProviderRefusal,
    ProviderUnavailable,
)
from prelabel.providers._errors import (
    connection_error,
    error_for_status,
    provider_message,
    redact,
)
from prelabel.providers._ratelimits import anthropic_rate_limits
from prelabel.providers.base import ChatRequest, ChatResponse, RateLimitInfo, token_count

__all__ = ["DEFAULT_MAX_TOKENS", "AnthropicProvider"]

DEFAULT_MAX_TOKENS = 1024
"""The answer budget when the request sets none: the API requires one, and a labeling answer
is short, so a modest cap also bounds the cost of a model that rambles."""

_TOOL_DESCRIPTION = "Record the answer"


class AnthropicProvider:
    """Claude models at ``base_url`` (Anthropic's own when ``None``), answering through a tool.

    ``temperature``, ``top_p`` and ``seed`` of the request are not sent: the installed SDK's
    Messages API takes none of them, and an endpoint that rejected them would fail every task.
    A key left out is replaced by a placeholder rather than read from the environment or a
    local Anthropic profile, so a connection uses exactly the key it was configured with.
    """

    def __init__(self, base_url: str | None, api_key: str | None) -> None:
        try:
            import anthropic
        except ImportError:
            raise ProviderError(
                "the anthropic provider needs the anthropic package: install prelabel[anthropic]"
            ) from None
        self._sdk = anthropic
        self._secret = api_key
        self._client = anthropic.AsyncAnthropic(
            base_url=base_url,
            api_key=api_key or "not-needed",
            max_retries=0,
            http_client=anthropic.DefaultAioHttpClient(),  # see OpenAICompatibleProvider
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={str(self._client.base_url)!r})"

    async def complete(self, request: ChatRequest, *, timeout: float) -> ChatResponse:
        """One answer to ``request``, sent once; ``timeout`` bounds the whole request.

        The error is raised after the ``except`` so that it does not chain the SDK exception,
        whose request object holds the ``x-api-key`` header.
        """
        sdk = self._sdk
        error: ProviderError
        started = time.monotonic()
        try:
            async with asyncio.timeout(timeout):
                raw = await self._client.messages.with_raw_response.create(
                    **_arguments(request), timeout=timeout
                )
                message = await raw.parse()
        except sdk.APIStatusError as exc:
            error = error_for_status(
                exc.status_code,
                provider_message(exc.body, exc.message, self._secret),
                code=None,
                headers=exc.response.headers,
                rate_limits=anthropic_rate_limits(exc.response.headers),
            )
        except (TimeoutError, sdk.APIConnectionError) as exc:
            error = connection_error(
                exc,
                sdk_timeout=sdk.APITimeoutError,
                elapsed=time.monotonic() - started,
                timeout=timeout,
                secret=self._secret,
            )
        except (sdk.APIError, ValueError) as exc:
            message_text = redact(str(exc), self._secret)
            error = ProviderUnavailable(f"the provider sent an unreadable response: {message_text}")
        else:
            return _response(request, message, anthropic_rate_limits(raw.headers))
        raise error

    async def aclose(self) -> None:
        await self._client.close()


def _arguments(request: ChatRequest) -> dict[str, Any]:
    """``messages.create`` arguments: system messages joined into ``system``, one forced tool."""
    system = "\n\n".join(m["content"] for m in request.messages if m["role"] == "system")
    arguments: dict[str, Any] = {
        "model": request.model,
        "max_tokens": request.max_tokens if request.max_tokens is not None else DEFAULT_MAX_TOKENS,
        "messages": [
            {"role": m["role"], "content": m["content"]}
            for m in request.messages
            if m["role"] != "system"
        ],
        "tools": [
            {
                "name": request.schema_name,
                "description": _TOOL_DESCRIPTION,
                "input_schema": request.schema,
            }
        ],
        "tool_choice": {"type": "tool", "name": request.schema_name},
    }
    if system:
        arguments["system"] = system
    return arguments


def _response(
    request: ChatRequest, message: object, rate_limits: RateLimitInfo | None
) -> ChatResponse:
    """The tool call's input as ``parsed`` (and as JSON ``text``), else the prose the model wrote.

    ``text`` is filled in either case so that the engine can cache and quote every answer the
    same way; without a tool call ``parsed`` stays ``None`` and the answer reader decides.
    """
    from anthropic.types import Message, TextBlock, ToolUseBlock  # the SDK is an optional extra

    # The SDK builds its models leniently: another JSON body comes back as a Message whose
    # fields are missing, which must not pass for an empty answer.
    content = getattr(message, "content", None)
    if not isinstance(message, Message) or not isinstance(content, list):
        raise ProviderUnavailable("the provider's response is not a message")
    if message.stop_reason == "refusal":
        raise ProviderRefusal("the model refused to answer")
    tool_input = next(
        (
            block.input
            for block in content
            if isinstance(block, ToolUseBlock) and block.name == request.schema_name
        ),
        None,
    )
    if tool_input is not None:
        text: str | None = json.dumps(tool_input, ensure_ascii=False)
    else:
        text = "".join(block.text for block in content if isinstance(block, TextBlock)) or None
    usage = message.usage
    return ChatResponse(
        text=text,
        parsed=tool_input,
        input_tokens=token_count(getattr(usage, "input_tokens", None)),
        output_tokens=token_count(getattr(usage, "output_tokens", None)),
        mode="tool",
        model=message.model or request.model,
        rate_limits=rate_limits,
        truncated=message.stop_reason == "max_tokens",
    )
