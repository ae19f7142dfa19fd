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

from prelabel.store import CachedResponse
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
        select(CachedResponse.key, CachedResponse.response).where(CachedResponse.key.in_(keys))
    )
    return dict(rows.all())


def store_responses(session: Session, answers: Sequence[tuple[str, Mapping[str, Any]]]) -> None:
    """Remember answers by key; when two workers store the same key at once, the first stays."""
    if not answers:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    now = utcnow()
    rows = {
        key: {"key": key, "response": dict(answer), "created_at": now} for key, answer in answers
    }
    statement = insert(CachedResponse).on_conflict_do_nothing(index_elements=["key"])
    session.execute(statement, list(rows.values()))
