"""The whole workflow in a real headless Chromium, as a person does it: a project from a
file, a provider connection to the fake LLM, a prompt, Evaluate, Get Predictions for All
Tasks, the Data Manager, annotations from predictions, and deleting a version's predictions.

One long walk on purpose; every page it visits is saved as a screenshot under
tests/artifacts/ (``workflow-*.png``). The server runs its job runner, so the runs the pages
start really execute against the fake LLM server. SQLite only, in the browser xdist group.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import orjson
import pytest
from playwright.sync_api import Page, expect

from tests.factories import SENTIMENT_CONFIG, sentiment
from tests.fakes.llm_server import FakeLLMServer
from tests.web.conftest import WebAccount, screenshot

pytestmark = [
    pytest.mark.xdist_group("browser"),
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

KEY = "sk-browser-walk-0001"
#: Twelve reviews; the first four have ground truth. The fake LLM answers "Positive" to
#: everything, so it is right on reviews 1 and 3 and wrong on 2 and 4: accuracy 50%.
GROUND_TRUTH = {1: "Positive", 2: "Negative", 3: "Positive", 4: "Negative"}
TASKS: list[dict[str, Any]] = [
    {
        "data": {"text": f"review number {n}"},
        **(
            {"annotations": [{"result": sentiment(GROUND_TRUTH[n]), "ground_truth": True}]}
            if n in GROUND_TRUTH
            else {}
        ),
    }
    for n in range(1, 13)
]


def _log_in(page: Page, live_url: str, account: WebAccount) -> None:
    page.goto(f"{live_url}/projects")
    page.get_by_label("E-mail").fill(account.email)
    page.get_by_label("Password").fill(account.password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Projects")).to_be_visible()


def _status(page: Page) -> Any:
    return page.locator(".flash-success")


def test_a_user_evaluates_a_prompt_and_gets_predictions_for_every_task(
    page: Page,
    live_url_with_runner: str,
    account: WebAccount,
    fake_llm: FakeLLMServer,
    tmp_path: Path,
) -> None:
    tasks_file = tmp_path / "reviews.json"
    tasks_file.write_bytes(orjson.dumps(TASKS))
    _log_in(page, live_url_with_runner, account)

    # A project with its tasks, from a file.
    page.get_by_role("link", name="New project").click()
    page.get_by_label("Title").fill("Reviews")
    page.get_by_label("Labeling config").fill(SENTIMENT_CONFIG)
    expect(page.locator("#config-status")).to_contain_text("Valid")
    page.get_by_label("Tasks to import").set_input_files(tasks_file)
    page.get_by_role("button", name="Create project").click()
    expect(_status(page)).to_contain_text("Imported 12 tasks with 4 annotations")
    screenshot(page, "workflow-01-data-manager-imported")
    project_url = page.url

    # A provider connection to the fake LLM server.
    page.get_by_role("link", name="Model providers").click()
    page.get_by_label("Name").fill("fake")
    page.get_by_label("Base URL").fill(fake_llm.base_url)
    page.get_by_label("API key").fill(KEY)
    page.get_by_label("Default model").fill("gpt-4o-mini")
    page.get_by_role("button", name="Add connection").click()
    expect(_status(page)).to_have_text("Added provider connection fake")
    screenshot(page, "workflow-02-providers")

    # A prompt: the variable goes in from its chip, by keyboard.
    page.goto(project_url)
    page.get_by_role("link", name="Prompts", exact=True).click()
    expect(page.get_by_role("heading", name="New prompt")).to_be_visible()
    page.get_by_label("Name", exact=True).fill("sentiment")
    template = page.get_by_label("Template")
    template.fill("Review: ")
    template.press("End")
    page.get_by_role("button", name="Insert variable text").focus()
    page.keyboard.press("Enter")
    expect(template).to_have_value("Review: {text}")
    expect(template).to_be_focused()
    expect(page.get_by_label("Provider connection")).to_have_value(re.compile(r"\d+"))
    expect(page.get_by_label("Model", exact=True)).to_have_value("gpt-4o-mini")
    page.get_by_label("Temperature").fill("0")
    screenshot(page, "workflow-03-new-prompt")
    page.get_by_role("button", name="Create prompt").click()
    expect(_status(page)).to_have_text("Created prompt sentiment with version v1")
    expect(page.get_by_role("heading", name="sentiment__v1")).to_be_visible()

    # The estimate before starting, then Evaluate on the ground truth.
    estimate = page.locator("#estimate")
    expect(estimate.locator("caption")).to_have_text("Estimate for ground truth: 4 tasks")
    expect(estimate.get_by_role("row", name=re.compile("^Cost"))).to_contain_text("$")
    page.get_by_label("A sample of tasks").check()
    page.get_by_label("Sample size").fill("3")
    expect(estimate.locator("caption")).to_have_text("Estimate for sample of 3: 3 tasks")
    page.get_by_label("Ground truth: the tasks with a ground-truth annotation").check()
    expect(estimate.locator("caption")).to_have_text("Estimate for ground truth: 4 tasks")
    screenshot(page, "workflow-04-prompt-editor")
    page.get_by_role("button", name="Evaluate").click()
    expect(_status(page)).to_contain_text("on 4 tasks (ground truth)")
    expect(page.locator("#run-accuracy")).to_have_text("50.0%", timeout=60_000)
    report = page.locator("#run")
    expect(report.get_by_role("heading", name=re.compile("Completed"))).to_be_visible()
    expect(report.locator(".metric", has_text="Evaluated")).to_contain_text("2 right")
    expect(report.locator(".metric", has_text="Cost")).to_contain_text("$0.0")
    screenshot(page, "workflow-05-evaluated")

    # The drill-down: the two reviews whose truth is Negative but were called Positive.
    matrix = report.get_by_role("table", name=re.compile("Confusion matrix"))
    matrix.get_by_role("row", name=re.compile("^Negative")).get_by_role("link").click()
    drill = page.locator("#drill-down")
    expect(drill.get_by_role("heading")).to_have_text(
        "Tasks: sentiment: truth Negative, predicted Positive"
    )
    expect(drill.locator("tbody tr")).to_have_count(2)
    expect(drill.get_by_role("link", name="Task 2")).to_be_visible()
    screenshot(page, "workflow-06-drill-down")

    # Get Predictions for All Tasks: the model is held back, so the progress shows.
    fake_llm.latency = 30
    page.get_by_role("button", name="Get Predictions for All Tasks").click()
    dialog = page.get_by_role("dialog", name="Get predictions for all tasks?")
    expect(dialog.locator("caption")).to_have_text("Estimate for all tasks: 12 tasks")
    screenshot(page, "workflow-07-all-tasks-dialog")
    dialog.get_by_role("button", name="Get predictions").click()
    expect(_status(page)).to_contain_text("on 12 tasks (all tasks)")
    bar = page.get_by_role("progressbar")
    expect(bar).to_have_attribute("max", "12")
    expect(page.get_by_role("button", name="Cancel run")).to_be_visible()
    # The four reviews answered before come from the response cache at once.
    expect(page.locator('[data-progress="counts_text"]')).to_have_text(
        "4 done, 0 failed, 12 in all", timeout=30_000
    )
    expect(bar).to_have_attribute("value", "4")
    expect(page.locator('[data-progress="eta_text"]')).to_contain_text("left")
    screenshot(page, "workflow-08-progress")
    fake_llm.latency = 0
    fake_llm.release()
    run = page.locator("#run")
    expect(run.get_by_role("heading", name=re.compile("Completed"))).to_be_visible(timeout=60_000)
    expect(run).to_contain_text("12 done, 0 failed, 12 in all")
    expect(page.get_by_role("progressbar")).to_have_count(0)
    expect(_status(page)).to_contain_text("on 12 tasks")  # updated in place, not reloaded
    expect(page.locator("#editor-predictions")).to_contain_text("12 predictions")
    page.set_viewport_size({"width": 1920, "height": 1080})
    screenshot(page, "workflow-09-predictions-done-1920")
    page.set_viewport_size({"width": 1280, "height": 800})

    # Save would delete those predictions, so it asks first; Save as keeps them.
    template.fill("Sentiment of this review: {text}")
    page.get_by_role("button", name="Save", exact=True).click()
    confirm = page.get_by_role("dialog", name="Save and delete 12 predictions?")
    expect(confirm.get_by_role("button", name="Cancel")).to_be_focused()
    screenshot(page, "workflow-10-save-confirmation")
    page.keyboard.press("Escape")
    expect(confirm).to_be_hidden()
    page.get_by_role("button", name="Save as…").click()
    page.get_by_label("Title of the new version").fill("v2")
    page.get_by_role("button", name="Save as new version").click()
    expect(_status(page)).to_have_text("Saved as sentiment__v2")
    expect(template).to_have_value("Sentiment of this review: {text}")

    # The new version answers "Negative": as right as v1, on the other half of the tasks.
    fake_llm.responder = lambda _body: {"sentiment": "Negative"}
    page.get_by_role("button", name="Evaluate").click()
    expect(page.locator("#run-accuracy")).to_have_text("50.0%", timeout=60_000)
    page.get_by_role("button", name="Compare side by side").click()
    expect(page.get_by_role("heading", name="sentiment__v2")).to_be_visible()
    scores = page.get_by_role("table", name="Scores, cost and latency of the two versions")
    expect(scores.get_by_role("row", name=re.compile("^Accuracy"))).to_have_text(
        re.compile(r"Accuracy\s*50.0%\s*50.0%")
    )
    expect(page.get_by_role("heading", name="They answer differently on 4 tasks")).to_be_visible()
    screenshot(page, "workflow-11-compare")
    page.get_by_role("navigation", name="Breadcrumbs").get_by_role("link", name="Prompts").click()
    row = page.get_by_role("row", name=re.compile("^sentiment"))
    expect(row.locator(".version-links")).to_have_text("v1, v2")
    expect(row.locator("td.num")).to_have_text("16")
    screenshot(page, "workflow-11-prompts-list")

    # The Data Manager counts them; annotations are made from them with the Actions menu.
    page.get_by_role("link", name="Data Manager").click()
    header = page.get_by_role("columnheader", name="Total predictions per task")
    expect(header).to_be_visible()
    column = page.locator("#tasks thead th").all_inner_texts().index("Total predictions per task")
    counts = page.locator(f"#tasks tbody td:nth-child({column + 1})").all_inner_texts()
    assert counts == ["2"] * 4 + ["1"] * 8, "v1 on every task, v2 on the ground truth"
    screenshot(page, "workflow-12-data-manager-predictions")
    page.get_by_label("Select all tasks on this page").check()
    page.get_by_text("Actions", exact=True).click()
    page.get_by_role("button", name="Create Annotations from Predictions").click()
    action = page.get_by_role("dialog", name="Create Annotations from Predictions")
    action.get_by_label("Model version").select_option("=sentiment__v1")
    screenshot(page, "workflow-13-create-annotations")
    action.get_by_role("button", name="Create annotations").click()
    expect(_status(page)).to_have_text("Created 12 annotations")

    # Settings → Predictions: one version's predictions deleted.
    page.get_by_role("link", name="Settings → Predictions").click()
    card = page.locator(".version-card").filter(
        has=page.get_by_role("heading", name="sentiment__v1")
    )
    expect(card.locator("dt:text-is('Predictions') + dd")).to_have_text("12")
    screenshot(page, "workflow-14-predictions-settings")
    card.get_by_role("button", name="Delete").click()
    page.get_by_role("dialog", name="Delete 12 predictions?").get_by_role(
        "button", name="Delete predictions"
    ).click()
    expect(_status(page)).to_have_text("Deleted 12 predictions of sentiment__v1")
    expect(page.locator(".version-card")).to_have_count(1)
    expect(page.locator(".version-card h3")).to_have_text("sentiment__v2")
    screenshot(page, "workflow-15-predictions-deleted")
