"""What a prediction costs: token prices per model, and token counts when a provider sends none.

Prices ship as data (``prices.json``, USD per million tokens) because they change more often
than the code; a deployment corrects or extends them with a file of the same shape named by
``PRELABEL_PRICES_FILE``. A model the table does not know has no price and its cost is reported
as unknown: a guessed cost would be read as a real one.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from types import MappingProxyType

from prelabel.errors import ValidationError

_SHIPPED = files("prelabel.providers") / "prices.json"

_SNAPSHOT_SUFFIX = re.compile(r"(?:-(?:\d{4}-\d{2}-\d{2}|\d{8}|\d{3}|latest))+")
"""What providers append to a model's name for a snapshot or an alias of it (``-2024-07-18``,
``-20241022``, ``-001``, ``-latest``), and nothing else: ``-mini`` or ``-5`` name another model,
which may cost something else entirely."""

_CJK = re.compile(
    r"[\u1100-\u11ff\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef\U00020000-\U0003ffff]"
)
"""Hangul, CJK radicals and punctuation, kana, ideographs and full-width forms."""

_FILE_KEYS = ("as_of", "note", "models")
_ENTRY_KEYS = ("input", "output")


def _is_rate(value: object) -> bool:
    """Whether ``value`` can be a price: a finite number, not negative (``True`` is no number)."""
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value >= 0
    )


@dataclass(frozen=True)
class Price:
    """What one model charges, in USD per million input and per million output tokens.

    >>> Price(input_per_million=0.15, output_per_million=0.6).cost(1_000, 200)
    0.00027
    """

    input_per_million: float
    output_per_million: float

    def __post_init__(self) -> None:
        for name in ("input_per_million", "output_per_million"):
            value = getattr(self, name)
            if not _is_rate(value):
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        """USD for one request that read ``input_tokens`` and wrote ``output_tokens``."""
        spent = input_tokens * self.input_per_million + output_tokens * self.output_per_million
        return spent / 1_000_000


@dataclass(frozen=True)
class PriceTable:
    """Prices by model name: the shipped table with a deployment's corrections on top.

    >>> table = PriceTable.load()
    >>> table.price_for("gpt-4o-mini-2024-07-18") == table.price_for("gpt-4o-mini")
    True
    >>> table.price_for("a-model-nobody-priced") is None
    True
    """

    prices: Mapping[str, Price]

    @classmethod
    def load(cls, override: Path | None = None) -> PriceTable:
        """The shipped prices, then the entries of ``override`` (same shape) replacing or adding.

        A configured file that cannot be read or used is an error rather than silently ignored,
        since costs would then come from prices the deployment meant to correct.
        """
        prices = _read_prices(_SHIPPED.read_text(encoding="utf-8"), "the shipped prices.json")
        if override is not None:
            try:
                text = override.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as error:
                raise ValidationError(f"{override}: cannot read the price file: {error}") from error
            prices |= _read_prices(text, str(override))
        return cls(MappingProxyType(prices))

    def price_for(self, model: str) -> Price | None:
        """The price of ``model``, or ``None`` when the table does not know it.

        An exact entry wins, so a snapshot priced differently from its model (``gpt-4o-2024-05-13``)
        can be listed on its own. Otherwise the longest entry that ``model`` extends by a snapshot
        suffix only is used: ``gpt-4o-mini-2024-07-18`` finds ``gpt-4o-mini``, but ``gpt-4o``
        never prices ``gpt-4o-mini``, even when ``gpt-4o-mini`` is not in the table.
        """
        exact = self.prices.get(model)
        if exact is not None:
            return exact
        # Cutting at each hyphen from the right meets the longest candidate first.
        cut = model.rfind("-")
        while cut > 0:
            if model[:cut] in self.prices and _SNAPSHOT_SUFFIX.fullmatch(model, cut):
                return self.prices[model[:cut]]
            cut = model.rfind("-", 0, cut)
        return None


def estimate_tokens(text: str) -> int:
    """Roughly how many tokens ``text`` is, for the cost of a response that reported no usage.

    No tokenizer fits every model, so this counts one token per CJK character (tokenizers split
    them about one each) plus one per 4 bytes of the rest in UTF-8: about 4 characters of
    English, 2 of Cyrillic or Greek, and 1 per emoji. It rounds up, so an estimated cost errs
    high, and text that is not empty is never 0 tokens.

    >>> estimate_tokens("Great kettle, arrived late.")
    7
    >>> estimate_tokens("素晴らしいケトル")
    8
    """
    cjk = len(_CJK.findall(text))
    rest = len(_CJK.sub("", text).encode("utf-8", "surrogatepass"))
    return cjk + math.ceil(rest / 4)


def _read_prices(text: str, source: str) -> dict[str, Price]:
    """The ``models`` of a price file, every entry checked; errors name ``source`` and the entry."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValidationError(
            f"{source}: not JSON ({error.msg} at line {error.lineno}, column {error.colno})"
        ) from error
    if not isinstance(document, dict) or not isinstance(document.get("models"), dict):
        raise ValidationError(
            f'{source}: must be a JSON object with a "models" object, '
            'e.g. {"models": {"gpt-4o-mini": {"input": 0.15, "output": 0.6}}}'
        )
    unknown = sorted(document.keys() - _FILE_KEYS)
    if unknown:
        raise ValidationError(
            f"{source}: unknown key {unknown[0]!r} (allowed: as_of, note, models)"
        )
    return {
        model: _read_entry(entry, f"{source}: model {model!r}")
        for model, entry in document["models"].items()
    }


def _read_entry(entry: object, where: str) -> Price:
    """One ``{"input": ..., "output": ...}`` entry as a ``Price``."""
    if not isinstance(entry, dict):
        raise ValidationError(f'{where}: must be an object like {{"input": 0.15, "output": 0.6}}')
    for key in _ENTRY_KEYS:
        if key not in entry:
            raise ValidationError(f"{where}: missing {key!r} (USD per million {key} tokens)")
        if not _is_rate(entry[key]):
            raise ValidationError(
                f"{where}: {key!r} must be a number >= 0 (USD per million tokens), "
                f"got {json.dumps(entry[key])}"
            )
    unknown = sorted(entry.keys() - _ENTRY_KEYS)
    if unknown:
        raise ValidationError(f"{where}: unknown field {unknown[0]!r} (allowed: input, output)")
    return Price(input_per_million=float(entry["input"]), output_per_million=float(entry["output"]))
