"""The response cache: keys cover everything that shapes an answer; first write wins."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from prelabel.engine.cache import cache_key, cached_responses, store_responses

REQUEST: dict[str, Any] = {
    "base_url": "http://llm/v1",
    "model": "m",
    "parameters": {"temperature": 0.0, "seed": 1},
    "messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}],
    "schema": {"type": "object", "properties": {"a": {"type": "string"}}},
}


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"base_url": "http://other/v1"}, id="endpoint"),
        pytest.param({"model": "m2"}, id="model"),
        pytest.param({"parameters": {"temperature": 0.5, "seed": 1}}, id="parameter"),
        pytest.param({"messages": [{"role": "user", "content": "u"}]}, id="messages"),
        pytest.param({"schema": {"type": "object"}}, id="schema"),
    ],
)
def test_any_change_that_shapes_the_answer_changes_the_key(change: dict[str, Any]) -> None:
    assert cache_key(**{**REQUEST, **change}) != cache_key(**REQUEST)


def test_key_ignores_mapping_order_and_unset_parameters() -> None:
    reordered = {**REQUEST, "parameters": {"seed": 1, "temperature": 0.0, "top_p": None}}
    assert cache_key(**reordered) == cache_key(**REQUEST)


def test_stored_answers_are_found_by_key_and_the_first_write_wins(session: Session) -> None:
    key, other = cache_key(**REQUEST), cache_key(**{**REQUEST, "model": "m2"})
    assert cached_responses(session, [key, other]) == {}
    store_responses(session, [(key, {"text": '{"a": "x"}', "input_tokens": 3})])
    store_responses(
        session,
        [(key, {"text": '{"a": "y"}', "input_tokens": 3}), (other, {"text": '{"a": "z"}'})],
    )
    assert cached_responses(session, [key, other, "unknown"]) == {
        key: {"text": '{"a": "x"}', "input_tokens": 3},
        other: {"text": '{"a": "z"}'},
    }
