"""What every command shares: the settings, a unit of work on the store, and output."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import orjson
import pydantic
import typer
from rich.console import Console
from sqlalchemy.orm import Session

from prelabel.errors import ValidationError
from prelabel.settings import Settings
from prelabel.store import Store

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def global_options(
    ctx: typer.Context,
    data_dir: Annotated[
        Path | None,
        typer.Option(help="Data directory (overrides PRELABEL_DATA_DIR).", show_default=False),
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option(help="Database URL (overrides PRELABEL_DATABASE_URL).", show_default=False),
    ] = None,
) -> None:
    overrides = {"data_dir": data_dir, "database_url": database_url}
    try:
        ctx.obj = Settings(**{k: v for k, v in overrides.items() if v is not None})
    except pydantic.ValidationError as exc:
        error = exc.errors()[0]
        name = f"PRELABEL_{str(error['loc'][0]).upper()}" if error["loc"] else "a setting"
        raise ValidationError(f"{name}: {error['msg']}") from None


def settings_of(ctx: typer.Context) -> Settings:
    settings: Settings = ctx.find_root().obj
    return settings


@contextmanager
def unit_of_work(ctx: typer.Context, *, create: bool = False) -> Iterator[Session]:
    """A session on the configured store, committed if the command succeeds."""
    store = Store.open(settings_of(ctx), create=create)
    try:
        with store.session() as session:
            yield session
    finally:
        store.close()


def print_json(value: Any) -> None:
    options = orjson.OPT_INDENT_2 | orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC
    sys.stdout.write(orjson.dumps(value, option=options).decode() + "\n")
    sys.stdout.flush()


def console(*, stderr: bool = False) -> Console:
    return Console(stderr=stderr, highlight=False, soft_wrap=False)


def preview(value: Any, width: int = 70) -> str:
    """One line of at most ``width`` characters, for table cells."""
    text = " ".join(str(value).split())
    return text if len(text) <= width else text[: width - 1] + "…"
