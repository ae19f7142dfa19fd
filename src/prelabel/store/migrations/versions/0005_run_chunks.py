"""Run chunks: slices of a run's worklist that distributed workers execute, each by a lease.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import prelabel.store.types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "run_chunks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("first_row", sa.Integer(), nullable=False),
        sa.Column("last_row", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(length=200), nullable=True),
        sa.Column("heartbeat_at", prelabel.store.types.UTCDateTime(), nullable=True),
        sa.Column("queued_at", prelabel.store.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_run_chunks_run_id_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_run_chunks")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_run_chunks_run_id_status", "run_chunks", ["run_id", "status"])


def downgrade() -> None:
    op.drop_index("ix_run_chunks_run_id_status", table_name="run_chunks")
    op.drop_table("run_chunks")
