"""``/api/projects/{id}/import``, ``/import/predictions`` and ``/export``: Label Studio's
shapes, all-or-nothing imports, and exports that select and stream."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from prelabel.store import Annotation, Prediction, Project, Store, Task
from tests.factories import import_json, make_project, sentiment


@pytest.fixture
def project_id(store: Store) -> int:
    with store.session() as session:
        return make_project(session).id


def _counts(store: Store) -> tuple[int, int, int]:
    """Tasks, annotations and predictions stored, over every project."""
    with store.session() as session:
        return tuple(  # type: ignore[return-value]
            session.scalar(select(func.count()).select_from(model))
            for model in (Task, Annotation, Prediction)
        )


def _nested(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


def _import(store: Store, project_id: int, tasks: list[dict[str, Any]]) -> list[int]:
    with store.session() as session:
        import_json(session, session.get(Project, project_id), tasks)
        return list(session.scalars(select(Task.id).order_by(Task.id)))


FULL_TASKS = [
    {
        "data": {"text": "great"},
        "annotations": [{"result": sentiment("Positive")}],
        "predictions": [{"result": sentiment("Positive"), "score": 0.9, "model_version": "v1"}],
    },
    {"text": "flat task"},
]


class TestImportTasks:
    def test_import_json_array_answers_label_studio_summary_and_stores_tasks(
        self, client: TestClient, store: Store, project_id: int
    ) -> None:
        response = client.post(f"/api/projects/{project_id}/import", json=FULL_TASKS)
        assert response.status_code == 201
        body = response.json()
        assert isinstance(body.pop("duration"), float)
        assert body == {
            "task_count": 2,
            "annotation_count": 1,
            "prediction_count": 1,
            "file_upload_ids": [],
            "could_be_tasks_list": False,
            "found_formats": [],
            "data_columns": [],
        }
        assert _counts(store) == (2, 1, 1)
        with store.session() as session:
            assert session.scalar(select(Annotation.ground_truth)) is True
            assert session.get(Project, project_id).model_version == "v1"

    def test_import_single_task_object_and_return_task_ids(
        self, client: TestClient, store: Store, project_id: int
    ) -> None:
        response = client.post(
            f"/api/projects/{project_id}/import?return_task_ids=true", json={"text": "one"}
        )
        assert response.status_code == 201
        with store.session() as session:
            assert response.json()["task_ids"] == list(session.scalars(select(Task.id)))

    def test_import_without_commit_checks_and_stores_nothing(
        self, client: TestClient, store: Store, project_id: int
    ) -> None:
        response = client.post(
            f"/api/projects/{project_id}/import",
            params={"commit_to_project": "false", "return_task_ids": "true"},
            json=FULL_TASKS,
        )
        assert response.status_code == 201
        body = response.json()
        assert (body["task_count"], body["annotation_count"], body["prediction_count"]) == (2, 1, 1)
        assert body["task_ids"] == []
        assert _counts(store) == (0, 0, 0)
        with store.session() as session:
            assert session.get(Project, project_id).model_version == ""

    def test_import_without_commit_still_refuses_a_bad_task(
        self, client: TestClient, store: Store, project_id: int
    ) -> None:
        response = client.post(
            f"/api/projects/{project_id}/import?commit_to_project=0", json=[{"body": "x"}]
        )
        assert response.status_code == 400
        assert _counts(store) == (0, 0, 0)

    def test_import_with_one_bad_task_names_it_and_stores_nothing(
        self, client: TestClient, store: Store, project_id: int
    ) -> None:
        tasks = [{"text": "fine"}, {"data": {"text": "x"}, "predictions": [{"result": "Neutral"}]}]
        response = client.post(f"/api/projects/{project_id}/import", json=tasks)
        assert response.status_code == 400
        assert response.json()["detail"].startswith("task[1]: predictions[0].result")
        assert _counts(store) == (0, 0, 0)

    @pytest.mark.parametrize(
        "content",
        [
            pytest.param(b"[{", id="broken-json"),
            pytest.param(b"", id="empty-body"),
            pytest.param(b"5", id="a-number"),
            pytest.param(b"[]", id="no-tasks"),
            pytest.param(b'["text"]', id="task-not-an-object"),
        ],
    )
    def test_import_body_that_holds_no_tasks_is_a_400(
        self, client: TestClient, store: Store, project_id: int, content: bytes
    ) -> None:
        response = client.post(
            f"/api/projects/{project_id}/import",
            content=content,
            headers={"Content-Type": "application/json"},
        )
        assert response.status_code == 400
        assert response.json()["detail"]
        assert _counts(store) == (0, 0, 0)

    @pytest.mark.parametrize(
        ("filename", "content", "stored"),
        [
            pytest.param("t.csv", b'text,lang\n"hello, world",en\nhi,fr\n', 2, id="csv"),
            pytest.param("t.tsv", b"text\tlang\nhallo\tde\n", 1, id="tsv"),
            pytest.param("t.jsonl", b'{"text": "a"}\n{"data": {"text": "b"}}\n', 2, id="jsonl"),
            pytest.param("t.json", orjson.dumps(FULL_TASKS), 2, id="json"),
        ],
    )
    def test_import_file_upload_reads_the_format_its_name_says(
        self,
        client: TestClient,
        store: Store,
        project_id: int,
        filename: str,
        content: bytes,
        stored: int,
    ) -> None:
        response = client.post(
            f"/api/projects/{project_id}/import", files={"file": (filename, content)}
        )
        assert response.status_code == 201
        assert response.json()["task_count"] == stored
        assert _counts(store)[0] == stored

    @pytest.mark.parametrize(
        "files",
        [
            pytest.param([("file", ("tasks.xml", b"<a/>"))], id="unknown-suffix"),
            pytest.param([("a", ("a.json", b"[]")), ("b", ("b.json", b"[]"))], id="two-files"),
        ],
    )
    def test_import_upload_that_cannot_be_read_is_a_400(
        self, client: TestClient, project_id: int, files: list[Any]
    ) -> None:
        response = client.post(f"/api/projects/{project_id}/import", files=files)
        assert response.status_code == 400

    def test_import_from_a_url_form_is_refused(self, client: TestClient, project_id: int) -> None:
        response = client.post(
            f"/api/projects/{project_id}/import", data={"url": "https://example.com/t.json"}
        )
        assert response.status_code == 400
        assert "URL" in response.json()["detail"]

    def test_import_preannotated_field_becomes_a_prediction_and_stays_in_data(
        self, client: TestClient, store: Store, project_id: int
    ) -> None:
        csv_file = b"text,sentiment\ngreat,Positive\nmeh,\n"
        response = client.post(
            f"/api/projects/{project_id}/import?preannotated_from_fields=sentiment",
            files={"file": ("t.csv", csv_file)},
        )
        assert response.status_code == 201
        assert response.json()["prediction_count"] == 1, "an empty cell makes no prediction"
        with store.session() as session:
            first = session.scalars(select(Task).order_by(Task.id)).first()
            assert first.data == {"text": "great", "sentiment": "Positive"}
            prediction = session.scalars(
                select(Prediction).where(Prediction.task_id == first.id)
            ).one()
            assert prediction.result == sentiment("Positive")
            assert (prediction.score, prediction.model_version) == (1.0, "preannotated")

    @pytest.mark.parametrize(
        ("params", "tasks", "message"),
        [
            pytest.param(
                "preannotated_from_fields=mood", [{"text": "a"}], "mood", id="no-such-control"
            ),
            pytest.param(
                "preannotated_from_fields=sentiment",
                [{"text": "a", "sentiment": "Positive"}, {"text": "b"}],
                "task[1]",
                id="field-missing-in-a-task",
            ),
            pytest.param(
                "preannotated_from_fields=sentiment",
                [{"text": "a", "sentiment": "Neutral"}],
                "Neutral",
                id="value-not-a-choice",
            ),
        ],
    )
    def test_import_preannotated_field_that_does_not_fit_is_a_400(
        self,
        client: TestClient,
        store: Store,
        project_id: int,
        params: str,
        tasks: list[dict[str, Any]],
        message: str,
    ) -> None:
        response = client.post(f"/api/projects/{project_id}/import?{params}", json=tasks)
        assert response.status_code == 400
        assert message in response.json()["detail"]
        assert _counts(store) == (0, 0, 0)

    def test_import_of_data_nested_deeper_than_json_storage_allows_is_a_400_naming_the_task(
        self, client: TestClient, store: Store, project_id: int
    ) -> None:
        tasks = [{"text": "fine"}, {"text": "deep", "x": _nested(300)}]
        response = client.post(f"/api/projects/{project_id}/import", json=tasks)
        assert response.status_code == 400
        assert response.json()["detail"].startswith("task[1]: cannot be stored as JSON")
        assert _counts(store) == (0, 0, 0)

    def test_import_into_unknown_project_is_a_404(self, client: TestClient) -> None:
        assert client.post("/api/projects/999/import", json=[{"text": "a"}]).status_code == 404


class TestImportPredictions:
    def test_import_predictions_adds_them_and_counts_them_on_their_tasks(
        self, client: TestClient, store: Store, project_id: int
    ) -> None:
        first, second = _import(store, project_id, [{"text": "a"}, {"text": "b"}])
        body = [
            {"task": first, "result": sentiment("Positive"), "score": 0.8, "model_version": "m"},
            {"task": first, "result": sentiment("Negative")},
            {"task": second, "result": sentiment("Negative"), "extra": "ignored"},
        ]
        response = client.post(f"/api/projects/{project_id}/import/predictions", json=body)
        assert response.status_code == 201
        assert response.json() == {"created": 3}
        with store.session() as session:
            counters = session.execute(
                select(Task.id, Task.total_predictions).order_by(Task.id)
            ).all()
            assert [tuple(row) for row in counters] == [(first, 2), (second, 1)]
            stored = session.execute(
                select(Prediction.task_id, Prediction.model_version, Prediction.score).order_by(
                    Prediction.id
                )
            ).all()
            assert [tuple(row) for row in stored] == [
                (first, "m", 0.8),
                (first, "undefined", None),
                (second, "undefined", None),
            ]
            assert session.get(Project, project_id).model_version == "", "left alone"

    def test_import_predictions_for_a_task_of_another_project_is_a_400_naming_it(
        self, client: TestClient, store: Store, project_id: int
    ) -> None:
        (own,) = _import(store, project_id, [{"text": "a"}])
        with store.session() as session:
            other = make_project(session, title="Other")
            import_json(session, other, [{"text": "b"}])
            foreign = session.scalar(select(Task.id).where(Task.project_id == other.id))
        body = [
            {"task": own, "result": sentiment("Positive")},
            {"task": foreign, "result": sentiment("Positive")},
        ]
        response = client.post(f"/api/projects/{project_id}/import/predictions", json=body)
        assert response.status_code == 400
        assert response.json()["detail"] == (
            f"predictions[1].task: task {foreign} is not in project {project_id}"
        )
        assert _counts(store) == (2, 0, 0)

    @pytest.mark.parametrize(
        ("item", "message"),
        [
            pytest.param({"result": []}, "predictions[0].task: must be a task id", id="no-task"),
            pytest.param(
                {"task": "1", "result": []}, "predictions[0].task: must be a task id", id="str"
            ),
            pytest.param(
                {"task": True, "result": []}, "predictions[0].task: must be a task id", id="bool"
            ),
            pytest.param(
                {"task": 2**40, "result": []}, "predictions[0].task: must be", id="too-large"
            ),
            pytest.param({"task": 0}, "predictions[0] has no result", id="no-result"),
            pytest.param(
                {"task": 0, "result": sentiment("Neutral")},
                "predictions[0].result: region 0 (sentiment)",
                id="label-not-in-config",
            ),
            pytest.param(
                {"task": 0, "result": [], "score": "high"},
                "predictions[0].score must be a number",
                id="score-not-a-number",
            ),
            pytest.param("x", "predictions[0]: must be an object", id="not-an-object"),
            pytest.param(
                {"task": 0, "result": [{**sentiment("Positive")[0], "meta": _nested(300)}]},
                "predictions[0]: cannot be stored as JSON",
                id="nested-too-deep",
            ),
        ],
    )
    def test_import_predictions_with_a_bad_item_is_a_400_and_stores_nothing(
        self, client: TestClient, store: Store, project_id: int, item: Any, message: str
    ) -> None:
        (task_id,) = _import(store, project_id, [{"text": "a"}])
        if isinstance(item, dict) and item.get("task") == 0:
            item = {**item, "task": task_id}
        good = {"task": task_id, "result": sentiment("Positive")}
        response = client.post(f"/api/projects/{project_id}/import/predictions", json=[item, good])
        assert response.status_code == 400
        assert response.json()["detail"].startswith(message)
        assert _counts(store) == (1, 0, 0)
        with store.session() as session:
            assert session.scalar(select(Task.total_predictions)) == 0

    def test_import_predictions_of_an_empty_array_creates_none(
        self, client: TestClient, project_id: int
    ) -> None:
        response = client.post(f"/api/projects/{project_id}/import/predictions", json=[])
        assert response.status_code == 201
        assert response.json() == {"created": 0}

    def test_import_predictions_body_must_be_an_array(
        self, client: TestClient, project_id: int
    ) -> None:
        response = client.post(
            f"/api/projects/{project_id}/import/predictions", json={"task": 1, "result": []}
        )
        assert response.status_code == 400

    def test_import_predictions_into_unknown_project_is_a_404(self, client: TestClient) -> None:
        assert client.post("/api/projects/999/import/predictions", json=[]).status_code == 404


class TestExport:
    @pytest.fixture
    def task_ids(self, store: Store, project_id: int) -> list[int]:
        return _import(
            store,
            project_id,
            [
                {
                    "data": {"text": "annotated"},
                    "annotations": [{"result": sentiment("Positive")}],
                    "predictions": [
                        {"result": sentiment("Negative"), "score": 0.4, "model_version": "v1"}
                    ],
                },
                {
                    "data": {"text": "skipped"},
                    "annotations": [{"result": [], "was_cancelled": True}],
                },
                {"data": {"text": "untouched"}},
            ],
        )

    def test_export_by_default_is_json_of_tasks_with_annotations_cancelled_ones_counting(
        self, client: TestClient, project_id: int, task_ids: list[int]
    ) -> None:
        response = client.get(f"/api/projects/{project_id}/export")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/json")
        disposition = response.headers["content-disposition"]
        assert re.fullmatch(
            rf'attachment; filename="project-{project_id}-at-\d{{4}}(-\d\d){{5}}\.json"',
            disposition,
        )
        exported = response.json()
        assert [task["id"] for task in exported] == task_ids[:2]
        prediction = exported[0]["predictions"][0]
        assert prediction["result"] == sentiment("Negative"), "whole objects, not ids"
        assert (prediction["score"], prediction["model_version"]) == (0.4, "v1")

    def test_export_all_tasks_when_asked(
        self, client: TestClient, project_id: int, task_ids: list[int]
    ) -> None:
        response = client.get(
            f"/api/projects/{project_id}/export",
            params={"export_type": "JSON", "download_all_tasks": "true"},
        )
        assert [task["id"] for task in response.json()] == task_ids

    @pytest.mark.parametrize("key", ["ids", "ids[]"])
    def test_export_selects_tasks_by_id_with_either_spelling(
        self, client: TestClient, project_id: int, task_ids: list[int], key: str
    ) -> None:
        params = [(key, task_ids[0]), (key, task_ids[2]), ("download_all_tasks", "true")]
        response = client.get(f"/api/projects/{project_id}/export", params=params)
        assert [task["id"] for task in response.json()] == [task_ids[0], task_ids[2]]

    def test_export_csv_with_label_studio_camel_case_parameter(
        self, client: TestClient, project_id: int, task_ids: list[int]
    ) -> None:
        response = client.get(f"/api/projects/{project_id}/export?exportType=CSV")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        assert response.headers["content-disposition"].endswith('.csv"')
        rows = list(csv.DictReader(io.StringIO(response.text)))
        assert [(row["id"], row["sentiment"]) for row in rows] == [
            (str(task_ids[0]), "Positive"),
            (str(task_ids[1]), ""),
        ]

    def test_export_jsonl_writes_one_task_per_line(
        self, client: TestClient, project_id: int, task_ids: list[int]
    ) -> None:
        response = client.get(f"/api/projects/{project_id}/export?export_type=jsonl")
        lines = response.content.splitlines()
        assert [orjson.loads(line)["id"] for line in lines] == task_ids[:2]

    def test_export_of_a_format_not_supported_is_a_400_listing_the_supported(
        self, client: TestClient, project_id: int
    ) -> None:
        response = client.get(f"/api/projects/{project_id}/export?export_type=COCO")
        assert response.status_code == 400
        assert response.json()["validation_errors"]["export_type"] == [
            "'COCO' is not supported; supported: JSON, JSONL, CSV"
        ]

    def test_export_of_an_empty_selection_is_an_empty_array(
        self, client: TestClient, project_id: int
    ) -> None:
        response = client.get(f"/api/projects/{project_id}/export")
        assert response.status_code == 200
        assert response.json() == []

    def test_export_of_unknown_project_is_a_404(self, client: TestClient) -> None:
        assert client.get("/api/projects/999/export").status_code == 404
