"""Exporting a project's tasks with full annotation and prediction bodies.

Tasks are read in id order in batches (keyset, never OFFSET), each batch's annotations and
predictions with one query each, as plain rows that the session does not keep, and written
through a streaming writer: memory stays flat and the first bytes go out before the last
task is read.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, BinaryIO, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from prelabel.formats import open_writer
from prelabel.labeling import LabelConfig
from prelabel.services.projects import project_config
from prelabel.services.tasks import task_payloads
from prelabel.store import Project, Task

SpanOffsets = Literal["utf16", "codepoint"]


def export_tasks(
    session: Session,
    project: Project,
    out: BinaryIO,
    *,
    fmt: str,
    span_offsets: SpanOffsets | None = None,
    batch_size: int = 2000,
) -> int:
    """Write every task of ``project`` to ``out`` as ``fmt``; returns the number written.

    ``span_offsets`` re-expresses Labels spans in UTF-16 units (what Label Studio's frontend
    counts) or code points; None writes them as stored.
    """
    config = project_config(project)
    columns = _data_columns(session, project, config) if fmt == "csv" else ()
    writer = open_writer(fmt, out, config, columns)
    written = 0
    for task in iter_task_payloads(session, project, batch_size=batch_size):
        if span_offsets is not None:
            _convert_offsets(task, config, span_offsets)
        writer.write(task)
        written += 1
    writer.close()
    return written


def iter_task_payloads(
    session: Session, project: Project, *, batch_size: int = 2000
) -> Iterator[dict[str, Any]]:
    """Every task of ``project`` in id order, as Label Studio's export shapes it."""
    after = 0
    while True:
        tasks = session.execute(
            select(Task.__table__)
            .where(Task.project_id == project.id, Task.id > after)
            .order_by(Task.id)
            .limit(batch_size)
        ).all()
        if not tasks:
            return
        yield from task_payloads(session, tasks)
        after = tasks[-1].id


def _data_columns(session: Session, project: Project, config: LabelConfig) -> list[str]:
    """CSV columns: the config's data fields first, then any other key seen in task data."""
    columns = dict.fromkeys(field.split(".", 1)[0] for field in config.data_fields)
    for data in session.scalars(
        select(Task.data).where(Task.project_id == project.id).execution_options(yield_per=2000)
    ):
        columns.update(dict.fromkeys(data))
    return list(columns)


def _convert_offsets(task: dict[str, Any], config: LabelConfig, unit: SpanOffsets) -> None:
    for item in (*task["annotations"], *task["predictions"]):
        item["result"] = config.convert_span_offsets(item["result"], task["data"], unit)
