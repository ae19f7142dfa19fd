from __future__ import annotations

import json
import sys
import time
from collections.abc import AsyncIterator

import pytest

from prelabel.errors import (
    ProviderAuthError,
    ProviderError,
    ProviderRateLimited,
    ProviderRefusal,
    ProviderRequestError,
    ProviderTimeout,
    ProviderUnavailable,
)
from prelabel.providers import (
    DEFAULT_MAX_TOKENS,
    AnthropicProvider,
    ChatRequest,
    ProviderRateLimitedWithInfo,
)
from tests.fakes.llm_server import FakeLLMServer, Fault

pytestmark = pytest.mark.anyio

API_KEY = "sk-ant-prelabel-test-4b8d2a6c"
SCHEMA = {
    "type": "object",
    "properties": {"sentiment": {"type": "string", "enum": ["Positive", "Negative"]}},
    "required": ["sentiment"],
    "additionalProperties": False,
}
ANSWER = {"sentiment": "Positive"}
REQUEST = ChatRequest(
    messages=(
        {"role": "system", "content": "You label product reviews."},
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Great kettle, boils fast."},
    ),
    model="fake-claude",
    schema=SCHEMA,
    schema_name="review",
    temperature=0.0,
    seed=3,
)


@pytest.fixture
async def provider(fake_llm: FakeLLMServer) -> AsyncIterator[AnthropicProvider]:
    provider = AnthropicProvider(fake_llm.anthropic_base_url, API_KEY)
    yield provider
    await provider.aclose()


async def test_answer_is_asked_for_through_one_forced_tool(
    fake_llm: FakeLLMServer, provider: AnthropicProvider
) -> None:
    await provider.complete(REQUEST, timeout=5)

    (body,) = fake_llm.requests
    assert body["tools"] == [
        {"name": "review", "description": "Record the answer", "input_schema": SCHEMA}
    ]
    assert body["tool_choice"] == {"type": "tool", "name": "review"}
    assert body["system"] == "You label product reviews.\n\nBe brief."
    assert body["messages"] == [{"role": "user", "content": "Great kettle, boils fast."}]
    assert body["max_tokens"] == DEFAULT_MAX_TOKENS
    assert not {"temperature", "top_p", "seed"} & body.keys()


async def test_tool_input_is_the_parsed_answer(provider: AnthropicProvider) -> None:
    response = await provider.complete(REQUEST, timeout=5)

    assert response.parsed == ANSWER
    assert json.loads(response.text or "") == ANSWER
    assert response.mode == "tool"
    assert response.model == "fake-claude"
    assert response.truncated is False


async def test_answer_carries_usage_and_rate_limit_headers(provider: AnthropicProvider) -> None:
    response = await provider.complete(REQUEST, timeout=5)

    assert response.input_tokens is not None and response.input_tokens > 0
    assert response.output_tokens is not None and response.output_tokens > 0
    assert response.rate_limits is not None
    assert response.rate_limits.requests_limit == 10_000
    assert response.rate_limits.tokens_remaining == 1_999_000
    assert response.rate_limits.requests_reset is not None
    assert 0 <= response.rate_limits.requests_reset < 1


async def test_answer_without_usage_has_no_token_counts(
    fake_llm: FakeLLMServer, provider: AnthropicProvider
) -> None:
    fake_llm.usage = False

    response = await provider.complete(REQUEST, timeout=5)

    assert (response.input_tokens, response.output_tokens) == (None, None)


async def test_max_tokens_of_the_request_is_sent(
    fake_llm: FakeLLMServer, provider: AnthropicProvider
) -> None:
    request = ChatRequest(
        messages=REQUEST.messages[2:], model="fake-claude", schema=SCHEMA, max_tokens=200
    )

    await provider.complete(request, timeout=5)

    (body,) = fake_llm.requests
    assert body["max_tokens"] == 200
    assert "system" not in body


async def test_rate_limit_carries_retry_after_and_the_exhausted_budget(
    fake_llm: FakeLLMServer, provider: AnthropicProvider
) -> None:
    fake_llm.script(Fault("rate_limit", retry_after=3))

    with pytest.raises(ProviderRateLimited) as caught:
        await provider.complete(REQUEST, timeout=5)

    assert caught.value.retry_after == 3
    assert isinstance(caught.value, ProviderRateLimitedWithInfo)
    assert caught.value.rate_limits is not None
    assert caught.value.rate_limits.requests_remaining == 0


async def test_rate_limit_without_retry_after_waits_for_the_exhausted_budget_reset(
    fake_llm: FakeLLMServer, provider: AnthropicProvider
) -> None:
    fake_llm.script(Fault("rate_limit"))

    with pytest.raises(ProviderRateLimited) as caught:
        await provider.complete(REQUEST, timeout=5)

    assert caught.value.retry_after is not None
    assert 0 <= caught.value.retry_after < 1


@pytest.mark.parametrize(
    ("kind", "error", "message"),
    [
        pytest.param(
            "server_error",
            ProviderUnavailable,
            "the provider failed (500): The server had an error while processing your request.",
            id="5xx",
        ),
        pytest.param("auth", ProviderAuthError, "the provider refused the API key (401)", id="401"),
        pytest.param(
            "bad_request",
            ProviderRequestError,
            "the provider rejected the request (400): The request is invalid.",
            id="400",
        ),
    ],
)
async def test_http_faults_become_provider_errors(
    fake_llm: FakeLLMServer,
    provider: AnthropicProvider,
    kind: str,
    error: type[ProviderError],
    message: str,
) -> None:
    fake_llm.script(Fault(kind))  # type: ignore[arg-type]

    with pytest.raises(error) as caught:
        await provider.complete(REQUEST, timeout=5)

    assert type(caught.value) is error
    assert str(caught.value) == message
    assert fake_llm.request_count == 1


async def test_stalled_server_raises_timeout_when_the_timeout_passes(
    fake_llm: FakeLLMServer, provider: AnthropicProvider
) -> None:
    fake_llm.script(Fault("timeout", delay=1.0))
    started = time.monotonic()

    with pytest.raises(ProviderTimeout):
        await provider.complete(REQUEST, timeout=0.2)

    assert time.monotonic() - started < 0.9


async def test_refusal_stop_reason_raises_provider_refusal(
    fake_llm: FakeLLMServer, provider: AnthropicProvider
) -> None:
    fake_llm.script(Fault("refusal"))

    with pytest.raises(ProviderRefusal, match="the model refused to answer"):
        await provider.complete(REQUEST, timeout=5)


async def test_truncated_answer_is_returned_as_text_marked_truncated(
    fake_llm: FakeLLMServer, provider: AnthropicProvider
) -> None:
    fake_llm.script(Fault("truncated"))

    response = await provider.complete(REQUEST, timeout=5)

    assert response.truncated is True
    assert response.parsed is None
    assert response.text is not None and response.text.startswith("{")


async def test_prose_instead_of_a_tool_call_is_returned_as_text(
    fake_llm: FakeLLMServer, provider: AnthropicProvider
) -> None:
    fake_llm.script(Fault("malformed"))

    response = await provider.complete(REQUEST, timeout=5)

    assert response.parsed is None
    assert response.text is not None and response.text.startswith("Sure! ")


async def test_off_schema_tool_input_is_returned_for_the_reader_to_reject(
    fake_llm: FakeLLMServer, provider: AnthropicProvider
) -> None:
    fake_llm.script(Fault("off_schema"))

    response = await provider.complete(REQUEST, timeout=5)

    assert response.parsed == {"sentiment": "Maybe"}


async def test_unreachable_endpoint_raises_unavailable_not_timeout(
    unreachable_url: str,
) -> None:
    provider = AnthropicProvider(unreachable_url, API_KEY)

    with pytest.raises(ProviderUnavailable, match="could not reach the provider"):
        await provider.complete(REQUEST, timeout=5)

    await provider.aclose()


@pytest.mark.parametrize("kind", ["not_a_completion", "html_page"])
async def test_success_status_without_a_message_raises_unavailable(
    fake_llm: FakeLLMServer, provider: AnthropicProvider, kind: str
) -> None:
    fake_llm.script(Fault(kind))  # type: ignore[arg-type]

    with pytest.raises(ProviderUnavailable) as caught:
        await provider.complete(REQUEST, timeout=5)

    assert "response" in str(caught.value)
    assert caught.value.retryable


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param(Fault("rate_limit", retry_after=1), id="rate_limit"),
        pytest.param(Fault("server_error"), id="server_error"),
        pytest.param(Fault("auth"), id="auth"),
        pytest.param(Fault("bad_request"), id="bad_request"),
        pytest.param(Fault("refusal"), id="refusal"),
        pytest.param(Fault("timeout", delay=1.0), id="timeout"),
    ],
)
async def test_api_key_appears_in_no_error_and_no_repr(
    fake_llm: FakeLLMServer, provider: AnthropicProvider, fault: Fault
) -> None:
    fake_llm.script(fault)

    with pytest.raises(ProviderError) as caught:
        await provider.complete(REQUEST, timeout=0.2 if fault.kind == "timeout" else 5)

    for text in (str(caught.value), repr(caught.value), repr(provider)):
        assert API_KEY not in text
    assert caught.value.__cause__ is None and caught.value.__context__ is None


async def test_aclose_closes_the_http_client(fake_llm: FakeLLMServer) -> None:
    provider = AnthropicProvider(fake_llm.anthropic_base_url, None)
    await provider.complete(REQUEST, timeout=5)

    await provider.aclose()

    assert provider._client.is_closed()


def test_missing_sdk_asks_for_the_anthropic_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "anthropic", None)

    with pytest.raises(ProviderError, match=r"install prelabel\[anthropic\]"):
        AnthropicProvider(None, API_KEY)
