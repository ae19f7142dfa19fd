"""Prices and token estimates: cost arithmetic, which entry prices a model name (and which must
not), override files and their errors, and token estimates for text without reported usage."""

from __future__ import annotations

import json
import math
from importlib.resources import files
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prelabel.errors import ValidationError
from prelabel.providers.prices import Price, PriceTable, estimate_tokens
from prelabel.settings import Settings

SHIPPED = PriceTable.load()
MINI = Price(input_per_million=0.15, output_per_million=0.6)


def write_prices(tmp_path: Path, models: object) -> Path:
    path = tmp_path / "prices.json"
    path.write_text(json.dumps({"as_of": "2030-01-01", "models": models}), encoding="utf-8")
    return path


def test_cost_is_tokens_times_price_per_million() -> None:
    assert MINI.cost(1_000_000, 1_000_000) == pytest.approx(0.75)
    assert MINI.cost(1_000, 200) == pytest.approx(0.00015 + 0.00012)
    assert MINI.cost(0, 0) == 0


def test_local_model_costs_nothing() -> None:
    price = SHIPPED.price_for("local")
    assert price == Price(input_per_million=0, output_per_million=0)
    assert price.cost(10_000, 10_000) == 0


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(-0.01, id="negative"),
        pytest.param(math.nan, id="nan"),
        pytest.param(math.inf, id="infinite"),
    ],
)
def test_price_rejects_what_cannot_be_a_price(value: float) -> None:
    with pytest.raises(ValueError, match="input_per_million must be a finite number >= 0"):
        Price(input_per_million=value, output_per_million=1.0)


@pytest.mark.parametrize(
    "model", ["gpt-4o", "gpt-4.1-mini", "o4-mini", "claude-sonnet-4-5", "gemini-2.5-flash"]
)
def test_shipped_table_prices_each_provider_family(model: str) -> None:
    assert SHIPPED.price_for(model) is not None
    assert SHIPPED.price_for("gpt-4o-mini") == MINI


def test_shipped_file_says_the_prices_must_be_checked() -> None:
    shipped = files("prelabel.providers").joinpath("prices.json")
    document = json.loads(shipped.read_text(encoding="utf-8"))
    assert document["as_of"]
    assert "verify against your provider's price page" in document["note"]
    assert "PRELABEL_PRICES_FILE" in document["note"]


@pytest.mark.parametrize(
    ("model", "entry"),
    [
        pytest.param("gpt-4o-mini-2024-07-18", "gpt-4o-mini", id="openai-dashed-date"),
        pytest.param("gpt-4o-2024-08-06", "gpt-4o", id="openai-shorter-name"),
        pytest.param("claude-3-5-sonnet-20241022", "claude-3-5-sonnet", id="anthropic-date"),
        pytest.param("claude-sonnet-4-5-20250929", "claude-sonnet-4-5", id="anthropic-versioned"),
        pytest.param("claude-3-7-sonnet-latest", "claude-3-7-sonnet", id="latest-alias"),
        pytest.param("gemini-2.0-flash-001", "gemini-2.0-flash", id="gemini-version"),
    ],
)
def test_snapshot_is_priced_as_its_model(model: str, entry: str) -> None:
    assert model not in SHIPPED.prices
    assert SHIPPED.price_for(model) == SHIPPED.prices[entry]


def test_exact_entry_wins_over_the_model_it_extends() -> None:
    assert SHIPPED.price_for("gpt-4o-2024-05-13") == Price(5.0, 15.0)
    assert SHIPPED.price_for("gpt-4o-2024-05-13") != SHIPPED.price_for("gpt-4o")


def test_snapshot_is_priced_by_the_longest_entry_it_extends() -> None:
    table = PriceTable({"acme": Price(1.0, 2.0), "acme-001": Price(3.0, 4.0)})
    assert table.price_for("acme-001-20250101") == Price(3.0, 4.0)
    assert table.price_for("acme-002-20250101") == Price(1.0, 2.0)
    assert table.price_for("acme-latest") == Price(1.0, 2.0)


def test_snapshot_of_the_smaller_model_is_not_priced_as_the_larger_when_both_exist() -> None:
    assert SHIPPED.price_for("gpt-4o-mini-2024-07-18") == MINI
    assert SHIPPED.price_for("claude-opus-4-1-20250805") == SHIPPED.prices["claude-opus-4-1"]


@pytest.mark.parametrize(
    "model",
    [
        pytest.param("gpt-4o-mini", id="another-model"),
        pytest.param("gpt-4o-mini-2024-07-18", id="another-models-snapshot"),
        pytest.param("gpt-4o-audio-preview", id="variant"),
        pytest.param("gpt-4oo", id="no-hyphen"),
        pytest.param("gpt-4o-5", id="short-number"),
        pytest.param("gpt-4o-2024-07", id="partial-date"),
        pytest.param("ft:gpt-4o:acme::abc123", id="fine-tune"),
    ],
)
def test_entry_never_prices_another_model(model: str) -> None:
    table = PriceTable({"gpt-4o": Price(2.5, 10.0)})
    assert table.price_for(model) is None


@pytest.mark.parametrize(
    "model",
    [
        pytest.param("no-such-model", id="unknown"),
        pytest.param("", id="empty"),
        pytest.param("-latest", id="suffix-only"),
        pytest.param("claude-opus-4-9-20300101", id="future-minor-version"),
    ],
)
def test_unknown_model_has_no_price(model: str) -> None:
    assert SHIPPED.price_for(model) is None


def test_override_file_adds_and_replaces_entries(tmp_path: Path) -> None:
    path = write_prices(
        tmp_path,
        {"gpt-4o-mini": {"input": 0.1, "output": 0.5}, "my-model": {"input": 1, "output": 2}},
    )
    table = PriceTable.load(path)
    assert table.price_for("gpt-4o-mini") == Price(0.1, 0.5)
    assert table.price_for("gpt-4o-mini-2024-07-18") == Price(0.1, 0.5)
    assert table.price_for("my-model") == Price(1.0, 2.0)
    assert table.price_for("my-model-2030-01-01") == Price(1.0, 2.0)
    assert table.price_for("gpt-4o") == SHIPPED.prices["gpt-4o"]


def test_override_file_is_read_from_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_prices(tmp_path, {"my-model": {"input": 1, "output": 2}})
    monkeypatch.setenv("PRELABEL_PRICES_FILE", str(path))
    assert PriceTable.load(Settings().prices_file).price_for("my-model") == Price(1.0, 2.0)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param('{"models": {', "not JSON (Expecting", id="not-json"),
        pytest.param("[]", 'must be a JSON object with a "models" object', id="not-an-object"),
        pytest.param(
            '{"gpt-4o": {"input": 1, "output": 2}}',
            'must be a JSON object with a "models" object',
            id="no-models",
        ),
        pytest.param(
            '{"models": {}, "currency": "EUR"}', "unknown key 'currency'", id="unknown-key"
        ),
        pytest.param(
            '{"models": {"gpt-4o": 2.5}}', "model 'gpt-4o': must be an object", id="bare-number"
        ),
        pytest.param(
            '{"models": {"gpt-4o": {"input": -1, "output": 2}}}',
            "model 'gpt-4o': 'input' must be a number >= 0 (USD per million tokens), got -1",
            id="negative",
        ),
        pytest.param(
            '{"models": {"gpt-4o": {"input": 1}}}',
            "model 'gpt-4o': missing 'output'",
            id="missing-field",
        ),
        pytest.param(
            '{"models": {"gpt-4o": {"input": "2.50", "output": 10}}}',
            "model 'gpt-4o': 'input' must be a number >= 0 (USD per million tokens), got \"2.50\"",
            id="string",
        ),
        pytest.param(
            '{"models": {"gpt-4o": {"input": true, "output": 10}}}',
            "model 'gpt-4o': 'input' must be a number >= 0 (USD per million tokens), got true",
            id="boolean",
        ),
        pytest.param(
            '{"models": {"gpt-4o": {"input": 1, "output": NaN}}}',
            "model 'gpt-4o': 'output' must be a number >= 0 (USD per million tokens), got NaN",
            id="nan",
        ),
        pytest.param(
            '{"models": {"gpt-4o": {"input": 1, "output": 2, "ouput": 3}}}',
            "model 'gpt-4o': unknown field 'ouput'",
            id="unknown-field",
        ),
    ],
)
def test_bad_override_file_is_an_error_naming_the_file_and_entry(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "my-prices.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValidationError) as caught:
        PriceTable.load(path)
    assert caught.value.message.startswith(f"{path}: ")
    assert message in caught.value.message


def test_missing_override_file_is_an_error_not_the_shipped_prices(tmp_path: Path) -> None:
    path = tmp_path / "absent.json"
    with pytest.raises(ValidationError, match="cannot read the price file"):
        PriceTable.load(path)


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        pytest.param("", 0, id="empty"),
        pytest.param(" ", 1, id="one-space"),
        pytest.param("a" * 400, 100, id="four-characters-a-token"),
        pytest.param("The quick brown fox jumps over the lazy dog.", 11, id="english"),
        pytest.param("这个水壶很好用", 7, id="chinese"),
        pytest.param("素晴らしいケトル", 8, id="japanese"),
        pytest.param("좋은 주전자", 6, id="korean-and-a-space"),
        pytest.param("Kettle 很好", 4, id="mixed"),
        pytest.param("Привет", 3, id="cyrillic-two-characters-a-token"),
        pytest.param("👍", 1, id="emoji"),
        pytest.param("👍👍👍👍", 4, id="emoji-each"),
        pytest.param("\ud800", 1, id="lone-surrogate"),
    ],
)
def test_estimate_tokens(text: str, tokens: int) -> None:
    assert estimate_tokens(text) == tokens


@given(st.text(min_size=1))
def test_estimate_tokens_is_never_zero_for_text(text: str) -> None:
    assert estimate_tokens(text) >= 1
