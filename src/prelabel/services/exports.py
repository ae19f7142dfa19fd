"""Exporting a project's tasks with full annotation and prediction bodies.

Tasks are read in id order in batches (keyset, never OFFSET), each batch's annotations and
predictions with one query each, as plain rows that the session does not keep, and written
through a streaming writer: memory stays flat and the first bytes go out before the last
task is read.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO, Literal

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from prelabel.errors import ValidationError
from prelabel.formats import EXPORT_FORMATS, open_writer
from prelabel.labeling import LabelConfig
from prelabel.services.projects import project_config
from prelabel.services.tasks import task_payloads
from prelabel.store import Project, Task

SpanOffsets = Literal["utf16", "codepoint"]

#: Bytes a streamed export gathers before handing them on: few enough writes to the
#: socket, little enough memory.
STREAM_CHUNK_BYTES = 256 * 1024


@dataclass(frozen=True)
class ExportSelection:
    """Which tasks an export holds: all of them, or only those with an annotation (a
    cancelled one counts, as in Label Studio); and only ``ids`` when given."""

    only_annotated: bool = False
    ids: tuple[int, ...] | None = None

    def condition(self, project: Project) -> ColumnElement[bool]:
        conditions = [Task.project_id == project.id]
        if self.only_annotated:
            conditions.append(or_(Task.total_annotations > 0, Task.cancelled_annotations > 0))
        if self.ids is not None:
            conditions.append(Task.id.in_(self.ids))
        return and_(*conditions)


def export_format(name: str) -> str:
    """The writer format Label Studio's ``export_type`` names (``JSON``, ``CSV``...)."""
    fmt = name.lower()
    if fmt not in EXPORT_FORMATS:
        supported = ", ".join(known.upper() for known in EXPORT_FORMATS)
        raise ValidationError(f"export_type: {name!r} is not supported; supported: {supported}")
    return fmt


def export_tasks(
    session: Session,
    project: Project,
    out: BinaryIO,
    *,
    fmt: str,
    span_offsets: SpanOffsets | None = None,
    batch_size: int = 2000,
    selection: ExportSelection = ExportSelection(),
) -> int:
    """Write the selected tasks of ``project`` to ``out`` as ``fmt``; returns the number
    written.

    ``span_offsets`` re-expresses Labels spans in UTF-16 units (what Label Studio's frontend
    counts) or code points; None writes them as stored.
    """
    return sum(
        1
        for _ in _write_tasks(
            session,
            project,
            out,
            fmt=fmt,
            span_offsets=span_offsets,
            batch_size=batch_size,
            selection=selection,
        )
    )


def stream_export(
    session: Session,
    project: Project,
    *,
    fmt: str,
    batch_size: int = 2000,
    selection: ExportSelection = ExportSelection(),
    chunk_bytes: int = STREAM_CHUNK_BYTES,
) -> Iterator[bytes]:
    """``export_tasks`` as a stream of byte chunks, for an HTTP response: the first bytes
    leave before the last task is read, and memory holds one batch and one chunk."""
    buffer = io.BytesIO()
    written = _write_tasks(
        session, project, buffer, fmt=fmt, batch_size=batch_size, selection=selection
    )
    for _ in written:
        if buffer.tell() >= chunk_bytes:
            yield _drain(buffer)
    yield _drain(buffer)


def _write_tasks(
    session: Session,
    project: Project,
    out: BinaryIO,
    *,
    fmt: str,
    batch_size: int,
    selection: ExportSelection,
    span_offsets: SpanOffsets | None = None,
) -> Iterator[None]:
    """Write the export to ``out``, yielding after each task; the file is complete (closing
    bracket included) when the iteration ends."""
    config = project_config(project)
    columns = _data_columns(session, selection.condition(project), config) if fmt == "csv" else ()
    writer = open_writer(fmt, out, config, columns)
    for task in iter_task_payloads(session, project, batch_size=batch_size, selection=selection):
        if span_offsets is not None:
            _convert_offsets(task, config, span_offsets)
        writer.write(task)
        yield
    writer.close()


def _drain(buffer: io.BytesIO) -> bytes:
    chunk = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return chunk


def iter_task_payloads(
    session: Session,
    project: Project,
    *,
    batch_size: int = 2000,
    selection: ExportSelection = ExportSelection(),
) -> Iterator[dict[str, Any]]:
    """The selected tasks of ``project`` in id order, as Label Studio's export shapes them."""
    condition = selection.condition(project)
    after = 0
    while True:
        tasks = session.execute(
            select(Task.__table__)
            .where(condition, Task.id > after)
            .order_by(Task.id)
            .limit(batch_size)
        ).all()
        if not tasks:
            return
        yield from task_payloads(session, tasks)
        after = tasks[-1].id


def _data_columns(
    session: Session, condition: ColumnElement[bool], config: LabelConfig
) -> list[str]:
    """CSV columns: the config's data fields first, then any other key seen in task data."""
    columns = dict.fromkeys(field.split(".", 1)[0] for field in config.data_fields)
    for data in session.scalars(
        select(Task.data).where(condition).execution_options(yield_per=2000)
    ):
        columns.update(dict.fromkeys(data))
    return list(columns)


def _convert_offsets(task: dict[str, Any], config: LabelConfig, unit: SpanOffsets) -> None:
    for item in (*task["annotations"], *task["predictions"]):
        item["result"] = config.convert_span_offsets(item["result"], task["data"], unit)
