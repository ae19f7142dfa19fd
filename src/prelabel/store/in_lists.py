"""IN lists of a few lengths, so that a long run does not fill SQLite's statement caches.

SQLite compiles each distinct statement text once and keeps the compiled statement in its
connection's cache (Python's ``sqlite3`` keeps 128 of them). An ``IN`` list of n values is
a different statement for every n, and a run's batches come in every size up to hundreds, so
without care each connection ends up holding a hundred compiled statements of hundreds of
values each: tens of MB that grew with the run in the engine benchmark. Padding the list to
the next power of two, by repeating its last value, leaves about ten lengths and changes no
result.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

Value = TypeVar("Value")


def padded(values: Sequence[Value]) -> list[Value]:
    """``values`` followed by copies of the last one up to the next power of two.

    >>> padded([1, 2, 3])
    [1, 2, 3, 3]
    >>> padded([])
    []
    """
    if not values:
        return []
    size = 1 << (len(values) - 1).bit_length()
    return [*values, *[values[-1]] * (size - len(values))]
