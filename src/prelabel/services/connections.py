"""Provider connections: where a model is served and how to authenticate.

Keys are encrypted with the server secret or named by an environment variable; no function
here returns a key except :func:`connection_api_key`, which the engine calls right before a
request.
"""

from __future__ import annotations

import os
import re
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from prelabel.encryption import SecretBox
from prelabel.errors import ConflictError, NotFoundError, ValidationError
from prelabel.providers.base import STRUCTURED_MODES
from prelabel.providers.embedders import BUNDLED_MODEL
from prelabel.store import PromptVersion, ProviderConnection, get_or_raise

KINDS = ("openai", "anthropic", "local")
#: The connection ``prelabel init`` creates: the bundled model, the default provider.
LOCAL_CONNECTION = "local"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,199}$")
_MODEL_LENGTH = ProviderConnection.__table__.c.default_model.type.length


def add_connection(
    session: Session,
    box: SecretBox,
    *,
    name: str,
    kind: str,
    base_url: str | None = None,
    api_key: str | None = None,
    api_key_env: str | None = None,
    default_model: str | None = None,
    structured_output: str | None = None,
) -> ProviderConnection:
    """A new connection; the key, if given, is stored encrypted and never shown again."""
    _check_name(name)
    if kind not in KINDS:
        raise ValidationError(f"kind: must be one of {', '.join(KINDS)}, got {kind!r}")
    if api_key is not None and api_key_env is not None:
        raise ValidationError("give either an API key or the name of a variable holding it")
    if api_key is not None and not api_key.strip():
        raise ValidationError("api_key: must not be empty")
    if default_model is not None and len(default_model) > _MODEL_LENGTH:
        raise ValidationError(f"default_model: at most {_MODEL_LENGTH} characters")
    if api_key_env is not None and not _ENV_NAME.match(api_key_env):
        raise ValidationError(f"api_key_env: {api_key_env!r} is not an environment variable name")
    if kind == "local" and base_url is None and (api_key or api_key_env):
        raise ValidationError(
            "a local connection with the bundled model needs no key "
            "(give --base-url to use an embeddings endpoint instead)"
        )
    if base_url is not None:
        _check_url(base_url)
    capabilities: dict[str, Any] = {}
    if structured_output is not None:
        if structured_output not in STRUCTURED_MODES:
            raise ValidationError(
                f"structured_output: must be one of {', '.join(STRUCTURED_MODES)}"
            )
        capabilities["structured_output"] = structured_output
    if session.scalar(select(ProviderConnection.id).where(ProviderConnection.name == name)):
        raise ConflictError(f"a provider connection named {name!r} already exists")
    connection = ProviderConnection(
        name=name,
        kind=kind,
        base_url=base_url,
        api_key_encrypted=box.encrypt(api_key) if api_key else None,
        api_key_env=api_key_env,
        default_model=default_model
        or (BUNDLED_MODEL if kind == "local" and base_url is None else None),
        capabilities=capabilities,
    )
    session.add(connection)
    session.flush()
    return connection


def ensure_local_connection(session: Session) -> ProviderConnection:
    """The connection named ``local`` (the bundled embedding model), created on first use."""
    existing = session.scalar(
        select(ProviderConnection).where(ProviderConnection.name == LOCAL_CONNECTION)
    )
    if existing is not None:
        return existing
    connection = ProviderConnection(
        name=LOCAL_CONNECTION, kind="local", default_model=BUNDLED_MODEL, capabilities={}
    )
    session.add(connection)
    session.flush()
    return connection


def list_connections(session: Session) -> list[ProviderConnection]:
    return list(session.scalars(select(ProviderConnection).order_by(ProviderConnection.name)))


def find_connection(session: Session, name: str) -> ProviderConnection:
    connection = session.scalar(select(ProviderConnection).where(ProviderConnection.name == name))
    if connection is None:
        raise NotFoundError(f"no provider connection is named {name!r}")
    return connection


def get_connection(session: Session, connection_id: int) -> ProviderConnection:
    return get_or_raise(session, ProviderConnection, connection_id)


def remove_connection(session: Session, name: str) -> None:
    """Remove the connection named ``name``, if no prompt version uses it."""
    delete_connection(session, find_connection(session, name))


def delete_connection(session: Session, connection: ProviderConnection) -> None:
    """Delete a connection no prompt version uses (their runs would lose their provider)."""
    users = session.scalar(
        select(func.count(PromptVersion.id)).where(PromptVersion.connection_id == connection.id)
    )
    if users:
        raise ConflictError(
            f"provider connection {connection.name!r} is used by {users} prompt version(s); "
            "point them at another connection first"
        )
    session.delete(connection)
    session.flush()


def connection_api_key(connection: ProviderConnection, box: SecretBox) -> str | None:
    """The key to send: decrypted, or read from the named environment variable now."""
    if connection.api_key_encrypted is not None:
        return box.decrypt(connection.api_key_encrypted)
    if connection.api_key_env is None:
        return None
    key = os.environ.get(connection.api_key_env)
    if not key:
        raise ValidationError(
            f"provider connection {connection.name!r} reads its key from "
            f"${connection.api_key_env}, which is not set"
        )
    return key


def _check_name(name: str) -> None:
    if not _NAME.match(name):
        raise ValidationError(
            f"name: {name!r} must be 1-100 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValidationError(f"base_url: {url!r} is not an http(s) URL")
