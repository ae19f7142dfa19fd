"""The store: SQLite settings, cascades, UTC timestamps, migration state."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, select, text

from prelabel.errors import StoreError
from prelabel.settings import Settings
from prelabel.store import Annotation, Base, Prediction, Project, Store, Task
from prelabel.store.database import create_store_engine, schema_is_current
from tests.factories import import_json, make_project, sentiment


def test_sqlite_runs_in_wal_mode_with_foreign_keys_in_a_private_directory(tmp_path: Path) -> None:
    store = Store.open(Settings(data_dir=tmp_path / "new" / "dir"), create=True)
    with store.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    store.close()
    assert (tmp_path / "new" / "dir" / "prelabel.db").exists()
    assert (tmp_path / "new" / "dir").stat().st_mode & 0o777 == 0o700, "data dir is private"


def test_opening_an_uninitialised_database_asks_for_init(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="prelabel init"):
        Store.open(Settings(data_dir=tmp_path))


def test_migrated_database_is_current(database_url: str) -> None:
    engine = create_store_engine(database_url)
    assert schema_is_current(engine)
    engine.dispose()


def test_deleting_a_project_deletes_its_tasks_annotations_and_predictions(store: Store) -> None:
    with store.session() as session:
        project = make_project(session)
        task = {"data": {"text": "x"}, "annotations": [{"result": sentiment("Positive")}]}
        import_json(
            session, project, [{**task, "predictions": [{"result": sentiment("Negative")}]}]
        )
    with store.session() as session:
        session.delete(session.get(Project, project.id))
    with store.session() as session:
        counts = [
            session.scalar(select(func.count()).select_from(model))
            for model in (Task, Annotation, Prediction)
        ]
    assert counts == [0, 0, 0]


def test_timestamps_come_back_as_aware_utc(store: Store) -> None:
    with store.session() as session:
        project_id = make_project(session).id
    with store.session() as session:
        created = session.get(Project, project_id).created_at
    assert created.tzinfo is not None and created.utcoffset() == UTC.utcoffset(None)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        pytest.param(
            Settings(database_url="nosuchdb://x/y"), "cannot use database URL", id="unknown-scheme"
        ),
        pytest.param(
            Settings(database_url="postgresql+psycopg://nobody@127.0.0.1:1/none"),
            "cannot open the database",
            id="unreachable-server",
        ),
        pytest.param(
            Settings(data_dir=Path("/proc/prelabel")), "cannot create data directory", id="bad-dir"
        ),
    ],
)
def test_unusable_database_is_a_store_error(settings: Settings, message: str) -> None:
    with pytest.raises(StoreError, match=message):
        Store.open(settings, create=True)


def test_migrations_build_exactly_the_schema_the_models_declare(database_url: str) -> None:
    engine = create_store_engine(database_url)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert differences == []
