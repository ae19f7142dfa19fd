"""Importing Label Studio task files: formats, defaults, validation, all-or-nothing."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from prelabel.errors import ImportFormatError
from prelabel.services.imports import import_tasks
from prelabel.store import Annotation, Prediction, Project, Store, Task, User
from tests.factories import import_json, make_project, region, sentiment


@pytest.fixture
def project_id(store: Store) -> int:
    with store.session() as session:
        return make_project(session).id


def _count(store: Store, model: type) -> int:
    with store.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_import_full_form_tasks_keeps_data_annotations_predictions_and_counters(
    store: Store, project_id: int
) -> None:
    tasks = [
        {
            "data": {"text": "great"},
            "meta": {"source": "web"},
            "annotations": [{"result": sentiment("Positive"), "lead_time": 3.5}],
            "predictions": [
                {"result": sentiment("Positive"), "score": 0.9, "model_version": "v1"},
                {"result": sentiment("Negative"), "score": 0.2, "model_version": "v2"},
            ],
        },
        {"data": {"text": "bad"}, "annotations": [{"result": [], "was_cancelled": True}]},
    ]
    with store.session() as session:
        summary = import_json(session, session.get(Project, project_id), tasks)
    assert (summary.task_count, summary.annotation_count, summary.prediction_count) == (2, 2, 2)
    with store.session() as session:
        first, second = session.scalars(select(Task).order_by(Task.id)).all()
        assert first.data == {"text": "great"} and first.meta == {"source": "web"}
        assert (first.total_annotations, first.cancelled_annotations, first.total_predictions) == (
            1,
            0,
            2,
        )
        assert (second.total_annotations, second.cancelled_annotations) == (0, 1)
        annotation = session.scalars(select(Annotation).where(Annotation.task_id == first.id)).one()
        assert annotation.ground_truth is True, "imported annotations are ground truth by default"
        assert annotation.lead_time == 3.5
        scores = session.execute(
            select(Prediction.model_version, Prediction.score).order_by(Prediction.id)
        ).all()
        assert [tuple(row) for row in scores] == [("v1", 0.9), ("v2", 0.2)]
        assert session.get(Project, project_id).model_version == "v2", "last imported version"


def test_import_flat_task_and_single_object_become_data(store: Store, project_id: int) -> None:
    with store.session() as session:
        project = session.get(Project, project_id)
        import_json(session, project, {"text": "one object", "extra": 1})
        import_json(session, project, [{"text": "flat", "n": 2}])
    with store.session() as session:
        data = session.scalars(select(Task.data).order_by(Task.id)).all()
    assert data == [{"text": "one object", "extra": 1}, {"text": "flat", "n": 2}]


def test_import_prediction_without_version_is_undefined(store: Store, project_id: int) -> None:
    with store.session() as session:
        import_json(
            session,
            session.get(Project, project_id),
            [{"data": {"text": "x"}, "predictions": [{"result": sentiment("Negative")}]}],
        )
    with store.session() as session:
        assert session.scalar(select(Prediction.model_version)) == "undefined"
        assert session.get(Project, project_id).model_version == "undefined"


def test_import_jsonl_csv_and_tsv(store: Store, project_id: int) -> None:
    files = {
        "jsonl": b'{"data": {"text": "a"}}\n\n{"text": "b"}\n',
        "csv": b'text,lang\n"hello, world",en\nbonjour,fr\n',
        "tsv": b"text\tlang\nhallo\tde\n",
    }
    with store.session() as session:
        project = session.get(Project, project_id)
        counts = {
            fmt: import_tasks(session, project, io.BytesIO(raw), fmt=fmt).task_count
            for fmt, raw in files.items()
        }
    assert counts == {"jsonl": 2, "csv": 2, "tsv": 1}
    with store.session() as session:
        data = session.scalars(select(Task.data).order_by(Task.id)).all()
    assert data[2:] == [
        {"text": "hello, world", "lang": "en"},
        {"text": "bonjour", "lang": "fr"},
        {"text": "hallo", "lang": "de"},
    ]


def test_import_completed_by_email_creates_an_inactive_user(store: Store, project_id: int) -> None:
    task = {
        "data": {"text": "x"},
        "annotations": [{"result": sentiment("Positive"), "completed_by": {"email": "Ann@x.io"}}],
    }
    with store.session() as session:
        import_json(session, session.get(Project, project_id), [task, task])
    with store.session() as session:
        users = session.scalars(select(User)).all()
        assert [(u.email, u.is_active) for u in users] == [("ann@x.io", False)]
        owners = session.scalars(select(Annotation.completed_by_id)).all()
        assert owners == [users[0].id, users[0].id]


BAD_TASKS = [
    pytest.param({"data": {"txt": "x"}}, r'task\[2\]: .*"text"', id="missing-data-field"),
    pytest.param({"data": "x"}, r"task\[2\]: data must be an object", id="data-not-object"),
    pytest.param(["x"], r"task\[2\]: a task must be a JSON object", id="task-not-object"),
    pytest.param(
        {"data": {"text": "x"}, "predictions": [{"result": sentiment("Neutral")}]},
        r"task\[2\]: predictions\[0\]\.result: .*Neutral",
        id="prediction-label-not-in-config",
    ),
    pytest.param(
        {"data": {"text": "x"}, "annotations": [{"result": [region("nope", "choices", {})]}]},
        r"task\[2\]: annotations\[0\]\.result: .*nope",
        id="annotation-unknown-control",
    ),
    pytest.param(
        {"data": {"text": "x"}, "annotations": [{"lead_time": 1}]},
        r"task\[2\]: annotations\[0\] has no result",
        id="annotation-without-result",
    ),
    pytest.param(
        {"data": {"text": "x"}, "predictions": [{"result": [], "score": "high"}]},
        r"task\[2\]: predictions\[0\]\.score must be a number",
        id="score-not-a-number",
    ),
    pytest.param(
        {"data": {"text": "x"}, "annotations": [{"result": [], "completed_by": 999}]},
        r"task\[2\]: annotations: completed_by names user 999",
        id="unknown-annotator-id",
    ),
]


@pytest.mark.parametrize(("bad_task", "message"), BAD_TASKS)
def test_import_with_one_bad_task_names_it_and_imports_nothing(
    store: Store, project_id: int, bad_task: object, message: str
) -> None:
    good = {"data": {"text": "fine"}, "predictions": [{"result": sentiment("Positive")}]}
    with (
        pytest.raises(ImportFormatError, match=message),
        store.session() as session,
    ):
        import_json(session, session.get(Project, project_id), [good, good, bad_task], batch_size=1)
    assert (_count(store, Task), _count(store, Prediction), _count(store, User)) == (0, 0, 0)
    with store.session() as session:
        assert session.get(Project, project_id).model_version == ""


@pytest.mark.parametrize(
    ("fmt", "raw", "message"),
    [
        pytest.param("json", b'[{"text": "a"}, {"text": ', r"not valid JSON", id="truncated-json"),
        pytest.param("json", b'"text"', r"array of tasks or one task object", id="json-scalar"),
        pytest.param("json", b"[]", r"holds no tasks", id="empty-array"),
        pytest.param("jsonl", b'{"text": "a"}\n{oops}\n', r"line 2: not valid JSON", id="jsonl"),
        pytest.param("csv", b"text,lang\na,b,c\n", r"row 2: 3 columns, the header has 2", id="csv"),
        pytest.param("csv", b"", r"no header row", id="csv-empty"),
        pytest.param("csv", b"text,text\na,b\n", r"names column 'text' twice", id="csv-dup"),
        pytest.param("csv", b"text\n\xff\xfe\n", r"not UTF-8", id="csv-not-utf8"),
    ],
)
def test_import_malformed_file_is_a_clear_error(
    store: Store, project_id: int, fmt: str, raw: bytes, message: str
) -> None:
    with pytest.raises(ImportFormatError, match=message), store.session() as session:
        import_tasks(session, session.get(Project, project_id), io.BytesIO(raw), fmt=fmt)
    assert _count(store, Task) == 0


def test_import_nul_character_is_stored_on_sqlite_and_named_on_postgresql(
    store: Store, project_id: int, database_url: str
) -> None:
    tasks = [{"text": "fine"}, {"text": "nul \u0000 inside"}]
    if database_url.startswith("sqlite"):
        with store.session() as session:
            import_json(session, session.get(Project, project_id), tasks)
        assert _count(store, Task) == 2
        return
    with (
        pytest.raises(ImportFormatError, match=r"task\[1\]: contains a NUL character"),
        store.session() as session,
    ):
        import_json(session, session.get(Project, project_id), tasks)
    assert _count(store, Task) == 0


def test_import_attaches_each_prediction_to_its_own_task_across_batches_and_projects(
    store: Store, project_id: int
) -> None:
    def tasks(prefix: str, count: int) -> list[dict[str, object]]:
        return [
            {
                "data": {"text": f"{prefix}{i}"},
                "predictions": [{"result": sentiment("Positive"), "model_version": f"{prefix}{i}"}],
            }
            for i in range(count)
        ]

    with store.session() as session:
        other = make_project(session, title="Other")
        first = session.get(Project, project_id)
        import_json(session, first, tasks("a", 5), batch_size=2)
        import_json(session, other, tasks("b", 3), batch_size=2)
        import_json(session, first, tasks("c", 4), batch_size=3)
    with store.session() as session:
        pairs = session.execute(
            select(Task.data, Prediction.model_version).join(
                Prediction, Prediction.task_id == Task.id
            )
        ).all()
    assert len(pairs) == 12
    assert all(data["text"] == version for data, version in pairs)
