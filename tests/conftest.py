"""Fixtures shared by the whole suite.

Every test that touches the store runs twice, on SQLite and on PostgreSQL (the ``db``
parameter). Each xdist worker owns one PostgreSQL database, migrated once and truncated
before each test; SQLite tests copy a migrated template file, so nothing is shared between
tests or workers. PostgreSQL tests skip, saying why, only when no server answers (CI sets
PRELABEL_TEST_REQUIRE_POSTGRES so that they fail there instead).
"""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from prelabel.cli import main as cli_main
from prelabel.settings import Settings
from prelabel.store import Store, migrate
from prelabel.store.database import create_store_engine

pytest_plugins = ["tests.fakes.fixtures"]

# CI must be reproducible: the same examples on every run; locally each run explores anew.
hypothesis_settings.register_profile("ci", derandomize=True, deadline=None)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")

POSTGRES_URL = os.environ.get(
    "PRELABEL_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that each test copies instead of migrating again."""
    path = tmp_path_factory.mktemp("template") / "prelabel.db"
    engine = create_store_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """This worker's own migrated PostgreSQL database, dropped at the end of the session."""
    admin_url = make_url(POSTGRES_URL)
    conninfo = admin_url.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        admin = psycopg.connect(conninfo, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        reason = f"PostgreSQL is not reachable at {admin_url.host}:{admin_url.port}: {exc}"
        if os.environ.get("PRELABEL_TEST_REQUIRE_POSTGRES"):
            pytest.fail(reason)
        pytest.skip(reason)
    # Named by the test run as well as the worker: two suites running at once on one server
    # (two checkouts, a developer and CI) must not drop each other's databases.
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID", str(os.getpid()))[:8]
    name = f"prelabel_test_{run}_{_worker()}"
    with admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    engine = create_store_engine(url)
    migrate(engine)
    engine.dispose()
    yield url
    with psycopg.connect(conninfo, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty, migrated database of the parametrized kind."""
    if request.param == "sqlite":
        path = tmp_path / "data" / "prelabel.db"
        path.parent.mkdir()
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_database")
    engine = create_store_engine(url)
    with engine.begin() as connection:
        _empty_postgres(connection)
    engine.dispose()
    return url


def _empty_postgres(connection: Connection) -> None:
    """Every table emptied and every sequence back at 1, as a new database has them.

    ``DELETE`` with triggers and foreign keys off (``session_replication_role``) rather than
    ``TRUNCATE``, which rewrites each table's files and took 115 ms a test against 3 ms.
    Tables come from the catalog, so those only migrations create are emptied too.
    """
    tables = connection.scalars(
        text(
            "SELECT quote_ident(tablename) FROM pg_tables "
            "WHERE schemaname = current_schema() AND tablename <> 'alembic_version'"
        )
    ).all()
    connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
    connection.exec_driver_sql("; ".join(f"DELETE FROM {table}" for table in tables))
    connection.exec_driver_sql(
        "SELECT setval(oid, 1, false) FROM pg_class "
        "WHERE relkind = 'S' AND relnamespace = current_schema()::regnamespace"
    )


@pytest.fixture
def closed_port() -> int:
    """A local port nothing listens on: connections to it are refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=database_url)


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    store = Store(create_store_engine(database_url))
    yield store
    store.close()


@pytest.fixture
def session(store: Store) -> Iterator[Session]:
    """A session whose work is committed when the test ends without error."""
    with store.session() as session:
        yield session


@dataclass(frozen=True)
class CliResult:
    status: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(settings: Settings, capsys: pytest.CaptureFixture[str]) -> Callable[..., CliResult]:
    """Run ``prelabel ARGS...`` in-process against this test's database."""

    def run(*args: str) -> CliResult:
        capsys.readouterr()
        status = cli_main(
            [
                "--data-dir",
                str(settings.data_dir),
                "--database-url",
                settings.resolved_database_url,
                *args,
            ]
        )
        captured = capsys.readouterr()
        return CliResult(status, captured.out, captured.err)

    return run
