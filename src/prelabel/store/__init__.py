"""Persistence: the SQLAlchemy models, the engine and session factory, migrations."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy.orm import Session

from prelabel.errors import NotFoundError
from prelabel.store.database import Store, migrate, schema_is_current
from prelabel.store.models import (
    Annotation,
    ApiToken,
    Base,
    CachedEmbedding,
    CachedResponse,
    Prediction,
    Project,
    Prompt,
    PromptVersion,
    ProviderConnection,
    Run,
    RunChunk,
    RunTask,
    Task,
    User,
)

__all__ = [
    "Annotation",
    "ApiToken",
    "Base",
    "CachedEmbedding",
    "CachedResponse",
    "Prediction",
    "Project",
    "Prompt",
    "PromptVersion",
    "ProviderConnection",
    "Run",
    "RunChunk",
    "RunTask",
    "Store",
    "Task",
    "User",
    "get_or_raise",
    "migrate",
    "schema_is_current",
]

ModelT = TypeVar("ModelT", bound=Base)


def get_or_raise(session: Session, model: type[ModelT], id_: int) -> ModelT:
    """The row with primary key ``id_``, or NotFoundError("Project 42 not found")."""
    row = session.get(model, id_)
    if row is None:
        raise NotFoundError(f"{model.__name__} {id_} not found")
    return row
