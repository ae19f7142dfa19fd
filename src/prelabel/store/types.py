"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, TypeDecorator
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect

#: The largest id or counter: they are 32-bit integer columns, and PostgreSQL refuses to
#: compare one with a larger number (an error, not a non-match), so input beyond it is refused
#: up front on both backends.
MAX_INT4 = 2**31 - 1

#: JSON documents (task data, results). JSONB on PostgreSQL so later filters can use its
#: operators and indexes; SQLite keeps JSON text.
JSONDocument = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both backends.

    SQLite has no time zones and hands back naive values; storing UTC and re-attaching it on
    the way out keeps comparisons and ISO output identical to PostgreSQL.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: prelabel stores UTC-aware datetimes")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any]:
        return _remembering_last(super().bind_processor(dialect))

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any]:
        return _remembering_last(super().result_processor(dialect, coltype))

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    """Now, as stored: aware UTC."""
    return datetime.now(UTC)


def _remembering_last(convert: Callable[[Any], Any] | None) -> Callable[[Any], Any]:
    """``convert``, skipping the work when a value equals the one before it.

    Rows written by one import batch share one timestamp, so bulk inserts and streaming reads
    see the same value thousands of times in a row; converting it once makes a visible share
    of import and export time disappear. The remembered pair is replaced by one assignment,
    so threads sharing a compiled statement never see it half-written.
    """
    last: tuple[Any, Any] = (None, None)

    def process(value: Any) -> Any:
        nonlocal last
        seen, converted = last
        if value is not None and value == seen:
            return converted
        converted = convert(value) if convert else value
        last = (value, converted)
        return converted

    return process
