"""The Data Manager page: columns, filters, order and pages from the URL, and the actions on
a selection, each answering with what it did and leaving every counter exact."""

from __future__ import annotations

from typing import Any

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from prelabel.store import Annotation, Prediction, Run, RunTask, Store
from tests.api.label_studio_data import add_prompt_version, prediction, seed_project
from tests.factories import sentiment
from tests.invariants import assert_stored_counters_exact
from tests.web.conftest import csrf_of, flashes, soup

# Task 1: v1 and v2 predictions and a ground-truth annotation that v1 agrees with.
# Task 2: two v1 predictions.  Task 3: a v2 prediction.  Task 4: nothing.
TASKS: list[dict[str, Any]] = [
    {
        "data": {"text": "alpha"},
        "annotations": [{"result": sentiment("Positive"), "ground_truth": True}],
        "predictions": [prediction("Positive", "v1", 0.9), prediction("Negative", "v2", 0.4)],
    },
    {
        "data": {"text": "beta"},
        "predictions": [prediction("Negative", "v1", 0.2), prediction("Positive", "v1", 0.6)],
    },
    {"data": {"text": "gamma"}, "predictions": [prediction("Positive", "v2", 0.7)]},
    {"data": {"text": "delta"}},
]


@pytest.fixture
def project(store: Store) -> int:
    return seed_project(store, TASKS)[0]


def _page(web: TestClient, project: int, **params: Any) -> BeautifulSoup:
    response = web.get(f"/projects/{project}/data", params=params)
    assert response.status_code == 200, response.text
    return soup(response.text)


def _headers(page: BeautifulSoup) -> list[str]:
    return [th.get_text(" ", strip=True).rstrip("▲▼ ") for th in page.select("#tasks th")][1:]


def _column(page: BeautifulSoup, title: str) -> list[str]:
    index = _headers(page).index(title) + 2
    return [td.get_text(strip=True) for td in page.select(f"#tasks tbody td:nth-of-type({index})")]


def _ids(page: BeautifulSoup) -> list[int]:
    return [int(box["value"]) for box in page.select("#tasks input.row-select")]


class TestTable:
    def test_shows_the_default_columns_with_each_tasks_counters(
        self, web: TestClient, project: int
    ) -> None:
        page = _page(web, project)
        assert _headers(page) == [
            "ID",
            "text",
            "Total annotations",
            "Total predictions per task",
            "Prediction score",
            "Model versions",
            "Agreement",
        ]
        assert _column(page, "Total predictions per task") == ["2", "2", "1", "0"]
        assert _column(page, "Model versions") == ["v1, v2", "v1", "v2", ""]
        assert _column(page, "Agreement") == ["v1: 100%, v2: 0%", "", "", ""]
        assert _column(page, "text") == ["alpha", "beta", "gamma", "delta"]

    def test_shows_the_columns_chosen_in_table_order(self, web: TestClient, project: int) -> None:
        page = _page(web, project, column=["has_ground_truth", "id", "nonsense"])
        assert _headers(page) == ["ID", "Ground truth"]
        assert _column(page, "Ground truth") == ["yes", "no", "no", "no"]
        checked = [box["value"] for box in page.select("#columns-menu input:checked")]
        assert checked == ["id", "has_ground_truth"]

    def test_every_input_has_a_label(self, web: TestClient, project: int) -> None:
        page = _page(web, project)
        labelled = {label["for"] for label in page.select("label[for]")}
        for element in page.select("input:not([type=hidden]), select, textarea"):
            if element.find_parent("template") or element.find_parent("label"):
                continue
            assert element.get("aria-label") or element.get("id") in labelled, element

    def test_a_missing_project_is_a_404_page(self, web: TestClient) -> None:
        response = web.get("/projects/99/data")
        assert response.status_code == 404
        assert "Project 99 not found" in response.text


class TestFiltersOrderAndPages:
    def test_filters_keep_the_matching_tasks(self, web: TestClient, project: int) -> None:
        page = _page(
            web,
            project,
            filter_column="total_predictions",
            filter_operator="greater",
            filter_value="1",
        )
        assert _ids(page) == [1, 2]
        assert page.select_one("#filters-menu summary").get_text(strip=True) == "Filters (1)"

    def test_filters_match_all_or_any(self, web: TestClient, project: int) -> None:
        params = {
            "filter_column": ["data.text", "predictions_model_versions"],
            "filter_operator": ["contains", "contains"],
            "filter_value": ["a", "v2"],
        }
        assert _ids(_page(web, project, **params)) == [1, 3]
        assert _ids(_page(web, project, **params, match="any")) == [1, 2, 3, 4]

    def test_a_blank_filter_row_means_nothing(self, web: TestClient, project: int) -> None:
        page = _page(web, project, filter_column="", filter_operator="equal", filter_value="")
        assert _ids(page) == [1, 2, 3, 4]

    def test_agreement_filters_name_a_model_version(self, web: TestClient, project: int) -> None:
        page = _page(
            web, project, filter_column="agreement.v2", filter_operator="less", filter_value="1"
        )
        assert _ids(page) == [1]
        options = [o["value"] for o in page.select("#filter-column-1 option")]
        assert {"agreement.v1", "agreement.v2"} <= set(options)

    @pytest.mark.parametrize(
        ("params", "message"),
        [
            pytest.param(
                {
                    "filter_column": "total_predictions",
                    "filter_operator": "contains",
                    "filter_value": "1",
                },
                "contains needs text",
                id="wrong-operator",
            ),
            pytest.param(
                {"filter_column": "nonsense", "filter_operator": "equal"},
                "unknown column",
                id="unknown-column",
            ),
            pytest.param({"order": "-nonsense"}, "unknown column", id="unknown-order"),
            pytest.param({"page_size": "5000"}, "page_size", id="page-too-large"),
        ],
    )
    def test_a_refused_view_says_why_above_its_form(
        self, web: TestClient, project: int, params: dict[str, str], message: str
    ) -> None:
        response = web.get(f"/projects/{project}/data", params=params)
        assert response.status_code == 400
        page = soup(response.text)
        assert message in page.select_one(".flash-error").get_text()
        assert page.select_one("#filters-menu").has_attr("open")
        assert page.select_one("#tasks") is None

    def test_sorting_by_a_column_and_back(self, web: TestClient, project: int) -> None:
        # Scores are v2's, the project's model version: task 3 0.7, task 1 0.4, none else.
        page = _page(web, project, order="-predictions_score")
        assert _ids(page) == [3, 1, 4, 2]
        header = page.find("th", attrs={"aria-sort": "descending"})
        assert header.get_text(strip=True).startswith("Prediction score")
        assert "order=predictions_score" in header.a["href"]
        assert _ids(_page(web, project, order="predictions_score")) == [1, 3, 2, 4]

    def test_pages_go_through_the_tasks_keeping_the_view(
        self, web: TestClient, project: int
    ) -> None:
        first = _page(web, project, page_size="2", order="-id")
        assert _ids(first) == [4, 3]
        assert "1–2 of 4 tasks" in first.select_one(".pager").get_text()
        following = first.select_one("a[rel=next]")["href"]
        assert "order=-id" in following and "page_size=2" in following
        second = soup(web.get(f"/projects/{project}/data{following}").text)
        assert _ids(second) == [2, 1]
        assert second.select_one("a[rel=next]") is None

    def test_a_page_past_the_last_goes_to_the_first(self, web: TestClient, project: int) -> None:
        response = web.get(
            f"/projects/{project}/data", params={"page": "9", "order": "id"}, follow_redirects=False
        )
        assert response.status_code == 303
        assert response.headers["location"] == f"/projects/{project}/data?order=id"

    def test_a_page_that_is_no_number_is_a_400_page(self, web: TestClient, project: int) -> None:
        response = web.get(f"/projects/{project}/data", params={"page": "two"})
        assert response.status_code == 400
        assert "page: must be a whole number" in response.text


def _act(web: TestClient, project: int, action: str, **form: Any) -> list[str]:
    """Post an action from the Data Manager; the messages of the page it comes back to."""
    response = web.post(
        f"/projects/{project}/data/actions",
        data={"action": action, "csrf_token": csrf_of(web), **form},
    )
    assert response.status_code == 200
    assert response.url.path == f"/projects/{project}/data"
    return flashes(response.text)


def _count(store: Store, model: type[Annotation] | type[Prediction]) -> int:
    with store.session() as session:
        return session.scalar(select(func.count(model.id))) or 0


class TestActions:
    def test_the_actions_menu_offers_the_four_actions_and_their_choices(
        self, web: TestClient, store: Store, project: int
    ) -> None:
        add_prompt_version(store, project, name="sentiment")
        page = _page(web, project)
        assert [b.get_text(strip=True) for b in page.select("#actions-menu button")] == [
            "Create Annotations from Predictions",
            "Run prompt on selection",
            "Delete Predictions",
            "Delete Annotations",
        ]
        versions = page.select("#predictions_to_annotations-version option")
        assert [o["value"] for o in versions] == ["=v1", "=v2"]
        assert versions[0].get_text() == "v1 (3 predictions)"
        optional = page.select("#delete_tasks_predictions-version option")
        assert optional[0].get_text() == "All model versions"
        prompts = page.select("#retrieve_tasks_predictions-prompt option")
        assert [o.get_text() for o in prompts] == ["sentiment__v1"]
        concurrency = page.select_one("#retrieve_tasks_predictions-concurrency")
        assert (concurrency["value"], concurrency["min"], concurrency["max"]) == ("16", "1", "1024")
        assert page.select_one("#retrieve_tasks_predictions-budget").get("value") is None

    def test_create_annotations_from_one_model_versions_predictions(
        self, web: TestClient, store: Store, project: int
    ) -> None:
        done = _act(web, project, "predictions_to_annotations", all="true", model_version="=v1")
        assert done == ["Created 2 annotations"]
        again = _act(web, project, "predictions_to_annotations", all="true", model_version="=v1")
        assert again == ["Created 0 annotations"]
        assert _count(store, Annotation) == 3
        assert_stored_counters_exact(store)

    def test_create_annotations_needs_a_model_version(
        self, web: TestClient, store: Store, project: int
    ) -> None:
        assert _act(web, project, "predictions_to_annotations", all="true") == [
            "model_version: choose the model version to create annotations from"
        ]
        assert _count(store, Annotation) == 1

    def test_delete_predictions_of_the_ticked_tasks(
        self, web: TestClient, store: Store, project: int
    ) -> None:
        done = _act(web, project, "delete_tasks_predictions", all="false", included=["1", "3"])
        assert done == ["Deleted 3 predictions"]
        assert _count(store, Prediction) == 2
        assert_stored_counters_exact(store)

    def test_delete_one_versions_predictions_of_all_tasks_but_the_unticked(
        self, web: TestClient, store: Store, project: int
    ) -> None:
        done = _act(
            web, project, "delete_tasks_predictions", all="true", excluded="2", model_version="=v1"
        )
        assert done == ["Deleted 1 prediction"]
        assert_stored_counters_exact(store)

    def test_all_means_every_task_the_views_filters_keep(
        self, web: TestClient, store: Store, project: int
    ) -> None:
        view = "filter_column=data.text&filter_operator=equal&filter_value=gamma&order=-id"
        response = web.post(
            f"/projects/{project}/data/actions",
            data={
                "action": "delete_tasks_predictions",
                "all": "true",
                "view": view,
                "csrf_token": csrf_of(web),
            },
        )
        assert flashes(response.text) == ["Deleted 1 prediction"]
        assert str(response.url).endswith(f"/projects/{project}/data?{view}")
        assert _count(store, Prediction) == 4

    def test_delete_annotations(self, web: TestClient, store: Store, project: int) -> None:
        assert _act(web, project, "delete_tasks_annotations", all="true") == [
            "Deleted 1 annotation"
        ]
        assert_stored_counters_exact(store)

    def test_run_a_prompt_version_on_the_selection(
        self, web: TestClient, store: Store, project: int
    ) -> None:
        version_id, _ = add_prompt_version(store, project)
        done = _act(
            web,
            project,
            "retrieve_tasks_predictions",
            all="false",
            included=["2", "4"],
            prompt_version=str(version_id),
        )
        with store.session() as session:
            run = session.scalars(select(Run)).one()
            tasks = set(session.scalars(select(RunTask.task_id).where(RunTask.run_id == run.id)))
        assert done == [f"Started run {run.id} on 2 tasks"]
        assert (run.status, tasks) == ("Pending", {2, 4})
        assert (run.options["concurrency"], run.options["budget_usd"]) == (16, None)

    def test_run_a_prompt_version_with_the_dialogs_concurrency_and_budget(
        self, web: TestClient, store: Store, project: int
    ) -> None:
        version_id, _ = add_prompt_version(store, project)
        done = _act(
            web,
            project,
            "retrieve_tasks_predictions",
            all="true",
            prompt_version=str(version_id),
            concurrency=" 4 ",
            budget_usd="2.5",
        )
        with store.session() as session:
            run = session.scalars(select(Run)).one()
        assert done == [f"Started run {run.id} on 4 tasks"]
        assert (run.options["concurrency"], run.options["budget_usd"]) == (4, 2.5)

    @pytest.mark.parametrize(
        ("fields", "message"),
        [
            pytest.param(
                {"concurrency": "0"},
                "concurrency: must be a whole number from 1 to 1,024, got 0",
                id="concurrency-zero",
            ),
            pytest.param(
                {"concurrency": "2.5"},
                "concurrency: must be a whole number from 1 to 1,024, got '2.5'",
                id="concurrency-fraction",
            ),
            pytest.param(
                {"concurrency": "2000"},
                "concurrency: must be a whole number from 1 to 1,024, got 2000",
                id="concurrency-too-high",
            ),
            pytest.param(
                {"budget_usd": "-1"},
                "budget_usd: must be a positive amount, got -1.0",
                id="budget-negative",
            ),
            pytest.param(
                {"budget_usd": "0"},
                "budget_usd: must be a positive amount, got 0.0",
                id="budget-zero",
            ),
            pytest.param(
                {"budget_usd": "nan"},
                "budget_usd: must be a positive amount, got nan",
                id="budget-nan",
            ),
            pytest.param(
                {"budget_usd": "ten"},
                "budget_usd: must be a positive amount, got ten",
                id="budget-text",
            ),
        ],
    )
    def test_refused_run_options_say_why_and_start_nothing(
        self, web: TestClient, store: Store, project: int, fields: dict[str, str], message: str
    ) -> None:
        version_id, _ = add_prompt_version(store, project)
        done = _act(
            web,
            project,
            "retrieve_tasks_predictions",
            all="true",
            prompt_version=str(version_id),
            **fields,
        )
        assert done == [message]
        with store.session() as session:
            assert session.scalar(select(func.count(Run.id))) == 0

    @pytest.mark.parametrize(
        ("form", "message"),
        [
            pytest.param(
                {"action": "explode", "all": "true"}, "action: no action 'explode'", id="unknown"
            ),
            pytest.param(
                {"action": "retrieve_tasks_predictions", "all": "true"},
                "prompt_version: choose the prompt version to run",
                id="no-prompt-version",
            ),
            pytest.param(
                {"action": "delete_tasks_annotations", "all": "false"},
                "Deleted 0 annotations",
                id="nothing-selected",
            ),
        ],
    )
    def test_an_action_refused_or_empty_says_so(
        self, web: TestClient, store: Store, project: int, form: dict[str, str], message: str
    ) -> None:
        assert _act(web, project, **form) == [message]
        assert _count(store, Annotation) == 1

    def test_a_model_version_not_picked_from_the_list_is_refused(
        self, web: TestClient, store: Store, project: int
    ) -> None:
        done = _act(web, project, "delete_tasks_predictions", all="true", model_version="v1")
        assert done == ["model_version: 'v1' is not a model version of the list"]
        assert _count(store, Prediction) == 5

    def test_an_action_on_a_missing_project_is_a_404_page(self, web: TestClient) -> None:
        response = web.post(
            "/projects/9/data/actions",
            data={"action": "delete_tasks_annotations", "csrf_token": csrf_of(web)},
        )
        assert response.status_code == 404


# Task 1: a prediction without a model version (imported so) and a v1 one; task 2: one
# without a model version; task 3: a v1 prediction.
UNVERSIONED: list[dict[str, Any]] = [
    {
        "data": {"text": "alpha"},
        "predictions": [prediction("Positive", ""), prediction("Negative", "v1")],
    },
    {"data": {"text": "beta"}, "predictions": [prediction("Negative", "")]},
    {"data": {"text": "gamma"}, "predictions": [prediction("Positive", "v1")]},
]


class TestPredictionsWithoutModelVersion:
    @pytest.fixture
    def project(self, store: Store) -> int:
        return seed_project(store, UNVERSIONED)[0]

    def test_the_pickers_offer_them_as_no_model_version(
        self, web: TestClient, project: int
    ) -> None:
        page = _page(web, project)
        for picker in ("predictions_to_annotations", "delete_tasks_predictions"):
            options = {o.get_text(): o["value"] for o in page.select(f"#{picker}-version option")}
            assert options["(no model version) (2 predictions)"] == "="
            assert options["v1 (2 predictions)"] == "=v1"

    def test_create_annotations_from_them(
        self, web: TestClient, store: Store, project: int
    ) -> None:
        done = _act(web, project, "predictions_to_annotations", all="true", model_version="=")
        assert done == ["Created 2 annotations"]
        with store.session() as session:
            parents = session.scalars(
                select(Prediction.model_version)
                .join(Annotation, Annotation.parent_prediction_id == Prediction.id)
                .order_by(Annotation.id)
            ).all()
        assert parents == ["", ""]
        again = _act(web, project, "predictions_to_annotations", all="true", model_version="=")
        assert again == ["Created 0 annotations"]
        assert_stored_counters_exact(store)

    def test_delete_only_them(self, web: TestClient, store: Store, project: int) -> None:
        done = _act(web, project, "delete_tasks_predictions", all="true", model_version="=")
        assert done == ["Deleted 2 predictions"]
        with store.session() as session:
            left = session.scalars(select(Prediction.model_version)).all()
        assert left == ["v1", "v1"]
        assert_stored_counters_exact(store)

    def test_all_model_versions_still_deletes_every_one(
        self, web: TestClient, store: Store, project: int
    ) -> None:
        done = _act(web, project, "delete_tasks_predictions", all="true", model_version="")
        assert done == ["Deleted 4 predictions"]
        assert _count(store, Prediction) == 0
