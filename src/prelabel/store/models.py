"""The Label Studio data model as SQLAlchemy tables.

Task rows carry the counters the Data Manager shows on every row (``total_annotations``,
``cancelled_annotations``, ``total_predictions``); every service that adds or removes an
annotation or prediction updates them in the same transaction, so listing never counts.
``TaskCounterHistogram`` sums them up per project, kept in step by database triggers, so the
totals over a filter on counters never count either.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from prelabel.store.types import JSONDocument, UTCDateTime, utcnow


class Base(DeclarativeBase):
    """Declarative base of every prelabel table.

    Constraints get names from one convention, so migrations can alter them on SQLite too
    (its batch mode recreates tables and must name what it drops).
    """

    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_N_name)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False
    )


class User(Timestamped, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True, nullable=False)
    first_name: Mapped[str] = mapped_column(String(150), default="", nullable=False)
    last_name: Mapped[str] = mapped_column(String(150), default="", nullable=False)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)


class ApiToken(Base):
    """An API key; only its SHA-256 digest is stored, so a leaked database leaks no key."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(String(100), default="", nullable=False)
    key_digest: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    key_prefix: Mapped[str] = mapped_column(String(8), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Project(Timestamped, Base):
    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(50), nullable=False)
    description: Mapped[str] = mapped_column(Text, default="", nullable=False)
    label_config: Mapped[str] = mapped_column(Text, nullable=False)
    model_version: Mapped[str | None] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class Task(Timestamped, Base):
    __tablename__ = "tasks"
    __table_args__ = (Index("ix_tasks_project_id_id", "project_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), nullable=False
    )
    data: Mapped[dict[str, Any]] = mapped_column(JSONDocument, nullable=False)
    meta: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict, nullable=False)
    total_annotations: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    cancelled_annotations: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    total_predictions: Mapped[int] = mapped_column(Integer, default=0, nullable=False)


class TaskCounterHistogram(Base):
    """How many of a project's tasks hold each combination of counter values, so that the
    Data Manager's totals over a filter on counters read a few rows instead of every task.

    Triggers on ``tasks`` (migration 0006) keep it in step with every task inserted, deleted
    or recounted, whoever does it (services, the engine, cascades) and in the same
    transaction. A combination's count is the sum of ``tasks`` over its rows: on PostgreSQL
    each statement appends rows of its own (``writer`` numbers it), so writers never wait on
    one another, and committed rows are folded into ``writer`` 0 now and then
    (``store.counter_histogram``); SQLite has one writer at a time, which always writes 0.
    """

    __tablename__ = "task_counter_histogram"
    __table_args__ = {"sqlite_with_rowid": False}

    project_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    total_annotations: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    cancelled_annotations: Mapped[int] = mapped_column(
        Integer, primary_key=True, autoincrement=False
    )
    total_predictions: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    writer: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    tasks: Mapped[int] = mapped_column(Integer, nullable=False)


class Prediction(Timestamped, Base):
    """A prediction; those made by a prompt version also record their run, usage and repairs.

    A prompt version has at most one prediction per task (predictions are not cumulative):
    the partial unique index makes the database refuse a second one.
    """

    __tablename__ = "predictions"
    __table_args__ = (
        Index("ix_predictions_task_id", "task_id"),
        Index("ix_predictions_project_id_model_version", "project_id", "model_version"),
        Index(
            "uq_predictions_prompt_version_id_task_id",
            "prompt_version_id",
            "task_id",
            unique=True,
            sqlite_where=text("prompt_version_id IS NOT NULL"),
            postgresql_where=text("prompt_version_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), nullable=False)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), nullable=False
    )
    result: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument, nullable=False)
    score: Mapped[float | None] = mapped_column(Float)
    model_version: Mapped[str] = mapped_column(Text, default="", nullable=False)
    prompt_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("prompt_versions.id", ondelete="CASCADE")
    )
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id", ondelete="SET NULL"))
    input_tokens: Mapped[int | None] = mapped_column(Integer)
    output_tokens: Mapped[int | None] = mapped_column(Integer)
    cost_usd: Mapped[float | None] = mapped_column(Float)
    latency_ms: Mapped[float | None] = mapped_column(Float)
    repairs: Mapped[list[str] | None] = mapped_column(JSONDocument)


class Annotation(Timestamped, Base):
    __tablename__ = "annotations"
    __table_args__ = (
        Index("ix_annotations_task_id", "task_id"),
        Index("ix_annotations_project_id", "project_id"),
        Index("ix_annotations_parent_prediction_id", "parent_prediction_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), nullable=False)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), nullable=False
    )
    result: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument, nullable=False)
    ground_truth: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    was_cancelled: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    lead_time: Mapped[float | None] = mapped_column(Float)
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    parent_prediction_id: Mapped[int | None] = mapped_column(
        ForeignKey("predictions.id", ondelete="SET NULL")
    )
    import_id: Mapped[int | None] = mapped_column(BigInteger)


class ProviderConnection(Timestamped, Base):
    """Where a model is served and how to authenticate; the key is stored encrypted or named
    by an environment variable, and never returned."""

    __tablename__ = "provider_connections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True, nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    base_url: Mapped[str | None] = mapped_column(Text)
    api_key_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    api_key_env: Mapped[str | None] = mapped_column(String(200))
    default_model: Mapped[str | None] = mapped_column(String(200))
    capabilities: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict, nullable=False)


class Prompt(Timestamped, Base):
    __tablename__ = "prompts"
    __table_args__ = (UniqueConstraint("project_id", "name", name="uq_prompts_project_id_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), nullable=False
    )
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    description: Mapped[str] = mapped_column(Text, default="", nullable=False)


class PromptVersion(Timestamped, Base):
    __tablename__ = "prompt_versions"
    __table_args__ = (
        UniqueConstraint("prompt_id", "title", name="uq_prompt_versions_prompt_id_title"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    prompt_id: Mapped[int] = mapped_column(
        ForeignKey("prompts.id", ondelete="CASCADE"), nullable=False
    )
    title: Mapped[str] = mapped_column(String(100), nullable=False)
    template: Mapped[str] = mapped_column(Text, nullable=False)
    connection_id: Mapped[int] = mapped_column(
        ForeignKey("provider_connections.id", ondelete="RESTRICT"), nullable=False
    )
    model: Mapped[str] = mapped_column(String(200), nullable=False)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict, nullable=False)


def model_version_name(prompt_name: str, version_title: str) -> str:
    """The ``model_version`` a prompt version's predictions carry: ``"<prompt>__<version>"``.

    Names never contain ``__``, so the two parts can always be told apart.
    """
    return f"{prompt_name}__{version_title}"


class Run(Timestamped, Base):
    """One execution of a prompt version over a baseline of tasks, with its running totals."""

    __tablename__ = "runs"
    __table_args__ = (
        Index("ix_runs_prompt_version_id", "prompt_version_id"),
        # One active run per version: two at once would race to write the same predictions.
        Index(
            "uq_runs_active_prompt_version_id",
            "prompt_version_id",
            unique=True,
            sqlite_where=text("status IN ('Pending', 'Running')"),
            postgresql_where=text("status IN ('Pending', 'Running')"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    prompt_version_id: Mapped[int] = mapped_column(
        ForeignKey("prompt_versions.id", ondelete="CASCADE"), nullable=False
    )
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), nullable=False
    )
    baseline: Mapped[dict[str, Any]] = mapped_column(JSONDocument, nullable=False)
    options: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict, nullable=False)
    status: Mapped[str] = mapped_column(String(20), default="Pending", nullable=False)
    total: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    done: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    failed: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    input_tokens: Mapped[int] = mapped_column(BigInteger, default=0, nullable=False)
    output_tokens: Mapped[int] = mapped_column(BigInteger, default=0, nullable=False)
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0, nullable=False)
    error: Mapped[str | None] = mapped_column(Text)
    # The evaluation against ground truth when the run ended: {"report": ..., "cells": ...}.
    evaluation: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)
    # Who executes the run and when it last said so: a Running run whose heartbeat is older
    # than the lease was interrupted (its process died) and may be taken over.
    worker: Mapped[str | None] = mapped_column(String(200))
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class RunTask(Base):
    """A task of a run and its state: the run's worklist, what resume skips, and the record
    of each failure (kind, message, attempts, an excerpt of the raw answer)."""

    __tablename__ = "run_tasks"
    __table_args__ = (
        UniqueConstraint("run_id", "task_id", name="uq_run_tasks_run_id_task_id"),
        Index("ix_run_tasks_run_id_status_id", "run_id", "status", "id"),
        Index("ix_run_tasks_task_id", "task_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), nullable=False)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), nullable=False)
    status: Mapped[str] = mapped_column(String(10), default="pending", nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    failure_kind: Mapped[str | None] = mapped_column(String(30))
    failure_message: Mapped[str | None] = mapped_column(Text)
    raw_excerpt: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RunChunk(Base):
    """A slice of a run's worklist executed as one job by a distributed worker.

    A chunk covers the worklist rows ``first_row..last_row`` that were pending when the run
    was dispatched. Its worker holds it by a lease like a run's (``worker``, ``heartbeat_at``);
    a chunk whose worker died is queued again (``attempt`` + 1) and finished by another, which
    executes only the rows still pending, so nothing is done twice and nothing is lost.
    """

    __tablename__ = "run_chunks"
    # Ids are never reused (SQLite would reuse them once a run's chunks are deleted), so that
    # a job left on the queue from an earlier dispatch never names a new chunk.
    __table_args__ = (
        Index("ix_run_chunks_run_id_status", "run_id", "status"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), nullable=False)
    first_row: Mapped[int] = mapped_column(Integer, nullable=False)
    last_row: Mapped[int] = mapped_column(Integer, nullable=False)
    # queued (a job waits for it), running (a worker holds it), done.
    status: Mapped[str] = mapped_column(String(10), default="queued", nullable=False)
    attempt: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    worker: Mapped[str | None] = mapped_column(String(200))
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)


class CachedResponse(Base):
    """A provider answer keyed by a digest of everything that shapes it; errors never enter."""

    __tablename__ = "response_cache"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    response: Mapped[dict[str, Any]] = mapped_column(JSONDocument, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)


class CachedEmbedding(Base):
    """A text's embedding by one model, keyed by a digest of the model, role and text, so the
    local provider embeds each text once however often it is evaluated."""

    __tablename__ = "embedding_cache"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    vector: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
