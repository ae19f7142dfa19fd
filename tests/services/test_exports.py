"""Exporting tasks: Label Studio JSON/JSONL round trips for every control kind, CSV, offsets."""

from __future__ import annotations

import csv
import io
from typing import Any

import orjson
import pytest
from sqlalchemy.orm import Session

from prelabel.services.exports import export_tasks
from prelabel.store import Project
from tests.factories import ALL_CONTROLS_CONFIG, import_json, make_project, region

TEXT = "Alice met Bob at ACME 🎉 in Paris"

#: One task per control kind, as Label Studio would export it (LABEL_STUDIO.md §11).
ROUND_TRIP_TASKS: dict[str, list[dict[str, Any]]] = {
    "choices-single": [region("sentiment", "choices", {"choices": ["Positive"]})],
    "choices-multiple": [region("topics", "choices", {"choices": ["Sports", "Politics"]})],
    "labels": [
        {
            "id": "r1",
            **region("ner", "labels", {"start": 0, "end": 5, "text": "Alice", "labels": ["PER"]}),
        },
        {
            "id": "r2",
            **region("ner", "labels", {"start": 17, "end": 21, "text": "ACME", "labels": ["ORG"]}),
        },
    ],
    "textarea": [region("comment", "textarea", {"text": ["free text", "second line"]})],
    "rating": [region("rating", "rating", {"rating": 4})],
    "number": [region("num", "number", {"number": 7.5})],
    "taxonomy": [region("tax", "taxonomy", {"taxonomy": [["A", "A1"], ["B"]]})],
}


def _tasks() -> list[dict[str, Any]]:
    return [
        {
            "data": {"text": TEXT, "kind": kind},
            "meta": {"kind": kind},
            "annotations": [
                {"result": result, "ground_truth": True, "was_cancelled": False, "lead_time": 2.0}
            ],
            "predictions": [{"result": result, "score": 0.75, "model_version": f"m-{kind}"}],
        }
        for kind, result in ROUND_TRIP_TASKS.items()
    ]


_VOLATILE = {"id", "created_at", "updated_at", "task", "project", "import_id", "completed_by"}


def _stable(value: Any) -> Any:
    """The export without what a new import necessarily changes: ids, owners, timestamps."""
    if isinstance(value, dict):
        return {
            k: _stable(v)
            for k, v in value.items()
            if k not in _VOLATILE or k == "id" and isinstance(v, str)
        }
    if isinstance(value, list):
        return [_stable(v) for v in value]
    return value


def _export(session: Session, project: Project, fmt: str, **options: Any) -> bytes:
    out = io.BytesIO()
    export_tasks(session, project, out, fmt=fmt, **options)
    return out.getvalue()


def _parse(fmt: str, raw: bytes) -> list[dict[str, Any]]:
    if fmt == "json":
        return orjson.loads(raw)
    return [orjson.loads(line) for line in raw.splitlines()]


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_export_then_import_round_trips_every_control_kind(session: Session, fmt: str) -> None:
    source = make_project(session, ALL_CONTROLS_CONFIG, title="source")
    import_json(session, source, _tasks())
    exported = _parse(fmt, _export(session, source, fmt))
    assert len(exported) == len(ROUND_TRIP_TASKS)
    for task, (kind, result) in zip(exported, ROUND_TRIP_TASKS.items(), strict=True):
        assert task["data"] == {"text": TEXT, "kind": kind}
        assert task["annotations"][0]["result"] == result
        assert task["predictions"][0] == {
            **task["predictions"][0],
            "result": result,
            "score": 0.75,
            "model_version": f"m-{kind}",
        }
        assert (task["total_annotations"], task["total_predictions"]) == (1, 1)
    copy = make_project(session, ALL_CONTROLS_CONFIG, title="copy")
    import_json(session, copy, exported)
    assert _stable(_parse(fmt, _export(session, copy, fmt))) == _stable(exported)


def test_export_json_of_empty_project_is_an_empty_array(session: Session) -> None:
    project = make_project(session)
    assert orjson.loads(_export(session, project, "json")) == []


def test_export_json_carries_label_studio_task_shape(session: Session) -> None:
    project = make_project(session, ALL_CONTROLS_CONFIG)
    import_json(session, project, _tasks()[:1])
    (task,) = orjson.loads(_export(session, project, "json"))
    assert set(task) >= {
        "id",
        "data",
        "meta",
        "annotations",
        "predictions",
        "total_annotations",
        "cancelled_annotations",
        "total_predictions",
        "created_at",
        "updated_at",
        "project",
    }
    assert task["created_at"].endswith("Z")
    assert set(task["annotations"][0]) >= {
        "id",
        "result",
        "completed_by",
        "was_cancelled",
        "ground_truth",
        "lead_time",
        "parent_prediction",
        "task",
    }
    assert set(task["predictions"][0]) >= {"id", "result", "score", "model_version", "task"}


def test_export_csv_flattens_data_and_reference_answers(session: Session) -> None:
    project = make_project(session, ALL_CONTROLS_CONFIG)
    import_json(
        session,
        project,
        [
            _tasks()[1],
            {"data": {"text": "no answer", "extra": {"nested": True}}},
        ],
    )
    rows = list(csv.DictReader(io.StringIO(_export(session, project, "csv").decode())))
    assert list(rows[0])[:4] == ["id", "text", "kind", "extra"]
    assert rows[0]["topics"] == '["Sports","Politics"]'
    assert rows[0]["sentiment"] == ""
    assert rows[0]["ground_truth"] == "true"
    assert rows[1]["extra"] == '{"nested":true}'
    assert rows[1]["annotation_id"] == "" and rows[1]["total_annotations"] == "0"


def test_export_span_offsets_in_utf16_shift_after_an_emoji(session: Session) -> None:
    project = make_project(session, ALL_CONTROLS_CONFIG)
    paris = TEXT.index("Paris")
    result = [
        region(
            "ner", "labels", {"start": paris, "end": paris + 5, "text": "Paris", "labels": ["ORG"]}
        )
    ]
    import_json(session, project, [{"data": {"text": TEXT}, "predictions": [{"result": result}]}])

    def span(**options: Any) -> tuple[int, int]:
        value = orjson.loads(_export(session, project, "json", **options))[0]["predictions"][0][
            "result"
        ][0]["value"]
        return value["start"], value["end"]

    assert span() == (paris, paris + 5)
    assert span(span_offsets="codepoint") == (paris, paris + 5)
    assert span(span_offsets="utf16") == (paris + 1, paris + 6), "🎉 is two UTF-16 units"


def test_export_carries_only_its_own_tasks_predictions_when_projects_interleave(
    session: Session,
) -> None:
    first = make_project(session, title="first")
    second = make_project(session, title="second")
    for round_ in range(3):
        for project in (first, second):
            version = f"{project.title}-{round_}"
            import_json(
                session,
                project,
                [
                    {
                        "data": {"text": version},
                        "predictions": [{"result": [], "model_version": version}],
                    }
                ],
            )
    exported = orjson.loads(_export(session, first, "json", batch_size=2))
    assert [t["data"]["text"] for t in exported] == ["first-0", "first-1", "first-2"]
    assert [[p["model_version"] for p in t["predictions"]] for t in exported] == [
        ["first-0"],
        ["first-1"],
        ["first-2"],
    ]
