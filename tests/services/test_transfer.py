"""Import and export as the API uses them: predictions in bulk, preannotated fields, checking
an import without keeping it, and exports that select tasks and stream in chunks."""

from __future__ import annotations

import io
from typing import Any

import orjson
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from prelabel.errors import ImportFormatError
from prelabel.services.exports import ExportSelection, export_tasks, stream_export
from prelabel.services.imports import check_import, import_predictions, import_tasks
from prelabel.store import Prediction, Task
from tests.factories import ALL_CONTROLS_CONFIG, import_json, make_project, region, sentiment


def test_import_predictions_in_bulk_keeps_every_counter_exact(session: Session) -> None:
    project = make_project(session)
    import_json(session, project, [{"text": str(i)} for i in range(1000)])
    task_ids = list(session.scalars(select(Task.id).order_by(Task.id)))
    items = [
        {"task": task_ids[i % 1000], "result": sentiment("Positive"), "score": 0.5}
        for i in range(10_000)
    ]
    assert import_predictions(session, project, items) == 10_000
    assert session.scalar(select(func.count(Prediction.id))) == 10_000
    counters = set(session.scalars(select(Task.total_predictions)))
    assert counters == {10}


def test_check_import_reports_what_an_import_would_add_and_keeps_nothing(
    session: Session,
) -> None:
    project = make_project(session)
    tasks = [{"data": {"text": "a"}, "predictions": [{"result": sentiment("Positive")}]}]
    stream = io.BytesIO(orjson.dumps(tasks))
    summary = check_import(session, project, stream, fmt="json", return_task_ids=True)
    assert (summary.task_count, summary.prediction_count, summary.task_ids) == (1, 1, [])
    assert session.scalar(select(func.count(Task.id))) == 0
    assert project.model_version == ""


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        pytest.param("sentiment", "Positive", {"choices": ["Positive"]}, id="single-choice"),
        pytest.param(
            "topics", ["Sports", "Politics"], {"choices": ["Sports", "Politics"]}, id="multi"
        ),
        pytest.param("comment", "free text", {"text": ["free text"]}, id="textarea"),
        pytest.param("rating", "4", {"rating": 4}, id="rating-from-csv-text"),
        pytest.param("num", "7.5", {"number": 7.5}, id="number-from-csv-text"),
        pytest.param("num", 3, {"number": 3}, id="number"),
        pytest.param("tax", {"taxonomy": [["A", "A1"]]}, {"taxonomy": [["A", "A1"]]}, id="object"),
    ],
)
def test_preannotated_field_becomes_the_result_value_of_its_control(
    session: Session, field: str, value: Any, expected: dict[str, Any]
) -> None:
    project = make_project(session, ALL_CONTROLS_CONFIG)
    stream = io.BytesIO(orjson.dumps([{"text": "Alice", field: value}]))
    import_tasks(session, project, stream, fmt="json", preannotated_from_fields=[field])
    prediction = session.scalars(select(Prediction)).one()
    assert prediction.result == [region(field, expected_type(field), expected)]
    assert (prediction.score, prediction.model_version) == (1.0, "preannotated")


def expected_type(field: str) -> str:
    return {"sentiment": "choices", "topics": "choices", "comment": "textarea"}.get(
        field, {"num": "number", "tax": "taxonomy"}.get(field, field)
    )


def test_preannotated_field_of_a_full_task_joins_its_own_predictions(session: Session) -> None:
    project = make_project(session)
    task = {
        "data": {"text": "a", "sentiment": "Negative"},
        "predictions": [{"result": sentiment("Positive"), "model_version": "m"}],
    }
    stream = io.BytesIO(orjson.dumps([task]))
    import_tasks(session, project, stream, fmt="json", preannotated_from_fields=["sentiment"])
    versions = session.scalars(select(Prediction.model_version).order_by(Prediction.id)).all()
    assert versions == ["m", "preannotated"]
    assert session.scalar(select(Task.total_predictions)) == 2


def test_preannotated_field_naming_no_control_is_refused_before_reading(session: Session) -> None:
    project = make_project(session)
    with pytest.raises(ImportFormatError, match="'text' names no control"):
        import_tasks(
            session, project, io.BytesIO(b"[]"), fmt="json", preannotated_from_fields=["text"]
        )


@pytest.fixture
def exported_project(session: Session) -> Any:
    project = make_project(session)
    import_json(
        session,
        project,
        [
            {"data": {"text": "a"}, "annotations": [{"result": sentiment("Positive")}]},
            {"data": {"text": "b"}, "annotations": [{"result": [], "was_cancelled": True}]},
            {"data": {"text": "c"}},
        ]
        * 20,
    )
    return project


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv"])
def test_stream_export_in_small_chunks_writes_what_export_tasks_writes(
    session: Session, exported_project: Any, fmt: str
) -> None:
    whole = io.BytesIO()
    export_tasks(session, exported_project, whole, fmt=fmt)
    chunks = list(stream_export(session, exported_project, fmt=fmt, chunk_bytes=64))
    assert len(chunks) > 5
    assert b"".join(chunks) == whole.getvalue()


def test_export_selection_keeps_annotated_tasks_cancelled_ones_too_and_ids(
    session: Session, exported_project: Any
) -> None:
    ids = list(session.scalars(select(Task.id).order_by(Task.id)))
    annotated = ExportSelection(only_annotated=True)
    chosen = ExportSelection(only_annotated=True, ids=(ids[0], ids[2], ids[4]))

    def exported(selection: ExportSelection) -> list[int]:
        raw = b"".join(stream_export(session, exported_project, fmt="json", selection=selection))
        return [task["id"] for task in orjson.loads(raw)]

    assert exported(annotated) == [i for n, i in enumerate(ids) if n % 3 != 2]
    assert exported(chosen) == [ids[0], ids[4]]
    assert exported(ExportSelection(ids=())) == []
