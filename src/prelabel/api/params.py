"""Types of the ids and numbers that paths, query strings and bodies carry.

Every id is a 32-bit integer column: a larger number names nothing, and PostgreSQL refuses
to compare one with such a column (a 500), so it is a 400 naming the parameter instead. Body
ids are strict: ``true`` or ``"5"`` is no task id.
"""

from __future__ import annotations

from typing import Annotated, Any

from annotated_types import Ge, Le
from pydantic import AfterValidator, AllowInfNan, BaseModel, Strict

from prelabel.errors import ValidationError
from prelabel.store.types import MAX_INT4

MAX_ID = MAX_INT4

Id = Annotated[int, Ge(1), Le(MAX_ID)]
"""An id in a path or a query string."""

BodyId = Annotated[int, Strict(), Ge(1), Le(MAX_ID)]
"""An id in a JSON body."""

FiniteNumber = Annotated[float, Strict(), AllowInfNan(False)]
"""A finite number in a JSON body (an integer is one too); ``true`` or ``"0.5"`` is none."""


def _without_nul(text: str) -> str:
    if "\x00" in text:
        raise ValueError("contains a NUL character (\\u0000), which PostgreSQL cannot store")
    return text


Text = Annotated[str, Strict(), AfterValidator(_without_nul)]
"""A string in a JSON body that the database can store and compare."""


def sent_fields(body: BaseModel) -> dict[str, Any]:
    """The declared fields a client sent (extra keys aside): a PATCH leaves the others alone."""
    declared = type(body).model_fields
    return {name: getattr(body, name) for name in body.model_fields_set if name in declared}


def comma_ids(field: str, values: list[str]) -> list[int]:
    """Ids written ``1,2,3``, possibly over several values (``ids=1,2&ids=3``)."""
    parts = [part.strip() for value in values for part in value.split(",") if part.strip()]
    if not all(part.isdecimal() and len(part) <= 10 and 1 <= int(part) <= MAX_ID for part in parts):
        raise ValidationError(f"{field}: {values!r} is not a comma-separated list of ids")
    return [int(part) for part in parts]
