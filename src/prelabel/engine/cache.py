"""The response cache: a provider's answer, reused when exactly the same request recurs.

The key digests everything that shapes an answer — the endpoint, the model, every generation
parameter, the full messages and the answer schema — so changing any of them misses. Only
answers are stored: errors never enter, so a failed call is always tried again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from prelabel.store import Base, CachedEmbedding, CachedResponse, Store
from prelabel.store.in_lists import padded
from prelabel.store.types import utcnow


def cache_key(
    *,
    base_url: str | None,
    model: str,
    parameters: Mapping[str, Any],
    messages: Sequence[Mapping[str, str]],
    schema: Mapping[str, Any],
) -> str:
    """A SHA-256 hex digest of the request; key order in mappings does not matter."""
    request = {
        "base_url": base_url,
        "model": model,
        "parameters": {k: v for k, v in parameters.items() if v is not None},
        "messages": list(messages),
        "schema": schema,
    }
    return hashlib.sha256(orjson.dumps(request, option=orjson.OPT_SORT_KEYS)).hexdigest()


def cached_responses(session: Session, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The stored answers among ``keys``, by key (a whole chunk of tasks in one query)."""
    if not keys:
        return {}
    rows = session.execute(
        select(CachedResponse.key, CachedResponse.response).where(
            CachedResponse.key.in_(padded(keys))
        )
    )
    return dict(rows.all())


def store_responses(session: Session, answers: Sequence[tuple[str, Mapping[str, Any]]]) -> None:
    """Remember answers by key; when two workers store the same key at once, the first stays."""
    now = utcnow()
    rows = {
        key: {"key": key, "response": dict(answer), "created_at": now} for key, answer in answers
    }
    _insert_new(session, CachedResponse, list(rows.values()))


def _insert_new(session: Session, model: type[Base], rows: list[dict[str, Any]]) -> None:
    """Insert ``rows``, skipping keys already stored: caches are written by many workers."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    session.execute(insert(model).on_conflict_do_nothing(index_elements=["key"]), rows)


class StoreEmbeddingCache:
    """The local provider's embedding cache, kept in the store; each call is its own unit
    of work, since the provider embeds from a worker thread."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def get_many(self, keys: Sequence[str]) -> dict[str, bytes]:
        found: dict[str, bytes] = {}
        with self._store.session() as session:
            for start in range(0, len(keys), 1000):
                rows = session.execute(
                    select(CachedEmbedding.key, CachedEmbedding.vector).where(
                        CachedEmbedding.key.in_(keys[start : start + 1000])
                    )
                )
                found.update(dict(rows.all()))
        return found

    def put_many(self, items: Sequence[tuple[str, bytes]]) -> None:
        now = utcnow()
        rows = {key: {"key": key, "vector": vector, "created_at": now} for key, vector in items}
        with self._store.session() as session:
            _insert_new(session, CachedEmbedding, list(rows.values()))
