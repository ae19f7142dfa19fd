"""Reading rate-limit and retry headers, which each provider family spells its own way.

Unreadable values become ``None`` rather than errors: a header is advice for pacing, and a
malformed one must never fail an answer that otherwise arrived.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from prelabel.providers.base import RateLimitInfo

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_UNIT_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


def parse_duration(value: str | None) -> float | None:
    """Seconds in an OpenAI-style duration such as ``"1s"``, ``"6m0s"``, ``"20ms"`` or ``"0.5"``.

    A bare number is read as seconds, which is what several compatible servers send.
    """
    if value is None:
        return None
    text = value.strip().lower()
    number = _parse_float(text)
    if number is not None:
        return number
    parts = _DURATION_PART.findall(text)
    if not parts or "".join(amount + unit for amount, unit in parts) != text:
        return None
    return sum(float(amount) * _UNIT_SECONDS[unit] for amount, unit in parts)


def parse_retry_after(headers: Mapping[str, str], *, now: datetime | None = None) -> float | None:
    """The wait asked for: ``retry-after-ms``, else ``retry-after`` (seconds or HTTP date)."""
    millis = _parse_float(headers.get("retry-after-ms"))
    if millis is not None:
        return millis / 1000
    value = headers.get("retry-after")
    if value is None:
        return None
    seconds = _parse_float(value)
    if seconds is not None:
        return seconds
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def openai_rate_limits(headers: Mapping[str, str]) -> RateLimitInfo | None:
    """``x-ratelimit-{limit,remaining,reset}-{requests,tokens}``, or ``None`` when none is sent."""
    info = RateLimitInfo(
        requests_limit=_parse_int(headers.get("x-ratelimit-limit-requests")),
        requests_remaining=_parse_int(headers.get("x-ratelimit-remaining-requests")),
        requests_reset=parse_duration(headers.get("x-ratelimit-reset-requests")),
        tokens_limit=_parse_int(headers.get("x-ratelimit-limit-tokens")),
        tokens_remaining=_parse_int(headers.get("x-ratelimit-remaining-tokens")),
        tokens_reset=parse_duration(headers.get("x-ratelimit-reset-tokens")),
    )
    return None if info == RateLimitInfo() else info


def anthropic_rate_limits(
    headers: Mapping[str, str], *, now: datetime | None = None
) -> RateLimitInfo | None:
    """``anthropic-ratelimit-{requests,tokens}-{limit,remaining,reset}`` (reset is RFC 3339)."""
    current = now or datetime.now(UTC)
    info = RateLimitInfo(
        requests_limit=_parse_int(headers.get("anthropic-ratelimit-requests-limit")),
        requests_remaining=_parse_int(headers.get("anthropic-ratelimit-requests-remaining")),
        requests_reset=_seconds_until(headers.get("anthropic-ratelimit-requests-reset"), current),
        tokens_limit=_parse_int(headers.get("anthropic-ratelimit-tokens-limit")),
        tokens_remaining=_parse_int(headers.get("anthropic-ratelimit-tokens-remaining")),
        tokens_reset=_seconds_until(headers.get("anthropic-ratelimit-tokens-reset"), current),
    )
    return None if info == RateLimitInfo() else info


def wait_from_rate_limits(info: RateLimitInfo | None) -> float | None:
    """A 429's wait when it sent no ``Retry-After``: when the exhausted budget comes back.

    A reset is the time until a budget is *fully* restored, so waiting for the token reset
    when only requests ran out (or the reverse) would idle for minutes; the reset of the
    exhausted budget is used, and when neither says it is exhausted, the sooner of the two.
    """
    if info is None:
        return None
    budgets = (
        (info.requests_remaining, info.requests_reset),
        (info.tokens_remaining, info.tokens_reset),
    )
    exhausted = [reset for remaining, reset in budgets if remaining == 0 and reset is not None]
    if exhausted:
        return max(exhausted)
    return min((reset for _, reset in budgets if reset is not None), default=None)


def _seconds_until(value: str | None, now: datetime) -> float | None:
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - now).total_seconds())


def _parse_float(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value.strip())
    except ValueError:
        return None
    return number if math.isfinite(number) and number >= 0 else None


def _parse_int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None
