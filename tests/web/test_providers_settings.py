"""Settings → Model providers: listing, adding and removing provider connections, with a key
that no page ever shows."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from prelabel.encryption import open_secret_box
from prelabel.services.connections import add_connection, connection_api_key
from prelabel.settings import Settings
from prelabel.store import ProviderConnection, Store
from tests.api.label_studio_data import add_prompt_version, seed_project
from tests.web.conftest import csrf_of, flashes, soup

SECRET = "sk-test-VERY-SECRET-0123456789"
PAGE = "/settings/providers"


def _rows(html: str) -> list[list[str]]:
    table = soup(html).select_one("#connections")
    if table is None:
        return []
    return [
        [td.get_text(" ", strip=True) for td in row.select("td")][:5]
        for row in table.select("tbody tr")
    ]


def _names(store: Store) -> list[str]:
    with store.session() as session:
        return list(
            session.scalars(select(ProviderConnection.name).order_by(ProviderConnection.id))
        )


def _add(web: TestClient, **form: Any) -> Any:
    fields = {"name": "", "kind": "openai", "base_url": "", "api_key": "", "api_key_env": ""}
    return web.post(PAGE, data={**fields, "default_model": "", **form, "csrf_token": csrf_of(web)})


def test_every_page_links_to_the_providers_settings(web: TestClient) -> None:
    nav = soup(web.get("/projects").text).select_one("nav[aria-label=Main]")
    assert nav.find("a", string="Model providers")["href"] == PAGE


def test_the_page_lists_each_connection_and_whether_it_has_a_key_never_the_key(
    web: TestClient, store: Store, settings: Settings
) -> None:
    with store.session() as session:
        box = open_secret_box(settings)
        add_connection(
            session,
            box,
            name="openai",
            kind="openai",
            base_url="https://api.openai.com/v1",
            api_key=SECRET,
            default_model="gpt-4o-mini",
        )
        add_connection(session, box, name="claude", kind="anthropic", api_key_env="CLAUDE_KEY")
        add_connection(session, box, name="vllm", kind="openai", base_url="http://gpu:8000/v1")
    response = web.get(PAGE)
    assert _rows(response.text) == [
        ["claude", "anthropic", "—", "—", "from $CLAUDE_KEY"],
        ["openai", "openai", "https://api.openai.com/v1", "gpt-4o-mini", "stored"],
        ["vllm", "openai", "http://gpu:8000/v1", "—", "none"],
    ]
    assert SECRET not in response.text


def test_adding_a_connection_stores_its_key_encrypted_and_lists_it(
    web: TestClient, store: Store, settings: Settings
) -> None:
    response = _add(
        web,
        name="openai",
        base_url="https://api.openai.com/v1",
        api_key=SECRET,
        default_model="gpt-4o-mini",
    )
    assert response.url.path == PAGE
    assert flashes(response.text) == ["Added provider connection openai"]
    assert _rows(response.text) == [
        ["openai", "openai", "https://api.openai.com/v1", "gpt-4o-mini", "stored"]
    ]
    assert SECRET not in response.text
    with store.session() as session:
        connection = session.scalar(select(ProviderConnection))
        assert SECRET.encode() not in (connection.api_key_encrypted or b"")
        assert connection_api_key(connection, open_secret_box(settings)) == SECRET


def test_a_connection_can_read_its_key_from_an_environment_variable(
    web: TestClient, store: Store
) -> None:
    response = _add(web, name="claude", kind="anthropic", api_key_env="CLAUDE_KEY")
    assert _rows(response.text) == [["claude", "anthropic", "—", "—", "from $CLAUDE_KEY"]]


@pytest.mark.parametrize(
    ("form", "message", "field"),
    [
        pytest.param({"name": "has space"}, "must be 1-100 letters", "name", id="bad-name"),
        pytest.param(
            {"name": "x", "base_url": "ftp://host"}, "is not an http(s) URL", "base_url", id="url"
        ),
        pytest.param(
            {"name": "x", "api_key": "", "api_key_env": "NOT-A-NAME"},
            "is not an environment variable name",
            "api_key_env",
            id="env-name",
        ),
        pytest.param(
            {"name": "x", "api_key_env": "OPENAI_KEY"},
            "give either an API key or the name of a variable",
            "api_key",
            id="key-and-variable",
        ),
        pytest.param({"name": "x", "kind": "cohere"}, "kind: must be one of", "kind", id="kind"),
    ],
)
def test_a_refused_connection_shows_the_form_again_without_the_key(
    web: TestClient, store: Store, form: dict[str, str], message: str, field: str
) -> None:
    response = _add(web, **{"api_key": SECRET, "default_model": "my-model", **form})
    assert response.status_code == 400
    page = soup(response.text)
    assert message in page.select_one("#provider-error").get_text()
    invalid = page.select_one(f"[name={field}]")
    assert invalid["aria-invalid"] == "true"
    assert invalid.has_attr("autofocus"), "the focus goes to the field to mend"
    assert len(page.select("[aria-invalid]")) == 1
    assert page.select_one("#provider-name")["value"] == form["name"]
    assert page.select_one("#provider-model")["value"] == "my-model"
    assert page.select_one("#provider-api-key")["value"] == ""
    assert SECRET not in response.text
    assert _names(store) == []


def test_a_name_already_taken_is_refused(web: TestClient, store: Store) -> None:
    _add(web, name="openai", api_key=SECRET)
    response = _add(web, name="openai", api_key=SECRET)
    assert response.status_code == 400
    assert "already exists" in soup(response.text).select_one("#provider-error").get_text()
    assert SECRET not in response.text
    assert _names(store) == ["openai"]


def test_removing_a_connection(web: TestClient, store: Store) -> None:
    _add(web, name="openai", api_key=SECRET)
    _add(web, name="other", api_key_env="OTHER_KEY")
    page = soup(web.get(PAGE).text)
    dialog = page.select_one("dialog[aria-labelledby='remove-provider-1-title']")
    assert dialog.h2.get_text() == "Remove openai?"
    response = web.post(dialog.form["action"], data={"csrf_token": csrf_of(web)})
    assert flashes(response.text) == ["Removed provider connection openai"]
    assert [row[0] for row in _rows(response.text)] == ["other"]
    assert _names(store) == ["other"]


def test_a_connection_a_prompt_uses_is_not_removed(web: TestClient, store: Store) -> None:
    project, _ = seed_project(store, [{"text": "a"}])
    add_prompt_version(store, project)  # on a new connection named local-p
    [connection_id] = _connection_ids(store)
    response = web.post(f"{PAGE}/{connection_id}/delete", data={"csrf_token": csrf_of(web)})
    [message] = flashes(response.text)
    assert "is used by 1 prompt version(s)" in message
    assert _names(store) == ["local-p"]


def test_forms_without_their_csrf_token_are_refused(web: TestClient, store: Store) -> None:
    response = web.post(PAGE, data={"name": "openai", "kind": "openai", "api_key": SECRET})
    assert response.status_code == 403
    _add(web, name="kept")
    assert web.post(f"{PAGE}/1/delete").status_code == 403
    assert _names(store) == ["kept"]


def test_every_input_has_a_label_and_the_key_input_hides_what_is_typed(
    web: TestClient,
) -> None:
    page = soup(web.get(PAGE).text)
    labelled = {label["for"] for label in page.select("label[for]")}
    for element in page.select("input:not([type=hidden]), select, textarea"):
        assert element.get("id") in labelled, element
    assert page.select_one("#provider-api-key")["type"] == "password"


def _connection_ids(store: Store) -> list[int]:
    with store.session() as session:
        return list(session.scalars(select(ProviderConnection.id)))
