"""Data Manager actions on a selection: what each deletes or creates, that every task's counters
stay exact after each of them, and that an action failing midway changes nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, func, select, update
from sqlalchemy.orm import Session

from prelabel.encryption import SecretBox
from prelabel.engine.job import RunOptions
from prelabel.errors import NotFoundError, ValidationError
from prelabel.providers.prices import PriceTable
from prelabel.services.actions import (
    delete_selected_annotations,
    delete_selected_predictions,
    predictions_to_annotations,
    run_on_selection,
)
from prelabel.services.connections import add_connection
from prelabel.services.predictions import delete_model_version, list_model_versions
from prelabel.services.prompts import create_prompt
from prelabel.services.run_execution import Runtime
from prelabel.services.tasks import TaskQuery
from prelabel.services.users import create_user
from prelabel.store import (
    Annotation,
    Prediction,
    Project,
    PromptVersion,
    Run,
    RunTask,
    Store,
    Task,
    User,
)
from prelabel.store.task_filters import Filter, Filters, Selection
from tests.factories import import_json, make_project, sentiment
from tests.invariants import assert_counters_exact

ALICE = {"email": "alice@example.com"}
BOB = {"email": "bob@example.com"}


def _prediction(label: str, version: str, score: float | None = None) -> dict[str, Any]:
    return {"result": sentiment(label), "model_version": version, "score": score}


# Imported annotations are ground truth unless they say otherwise.
# A0: v1 and v2 predictions, Alice's annotation.
# A1: two v1 predictions (the newer says Positive), Bob's annotation that is not ground truth,
#     Alice's cancelled one.
# A2: a v2 prediction only.  A3: Bob's annotation only.  A4: a v1 prediction, Alice's cancelled.
TASKS: list[dict[str, Any]] = [
    {
        "data": {"text": "a0"},
        "annotations": [{"result": sentiment("Positive"), "completed_by": ALICE}],
        "predictions": [_prediction("Positive", "v1", 0.9), _prediction("Negative", "v2", 0.4)],
    },
    {
        "data": {"text": "a1"},
        "annotations": [
            {"result": sentiment("Negative"), "completed_by": BOB, "ground_truth": False},
            {"result": sentiment("Negative"), "completed_by": ALICE, "was_cancelled": True},
        ],
        "predictions": [_prediction("Negative", "v1", 0.2), _prediction("Positive", "v1", 0.8)],
    },
    {"data": {"text": "a2"}, "predictions": [_prediction("Positive", "v2")]},
    {
        "data": {"text": "a3"},
        "annotations": [{"result": sentiment("Positive"), "completed_by": BOB}],
    },
    {
        "data": {"text": "a4"},
        "annotations": [
            {"result": sentiment("Positive"), "completed_by": ALICE, "was_cancelled": True}
        ],
        "predictions": [_prediction("Positive", "v1")],
    },
]

EVERY_TASK = TaskQuery()


def _build(session: Session) -> tuple[Project, Project]:
    """The project under test, and another whose rows no action on the first may touch."""
    other = make_project(session, title="Other")
    import_json(
        session,
        other,
        [
            {
                "data": {"text": "elsewhere"},
                "annotations": [{"result": sentiment("Positive"), "completed_by": ALICE}],
                "predictions": [_prediction("Positive", "v1"), _prediction("Positive", "v9")],
            }
        ],
    )
    project = make_project(session)
    import_json(session, project, TASKS)
    return project, other


@pytest.fixture
def projects(session: Session) -> tuple[Project, Project]:
    return _build(session)


@pytest.fixture
def project(projects: tuple[Project, Project]) -> Project:
    return projects[0]


@pytest.fixture
def ids(session: Session, project: Project) -> list[int]:
    return _task_ids(session, project)


@pytest.fixture
def user(session: Session, projects: tuple[Project, Project]) -> User:
    """The acting user, an admin; Alice and Bob are the annotators the import created."""
    return create_user(session, email="admin@example.com", is_admin=True)


def _task_ids(session: Session, project: Project) -> list[int]:
    return list(
        session.scalars(select(Task.id).where(Task.project_id == project.id).order_by(Task.id))
    )


def _only(ids: list[int], *indexes: int) -> TaskQuery:
    return TaskQuery(selection=Selection(all=False, ids=tuple(ids[i] for i in indexes)))


def _all_but(ids: list[int], *indexes: int) -> TaskQuery:
    return TaskQuery(selection=Selection(all=True, ids=tuple(ids[i] for i in indexes)))


def _where(*filters: Filter, selection: Selection = EVERY_TASK.selection) -> TaskQuery:
    return TaskQuery(Filters("and", filters), selection)


def _predictions(session: Session, task_id: int) -> list[tuple[str, float | None]]:
    rows = session.execute(
        select(Prediction.model_version, Prediction.score)
        .where(Prediction.task_id == task_id)
        .order_by(Prediction.id)
    )
    return [tuple(row) for row in rows]


def _annotations(session: Session, task_id: int) -> list[tuple[str, bool]]:
    """(annotator e-mail, cancelled) of a task's annotations, oldest first."""
    rows = session.execute(
        select(User.email, Annotation.was_cancelled)
        .join(User, User.id == Annotation.completed_by_id, isouter=True)
        .where(Annotation.task_id == task_id)
        .order_by(Annotation.id)
    )
    return [tuple(row) for row in rows]


def _snapshot(session: Session) -> dict[str, Any]:
    """Every row an action may change, to compare before and after."""
    return {
        "tasks": session.execute(
            select(
                Task.id,
                Task.total_predictions,
                Task.total_annotations,
                Task.cancelled_annotations,
                Task.updated_at,
            ).order_by(Task.id)
        ).all(),
        "predictions": session.execute(
            select(Prediction.id, Prediction.task_id, Prediction.model_version).order_by(
                Prediction.id
            )
        ).all(),
        "annotations": session.execute(
            select(
                Annotation.id,
                Annotation.task_id,
                Annotation.was_cancelled,
                Annotation.parent_prediction_id,
            ).order_by(Annotation.id)
        ).all(),
        "project_model_versions": session.execute(
            select(Project.id, Project.model_version).order_by(Project.id)
        ).all(),
    }


def test_imported_counters_are_exact_to_begin_with(
    session: Session, projects: tuple[Project, Project]
) -> None:
    assert_counters_exact(session)


# Delete predictions


@pytest.mark.parametrize(
    ("query", "version", "deleted", "left"),
    [
        pytest.param(
            lambda ids: _all_but(ids, 0),
            None,
            4,
            [["v1", "v2"], [], [], [], []],
            id="all-but-one-every-version",
        ),
        pytest.param(
            lambda ids: _only(ids, 0, 1),
            "v1",
            3,
            [["v2"], [], ["v2"], [], ["v1"]],
            id="included-one-version",
        ),
        pytest.param(
            lambda ids: _where(Filter("total_annotations", "greater", 0)),
            None,
            4,
            [[], [], ["v2"], [], ["v1"]],
            id="filtered-every-version",
        ),
        pytest.param(
            lambda ids: _where(
                Filter("total_predictions", "greater", 0),
                selection=Selection(all=True, ids=(ids[4],)),
            ),
            "v2",
            2,
            [["v1"], ["v1", "v1"], [], [], ["v1"]],
            id="filtered-and-excluded-one-version",
        ),
        pytest.param(
            lambda ids: _where(Filter("predictions_model_versions", "contains", ["v2"])),
            None,
            3,
            [[], ["v1", "v1"], [], [], ["v1"]],
            id="model-version-filter-picks-tasks",
        ),
        pytest.param(lambda ids: _only(ids), None, 0, None, id="empty-selection"),
    ],
)
def test_delete_predictions_of_the_selection(
    session: Session,
    projects: tuple[Project, Project],
    ids: list[int],
    query: Callable[[list[int]], TaskQuery],
    version: str | None,
    deleted: int,
    left: list[list[str]] | None,
) -> None:
    project, other = projects
    before = [[v for v, _ in _predictions(session, task)] for task in ids]
    count = delete_selected_predictions(session, project, query(ids), model_version=version)
    assert count == deleted
    after = [[v for v, _ in _predictions(session, task)] for task in ids]
    assert after == (before if left is None else left)
    (elsewhere,) = _task_ids(session, other)
    assert [v for v, _ in _predictions(session, elsewhere)] == ["v1", "v9"]
    assert_counters_exact(session)


def test_deleting_a_converted_prediction_keeps_its_annotation_unlinked(
    session: Session, project: Project, ids: list[int], user: User
) -> None:
    predictions_to_annotations(session, project, _only(ids, 2), model_version="v2", user=user)
    assert delete_selected_predictions(session, project, _only(ids, 2)) == 1
    (annotation,) = session.scalars(select(Annotation).where(Annotation.task_id == ids[2]))
    session.refresh(annotation)
    assert annotation.parent_prediction_id is None
    assert annotation.result == sentiment("Positive")
    assert_counters_exact(session)


# Create annotations from predictions


@pytest.mark.parametrize(
    ("version", "parents"),
    [
        pytest.param(None, [(0, "v1"), (0, "v2"), (1, "v1"), (2, "v2"), (4, "v1")], id="every"),
        pytest.param(
            ["v1", "v2"], [(0, "v1"), (0, "v2"), (1, "v1"), (2, "v2"), (4, "v1")], id="list"
        ),
        pytest.param(["v2"], [(0, "v2"), (2, "v2")], id="list-of-one"),
        pytest.param("v2", [(0, "v2"), (2, "v2")], id="one"),
        pytest.param([], [], id="empty-list"),
        pytest.param("", [], id="the-empty-version"),
    ],
)
def test_predictions_to_annotations_converts_the_newest_prediction_of_each_chosen_version(
    session: Session,
    project: Project,
    ids: list[int],
    user: User,
    version: str | list[str] | None,
    parents: list[tuple[int, str]],
) -> None:
    created = predictions_to_annotations(
        session, project, EVERY_TASK, model_version=version, user=user
    )
    assert created == len(parents)
    rows = session.execute(
        select(Prediction.task_id, Prediction.model_version, Prediction.id)
        .join(Annotation, Annotation.parent_prediction_id == Prediction.id)
        .order_by(Prediction.task_id, Prediction.model_version)
    ).all()
    assert [(ids.index(task), v) for task, v, _ in rows] == parents
    for task, v, prediction in rows:
        newest = session.scalar(
            select(func.max(Prediction.id)).where(
                Prediction.task_id == task, Prediction.model_version == v
            )
        )
        assert prediction == newest
    assert_counters_exact(session)
    assert (
        predictions_to_annotations(session, project, EVERY_TASK, model_version=version, user=user)
        == 0
    )


def test_predictions_to_annotations_gives_each_task_one_annotation_of_its_newest_prediction(
    session: Session, project: Project, ids: list[int], user: User
) -> None:
    created = predictions_to_annotations(
        session, project, EVERY_TASK, model_version="v1", user=user
    )
    assert created == 3
    new = session.scalars(
        select(Annotation)
        .where(Annotation.project_id == project.id, Annotation.parent_prediction_id.is_not(None))
        .order_by(Annotation.task_id)
    ).all()
    assert [a.task_id for a in new] == [ids[0], ids[1], ids[4]]
    for annotation in new:
        parent = session.get(Prediction, annotation.parent_prediction_id)
        newest = max(
            session.scalars(
                select(Prediction.id).where(
                    Prediction.task_id == annotation.task_id, Prediction.model_version == "v1"
                )
            )
        )
        assert parent.id == newest and parent.model_version == "v1"
        assert annotation.result == parent.result
        assert (annotation.ground_truth, annotation.was_cancelled) == (False, False)
        assert annotation.completed_by_id == user.id
    assert new[1].result == sentiment("Positive")  # A1's newer prediction, not its older one
    counts = session.execute(
        select(Task.total_annotations).where(Task.id.in_(ids)).order_by(Task.id)
    ).scalars()
    assert list(counts) == [2, 2, 0, 1, 1]
    assert_counters_exact(session)
    before = _snapshot(session)
    assert (
        predictions_to_annotations(session, project, EVERY_TASK, model_version="v1", user=user) == 0
    )
    assert _snapshot(session) == before


@pytest.mark.parametrize(
    ("query", "version", "converted"),
    [
        pytest.param(lambda ids: _only(ids, 1, 2, 3), "v1", [1], id="included"),
        pytest.param(lambda ids: _all_but(ids, 0), "v2", [2], id="all-but-excluded"),
        pytest.param(
            lambda ids: _where(Filter("total_annotations", "empty", True)),
            "v1",
            [4],
            id="filtered",
        ),
        pytest.param(
            lambda ids: _where(
                Filter("total_predictions", "greater", 0), selection=Selection(False, (ids[0],))
            ),
            "v2",
            [0],
            id="filtered-and-included",
        ),
        pytest.param(lambda ids: _only(ids), "v1", [], id="empty-selection"),
        pytest.param(lambda ids: EVERY_TASK, "unknown", [], id="unknown-version"),
    ],
)
def test_predictions_to_annotations_leaves_unselected_tasks_untouched(
    session: Session,
    project: Project,
    ids: list[int],
    user: User,
    query: Callable[[list[int]], TaskQuery],
    version: str,
    converted: list[int],
) -> None:
    before = [_annotations(session, task) for task in ids]
    created = predictions_to_annotations(
        session, project, query(ids), model_version=version, user=user
    )
    assert created == len(converted)
    for index, task in enumerate(ids):
        added = [("admin@example.com", False)] if index in converted else []
        assert _annotations(session, task) == before[index] + added
    assert_counters_exact(session)


def test_a_prediction_whose_annotation_was_deleted_can_be_converted_again(
    session: Session, project: Project, ids: list[int], user: User
) -> None:
    query = _only(ids, 4)
    assert predictions_to_annotations(session, project, query, model_version="v1", user=user) == 1
    assert delete_selected_annotations(session, project, query, annotator=user.id) == 1
    assert predictions_to_annotations(session, project, query, model_version="v1", user=user) == 1
    assert_counters_exact(session)


# Delete annotations


@pytest.mark.parametrize(
    ("query", "annotator", "deleted", "left"),
    [
        pytest.param(
            lambda ids: _all_but(ids, 0),
            None,
            4,
            [[("alice@example.com", False)], [], [], [], []],
            id="all-but-one-cancelled-too",
        ),
        pytest.param(
            lambda ids: _only(ids, 0, 1, 3),
            "alice@example.com",
            2,
            [
                [],
                [("bob@example.com", False)],
                [],
                [("bob@example.com", False)],
                [("alice@example.com", True)],
            ],
            id="included-one-annotator",
        ),
        pytest.param(
            lambda ids: _where(Filter("has_ground_truth", "equal", True)),
            None,
            2,
            [
                [],
                [("bob@example.com", False), ("alice@example.com", True)],
                [],
                [],
                [("alice@example.com", True)],
            ],
            id="filtered",
        ),
        pytest.param(
            lambda ids: _where(Filter("cancelled_annotations", "empty", False)),
            "bob@example.com",
            1,
            [
                [("alice@example.com", False)],
                [("alice@example.com", True)],
                [],
                [("bob@example.com", False)],
                [("alice@example.com", True)],
            ],
            id="filtered-one-annotator",
        ),
        pytest.param(lambda ids: _only(ids), None, 0, None, id="empty-selection"),
    ],
)
def test_delete_annotations_of_the_selection(
    session: Session,
    projects: tuple[Project, Project],
    ids: list[int],
    query: Callable[[list[int]], TaskQuery],
    annotator: str | None,
    deleted: int,
    left: list[list[tuple[str, bool]]] | None,
) -> None:
    project, other = projects
    before = [_annotations(session, task) for task in ids]
    predictions = [_predictions(session, task) for task in ids]
    annotator_id = _user_by_email(session, annotator) if annotator else None
    count = delete_selected_annotations(session, project, query(ids), annotator=annotator_id)
    assert count == deleted
    assert [_annotations(session, task) for task in ids] == (before if left is None else left)
    assert [_predictions(session, task) for task in ids] == predictions
    (elsewhere,) = _task_ids(session, other)
    assert _annotations(session, elsewhere) == [("alice@example.com", False)]
    assert_counters_exact(session)


def _user_by_email(session: Session, email: str) -> int:
    return session.scalars(select(User.id).where(User.email == email)).one()


# Model versions


def _set_created(session: Session, project: Project, version: str, when: datetime) -> None:
    session.execute(
        update(Prediction)
        .where(Prediction.project_id == project.id, Prediction.model_version == version)
        .values(created_at=when)
    )


def test_model_versions_with_counts_newest_first(session: Session, project: Project) -> None:
    early, late = datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 6, 1, tzinfo=UTC)
    _set_created(session, project, "v1", early)
    _set_created(session, project, "v2", late)
    assert list_model_versions(session, project) == [
        {"model_version": "v2", "count": 2, "latest": late, "prompt_version": None},
        {"model_version": "v1", "count": 4, "latest": early, "prompt_version": None},
    ]
    _set_created(session, project, "v1", datetime(2025, 1, 1, tzinfo=UTC))
    assert [row["model_version"] for row in list_model_versions(session, project)] == ["v1", "v2"]


def test_model_versions_name_the_prompt_version_that_made_them(
    session: Session, project: Project, ids: list[int]
) -> None:
    version = _prompt_version(session, project)
    session.add(
        Prediction(
            task_id=ids[3],
            project_id=project.id,
            result=sentiment("Positive"),
            model_version="p__v1",
            prompt_version_id=version.id,
            created_at=datetime(2030, 1, 1, tzinfo=UTC),
        )
    )
    session.flush()
    newest = list_model_versions(session, project)[0]
    assert (newest["model_version"], newest["count"], newest["prompt_version"]) == (
        "p__v1",
        1,
        version.id,
    )


@pytest.mark.parametrize(
    ("version", "deleted", "left", "project_model_version"),
    [
        pytest.param("v1", 4, [["v2"], [], ["v2"], [], []], None, id="the-projects-version"),
        pytest.param("v2", 2, [["v1"], ["v1", "v1"], [], [], ["v1"]], "v1", id="another-version"),
    ],
)
def test_delete_model_version_deletes_its_predictions_in_this_project_only(
    session: Session,
    projects: tuple[Project, Project],
    ids: list[int],
    version: str,
    deleted: int,
    left: list[list[str]],
    project_model_version: str | None,
) -> None:
    project, other = projects
    assert project.model_version == "v1"  # the version of the last imported prediction
    assert delete_model_version(session, project, version) == deleted
    assert [[v for v, _ in _predictions(session, task)] for task in ids] == left
    assert version not in [row["model_version"] for row in list_model_versions(session, project)]
    assert project.model_version == project_model_version
    assert [row["model_version"] for row in list_model_versions(session, other)] == ["v1", "v9"]
    assert_counters_exact(session)


def test_deleting_an_unknown_model_version_is_not_found_and_changes_nothing(
    session: Session, project: Project
) -> None:
    before = _snapshot(session)
    with pytest.raises(NotFoundError, match="no prediction of version 'v9'"):
        delete_model_version(session, project, "v9")  # v9 is the other project's
    assert _snapshot(session) == before


# Atomicity: an action failing midway leaves nothing changed.

ACTIONS: list[Any] = [
    pytest.param(
        lambda s, p, ids: delete_selected_predictions(s, p, _all_but(ids, 0)),
        id="delete-predictions",
    ),
    pytest.param(
        lambda s, p, ids: delete_selected_predictions(s, p, _only(ids, 1), model_version="v1"),
        id="delete-one-versions-predictions",
    ),
    pytest.param(lambda s, p, ids: delete_model_version(s, p, "v1"), id="delete-model-version"),
    pytest.param(
        lambda s, p, ids: predictions_to_annotations(
            s, p, EVERY_TASK, model_version="v1", user=None
        ),
        id="predictions-to-annotations",
    ),
    pytest.param(
        lambda s, p, ids: delete_selected_annotations(s, p, _only(ids, 1, 3, 4)),
        id="delete-annotations",
    ),
]


@pytest.fixture
def stored(store: Store) -> tuple[int, list[int], dict[str, Any]]:
    """The projects, committed; returns the project id, its task ids and a snapshot."""
    with store.session() as session:
        project, _ = _build(session)
        return project.id, _task_ids(session, project), _snapshot(session)


@contextmanager
def _row_changes_fail(store: Store) -> Iterator[list[str]]:
    """The database refuses every DELETE and INSERT, which each action makes after it has
    updated the task counters; yields the statements run until then."""
    statements: list[str] = []

    def refuse(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement.lstrip().upper())
        if statements[-1].startswith(("DELETE", "INSERT")):
            raise RuntimeError("the disk is full")

    event.listen(store.engine, "before_cursor_execute", refuse)
    try:
        yield statements
    finally:
        event.remove(store.engine, "before_cursor_execute", refuse)


@pytest.mark.parametrize("action", ACTIONS)
def test_an_action_failing_midway_changes_nothing(
    store: Store, stored: tuple[int, list[int], dict[str, Any]], action: Any
) -> None:
    project_id, ids, before = stored
    with (
        _row_changes_fail(store) as statements,
        pytest.raises(RuntimeError, match="the disk is full"),
        store.session() as session,
    ):
        action(session, session.get(Project, project_id), ids)
    assert any(statement.startswith("UPDATE TASKS") for statement in statements), (
        "counters had changed when the action failed"
    )
    with store.session() as session:
        assert _snapshot(session) == before
        assert_counters_exact(session)


@pytest.mark.parametrize("action", ACTIONS)
def test_an_action_is_undone_with_the_transaction_it_ran_in(
    store: Store, stored: tuple[int, list[int], dict[str, Any]], action: Any
) -> None:
    project_id, ids, before = stored
    with pytest.raises(RuntimeError, match="the caller failed"), store.session() as session:
        assert action(session, session.get(Project, project_id), ids) > 0
        assert _snapshot(session) != before
        raise RuntimeError("the caller failed")
    with store.session() as session:
        assert _snapshot(session) == before
        assert_counters_exact(session)


# Run a prompt version on the selection

RUNTIME = Runtime(SecretBox("s"), PriceTable.load())


def _prompt_version(session: Session, project: Project, name: str = "p") -> PromptVersion:
    connection = add_connection(
        session, SecretBox("s"), name=f"local-{name}", kind="local", default_model="m"
    )
    return create_prompt(session, project, name=name, template="{text}", connection=connection)[1]


def _worklist(session: Session, run: Run) -> list[int]:
    return list(
        session.scalars(
            select(RunTask.task_id).where(RunTask.run_id == run.id).order_by(RunTask.id)
        )
    )


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param(lambda ids: EVERY_TASK, [0, 1, 2, 3, 4], id="every-task"),
        pytest.param(lambda ids: _only(ids, 3, 1), [1, 3], id="included"),
        pytest.param(lambda ids: _all_but(ids, 0, 4), [1, 2, 3], id="all-but-excluded"),
        pytest.param(
            lambda ids: _where(
                Filter("total_predictions", "greater", 0), selection=Selection(True, (ids[0],))
            ),
            [1, 2, 4],
            id="filtered-and-excluded",
        ),
    ],
)
def test_run_on_selection_creates_a_pending_run_of_exactly_the_selected_tasks(
    session: Session,
    project: Project,
    ids: list[int],
    user: User,
    query: Callable[[list[int]], TaskQuery],
    expected: list[int],
) -> None:
    version = _prompt_version(session, project)
    run = run_on_selection(
        session, RUNTIME, project, query(ids), version, RunOptions(), created_by=user.id
    )
    assert (run.status, run.total, run.prompt_version_id) == ("Pending", len(expected), version.id)
    assert run.created_by_id == user.id
    assert _worklist(session, run) == [ids[i] for i in expected]


@pytest.mark.parametrize(
    "query",
    [
        pytest.param(lambda ids: _only(ids), id="nothing-included"),
        pytest.param(lambda ids: _all_but(ids, 0, 1, 2, 3, 4), id="everything-excluded"),
        pytest.param(
            lambda ids: _where(Filter("total_predictions", "greater", 5)), id="nothing-filtered"
        ),
    ],
)
def test_run_on_an_empty_selection_is_refused(
    session: Session, project: Project, ids: list[int], query: Callable[[list[int]], TaskQuery]
) -> None:
    version = _prompt_version(session, project)
    with pytest.raises(ValidationError, match="the selection holds no task"):
        run_on_selection(session, RUNTIME, project, query(ids), version, RunOptions())
    assert session.scalars(select(Run.id)).all() == []


def test_run_of_another_projects_prompt_version_is_refused(
    session: Session, projects: tuple[Project, Project]
) -> None:
    project, other = projects
    version = _prompt_version(session, other, name="elsewhere")
    with pytest.raises(ValidationError, match=f"prompt version {version.id} belongs to another"):
        run_on_selection(session, RUNTIME, project, EVERY_TASK, version, RunOptions())
    assert session.scalars(select(Run.id)).all() == []
