"""The projects list, creating a project (with its live config check and first import),
importing into a project, and exporting it."""

from __future__ import annotations

import httpx
import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from prelabel.store import Project, Store, Task
from tests.factories import SENTIMENT_CONFIG, import_json, make_project
from tests.web.conftest import csrf_of, flashes, soup

TASKS = [{"text": "Great value"}, {"text": "Broke at once"}]


Files = dict[str, tuple[str, bytes, str]]


def _create(web: TestClient, files: Files | None = None, **fields: str) -> httpx.Response:
    data = {"title": "Reviews", "label_config": SENTIMENT_CONFIG, **fields}
    return web.post(
        "/projects", data={**data, "csrf_token": csrf_of(web)}, files=files, follow_redirects=False
    )


def _counts(store: Store) -> tuple[int, int]:
    with store.session() as session:
        projects = session.scalar(select(func.count(Project.id)))
        tasks = session.scalar(select(func.count(Task.id)))
    return projects or 0, tasks or 0


def test_the_projects_page_lists_each_project_with_its_counts(
    web: TestClient, store: Store
) -> None:
    with store.session() as session:
        import_json(session, make_project(session, title="Reviews"), TASKS)
        make_project(session, title="Empty <b>one</b>")
    page = soup(web.get("/projects").text)
    rows = [
        [cell.get_text(strip=True) for cell in row.select("td")[:4]]
        for row in page.select("tbody tr")
    ]
    assert rows == [["Empty <b>one</b>", "0", "0", "0"], ["Reviews", "2", "0", "0"]]
    assert page.select_one("tbody a")["href"].endswith("/data")


def test_the_projects_page_says_when_there_is_none_yet(web: TestClient) -> None:
    page = soup(web.get("/projects").text)
    assert "No project yet" in page.select_one(".empty").get_text()


def test_the_new_project_form_starts_with_an_example_config(web: TestClient) -> None:
    page = soup(web.get("/projects/new").text)
    assert "<Choices" in page.select_one("textarea#label_config").get_text()
    labels = {label["for"] for label in page.select("label[for]")}
    assert {"title", "description", "label_config", "file"} <= labels


def test_creating_a_project_with_a_file_imports_it_and_opens_its_data_manager(
    web: TestClient, store: Store
) -> None:
    response = _create(
        web, files={"file": ("reviews.json", orjson.dumps(TASKS), "application/json")}
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/projects/1/data"
    assert flashes(web.get(response.headers["location"]).text) == [
        "Created project Reviews. Imported 2 tasks with 0 annotations and 0 predictions."
    ]
    assert _counts(store) == (1, 2)


def test_creating_a_project_without_a_file_imports_nothing(web: TestClient, store: Store) -> None:
    response = _create(web, files={"file": ("", b"", "application/octet-stream")})
    assert response.status_code == 303
    assert _counts(store) == (1, 0)


@pytest.mark.parametrize(
    ("fields", "files", "message"),
    [
        pytest.param({"title": " "}, None, "title: must not be empty", id="blank-title"),
        pytest.param(
            {"label_config": "<View><Text name='t'"}, None, "not well-formed", id="bad-config"
        ),
        pytest.param(
            {},
            {"file": ("reviews.json", orjson.dumps([{"txt": "no text field"}]), "text/plain")},
            "text",
            id="task-without-the-field",
        ),
        pytest.param(
            {}, {"file": ("reviews.xlsx", b"...", "text/plain")}, ".xlsx", id="unknown-format"
        ),
    ],
)
def test_a_refused_project_shows_the_form_again_as_filled_in_and_creates_nothing(
    web: TestClient, store: Store, fields: dict[str, str], files: Files | None, message: str
) -> None:
    response = _create(web, files=files, **fields)
    assert response.status_code == 400
    page = soup(response.text)
    assert message in page.select_one(".flash-error").get_text()
    sent = {"title": "Reviews", "label_config": SENTIMENT_CONFIG, **fields}
    assert page.select_one("#title")["value"] == sent["title"]
    assert page.select_one("#label_config").get_text() == sent["label_config"]
    assert _counts(store) == (0, 0)


def test_the_config_check_describes_a_valid_config(web: TestClient) -> None:
    answer = web.post(
        "/projects/check-config",
        json={"label_config": SENTIMENT_CONFIG},
        headers={"X-CSRF-Token": csrf_of(web)},
    ).json()
    assert answer["valid"] is True
    assert answer["data_fields"] == ["text"]
    assert answer["controls"]["sentiment"]["labels"] == ["Positive", "Negative"]


def test_the_config_check_says_what_is_wrong_with_an_invalid_config(web: TestClient) -> None:
    answer = web.post(
        "/projects/check-config",
        json={"label_config": "<View><Choices name='c' toName='nothing'/></View>"},
        headers={"X-CSRF-Token": csrf_of(web)},
    ).json()
    assert answer["valid"] is False
    assert "nothing" in answer["message"]


def test_importing_a_file_adds_its_tasks_and_says_how_many(web: TestClient, store: Store) -> None:
    with store.session() as session:
        make_project(session)
    response = web.post(
        "/projects/1/import",
        data={"csrf_token": csrf_of(web)},
        files={"file": ("reviews.jsonl", b'{"text": "a"}\n{"text": "b"}\n{"text": "c"}\n', "x")},
    )
    assert response.url.path == "/projects/1/data"
    assert flashes(response.text) == ["Imported 3 tasks with 0 annotations and 0 predictions."]
    assert _counts(store) == (1, 3)


def test_a_refused_import_goes_back_with_the_reason_and_imports_nothing(
    web: TestClient, store: Store
) -> None:
    with store.session() as session:
        make_project(session)
    body = orjson.dumps([{"text": "fine"}, {"other": "no text"}])
    response = web.post(
        "/projects/1/import",
        data={"csrf_token": csrf_of(web)},
        files={"file": ("reviews.json", body, "application/json")},
    )
    assert response.url.path == "/projects/1/data"
    [message] = flashes(response.text)
    assert "task[1]" in message
    assert _counts(store) == (1, 0)


def test_importing_into_a_missing_project_is_a_404_page(web: TestClient) -> None:
    response = web.post(
        "/projects/9/import",
        data={"csrf_token": csrf_of(web)},
        files={"file": ("t.json", b"[]", "application/json")},
    )
    assert response.status_code == 404
    assert "Project 9 not found" in response.text


@pytest.mark.parametrize(
    ("export_type", "starts"),
    [
        pytest.param("JSON", b"[", id="json"),
        pytest.param("JSONL", b'{"id"', id="jsonl"),
        pytest.param("CSV", b"id,", id="csv"),
    ],
)
def test_exporting_downloads_the_project_file(
    web: TestClient, store: Store, export_type: str, starts: bytes
) -> None:
    with store.session() as session:
        import_json(session, make_project(session), TASKS)
    response = web.get(
        "/projects/1/export", params={"export_type": export_type, "download_all_tasks": "true"}
    )
    assert response.status_code == 200
    assert response.headers["content-disposition"].startswith("attachment")
    assert response.content.startswith(starts)


def test_an_unknown_export_format_is_a_400_page(web: TestClient, store: Store) -> None:
    with store.session() as session:
        make_project(session)
    response = web.get("/projects/1/export", params={"export_type": "XML"})
    assert response.status_code == 400
    assert "is not supported" in soup(response.text).select_one(".error-message").get_text()
