"""The web app in a real headless Chromium: what a person does, by mouse and by keyboard.

Few and long on purpose: each walk goes through several pages, and each page is saved as a
screenshot under tests/artifacts/. They run on SQLite only (the HTTP tests cover both
databases) and in one xdist group, so one worker starts one browser for them all.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import orjson
import pytest
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import func, select

from prelabel.store import Annotation, Prediction, Run, Store
from tests.api.label_studio_data import add_prompt_version, seed_project
from tests.factories import SENTIMENT_CONFIG, sentiment
from tests.invariants import assert_stored_counters_exact
from tests.web.conftest import WebAccount, screenshot

pytestmark = [
    pytest.mark.xdist_group("browser"),
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]


def _task(text: str, *predictions: tuple[str, str, float]) -> dict[str, Any]:
    return {
        "data": {"text": text},
        "predictions": [
            {"model_version": version, "result": sentiment(label), "score": score}
            for version, label, score in predictions
        ],
    }


# Scores by v1 (the project's model version after the import, as the last one imported):
# 0.9, 0.7, 0.55, none, 0.95, none. Highest first: tasks 5, 1, 2, 3, then 4 and 6.
TASKS = [
    _task("Great value, works as described", ("v1", "Positive", 0.9), ("v2", "Positive", 0.8)),
    _task("Broke after two days", ("v1", "Negative", 0.7), ("v2", "Positive", 0.3)),
    _task("Okay for the price", ("v1", "Positive", 0.55)),
    _task("Refund took weeks", ("v2", "Negative", 0.6)),
    _task("Would buy again", ("v1", "Positive", 0.95)),
    _task("No prediction here"),
]


def _ids_shown(page: Page) -> list[str]:
    return page.locator("#tasks tbody tr td:nth-child(2)").all_inner_texts()


def _log_in(page: Page, live_url: str, account: WebAccount) -> None:
    page.goto(f"{live_url}/projects")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.get_by_label("E-mail").fill(account.email)
    page.get_by_label("Password").fill(account.password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Projects")).to_be_visible()


def _create_project(page: Page, tasks_file: Path) -> None:
    page.get_by_role("link", name="New project").click()
    page.get_by_label("Title").fill("Reviews")
    config = page.get_by_label("Labeling config")
    config.fill("<View><Text name='text' value='$text'/>")
    expect(page.locator("#config-status")).to_contain_text("not well-formed")
    expect(config).to_have_attribute("aria-invalid", "true")
    config.fill(SENTIMENT_CONFIG)
    expect(page.locator("#config-status")).to_contain_text("Valid")
    page.get_by_label("Tasks to import").set_input_files(tasks_file)
    screenshot(page, "new-project")
    page.get_by_role("button", name="Create project").click()


def test_a_user_logs_in_creates_a_project_and_manages_its_predictions(
    page: Page, live_url: str, account: WebAccount, tmp_path: Path
) -> None:
    tasks_file = tmp_path / "reviews.json"
    tasks_file.write_bytes(orjson.dumps(TASKS))
    page.goto(f"{live_url}/login")
    screenshot(page, "login")
    _log_in(page, live_url, account)
    screenshot(page, "projects-empty")
    _create_project(page, tasks_file)

    expect(page.get_by_role("status")).to_contain_text("Imported 6 tasks")
    expect(page.get_by_role("columnheader", name="Total predictions per task")).to_be_visible()
    assert _ids_shown(page) == ["1", "2", "3", "4", "5", "6"]
    screenshot(page, "data-manager")

    page.get_by_text("Filters", exact=True).click()
    page.get_by_label("Filter 1: column").select_option(label="Total predictions per task")
    page.get_by_label("Filter 1: operator").select_option(label=">")
    page.get_by_label("Filter 1: value").fill("0")
    screenshot(page, "filters")
    page.get_by_role("button", name="Apply").first.click()
    expect(page.locator(".pager")).to_contain_text("1–5 of 5 tasks")
    page.get_by_role("link", name="Prediction score").click()
    page.get_by_role("link", name="Prediction score").click()
    expect(page.get_by_role("columnheader", name="Prediction score")).to_have_attribute(
        "aria-sort", "descending"
    )
    assert _ids_shown(page) == ["5", "1", "2", "3", "4"]

    page.get_by_label("Select task 5").check()
    page.get_by_label("Select task 1").check()
    expect(page.locator("#selection-count")).to_have_text("2 tasks selected")
    screenshot(page, "data-manager-selected")
    page.get_by_text("Actions", exact=True).click()
    page.get_by_role("button", name="Create Annotations from Predictions").click()
    dialog = page.get_by_role("dialog", name="Create Annotations from Predictions")
    expect(dialog).to_contain_text("Selected: 2 tasks")
    dialog.get_by_label("Model version").select_option(label="v1 (4 predictions)")
    screenshot(page, "create-annotations-dialog")
    dialog.get_by_role("button", name="Create annotations").click()
    expect(page.get_by_role("status")).to_have_text("Created 2 annotations")
    assert _ids_shown(page) == ["5", "1", "2", "3", "4"], "the view is kept"
    page.set_viewport_size({"width": 1920, "height": 1080})
    screenshot(page, "data-manager-1920")
    page.set_viewport_size({"width": 1280, "height": 800})

    page.get_by_role("link", name="Settings → Predictions").click()
    cards = page.locator(".version-card")
    expect(cards).to_have_count(2)
    v2 = cards.filter(has=page.get_by_role("heading", name="v2"))
    expect(v2.locator("dt:text-is('Predictions') + dd")).to_have_text("3")
    expect(v2).to_contain_text("ago")
    screenshot(page, "predictions-settings")
    v2.get_by_role("button", name="Delete").click()
    page.get_by_role("dialog", name="Delete 3 predictions?").get_by_role(
        "button", name="Delete predictions"
    ).click()
    expect(page.get_by_role("status")).to_have_text("Deleted 3 predictions of v2")
    expect(cards).to_have_count(1)
    screenshot(page, "predictions-settings-after-delete")


def test_the_data_manager_works_from_the_keyboard(
    page: Page, live_url: str, account: WebAccount, tmp_path: Path
) -> None:
    tasks_file = tmp_path / "reviews.json"
    tasks_file.write_bytes(orjson.dumps(TASKS))
    _log_in(page, live_url, account)
    _create_project(page, tasks_file)

    first = page.get_by_label("Select task 1")
    first.focus()
    page.keyboard.press("ArrowDown")
    expect(page.get_by_label("Select task 2")).to_be_focused()
    page.keyboard.press("Space")
    page.keyboard.press("End")
    expect(page.get_by_label("Select task 6")).to_be_focused()
    page.keyboard.press("Space")
    expect(page.locator("#selection-count")).to_have_text("2 tasks selected")

    actions = page.locator("#actions-menu summary")
    actions.focus()
    page.keyboard.press("Enter")
    delete = page.get_by_role("button", name="Delete Annotations")
    delete.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Delete Annotations")
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    page.keyboard.press("Tab")
    expect(dialog.get_by_role("button", name="Delete annotations")).to_be_focused()
    page.keyboard.press("Tab")
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    screenshot(page, "keyboard-dialog")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(actions).to_be_focused()

    page.locator("#select-page").focus()
    page.keyboard.press("Space")
    expect(page.locator("#selection-count")).to_have_text("6 tasks selected")


def test_the_action_dialogs_pick_unversioned_predictions_and_set_run_options(
    page: Page, live_url: str, account: WebAccount, store: Store
) -> None:
    unversioned = [
        _task("Great value", ("", "Positive", 0.9), ("v1", "Negative", 0.2)),
        _task("Broke after two days", ("", "Negative", 0.8)),
        _task("Okay for the price", ("v1", "Positive", 0.6)),
    ]
    project, _ = seed_project(store, unversioned)
    add_prompt_version(store, project, name="sentiment")
    _log_in(page, live_url, account)
    page.goto(f"{live_url}/projects/{project}/data")

    def act(action: str) -> Locator:
        page.locator("#select-page").check()
        page.get_by_text("Actions", exact=True).click()
        page.get_by_role("button", name=action).click()
        return page.get_by_role("dialog", name=action)

    dialog = act("Create Annotations from Predictions")
    dialog.get_by_label("Model version").select_option(label="(no model version) (2 predictions)")
    dialog.get_by_role("button", name="Create annotations").click()
    expect(page.get_by_role("status")).to_have_text("Created 2 annotations")

    dialog = act("Delete Predictions")
    dialog.get_by_label("Model version").select_option(label="(no model version) (2 predictions)")
    screenshot(page, "delete-unversioned-predictions-dialog")
    dialog.get_by_role("button", name="Delete predictions").click()
    expect(page.get_by_role("status")).to_have_text("Deleted 2 predictions")
    with store.session() as session:
        assert session.scalars(select(Prediction.model_version)).all() == ["v1", "v1"]
        assert session.scalar(select(func.count(Annotation.id))) == 2
    assert_stored_counters_exact(store)

    dialog = act("Run prompt on selection")
    expect(dialog.get_by_label("Concurrency")).to_have_value("16")
    dialog.get_by_label("Concurrency").fill("0")
    dialog.get_by_role("button", name="Start run").click()
    expect(dialog).to_be_visible()  # the browser keeps the dialog open: 0 is under the minimum
    dialog.get_by_label("Concurrency").fill("4")
    dialog.get_by_label("Budget in USD (optional)").fill("0")
    dialog.get_by_role("button", name="Start run").click()
    expect(page.get_by_role("alert")).to_have_text("budget_usd: must be a positive amount, got 0.0")

    dialog = act("Run prompt on selection")
    dialog.get_by_label("Concurrency").fill("4")
    dialog.get_by_label("Budget in USD (optional)").fill("1.5")
    screenshot(page, "run-prompt-dialog")
    dialog.get_by_role("button", name="Start run").click()
    expect(page.get_by_role("status")).to_have_text(re.compile(r"Started run \d+ on 3 tasks"))
    with store.session() as session:
        run = session.scalars(select(Run)).one()
        assert (run.options["concurrency"], run.options["budget_usd"]) == (4, 1.5)
