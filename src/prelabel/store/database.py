"""Engines, sessions and schema migrations for the embedded SQLite or a shared PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources import files
from pathlib import Path
from typing import Any

import orjson
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from prelabel.errors import StoreError
from prelabel.settings import Settings


def _dump_json(value: Any) -> str:
    return orjson.dumps(value).decode()


def create_store_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL, enforced foreign keys and its directory created."""
    try:
        parsed = make_url(url)
        if parsed.get_backend_name() != "sqlite":
            return create_engine(
                url, json_serializer=_dump_json, json_deserializer=orjson.loads, pool_pre_ping=True
            )
        engine = create_engine(url, json_serializer=_dump_json, json_deserializer=orjson.loads)
    except (ArgumentError, NoSuchModuleError) as exc:
        raise StoreError(f"cannot use database URL {url!r}: {exc}") from exc
    if parsed.database and parsed.database != ":memory:":
        directory = Path(parsed.database).parent
        try:
            # Owner-only: the database holds task data and token digests.
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create data directory {directory}: {exc.strerror}") from exc
    event.listen(engine, "connect", _configure_sqlite)
    return engine


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(files("prelabel.store") / "migrations"))
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (idempotent)."""
    config = _alembic_config()
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except OperationalError as exc:
        raise StoreError(f"cannot open the database: {exc.orig}") from exc


def schema_is_current(engine: Engine) -> bool:
    """True when the database exists and its schema is at the newest revision."""
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
    except OperationalError as exc:
        raise StoreError(f"cannot open the database: {exc.orig}") from exc
    return current == head


class Store:
    """One database: its engine and a factory of sessions.

    Services take a ``Session``; whoever owns the unit of work (a CLI command, an API request)
    opens it with :meth:`session`, which commits on success and rolls back on any error.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def open(cls, settings: Settings, *, create: bool = False) -> Store:
        """Open the configured database; ``create`` migrates it, otherwise it must be current."""
        store = cls(create_store_engine(settings.resolved_database_url))
        if create:
            migrate(store.engine)
        elif not schema_is_current(store.engine):
            store.close()
            raise StoreError(
                "the database is not initialised or is out of date: run `prelabel init`"
            )
        return store

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions() as session, session.begin():
            yield session

    def close(self) -> None:
        self.engine.dispose()
