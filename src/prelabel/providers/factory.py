"""Making the provider a connection describes, whichever SDK serves its kind."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from prelabel.errors import ValidationError
from prelabel.providers.anthropic import AnthropicProvider
from prelabel.providers.base import STRUCTURED_MODES, Provider

RUNNABLE_KINDS = ("openai", "anthropic")


def check_runnable(kind: str) -> None:
    """ValidationError unless connections of ``kind`` can run prompts."""
    if kind not in RUNNABLE_KINDS:
        raise ValidationError(
            f"provider kind {kind!r} cannot run prompts in this version of prelabel; "
            "use an 'openai' (any OpenAI-compatible endpoint) or 'anthropic' connection"
        )


def open_provider(
    kind: str, *, base_url: str | None, api_key: str | None, capabilities: Mapping[str, Any]
) -> Provider:
    """A provider for a connection of ``kind``; ValidationError for a kind that cannot run."""
    check_runnable(kind)
    if kind == "anthropic":
        return AnthropicProvider(base_url, api_key)
    # Imported here: the openai SDK is slow to import and only runs need it.
    from prelabel.providers.openai_compatible import OpenAICompatibleProvider

    mode = capabilities.get("structured_output", STRUCTURED_MODES[0])
    return OpenAICompatibleProvider(base_url, api_key, structured_output=mode)
