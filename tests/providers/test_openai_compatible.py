from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator, Callable

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
    ChatRequest,
    OpenAICompatibleProvider,
    ProviderRateLimitedWithInfo,
    StructuredMode,
)
from tests.fakes.llm_server import REFUSAL, FakeLLMServer, Fault

pytestmark = pytest.mark.anyio

API_KEY = "sk-prelabel-test-7f3c9e1d5b"
SCHEMA = {
    "type": "object",
    "properties": {"sentiment": {"type": "string", "enum": ["Positive", "Negative"]}},
    "required": ["sentiment"],
    "additionalProperties": False,
}
ANSWER = {"sentiment": "Positive"}
SYSTEM = "You label product reviews."
REQUEST = ChatRequest(
    messages=(
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "Great kettle, boils fast."},
    ),
    model="fake-chat",
    schema=SCHEMA,
    schema_name="review",
)
INSTRUCTION = "Answer with a JSON object matching this JSON Schema: " + json.dumps(
    SCHEMA, separators=(",", ":")
)

MakeProvider = Callable[..., OpenAICompatibleProvider]


@pytest.fixture
async def make_provider(fake_llm: FakeLLMServer) -> AsyncIterator[MakeProvider]:
    """Providers on the fake server (or ``base_url``), each closed when the test ends."""
    made: list[OpenAICompatibleProvider] = []

    def make(
        structured_output: StructuredMode = "json_schema", *, base_url: str | None = None
    ) -> OpenAICompatibleProvider:
        provider = OpenAICompatibleProvider(
            base_url or fake_llm.base_url, API_KEY, structured_output=structured_output
        )
        made.append(provider)
        return provider

    yield make
    for provider in made:
        await provider.aclose()


async def test_json_schema_mode_sends_the_schema_as_strict_response_format(
    fake_llm: FakeLLMServer, make_provider: MakeProvider
) -> None:
    response = await make_provider().complete(REQUEST, timeout=5)

    (body,) = fake_llm.requests
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "review", "schema": SCHEMA, "strict": True},
    }
    assert body["messages"] == [dict(message) for message in REQUEST.messages]
    assert json.loads(response.text or "") == ANSWER
    assert response.parsed is None
    assert response.mode == "json_schema"
    assert response.model == "fake-chat"
    assert response.truncated is False


async def test_answer_carries_usage_and_rate_limit_headers(
    make_provider: MakeProvider,
) -> None:
    response = await make_provider().complete(REQUEST, timeout=5)

    assert response.input_tokens is not None and response.input_tokens > 0
    assert response.output_tokens is not None and response.output_tokens > 0
    assert response.rate_limits is not None
    assert response.rate_limits.requests_limit == 10_000
    assert response.rate_limits.requests_remaining == 9999
    assert response.rate_limits.requests_reset == pytest.approx(0.006)
    assert response.rate_limits.tokens_limit == 2_000_000
    assert response.rate_limits.tokens_reset == pytest.approx(0.03)


async def test_answer_without_usage_has_no_token_counts(
    fake_llm: FakeLLMServer, make_provider: MakeProvider
) -> None:
    fake_llm.usage = False

    response = await make_provider().complete(REQUEST, timeout=5)

    assert (response.input_tokens, response.output_tokens) == (None, None)


async def test_sampling_fields_are_sent_only_when_set(
    fake_llm: FakeLLMServer, make_provider: MakeProvider
) -> None:
    provider = make_provider()
    tuned = ChatRequest(
        messages=REQUEST.messages,
        model="fake-chat",
        schema=SCHEMA,
        temperature=0.0,
        max_tokens=64,
        seed=7,
        top_p=0.5,
    )

    await provider.complete(REQUEST, timeout=5)
    await provider.complete(tuned, timeout=5)

    plain, sampled = fake_llm.requests
    assert not {"temperature", "max_tokens", "seed", "top_p"} & plain.keys()
    assert (sampled["temperature"], sampled["max_tokens"], sampled["seed"], sampled["top_p"]) == (
        0.0,
        64,
        7,
        0.5,
    )


async def test_json_object_mode_states_the_schema_in_the_system_message(
    fake_llm: FakeLLMServer, make_provider: MakeProvider
) -> None:
    fake_llm.responder = lambda body: ANSWER

    response = await make_provider("json_object").complete(REQUEST, timeout=5)

    (body,) = fake_llm.requests
    assert body["response_format"] == {"type": "json_object"}
    assert body["messages"][0] == {"role": "system", "content": f"{SYSTEM}\n\n{INSTRUCTION}"}
    assert body["messages"][1] == REQUEST.messages[1]
    assert response.mode == "json_object"
    assert json.loads(response.text or "") == ANSWER


async def test_text_mode_sends_no_response_format_and_adds_a_system_message_when_none_exists(
    fake_llm: FakeLLMServer, make_provider: MakeProvider
) -> None:
    fake_llm.responder = lambda body: 'Here you go: {"sentiment": "Positive"}'
    user_only = ChatRequest(messages=(REQUEST.messages[1],), model="fake-chat", schema=SCHEMA)

    response = await make_provider("text").complete(user_only, timeout=5)

    (body,) = fake_llm.requests
    assert "response_format" not in body
    assert body["messages"] == [{"role": "system", "content": INSTRUCTION}, REQUEST.messages[1]]
    assert response.mode == "text"
    assert response.text == 'Here you go: {"sentiment": "Positive"}'


async def test_rejected_json_schema_falls_back_to_json_object_and_later_calls_start_there(
    fake_llm: FakeLLMServer, make_provider: MakeProvider, caplog: pytest.LogCaptureFixture
) -> None:
    fake_llm.reject_json_schema = True
    fake_llm.responder = lambda body: ANSWER
    provider = make_provider()

    with caplog.at_level(logging.WARNING, logger="prelabel.providers"):
        first = await provider.complete(REQUEST, timeout=5)
        second = await provider.complete(REQUEST, timeout=5)

    modes = [body.get("response_format", {}).get("type") for body in fake_llm.requests]
    assert modes == ["json_schema", "json_object", "json_object"]
    assert (first.mode, second.mode) == ("json_object", "json_object")
    assert provider.structured_output == "json_object"
    assert json.loads(first.text or "") == ANSWER
    (warning,) = caplog.records
    assert "rejected structured output mode json_schema" in warning.getMessage()
    assert "using json_object from now on" in warning.getMessage()


async def test_endpoint_rejecting_both_json_modes_is_asked_in_plain_text(
    fake_llm: FakeLLMServer, make_provider: MakeProvider
) -> None:
    fake_llm.reject_json_schema = fake_llm.reject_json_object = True
    fake_llm.responder = lambda body: ANSWER
    provider = make_provider()

    first = await provider.complete(REQUEST, timeout=5)
    second = await provider.complete(REQUEST, timeout=5)

    modes = [body.get("response_format", {}).get("type") for body in fake_llm.requests]
    assert modes == ["json_schema", "json_object", None, None]
    assert (first.mode, second.mode) == ("text", "text")
    assert provider.structured_output == "text"


async def test_fallback_is_per_provider_instance(
    fake_llm: FakeLLMServer, make_provider: MakeProvider
) -> None:
    fake_llm.reject_json_schema = True
    await make_provider().complete(REQUEST, timeout=5)

    assert make_provider().structured_output == "json_schema"


async def test_bad_request_that_is_not_about_the_mode_fails_without_falling_back(
    fake_llm: FakeLLMServer, make_provider: MakeProvider
) -> None:
    fake_llm.script(Fault("bad_request"))
    provider = make_provider()

    with pytest.raises(ProviderRequestError) as caught:
        await provider.complete(REQUEST, timeout=5)

    assert str(caught.value) == "the provider rejected the request (400): The request is invalid."
    assert caught.value.kind == "bad_request" and not caught.value.retryable
    assert fake_llm.request_count == 1
    assert provider.structured_output == "json_schema"


async def test_rate_limit_carries_retry_after_and_the_exhausted_budget(
    fake_llm: FakeLLMServer, make_provider: MakeProvider
) -> None:
    fake_llm.script(Fault("rate_limit", retry_after=2))

    with pytest.raises(ProviderRateLimited) as caught:
        await make_provider().complete(REQUEST, timeout=5)

    assert caught.value.retry_after == 2
    assert caught.value.retryable
    assert isinstance(caught.value, ProviderRateLimitedWithInfo)
    assert caught.value.rate_limits is not None
    assert caught.value.rate_limits.requests_remaining == 0
    assert fake_llm.request_count == 1


async def test_rate_limit_without_retry_after_waits_for_the_exhausted_budget_reset(
    fake_llm: FakeLLMServer, make_provider: MakeProvider
) -> None:
    fake_llm.script(Fault("rate_limit"))

    with pytest.raises(ProviderRateLimited) as caught:
        await make_provider().complete(REQUEST, timeout=5)

    # No Retry-After: x-ratelimit-reset-requests ("6ms") of the spent requests budget.
    assert caught.value.retry_after == pytest.approx(0.006)


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
    ],
)
async def test_http_faults_become_provider_errors(
    fake_llm: FakeLLMServer,
    make_provider: MakeProvider,
    kind: str,
    error: type[ProviderError],
    message: str,
) -> None:
    fake_llm.script(Fault(kind))  # type: ignore[arg-type]

    with pytest.raises(error) as caught:
        await make_provider().complete(REQUEST, timeout=5)

    assert type(caught.value) is error
    assert str(caught.value) == message
    assert fake_llm.request_count == 1


async def test_stalled_server_raises_timeout_when_the_timeout_passes(
    fake_llm: FakeLLMServer, make_provider: MakeProvider
) -> None:
    fake_llm.script(Fault("timeout", delay=1.0))
    started = time.monotonic()

    with pytest.raises(ProviderTimeout) as caught:
        await make_provider().complete(REQUEST, timeout=0.2)

    assert time.monotonic() - started < 0.9
    assert str(caught.value) == "the provider did not answer within 0.2 s"
    assert caught.value.retryable


async def test_unreachable_endpoint_raises_unavailable_not_timeout(
    make_provider: MakeProvider, unreachable_url: str
) -> None:
    provider = make_provider(base_url=unreachable_url)

    with pytest.raises(ProviderUnavailable, match="could not reach the provider"):
        await provider.complete(REQUEST, timeout=5)


async def test_refusal_raises_provider_refusal_with_the_models_words(
    fake_llm: FakeLLMServer, make_provider: MakeProvider
) -> None:
    fake_llm.script(Fault("refusal"))

    with pytest.raises(ProviderRefusal) as caught:
        await make_provider().complete(REQUEST, timeout=5)

    assert str(caught.value) == f"the model refused to answer: {REFUSAL}"
    assert caught.value.kind == "refusal"


async def test_truncated_answer_is_returned_marked_truncated_for_the_reader_to_reject(
    fake_llm: FakeLLMServer, make_provider: MakeProvider
) -> None:
    fake_llm.script(Fault("truncated"))

    response = await make_provider().complete(REQUEST, timeout=5)

    whole = json.dumps(ANSWER, separators=(",", ":"))
    assert response.truncated is True
    assert response.text == whole[: len(whole) // 2]


@pytest.mark.parametrize("kind", ["malformed", "off_schema"])
async def test_unreadable_answers_are_returned_as_given_for_the_reader_to_judge(
    fake_llm: FakeLLMServer, make_provider: MakeProvider, kind: str
) -> None:
    fake_llm.script(Fault(kind))  # type: ignore[arg-type]

    response = await make_provider().complete(REQUEST, timeout=5)

    assert response.text is not None and response.text != json.dumps(ANSWER)
    assert response.truncated is False


@pytest.mark.parametrize("kind", ["not_a_completion", "html_page"])
async def test_success_status_without_a_completion_raises_unavailable(
    fake_llm: FakeLLMServer, make_provider: MakeProvider, kind: str
) -> None:
    fake_llm.script(Fault(kind))  # type: ignore[arg-type]

    with pytest.raises(ProviderUnavailable) as caught:
        await make_provider().complete(REQUEST, timeout=5)

    assert str(caught.value) == "the provider's response is not a chat completion"
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
    fake_llm: FakeLLMServer, make_provider: MakeProvider, fault: Fault
) -> None:
    fake_llm.script(fault)
    provider = make_provider()

    with pytest.raises(ProviderError) as caught:
        await provider.complete(REQUEST, timeout=0.2 if fault.kind == "timeout" else 5)

    assert fake_llm.request_count == 1
    for text in (str(caught.value), repr(caught.value), repr(provider)):
        assert API_KEY not in text
    # Not chained to the SDK exception, whose request holds the Authorization header.
    assert caught.value.__cause__ is None and caught.value.__context__ is None


async def test_key_echoed_by_the_server_is_blanked_out_of_the_message(
    fake_llm: FakeLLMServer, make_provider: MakeProvider
) -> None:
    def echo_key(body: dict[str, object]) -> object:
        raise RuntimeError(f"upstream rejected key {API_KEY}")

    fake_llm.responder = echo_key

    with pytest.raises(ProviderUnavailable) as caught:
        await make_provider().complete(REQUEST, timeout=5)

    assert API_KEY not in str(caught.value)
    assert "[redacted]" in str(caught.value)
    fake_llm.errors.clear()  # the responder raised on purpose: it is how the server echoes


async def test_repr_names_the_endpoint_and_mode(
    fake_llm: FakeLLMServer, make_provider: MakeProvider
) -> None:
    provider = make_provider("json_object")

    assert repr(provider) == (
        f"OpenAICompatibleProvider(base_url='{fake_llm.base_url}/', "
        "structured_output='json_object')"
    )


async def test_aclose_closes_the_http_client(fake_llm: FakeLLMServer) -> None:
    provider = OpenAICompatibleProvider(fake_llm.base_url, None)
    await provider.complete(REQUEST, timeout=5)

    await provider.aclose()

    assert provider._client.is_closed()


def test_unknown_structured_output_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="structured_output must be one of"):
        OpenAICompatibleProvider(None, None, structured_output="grammar")  # type: ignore[arg-type]
