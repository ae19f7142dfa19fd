"""The response cache: keys cover everything that shapes an answer; first write wins."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from prelabel.services.response_cache import cache_key, cached_response, store_response

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


def test_stored_answer_is_found_and_the_first_write_wins(session: Session) -> None:
    key = cache_key(**REQUEST)
    assert cached_response(session, key) is None
    store_response(session, key, {"text": '{"a": "x"}', "input_tokens": 3})
    store_response(session, key, {"text": '{"a": "y"}', "input_tokens": 3})
    assert cached_response(session, key) == {"text": '{"a": "x"}', "input_tokens": 3}
