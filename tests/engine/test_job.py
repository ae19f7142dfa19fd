"""Run options are checked when made, and answer sizes are bounded by the schema."""

from __future__ import annotations

from typing import Any

import pytest

from prelabel.engine.estimates import TokenRange, answer_tokens
from prelabel.engine.job import RunOptions
from prelabel.errors import ValidationError
from prelabel.labeling import parse_label_config
from tests.factories import ALL_CONTROLS_CONFIG, SENTIMENT_CONFIG


@pytest.mark.parametrize(
    ("options", "message"),
    [
        pytest.param({"concurrency": 0}, "concurrency: must be a whole number from 1", id="zero"),
        pytest.param({"concurrency": 5000}, "concurrency", id="too-many"),
        pytest.param({"concurrency": True}, "concurrency", id="bool"),
        pytest.param({"rpm": -1}, "rpm", id="negative-rpm"),
        pytest.param({"tpm": 1.5}, "tpm", id="fractional-tpm"),
        pytest.param({"budget_usd": 0}, "budget_usd: must be a positive amount", id="no-budget"),
        pytest.param({"budget_usd": float("nan")}, "budget_usd", id="nan-budget"),
        pytest.param({"timeout": 0}, "timeout", id="zero-timeout"),
        pytest.param({"timeout": 7200}, "timeout", id="long-timeout"),
        pytest.param({"max_attempts": 0}, "max_attempts", id="no-attempt"),
        pytest.param({"cache": "yes"}, "cache: must be true or false", id="cache-text"),
    ],
)
def test_bad_run_options_are_refused_with_the_field_named(
    options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        RunOptions(**options)


def test_stored_options_round_trip_and_refuse_unknown_names() -> None:
    options = RunOptions(concurrency=4, rpm=60, budget_usd=1.5, cache=False)
    assert RunOptions.from_json(options.as_json()) == options
    assert options.replace(budget_usd=3.0, rpm=None) == RunOptions(
        concurrency=4, rpm=60, budget_usd=3.0, cache=False
    )
    with pytest.raises(ValidationError, match="options: unknown speed"):
        RunOptions.from_json({"speed": 3})


def test_a_single_choice_answer_is_bounded_by_its_options() -> None:
    schema = parse_label_config(SENTIMENT_CONFIG).answer_schema()
    # {"sentiment":"Positive"} is 24 characters, {"sentiment":"Negative"} too.
    assert answer_tokens(schema) == TokenRange(6, 6, 6)


def test_open_ended_answers_have_a_ceiling_that_max_tokens_lowers() -> None:
    schema = parse_label_config(ALL_CONTROLS_CONFIG).answer_schema()
    free = answer_tokens(schema)
    capped = answer_tokens(schema, max_tokens=50)

    assert free.low < free.expected < free.high
    assert free.high > 500, "spans and free text can be long"
    assert capped == TokenRange(min(free.low, 50), min(free.expected, 50), 50)
