"""Bulk inserts that stay fast on both backends.

Imports write thousands of rows per statement. SQLAlchemy's ORM bulk path and, on SQLite,
``INSERT ... RETURNING`` with ordered results (executed row by row there) cost several times
the insert itself, so these helpers go through Core and fetch new ids the cheapest way each
backend allows.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session


def insert_rows(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` with one executemany."""
    if rows:
        session.execute(insert(table), rows)


def insert_rows_returning_ids(
    session: Session, table: Table, rows: list[dict[str, Any]]
) -> list[int]:
    """Insert ``rows`` and return their new primary keys, in the order of ``rows``.

    PostgreSQL: ``RETURNING`` sorted by parameter order (batched by SQLAlchemy). SQLite has a
    single writer: once this transaction has inserted, no other connection can until it ends,
    and SQLite numbers new rows max(id) + 1 in insertion order, so the ``len(rows)`` highest
    ids are this batch's, in order.
    """
    if not rows:
        return []
    primary_key = table.primary_key.columns.values()[0]
    if session.get_bind().dialect.name != "sqlite":
        statement = insert(table).returning(primary_key, sort_by_parameter_order=True)
        return list(session.scalars(statement, rows))
    session.execute(insert(table), rows)
    newest = session.scalars(select(primary_key).order_by(primary_key.desc()).limit(len(rows)))
    return list(reversed(newest.all()))
