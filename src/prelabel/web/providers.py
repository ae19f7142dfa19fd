"""Settings → Model providers: the provider connections, adding one and removing one.

The same services as ``prelabel provider add/list/remove`` and ``/api/prompts/connections``.
A key is write-only: the page says whether one is stored, and a refused form comes back
filled in as it was sent, except for the key, which is never written into a page.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Request
from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session
from starlette.responses import Response

from prelabel.api.deps import RuntimeDep, SessionDep
from prelabel.api.params import Id
from prelabel.errors import ConflictError, ValidationError
from prelabel.services.connections import (
    KINDS,
    add_connection,
    delete_connection,
    get_connection,
    list_connections,
)
from prelabel.store import User
from prelabel.web.errors import refusals_go_back_to
from prelabel.web.rendering import flash, page_path, redirect, render
from prelabel.web.sessions import WebUser

#: What each kind of connection is, as the form's choices say it.
KIND_LABELS = {
    "openai": "OpenAI-compatible (OpenAI, vLLM, Ollama, LM Studio, OpenRouter...)",
    "anthropic": "Anthropic",
    "local": "Local (the bundled model, or an embeddings endpoint)",
}
assert set(KIND_LABELS) == set(KINDS)


class ProviderForm(BaseModel):
    """What the add-connection form holds, as typed; FastAPI reads the posted form into it
    (``Annotated[ProviderForm, Form()]``) and a refused one is shown again from it."""

    model_config = ConfigDict(frozen=True)

    name: str = ""
    kind: str = ""
    base_url: str = ""
    api_key: str = ""
    api_key_env: str = ""
    default_model: str = ""


_EMPTY_FORM = ProviderForm(kind="openai")


def providers_page(request: Request, session: SessionDep, user: WebUser) -> Response:
    return _page(request, session, user, _EMPTY_FORM)


def add_provider(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    user: WebUser,
    form: Annotated[ProviderForm, Form()],
) -> Response:
    """Add the connection; a refusal shows the form again with the reason, the field at
    fault marked, and the key field empty."""
    try:
        with session.begin_nested():
            connection = add_connection(
                session,
                runtime.box,
                name=form.name.strip(),
                kind=form.kind,
                base_url=form.base_url.strip() or None,
                api_key=form.api_key or None,
                api_key_env=form.api_key_env.strip() or None,
                default_model=form.default_model.strip() or None,
            )
    except (ValidationError, ConflictError) as exc:
        without_key = form.model_copy(update={"api_key": ""})
        return _page(request, session, user, without_key, error=exc.message, status_code=400)
    flash(request, "success", f"Added provider connection {connection.name}")
    return redirect(page_path(request, "providers"))


def remove_provider(request: Request, connection_id: Id, session: SessionDep) -> Response:
    """Remove a connection that no prompt version uses; one in use stays, and the page says
    which prompt versions hold it."""
    back = page_path(request, "providers")
    with refusals_go_back_to(back):
        connection = get_connection(session, connection_id)
        name = connection.name
        delete_connection(session, connection)
    flash(request, "success", f"Removed provider connection {name}")
    return redirect(back)


def _page(
    request: Request,
    session: Session,
    user: User,
    form: ProviderForm,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    context: dict[str, Any] = {
        "connections": list_connections(session),
        "kinds": KIND_LABELS,
        "form": form,
        "error": error,
        "error_field": _field_of(error),
    }
    return render(request, "providers.html", context, user=user, status_code=status_code)


def _field_of(message: str | None) -> str | None:
    """The form field a service's message is about: the one it names (``base_url: ...``),
    the name for a taken one, the key for the rules about keys."""
    if message is None:
        return None
    named = message.partition(":")[0]
    if named in ProviderForm.model_fields:
        return named
    if "already exists" in message:
        return "name"
    return "api_key" if "key" in message else None
