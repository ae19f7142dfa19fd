"""``prelabel user`` and ``prelabel token``: the accounts and keys the API accepts."""

from __future__ import annotations

import orjson
from fastapi.testclient import TestClient

from prelabel.api import create_app
from prelabel.settings import Settings
from prelabel.store import Store


def _version_status(settings: Settings, store: Store, key: str) -> int:
    with TestClient(create_app(settings, store=store, run_jobs=False)) as client:
        return client.get("/api/version", headers={"Authorization": f"Token {key}"}).status_code


def test_user_create_with_token_prints_a_key_the_api_accepts(cli, settings, store) -> None:
    result = cli("user", "create", "--email", "Ann@Example.com", "--token", "--json")
    assert result.status == 0, result.stderr
    created = orjson.loads(result.stdout)
    assert created["user"]["email"] == "ann@example.com"
    assert _version_status(settings, store, created["token"]) == 200


def test_token_create_gives_an_existing_user_another_working_key(cli, settings, store) -> None:
    assert cli("user", "create", "--email", "bob@example.com").status == 0
    result = cli("token", "create", "--email", "bob@example.com", "--name", "ci", "--json")
    assert result.status == 0, result.stderr
    issued = orjson.loads(result.stdout)
    assert issued["prefix"] == issued["token"][:8]
    assert _version_status(settings, store, issued["token"]) == 200
    assert _version_status(settings, store, issued["token"][:-1] + "x") == 401


def test_token_create_for_an_unknown_user_fails_with_one_line(cli) -> None:
    result = cli("token", "create", "--email", "nobody@example.com")
    assert result.status == 1
    assert result.stderr.strip() == "error: no user has e-mail nobody@example.com"


def test_user_create_refuses_a_duplicate_or_malformed_email(cli) -> None:
    assert cli("user", "create", "--email", "eve@example.com").status == 0
    duplicate = cli("user", "create", "--email", "EVE@example.com")
    assert duplicate.status == 1 and "already exists" in duplicate.stderr
    malformed = cli("user", "create", "--email", "not-an-address")
    assert malformed.status == 1 and "is not an e-mail address" in malformed.stderr


def test_user_list_shows_every_user(cli) -> None:
    cli("user", "create", "--email", "a@example.com", "--admin")
    cli("user", "create", "--email", "b@example.com")
    listed = orjson.loads(cli("user", "list", "--json").stdout)
    assert [(u["email"], u["is_admin"]) for u in listed] == [
        ("a@example.com", True),
        ("b@example.com", False),
    ]
