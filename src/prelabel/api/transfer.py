"""Label Studio's import and export: tasks in (a JSON body or a file), predictions in, a
project's tasks out as a streamed file.

An import body is copied once, chunk by chunk, into a temporary file that stays in memory
while small and moves to disk when large, and the importer reads that file incrementally:
the body is never held as bytes, text and parsed objects at once. The export streams too,
reading the project in batches in its own unit of work, since the request's session is
closed when the handler returns, before the first byte is sent.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Annotated, Any, BinaryIO

from fastapi import Body, Depends, Query, Request
from fastapi.responses import StreamingResponse
from starlette.datastructures import UploadFile

from prelabel.api.deps import CurrentUser, SessionDep, SettingsDep
from prelabel.api.params import Id
from prelabel.api.responses import JSONBody
from prelabel.errors import ValidationError
from prelabel.formats import detect_format
from prelabel.services import imports
from prelabel.services.exports import ExportSelection, export_format, stream_export
from prelabel.services.projects import get_project
from prelabel.services.serialization import import_result_payload
from prelabel.store import Store
from prelabel.store.types import utcnow

#: Body bytes kept in memory before the copy moves to a file on disk.
SPOOL_BYTES = 8 * 1024 * 1024

_MEDIA_TYPES = {"json": "application/json", "jsonl": "application/x-ndjson", "csv": "text/csv"}


@dataclass(frozen=True)
class Upload:
    """The tasks a request carries and their format."""

    stream: BinaryIO
    fmt: str


async def read_upload(request: Request) -> AsyncIterator[Upload]:
    """A multipart file (its format from its name: .json, .jsonl, .csv, .tsv), else the body
    as JSON: an array of tasks or one task."""
    content_type = request.headers.get("content-type", "").lower()
    if content_type.startswith("multipart/form-data"):
        async with request.form() as form:
            files = [value for _, value in form.multi_items() if isinstance(value, UploadFile)]
            if len(files) != 1:
                raise ValidationError(
                    f"file: send one file (.json, .jsonl, .csv or .tsv), got {len(files)}"
                )
            yield Upload(files[0].file, detect_format(files[0].filename or ""))
        return
    if content_type.startswith("application/x-www-form-urlencoded"):
        raise ValidationError(
            "body: importing from a URL is not supported; send the tasks as a JSON body or a file"
        )
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
        async for chunk in request.stream():
            spool.write(chunk)
        spool.seek(0)
        yield Upload(spool, "json")  # type: ignore[arg-type]


UploadDep = Annotated[Upload, Depends(read_upload)]

#: The import body, for the OpenAPI schema (the handler reads the request itself).
IMPORT_BODY = {
    "requestBody": {
        "description": "Tasks: a JSON array, one task object, or a multipart file.",
        "content": {
            "application/json": {
                "schema": {"type": "array", "items": {"type": "object"}},
            },
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            },
        },
    }
}


def import_tasks(
    project_id: Id,
    session: SessionDep,
    user: CurrentUser,
    settings: SettingsDep,
    upload: UploadDep,
    commit_to_project: Annotated[
        bool, Query(description="false: check the tasks and report, store nothing.")
    ] = True,
    return_task_ids: bool = False,
    preannotated_from_fields: Annotated[
        list[str] | None,
        Query(description="Data fields holding a flat answer for the control of that name."),
    ] = None,
) -> JSONBody:
    """All or nothing: a bad task is a 400 naming it, and nothing is stored."""
    started = time.perf_counter()
    run = imports.import_tasks if commit_to_project else imports.check_import
    summary = run(
        session,
        get_project(session, project_id),
        upload.stream,
        fmt=upload.fmt,
        user=user,
        batch_size=settings.import_batch_size,
        return_task_ids=return_task_ids,
        preannotated_from_fields=preannotated_from_fields or (),
    )
    return JSONBody(
        import_result_payload(summary, duration=time.perf_counter() - started), status_code=201
    )


def import_predictions(
    project_id: Id,
    session: SessionDep,
    items: Annotated[
        list[Any],
        Body(description='[{"task": <id>, "result": [...], "score"?, "model_version"?}, ...]'),
    ],
) -> JSONBody:
    """All or nothing: an item naming a task outside the project, or with a result the
    config refuses, is a 400 naming it."""
    created = imports.import_predictions(session, get_project(session, project_id), items)
    return JSONBody({"created": created}, status_code=201)


def get_store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def export_tasks(
    project_id: Id,
    session: SessionDep,
    settings: SettingsDep,
    store: Annotated[Store, Depends(get_store)],
    export_type: Annotated[str | None, Query(description="JSON (default), JSONL or CSV.")] = None,
    export_type_camel: Annotated[
        str | None, Query(alias="exportType", description="Same as export_type.")
    ] = None,
    download_all_tasks: Annotated[
        bool, Query(description="false: only tasks with an annotation (cancelled ones count).")
    ] = False,
    ids: Annotated[list[Id] | None, Query(description="Only these tasks.")] = None,
    ids_brackets: Annotated[
        list[Id] | None, Query(alias="ids[]", description="Same as ids.")
    ] = None,
) -> StreamingResponse:
    """The tasks as a file, streamed; predictions are whole objects, not ids."""
    project = get_project(session, project_id)
    fmt = export_format(export_type or export_type_camel or "JSON")
    chosen = [*(ids or ()), *(ids_brackets or ())]
    selection = ExportSelection(
        only_annotated=not download_all_tasks, ids=tuple(chosen) if chosen else None
    )
    filename = f"project-{project.id}-at-{utcnow():%Y-%m-%d-%H-%M-%S}.{fmt}"
    return StreamingResponse(
        _export_stream(
            store, project.id, fmt=fmt, selection=selection, batch_size=settings.import_batch_size
        ),
        media_type=_MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _export_stream(store: Store, project_id: int, **options: Any) -> Iterator[bytes]:
    with store.session() as session:
        yield from stream_export(session, get_project(session, project_id), **options)
