"""``/api/prompts/connections``: provider connections, whose keys go in and never come out."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from prelabel.store import ProviderConnection, Store
from tests.api.prompt_builders import KEY, add_connection, add_prompt, reviews_project
from tests.fakes.llm_server import FakeLLMServer

URL = "/api/prompts/connections"


def test_the_key_is_accepted_but_never_returned_or_logged(
    client: TestClient, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    created = client.post(
        URL, json={"name": "openai", "kind": "openai", "api_key": KEY, "default_model": "m"}
    )
    fetched = client.get(f"{URL}/{created.json()['id']}")
    listed = client.get(URL)

    assert created.status_code == 201 and fetched.status_code == 200 and listed.status_code == 200
    assert created.json()["has_api_key"] is True and fetched.json() == created.json()
    assert listed.json() == [created.json()]
    for response in (created, fetched, listed):
        assert KEY not in response.text and "api_key_encrypted" not in response.text
    assert KEY not in caplog.text
    with store.session() as session:
        stored = session.scalars(select(ProviderConnection.api_key_encrypted)).one()
    assert KEY.encode() not in stored


def test_a_connection_may_name_the_variable_holding_its_key(client: TestClient) -> None:
    response = client.post(
        URL,
        json={
            "name": "env",
            "kind": "openai",
            "base_url": "http://127.0.0.1:8000/v1",
            "api_key_env": "OPENAI_API_KEY",
            "capabilities": {"structured_output": "json_object"},
        },
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["has_api_key"], body["api_key_env"]) == (False, "OPENAI_API_KEY")
    assert body["capabilities"] == {"structured_output": "json_object"}


def test_an_unused_connection_is_deleted(client: TestClient, fake_llm: FakeLLMServer) -> None:
    connection_id = add_connection(client, fake_llm)

    deleted = client.delete(f"{URL}/{connection_id}")

    assert deleted.status_code == 204 and deleted.content == b""
    assert client.get(f"{URL}/{connection_id}").status_code == 404
    assert client.get(URL).json() == []


def test_deleting_a_connection_a_version_uses_is_refused(
    client: TestClient, store: Store, fake_llm: FakeLLMServer
) -> None:
    connection_id = add_connection(client, fake_llm)
    add_prompt(client, reviews_project(store), connection_id)

    response = client.delete(f"{URL}/{connection_id}")

    assert response.status_code == 409
    assert "used by 1 prompt version" in response.json()["detail"]
    assert client.get(f"{URL}/{connection_id}").status_code == 200


def test_a_second_connection_with_the_same_name_is_a_conflict(
    client: TestClient, fake_llm: FakeLLMServer
) -> None:
    add_connection(client, fake_llm, name="same")

    response = client.post(URL, json={"name": "same", "kind": "local"})

    assert response.status_code == 409 and "'same' already exists" in response.json()["detail"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        pytest.param({"kind": "gpt"}, "kind", id="unknown-kind"),
        pytest.param({"name": "no spaces"}, "name", id="bad-name"),
        pytest.param({"base_url": "nope"}, "base_url", id="bad-url"),
        pytest.param({"api_key": ""}, "api_key", id="empty-key"),
        pytest.param({"api_key_env": "NOT-A-NAME"}, "api_key_env", id="bad-variable"),
        pytest.param(
            {"capabilities": {"structured_output": "xml"}}, "structured_output", id="bad-mode"
        ),
        pytest.param({"api_key_env": "K" * 201}, "api_key_env", id="long-variable"),
        pytest.param({"default_model": "m" * 201}, "default_model", id="long-model"),
        pytest.param({"apikey": KEY}, "apikey", id="misspelt-field"),
        pytest.param({"name": None}, "name", id="missing-name"),
    ],
)
def test_bad_connection_input_is_a_400_naming_the_field(
    client: TestClient, changes: dict[str, Any], field: str
) -> None:
    response = client.post(URL, json={"name": "c", "kind": "openai", **changes})

    assert response.status_code == 400, response.text
    assert field in response.json()["validation_errors"]
    assert KEY not in response.text
    assert client.get(URL).json() == []


def test_an_unknown_connection_is_a_404(client: TestClient) -> None:
    assert client.get(f"{URL}/999").status_code == 404
    assert client.delete(f"{URL}/999").status_code == 404
