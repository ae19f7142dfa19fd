"""``prelabel import`` and ``prelabel export``: Label Studio files in and out."""

from __future__ import annotations

import os
import sys
import tempfile
from contextlib import ExitStack
from enum import StrEnum
from pathlib import Path
from typing import Annotated, BinaryIO

import typer

from prelabel.cli.context import JsonOption, console, print_json, settings_of, unit_of_work
from prelabel.errors import ValidationError
from prelabel.formats import detect_format
from prelabel.services.exports import export_tasks
from prelabel.services.imports import import_tasks
from prelabel.services.projects import find_project
from prelabel.services.users import first_admin

ProjectArgument = Annotated[str, typer.Argument(help="Project id or exact title.")]


class ImportFormat(StrEnum):
    json = "json"
    jsonl = "jsonl"
    csv = "csv"
    tsv = "tsv"


class ExportFormat(StrEnum):
    json = "json"
    jsonl = "jsonl"
    csv = "csv"


class SpanOffsets(StrEnum):
    utf16 = "utf16"
    codepoint = "codepoint"


def register(app: typer.Typer) -> None:
    app.command("import")(import_)
    app.command("export")(export)


def import_(
    ctx: typer.Context,
    project: ProjectArgument,
    file: Annotated[Path, typer.Argument(help="Task file, or - for standard input.")],
    format: Annotated[
        ImportFormat | None,
        typer.Option("--format", help="File format; by default taken from the file suffix."),
    ] = None,
    json: JsonOption = False,
):
    """Import tasks (with annotations and predictions) from Label Studio JSON, JSONL, CSV or TSV.

    All or nothing: if any task is invalid, the error names it and nothing is imported.
    """
    fmt = detect_format(str(file), format.value if format else None)
    settings = settings_of(ctx)
    with ExitStack() as stack:
        stream = sys.stdin.buffer if str(file) == "-" else stack.enter_context(_open(file))
        session = stack.enter_context(unit_of_work(ctx))
        target = find_project(session, project)
        summary = import_tasks(
            session,
            target,
            stream,
            fmt=fmt,
            user=first_admin(session),
            batch_size=settings.import_batch_size,
        )
        project_id = target.id
    report = {"project": project_id, **summary.__dict__}
    del report["task_ids"]
    if json:
        print_json(report)
    else:
        console().print(
            f"Imported {summary.task_count} tasks, {summary.annotation_count} annotations and "
            f"{summary.prediction_count} predictions into project {project_id}."
        )


def export(
    ctx: typer.Context,
    project: ProjectArgument,
    format: Annotated[ExportFormat, typer.Option("--format", help="Output format.")] = (
        ExportFormat.json
    ),
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Output file (default: standard output).")
    ] = None,
    span_offsets: Annotated[
        SpanOffsets | None,
        typer.Option(
            help="Re-express span offsets in UTF-16 units or code points (default: as stored)."
        ),
    ] = None,
    json: JsonOption = False,
):
    """Export every task with its annotations and full prediction bodies.

    A file is written under a temporary name and renamed when complete, so a failed export
    never leaves a truncated file behind.
    """
    settings = settings_of(ctx)
    with unit_of_work(ctx) as session:
        target = find_project(session, project)
        options = {
            "fmt": format.value,
            "span_offsets": span_offsets.value if span_offsets else None,
            "batch_size": settings.import_batch_size,
        }
        if output is None:
            count = export_tasks(session, target, sys.stdout.buffer, **options)
        else:
            count = _export_to_file(
                output, lambda out: export_tasks(session, target, out, **options)
            )
        project_id = target.id
    report = {"project": project_id, "tasks": count, "format": format.value, "output": str(output)}
    if output is None:
        console(stderr=True).print(f"Exported {count} tasks.")
    elif json:
        print_json(report)
    else:
        console().print(f"Exported {count} tasks of project {project_id} to {output}.")


def _open(path: Path) -> BinaryIO:
    try:
        return path.open("rb")
    except FileNotFoundError as exc:
        raise ValidationError(f"file {path} does not exist") from exc
    except OSError as exc:
        raise ValidationError(f"cannot read {path}: {exc.strerror}") from exc


def _export_to_file(path: Path, write) -> int:  # type: ignore[no-untyped-def]
    directory = path.resolve().parent
    if not directory.is_dir():
        raise ValidationError(f"directory {directory} does not exist")
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            count = write(out)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
    return count
