"""Making the provider a connection describes, whichever SDK serves its kind."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from prelabel.labeling import LabelConfig
from prelabel.providers.anthropic import AnthropicProvider
from prelabel.providers.base import STRUCTURED_MODES, Provider
from prelabel.providers.embedders import (
    BundledEmbedder,
    CachedEmbedder,
    Embedder,
    EmbeddingCache,
    RemoteEmbedder,
)
from prelabel.providers.local import Example, LocalProvider


def open_local_provider(
    *,
    base_url: str | None,
    api_key: str | None,
    model: str,
    config: LabelConfig,
    examples: Sequence[Example],
    cache: EmbeddingCache | None,
) -> LocalProvider:
    """The local provider: the bundled model, or the embeddings endpoint at ``base_url``."""
    embedder: Embedder = (
        BundledEmbedder() if base_url is None else RemoteEmbedder(base_url, api_key, model)
    )
    if cache is not None:
        embedder = CachedEmbedder(embedder, cache)
    return LocalProvider(embedder, config, examples)


def open_provider(
    kind: str, *, base_url: str | None, api_key: str | None, capabilities: Mapping[str, Any]
) -> Provider:
    """A provider for a remote connection of ``kind`` (``open_local_provider`` for local)."""
    if kind == "anthropic":
        return AnthropicProvider(base_url, api_key)
    # Imported here: the openai SDK is slow to import and only runs need it.
    from prelabel.providers.openai_compatible import OpenAICompatibleProvider

    mode = capabilities.get("structured_output", STRUCTURED_MODES[0])
    return OpenAICompatibleProvider(base_url, api_key, structured_output=mode)
