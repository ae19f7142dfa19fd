"""``prelabel user ...`` and ``prelabel token ...``: who may use the API and the web pages."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy.orm import Session

from prelabel.cli.context import JsonOption, console, print_json, unit_of_work
from prelabel.errors import NotFoundError
from prelabel.services.serialization import user_payload
from prelabel.services.users import (
    create_token,
    create_user,
    find_user_by_email,
    list_users,
    set_password,
)
from prelabel.store import User

users_app = typer.Typer(
    help="Create and list users; set their web passwords.", no_args_is_help=True
)
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
    password: Annotated[
        bool,
        typer.Option("--password", help="Also set a web password, asked for (or read from stdin)."),
    ] = False,
    json: JsonOption = False,
):
    """Create a user (with --token, their first API token; with --password, a web
    password)."""
    secret = read_password() if password else None
    with unit_of_work(ctx) as session:
        user = create_user(session, email=email, is_admin=admin)
        if secret is not None:
            set_password(session, user, secret)
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


@users_app.command("set-password")
def set_password_(ctx: typer.Context, email: EmailOption):
    """Set a user's password for the web pages: asked for twice on a terminal, else read
    from the first line of stdin. Signs the user out of every web session."""
    secret = read_password()
    with unit_of_work(ctx) as session:
        user = _user(session, email)
        set_password(session, user, secret)
    console().print(f"Password set for {user.email}.")


def read_password() -> str:
    """A password typed twice without echo, or the first line of stdin when it is no
    terminal (for scripts: ``echo "$PASSWORD" | prelabel user set-password ...``)."""
    if sys.stdin.isatty():
        return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))
    return sys.stdin.readline().rstrip("\r\n")


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
        user = _user(session, email)
        issued = create_token(session, user, name=name)
        payload = {"user": user.id, "name": name, "prefix": issued.token.key_prefix}
    if json:
        print_json({**payload, "token": issued.key})
        return
    console().print(f"API token for {user.email} (shown once):")
    console().print(issued.key)


def _user(session: Session, email: str) -> User:
    user = find_user_by_email(session, email)
    if user is None:
        raise NotFoundError(f"no user has e-mail {email.strip().lower()}")
    return user
