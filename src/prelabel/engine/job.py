"""What executing a run needs to know, fixed before the first call: the job and its options.

A ``RunJob`` is built once from the run's version, project and connection (by the runs
service), so the executor never reads them again while it works: it sees the same template,
schema and parameters for every task even if someone edits the version meanwhile.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from prelabel.errors import ValidationError
from prelabel.labeling import LabelConfig
from prelabel.prompting.instructions import Messages
from prelabel.prompting.template import Template, render_template
from prelabel.providers.base import ChatRequest
from prelabel.providers.prices import Price

MAX_CONCURRENCY = 1024


@dataclass(frozen=True)
class RunOptions:
    """How hard and how long a run may press its provider, and what it may spend.

    ``rpm``/``tpm`` cap requests and tokens per minute (``None``: only the provider's own
    limits, which the engine follows from its answers); ``budget_usd`` stops the run cleanly
    before its cost would pass it; ``cache`` reuses answers to identical requests; ``timeout``
    bounds each request in seconds; ``max_attempts`` counts the first try.

    >>> RunOptions(concurrency=8, budget_usd=2.5).as_json()["budget_usd"]
    2.5
    """

    concurrency: int = 16
    rpm: int | None = None
    tpm: int | None = None
    budget_usd: float | None = None
    cache: bool = True
    timeout: float = 60.0
    max_attempts: int = 5

    def __post_init__(self) -> None:
        _check_int("concurrency", self.concurrency, 1, MAX_CONCURRENCY)
        _check_int("max_attempts", self.max_attempts, 1, 100)
        for name in ("rpm", "tpm"):
            value = getattr(self, name)
            if value is not None:
                _check_int(name, value, 1, 1_000_000_000)
        if self.budget_usd is not None and not _positive(self.budget_usd):
            raise ValidationError(f"budget_usd: must be a positive amount, got {self.budget_usd}")
        if not _positive(self.timeout) or self.timeout > 3600:
            raise ValidationError(
                f"timeout: must be more than 0 and at most 3600 s, got {self.timeout}"
            )
        if not isinstance(self.cache, bool):
            raise ValidationError("cache: must be true or false")

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> RunOptions:
        """Options as stored with a run; unknown names are an error, not silently dropped."""
        unknown = set(value) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValidationError(f"options: unknown {', '.join(sorted(unknown))}")
        return cls(**value)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    def replace(self, **changes: Any) -> RunOptions:
        """These options with the given ones changed; ``None`` values leave a field as it is."""
        given = {name: value for name, value in changes.items() if value is not None}
        return RunOptions.from_json({**self.as_json(), **given})


@dataclass(frozen=True)
class RunJob:
    """A run ready to execute: how to ask about a task, what it costs, how hard to press.

    ``base_url`` is part of the response-cache key, so the same model behind two endpoints
    never shares answers. ``price`` is ``None`` for a model the price table does not know:
    its cost is unknown, so no budget can be enforced on it.
    """

    run_id: int
    config: LabelConfig
    template: Template
    system: str
    model: str
    parameters: Mapping[str, Any]
    schema: Mapping[str, Any]
    base_url: str | None
    price: Price | None
    options: RunOptions = field(default_factory=RunOptions)
    cache_answers: bool = True
    """False for providers whose answers depend on more than the request (the local one
    learns from the project's ground truth), so an identical request may deserve a new answer."""

    def messages(self, data: Mapping[str, Any]) -> Messages:
        """The messages for one task; TemplateError when its data lacks a variable."""
        return Messages(system=self.system, user=render_template(self.template, data))

    def request(self, messages: Messages, task_id: int | None = None) -> ChatRequest:
        return ChatRequest(
            messages=tuple(messages.as_openai()),
            model=self.model,
            schema=self.schema,
            task_id=task_id,
            **{name: self.parameters.get(name) for name in _SAMPLING},
        )


_SAMPLING = ("temperature", "max_tokens", "seed", "top_p")


def _check_int(name: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationError(
            f"{name}: must be a whole number from {low} to {high:,}, got {value!r}"
        )


def _positive(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    )
