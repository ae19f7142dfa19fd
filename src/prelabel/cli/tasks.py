"""``prelabel task``, ``prelabel predictions`` and ``prelabel annotations``: the Data Manager
from the command line — list, filter and order tasks, and act on a selection of them."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from prelabel.cli.context import JsonOption, console, preview, print_json, unit_of_work
from prelabel.errors import ValidationError
from prelabel.services.actions import (
    delete_selected_annotations,
    delete_selected_predictions,
    predictions_to_annotations,
)
from prelabel.services.predictions import delete_model_version, list_model_versions
from prelabel.services.projects import find_project
from prelabel.services.task_queries import typed_filter
from prelabel.services.tasks import TaskQuery, list_tasks
from prelabel.services.users import first_admin
from prelabel.store.task_filters import Filter, Filters, Selection

app = typer.Typer(help="Look at a project's tasks: filter, order, page.", no_args_is_help=True)
predictions_app = typer.Typer(help="Model versions of predictions; delete them.")
annotations_app = typer.Typer(help="Create annotations from predictions; delete annotations.")

ProjectArgument = Annotated[str, typer.Argument(help="Project id or exact title.")]
FilterOption = Annotated[
    list[str] | None,
    typer.Option(
        "--filter",
        help="COLUMN:OPERATOR:VALUE, e.g. total_predictions:greater:0, data.text:contains:refund, "
        'predictions_model_versions:contains:p__v1, id:in:{"min":1,"max":9}. Repeatable.',
    ),
]
AnyOption = Annotated[
    bool, typer.Option("--any", help="Keep tasks matching any filter, not all of them.")
]
TasksOption = Annotated[
    str, typer.Option("--tasks", help="all (after the filters), or task ids: 1,2,3.")
]
ALL_COLUMNS = (
    "id,data,total_annotations,total_predictions,predictions_score,"
    "predictions_model_versions,has_ground_truth,agreement"
)


@app.command("list")
def list_(
    ctx: typer.Context,
    project: ProjectArgument,
    filter_: FilterOption = None,
    any_: AnyOption = False,
    order: Annotated[
        str | None, typer.Option(help="Column to order by; -COLUMN for descending.")
    ] = None,
    score_version: Annotated[
        str | None, typer.Option(help="Prediction score of this model version only.")
    ] = None,
    columns: Annotated[str, typer.Option(help="Comma-separated columns to show.")] = ALL_COLUMNS,
    page: Annotated[int, typer.Option(help="Page number, from 1.")] = 1,
    page_size: Annotated[int, typer.Option(help="Tasks per page (at most 1000).")] = 50,
    json: JsonOption = False,
):
    """List a project's tasks with their counters, scores, model versions and agreement."""
    query = TaskQuery(_filters(filter_, any_), ordering=order, score_version=score_version)
    with unit_of_work(ctx) as session:
        result = list_tasks(
            session, find_project(session, project), page=page, page_size=page_size, query=query
        )
    if json:
        print_json(result.tasks)
        return
    shown = [name.strip() for name in columns.split(",") if name.strip()]
    table = Table(*shown)
    for task in result.tasks:
        table.add_row(*(_cell(task, name) for name in shown))
    out = console()
    out.print(table)
    out.print(f"Page {page}: {len(result.tasks)} of {result.total} tasks.")


@predictions_app.command("versions")
def versions(ctx: typer.Context, project: ProjectArgument, json: JsonOption = False):
    """List the model versions of a project's predictions: count and newest, newest first."""
    with unit_of_work(ctx) as session:
        rows = list_model_versions(session, find_project(session, project))
    if json:
        print_json(rows)
        return
    table = Table("model version", "predictions", "last created", "prompt version")
    for row in rows:
        table.add_row(
            row["model_version"],
            str(row["count"]),
            row["latest"].strftime("%Y-%m-%d %H:%M"),
            str(row["prompt_version"] or ""),
        )
    console().print(table)


@predictions_app.command("delete")
def delete_predictions_(
    ctx: typer.Context,
    project: ProjectArgument,
    version: Annotated[
        str | None, typer.Option("--version", help="Only this model version's predictions.")
    ] = None,
    tasks: TasksOption = "all",
    filter_: FilterOption = None,
    any_: AnyOption = False,
    json: JsonOption = False,
):
    """Delete the predictions of the selected tasks (every version, or only --version)."""
    query = TaskQuery(_filters(filter_, any_), _selection(tasks))
    with unit_of_work(ctx) as session:
        chosen = find_project(session, project)
        if version is not None and query == TaskQuery():
            deleted = delete_model_version(session, chosen, version)
        else:
            deleted = delete_selected_predictions(session, chosen, query, model_version=version)
    _report(json, {"deleted_predictions": deleted}, f"Deleted {deleted} prediction(s).")


@annotations_app.command("from-predictions")
def from_predictions(
    ctx: typer.Context,
    project: ProjectArgument,
    version: Annotated[str, typer.Option("--version", help="Model version to accept.")],
    tasks: TasksOption = "all",
    filter_: FilterOption = None,
    any_: AnyOption = False,
    json: JsonOption = False,
):
    """Turn each selected task's prediction of a model version into an annotation."""
    query = TaskQuery(_filters(filter_, any_), _selection(tasks))
    with unit_of_work(ctx) as session:
        created = predictions_to_annotations(
            session,
            find_project(session, project),
            query,
            model_version=version,
            user=first_admin(session),
        )
    _report(json, {"created_annotations": created}, f"Created {created} annotation(s).")


@annotations_app.command("delete")
def delete_annotations_(
    ctx: typer.Context,
    project: ProjectArgument,
    annotator: Annotated[
        int | None, typer.Option(help="Only this user's annotations (user id).")
    ] = None,
    tasks: TasksOption = "all",
    filter_: FilterOption = None,
    any_: AnyOption = False,
    json: JsonOption = False,
):
    """Delete the annotations of the selected tasks (every annotator's, or one's)."""
    query = TaskQuery(_filters(filter_, any_), _selection(tasks))
    with unit_of_work(ctx) as session:
        deleted = delete_selected_annotations(
            session, find_project(session, project), query, annotator=annotator
        )
    _report(json, {"deleted_annotations": deleted}, f"Deleted {deleted} annotation(s).")


def _filters(expressions: list[str] | None, any_: bool) -> Filters:
    items = tuple(_filter(text) for text in expressions or ())
    return Filters("or" if any_ else "and", items)


def _filter(text: str) -> Filter:
    """``COLUMN:OPERATOR:VALUE``; the value is read as JSON when it is JSON, else as text."""
    column, _, rest = text.partition(":")
    operator, _, raw = rest.partition(":")
    if not column or not operator:
        raise ValidationError(f"filter: {text!r} is not COLUMN:OPERATOR:VALUE")
    return typed_filter(column, operator, raw)


def _selection(tasks: str) -> Selection:
    if tasks.strip() == "all":
        return Selection()
    try:
        ids = tuple(int(part) for part in tasks.split(","))
    except ValueError:
        raise ValidationError(f"tasks: {tasks!r} is neither all nor task ids like 1,2,3") from None
    return Selection(all=False, ids=ids)


def _cell(task: dict[str, Any], name: str) -> str:
    if name == "data":
        return preview(next(iter(task["data"].values()), "") if task["data"] else "", 50)
    if name.startswith("data."):
        return preview(task["data"].get(name[5:], ""), 50)
    value = task.get(name)
    if name == "agreement":
        return ", ".join(f"{k}: {v:.0%}" for k, v in value.items() if v is not None)
    if isinstance(value, float):
        return f"{value:.3f}"
    return "" if value is None else str(value)


def _report(json: bool, payload: dict[str, Any], message: str) -> None:
    if json:
        print_json(payload)
    else:
        console().print(message)
