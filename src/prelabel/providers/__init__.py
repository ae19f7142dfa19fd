"""Model providers: one interface over the SDKs that send labeling prompts to LLMs.

A provider takes a ``ChatRequest`` and returns a ``ChatResponse`` after exactly one attempt,
or raises a member of the ``ProviderError`` family; retries, pacing, caching and cost are the
engine's. ``OpenAICompatibleProvider`` covers every OpenAI-style endpoint; ``AnthropicProvider``
needs the ``anthropic`` extra, which is imported only when such a provider is made.
"""

from __future__ import annotations

from prelabel.providers.anthropic import DEFAULT_MAX_TOKENS, AnthropicProvider
from prelabel.providers.base import (
    STRUCTURED_MODES,
    ChatRequest,
    ChatResponse,
    Provider,
    ProviderRateLimitedWithInfo,
    RateLimitInfo,
    ResponseMode,
    StructuredMode,
)
from prelabel.providers.prices import Price, PriceTable, estimate_tokens

__all__ = [
    "DEFAULT_MAX_TOKENS",
    "STRUCTURED_MODES",
    "AnthropicProvider",
    "ChatRequest",
    "ChatResponse",
    "OpenAICompatibleProvider",
    "Price",
    "PriceTable",
    "Provider",
    "ProviderRateLimitedWithInfo",
    "RateLimitInfo",
    "ResponseMode",
    "StructuredMode",
    "estimate_tokens",
]


def __getattr__(name: str) -> object:
    """``OpenAICompatibleProvider`` on first use: the ``openai`` SDK takes half a second to
    import, which every CLI command would pay for otherwise."""
    if name == "OpenAICompatibleProvider":
        from prelabel.providers.openai_compatible import OpenAICompatibleProvider

        return OpenAICompatibleProvider
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
