"""The task counter histogram: exact after any sequence of changes, whoever makes them, and
the source of the Data Manager's totals for filters on counters; on PostgreSQL, concurrent
writers never wait on one another's histogram rows."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from alembic import command
from alembic.config import Config
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from prelabel.encryption import SecretBox
from prelabel.engine.records import Predicted, record_batch
from prelabel.services.actions import (
    delete_selected_annotations,
    delete_selected_predictions,
    predictions_to_annotations,
)
from prelabel.services.annotations import create_annotation, delete_annotation, update_annotation
from prelabel.services.connections import add_connection
from prelabel.services.counters import adjust_task_counters
from prelabel.services.imports import check_import, import_predictions
from prelabel.services.predictions import create_prediction, delete_prediction
from prelabel.services.projects import delete_project
from prelabel.services.prompts import create_prompt
from prelabel.services.runs import Baseline, create_run
from prelabel.services.task_edits import create_task, delete_project_tasks, delete_task
from prelabel.services.tasks import TaskQuery, list_tasks
from prelabel.store import Annotation, Prediction, Project, Store, Task
from prelabel.store.counter_histogram import counter_totals, fold_writers
from prelabel.store.models import TaskCounterHistogram
from prelabel.store.task_filters import COUNTERS, Filter, Filters, Selection, task_condition
from tests.factories import import_json, make_project, sentiment
from tests.invariants import assert_counters_exact, assert_histogram_exact


def _task(predictions: int = 0, annotations: int = 0, cancelled: int = 0) -> dict[str, Any]:
    return {
        "data": {"text": "t"},
        "predictions": [
            {"result": sentiment("Positive"), "model_version": f"v{i % 2}"}
            for i in range(predictions)
        ],
        "annotations": [{"result": sentiment("Negative")} for _ in range(annotations)]
        + [{"result": sentiment("Negative"), "was_cancelled": True} for _ in range(cancelled)],
    }


def _fresh_totals(session: Session, project_id: int, filters: Filters) -> tuple[int, ...]:
    row = session.execute(
        select(
            func.count(Task.id),
            func.coalesce(func.sum(Task.total_annotations), 0),
            func.coalesce(func.sum(Task.cancelled_annotations), 0),
            func.coalesce(func.sum(Task.total_predictions), 0),
        ).where(task_condition(project_id, filters))
    ).one()
    return tuple(int(value) for value in row)


def _histogram_totals(session: Session, project_id: int, filters: Filters) -> tuple[int, ...]:
    totals = counter_totals(session, project_id, filters)
    assert totals is not None
    return (
        totals.tasks,
        totals.total_annotations,
        totals.cancelled_annotations,
        totals.total_predictions,
    )


# Filters on counters alone, as the Data Manager offers them: any operator, and/or.
NUMBERS = st.one_of(st.integers(-1, 3), st.sampled_from([0.5, 1.5]))
FILTER = st.one_of(
    st.builds(
        Filter,
        st.sampled_from(COUNTERS),
        st.sampled_from(
            ["equal", "not_equal", "less", "greater", "less_or_equal", "greater_or_equal"]
        ),
        NUMBERS,
    ),
    st.builds(
        Filter,
        st.sampled_from(COUNTERS),
        st.sampled_from(["in", "not_in"]),
        st.builds(lambda a, b: {"min": a, "max": b}, NUMBERS, NUMBERS),
    ),
    st.builds(
        Filter,
        st.sampled_from(COUNTERS),
        st.sampled_from(["in_list", "not_in_list"]),
        st.lists(NUMBERS, min_size=1, max_size=3),
    ),
    st.builds(Filter, st.sampled_from(COUNTERS), st.just("empty"), st.booleans()),
)
FILTERS = st.builds(
    lambda conjunction, items: Filters(conjunction, tuple(items)),
    st.sampled_from(["and", "or"]),
    st.lists(FILTER, max_size=3),
)

Step = tuple[str, int, int]
"""(what, which project/task/row, a small number)."""

STEPS = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "import",
                "check_import",
                "create_task",
                "predict",
                "import_predictions",
                "unpredict",
                "annotate",
                "flip",
                "unannotate",
                "engine",
                "delete_predictions",
                "from_predictions",
                "delete_annotations",
                "delete_task",
                "delete_project_tasks",
            ]
        ),
        st.integers(0, 20),
        st.integers(0, 3),
    ),
    max_size=10,
)


class World:
    """Two projects, a prompt version with a run in the first, and how to change them."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.projects = [make_project(session, title="A"), make_project(session, title="B")]
        for project in self.projects:
            import_json(session, project, [_task(1, 1), _task(0, 0, 1), _task(2)])
        connection = add_connection(
            session, SecretBox("s"), name="local", kind="local", default_model="m"
        )
        version = create_prompt(
            session, self.projects[0], name="p", template="{text}", connection=connection
        )[1]
        self.run = create_run(session, version, Baseline.parse("all"))

    def ids(self, model: Any, project: Project | None = None) -> list[int]:
        query = select(model.id).order_by(model.id)
        if project is not None:
            query = query.where(model.project_id == project.id)
        return list(self.session.scalars(query))

    def apply(self, step: Step) -> None:
        what, which, number = step
        session = self.session
        project = self.projects[which % 2]
        tasks = self.ids(Task)
        task = tasks[which % len(tasks)] if tasks else None
        if what == "import":
            import_json(
                session, project, [_task(number, number % 2, number // 2)] * (1 + which % 3)
            )
        elif what == "check_import":
            check_import(session, project, io.BytesIO(orjson.dumps([_task(number)])), fmt="json")
        elif what == "create_task":
            create_task(session, project.id, data={"text": "new"})
        elif what == "unpredict" and (predictions := self.ids(Prediction)):
            delete_prediction(
                session, session.get(Prediction, predictions[which % len(predictions)])
            )
        elif what in ("flip", "unannotate") and (annotations := self.ids(Annotation)):
            annotation = session.get(Annotation, annotations[which % len(annotations)])
            if what == "flip":
                update_annotation(session, annotation, was_cancelled=not annotation.was_cancelled)
            else:
                delete_annotation(session, annotation)
        elif what == "engine" and (own := self.ids(Task, self.projects[0])):
            chosen = {own[(which + i) % len(own)] for i in range(number + 1)}
            record_batch(session, self.run, [Predicted(t, sentiment("Positive")) for t in chosen])
        elif what == "delete_project_tasks" and number == 0:
            delete_project_tasks(session, project)
        elif task is not None:
            self._on_task(what, task, which, number)

    def _on_task(self, what: str, task: int, which: int, number: int) -> None:
        session = self.session
        owner = session.get(Project, session.get(Task, task).project_id)
        query = TaskQuery(
            Filters(items=(Filter("total_predictions", "greater_or_equal", number),)),
            Selection(all=bool(which % 2), ids=(task,)),
        )
        if what == "predict":
            create_prediction(session, task, result=sentiment("Positive"), model_version="v1")
        elif what == "import_predictions":
            import_predictions(session, owner, [{"task": task, "result": sentiment("Negative")}])
        elif what == "annotate":
            create_annotation(
                session, task, user=None, result=sentiment("Positive"), was_cancelled=number == 1
            )
        elif what == "delete_predictions":
            delete_selected_predictions(
                session, owner, query, model_version=None if number < 2 else "v1"
            )
        elif what == "from_predictions":
            predictions_to_annotations(
                session, owner, query, model_version=None if number < 2 else "v0", user=None
            )
        elif what == "delete_annotations":
            delete_selected_annotations(session, owner, query)
        elif what == "delete_task":
            delete_task(session, session.get(Task, task))


@pytest.fixture
def world(session: Session) -> World:
    return World(session)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=STEPS, filters=FILTERS)
def test_any_sequence_of_changes_keeps_the_histogram_equal_to_a_fresh_count(
    session: Session, world: World, steps: list[Step], filters: Filters
) -> None:
    savepoint = session.begin_nested()
    try:
        for step in steps:
            world.apply(step)
            assert_histogram_exact(session)
            for project in world.projects:
                assert _histogram_totals(session, project.id, filters) == _fresh_totals(
                    session, project.id, filters
                )
    finally:
        savepoint.rollback()
    assert_counters_exact(session)


def test_the_task_list_totals_come_from_the_histogram_or_are_counted(session: Session) -> None:
    project = make_project(session)
    import_json(session, project, [_task(2, 1), _task(1), _task(0, 0, 1), _task(1, 2)])
    ids = list(session.scalars(select(Task.id).order_by(Task.id)))
    cases = {
        "counters": (TaskQuery(Filters(items=(Filter("total_predictions", "greater", 0),))), 3),
        "counters, or": (
            TaskQuery(
                Filters(
                    "or",
                    (
                        Filter("total_annotations", "greater_or_equal", 2),
                        Filter("cancelled_annotations", "empty", False),
                    ),
                )
            ),
            2,
        ),
        "data": (TaskQuery(Filters(items=(Filter("data.text", "equal", "t"),))), 4),
        "excluded": (TaskQuery(selection=Selection(all=True, ids=(ids[0],))), 3),
        "included": (TaskQuery(selection=Selection(all=False, ids=(ids[0], ids[3]))), 2),
    }
    for name, (query, expected) in cases.items():
        page = list_tasks(session, project, query=query)
        picked = page.tasks
        assert page.total == expected == len(picked), name
        assert page.total_annotations == sum(t["total_annotations"] for t in picked), name
        assert page.total_predictions == sum(t["total_predictions"] for t in picked), name


def test_counter_totals_decline_filters_on_other_columns(session: Session) -> None:
    project = make_project(session)
    for column, value in (("id", 1), ("predictions_score", 0.5), ("data.text", "t")):
        filters = Filters(
            items=(Filter("total_predictions", "greater", 0), Filter(column, "equal", value))
        )
        assert counter_totals(session, project.id, filters) is None


def test_deleting_a_project_forgets_its_histogram(session: Session) -> None:
    doomed, kept = make_project(session, title="doomed"), make_project(session, title="kept")
    for project in (doomed, kept):
        import_json(session, project, [_task(1), _task(0, 1)])
    delete_project(session, doomed)
    remaining = session.scalars(select(TaskCounterHistogram.project_id).distinct()).all()
    assert remaining == [kept.id]
    assert_histogram_exact(session)


def test_a_cascade_from_the_database_is_counted(store: Store) -> None:
    with store.session() as session:
        project = make_project(session)
        other = make_project(session, title="other")
        import_json(session, project, [_task(1)] * 3)
        import_json(session, other, [_task(2)])
    with store.session() as session:
        session.delete(session.get(Project, project.id))  # no service: the foreign keys cascade
    with store.session() as session:
        assert_counters_exact(session)


def _alembic(connection: Any) -> Config:
    config = Config()
    config.set_main_option("script_location", "prelabel.store:migrations")
    config.attributes["connection"] = connection
    return config


@pytest.fixture
def downgraded(store: Store) -> Iterator[None]:
    """The database one revision before the histogram; brought back to head at the end."""
    with store.engine.begin() as connection:
        command.downgrade(_alembic(connection), "0005")
    try:
        yield
    finally:
        with store.engine.begin() as connection:
            command.upgrade(_alembic(connection), "head")


@pytest.mark.usefixtures("downgraded")
def test_the_migration_fills_the_histogram_from_the_counters(store: Store) -> None:
    with store.engine.connect() as connection:
        tables = connection.dialect.get_table_names(connection)
    assert "task_counter_histogram" not in tables
    with store.session() as session:
        project = make_project(session)
        import_json(session, project, [_task(1), _task(2, 1), _task(0, 0, 1), _task(1)])
        delete_task(session, session.scalars(select(Task).order_by(Task.id)).first())
    with store.engine.begin() as connection:
        command.upgrade(_alembic(connection), "head")
    with store.session() as session:
        assert_counters_exact(session)
        totals = counter_totals(session, project.id, Filters())
        assert totals is not None and (totals.tasks, totals.total_predictions) == (3, 3)


@pytest.fixture
def postgres_store(store: Store) -> Store:
    if store.engine.dialect.name != "postgresql":
        pytest.skip("concurrent writers: PostgreSQL only (SQLite has one writer at a time)")
    return store


def _no_waiting(session: Session) -> None:
    session.execute(text("SET LOCAL lock_timeout = '2s'"))


def test_concurrent_writers_never_wait_on_each_others_histogram_rows(
    postgres_store: Store,
) -> None:
    with postgres_store.session() as session:
        project = make_project(session)
        import_json(session, project, [_task(0), _task(1), _task(0), _task(1)])
        a, b, c, d = session.scalars(select(Task.id).order_by(Task.id)).all()
    # Four open transactions moving tasks between the same combinations, in crossed orders:
    # shared rows would make the later ones wait (here, fail on the lock timeout) or deadlock.
    with (
        postgres_store.session() as first,
        postgres_store.session() as second,
        postgres_store.session() as third,
    ):
        for writer in (first, second, third):
            _no_waiting(writer)
        adjust_task_counters(first, a, total_predictions=1)  # 0 -> 1
        adjust_task_counters(second, b, total_predictions=-1)  # 1 -> 0
        adjust_task_counters(third, c, total_predictions=1)  # 0 -> 1
        adjust_task_counters(first, d, total_predictions=1)  # 1 -> 2
        adjust_task_counters(second, c + 100_000, total_predictions=1)  # no such task
        import_json(third, third.get(Project, project.id), [_task(1)])
        with postgres_store.session() as folder:
            _no_waiting(folder)
            fold_writers(folder, project.id, after=0)  # takes only committed rows
    with postgres_store.session() as session:
        assert_histogram_exact(session)
        writers = session.scalars(select(TaskCounterHistogram.writer).distinct()).all()
        assert len(writers) > 1, "each statement wrote rows of its own"


def test_every_1024th_writing_statement_folds_what_has_committed(postgres_store: Store) -> None:
    with postgres_store.session() as session:
        project = make_project(session)
        import_json(session, project, [_task(0), _task(1)])
        import_json(session, project, [_task(2)])
        session.execute(text("SELECT setval('task_counter_histogram_writer', 2047)"))
    with postgres_store.session() as session:
        create_task(session, project.id, data={"text": "the 2048th statement"})
        writers = session.scalars(select(TaskCounterHistogram.writer)).all()
        assert set(writers) == {0}, "its own rows and the committed ones are folded"
    with postgres_store.session() as session:
        assert_histogram_exact(session)


def test_folding_leaves_one_row_a_combination_and_the_same_totals(
    postgres_store: Store,
) -> None:
    with postgres_store.session() as session:
        project = make_project(session)
        import_json(session, project, [_task(0), _task(1, 1)])
        ids = session.scalars(select(Task.id).order_by(Task.id)).all()
    for step in range(6):
        with postgres_store.session() as session:
            adjust_task_counters(session, ids[step % 2], total_predictions=1 - 2 * (step // 2 % 2))
    with postgres_store.session() as session:
        before = _fresh_totals(session, project.id, Filters())
        assert session.scalar(select(func.count()).select_from(TaskCounterHistogram)) > 4
        fold_writers(session, project.id, after=1)
    with postgres_store.session() as session:
        rows = session.execute(select(TaskCounterHistogram)).scalars().all()
        assert {row.writer for row in rows} == {0}
        assert all(row.tasks != 0 for row in rows)
        assert _histogram_totals(session, project.id, Filters()) == before
        assert_histogram_exact(session)


def test_a_second_folder_reads_without_waiting_for_the_first(postgres_store: Store) -> None:
    with postgres_store.session() as session:
        project = make_project(session)
        import_json(session, project, [_task(0)] * 3)
    for _ in range(3):
        with postgres_store.session() as session:
            create_task(session, project.id, data={"text": "more"})
    with postgres_store.session() as first, postgres_store.session() as second:
        fold_writers(first, project.id, after=0)
        _no_waiting(second)
        fold_writers(second, project.id, after=0)  # the lock is taken: it only reads
        assert _histogram_totals(second, project.id, Filters())[0] == 6
    with postgres_store.session() as session:
        assert_counters_exact(session)


def test_lock_timeout_is_what_a_wait_would_hit(postgres_store: Store) -> None:
    """The tests above would see a wait as this error (so their passing means none)."""
    with postgres_store.session() as session:
        project = make_project(session)
        import_json(session, project, [_task(0)])
        task = session.scalars(select(Task.id)).one()
    with postgres_store.session() as first, pytest.raises(OperationalError, match="lock timeout"):
        adjust_task_counters(first, task, total_predictions=1)
        with postgres_store.session() as second:
            _no_waiting(second)
            adjust_task_counters(second, task, total_predictions=1)  # the same task row
