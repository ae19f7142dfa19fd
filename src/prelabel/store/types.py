"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, TypeDecorator
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect

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
        """The usual processor, remembering its last input.

        A bulk insert stamps every row of a batch with the same datetime object; converting
        it once instead of per row makes a visible share of an import's time disappear. The
        remembered pair is replaced by one assignment, so threads never see it half-written.
        """
        convert = super().bind_processor(dialect)
        last: tuple[Any, Any] = (None, None)

        def process(value: Any) -> Any:
            nonlocal last
            seen, converted = last
            if value is seen and value is not None:
                return converted
            converted = convert(value) if convert else value
            last = (value, converted)
            return converted

        return process

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    """Now, as stored: aware UTC."""
    return datetime.now(UTC)
