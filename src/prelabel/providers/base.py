"""What every provider takes and gives back, whatever the SDK behind it.

The engine builds a ``ChatRequest`` from a prompt version and a task, hands it to a ``Provider``
and reads the ``ChatResponse``. A provider makes exactly one attempt per call (retries, rate
limiting, caching and cost belong to the engine, which sees every attempt) and turns every
failure into a member of the ``ProviderError`` family, so the engine never meets SDK exceptions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from prelabel.errors import ProviderRateLimited

StructuredMode = Literal["json_schema", "json_object", "text"]
ResponseMode = Literal["json_schema", "json_object", "text", "tool", "embedding"]

STRUCTURED_MODES: tuple[StructuredMode, ...] = ("json_schema", "json_object", "text")
"""The ways an OpenAI-compatible endpoint can be asked for JSON, strictest first.

An endpoint that rejects one is asked in the next; the order is also the order of trust in the
answer's shape (a strict schema is enforced by the server, plain text only by the prompt).
"""

_ROLES = frozenset({"system", "user", "assistant"})


@dataclass(frozen=True)
class ChatRequest:
    """One labeling prompt, ready to send: messages, model and the schema the answer must match.

    ``schema`` is the JSON Schema of the answer, an object at the top and written to be accepted
    by strict structured-output modes (every property required, no additional properties).
    Sampling fields left ``None`` are not sent, so the provider's own defaults apply.

    >>> ChatRequest(
    ...     messages=({"role": "user", "content": "Sentiment of: great!"},),
    ...     model="gpt-4o-mini",
    ...     schema={"type": "object", "properties": {}, "required": []},
    ... ).schema_name
    'answer'
    """

    messages: tuple[Mapping[str, str], ...]
    model: str
    schema: Mapping[str, Any]
    schema_name: str = "answer"
    temperature: float | None = None
    max_tokens: int | None = None
    seed: int | None = None
    top_p: float | None = None
    task_id: int | None = None
    """The task asked about. Never sent; the local provider leaves its annotation out."""

    def __post_init__(self) -> None:
        if not self.messages:
            raise ValueError("a chat request needs at least one message")
        for message in self.messages:
            if message.get("role") not in _ROLES:
                raise ValueError(f"unknown message role {message.get('role')!r}")


@dataclass(frozen=True)
class RateLimitInfo:
    """The provider's rate-limit budget as its response headers state it.

    Read from ``x-ratelimit-*`` (OpenAI and most compatible servers) or
    ``anthropic-ratelimit-*`` headers so the engine can pace itself before it meets a 429.
    ``*_reset`` is the number of seconds until that budget is fully restored. A field is
    ``None`` when its header is absent or unreadable.
    """

    requests_limit: int | None = None
    requests_remaining: int | None = None
    requests_reset: float | None = None
    tokens_limit: int | None = None
    tokens_remaining: int | None = None
    tokens_reset: float | None = None


@dataclass(frozen=True)
class ChatResponse:
    """A model's answer as the provider returned it, before any reading against the schema.

    ``text`` is the answer as the model wrote it (JSON text, or prose in ``text`` mode), and
    ``parsed`` an object the API already decoded (the Anthropic tool input); reading either
    against the schema is the answer reader's job, which raises ``ModelOutputError``.
    ``truncated`` says the model stopped at ``max_tokens``: the provider still returns what it
    got, so the reader can fail it as invalid output and say why.
    Token counts are ``None`` when the provider sent no usage, which is not the same as zero.
    """

    text: str | None
    parsed: Any | None
    input_tokens: int | None
    output_tokens: int | None
    mode: ResponseMode
    model: str
    rate_limits: RateLimitInfo | None
    truncated: bool = False
    score: float | None = None
    """How sure the provider is of the answer (0-1), when it can say: the prediction's score."""


def token_count(value: object) -> int | None:
    """A token count as a provider reported it, or ``None`` when what it sent is not one.

    SDK models are built leniently, so a half-compatible server's ``"12"`` or ``null`` would
    otherwise reach cost accounting.
    """
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


class ProviderRateLimitedWithInfo(ProviderRateLimited):
    """A 429 that also carries the rate-limit headers of the refusing response.

    The headers say which budget ran out (requests or tokens), which the engine needs to know
    what to slow down; catch ``ProviderRateLimited`` as usual and read ``rate_limits`` from it.
    """

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        rate_limits: RateLimitInfo | None = None,
    ) -> None:
        super().__init__(message, retry_after=retry_after)
        self.rate_limits = rate_limits


class Provider(Protocol):
    """A model endpoint the engine can call; one instance per connection, shared by tasks."""

    async def complete(self, request: ChatRequest, *, timeout: float) -> ChatResponse:
        """Send ``request`` once and return the answer, or raise a ``ProviderError``.

        ``timeout`` bounds each HTTP request in seconds; when it passes, ``ProviderTimeout``.
        """
        ...

    async def aclose(self) -> None:
        """Close the HTTP connections; the provider cannot be used afterwards."""
        ...
