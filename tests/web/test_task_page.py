"""The task page: the task's data with spans in their labels' colours, its annotations and
its predictions, and accepting, editing and marking them, each leaving every counter exact."""

from __future__ import annotations

from typing import Any

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy import select

from prelabel.store import Annotation, Prediction, Store
from prelabel.web.task_view import PALETTE
from tests.api.label_studio_data import seed_project
from tests.factories import region
from tests.invariants import assert_stored_counters_exact
from tests.web.conftest import WebAccount, csrf_of, flashes, soup

CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Labels name="ner" toName="text">
    <Label value="PER" background="#ff0000"/><Label value="ORG"/>
  </Labels>
  <Choices name="sentiment" toName="text">
    <Choice value="Positive"/><Choice value="Negative"/>
  </Choices>
  <Choices name="topics" toName="text" choice="multiple">
    <Choice value="Sports"/><Choice value="Politics"/>
  </Choices>
  <TextArea name="comment" toName="text"/>
  <Number name="num" toName="text" min="0" max="10"/>
  <Rating name="rating" toName="text" maxRating="5"/>
</View>"""

TEXT = "Ann joined Acme in Paris."


def span(text: str, start: int, end: int, label: str) -> dict[str, Any]:
    """A ``ner`` region over ``text[start:end]``, with an id of its own."""
    value = {"start": start, "end": end, "text": text[start:end], "labels": [label]}
    return {"id": f"{label}-{start}", **region("ner", "labels", value)}


def choice(label: str) -> dict[str, Any]:
    return region("sentiment", "choices", {"choices": [label]})


def predictions_of_v1_and_v2(text: str, v1_score: float, v2_score: float) -> list[dict[str, Any]]:
    """Two model versions that disagree on a text that starts "Ann joined Acme": v1 reads Ann
    as PER, Acme as ORG and says Negative; v2 only says Positive. The task page's tests here
    and in a browser (test_browser_task_page.py) review them."""
    return [
        {
            "model_version": "v1",
            "score": v1_score,
            "result": [span(text, 0, 3, "PER"), span(text, 11, 15, "ORG"), choice("Negative")],
        },
        {"model_version": "v2", "score": v2_score, "result": [choice("Positive")]},
    ]


# Task 1: an annotation (Ann as PER, Positive) and predictions of v1 (Ann PER, Acme ORG,
# Negative; score 0.9) and v2 (Positive; score 0.4). Task 2: nothing. Task 3: a v1 prediction.
TASKS = [
    {
        "data": {"text": TEXT},
        "annotations": [{"result": [span(TEXT, 0, 3, "PER"), choice("Positive")]}],
        "predictions": predictions_of_v1_and_v2(TEXT, v1_score=0.9, v2_score=0.4),
    },
    {"data": {"text": "Nothing here."}},
    {
        "data": {"text": "Third."},
        "predictions": [{"model_version": "v1", "result": [choice("Positive")]}],
    },
]


@pytest.fixture
def project(store: Store) -> tuple[int, list[int]]:
    return seed_project(store, TASKS, config=CONFIG)


@pytest.fixture
def task(project: tuple[int, list[int]]) -> str:
    """The path of the first task's page."""
    project_id, tasks = project
    return f"/projects/{project_id}/tasks/{tasks[0]}"


def _page(web: TestClient, path: str, **params: Any) -> BeautifulSoup:
    response = web.get(path, params=params)
    assert response.status_code == 200, response.text
    return soup(response.text)


def _marks(element: Any) -> list[tuple[str, str]]:
    return [(mark.get_text(), mark["data-color"]) for mark in element.select("mark.span")]


def _prediction_ids(store: Store) -> dict[str, list[int]]:
    with store.session() as session:
        found: dict[str, list[int]] = {}
        for version, prediction_id in session.execute(
            select(Prediction.model_version, Prediction.id).order_by(Prediction.id)
        ):
            found.setdefault(version, []).append(prediction_id)
        return found


def _annotations(store: Store) -> list[Annotation]:
    with store.session() as session:
        annotations = list(session.scalars(select(Annotation).order_by(Annotation.id)))
        session.expunge_all()
        return annotations


def _post(web: TestClient, path: str, **form: Any) -> Any:
    return web.post(path, data={"csrf_token": csrf_of(web), **form})


class TestWhatThePageShows:
    def test_the_text_highlights_the_annotations_spans_in_their_label_colours(
        self, web: TestClient, task: str
    ) -> None:
        page = _page(web, task)
        data = page.select_one("#data .object-body")
        assert data.get_text() == "AnnPER joined Acme in Paris.", "PER tags its span"
        assert _marks(data) == [("Ann", "#ff0000")], "PER has background #ff0000 in the config"
        assert "annotation #1" in page.select_one("#shown-note").get_text()

    def test_a_predictions_spans_can_be_shown_instead_each_label_in_its_colour(
        self, web: TestClient, task: str, store: Store
    ) -> None:
        v1 = _prediction_ids(store)["v1"][0]
        page = _page(web, task, show=f"prediction-{v1}")
        data = page.select_one("#data .object-body")
        # ORG has no background: the palette's colour of its place (second label).
        assert _marks(data) == [("Ann", "#ff0000"), ("Acme", PALETTE[1])]
        assert [tag.get_text() for tag in data.select(".span-tag")] == ["PER", "ORG"]
        link = page.select_one(f"#prediction-{v1} a[aria-current=true]")
        assert link.get_text(strip=True) == "Highlighted on the text"

    def test_the_legend_gives_every_label_its_colour(self, web: TestClient, task: str) -> None:
        assert _marks(_page(web, task).select_one(".legend")) == [
            ("PER", "#ff0000"),
            ("ORG", PALETTE[1]),
        ]

    def test_annotations_say_who_made_them_when_and_what_they_answer(
        self, web: TestClient, task: str, store: Store, account: WebAccount
    ) -> None:
        with store.session() as session:
            session.get(Annotation, 1).completed_by_id = account.user_id
        card = _page(web, task).select_one("#annotation-1")
        assert "by ann@example.com" in card.select_one(".meta").get_text()
        assert card.select_one(".meta time")["datetime"]
        answers = dict(
            zip(
                [dt.get_text(strip=True) for dt in card.select(".answers dt")],
                [dd.get_text(" ", strip=True) for dd in card.select(".answers dd")],
                strict=True,
            )
        )
        assert answers == {"ner": "Ann PER", "sentiment": "Positive"}

    def test_predictions_are_listed_under_their_model_version_grayed_with_their_score(
        self, web: TestClient, task: str
    ) -> None:
        page = _page(web, task)
        groups = page.select(".model-version")
        assert [g.h3.get_text(strip=True) for g in groups] == ["v1", "v2"]
        scores = [[s.get_text(strip=True) for s in g.select(".score")] for g in groups]
        assert scores == [["score 0.90"], ["score 0.40"]]
        for card in page.select(".model-version article"):
            assert "prediction" in card["class"], "predictions are drawn grayed out"
        assert "Negative" in groups[0].select_one(".answers").get_text()

    def test_other_object_tags_show_their_data_as_text(self, web: TestClient, store: Store) -> None:
        config = """<View>
          <HyperText name="page" value="$html"/>
          <Paragraphs name="chat" value="$dialogue"/>
          <Choices name="ok" toName="page"><Choice value="Yes"/></Choices>
        </View>"""
        data = {
            "html": "<p>Hello <b>there</b></p><script>alert(1)</script>",
            "dialogue": [{"author": "Ann", "text": "Hi"}, {"author": "Bob", "text": "Yo"}],
        }
        project_id, [task_id] = seed_project(store, [{"data": data}], config=config)
        page = _page(web, f"/projects/{project_id}/tasks/{task_id}")
        html = page.select_one(".object-hypertext .object-body")
        assert html.get_text() == "Hello there"
        assert page.select_one(".object-hypertext script") is None
        lines = [li.get_text(" ", strip=True) for li in page.select(".paragraphs li")]
        assert lines == ["Ann: Hi", "Bob: Yo"]

    def test_every_input_has_a_label(self, web: TestClient, task: str) -> None:
        page = _page(web, task)
        labelled = {label["for"] for label in page.select("label[for]")}
        for element in page.select("input:not([type=hidden]), select, textarea"):
            if element.find_parent("label"):
                continue
            assert element.get("aria-label") or element.get("id") in labelled, element

    def test_a_task_of_another_project_is_a_404_page(
        self, web: TestClient, project: tuple[int, list[int]], store: Store
    ) -> None:
        other, _ = seed_project(store, [{"text": "x"}], title="Other")
        response = web.get(f"/projects/{other}/tasks/{project[1][0]}")
        assert response.status_code == 404

    def test_the_data_manager_links_each_task_id_to_its_page_with_the_view(
        self, web: TestClient, project: tuple[int, list[int]]
    ) -> None:
        project_id, tasks = project
        page = _page(web, f"/projects/{project_id}/data", order="-id")
        links = [a["href"] for a in page.select("#tasks tbody td a")]
        assert links == [
            f"/projects/{project_id}/tasks/{task_id}?order=-id" for task_id in reversed(tasks)
        ]


class TestAccept:
    def test_accepting_creates_one_annotation_by_the_user_linked_to_the_prediction(
        self, web: TestClient, task: str, store: Store, account: WebAccount
    ) -> None:
        v1 = _prediction_ids(store)["v1"][0]
        response = _post(web, f"{task}/predictions/{v1}/accept")
        assert flashes(response.text) == ["Accepted the prediction of v1 as annotation #2"]
        made = _annotations(store)[-1]
        assert (made.id, made.parent_prediction_id, made.completed_by_id) == (
            2,
            v1,
            account.user_id,
        )
        with store.session() as session:
            assert made.result == session.get(Prediction, v1).result
        page = soup(response.text)
        assert page.select_one("#annotation-count").get_text() == "2 annotations"
        card = page.select_one(f"#prediction-{v1}")
        assert card.select_one("button[type=submit]") is None
        assert card.select_one(".accepted").get_text() == "Accepted as annotation #2"
        assert "annotation #2" in page.select_one("#shown-note").get_text()
        assert_stored_counters_exact(store)

    def test_a_prediction_is_accepted_once(self, web: TestClient, task: str, store: Store) -> None:
        v1 = _prediction_ids(store)["v1"][0]
        _post(web, f"{task}/predictions/{v1}/accept")
        response = _post(web, f"{task}/predictions/{v1}/accept")
        assert flashes(response.text) == [f"prediction {v1} was already accepted as annotation 2"]
        assert len(_annotations(store)) == 2
        assert_stored_counters_exact(store)

    def test_a_prediction_of_another_task_is_refused(
        self, web: TestClient, project: tuple[int, list[int]], store: Store
    ) -> None:
        project_id, tasks = project
        other = _prediction_ids(store)["v1"][-1]  # task 3's
        response = _post(web, f"/projects/{project_id}/tasks/{tasks[0]}/predictions/{other}/accept")
        assert flashes(response.text) == [f"Prediction {other} not found on task {tasks[0]}"]
        assert len(_annotations(store)) == 1

    def test_a_form_without_its_csrf_token_is_refused(
        self, web: TestClient, task: str, store: Store
    ) -> None:
        v1 = _prediction_ids(store)["v1"][0]
        response = web.post(f"{task}/predictions/{v1}/accept", data={"view": ""})
        assert response.status_code == 403
        assert len(_annotations(store)) == 1


def _regions(store: Store, name: str) -> list[dict[str, Any]]:
    [annotation] = _annotations(store)
    return [r for r in annotation.result if r["from_name"] == name]


class TestEditAnswers:
    @pytest.mark.parametrize(
        ("control", "sent", "value"),
        [
            pytest.param("sentiment", "Negative", {"choices": ["Negative"]}, id="single-choice"),
            pytest.param(
                "topics",
                ["Sports", "Politics"],
                {"choices": ["Sports", "Politics"]},
                id="multiple-choices",
            ),
            pytest.param("comment", "Fine\r\nreally", {"text": ["Fine\nreally"]}, id="textarea"),
            pytest.param("num", "7.5", {"number": 7.5}, id="number"),
            pytest.param("num", "3", {"number": 3}, id="whole-number"),
            pytest.param("rating", "4", {"rating": 4}, id="rating"),
        ],
    )
    def test_each_control_kind_is_saved_and_the_other_answers_are_kept(
        self, web: TestClient, task: str, store: Store, control: str, sent: Any, value: Any
    ) -> None:
        response = _post(
            web, f"{task}/annotations/1", edited=control, **{f"answer.{control}": sent}
        )
        assert flashes(response.text) == ["Saved annotation #1"]
        assert [r["value"] for r in _regions(store, control)] == [value]
        assert [r["value"]["text"] for r in _regions(store, "ner")] == ["Ann"]
        if control != "sentiment":
            assert [r["value"] for r in _regions(store, "sentiment")] == [{"choices": ["Positive"]}]
        assert_stored_counters_exact(store)

    def test_the_form_starts_from_the_saved_answers(
        self, web: TestClient, task: str, store: Store
    ) -> None:
        _post(
            web,
            f"{task}/annotations/1",
            edited=["topics", "num", "rating", "comment"],
            **{
                "answer.topics": ["Politics"],
                "answer.num": "2",
                "answer.rating": "5",
                "answer.comment": "ok",
            },
        )
        form = _page(web, task).select_one("#edit-annotation-1 form")
        checked = [(box["name"], box["value"]) for box in form.select("input[checked]")]
        assert checked == [("answer.sentiment", "Positive"), ("answer.topics", "Politics")]
        assert form.select_one("input[name='answer.num']")["value"] == "2"
        assert form.select_one("select[name='answer.rating'] option[selected]")["value"] == "5"
        assert form.select_one("textarea[name='answer.comment']").get_text() == "ok"

    def test_an_empty_answer_removes_the_controls_regions(
        self, web: TestClient, task: str, store: Store
    ) -> None:
        _post(web, f"{task}/annotations/1", edited="sentiment", **{"answer.sentiment": ""})
        assert _regions(store, "sentiment") == []
        assert len(_regions(store, "ner")) == 1

    @pytest.mark.parametrize(
        ("control", "sent", "message"),
        [
            pytest.param("num", "11", "num: 11 is not between 0 and 10", id="out-of-range"),
            pytest.param("num", "many", "num: 'many' is not a number", id="not-a-number"),
            pytest.param(
                "sentiment",
                "Maybe",
                "sentiment: 'Maybe' is not a choice; valid: Positive, Negative",
                id="unknown-choice",
            ),
            pytest.param(
                "sentiment",
                ["Positive", "Negative"],
                "is not a choice",
                id="two-single-choices",
            ),
            pytest.param("rating", "9", "rating: 9 is not an integer from 1 to 5", id="rating"),
            pytest.param("ner", "Ann", "ner: spans cannot be answered", id="spans"),
        ],
    )
    def test_a_refused_answer_says_why_and_changes_nothing(
        self, web: TestClient, task: str, store: Store, control: str, sent: Any, message: str
    ) -> None:
        before = _annotations(store)[0]
        response = _post(
            web,
            f"{task}/annotations/1",
            edited=["comment", control],
            **{"answer.comment": "should not be saved", f"answer.{control}": sent},
        )
        assert response.url.path == task
        [shown] = flashes(response.text)
        assert message in shown
        after = _annotations(store)[0]
        assert (after.result, after.updated_at) == (before.result, before.updated_at)


class TestGroundTruth:
    def test_marking_and_unmarking_the_ground_truth(
        self, web: TestClient, task: str, store: Store
    ) -> None:
        response = _post(web, f"{task}/annotations/1/ground-truth", ground_truth="true")
        assert flashes(response.text) == ["Annotation #1 is now the ground truth"]
        card = soup(response.text).select_one("#annotation-1")
        assert card.select_one(".badge.truth").get_text() == "Ground truth"
        assert card.select_one("form button").get_text() == "Unmark ground truth"
        assert _annotations(store)[0].ground_truth is True
        # With ground truth, each prediction says how far it agrees with it.
        v1 = _prediction_ids(store)["v1"][0]
        assert (
            "% with the ground truth"
            in soup(response.text).select_one(f"#prediction-{v1} .meta").get_text()
        )

        response = _post(web, f"{task}/annotations/1/ground-truth", ground_truth="false")
        assert flashes(response.text) == ["Annotation #1 is no longer the ground truth"]
        assert soup(response.text).select_one("#annotation-1 .badge.truth") is None
        assert _annotations(store)[0].ground_truth is False

    def test_marking_one_annotation_unmarks_the_others(
        self, web: TestClient, task: str, store: Store
    ) -> None:
        _post(web, f"{task}/annotations/1/ground-truth", ground_truth="true")
        v2 = _prediction_ids(store)["v2"][0]
        _post(web, f"{task}/predictions/{v2}/accept")
        _post(web, f"{task}/annotations/2/ground-truth", ground_truth="true")
        assert [a.ground_truth for a in _annotations(store)] == [False, True]


class TestPreviousAndNext:
    def _links(self, web: TestClient, path: str, **params: Any) -> tuple[str | None, str | None]:
        page = _page(web, path, **params)
        previous, following = page.select_one("a[rel=prev]"), page.select_one("a[rel=next]")
        return (previous["href"] if previous else None), (following["href"] if following else None)

    def test_in_id_order_without_a_view(
        self, web: TestClient, project: tuple[int, list[int]]
    ) -> None:
        project_id, (first, second, third) = project
        base = f"/projects/{project_id}/tasks"
        assert self._links(web, f"{base}/{first}") == (None, f"{base}/{second}")
        assert self._links(web, f"{base}/{second}") == (f"{base}/{first}", f"{base}/{third}")
        assert self._links(web, f"{base}/{third}") == (f"{base}/{second}", None)

    def test_following_the_views_filters_and_order(
        self, web: TestClient, project: tuple[int, list[int]]
    ) -> None:
        project_id, (first, _, third) = project
        base = f"/projects/{project_id}/tasks"
        view = {
            "filter_column": "total_predictions",
            "filter_operator": "greater",
            "filter_value": "0",
            "order": "-id",
        }
        query = "filter_column=total_predictions&filter_operator=greater&filter_value=0&order=-id"
        assert self._links(web, f"{base}/{third}", **view) == (None, f"{base}/{first}?{query}")
        assert self._links(web, f"{base}/{first}", **view) == (f"{base}/{third}?{query}", None)

    def test_by_a_computed_column(self, web: TestClient, project: tuple[int, list[int]]) -> None:
        # Scores of the project's model version (v1, the last imported): task 1 0.9, then
        # the tasks without one, last and by id descending: 3 then 2.
        project_id, (first, second, third) = project
        base = f"/projects/{project_id}/tasks"
        links = self._links(web, f"{base}/{third}", order="-predictions_score")
        assert links == (
            f"{base}/{first}?order=-predictions_score",
            f"{base}/{second}?order=-predictions_score",
        )

    def test_the_forms_come_back_to_the_same_view(self, web: TestClient, task: str) -> None:
        response = web.post(
            f"{task}/annotations/1/ground-truth",
            data={"csrf_token": csrf_of(web), "ground_truth": "true", "view": "order=-id"},
            follow_redirects=False,
        )
        assert response.headers["location"] == f"{task}?order=-id"
