"""Reading retry and rate-limit headers, and the error each failing status becomes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from prelabel.errors import (
    ProviderAuthError,
    ProviderRateLimited,
    ProviderRequestError,
    ProviderTimeout,
    ProviderUnavailable,
)
from prelabel.providers import ChatRequest, RateLimitInfo
from prelabel.providers._errors import error_for_status, provider_message
from prelabel.providers._ratelimits import (
    anthropic_rate_limits,
    openai_rate_limits,
    parse_duration,
    parse_retry_after,
    wait_from_rate_limits,
)

NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        pytest.param("1s", 1.0, id="seconds"),
        pytest.param("6m0s", 360.0, id="minutes"),
        pytest.param("20ms", 0.02, id="milliseconds"),
        pytest.param("1h2m3.5s", 3723.5, id="hours"),
        pytest.param("0.5", 0.5, id="bare-number"),
        pytest.param("soon", None, id="words"),
        pytest.param("5s later", None, id="trailing-text"),
        pytest.param("-1", None, id="negative"),
        pytest.param(None, None, id="absent"),
    ],
)
def test_parse_duration_reads_openai_reset_durations(
    text: str | None, seconds: float | None
) -> None:
    assert parse_duration(text) == (pytest.approx(seconds) if seconds is not None else None)


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        pytest.param({"retry-after": "7"}, 7.0, id="seconds"),
        pytest.param({"retry-after": "Sat, 01 Mar 2025 12:00:30 GMT"}, 30.0, id="http-date"),
        pytest.param({"retry-after": "Sat, 01 Mar 2025 11:59:00 GMT"}, 0.0, id="date-passed"),
        pytest.param({"retry-after-ms": "250", "retry-after": "1"}, 0.25, id="milliseconds"),
        pytest.param({"retry-after": "whenever"}, None, id="unreadable"),
        pytest.param({}, None, id="absent"),
    ],
)
def test_parse_retry_after_reads_seconds_dates_and_milliseconds(
    headers: dict[str, str], seconds: float | None
) -> None:
    assert parse_retry_after(headers, now=NOW) == seconds


def test_openai_rate_limits_are_none_without_headers() -> None:
    assert openai_rate_limits({"content-type": "application/json"}) is None


def test_anthropic_rate_limit_resets_are_seconds_from_now() -> None:
    info = anthropic_rate_limits(
        {
            "anthropic-ratelimit-requests-remaining": "0",
            "anthropic-ratelimit-requests-reset": "2025-03-01T12:00:04Z",
            "anthropic-ratelimit-tokens-reset": "not a time",
        },
        now=NOW,
    )

    assert info == RateLimitInfo(requests_remaining=0, requests_reset=4.0)


@pytest.mark.parametrize(
    ("info", "wait"),
    [
        pytest.param(
            RateLimitInfo(requests_remaining=0, requests_reset=1.0, tokens_reset=360.0),
            1.0,
            id="requests-spent",
        ),
        pytest.param(
            RateLimitInfo(tokens_remaining=0, requests_reset=1.0, tokens_reset=20.0),
            20.0,
            id="tokens-spent",
        ),
        pytest.param(
            RateLimitInfo(requests_reset=2.0, tokens_reset=0.5), 0.5, id="unknown-soonest"
        ),
        pytest.param(RateLimitInfo(requests_limit=10), None, id="no-resets"),
        pytest.param(None, None, id="no-headers"),
    ],
)
def test_wait_without_retry_after_is_the_reset_of_the_spent_budget(
    info: RateLimitInfo | None, wait: float | None
) -> None:
    assert wait_from_rate_limits(info) == wait


@pytest.mark.parametrize(
    ("status", "code", "error", "fatal"),
    [
        pytest.param(429, "rate_limit_exceeded", ProviderRateLimited, False, id="429"),
        pytest.param(429, "insufficient_quota", ProviderRequestError, True, id="429-no-credit"),
        pytest.param(401, None, ProviderAuthError, True, id="401"),
        pytest.param(403, None, ProviderAuthError, True, id="403"),
        pytest.param(408, None, ProviderTimeout, False, id="408"),
        pytest.param(400, None, ProviderRequestError, False, id="400"),
        pytest.param(404, None, ProviderRequestError, True, id="404-unknown-model"),
        pytest.param(503, None, ProviderUnavailable, False, id="503"),
        pytest.param(529, None, ProviderUnavailable, False, id="529-overloaded"),
    ],
)
def test_each_status_becomes_its_provider_error(
    status: int, code: str | None, error: type[Exception], fatal: bool
) -> None:
    result = error_for_status(status, "why", code=code, headers={}, rate_limits=None)

    assert isinstance(result, error)
    assert result.retryable == (
        error in (ProviderRateLimited, ProviderTimeout, ProviderUnavailable)
    )
    assert result.fatal == fatal, "a fatal error stops the run instead of failing each task"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param({"error": {"message": "bad model"}}, "bad model", id="openai"),
        pytest.param({"detail": "field required"}, "field required", id="fastapi"),
        pytest.param({"error": "overloaded"}, "overloaded", id="error-string"),
        pytest.param("<html>Bad   Gateway</html>", "<html>Bad Gateway</html>", id="text"),
        pytest.param(None, "Error code: 418", id="fallback"),
    ],
)
def test_provider_message_is_found_where_servers_put_it(body: object, message: str) -> None:
    assert provider_message(body, "Error code: 418", "sk-secret") == message


def test_provider_message_is_cut_short_and_never_holds_the_key() -> None:
    message = provider_message({"error": {"message": "key sk-secret " * 100}}, "", "sk-secret")

    assert "sk-secret" not in message
    assert len(message) == 300 and message.endswith("…")


def test_chat_request_refuses_unknown_roles_and_empty_messages() -> None:
    with pytest.raises(ValueError, match="unknown message role 'tool'"):
        ChatRequest(messages=({"role": "tool", "content": "x"},), model="m", schema={})
    with pytest.raises(ValueError, match="at least one message"):
        ChatRequest(messages=(), model="m", schema={})
