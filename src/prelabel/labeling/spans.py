"""Turn entity text quoted by an LLM into Label Studio character offsets.

An LLM asked for named entities answers with the entity's text (``"Paris"``), not with
offsets: models count characters badly. Label Studio wants ``start``/``end`` offsets with
``text == data[start:end]``. :func:`align_spans` bridges the two. It never invents a span:
whatever it cannot place comes back as an :class:`UnlocatedSpan` with a readable reason.

Offsets are Python code points, end exclusive. Label Studio's frontend counts UTF-16 code
units (an emoji is 2), so :func:`utf16_offsets` and :func:`codepoint_offsets` convert, and
:func:`span_unit` tells which of the two counts a stored region uses.

Alignment rules
---------------
* **Request text.** Leading and trailing whitespace of the request is ignored, so a span
  never begins or ends with whitespace. Empty or whitespace-only text is unlocated.
* **Whole characters only.** A match must start and end between grapheme clusters: it never
  starts on a combining mark and never ends right before one, and never cuts an emoji ZWJ
  sequence, a skin-tone modifier, a flag, a Hangul syllable in jamo, an Indic conjunct or
  CR LF. This is a close approximation of Unicode text segmentation (UAX #29), which the
  standard library lacks.
* **Matching tiers.** The request is looked up with each matcher below in turn; the first one
  that finds it at all is used, and only its matches count:

  1. exact text;
  2. Unicode NFC on both sides (a composed ``é`` matches ``e`` + U+0301 and vice versa);
  3. NFC with whitespace runs in the request matching whitespace runs in the document;
  4. as 3, case-insensitively (``str.casefold``).

  Every matcher maps back to offsets in the original document, so ``Span.text`` is always
  ``document[start:end]`` -- the document's characters, not the request's.
* **Occurrences** are the matches of the chosen tier, left to right, found by trying every
  start position (so in ``"aaaa"``, ``"aa"`` occurs at 0, 1 and 2). Counting every start
  position makes each whole-character slice of the document one of the occurrences of its
  own text, which is what lets :func:`occurrence_of` invert :func:`align_spans`.
* **``occurrence=N``** takes the N-th occurrence (1-based). Too few occurrences, or an N-th
  occurrence that overlaps a span already placed, leaves the request unlocated.
* **``occurrence=None``** takes the first occurrence that overlaps no placed span, preferring
  one at word edges on both sides, so ``"art"`` lands on a standalone "art" rather than inside
  an earlier "party". Letters and digits of spaced scripts join into words; characters of
  scripts written without spaces (Chinese, Japanese, Thai, Lao, Khmer, Myanmar, Tibetan, Yi)
  never do, so ``"北京"`` in ``"我在北京工作"`` is at word edges. Without a free word-edge
  occurrence the first free occurrence is taken. Listing ``"Paris"`` twice therefore places
  the first and the second "Paris".
* **Placement order.** Spans never overlap. Requests with an explicit occurrence are placed
  first, then the others in order of matcher tier (exact matches before fallbacks), each
  group in request order, so a pinned or exact request is not crowded out by a looser one.
  Both returned lists are in request order.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from itertools import accumulate, chain, pairwise
from typing import Literal

__all__ = [
    "Span",
    "SpanRequest",
    "UnlocatedSpan",
    "align_spans",
    "codepoint_offsets",
    "occurrence_of",
    "span_unit",
    "utf16_offsets",
]


@dataclass(frozen=True)
class SpanRequest:
    """Entity text as an LLM quoted it; ``occurrence`` (1-based) picks among repeats."""

    text: str
    label: str
    occurrence: int | None = None


@dataclass(frozen=True)
class Span:
    """A located entity: code point offsets, end exclusive, ``text == document[start:end]``."""

    start: int
    end: int
    text: str
    label: str


@dataclass(frozen=True)
class UnlocatedSpan:
    """A request that could not be placed, kept so callers can report it instead of losing it."""

    text: str
    label: str
    occurrence: int | None
    reason: str


@dataclass(frozen=True)
class _Fold:
    """A fallback matcher: how text is rewritten, and whether whitespace runs collapse.

    ``linear`` returns the rewritten text only when it keeps every character in place (one
    character in, one out), which is the common case and lets a whole stretch of the
    document be rewritten at once instead of cluster by cluster.
    """

    normalise: Callable[[str], str]
    linear: Callable[[str], str | None]
    collapse_space: bool

    def request(self, text: str) -> str:
        folded = self.normalise(text)
        return " ".join(folded.split()) if self.collapse_space else folded


@dataclass(frozen=True)
class _Folded:
    """A document rewritten by one fold, as pieces that each map back to the original.

    Piece ``k`` starts at ``starts[k]`` in ``text`` and at ``origins[k]`` in the document.
    Inside a linear piece every offset maps back; inside any other piece (a rewritten
    cluster, a collapsed whitespace run) only its start does, so a match can never begin or
    end part-way through what one original cluster became.
    """

    text: str
    starts: list[int]
    origins: list[int]
    linear: list[bool]

    def origin(self, offset: int) -> int | None:
        k = bisect.bisect_right(self.starts, offset) - 1
        if offset == self.starts[k]:
            return self.origins[k]
        return self.origins[k] + offset - self.starts[k] if self.linear[k] else None


@dataclass(frozen=True)
class _Candidates:
    """The occurrences of one request in its matcher tier (0 = exact), or why there are none."""

    tier: int
    matches: list[tuple[int, int]]
    reason: str = ""


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _nfc_casefold(text: str) -> str:
    return _nfc(_nfc(text).casefold())


def _nfc_in_place(text: str) -> str | None:
    return text if unicodedata.is_normalized("NFC", text) else None


def _nfc_casefold_in_place(text: str) -> str | None:
    if not unicodedata.is_normalized("NFC", text):
        return None
    folded = text.casefold()  # never shorter per character, so equal length means 1:1
    if len(folded) == len(text) and unicodedata.is_normalized("NFC", folded):
        return folded
    return None


_FOLDS = (
    _Fold(_nfc, _nfc_in_place, collapse_space=False),
    _Fold(_nfc, _nfc_in_place, collapse_space=True),
    _Fold(_nfc_casefold, _nfc_casefold_in_place, collapse_space=True),
)

_ZWJ, _ZWNJ = "\u200d", "\u200c"
_VIRAMA = 9  # canonical combining class of viramas (halant), which glue Indic conjuncts
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
_SPACE_RUNS = re.compile(r"\s+")

# First and last code point of the blocks of scripts written without spaces between words.
_UNSPACED = (
    (0x0E00, 0x109F),  # Thai, Lao, Tibetan, Myanmar
    (0x1780, 0x17FF),  # Khmer
    (0x2E80, 0x2FDF),  # CJK radicals, Kangxi radicals
    (0x3000, 0x312F),  # CJK symbols (々), Hiragana, Katakana, Bopomofo
    (0x3190, 0x31FF),  # Kanbun, Bopomofo extended, CJK strokes, Katakana extension
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0xA4CF),  # CJK unified ideographs, Yi
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFF66, 0xFF9F),  # halfwidth Katakana
    (0x1B000, 0x1B2FF),  # Kana supplement and extensions, Nushu
    (0x20000, 0x3FFFF),  # CJK extensions B and later
)
_UNSPACED_FIRST = [first for first, _ in _UNSPACED]


def align_spans(
    document: str, requests: Sequence[SpanRequest]
) -> tuple[list[Span], list[UnlocatedSpan]]:
    """Place each request in ``document`` by the module's rules; both lists keep request order."""
    index = _Index(document)
    found = [index.candidates(request) for request in requests]
    order = sorted(
        range(len(requests)),
        key=lambda k: (requests[k].occurrence is None, found[k].tier, k),
    )
    placed = _Placed()
    outcomes: dict[int, Span | UnlocatedSpan] = {}
    for k in order:
        outcomes[k] = _place(document, requests[k], found[k], placed)
    results = [outcomes[k] for k in range(len(requests))]
    return (
        [result for result in results if isinstance(result, Span)],
        [result for result in results if isinstance(result, UnlocatedSpan)],
    )


def occurrence_of(document: str, start: int, end: int) -> int:
    """Return which occurrence of ``document[start:end]`` this is, as ``align_spans`` counts.

    Lets callers turn stored offsets (gold annotations, few-shot examples) into the
    ``occurrence`` an LLM should answer with. Raises ``ValueError`` for a slice that
    ``align_spans`` could never return: out of range, empty, with leading or trailing
    whitespace, or cutting through a character sequence.
    """
    _check_range(document, start, end)
    text = document[start:end]
    if not text.strip() or text != text.strip():
        raise ValueError(
            f"{text!r} at {start}-{end} is empty or has surrounding whitespace, "
            "which align_spans strips"
        )
    if not _whole_characters(document, start, end):
        raise ValueError(f"{start}-{end} cuts through a combined character sequence")
    count = 0
    for match_start, _ in _exact_matches(document, text):
        if match_start >= start:
            break
        count += 1
    return count + 1


def utf16_offsets(document: str, start: int, end: int) -> tuple[int, int]:
    """Convert code point offsets to the UTF-16 code units Label Studio's frontend counts."""
    _check_range(document, start, end)
    astral = [match.start() for match in _ASTRAL.finditer(document, 0, end)]
    return start + bisect.bisect_left(astral, start), end + len(astral)


def codepoint_offsets(document: str, start16: int, end16: int) -> tuple[int, int]:
    """Convert UTF-16 code unit offsets back to code points.

    Raises ``ValueError`` if an offset is out of range or falls between the two halves of a
    surrogate pair, which no code point offset can express.
    """
    # UTF-16 offset at which each astral (two-unit) character starts.
    astral16 = [match.start() + k for k, match in enumerate(_ASTRAL.finditer(document))]
    length16 = len(document) + len(astral16)
    if not 0 <= start16 <= end16 <= length16:
        raise ValueError(
            f"UTF-16 offsets {start16}-{end16} are outside the document (0-{length16})"
        )
    return _from_utf16(astral16, start16), _from_utf16(astral16, end16)


def span_unit(
    document: str, start: int, end: int, text: str
) -> Literal["codepoint", "utf16"] | None:
    """Tell whether offsets count code points or UTF-16 units, judged by the covered text.

    Regions written by Label Studio's frontend count UTF-16 units; ones written by Python
    count code points. Both readings agree when nothing before ``end`` is astral, and then
    ``"codepoint"`` is returned. ``None`` means neither reading yields ``text``.
    """
    if 0 <= start <= end <= len(document) and document[start:end] == text:
        return "codepoint"
    try:
        cp_start, cp_end = codepoint_offsets(document, start, end)
    except ValueError:
        return None
    return "utf16" if document[cp_start:cp_end] == text else None


class _Index:
    """Lookups in one document, each built once per call and only when a request needs it."""

    def __init__(self, document: str) -> None:
        self.document = document
        self._found: dict[str, _Candidates] = {}
        self._folded: dict[_Fold, _Folded] = {}

    def candidates(self, request: SpanRequest) -> _Candidates:
        text = request.text.strip()
        if not text:
            return _Candidates(0, [], "empty text")
        if request.occurrence is not None and request.occurrence < 1:
            return _Candidates(0, [], f"occurrence {request.occurrence} is not 1 or more")
        if text not in self._found:
            self._found[text] = self._search(text)
        return self._found[text]

    def _search(self, text: str) -> _Candidates:
        exact = list(_exact_matches(self.document, text))
        if exact:
            return _Candidates(0, exact)
        for tier, fold in enumerate(_FOLDS, start=1):
            matches = self._fold_matches(fold, fold.request(text))
            if matches:
                return _Candidates(tier, matches)
        inside = self.document.find(text)
        if inside >= 0:
            return _Candidates(
                0,
                [],
                "not found in the text except inside a combined character "
                f"at {inside}-{inside + len(text)}",
            )
        return _Candidates(0, [], "not found in the text")

    def _fold_matches(self, fold: _Fold, needle: str) -> list[tuple[int, int]]:
        folded = self._folded.get(fold)
        if folded is None:
            folded = self._folded[fold] = self._fold(fold)
        matches = []
        for folded_start in _find_all(folded.text, needle):
            start = folded.origin(folded_start)
            end = folded.origin(folded_start + len(needle))
            if (
                start is not None
                and end is not None
                and _whole_characters(self.document, start, end)
            ):
                matches.append((start, end))
        return matches

    def _fold(self, fold: _Fold) -> _Folded:
        """Rewrite the document in stretches, falling back to per cluster where needed.

        NFC never composes across a cluster edge (every character that composes onto a
        preceding one is a combining mark or a Hangul jamo, which stay inside a cluster),
        so rewriting cluster by cluster gives the same text as rewriting the whole.
        """
        document = self.document
        whole = fold.linear(document)
        pieces: list[tuple[str, int, bool]] = []  # (rewritten text, original start, linear)
        for start, end, space in _stretches(document, fold.collapse_space or whole is None):
            if space and fold.collapse_space:
                pieces.append((" ", start, False))
                continue
            in_place = whole[start:end] if whole is not None else fold.linear(document[start:end])
            if in_place is not None:
                pieces.append((in_place, start, True))
                continue
            edges = [i for i in range(start + 1, end) if _boundary(document, i)]
            for cluster_start, cluster_end in pairwise([start, *edges, end]):
                cluster = document[cluster_start:cluster_end]
                pieces.append((fold.normalise(cluster), cluster_start, False))
        pieces.append(("", len(document), False))
        lengths = [len(part) for part, _, _ in pieces]
        return _Folded(
            text="".join(part for part, _, _ in pieces),
            starts=list(accumulate(lengths[:-1], initial=0)),
            origins=[origin for _, origin, _ in pieces],
            linear=[linear for _, _, linear in pieces],
        )


class _Placed:
    """The spans placed so far, sorted, for O(log n) overlap checks."""

    def __init__(self) -> None:
        self._starts: list[int] = []
        self._ends: list[int] = []
        self._spans: list[Span] = []

    def blocker(self, start: int, end: int) -> Span | None:
        """Return the leftmost placed span overlapping ``start``-``end``, if any."""
        k = bisect.bisect_right(self._ends, start)
        if k < len(self._spans) and self._starts[k] < end:
            return self._spans[k]
        return None

    def add(self, span: Span) -> None:
        k = bisect.bisect_left(self._starts, span.start)
        self._starts.insert(k, span.start)
        self._ends.insert(k, span.end)
        self._spans.insert(k, span)


def _place(
    document: str, request: SpanRequest, found: _Candidates, placed: _Placed
) -> Span | UnlocatedSpan:
    def unlocated(reason: str) -> UnlocatedSpan:
        return UnlocatedSpan(request.text, request.label, request.occurrence, reason)

    def overlap(blocker: Span) -> str:
        return f"overlaps {blocker.text!r} ({blocker.label}) at {blocker.start}-{blocker.end}"

    if found.reason:
        return unlocated(found.reason)
    matches = found.matches
    if request.occurrence is not None:
        if request.occurrence > len(matches):
            times = "time" if len(matches) == 1 else "times"
            return unlocated(
                f"occurrence {request.occurrence} requested but {request.text.strip()!r} "
                f"occurs {len(matches)} {times}"
            )
        chosen = matches[request.occurrence - 1]
        blocker = placed.blocker(*chosen)
        if blocker is not None:
            return unlocated(overlap(blocker))
    else:
        free = (match for match in matches if placed.blocker(*match) is None)
        first_free = next(free, None)
        if first_free is None:
            blocker = placed.blocker(*matches[0])
            assert blocker is not None
            every = (
                f"all {len(matches)} occurrences are taken; the first " if len(matches) > 1 else ""
            )
            return unlocated(every + overlap(blocker))
        chosen = next(
            (m for m in chain([first_free], free) if _at_word_edges(document, *m)),
            first_free,
        )
    start, end = chosen
    span = Span(start, end, document[start:end], request.label)
    placed.add(span)
    return span


def _exact_matches(document: str, text: str) -> Iterator[tuple[int, int]]:
    """Yield every whole-character occurrence of ``text``, trying each start position."""
    for start in _find_all(document, text):
        if _whole_characters(document, start, start + len(text)):
            yield start, start + len(text)


def _stretches(document: str, split_space: bool) -> Iterator[tuple[int, int, bool]]:
    """Yield ``(start, end, is_space)`` covering the document, whitespace runs apart if asked."""
    position = 0
    if split_space:
        for run in _SPACE_RUNS.finditer(document):
            if run.start() > position:
                yield position, run.start(), False
            yield run.start(), run.end(), True
            position = run.end()
    if position < len(document):
        yield position, len(document), False


def _find_all(haystack: str, needle: str) -> Iterator[int]:
    start = haystack.find(needle)
    while start >= 0:
        yield start
        start = haystack.find(needle, start + 1)


def _whole_characters(document: str, start: int, end: int) -> bool:
    return (
        _boundary(document, start)
        and _boundary(document, end)
        and not (start < len(document) and _extends(document[start]))
    )


def _boundary(document: str, i: int) -> bool:
    """Whether a grapheme cluster may end at ``i`` (a close approximation of UAX #29)."""
    if i <= 0 or i >= len(document):
        return True
    before, after = document[i - 1], document[i]
    if before.isascii() and after.isascii():
        return not (before == "\r" and after == "\n")
    if _extends(after) or before == _ZWJ:
        return False
    if unicodedata.combining(before) == _VIRAMA and unicodedata.category(after) == "Lo":
        return False
    if _regional_indicator(before) and _regional_indicator(after):
        run = 0
        while run < i and _regional_indicator(document[i - 1 - run]):
            run += 1
        return run % 2 == 0
    return not _hangul_joins(ord(before), ord(after))


def _extends(char: str) -> bool:
    """Whether ``char`` attaches to the character before it (marks, joiners, modifiers)."""
    code = ord(char)
    return (
        unicodedata.category(char).startswith("M")
        or char in (_ZWJ, _ZWNJ)
        or 0x1F3FB <= code <= 0x1F3FF  # emoji skin-tone modifiers
        or 0xE0020 <= code <= 0xE007F  # emoji tag sequences (subdivision flags)
    )


def _regional_indicator(char: str) -> bool:
    return 0x1F1E6 <= ord(char) <= 0x1F1FF


def _hangul_joins(before: int, after: int) -> bool:
    """Whether conjoining jamo ``before`` and ``after`` belong to one Hangul syllable."""
    leading = 0x1100 <= after <= 0x115F or 0xA960 <= after <= 0xA97C
    vowel = 0x1160 <= after <= 0x11A7 or 0xD7B0 <= after <= 0xD7C6
    trailing = 0x11A8 <= after <= 0x11FF or 0xD7CB <= after <= 0xD7FB
    syllable = 0xAC00 <= after <= 0xD7A3
    if 0x1100 <= before <= 0x115F or 0xA960 <= before <= 0xA97C:
        return leading or vowel or syllable
    if 0x1160 <= before <= 0x11A7 or 0xD7B0 <= before <= 0xD7C6:
        return vowel or trailing
    if 0xAC00 <= before <= 0xD7A3 and (before - 0xAC00) % 28 == 0:  # LV syllable
        return vowel or trailing
    if 0x11A8 <= before <= 0x11FF or 0xD7CB <= before <= 0xD7FB or 0xAC00 <= before <= 0xD7A3:
        return trailing
    return False


def _at_word_edges(document: str, start: int, end: int) -> bool:
    return _word_edge(document, start) and _word_edge(document, end)


def _word_edge(document: str, i: int) -> bool:
    """Whether ``i`` separates words, i.e. the characters on both sides do not join."""
    if i <= 0 or i >= len(document):
        return True
    return not (_joins_words(document[i - 1]) and _joins_words(document[i]))


def _joins_words(char: str) -> bool:
    if char.isascii():
        return char.isalnum() or char == "_"
    if not (char.isalnum() or unicodedata.category(char).startswith("M")):
        return False
    k = bisect.bisect_right(_UNSPACED_FIRST, ord(char)) - 1
    return k < 0 or ord(char) > _UNSPACED[k][1]


def _from_utf16(astral16: list[int], offset16: int) -> int:
    k = bisect.bisect_left(astral16, offset16 - 1)
    if k < len(astral16) and astral16[k] == offset16 - 1:
        raise ValueError(f"UTF-16 offset {offset16} splits a surrogate pair")
    return offset16 - k


def _check_range(document: str, start: int, end: int) -> None:
    if not 0 <= start <= end <= len(document):
        raise ValueError(f"offsets {start}-{end} are outside the document (0-{len(document)})")
