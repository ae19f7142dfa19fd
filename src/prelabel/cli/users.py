"""``prelabel user ...`` and ``prelabel token ...``: who may use the API."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from prelabel.cli.context import JsonOption, console, print_json, unit_of_work
from prelabel.errors import NotFoundError
from prelabel.services.serialization import user_payload
from prelabel.services.users import create_token, create_user, find_user_by_email, list_users

users_app = typer.Typer(help="Create and list users.", no_args_is_help=True)
tokens_app = typer.Typer(help="Create API tokens.", no_args_is_help=True)

EmailOption = Annotated[str, typer.Option(help="The user's e-mail address.")]


@users_app.command("create")
def create(
    ctx: typer.Context,
    email: EmailOption,
    admin: Annotated[bool, typer.Option("--admin", help="Make the user an admin.")] = False,
    token: Annotated[
        bool, typer.Option("--token", help="Also create an API token and print it once.")
    ] = False,
    json: JsonOption = False,
):
    """Create a user (and, with --token, their first API token)."""
    with unit_of_work(ctx) as session:
        user = create_user(session, email=email, is_admin=admin)
        issued = create_token(session, user, name="created with the user") if token else None
        payload = {"user": user_payload(user), "token": issued.key if issued else None}
    if json:
        print_json(payload)
        return
    out = console()
    out.print(f"Created user {payload['user']['email']} (id {payload['user']['id']}).")
    if issued is not None:
        out.print("API token (shown once):")
        out.print(issued.key)


@users_app.command("list")
def list_(ctx: typer.Context, json: JsonOption = False):
    """List users."""
    with unit_of_work(ctx) as session:
        payloads = [user_payload(user) for user in list_users(session)]
    if json:
        print_json(payloads)
        return
    table = Table("id", "email", "admin")
    for payload in payloads:
        table.add_row(str(payload["id"]), payload["email"], "yes" if payload["is_admin"] else "")
    console().print(table)


@tokens_app.command("create")
def create_api_token(
    ctx: typer.Context,
    email: EmailOption,
    name: Annotated[str, typer.Option(help="What the token is for.")] = "",
    json: JsonOption = False,
):
    """Create an API token for a user and print it once (only its digest is stored)."""
    with unit_of_work(ctx) as session:
        user = find_user_by_email(session, email)
        if user is None:
            raise NotFoundError(f"no user has e-mail {email.strip().lower()}")
        issued = create_token(session, user, name=name)
        payload = {"user": user.id, "name": name, "prefix": issued.token.key_prefix}
    if json:
        print_json({**payload, "token": issued.key})
        return
    console().print(f"API token for {user.email} (shown once):")
    console().print(issued.key)
