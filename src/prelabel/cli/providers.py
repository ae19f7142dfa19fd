"""``prelabel provider ...``: model provider connections."""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import Annotated

import typer
from rich.table import Table

from prelabel.cli.context import JsonOption, console, print_json, settings_of, unit_of_work
from prelabel.encryption import open_secret_box
from prelabel.errors import ValidationError
from prelabel.services.connections import (
    add_connection,
    list_connections,
    remove_connection,
)
from prelabel.services.serialization import connection_payload

app = typer.Typer(help="Add, list and remove model provider connections.", no_args_is_help=True)


class Kind(StrEnum):
    openai = "openai"
    anthropic = "anthropic"
    local = "local"


class StructuredOutput(StrEnum):
    json_schema = "json_schema"
    json_object = "json_object"
    text = "text"


@app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Option(help="A name to refer to the connection by.")],
    kind: Annotated[Kind, typer.Option(help="openai: any OpenAI-compatible endpoint.")],
    base_url: Annotated[
        str | None, typer.Option(help="Endpoint, e.g. http://host:8000/v1.")
    ] = None,
    api_key: Annotated[
        str | None,
        typer.Option(help="API key, stored encrypted; - reads it from standard input."),
    ] = None,
    api_key_env: Annotated[
        str | None, typer.Option(help="Read the key from this environment variable instead.")
    ] = None,
    model: Annotated[str | None, typer.Option(help="Default model for new prompts.")] = None,
    structured_output: Annotated[
        StructuredOutput | None,
        typer.Option(
            help="Best structured-output mode the endpoint supports (default json_schema)."
        ),
    ] = None,
    json: JsonOption = False,
):
    """Add a provider connection. The key is never shown again."""
    if api_key == "-":
        api_key = sys.stdin.readline().strip()
        if not api_key:
            raise ValidationError("no API key on standard input")
    box = open_secret_box(settings_of(ctx))
    with unit_of_work(ctx) as session:
        connection = add_connection(
            session,
            box,
            name=name,
            kind=kind.value,
            base_url=base_url,
            api_key=api_key,
            api_key_env=api_key_env,
            default_model=model,
            structured_output=structured_output.value if structured_output else None,
        )
        payload = connection_payload(connection)
    if json:
        print_json(payload)
    else:
        console().print(f"Added provider connection {payload['name']} ({payload['kind']}).")


@app.command("list")
def list_(ctx: typer.Context, json: JsonOption = False):
    """List provider connections (keys are never shown)."""
    with unit_of_work(ctx) as session:
        payloads = [connection_payload(c) for c in list_connections(session)]
    if json:
        print_json(payloads)
        return
    table = Table("name", "kind", "base url", "default model", "key")
    for p in payloads:
        key = "stored" if p["has_api_key"] else (f"${p['api_key_env']}" if p["api_key_env"] else "")
        table.add_row(p["name"], p["kind"], p["base_url"] or "", p["default_model"] or "", key)
    console().print(table)


@app.command("remove")
def remove(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Connection name.")],
    json: JsonOption = False,
):
    """Remove a connection that no prompt version uses."""
    with unit_of_work(ctx) as session:
        remove_connection(session, name)
    if json:
        print_json({"removed": name})
    else:
        console().print(f"Removed provider connection {name}.")
