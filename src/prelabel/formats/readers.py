"""Streaming readers: a task file in, ``RawTask`` objects out, one at a time.

A JSON array is parsed incrementally (ijson), JSONL line by line and CSV/TSV row by row, so
importing a million tasks holds one batch in memory, not the file. Each task carries where it
came from ("task[17]", "line 18", "row 19") so an error can point at it.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any, BinaryIO

import ijson
import orjson

from prelabel.errors import ImportFormatError

FORMATS = ("json", "jsonl", "csv", "tsv")
_SUFFIXES = {".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".tsv": "tsv"}
_CSV_FIELD_LIMIT = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class RawTask:
    """One task object as found in the file, and where it was found."""

    where: str
    value: Any


def detect_format(filename: str, declared: str | None = None) -> str:
    """The import format: the declared one, else the one the file name's suffix implies."""
    if declared is not None:
        fmt = declared.lower()
        if fmt not in FORMATS:
            raise ImportFormatError(f"unknown format {declared!r}; expected one of {FORMATS}")
        return fmt
    suffix = PurePath(filename).suffix.lower()
    if suffix not in _SUFFIXES:
        raise ImportFormatError(
            f"cannot tell the format of {filename!r} from its suffix; "
            f"name it .json, .jsonl, .csv or .tsv, or pass the format"
        )
    return _SUFFIXES[suffix]


def read_tasks(stream: BinaryIO, fmt: str) -> Iterator[RawTask]:
    """Yield the tasks of ``stream`` in file order; malformed files raise ImportFormatError."""
    readers = {"json": _read_json, "jsonl": _read_jsonl, "csv": _read_csv, "tsv": _read_tsv}
    return readers[fmt](stream)


def _read_json(stream: BinaryIO) -> Iterator[RawTask]:
    """A JSON array of tasks (streamed) or a single task object (Label Studio accepts both)."""
    buffered = stream if isinstance(stream, io.BufferedReader) else io.BufferedReader(stream)  # type: ignore[arg-type]
    head = buffered.peek(64).lstrip(codecs.BOM_UTF8).lstrip()
    if head[:1] == b"{":
        try:
            yield RawTask("task[0]", orjson.loads(buffered.read().lstrip(codecs.BOM_UTF8)))
        except orjson.JSONDecodeError as exc:
            raise ImportFormatError(f"not valid JSON: {exc}") from exc
        return
    if head[:1] != b"[":
        raise ImportFormatError("a JSON import must be an array of tasks or one task object")
    index = 0
    try:
        for index, value in enumerate(ijson.items(buffered, "item", use_float=True)):
            yield RawTask(f"task[{index}]", value)
    except (ijson.JSONError, ijson.IncompleteJSONError) as exc:
        raise ImportFormatError(f"not valid JSON after task[{index}]: {exc}") from exc


def _read_jsonl(stream: BinaryIO) -> Iterator[RawTask]:
    for number, line in enumerate(stream, start=1):
        text = line.lstrip(codecs.BOM_UTF8) if number == 1 else line
        if not text.strip():
            continue
        try:
            yield RawTask(f"line {number}", orjson.loads(text))
        except orjson.JSONDecodeError as exc:
            raise ImportFormatError(f"line {number}: not valid JSON: {exc}") from exc


def _read_csv(stream: BinaryIO) -> Iterator[RawTask]:
    return _read_delimited(stream, ",")


def _read_tsv(stream: BinaryIO) -> Iterator[RawTask]:
    return _read_delimited(stream, "\t")


def _read_delimited(stream: BinaryIO, delimiter: str) -> Iterator[RawTask]:
    """Rows become tasks whose data fields are the header's columns (values stay text)."""
    csv.field_size_limit(_CSV_FIELD_LIMIT)
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    reader = csv.reader(text, delimiter=delimiter, strict=True)
    try:
        header = next(reader, None)
        if not header or not any(name.strip() for name in header):
            raise ImportFormatError("the file has no header row naming the data fields")
        _check_header(header)
        for row in reader:
            if not row:
                continue
            if len(row) != len(header):
                raise ImportFormatError(
                    f"row {reader.line_num}: {len(row)} columns, the header has {len(header)}"
                )
            yield RawTask(f"row {reader.line_num}", dict(zip(header, row, strict=True)))
    except csv.Error as exc:
        raise ImportFormatError(f"row {reader.line_num}: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise ImportFormatError(f"the file is not UTF-8 text: {exc}") from exc


def _check_header(header: list[str]) -> None:
    seen: set[str] = set()
    for name in header:
        if not name.strip():
            raise ImportFormatError("the header has an empty column name")
        if name in seen:
            raise ImportFormatError(f"the header names column {name!r} twice")
        seen.add(name)
