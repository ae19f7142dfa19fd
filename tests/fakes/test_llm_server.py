"""The fake LLM server, driven through the official SDKs that prelabel's providers use.

Every other engine test trusts this double, so these tests check that what it sends is what
the SDKs accept and turn into their own answers and exceptions. No assertion here measures
time: concurrency is shown by the server's own count of requests in flight.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Callable, Coroutine
from typing import Any

import anthropic
import httpx2
import openai
import pytest

from tests.fakes.llm_server import (
    EMBEDDING_DIMENSIONS,
    FakeLLMServer,
    Fault,
    FaultKind,
    embed,
    schema_answer,
)

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "sentiment": {"type": "string", "enum": ["Positive", "Negative", "Neutral"]},
        "topics": {"type": "array", "items": {"type": "string", "enum": ["price", "quality"]}},
        "comment": {"type": ["string", "null"]},
        "rating": {"type": ["integer", "null"], "minimum": 1, "maximum": 5},
    },
    "required": ["sentiment", "topics", "comment", "rating"],
    "additionalProperties": False,
}
ANSWER = {"sentiment": "Positive", "topics": [], "comment": None, "rating": None}
MESSAGES: list[Any] = [
    {"role": "system", "content": "Label the sentiment of the review."},
    {"role": "user", "content": "Great value, would buy again."},
]
JSON_SCHEMA: Any = {
    "type": "json_schema",
    "json_schema": {"name": "answer", "schema": SCHEMA, "strict": True},
}
TOOL: Any = {"name": "answer", "description": "Record the labels.", "input_schema": SCHEMA}
FORCE_TOOL: Any = {"type": "tool", "name": "answer"}


def openai_client(server: FakeLLMServer, **options: Any) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=server.base_url, api_key="test", max_retries=0, **options)


def anthropic_client(server: FakeLLMServer) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(
        base_url=server.anthropic_base_url, api_key="test", max_retries=0
    )


async def ask_openai(server: FakeLLMServer, **request: Any) -> Any:
    """One structured chat completion, with ``request`` overriding the defaults."""
    async with openai_client(server) as client:
        params = {"model": "fake-chat", "messages": MESSAGES, "response_format": JSON_SCHEMA}
        return await client.chat.completions.create(**(params | request))


async def ask_anthropic(server: FakeLLMServer, **request: Any) -> Any:
    """One Anthropic message forcing the answer tool, with ``request`` overriding the defaults."""
    async with anthropic_client(server) as client:
        params = {
            "model": "fake-claude",
            "max_tokens": 256,
            "system": MESSAGES[0]["content"],
            "messages": MESSAGES[1:],
            "tools": [TOOL],
            "tool_choice": FORCE_TOOL,
        }
        return await client.messages.create(**(params | request))


def raises(exception: type[Exception], call: Coroutine[Any, Any, Any]) -> Any:
    """Run ``call`` and return the exception it must raise, for assertions on its fields."""
    with pytest.raises(exception) as caught:
        asyncio.run(call)
    return caught.value


async def until(condition: Callable[[], bool]) -> None:
    """Wait for ``condition``, polling; a generous guard turns a hang into a failure."""
    async with asyncio.timeout(30):
        while not condition():
            await asyncio.sleep(0.005)


@pytest.mark.parametrize(
    ("schema", "answer"),
    [
        (SCHEMA, ANSWER),
        ({"type": "string", "enum": ["b", "a"]}, "b"),
        ({"type": "string"}, ""),
        ({"type": "boolean"}, False),
        ({"type": "number"}, 0),
        ({"type": "integer", "minimum": 2.5}, 3),
        ({"type": "number", "maximum": -1}, -1),
        ({"type": ["array", "null"], "items": {"type": "string"}}, None),
        ({"type": "array", "items": {"const": "x"}, "minItems": 2}, ["x", "x"]),
        ({"anyOf": [{"type": "string"}, {"type": "null"}]}, None),
        (
            {
                "type": "object",
                "properties": {
                    "span": {
                        "type": "object",
                        "properties": {"start": {"type": "integer"}, "note": {"type": "string"}},
                        "required": ["start"],
                    }
                },
                "required": ["span"],
            },
            {"span": {"start": 0}},
        ),
    ],
)
def test_schema_answer_is_the_simplest_valid_answer(schema: dict[str, Any], answer: object) -> None:
    assert schema_answer(schema) == answer


def test_structured_answer_is_schema_valid_with_usage_and_rate_limit_headers(
    fake_llm: FakeLLMServer,
) -> None:
    async def ask() -> Any:
        async with openai_client(fake_llm) as client:
            return await client.chat.completions.with_raw_response.create(
                model="fake-chat", messages=MESSAGES, response_format=JSON_SCHEMA
            )

    raw = asyncio.run(ask())
    completion = raw.parse()
    content = completion.choices[0].message.content
    assert json.loads(content) == ANSWER
    assert completion.choices[0].finish_reason == "stop"
    assert completion.model == "fake-chat"
    prompt_chars = sum(len(message["content"]) for message in MESSAGES)
    assert completion.usage.prompt_tokens == prompt_chars // 4 + 1
    assert completion.usage.completion_tokens == len(content) // 4 + 1
    assert completion.usage.total_tokens == (
        completion.usage.prompt_tokens + completion.usage.completion_tokens
    )
    assert raw.headers["x-ratelimit-limit-requests"] == "10000"
    assert raw.headers["x-ratelimit-remaining-requests"] == "9999"
    assert raw.headers["x-ratelimit-reset-requests"] == "6ms"
    assert fake_llm.requests[0]["response_format"] == JSON_SCHEMA


def test_anthropic_forced_tool_answers_with_a_tool_use_block(fake_llm: FakeLLMServer) -> None:
    message = asyncio.run(ask_anthropic(fake_llm))

    [block] = message.content
    assert (block.type, block.name, block.input) == ("tool_use", "answer", ANSWER)
    assert message.stop_reason == "tool_use"
    prompt_chars = sum(len(message["content"]) for message in MESSAGES)
    assert message.usage.input_tokens == prompt_chars // 4 + 1
    assert message.usage.output_tokens == len(json.dumps(ANSWER, separators=(",", ":"))) // 4 + 1


def test_without_a_schema_the_answer_is_an_empty_object_or_the_responder_s(
    fake_llm: FakeLLMServer,
) -> None:
    json_object = asyncio.run(ask_openai(fake_llm, response_format={"type": "json_object"}))
    text = asyncio.run(ask_anthropic(fake_llm, tools=anthropic.omit, tool_choice=anthropic.omit))
    fake_llm.responder = lambda body: {"sentiment": "Negative"}
    answered = asyncio.run(ask_openai(fake_llm))
    fake_llm.responder = lambda body: "Negative, I think."
    verbatim = asyncio.run(ask_openai(fake_llm))
    prose_for_a_tool = asyncio.run(ask_anthropic(fake_llm))

    assert json_object.choices[0].message.content == "{}"
    assert [(block.type, block.text) for block in text.content] == [("text", "{}")]
    assert answered.choices[0].message.content == '{"sentiment":"Negative"}'
    assert verbatim.choices[0].message.content == "Negative, I think."
    assert prose_for_a_tool.content[0].text == "Negative, I think."


def test_usage_can_be_absent(fake_llm: FakeLLMServer) -> None:
    fake_llm.usage = False

    assert asyncio.run(ask_openai(fake_llm)).usage is None
    assert asyncio.run(ask_anthropic(fake_llm)).usage is None


@pytest.mark.parametrize(
    ("kind", "openai_error", "anthropic_error"),
    [
        ("rate_limit", openai.RateLimitError, anthropic.RateLimitError),
        ("server_error", openai.InternalServerError, anthropic.InternalServerError),
        ("auth", openai.AuthenticationError, anthropic.AuthenticationError),
        ("bad_request", openai.BadRequestError, anthropic.BadRequestError),
    ],
)
def test_http_faults_raise_the_sdk_exceptions_once_each(
    fake_llm: FakeLLMServer,
    kind: FaultKind,
    openai_error: type[openai.APIStatusError],
    anthropic_error: type[anthropic.APIStatusError],
) -> None:
    fake_llm.script(Fault(kind), Fault(kind))

    from_openai = raises(openai_error, ask_openai(fake_llm))
    from_anthropic = raises(anthropic_error, ask_anthropic(fake_llm))
    after = asyncio.run(ask_openai(fake_llm))

    assert from_openai.body["message"] and from_openai.code != "insufficient_quota"
    assert from_anthropic.body["error"]["message"]
    assert json.loads(after.choices[0].message.content) == ANSWER
    assert fake_llm.request_count == 3


def test_rate_limit_sends_retry_after_and_spends_the_requests_budget(
    fake_llm: FakeLLMServer,
) -> None:
    fake_llm.script(Fault("rate_limit", retry_after=1.5), Fault("rate_limit"))

    hinted = raises(openai.RateLimitError, ask_openai(fake_llm)).response.headers
    bare = raises(openai.RateLimitError, ask_openai(fake_llm)).response.headers

    assert hinted["retry-after"] == "1.5"
    assert (hinted["x-ratelimit-remaining-requests"], hinted["x-ratelimit-reset-requests"]) == (
        "0",
        "1.5s",
    )
    assert "retry-after" not in bare
    assert bare["x-ratelimit-remaining-requests"] == "0"


def test_anthropic_rate_limit_sends_retry_after(fake_llm: FakeLLMServer) -> None:
    fake_llm.script(Fault("rate_limit", retry_after=2))

    headers = raises(anthropic.RateLimitError, ask_anthropic(fake_llm)).response.headers

    assert headers["retry-after"] == "2"
    assert headers["anthropic-ratelimit-requests-remaining"] == "0"


def test_timeout_stalls_past_the_client_timeout(fake_llm: FakeLLMServer) -> None:
    fake_llm.script(Fault("timeout"))

    async def ask() -> Any:
        async with openai_client(fake_llm, timeout=0.1) as client:
            return await client.chat.completions.create(model="fake-chat", messages=MESSAGES)

    raises(openai.APITimeoutError, ask())
    assert fake_llm.request_count == 1  # the request arrived, the answer did not


def test_a_stalled_request_answers_normally_once_released(fake_llm: FakeLLMServer) -> None:
    fake_llm.script(Fault("timeout", delay=60))

    async def ask() -> Any:
        answer = asyncio.ensure_future(ask_openai(fake_llm))
        await until(lambda: fake_llm.request_count == 1)
        fake_llm.release()
        return await answer

    assert json.loads(asyncio.run(ask()).choices[0].message.content) == ANSWER


@pytest.mark.parametrize(
    ("kind", "content", "finish_reason"),
    [
        (
            "malformed",
            'Sure! {"sentiment":"Positive","topics":[],"comment":null,"rating":null',
            "stop",
        ),
        ("off_schema", '{"sentiment":"Maybe","topics":[],"comment":null,"rating":null}', "stop"),
        ("truncated", '{"sentiment":"Positive","topics"', "length"),
    ],
)
def test_answer_faults_spoil_the_content(
    fake_llm: FakeLLMServer, kind: FaultKind, content: str, finish_reason: str
) -> None:
    fake_llm.script(Fault(kind))

    choice = asyncio.run(ask_openai(fake_llm)).choices[0]

    assert (choice.message.content, choice.finish_reason) == (content, finish_reason)


def test_off_schema_drops_a_required_key_when_no_enum_can_be_broken(
    fake_llm: FakeLLMServer,
) -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    fake_llm.script(Fault("off_schema"))
    response_format = {"type": "json_schema", "json_schema": {"name": "a", "schema": schema}}

    completion = asyncio.run(ask_openai(fake_llm, response_format=response_format))

    assert completion.choices[0].message.content == "{}"


def test_refusal_sets_refusal_and_no_content(fake_llm: FakeLLMServer) -> None:
    fake_llm.script(Fault("refusal"), Fault("refusal"))

    message = asyncio.run(ask_openai(fake_llm)).choices[0].message
    refused = asyncio.run(ask_anthropic(fake_llm))

    assert message.content is None and message.refusal
    assert (refused.stop_reason, refused.content) == ("refusal", [])


def test_anthropic_answer_faults(fake_llm: FakeLLMServer) -> None:
    fake_llm.script(Fault("off_schema"), Fault("malformed"), Fault("truncated"))

    off_schema = asyncio.run(ask_anthropic(fake_llm))
    malformed = asyncio.run(ask_anthropic(fake_llm))
    truncated = asyncio.run(ask_anthropic(fake_llm))

    assert off_schema.content[0].input == ANSWER | {"sentiment": "Maybe"}
    assert malformed.content[0].type == "text"
    assert malformed.content[0].text.startswith("Sure! {")
    assert (truncated.stop_reason, truncated.content[0].type) == ("max_tokens", "text")


def test_rejected_response_formats_are_400_bad_requests(fake_llm: FakeLLMServer) -> None:
    fake_llm.reject_json_schema = True
    fake_llm.reject_json_object = True

    schema_error = raises(openai.BadRequestError, ask_openai(fake_llm))
    object_error = raises(
        openai.BadRequestError, ask_openai(fake_llm, response_format={"type": "json_object"})
    )
    text = asyncio.run(ask_openai(fake_llm, response_format=openai.omit))

    assert "'response_format' of type 'json_schema'" in schema_error.message
    assert schema_error.param == "response_format"
    assert "'response_format' of type 'json_object'" in object_error.message
    assert text.choices[0].message.content == "{}"


def test_a_raising_responder_is_a_500_recorded_for_the_fixture(fake_llm: FakeLLMServer) -> None:
    def responder(body: dict[str, Any]) -> object:
        raise KeyError("sentiment")

    fake_llm.responder = responder

    error = raises(openai.InternalServerError, ask_openai(fake_llm))

    assert "KeyError" in error.message
    assert [type(exc) for exc in fake_llm.errors] == [KeyError]
    fake_llm.errors.clear()  # or the fixture fails this test


def test_requests_without_a_key_or_a_model_are_refused(fake_llm: FakeLLMServer) -> None:
    async def post(headers: dict[str, str], body: dict[str, Any]) -> httpx2.Response:
        async with httpx2.AsyncClient(base_url=fake_llm.base_url, headers=headers) as client:
            return await client.post("/chat/completions", json=body)

    keyless = asyncio.run(post({}, {"model": "fake-chat", "messages": MESSAGES}))
    modelless = asyncio.run(post({"authorization": "Bearer test"}, {"messages": MESSAGES}))

    assert keyless.status_code == 401
    assert (modelless.status_code, modelless.json()["error"]["message"]) == (
        400,
        "Missing required parameter: 'model'.",
    )


def test_latency_holds_64_requests_in_flight_at_once(fake_llm: FakeLLMServer) -> None:
    fake_llm.latency = 60  # released below once all 64 are waiting, so nothing is timed

    async def ask_64() -> list[Any]:
        async with openai_client(fake_llm) as client:
            calls = [
                client.chat.completions.create(
                    model="fake-chat", messages=MESSAGES, response_format=JSON_SCHEMA
                )
                for _ in range(64)
            ]
            answers = asyncio.gather(*calls)
            await until(lambda: fake_llm.max_in_flight == 64)
            fake_llm.release()
            return await answers

    completions = asyncio.run(ask_64())

    assert [json.loads(c.choices[0].message.content) for c in completions] == [ANSWER] * 64
    assert fake_llm.max_in_flight == 64


def test_embeddings_are_deterministic_unit_vectors(fake_llm: FakeLLMServer) -> None:
    texts = ["great value, would buy again", "Great value!", "terrible support"]

    async def embed_all() -> tuple[Any, Any]:
        async with openai_client(fake_llm) as client:
            as_base64 = await client.embeddings.create(model="fake-embedding", input=texts)
            as_floats = await client.embeddings.create(
                model="fake-embedding", input=texts, encoding_format="float"
            )
            return as_base64, as_floats

    as_base64, as_floats = asyncio.run(embed_all())

    vectors = [item.embedding for item in as_floats.data]
    assert vectors == [embed(text) for text in texts]
    for decoded, exact in zip((item.embedding for item in as_base64.data), vectors, strict=True):
        assert decoded == pytest.approx(exact, abs=1e-6)
    assert all(len(vector) == EMBEDDING_DIMENSIONS for vector in vectors)
    assert all(math.isclose(sum(v * v for v in vector), 1.0) for vector in vectors)
    cosine = [sum(a * b for a, b in zip(vectors[0], other, strict=True)) for other in vectors]
    assert cosine[1] > cosine[2]  # sharing words makes texts close
    assert as_floats.usage.prompt_tokens == sum(len(text) // 4 + 1 for text in texts)


def test_random_faults_follow_the_seed_after_the_script(fake_llm: FakeLLMServer) -> None:
    async def outcomes(count: int) -> list[str]:
        seen = []
        async with openai_client(fake_llm) as client:
            for _ in range(count):
                try:
                    await client.chat.completions.create(model="fake-chat", messages=MESSAGES)
                    seen.append("ok")
                except openai.APIStatusError as exc:
                    seen.append(str(exc.status_code))
        return seen

    fake_llm.fail_randomly(0.5, ["rate_limit", "server_error"], seed=7)
    fake_llm.script(Fault("auth"))
    first = asyncio.run(outcomes(30))
    fake_llm.fail_randomly(0.5, ["rate_limit", "server_error"], seed=7)
    again = asyncio.run(outcomes(29))

    assert first[0] == "401" and first[1:] == again
    assert {"ok", "429", "500"} == set(again)


def test_reset_restores_the_constructor_settings() -> None:
    with FakeLLMServer(usage=False, reject_json_object=True) as server:
        server.usage = True
        server.reject_json_object = False
        server.latency = 0.01
        server.responder = lambda body: "x"
        asyncio.run(ask_openai(server, response_format=openai.omit))
        server.script(Fault("auth"))
        server.fail_randomly(1.0, ["server_error"], seed=0)
        server.reset()

        assert (server.usage, server.reject_json_object, server.latency) == (False, True, 0.0)
        assert server.requests == [] and server.max_in_flight == 0
        answer = asyncio.run(ask_openai(server)).choices[0].message.content
        assert json.loads(answer) == ANSWER


def test_servers_bind_their_own_ports_and_stop_with_requests_stalled() -> None:
    async def stall(server: FakeLLMServer) -> None:
        async with openai_client(server, timeout=0.1) as client:
            with pytest.raises(openai.APITimeoutError):
                await client.chat.completions.create(model="fake-chat", messages=MESSAGES)

    with FakeLLMServer() as first, FakeLLMServer() as second:
        first.script(Fault("timeout"))
        asyncio.run(stall(first))
        assert first.base_url != second.base_url
    with pytest.raises(openai.APIConnectionError):
        asyncio.run(ask_openai(first))


def test_models_are_listed_in_each_dialect(fake_llm: FakeLLMServer) -> None:
    async def list_models() -> tuple[list[str], list[str]]:
        async with openai_client(fake_llm) as client, anthropic_client(fake_llm) as claude:
            openai_models = [model.id async for model in client.models.list()]
            anthropic_models = [model.id async for model in claude.models.list()]
            return openai_models, anthropic_models

    openai_models, anthropic_models = asyncio.run(list_models())

    assert "fake-chat" in openai_models
    assert "fake-claude" in anthropic_models


def test_a_request_held_over_a_reset_leaves_the_next_test_faults_alone(
    fake_llm: FakeLLMServer,
) -> None:
    fake_llm.latency = 60  # released by the reset below

    async def straddle() -> tuple[Any, Any]:
        held = asyncio.ensure_future(ask_openai(fake_llm))
        await until(lambda: fake_llm.request_count == 1)
        fake_llm.reset()
        fake_llm.script(Fault("refusal"))
        stale = await asyncio.gather(held, return_exceptions=True)
        return stale[0], await ask_openai(fake_llm)

    stale, fresh = asyncio.run(straddle())

    assert isinstance(stale, openai.APIStatusError) and stale.status_code == 499
    assert fresh.choices[0].message.refusal, "the scripted fault went to the new request"
