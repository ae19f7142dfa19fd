"""``prelabel task ...``"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from prelabel.cli.context import JsonOption, console, preview, print_json, unit_of_work
from prelabel.services.projects import find_project
from prelabel.services.tasks import list_tasks

app = typer.Typer(help="Look at a project's tasks.", no_args_is_help=True)


@app.command("list")
def list_(
    ctx: typer.Context,
    project: Annotated[str, typer.Argument(help="Project id or exact title.")],
    page: Annotated[int, typer.Option(help="Page number, from 1.")] = 1,
    page_size: Annotated[int, typer.Option(help="Tasks per page (at most 1000).")] = 50,
    json: JsonOption = False,
):
    """List a project's tasks in id order with their counters."""
    with unit_of_work(ctx) as session:
        result = list_tasks(session, find_project(session, project), page=page, page_size=page_size)
    if json:
        print_json(result.tasks)
        return
    table = Table("id", "data", "annotations", "predictions", "model versions")
    for task in result.tasks:
        versions = sorted({p["model_version"] for p in task["predictions"]})
        table.add_row(
            str(task["id"]),
            preview(next(iter(task["data"].values()), "") if task["data"] else ""),
            str(task["total_annotations"]),
            str(task["total_predictions"]),
            ", ".join(versions),
        )
    out = console()
    out.print(table)
    out.print(f"Page {page}: {len(result.tasks)} of {result.total} tasks.")
