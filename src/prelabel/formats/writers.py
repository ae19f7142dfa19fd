"""Streaming writers: Label Studio task objects in, file bytes out.

JSON and JSONL carry every task whole, as Label Studio's snapshot export does with full
prediction bodies. CSV is a flat view for spreadsheets: data fields, then one column per
control holding the answer of the task's reference annotation (its newest ground truth,
else its newest annotation), then bookkeeping columns; predictions are not flattened.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any, BinaryIO, Protocol

import orjson

from prelabel.labeling import LabelConfig

EXPORT_FORMATS = ("json", "jsonl", "csv")
_JSON_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC
_CSV_TAIL = ("annotation_id", "annotator", "ground_truth", "total_annotations", "total_predictions")


class TaskWriter(Protocol):
    def write(self, task: dict[str, Any]) -> None: ...

    def close(self) -> None:
        """Finish the file (closing brackets, flushing); the stream stays open."""


class JsonWriter:
    """A JSON array written one task at a time."""

    def __init__(self, out: BinaryIO) -> None:
        self._out = out
        self._first = True
        out.write(b"[")

    def write(self, task: dict[str, Any]) -> None:
        self._out.write(b"\n" if self._first else b",\n")
        self._out.write(orjson.dumps(task, option=_JSON_OPTIONS))
        self._first = False

    def close(self) -> None:
        self._out.write(b"]\n" if self._first else b"\n]\n")


class JsonlWriter:
    def __init__(self, out: BinaryIO) -> None:
        self._out = out

    def write(self, task: dict[str, Any]) -> None:
        self._out.write(orjson.dumps(task, option=_JSON_OPTIONS | orjson.OPT_APPEND_NEWLINE))

    def close(self) -> None:
        self._out.flush()


class CsvWriter:
    def __init__(self, out: BinaryIO, config: LabelConfig, data_columns: Sequence[str]) -> None:
        self._text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
        self._config = config
        self._data_columns = tuple(data_columns)
        self._writer = csv.writer(self._text)
        self._writer.writerow(("id", *self._data_columns, *config.controls, *_CSV_TAIL))

    def write(self, task: dict[str, Any]) -> None:
        data = task["data"]
        reference = _reference_annotation(task["annotations"])
        answer = self._config.result_to_answer(reference["result"], data) if reference else {}
        self._writer.writerow(
            (
                task["id"],
                *(_cell(data.get(column)) for column in self._data_columns),
                *(_cell(answer.get(name)) for name in self._config.controls),
                reference["id"] if reference else "",
                reference["completed_by"] if reference and reference["completed_by"] else "",
                _cell(reference["ground_truth"]) if reference else "",
                task["total_annotations"],
                task["total_predictions"],
            )
        )

    def close(self) -> None:
        self._text.flush()
        self._text.detach()


def open_writer(
    fmt: str, out: BinaryIO, config: LabelConfig, data_columns: Sequence[str] = ()
) -> TaskWriter:
    """A writer for ``fmt``; CSV needs the data columns up front, since a header comes first."""
    if fmt == "json":
        return JsonWriter(out)
    if fmt == "jsonl":
        return JsonlWriter(out)
    return CsvWriter(out, config, data_columns)


def _reference_annotation(annotations: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    usable = [a for a in annotations if not a["was_cancelled"]]
    if not usable:
        return None
    return max(usable, key=lambda a: (a["ground_truth"], a["created_at"], a["id"]))


def _cell(value: Any) -> str:
    """Text as is; numbers and booleans as JSON; lists and objects as compact JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return orjson.dumps(value).decode()
