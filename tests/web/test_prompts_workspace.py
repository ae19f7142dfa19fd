"""The prompts workspace: creating prompts, the version editor (Save, Save as, refusals on the
form), the estimate, runs with their progress, cancel and report, the drill-down into a
report's cells, two versions compared, and CSRF.

The app of ``web`` executes no runs: a test executes a run itself when it wants it done, as
the job runner would; ``web_with_runner`` is the app whose runner does it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select

from prelabel.api import create_app
from prelabel.services.connections import add_connection
from prelabel.services.prompts import create_prompt
from prelabel.services.run_execution import execute_run
from prelabel.settings import Settings
from prelabel.store import (
    Prediction,
    Project,
    Prompt,
    PromptVersion,
    ProviderConnection,
    Run,
    Store,
)
from tests.api.prompt_builders import GROUND_TRUTH, KEY, TASKS, reviews_project, task_ids
from tests.fakes.llm_server import FakeLLMServer
from tests.web.conftest import WebAccount, csrf_of, flashes, log_in, soup

TEMPLATE = "Review: {text}"


@pytest.fixture
def project_id(store: Store) -> int:
    """TASKS reviews; four have ground truth, which the fake's answer gets half right."""
    return reviews_project(store)


@pytest.fixture
def connection_id(web: TestClient, store: Store, fake_llm: FakeLLMServer) -> int:
    with store.session() as session:
        connection = add_connection(
            session,
            web.app.state.runtime.box,
            name="fake",
            kind="openai",
            base_url=fake_llm.base_url,
            api_key=KEY,
            default_model="gpt-4o-mini",
        )
        return connection.id


@pytest.fixture
def version_id(store: Store, project_id: int, connection_id: int) -> int:
    """Version v1 of the prompt ``sentiment``."""
    return _add_prompt(store, project_id, connection_id)


def _add_prompt(store: Store, project_id: int, connection_id: int, name: str = "sentiment") -> int:
    with store.session() as session:
        project = session.get(Project, project_id)
        connection = session.get(ProviderConnection, connection_id)
        _, version = create_prompt(
            session, project, name=name, template=TEMPLATE, connection=connection
        )
        return version.id


def _version_url(project_id: int, version_id: int) -> str:
    return f"/projects/{project_id}/prompts/versions/{version_id}"


def _post(web: TestClient, url: str, **data: Any) -> Response:
    return web.post(url, data={"csrf_token": csrf_of(web), **data})


def _editor(connection_id: int, template: str = TEMPLATE, **changes: Any) -> dict[str, Any]:
    return {
        "template": template,
        "connection": connection_id,
        "model": "gpt-4o-mini",
        "temperature": "",
        "max_tokens": "",
        **changes,
    }


def _start(web: TestClient, project_id: int, version_id: int, **data: Any) -> Response:
    return _post(web, f"{_version_url(project_id, version_id)}/runs", **data)


def _run_id(response: Response) -> int:
    return int(response.url.params["run"])


def _execute(web: TestClient, run_id: int) -> None:
    """Execute the run here, as the server's job runner would."""
    execute_run(web.app.state.store, web.app.state.runtime, run_id)


def _field_error(page: BeautifulSoup, field: str) -> str:
    element = page.select_one(f"#{field}-error")
    assert element is not None, f"no error shown under {field}"
    assert page.select_one(f"#{field}")["aria-invalid"] == "true"
    assert f"{field}-error" in page.select_one(f"#{field}")["aria-describedby"].split()
    return element.get_text(" ", strip=True)


def _table(table: Any) -> list[list[str]]:
    return [
        [cell.get_text(" ", strip=True) for cell in row.select("th, td")]
        for row in table.select("tr")
    ]


def _predictions_of(store: Store, version_id: int) -> int:
    with store.session() as session:
        return session.scalar(
            select(func.count(Prediction.id)).where(Prediction.prompt_version_id == version_id)
        )


def _ground_truth_ids(store: Store, project_id: int) -> dict[str, list[int]]:
    ids = task_ids(store, project_id)
    return {
        label: [ids[n - 1] for n, truth in GROUND_TRUTH.items() if truth == label]
        for label in ("Positive", "Negative")
    }


# -- prompts and the editor ------------------------------------------------------------------


def test_the_prompts_tab_lists_each_prompt_with_its_versions(
    web: TestClient, store: Store, project_id: int, connection_id: int
) -> None:
    first = _add_prompt(store, project_id, connection_id, name="sentiment")
    _add_prompt(store, project_id, connection_id, name="tone")
    _post(
        web,
        f"{_version_url(project_id, first)}/save-as",
        **_editor(connection_id, title="v2"),
    )

    page = soup(web.get(f"/projects/{project_id}/prompts").text)

    assert page.select_one('.tabs a[aria-current="page"]').get_text() == "Prompts"
    rows = {
        row.th.get_text(strip=True): row.select_one(".version-links").get_text(strip=True)
        for row in page.select(".prompts-table tbody tr")
    }
    assert rows == {"sentiment": "v1,v2", "tone": "v1"}
    link = page.select_one('.version-links a[aria-label="sentiment version v1"]')
    assert link["href"] == _version_url(project_id, first)


def test_creating_a_prompt_opens_its_first_version_in_the_editor(
    web: TestClient, store: Store, project_id: int, connection_id: int
) -> None:
    form = soup(web.get(f"/projects/{project_id}/prompts").text).select_one("#prompt-form")
    assert [chip["data-insert"] for chip in form.select(".chip")] == ["{text}"]
    for field in form.select("input:not([type=hidden]), select, textarea"):
        assert form.select_one(f'label[for="{field["id"]}"]'), f"{field['id']} has no label"

    response = _post(
        web,
        f"/projects/{project_id}/prompts",
        name="sentiment",
        title="v1",
        **_editor(connection_id),
    )

    with store.session() as session:
        version = session.scalar(select(PromptVersion))
        assert (version.template, version.model) == (TEMPLATE, "gpt-4o-mini")
    assert response.url.path == _version_url(project_id, version.id)
    assert flashes(response.text) == ["Created prompt sentiment with version v1"]
    page = soup(response.text)
    assert page.select_one("#editor-title").get_text() == "sentiment__v1"
    assert page.select_one("#template").get_text() == TEMPLATE
    assert page.select_one("#connection option[selected]").get_text() == "fake (openai)"
    assert page.select_one("#model")["value"] == "gpt-4o-mini"


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        pytest.param({"template": "Review: {review}"}, "template", "unknown variable", id="var"),
        pytest.param({"template": "No variable"}, "template", "uses no variable", id="novar"),
        pytest.param({"name": "a__b"}, "name", "without '__'", id="name"),
        pytest.param({"model": "m" * 201}, "model", "at most 200 characters", id="model"),
        pytest.param({"temperature": "5"}, "temperature", "between 0 and 2", id="temp"),
        pytest.param({"max_tokens": "lots"}, "max_tokens", "whole number", id="tokens"),
    ],
)
def test_a_refused_new_prompt_shows_the_reason_on_its_field_as_typed(
    web: TestClient,
    store: Store,
    project_id: int,
    connection_id: int,
    changes: dict[str, str],
    field: str,
    reason: str,
) -> None:
    typed = {"name": "sentiment", "title": "v1", **_editor(connection_id), **changes}

    response = _post(web, f"/projects/{project_id}/prompts", **typed)

    assert response.status_code == 400
    page = soup(response.text)
    assert reason in _field_error(page, field)
    assert page.select_one("#template").get_text() == typed["template"]
    assert page.select_one("#name")["value"] == typed["name"]
    with store.session() as session:
        assert session.scalar(select(func.count(Prompt.id))) == 0


def test_a_prompt_name_already_taken_is_refused_on_the_name(
    web: TestClient, project_id: int, connection_id: int, version_id: int
) -> None:
    response = _post(
        web,
        f"/projects/{project_id}/prompts",
        name="sentiment",
        title="v1",
        **_editor(connection_id),
    )

    assert response.status_code == 400
    assert "already has a prompt named 'sentiment'" in _field_error(soup(response.text), "name")


def test_save_without_predictions_edits_the_version_in_place(
    web: TestClient, store: Store, project_id: int, connection_id: int, version_id: int
) -> None:
    page = soup(web.get(_version_url(project_id, version_id)).text)
    save = page.select_one("#save-controls button[type=submit]")
    assert save.get_text() == "Save" and save["value"] == "0"

    response = _post(
        web,
        f"{_version_url(project_id, version_id)}/save",
        **_editor(connection_id, "Sentiment of: {text}", temperature="0.2", max_tokens="50"),
        confirmed="0",
    )

    assert response.url.path == _version_url(project_id, version_id)
    assert flashes(response.text) == ["Saved sentiment__v1"]
    with store.session() as session:
        version = session.get(PromptVersion, version_id)
        assert version.template == "Sentiment of: {text}"
        assert version.parameters == {"temperature": 0.2, "max_tokens": 50}
    page = soup(response.text)
    assert page.select_one("#temperature")["value"] == "0.2"
    assert page.select_one("#max_tokens")["value"] == "50"


def test_save_asks_first_when_it_deletes_predictions_and_says_how_many_it_deleted(
    web: TestClient, store: Store, project_id: int, connection_id: int, version_id: int
) -> None:
    _execute(web, _run_id(_start(web, project_id, version_id, baseline="ground-truth")))
    url = _version_url(project_id, version_id)
    page = soup(web.get(url).text)
    assert page.select_one("#save-controls button").get("data-opens") == "save-dialog"
    dialog = page.select_one("dialog#save-dialog")
    assert dialog.h2.get_text() == "Save and delete 4 predictions?"
    assert dialog.select_one("button[type=submit]")["value"] == "4"

    unconfirmed = _post(web, f"{url}/save", **_editor(connection_id, "New: {text}"), confirmed="0")

    assert unconfirmed.status_code == 409
    assert soup(unconfirmed.text).select_one("#save-dialog [data-open-on-load]")
    assert soup(unconfirmed.text).select_one("#template").get_text() == "New: {text}"
    assert _predictions_of(store, version_id) == 4

    saved = _post(web, f"{url}/save", **_editor(connection_id, "New: {text}"), confirmed="4")

    assert flashes(saved.text) == ["Saved sentiment__v1; deleted its 4 predictions"]
    assert _predictions_of(store, version_id) == 0
    with store.session() as session:
        assert session.get(PromptVersion, version_id).template == "New: {text}"


def test_a_refused_save_changes_nothing_and_shows_why(
    web: TestClient, store: Store, project_id: int, connection_id: int, version_id: int
) -> None:
    response = _post(
        web,
        f"{_version_url(project_id, version_id)}/save",
        **_editor(connection_id, "Review: {text} {stars}", model="other-model"),
        confirmed="0",
    )

    assert response.status_code == 400
    page = soup(response.text)
    assert "unknown variable {stars}" in _field_error(page, "template")
    assert page.select_one("#model")["value"] == "other-model", "the form is kept as typed"
    with store.session() as session:
        version = session.get(PromptVersion, version_id)
        assert (version.template, version.model) == (TEMPLATE, "gpt-4o-mini")


def test_save_as_makes_a_new_version_and_keeps_the_old_one(
    web: TestClient, store: Store, project_id: int, connection_id: int, version_id: int
) -> None:
    _execute(web, _run_id(_start(web, project_id, version_id, baseline="ground-truth")))

    response = _post(
        web,
        f"{_version_url(project_id, version_id)}/save-as",
        **_editor(connection_id, "Sentiment of: {text}", title="v2"),
    )

    assert flashes(response.text) == ["Saved as sentiment__v2"]
    with store.session() as session:
        copy = session.scalar(select(PromptVersion).where(PromptVersion.title == "v2"))
        assert copy.template == "Sentiment of: {text}"
        assert session.get(PromptVersion, version_id).template == TEMPLATE
    assert response.url.path == _version_url(project_id, copy.id)
    assert _predictions_of(store, version_id) == 4
    history = _table(soup(response.text).select_one("#history-card table"))
    assert [row[:3] for row in history[1:]] == [
        ["v1", "gpt-4o-mini", "4"],
        ["v2", "gpt-4o-mini", "0"],
    ]


def test_save_as_with_a_title_taken_reopens_its_dialog_with_the_reason(
    web: TestClient, project_id: int, connection_id: int, version_id: int
) -> None:
    response = _post(
        web,
        f"{_version_url(project_id, version_id)}/save-as",
        **_editor(connection_id, title="v1"),
    )

    assert response.status_code == 400
    page = soup(response.text)
    assert "already has a version titled 'v1'" in _field_error(page, "title")
    assert page.select_one("#save-as-dialog [data-open-on-load]")


def test_another_projects_version_is_not_found_here(
    web: TestClient, store: Store, version_id: int
) -> None:
    other = reviews_project(store, title="Other")

    assert web.get(_version_url(other, version_id)).status_code == 404


# -- estimates and runs ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "caption"),
    [
        pytest.param({}, "Estimate for ground truth: 4 tasks", id="ground-truth"),
        pytest.param({"baseline": "all"}, f"Estimate for all tasks: {TASKS} tasks", id="all"),
        pytest.param(
            {"baseline": "sample", "sample_size": "5"}, "Estimate for sample of 5: 5 tasks", id="n"
        ),
        pytest.param(
            {"baseline": "missing"},
            f"Estimate for tasks without its prediction: {TASKS} tasks",
            id="missing",
        ),
    ],
)
def test_the_estimate_shows_tokens_and_cost_before_a_run_without_calling_the_model(
    web: TestClient,
    project_id: int,
    version_id: int,
    fake_llm: FakeLLMServer,
    query: dict[str, str],
    caption: str,
) -> None:
    url = _version_url(project_id, version_id)
    box = soup(web.get(url).text).select_one("#run-form #estimate")
    assert box["data-estimate-url"] == f"{url}/estimate"

    response = web.get(f"{url}/estimate", params=query)

    assert response.status_code == 200
    table = soup(response.text).select_one(".estimate-table")
    assert table.caption.get_text() == caption
    rows = {row[0]: row[1:] for row in _table(table)[1:]}
    assert set(rows) == {"Input tokens", "Output tokens", "Cost (USD)"}
    low, expected, high = (int(n.replace(",", "")) for n in rows["Input tokens"])
    assert 0 < low < expected < high
    assert all(cost.startswith("$") for cost in rows["Cost (USD)"])
    assert fake_llm.request_count == 0


def test_an_estimate_that_cannot_be_made_says_why(
    web: TestClient, project_id: int, version_id: int
) -> None:
    url = f"{_version_url(project_id, version_id)}/estimate"

    response = web.get(url, params={"baseline": "sample", "sample_size": "many"})

    assert "not a whole number" in soup(response.text).select_one(".estimate-problem").get_text()


def test_evaluate_starts_a_run_whose_progress_shows_until_it_ends_with_its_report(
    web: TestClient, store: Store, project_id: int, version_id: int
) -> None:
    started = _start(web, project_id, version_id, baseline="ground-truth")

    run_id = _run_id(started)
    assert flashes(started.text) == [f"Started run {run_id} on 4 tasks (ground truth)"]
    page = soup(started.text)
    bar = page.select_one("#run progress")
    assert (bar["max"], bar["value"]) == ("4", "0")
    assert page.select_one('label[for="run-progress-bar"]')
    assert page.select_one('[data-progress="counts_text"]').get_text() == (
        "0 done, 0 failed, 4 in all"
    )
    assert page.select_one("#run form button").get_text() == "Cancel run"
    progress_url = page.select_one("[data-progress-url]")["data-progress-url"]
    waiting = web.get(progress_url).json()
    assert (waiting["status"], waiting["active"], waiting["total"]) == ("Pending", True, 4)

    _execute(web, run_id)

    ended = web.get(progress_url).json()
    assert (ended["status"], ended["active"], ended["done"], ended["percent"]) == (
        "Completed",
        False,
        4,
        100,
    )
    assert ended["cost_usd"] > 0 and ended["input_tokens"] > 0
    report = soup(web.get(_version_url(project_id, version_id)).text).select_one("#run")
    assert "Completed" in report.h2.get_text()
    metrics = {
        item.dt.get_text(): item.dd.get_text(" ", strip=True) for item in report.select(".metric")
    }
    assert metrics["Accuracy"] == "50.0%"
    assert metrics["Evaluated"] == "4 tasks ( 2 right , 2 wrong )"
    assert metrics["Cost"].startswith("$0.0") and metrics["Cost"] != "$0.00"
    assert metrics["Tokens"].endswith("out") and metrics["Latency"].startswith("p50 ")
    assert "macro F1 0.333" in report.select_one(".headline").get_text()
    per_class = _table(report.select_one("table.per-class"))
    assert per_class[1:] == [
        ["Negative", "0.000", "0.000", "0.000", "2", "0", "0", "2"],
        ["Positive", "0.500", "1.000", "0.667", "2", "2", "2", "0"],
    ]
    assert _table(report.select_one("table.confusion"))[1:] == [
        ["Negative", "0", "2"],
        ["Positive", "0", "2"],
    ]
    assert not report.select("progress"), "an ended run shows no progress bar"


def test_get_predictions_for_all_tasks_runs_on_every_task(
    web: TestClient, project_id: int, version_id: int
) -> None:
    page = soup(web.get(_version_url(project_id, version_id)).text)
    dialog = page.select_one("dialog#all-tasks-dialog")
    assert dialog.select_one('input[name="baseline"]')["value"] == "all"
    assert dialog.select_one(".estimate")["data-estimate-url"].endswith("/estimate?baseline=all")

    started = _start(web, project_id, version_id, baseline="all")

    assert flashes(started.text) == [f"Started run {_run_id(started)} on {TASKS} tasks (all tasks)"]
    assert soup(started.text).select_one("#run progress")["max"] == str(TASKS)


def test_a_run_that_cannot_start_says_why(
    web: TestClient, project_id: int, version_id: int
) -> None:
    _start(web, project_id, version_id, baseline="ground-truth")

    again = _start(web, project_id, version_id, baseline="all")
    bad = _start(web, project_id, version_id, baseline="sample", sample_size="0")

    assert again.url.path == _version_url(project_id, version_id)
    assert "already has run 1 in progress" in flashes(again.text)[0]
    assert "a sample needs 1 to" in flashes(bad.text)[0]


def test_cancel_stops_a_run_and_resume_puts_it_back_to_work(
    web: TestClient, store: Store, project_id: int, version_id: int
) -> None:
    run_id = _run_id(_start(web, project_id, version_id, baseline="ground-truth"))
    cancel = soup(web.get(_version_url(project_id, version_id)).text).select_one(
        "#run form[action$='/cancel']"
    )

    canceled = _post(web, cancel["action"])

    assert flashes(canceled.text) == [
        f"Canceled run {run_id}: 0 of 4 tasks done; resume it to do the rest"
    ]
    with store.session() as session:
        assert session.get(Run, run_id).status == "Canceled"
    page = soup(canceled.text)
    assert "Canceled" in page.select_one("#run h2").get_text()
    resume = page.select_one("#run form[action$='/resume']")
    assert resume.button.get_text() == "Resume run"

    resumed = _post(web, resume["action"])

    assert flashes(resumed.text) == [f"Resumed run {run_id}"]
    with store.session() as session:
        assert session.get(Run, run_id).status == "Pending"


def test_a_report_cell_lists_its_tasks_with_links_to_them(
    web: TestClient, store: Store, project_id: int, version_id: int
) -> None:
    run_id = _run_id(_start(web, project_id, version_id, baseline="ground-truth"))
    _execute(web, run_id)
    truth = _ground_truth_ids(store, project_id)
    page = soup(web.get(_version_url(project_id, version_id)).text)
    [confused] = [a for a in page.select("table.confusion a") if "Negative/Positive" in a["href"]]
    [missed] = [a for a in page.select("table.per-class a") if "fn/Negative" in a["href"]]
    assert confused.get_text() == "2" and missed.get_text() == "2"

    for link in (confused, missed):
        drill = soup(web.get(link["href"]).text).select_one("#drill-down")

        rows = _table(drill.select_one("table"))[1:]
        assert [row[0] for row in rows] == [f"Task {task}" for task in truth["Negative"]]
        assert {(row[1], row[2]) for row in rows} == {
            ("sentiment: Negative", "sentiment: Positive")
        }
        hrefs = [a["href"] for a in drill.select("tbody a")]
        assert hrefs == [f"/projects/{project_id}/tasks/{task}" for task in truth["Negative"]]
    assert (
        "truth Negative, predicted Positive"
        in soup(web.get(confused["href"]).text).select_one("#drill-title").get_text()
    )

    unknown = soup(
        web.get(_version_url(project_id, version_id), params={"run": run_id, "cell": "x/y"}).text
    )
    assert "has no cell 'x/y'" in unknown.select_one("#drill-down [role=alert]").get_text()


def test_two_versions_compare_side_by_side(
    web: TestClient,
    store: Store,
    project_id: int,
    connection_id: int,
    version_id: int,
    fake_llm: FakeLLMServer,
) -> None:
    url = _version_url(project_id, version_id)
    _execute(web, _run_id(_start(web, project_id, version_id, baseline="ground-truth")))
    copy = _post(web, f"{url}/save-as", **_editor(connection_id, "Tone of: {text}", title="v2"))
    copy_id = int(copy.url.path.rsplit("/", 1)[1])
    fake_llm.responder = lambda _body: {"sentiment": "Negative"}
    _execute(web, _run_id(_start(web, project_id, copy_id, baseline="ground-truth")))
    form = soup(web.get(_version_url(project_id, copy_id)).text).select_one(".compare-form")
    chosen = {s["name"]: s.select_one("option[selected]")["value"] for s in form.select("select")}
    assert chosen == {"a": str(copy_id), "b": str(version_id)}

    response = web.get(form["action"], params={"a": version_id, "b": copy_id})

    assert response.status_code == 200
    page = soup(response.text)
    sides = page.select(".side-by-side > section")
    assert [side.h2.get_text() for side in sides] == ["sentiment__v1", "sentiment__v2"]
    assert [side.select_one(".template-text").get_text() for side in sides] == [
        TEMPLATE,
        "Tone of: {text}",
    ]
    scores = {row[0]: row[1:] for row in _table(page.select_one("table.comparison"))}
    assert scores["Accuracy"] == ["50.0%", "50.0%"]
    assert scores["sentiment"][0].startswith("accuracy 50.0%")
    assert all(cost.startswith("$0.0") for cost in scores["Cost"])
    disagree = [a.get_text() for a in page.select(".task-links a")]
    assert disagree == [f"Task {task}" for task in sorted(task_ids(store, project_id)[:4])]


def test_comparing_a_version_with_itself_says_why(
    web: TestClient, project_id: int, version_id: int
) -> None:
    response = web.get(
        f"/projects/{project_id}/prompts/compare", params={"a": version_id, "b": version_id}
    )

    assert response.url.path == _version_url(project_id, version_id)
    assert flashes(response.text) == ["compare: give at least two different versions"]


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/projects/{p}/prompts", id="create"),
        pytest.param("/projects/{p}/prompts/versions/{v}/save", id="save"),
        pytest.param("/projects/{p}/prompts/versions/{v}/save-as", id="save-as"),
        pytest.param("/projects/{p}/prompts/versions/{v}/runs", id="start"),
        pytest.param("/projects/{p}/runs/1/cancel", id="cancel"),
    ],
)
def test_a_form_without_the_csrf_token_is_refused_and_changes_nothing(
    web: TestClient, store: Store, project_id: int, connection_id: int, version_id: int, path: str
) -> None:
    _start(web, project_id, version_id, baseline="ground-truth")
    data = {"name": "other", "title": "v2", "baseline": "all", **_editor(connection_id, "X {text}")}

    response = web.post(path.format(p=project_id, v=version_id), data=data)

    assert response.status_code == 403
    with store.session() as session:
        assert session.scalar(select(func.count(PromptVersion.id))) == 1
        assert session.get(PromptVersion, version_id).template == TEMPLATE
        assert [run.status for run in session.scalars(select(Run))] == ["Pending"]


# -- with the job runner ---------------------------------------------------------------------


@pytest.fixture
def web_with_runner(settings: Settings, store: Store, account: WebAccount) -> Iterator[TestClient]:
    """A signed-in client of an app whose in-process runner executes runs."""
    with TestClient(create_app(settings, store=store, run_jobs=True)) as client:
        log_in(client, account.email, account.password)
        yield client


def test_the_server_executes_an_evaluation_started_from_the_page(
    web_with_runner: TestClient, store: Store, project_id: int, version_id: int
) -> None:
    started = _start(web_with_runner, project_id, version_id, baseline="ground-truth")
    progress_url = soup(started.text).select_one("[data-progress-url]")
    url = (
        progress_url["data-progress-url"]
        if progress_url
        else f"/projects/{project_id}/runs/{_run_id(started)}/progress"
    )

    deadline = time.monotonic() + 60
    while (state := web_with_runner.get(url).json())["active"]:
        assert time.monotonic() < deadline, f"the run is still {state['status']}"
        time.sleep(0.05)

    assert (state["status"], state["done"]) == ("Completed", 4)
    page = soup(web_with_runner.get(_version_url(project_id, version_id)).text)
    assert page.select_one("#run-accuracy").get_text() == "50.0%"
