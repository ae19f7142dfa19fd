"""``prelabel project ...``"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from prelabel.cli.context import JsonOption, console, print_json, unit_of_work
from prelabel.errors import ValidationError
from prelabel.services.projects import create_project, list_projects
from prelabel.services.serialization import project_payload
from prelabel.services.users import first_admin

app = typer.Typer(help="Create and list projects.", no_args_is_help=True)


@app.command("create")
def create(
    ctx: typer.Context,
    title: Annotated[str, typer.Option(help="Project title (at most 50 characters).")],
    config: Annotated[Path, typer.Option(help="File holding the Label Studio labeling config.")],
    description: Annotated[str, typer.Option(help="What the project is for.")] = "",
    json: JsonOption = False,
):
    """Create a project from a labeling config file."""
    label_config = _read_text(config)
    with unit_of_work(ctx) as session:
        project = create_project(
            session,
            title=title,
            label_config=label_config,
            description=description,
            created_by=first_admin(session),
        )
        payload = project_payload(project)
    if json:
        print_json(payload)
    else:
        console().print(f"Created project {payload['id']}: {payload['title']}")


@app.command("list")
def list_(ctx: typer.Context, json: JsonOption = False):
    """List projects, newest first."""
    with unit_of_work(ctx) as session:
        payloads = [project_payload(project) for project in list_projects(session)]
    if json:
        print_json(payloads)
        return
    table = Table("id", "title", "description", "created")
    for payload in payloads:
        created = payload["created_at"].strftime("%Y-%m-%d %H:%M")
        table.add_row(str(payload["id"]), payload["title"], payload["description"], created)
    console().print(table)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ValidationError(f"config file {path} does not exist") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError(f"cannot read config file {path}: {exc}") from exc
