"""The task page and Settings → Model providers in a real headless Chromium, by mouse and by
keyboard: accept a prediction, edit a choice, mark the ground truth, move to the next task,
then add, refuse and remove a provider connection. Screenshots go to tests/artifacts/."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from prelabel.store import Store
from tests.api.label_studio_data import seed_project
from tests.web.conftest import WebAccount, screenshot
from tests.web.test_task_page import predictions_of_v1_and_v2

pytestmark = [
    pytest.mark.xdist_group("browser"),
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Labels name="ner" toName="text">
    <Label value="PER" background="#ff0000"/><Label value="ORG"/>
  </Labels>
  <Choices name="sentiment" toName="text">
    <Choice value="Positive"/><Choice value="Negative"/>
  </Choices>
</View>"""
TEXT = "Ann joined Acme in Paris, and the new office opened in spring."
SECRET = "sk-browser-SECRET-42"
TASKS = [
    {"data": {"text": TEXT}, "predictions": predictions_of_v1_and_v2(TEXT, 0.82, 0.35)},
    {"data": {"text": "A second review."}},
]


def _fits_the_window(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_a_user_reviews_a_task_and_manages_provider_connections(
    page: Page, live_url: str, account: WebAccount, store: Store
) -> None:
    project, [first, second] = seed_project(store, TASKS, config=CONFIG)
    page.goto(f"{live_url}/projects/{project}/data")
    page.get_by_label("E-mail").fill(account.email)
    page.get_by_label("Password").fill(account.password)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name=str(first), exact=True).click()
    expect(page.get_by_role("heading", name=f"Task {first}")).to_be_visible()

    # Nothing is annotated yet: the first prediction's spans are highlighted, PER in the
    # config's red, the predictions grayed under their model versions with their scores.
    marks = page.locator("#data .object-body mark.span")
    expect(marks).to_have_count(2)
    colour = marks.first.evaluate("element => getComputedStyle(element).boxShadow")
    assert "rgb(255, 0, 0)" in colour
    v1 = page.locator(".model-version").filter(has=page.get_by_role("heading", name="v1"))
    expect(v1.locator(".score")).to_have_text("score 0.82")
    assert _fits_the_window(page)
    screenshot(page, "task-page")

    v1.get_by_role("button", name="Accept").click()
    expect(page.get_by_role("status")).to_have_text(
        "Accepted the prediction of v1 as annotation #1"
    )
    expect(page.locator("#annotation-count")).to_have_text("1 annotation")
    annotation = page.locator("#annotation-1")
    expect(annotation.locator(".answers")).to_contain_text("Negative")
    expect(v1).to_contain_text("Accepted as annotation #1")

    # Edit the choice from the keyboard: the dialog keeps the focus and Escape gives it back.
    edit = annotation.get_by_role("button", name="Edit answers")
    edit.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Edit annotation #1")
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(edit).to_be_focused()
    page.keyboard.press("Enter")
    save = dialog.get_by_role("button", name="Save")
    save.focus()
    page.keyboard.press("Tab")
    expect(dialog.get_by_role("radio").first).to_be_focused()
    dialog.get_by_label("Positive").check()
    screenshot(page, "task-page-edit-dialog")
    save.click()
    expect(page.get_by_role("status")).to_have_text("Saved annotation #1")
    expect(annotation.locator(".answers")).to_contain_text("Positive")

    annotation.get_by_role("button", name="Mark as ground truth").click()
    expect(page.get_by_role("status")).to_have_text("Annotation #1 is now the ground truth")
    expect(annotation.locator(".badge.truth")).to_have_text("Ground truth")
    page.set_viewport_size({"width": 1920, "height": 1080})
    assert _fits_the_window(page)
    screenshot(page, "task-page-1920")
    page.set_viewport_size({"width": 1280, "height": 800})

    page.get_by_role("link", name="Next task →").click()
    expect(page.get_by_role("heading", name=f"Task {second}")).to_be_visible()
    expect(page.get_by_role("link", name="Next task →")).to_have_count(0)

    # Settings → Model providers, from the main navigation.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Model providers").click()
    page.get_by_label("Name").fill("openai")
    page.get_by_label("Base URL").fill("https://api.openai.com/v1")
    page.get_by_label("API key").fill(SECRET)
    page.get_by_label("Default model").fill("gpt-4o-mini")
    page.get_by_role("button", name="Add connection").click()
    expect(page.get_by_role("status")).to_have_text("Added provider connection openai")
    row = page.locator("#connections tbody tr").filter(has_text="openai")
    expect(row).to_contain_text("stored")
    assert SECRET not in page.content()

    # A variable name the browser can tell is wrong is refused before it is sent.
    page.get_by_label("Name").fill("claude")
    page.get_by_label("Kind").select_option("anthropic")
    variable = page.get_by_label("Or the environment variable holding the key")
    variable.fill("NOT-A-NAME")
    page.get_by_role("button", name="Add connection").click()
    expect(variable).to_be_focused()
    assert variable.evaluate("input => input.validity.patternMismatch")
    expect(page.locator("#connections tbody tr")).to_have_count(1)
    assert _fits_the_window(page)

    remove = page.get_by_role("button", name="Remove openai")
    remove.click()
    confirm = page.get_by_role("dialog", name="Remove openai?")
    expect(confirm.get_by_role("button", name="Cancel")).to_be_focused()
    screenshot(page, "providers-remove-dialog")
    page.keyboard.press("Escape")
    expect(confirm).to_be_hidden()
    expect(remove).to_be_focused()
    remove.click()
    confirm.get_by_role("button", name="Remove connection").click()
    expect(page.get_by_role("status")).to_have_text("Removed provider connection openai")
    expect(page.locator("#connections")).to_have_count(0)
    expect(page).to_have_url(re.compile(r"/settings/providers$"))
    screenshot(page, "providers")
