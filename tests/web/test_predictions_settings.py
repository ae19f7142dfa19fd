"""Settings → Predictions: a card per model version, and deleting one version's predictions."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from prelabel.store import Prediction, Project, Store
from tests.api.label_studio_data import prediction, seed_project
from tests.invariants import assert_stored_counters_exact
from tests.web.conftest import csrf_of, flashes, soup

TASKS = [
    {"data": {"text": "a"}, "predictions": [prediction("Positive", "v1", 0.9)]},
    {
        "data": {"text": "b"},
        "predictions": [prediction("Negative", "v1"), prediction("Positive", "v2")],
    },
]


@pytest.fixture
def project(store: Store) -> int:
    return seed_project(store, TASKS)[0]


def _cards(html: str) -> dict[str, dict[str, str]]:
    cards = {}
    for card in soup(html).select(".version-card"):
        name = card.h3.contents[0].strip()
        terms = [dt.get_text(strip=True) for dt in card.select("dt")]
        cards[name] = dict(
            zip(terms, (dd.get_text(strip=True) for dd in card.select("dd")), strict=True)
        )
    return cards


def test_each_model_version_has_a_card_with_its_count_and_last_prediction(
    web: TestClient, project: int
) -> None:
    cards = _cards(web.get(f"/projects/{project}/settings/predictions").text)
    assert set(cards) == {"v1", "v2"}
    assert cards["v1"]["Predictions"] == "2"
    assert cards["v2"]["Predictions"] == "1"
    assert cards["v1"]["Last created"].endswith("ago)")


def test_the_projects_current_model_version_is_marked(
    web: TestClient, store: Store, project: int
) -> None:
    with store.session() as session:
        session.get(Project, project).model_version = "v1"
    page = soup(web.get(f"/projects/{project}/settings/predictions").text)
    [badge] = page.select(".version-card .badge")
    assert badge.find_parent("h3").contents[0].strip() == "v1"


def test_deleting_a_version_deletes_its_predictions_only(
    web: TestClient, store: Store, project: int
) -> None:
    response = web.post(
        f"/projects/{project}/settings/predictions/delete",
        data={"model_version": "v1", "csrf_token": csrf_of(web)},
    )
    assert response.url.path == f"/projects/{project}/settings/predictions"
    assert flashes(response.text) == ["Deleted 2 predictions of v1"]
    assert set(_cards(response.text)) == {"v2"}
    with store.session() as session:
        assert list(session.scalars(select(Prediction.model_version))) == ["v2"]
    assert_stored_counters_exact(store)


def test_deleting_a_version_without_predictions_says_so(web: TestClient, project: int) -> None:
    response = web.post(
        f"/projects/{project}/settings/predictions/delete",
        data={"model_version": "v9", "csrf_token": csrf_of(web)},
    )
    assert flashes(response.text) == ["project 1 has no prediction of version 'v9'"]


def test_a_project_without_predictions_says_how_to_get_some(web: TestClient, store: Store) -> None:
    project, _ = seed_project(store, [{"text": "a"}])
    page = soup(web.get(f"/projects/{project}/settings/predictions").text)
    assert "No predictions yet" in page.select_one(".empty").get_text()
