"""Turning an HTTP failure into the ``ProviderError`` family, the same way for every SDK.

Both SDKs raise one exception class per status code, but what the engine needs is the status
itself: whether to wait (429), retry (5xx, 408), stop the run (401/403) or give up on the task
(any other 4xx). Messages quote the provider's own explanation, cut short and with the API key
blanked out, since some servers echo the key they were given.
"""

from __future__ import annotations

from collections.abc import Mapping

from prelabel.errors import (
    ProviderAuthError,
    ProviderError,
    ProviderRequestError,
    ProviderTimeout,
    ProviderUnavailable,
)
from prelabel.providers._ratelimits import parse_retry_after, wait_from_rate_limits
from prelabel.providers.base import ProviderRateLimitedWithInfo, RateLimitInfo

MAX_MESSAGE_CHARS = 300
_REDACTED = "[redacted]"


def redact(text: str, secret: str | None) -> str:
    """``text`` without ``secret`` in it, so no message ever carries the key."""
    return text.replace(secret, _REDACTED) if secret else text


def connection_error(
    exc: Exception,
    *,
    sdk_timeout: type[Exception],
    elapsed: float,
    timeout: float,
    secret: str | None,
) -> ProviderError:
    """A timeout, or an endpoint that could not be reached, from what the SDK or
    ``asyncio.timeout`` raised ``elapsed`` seconds into a request limited to ``timeout``.

    The SDKs' timeout errors (``sdk_timeout``) are connection errors too, and their aiohttp
    transport reports a refused connection as a connect timeout: only a timeout that came
    when the time was up is one.
    """
    if isinstance(exc, TimeoutError) or (isinstance(exc, sdk_timeout) and elapsed >= timeout):
        return ProviderTimeout(f"the provider did not answer within {timeout:g} s")
    cause = redact(str(exc.__cause__ or exc), secret)
    return ProviderUnavailable(f"could not reach the provider: {cause}")


def provider_message(body: object, fallback: str, secret: str | None) -> str:
    """The provider's explanation of a failure, from the usual places in an error body.

    OpenAI and Anthropic put it at ``error.message``; FastAPI-based servers (vLLM, TGI and
    others) at ``detail``; some send plain text.
    """
    message: object = fallback
    if isinstance(body, Mapping):
        error = body.get("error")
        if isinstance(error, Mapping) and error.get("message"):
            message = error["message"]
        elif isinstance(error, str) and error:
            message = error
        elif body.get("message"):
            message = body["message"]
        elif body.get("detail"):
            message = body["detail"]
    elif isinstance(body, str) and body.strip():
        message = body
    # Redact before cutting, or a key cut in half would keep its first characters.
    text = redact(" ".join(str(message).split()), secret)
    if len(text) > MAX_MESSAGE_CHARS:
        text = text[: MAX_MESSAGE_CHARS - 1] + "…"
    return text


def error_code(body: object) -> str | None:
    """The machine-readable ``error.code`` (or ``error.type``) of an OpenAI-style error body."""
    if not isinstance(body, Mapping):
        return None
    error = body.get("error")
    if not isinstance(error, Mapping):
        return None
    code = error.get("code") or error.get("type")
    return str(code) if code is not None else None


def error_for_status(
    status: int,
    message: str,
    *,
    code: str | None,
    headers: Mapping[str, str],
    rate_limits: RateLimitInfo | None,
) -> ProviderError:
    """The ``ProviderError`` for an HTTP error answer; ``message`` is already redacted.

    A 429 whose code is ``insufficient_quota`` is OpenAI saying the account has no credit:
    waiting cannot help, so it is a request error rather than a rate limit.
    """
    if status == 429 and code != "insufficient_quota":
        retry_after = parse_retry_after(headers)
        if retry_after is None:
            retry_after = wait_from_rate_limits(rate_limits)
        return ProviderRateLimitedWithInfo(
            f"the provider is rate limiting requests (429): {message}",
            retry_after=retry_after,
            rate_limits=rate_limits,
        )
    if status in (401, 403):
        return ProviderAuthError(f"the provider refused the API key ({status})")
    if status == 408:
        return ProviderTimeout(f"the provider gave up waiting for the request (408): {message}")
    if status >= 500:
        return ProviderUnavailable(f"the provider failed ({status}): {message}")
    return ProviderRequestError(
        f"the provider rejected the request ({status}): {message}",
        fatal=status == 404 or code == "insufficient_quota",
    )
