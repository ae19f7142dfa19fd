"""``prelabel user`` and ``prelabel token``: the accounts, keys and passwords the API and
the web pages accept."""

from __future__ import annotations

import io

import orjson
import pytest
from fastapi.testclient import TestClient

from prelabel.api import create_app
from prelabel.services.users import authenticate_password
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


def test_set_password_reads_stdin_and_lets_the_user_log_in(
    cli, store, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli("user", "create", "--email", "ann@example.com").status == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("a long passphrase\n"))
    result = cli("user", "set-password", "--email", "Ann@example.com")
    assert result.status == 0, result.stderr
    assert result.stdout.strip() == "Password set for ann@example.com."
    with store.session() as session:
        assert authenticate_password(session, "ann@example.com", "a long passphrase")


def test_user_create_with_password_sets_it(cli, store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("a long passphrase\n"))
    assert cli("user", "create", "--email", "bob@example.com", "--password").status == 0
    with store.session() as session:
        assert authenticate_password(session, "bob@example.com", "a long passphrase")


@pytest.mark.parametrize(
    ("email", "typed", "message"),
    [
        pytest.param("ann@example.com", "short\n", "password: at least 8 characters", id="short"),
        pytest.param("nobody@example.com", "a long passphrase\n", "no user has e-mail", id="who"),
    ],
)
def test_set_password_refusals_are_one_line(
    cli, monkeypatch: pytest.MonkeyPatch, email: str, typed: str, message: str
) -> None:
    assert cli("user", "create", "--email", "ann@example.com").status == 0
    monkeypatch.setattr("sys.stdin", io.StringIO(typed))
    result = cli("user", "set-password", "--email", email)
    assert result.status == 1
    assert message in result.stderr
