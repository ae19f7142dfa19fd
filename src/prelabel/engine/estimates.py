"""How long an answer will be, in tokens, before any is seen: read from the answer schema.

The run estimate, the budget cap and the tokens-per-minute pacer all need the completion's size
before the call. A schema of choices bounds it exactly (the longest answer names every longest
option); free text and span lists have no bound but ``max_tokens``, so they get a typical size
and a generous ceiling. Sizes are counted in characters of compact JSON and turned into tokens
the way ``estimate_tokens`` counts Latin text, 4 characters a token.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

# Free text (a TextArea, a span's text) in characters: typical and ceiling.
_TEXT_CHARS = (60, 1600)
# How many items an open-ended list (spans) holds: typical and ceiling.
_LIST_ITEMS = (2, 20)
_NUMBER_CHARS = (1, 3, 10)
_NULL_CHARS = 4
_CHARS_PER_TOKEN = 4


@dataclass(frozen=True)
class TokenRange:
    """A count of tokens known within bounds: ``low <= expected <= high``."""

    low: int
    expected: int
    high: int


def answer_tokens(schema: Mapping[str, Any], max_tokens: int | None = None) -> TokenRange:
    """The tokens of an answer to ``schema``: shortest, typical and longest possible.

    ``max_tokens`` caps all three, since the model stops there whatever the schema allows.
    """
    low, expected, high = (_tokens(chars) for chars in _chars(schema))
    if max_tokens is not None:
        low, expected, high = (min(value, max_tokens) for value in (low, expected, high))
    return TokenRange(low, expected, high)


def _tokens(chars: float) -> int:
    return max(1, math.ceil(chars / _CHARS_PER_TOKEN))


def _chars(schema: Mapping[str, Any]) -> tuple[float, float, float]:
    """Characters of the compact JSON of a value of ``schema``: (shortest, typical, longest)."""
    types = schema.get("type")
    types = [types] if isinstance(types, str) else list(types or [])
    nullable = "null" in types
    if "enum" in schema and schema["enum"]:
        sizes = [len(orjson.dumps(value)) for value in schema["enum"]]
        shape = (min(sizes), sum(sizes) / len(sizes), max(sizes))
    elif "object" in types:
        shape = _object(schema)
    elif "array" in types:
        shape = _array(schema)
    elif "string" in types:
        shape = (2, 2 + _TEXT_CHARS[0], 2 + _TEXT_CHARS[1])
    elif "integer" in types or "number" in types:
        shape = _NUMBER_CHARS
    else:
        shape = (_NULL_CHARS, _NULL_CHARS, _NULL_CHARS)
    if nullable:
        return (min(shape[0], _NULL_CHARS), shape[1], max(shape[2], _NULL_CHARS))
    return shape


def _object(schema: Mapping[str, Any]) -> tuple[float, float, float]:
    properties = schema.get("properties", {})
    # The braces, less the comma the last property does not have.
    totals = [2.0 - bool(properties)] * 3
    for name, value in properties.items():
        key = len(orjson.dumps(name)) + 2  # the key, its colon and the comma after it
        for index, size in enumerate(_chars(value)):
            totals[index] += key + size
    return totals[0], totals[1], totals[2]


def _array(schema: Mapping[str, Any]) -> tuple[float, float, float]:
    items = schema.get("items", {})
    low, expected, high = _chars(items)
    enum = items.get("enum")
    typical, most = (1, len(enum)) if enum else _LIST_ITEMS
    if enum:
        # Every option once at most: the longest list is every option, not the longest n times.
        high = float(sum(len(orjson.dumps(value)) for value in enum)) / len(enum)
    return 2.0, 2 + typical * (expected + 1), 2 + most * (high + 1)
