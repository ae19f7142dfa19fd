"""The Label Studio data model as SQLAlchemy tables.

Task rows carry the counters the Data Manager shows on every row (``total_annotations``,
``cancelled_annotations``, ``total_predictions``); every service that adds or removes an
annotation or prediction updates them in the same transaction, so listing never counts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from prelabel.store.types import JSONDocument, UTCDateTime, utcnow


class Base(DeclarativeBase):
    """Declarative base of every prelabel table."""


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


class Prediction(Timestamped, Base):
    __tablename__ = "predictions"
    __table_args__ = (
        Index("ix_predictions_task_id", "task_id"),
        Index("ix_predictions_project_id_model_version", "project_id", "model_version"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), nullable=False)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), nullable=False
    )
    result: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument, nullable=False)
    score: Mapped[float | None] = mapped_column(Float)
    model_version: Mapped[str] = mapped_column(Text, default="", nullable=False)


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
