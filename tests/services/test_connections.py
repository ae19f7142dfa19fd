"""Provider connections: keys encrypted at rest or read from the environment, never shown."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from prelabel.encryption import SecretBox, open_secret_box
from prelabel.errors import ConflictError, PrelabelError, ValidationError
from prelabel.services.connections import (
    add_connection,
    connection_api_key,
    list_connections,
    remove_connection,
)
from prelabel.services.prompts import create_prompt
from prelabel.services.serialization import connection_payload
from prelabel.settings import Settings
from prelabel.store import ProviderConnection
from tests.factories import make_project

KEY = "sk-test-UNMISTAKABLE-1234"


@pytest.fixture
def box() -> SecretBox:
    return SecretBox("server secret for tests")


def test_key_is_stored_encrypted_and_never_in_the_payload(session: Session, box: SecretBox) -> None:
    connection = add_connection(
        session, box, name="openai", kind="openai", api_key=KEY, default_model="gpt-4o-mini"
    )
    stored = session.scalars(select(ProviderConnection.api_key_encrypted)).one()
    assert KEY.encode() not in stored
    payload = connection_payload(connection)
    assert KEY not in repr(payload) and payload["has_api_key"] is True
    assert connection_api_key(connection, box) == KEY


def test_key_from_the_environment_is_read_at_use(
    session: Session, box: SecretBox, monkeypatch: pytest.MonkeyPatch
) -> None:
    connection = add_connection(session, box, name="env", kind="openai", api_key_env="MY_KEY")
    monkeypatch.delenv("MY_KEY", raising=False)
    with pytest.raises(ValidationError, match=r"\$MY_KEY, which is not set"):
        connection_api_key(connection, box)
    monkeypatch.setenv("MY_KEY", KEY)
    assert connection_api_key(connection, box) == KEY


def test_a_different_server_secret_cannot_read_the_key(session: Session, box: SecretBox) -> None:
    connection = add_connection(session, box, name="openai", kind="openai", api_key=KEY)
    with pytest.raises(PrelabelError, match="server secret changed"):
        connection_api_key(connection, SecretBox("another secret"))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        pytest.param({"name": "", "kind": "openai"}, "name", id="empty-name"),
        pytest.param({"name": "x", "kind": "cohere"}, "kind: must be one of", id="unknown-kind"),
        pytest.param(
            {"name": "x", "kind": "openai", "api_key": "k", "api_key_env": "K"},
            "either an API key or",
            id="key-and-env",
        ),
        pytest.param(
            {"name": "x", "kind": "openai", "api_key_env": "1BAD"}, "not an env", id="env"
        ),
        pytest.param({"name": "x", "kind": "openai", "base_url": "ftp://h"}, "http", id="url"),
        pytest.param({"name": "x", "kind": "local", "api_key": "k"}, "needs no", id="local-key"),
        pytest.param(
            {"name": "x", "kind": "openai", "structured_output": "xml"},
            "structured_output",
            id="mode",
        ),
    ],
)
def test_invalid_connection_is_refused(
    session: Session, box: SecretBox, options: dict[str, str], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        add_connection(session, box, **options)
    assert list_connections(session) == []


def test_duplicate_name_conflicts_and_a_used_connection_cannot_be_removed(
    session: Session, box: SecretBox
) -> None:
    connection = add_connection(session, box, name="local", kind="local", default_model="e5")
    with pytest.raises(ConflictError):
        add_connection(session, box, name="local", kind="local")
    create_prompt(
        session, make_project(session), name="p", template="{text}", connection=connection
    )
    with pytest.raises(ConflictError, match="used by 1 prompt version"):
        remove_connection(session, "local")
    add_connection(session, box, name="spare", kind="local")
    remove_connection(session, "spare")
    assert [c.name for c in list_connections(session)] == ["local"]


def test_local_secret_file_is_created_once_and_private(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    token = open_secret_box(settings).encrypt("k")
    path = tmp_path / "secret.key"
    assert path.stat().st_mode & 0o777 == 0o600
    assert open_secret_box(settings).decrypt(token) == "k"
