"""``/api/projects``: Label Studio's project JSON, its envelope, counters and update rules."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from prelabel.store import Annotation, Prediction, Project, Store, Task
from tests.api.conftest import Account
from tests.factories import (
    ALL_CONTROLS_CONFIG,
    SENTIMENT_CONFIG,
    import_json,
    make_project,
    sentiment,
)

RENAMED_FIELD_CONFIG = SENTIMENT_CONFIG.replace("$text", "$body")


def _make_projects(store: Store, *titles: str) -> list[int]:
    with store.session() as session:
        return [make_project(session, title=title).id for title in titles]


def _import(store: Store, project_id: int, tasks: list[dict[str, Any]]) -> None:
    with store.session() as session:
        import_json(session, session.get(Project, project_id), tasks)


def _count(store: Store, model: type, project_id: int) -> int:
    with store.session() as session:
        return session.scalar(
            select(func.count()).select_from(model).where(model.project_id == project_id)
        )


class TestListProjects:
    def test_list_of_nothing_is_an_empty_first_page(self, client: TestClient) -> None:
        response = client.get("/api/projects/")
        assert response.status_code == 200
        assert response.json() == {"count": 0, "next": None, "previous": None, "results": []}

    def test_list_pages_newest_first_with_links_and_404_past_the_end(
        self, client: TestClient, store: Store
    ) -> None:
        first, second, third = _make_projects(store, "one", "two", "three")
        page1 = client.get("/api/projects", params={"page_size": 2}).json()
        assert page1["count"] == 3
        assert [p["id"] for p in page1["results"]] == [third, second]
        assert page1["previous"] is None
        assert "page=2" in page1["next"] and "page_size=2" in page1["next"]
        page2 = client.get(page1["next"]).json()
        assert [p["id"] for p in page2["results"]] == [first]
        assert page2["next"] is None and "page=1" in page2["previous"]
        past = client.get("/api/projects", params={"page_size": 2, "page": 3})
        assert past.status_code == 404
        assert "past the last page" in past.json()["detail"]

    def test_list_filters_by_title_ignoring_case_and_by_ids(
        self, client: TestClient, store: Store
    ) -> None:
        reviews, tweets, more = _make_projects(store, "Product Reviews", "Tweets", "More reviews")
        by_title = client.get("/api/projects", params={"title": "REVIEW"}).json()
        assert sorted(p["id"] for p in by_title["results"]) == [reviews, more]
        by_ids = client.get("/api/projects", params={"ids": f"{reviews},{tweets}"}).json()
        assert sorted(p["id"] for p in by_ids["results"]) == [reviews, tweets]
        repeated = client.get(f"/api/projects?ids={tweets}&ids={more}").json()
        assert sorted(p["id"] for p in repeated["results"]) == [tweets, more]

    def test_list_title_filter_matches_percent_and_underscore_literally(
        self, client: TestClient, store: Store
    ) -> None:
        (literal,) = _make_projects(store, "100% done")
        _make_projects(store, "100 done")
        found = client.get("/api/projects", params={"title": "0% d"}).json()
        assert [p["id"] for p in found["results"]] == [literal]
        assert client.get("/api/projects", params={"title": "_"}).json()["count"] == 0

    @pytest.mark.parametrize(
        "params",
        [
            pytest.param({"ids": "1,x"}, id="ids-not-numbers"),
            pytest.param({"ids": "99999999999"}, id="ids-too-large"),
            pytest.param({"page": "0"}, id="page-zero"),
            pytest.param({"page_size": "0"}, id="page-size-zero"),
            pytest.param({"page": "two"}, id="page-not-a-number"),
            pytest.param({"title": "a\x00b"}, id="title-with-nul"),
        ],
    )
    def test_list_with_bad_parameters_is_a_400(
        self, client: TestClient, params: dict[str, str]
    ) -> None:
        response = client.get("/api/projects", params=params)
        assert response.status_code == 400
        assert response.json()["detail"]


class TestCreateProject:
    def test_create_answers_201_with_label_studio_project_json(
        self, client: TestClient, store: Store, admin: Account
    ) -> None:
        body = {"title": "Reviews", "label_config": SENTIMENT_CONFIG, "description": "d"}
        response = client.post("/api/projects/", json=body)
        assert response.status_code == 201
        project = response.json()
        assert project["title"] == "Reviews" and project["description"] == "d"
        assert project["label_config"] == SENTIMENT_CONFIG
        assert project["model_version"] == ""
        assert project["created_by"] == {
            "id": admin.user_id,
            "first_name": "",
            "last_name": "",
            "email": admin.email,
            "avatar": None,
        }
        counters = (
            "task_number",
            "total_annotations_number",
            "total_predictions_number",
            "num_tasks_with_annotations",
            "ground_truth_number",
            "skipped_annotations_number",
        )
        assert {name: project[name] for name in counters} == dict.fromkeys(counters, 0)
        assert project["show_collab_predictions"] is True
        assert project["maximum_annotations"] == 1
        assert project["parsed_label_config"] == {
            "sentiment": {
                "type": "Choices",
                "to_name": ["text"],
                "inputs": [{"type": "Text", "valueType": None, "value": "text"}],
                "labels": ["Positive", "Negative"],
            }
        }
        with store.session() as session:
            stored = session.get(Project, project["id"])
            assert (stored.title, stored.created_by_id) == ("Reviews", admin.user_id)

    def test_create_ignores_label_studio_settings_it_does_not_keep(
        self, client: TestClient
    ) -> None:
        body = {
            "title": "T",
            "label_config": SENTIMENT_CONFIG,
            "color": "#FF0000",
            "maximum_annotations": 3,
            "show_collab_predictions": False,
        }
        response = client.post("/api/projects", json=body)
        assert response.status_code == 201
        assert response.json()["maximum_annotations"] == 1

    def test_parsed_label_config_lists_every_control_with_flattened_taxonomy(
        self, client: TestClient
    ) -> None:
        body = {"title": "All", "label_config": ALL_CONTROLS_CONFIG}
        parsed = client.post("/api/projects", json=body).json()["parsed_label_config"]
        assert list(parsed) == ["sentiment", "topics", "ner", "comment", "rating", "num", "tax"]
        assert parsed["tax"]["labels"] == ["A", "A1", "B"]
        assert parsed["ner"] == {
            "type": "Labels",
            "to_name": ["text"],
            "inputs": [{"type": "Text", "valueType": None, "value": "text"}],
            "labels": ["PER", "ORG"],
        }
        assert parsed["rating"]["labels"] == []

    def test_create_with_a_bad_config_is_a_400_on_label_config_and_stores_nothing(
        self, client: TestClient, store: Store
    ) -> None:
        response = client.post("/api/projects", json={"title": "T", "label_config": "<View/>"})
        assert response.status_code == 400
        assert "control tag" in response.json()["validation_errors"]["label_config"][0]
        with store.session() as session:
            assert session.scalar(select(func.count(Project.id))) == 0

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            pytest.param({"label_config": SENTIMENT_CONFIG}, "title", id="title-missing"),
            pytest.param({"title": " ", "label_config": SENTIMENT_CONFIG}, "title", id="empty"),
            pytest.param({"title": "x" * 51, "label_config": SENTIMENT_CONFIG}, "title", id="51"),
            pytest.param({"title": 5, "label_config": SENTIMENT_CONFIG}, "title", id="not-text"),
            pytest.param({"title": "T"}, "label_config", id="config-missing"),
            pytest.param(
                {"title": "T", "label_config": SENTIMENT_CONFIG, "description": "a\x00"},
                "description",
                id="nul-in-description",
            ),
        ],
    )
    def test_create_with_a_bad_field_is_a_400_naming_it(
        self, client: TestClient, body: dict[str, Any], field: str
    ) -> None:
        response = client.post("/api/projects", json=body)
        assert response.status_code == 400
        assert field in response.json()["validation_errors"]

    def test_create_with_a_body_that_is_not_json_is_a_400(self, client: TestClient) -> None:
        response = client.post(
            "/api/projects", content=b"{not json", headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 400


class TestGetProject:
    def test_get_counts_tasks_annotations_predictions_and_ground_truth(
        self, client: TestClient, store: Store
    ) -> None:
        (project_id,) = _make_projects(store, "Counted")
        _import(
            store,
            project_id,
            [
                {
                    "data": {"text": "a"},
                    "annotations": [{"result": sentiment("Positive")}],  # ground truth
                    "predictions": [{"result": sentiment("Positive"), "model_version": "v1"}],
                },
                {
                    "data": {"text": "b"},
                    "annotations": [
                        {"result": sentiment("Negative"), "ground_truth": False},
                        {"result": [], "was_cancelled": True},
                    ],
                    "predictions": [
                        {"result": sentiment("Negative"), "model_version": "v1"},
                        {"result": sentiment("Positive"), "model_version": "v2"},
                    ],
                },
                {"data": {"text": "c"}, "annotations": [{"result": [], "was_cancelled": True}]},
                {"data": {"text": "d"}},
            ],
        )
        _make_projects(store, "Other")  # counts are per project
        project = client.get(f"/api/projects/{project_id}").json()
        assert project["task_number"] == 4
        assert project["total_annotations_number"] == 2
        assert project["skipped_annotations_number"] == 2
        assert project["total_predictions_number"] == 3
        assert project["num_tasks_with_annotations"] == 2
        assert project["ground_truth_number"] == 1
        assert project["model_version"] == "v2", "import sets the last imported version"

    def test_get_unknown_project_is_a_404(self, client: TestClient) -> None:
        response = client.get("/api/projects/999")
        assert response.status_code == 404
        assert response.json()["detail"] == "Project 999 not found"

    def test_get_project_id_beyond_the_id_range_is_a_400(self, client: TestClient) -> None:
        assert client.get(f"/api/projects/{2**40}").status_code == 400


class TestUpdateProject:
    def test_update_changes_only_the_fields_sent(self, client: TestClient, store: Store) -> None:
        (project_id,) = _make_projects(store, "Before")
        response = client.patch(f"/api/projects/{project_id}/", json={"title": "After"})
        assert response.status_code == 200
        assert response.json()["title"] == "After"
        with store.session() as session:
            stored = session.get(Project, project_id)
            assert (stored.title, stored.label_config) == ("After", SENTIMENT_CONFIG)

    def test_update_model_version_to_a_version_of_its_predictions_or_empty(
        self, client: TestClient, store: Store
    ) -> None:
        (project_id,) = _make_projects(store, "P")
        _import(
            store,
            project_id,
            [
                {
                    "data": {"text": "a"},
                    "predictions": [
                        {"result": sentiment("Positive"), "model_version": "v1"},
                        {"result": sentiment("Negative"), "model_version": "v2"},
                    ],
                }
            ],
        )
        url = f"/api/projects/{project_id}"
        assert client.patch(url, json={"model_version": "v1"}).json()["model_version"] == "v1"
        assert client.patch(url, json={"model_version": ""}).json()["model_version"] == ""

    def test_update_model_version_no_prediction_has_is_a_400(
        self, client: TestClient, store: Store
    ) -> None:
        (project_id,) = _make_projects(store, "P")
        response = client.patch(f"/api/projects/{project_id}", json={"model_version": "nope"})
        assert response.status_code == 400
        assert "nope" in response.json()["validation_errors"]["model_version"][0]
        with store.session() as session:
            assert session.get(Project, project_id).model_version == ""

    def test_update_label_config_reading_a_field_the_tasks_lack_is_a_400(
        self, client: TestClient, store: Store
    ) -> None:
        (project_id,) = _make_projects(store, "P")
        _import(store, project_id, [{"text": "a"}])
        response = client.patch(
            f"/api/projects/{project_id}",
            json={"title": "Renamed", "label_config": RENAMED_FIELD_CONFIG},
        )
        assert response.status_code == 400
        assert '"body"' in response.json()["validation_errors"]["label_config"][0]
        with store.session() as session:
            stored = session.get(Project, project_id)
            assert (stored.title, stored.label_config) == ("P", SENTIMENT_CONFIG)

    def test_update_label_config_the_tasks_fit_is_stored(
        self, client: TestClient, store: Store
    ) -> None:
        (project_id,) = _make_projects(store, "P")
        _import(store, project_id, [{"text": "a", "body": "b"}])
        response = client.patch(
            f"/api/projects/{project_id}", json={"label_config": RENAMED_FIELD_CONFIG}
        )
        assert response.status_code == 200
        assert response.json()["parsed_label_config"]["sentiment"]["inputs"][0]["value"] == "body"
        with store.session() as session:
            assert session.get(Project, project_id).label_config == RENAMED_FIELD_CONFIG

    def test_update_with_a_config_that_does_not_parse_is_a_400(
        self, client: TestClient, store: Store
    ) -> None:
        (project_id,) = _make_projects(store, "P")
        response = client.patch(f"/api/projects/{project_id}", json={"label_config": "<View"})
        assert response.status_code == 400
        assert "label_config" in response.json()["validation_errors"]

    def test_update_unknown_project_is_a_404(self, client: TestClient) -> None:
        assert client.patch("/api/projects/999", json={"title": "x"}).status_code == 404


class TestDeleteProject:
    def test_delete_answers_204_and_removes_tasks_annotations_predictions(
        self, client: TestClient, store: Store
    ) -> None:
        doomed, kept = _make_projects(store, "Doomed", "Kept")
        task = {
            "data": {"text": "a"},
            "annotations": [{"result": sentiment("Positive")}],
            "predictions": [{"result": sentiment("Positive")}],
        }
        _import(store, doomed, [task])
        _import(store, kept, [task])
        response = client.delete(f"/api/projects/{doomed}/")
        assert response.status_code == 204 and response.content == b""
        assert client.get(f"/api/projects/{doomed}").status_code == 404
        for model in (Task, Annotation, Prediction):
            assert _count(store, model, doomed) == 0
            assert _count(store, model, kept) == 1

    def test_delete_unknown_project_is_a_404(self, client: TestClient) -> None:
        assert client.delete("/api/projects/999").status_code == 404


class TestValidateLabelConfig:
    def test_validate_a_config_that_fits_answers_it_and_changes_nothing(
        self, client: TestClient, store: Store
    ) -> None:
        (project_id,) = _make_projects(store, "P")
        _import(store, project_id, [{"text": "a", "body": "b"}])
        response = client.post(
            f"/api/projects/{project_id}/validate/", json={"label_config": RENAMED_FIELD_CONFIG}
        )
        assert response.status_code == 200
        assert response.json() == {"label_config": RENAMED_FIELD_CONFIG}
        with store.session() as session:
            assert session.get(Project, project_id).label_config == SENTIMENT_CONFIG

    @pytest.mark.parametrize(
        "config",
        [
            pytest.param("<View><Text name='t' value='$text'/></View>", id="no-control"),
            pytest.param(RENAMED_FIELD_CONFIG, id="field-the-tasks-lack"),
        ],
    )
    def test_validate_a_config_that_does_not_fit_is_a_400(
        self, client: TestClient, store: Store, config: str
    ) -> None:
        (project_id,) = _make_projects(store, "P")
        _import(store, project_id, [{"text": "a"}])
        response = client.post(
            f"/api/projects/{project_id}/validate", json={"label_config": config}
        )
        assert response.status_code == 400
        assert "label_config" in response.json()["validation_errors"]
