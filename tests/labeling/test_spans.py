"""Entity text from an LLM to Label Studio offsets: matching rules, Unicode, UTF-16."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prelabel.labeling.spans import (
    Span,
    SpanRequest,
    UnlocatedSpan,
    align_spans,
    codepoint_offsets,
    occurrence_of,
    span_unit,
    utf16_offsets,
)

ACUTE = "\u0301"
FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # man ZWJ woman ZWJ girl


def locate(document: str, text: str, occurrence: int | None = None) -> tuple[int, int] | None:
    """Offsets of a single request, or None if it was left unlocated."""
    spans, _ = align_spans(document, [SpanRequest(text, "X", occurrence)])
    return (spans[0].start, spans[0].end) if spans else None


def reason(document: str, requests: list[SpanRequest]) -> str:
    """The reason given for the last request, which the test expects to be unlocated."""
    _, unlocated = align_spans(document, requests)
    assert unlocated, "expected an unlocated request"
    return unlocated[-1].reason


# -- exact matches and occurrences -------------------------------------------------------------


def test_align_spans_returns_offsets_whose_slice_is_the_text() -> None:
    document = "Alice flew from Paris to Berlin."
    spans, unlocated = align_spans(
        document, [SpanRequest("Alice", "PER"), SpanRequest("Berlin", "LOC")]
    )
    assert spans == [Span(0, 5, "Alice", "PER"), Span(25, 31, "Berlin", "LOC")]
    assert unlocated == []


def test_align_spans_keeps_request_order_in_both_lists() -> None:
    document = "Berlin, then Paris."
    spans, unlocated = align_spans(
        document,
        [
            SpanRequest("Paris", "LOC"),
            SpanRequest("Rome", "LOC"),
            SpanRequest("Berlin", "LOC"),
            SpanRequest("", "LOC"),
        ],
    )
    assert [span.text for span in spans] == ["Paris", "Berlin"]
    assert unlocated == [
        UnlocatedSpan("Rome", "LOC", None, "not found in the text"),
        UnlocatedSpan("", "LOC", None, "empty text"),
    ]


def test_repeated_text_without_occurrence_lands_on_successive_occurrences() -> None:
    document = "Paris is big. Paris is old."
    spans, _ = align_spans(document, [SpanRequest("Paris", "LOC"), SpanRequest("Paris", "LOC")])
    assert [(span.start, span.end) for span in spans] == [(0, 5), (14, 19)]


def test_repeated_text_beyond_its_occurrences_is_unlocated_with_the_blocking_span() -> None:
    document = "Paris is big. Paris is old."
    assert reason(document, [SpanRequest("Paris", "LOC")] * 3) == (
        "all 2 occurrences are taken; the first overlaps 'Paris' (LOC) at 0-5"
    )


@pytest.mark.parametrize(
    ("occurrence", "expected"),
    [
        pytest.param(1, (0, 5), id="first"),
        pytest.param(2, (14, 19), id="second"),
        pytest.param(3, (28, 33), id="third"),
    ],
)
def test_occurrence_picks_the_nth_match(occurrence: int, expected: tuple[int, int]) -> None:
    assert locate("Paris is big. Paris is old. Paris!", "Paris", occurrence) == expected


@pytest.mark.parametrize(
    ("document", "occurrence", "expected"),
    [
        pytest.param(
            "Paris, Paris", 3, "occurrence 3 requested but 'Paris' occurs 2 times", id="plural"
        ),
        pytest.param("Paris", 2, "occurrence 2 requested but 'Paris' occurs 1 time", id="single"),
        pytest.param("Paris", 0, "occurrence 0 is not 1 or more", id="zero"),
        pytest.param("Paris", -1, "occurrence -1 is not 1 or more", id="negative"),
    ],
)
def test_occurrence_out_of_range_is_unlocated(
    document: str, occurrence: int, expected: str
) -> None:
    assert reason(document, [SpanRequest("Paris", "LOC", occurrence)]) == expected


def test_occurrences_count_overlapping_matches_at_every_start_position() -> None:
    assert [locate("aaaa", "aa", n) for n in (1, 2, 3, 4)] == [(0, 2), (1, 3), (2, 4), None]


def test_explicit_occurrence_is_placed_before_requests_without_one() -> None:
    document = "Paris is big. Paris is old."
    spans, unlocated = align_spans(
        document, [SpanRequest("Paris", "LOC"), SpanRequest("Paris", "CITY", 1)]
    )
    assert spans == [Span(14, 19, "Paris", "LOC"), Span(0, 5, "Paris", "CITY")]
    assert unlocated == []


@pytest.mark.parametrize(
    "occurrence",
    [pytest.param(None, id="first-free"), pytest.param(1, id="explicit")],
)
def test_request_overlapping_a_placed_span_is_unlocated(occurrence: int | None) -> None:
    document = "I live in New York."
    requests = [SpanRequest("New York", "LOC", occurrence), SpanRequest("York", "LOC", occurrence)]
    assert reason(document, requests) == "overlaps 'New York' (LOC) at 10-18"


def test_spans_never_overlap_even_when_requests_nest() -> None:
    document = "University of New York"
    spans, unlocated = align_spans(
        document, [SpanRequest("New York", "LOC"), SpanRequest(document, "ORG")]
    )
    assert spans == [Span(14, 22, "New York", "LOC")]
    assert [u.text for u in unlocated] == [document]


@pytest.mark.parametrize(
    "text",
    [pytest.param("", id="empty"), pytest.param("  \n\t", id="whitespace")],
)
def test_empty_request_is_unlocated(text: str) -> None:
    assert reason("some text", [SpanRequest(text, "X")]) == "empty text"


def test_surrounding_whitespace_of_the_request_is_not_part_of_the_span() -> None:
    spans, _ = align_spans("in Paris today", [SpanRequest(" Paris\n", "LOC")])
    assert spans == [Span(3, 8, "Paris", "LOC")]


# -- word boundaries ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "text", "expected"),
    [
        pytest.param("a party about art", "art", (14, 17), id="standalone-after-inside"),
        pytest.param("Parisian food in Paris", "Paris", (17, 22), id="prefix-of-a-word"),
        pytest.param("in 2012, about 12", "12", (15, 17), id="digits"),
        pytest.param("(art) and party", "art", (1, 4), id="punctuation-is-an-edge"),
        pytest.param("a party", "art", (3, 6), id="inside-a-word-when-nothing-else"),
        pytest.param("אני גר בירושלים וגם ירושלים", "ירושלים", (20, 27), id="hebrew-prefix-letter"),
    ],
)
def test_without_occurrence_word_edge_matches_are_preferred(
    document: str, text: str, expected: tuple[int, int]
) -> None:
    assert locate(document, text) == expected


def test_inside_word_match_is_used_once_the_standalone_one_is_taken() -> None:
    spans, _ = align_spans("a party about art", [SpanRequest("art", "X")] * 2)
    assert [(span.start, span.end) for span in spans] == [(14, 17), (3, 6)]


def test_explicit_occurrence_counts_matches_inside_words_too() -> None:
    assert locate("a party about art", "art", 1) == (3, 6)


@pytest.mark.parametrize(
    ("document", "text", "expected"),
    [
        pytest.param("我在北京工作，北京很大", "北京", (2, 4), id="chinese"),
        pytest.param("東京都に住んでいます。東京", "東京", (0, 2), id="japanese"),
        pytest.param("ฉันอยู่กรุงเทพมหานคร กรุงเทพ", "กรุงเทพ", (7, 14), id="thai"),
    ],
)
def test_neighbours_in_scripts_without_spaces_do_not_block_a_match(
    document: str, text: str, expected: tuple[int, int]
) -> None:
    assert locate(document, text) == expected


def test_right_to_left_text_is_located_by_code_points() -> None:
    document = "زرت القاهرة أمس"
    assert align_spans(document, [SpanRequest("القاهرة", "LOC")])[0] == [
        Span(4, 11, "القاهرة", "LOC")
    ]


# -- fallbacks --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "text", "expected"),
    [
        pytest.param(f"Le cafe{ACUTE} noir", "café", f"cafe{ACUTE}", id="decomposed-document"),
        pytest.param("Le café noir", f"cafe{ACUTE}", "café", id="decomposed-request"),
        pytest.param(
            unicodedata.normalize("NFD", "나는 서울에 산다"),
            "서울",
            unicodedata.normalize("NFD", "서울"),
            id="hangul-jamo-document",
        ),
        pytest.param("New\n  York", "New York", "New\n  York", id="whitespace-runs"),
        pytest.param("New\u00a0York", "New\tYork", "New\u00a0York", id="no-break-space"),
        pytest.param("PARIS", "paris", "PARIS", id="case"),
        pytest.param("Die STRASSE", "Straße", "STRASSE", id="casefold-changes-length"),
        pytest.param("Die Straße", "STRASSE", "Straße", id="casefold-of-the-document"),
        pytest.param(f"CAFE{ACUTE}  NOIR", "café noir", f"CAFE{ACUTE}  NOIR", id="all-at-once"),
    ],
)
def test_fallbacks_locate_the_documents_own_characters(
    document: str, text: str, expected: str
) -> None:
    spans, unlocated = align_spans(document, [SpanRequest(text, "X")])
    assert unlocated == []
    assert spans[0].text == expected == document[spans[0].start : spans[0].end]


def test_exact_match_is_used_before_a_case_insensitive_one() -> None:
    assert locate("PARIS and Paris", "Paris") == (10, 15)


def test_occurrences_are_counted_among_the_matches_of_the_tier_that_found_the_text() -> None:
    document = "STRASSE and Straße"
    assert locate(document, "strasse", 2) == (12, 18)
    assert reason(document, [SpanRequest("STRASSE", "X", 2)]) == (
        "occurrence 2 requested but 'STRASSE' occurs 1 time"
    )


def test_exact_requests_are_placed_before_fallback_ones() -> None:
    spans, _ = align_spans(
        "Paris and PARIS", [SpanRequest("paris", "A"), SpanRequest("Paris", "B")]
    )
    assert spans == [Span(10, 15, "PARIS", "A"), Span(0, 5, "Paris", "B")]


def test_whitespace_fallback_does_not_match_across_missing_whitespace() -> None:
    assert locate("NewYork", "New York") is None


# -- whole characters -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "text"),
    [
        pytest.param(f"cafe{ACUTE}", "cafe", id="before-combining-mark"),
        pytest.param(f"cafe{ACUTE}", ACUTE, id="combining-mark-alone"),
        pytest.param(f"I {FAMILY}", "\U0001f469", id="inside-zwj-sequence"),
        pytest.param("ok \U0001f44d\U0001f3fd", "\U0001f44d", id="before-skin-tone"),
        pytest.param(
            "\U0001f1eb\U0001f1f7\U0001f1e9\U0001f1ea", "\U0001f1f7\U0001f1e9", id="flags"
        ),
        pytest.param("क्षमा", "ष", id="indic-conjunct"),
        pytest.param(unicodedata.normalize("NFD", "한"), "\u1161", id="hangul-jamo"),
    ],
)
def test_match_never_cuts_a_character_sequence(document: str, text: str) -> None:
    assert text in document
    assert locate(document, text) is None
    assert reason(document, [SpanRequest(text, "X")]).startswith("not found in the text")


def test_text_found_only_inside_a_character_sequence_says_where() -> None:
    assert reason(f"I {FAMILY}", [SpanRequest("\U0001f469", "X")]) == (
        "not found in the text except inside a combined character at 4-5"
    )


def test_a_whole_occurrence_is_used_when_another_cuts_a_sequence() -> None:
    assert locate(f"cafe{ACUTE} or cafe", "cafe") == (9, 13)
    assert locate(f"{FAMILY} \U0001f469", "\U0001f469") == (6, 7)


def test_zwj_emoji_sequence_is_located_whole() -> None:
    document = f"family: {FAMILY}!"
    spans, _ = align_spans(document, [SpanRequest(FAMILY, "EMOJI")])
    assert spans == [Span(8, 13, FAMILY, "EMOJI")]
    assert utf16_offsets(document, 8, 13) == (8, 16)


# -- UTF-16 offsets ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "text", "codepoints", "utf16"),
    [
        pytest.param("Hi Alice", "Alice", (3, 8), (3, 8), id="no-emoji"),
        pytest.param("\U0001f600 Alice", "Alice", (2, 7), (3, 8), id="emoji-before"),
        pytest.param(
            "Team \U0001f680 Rocket!", "Team \U0001f680 Rocket", (0, 13), (0, 14), id="emoji-inside"
        ),
        pytest.param("\U0001f600\U0001f600 x \U0001f600", "x", (3, 4), (5, 6), id="emoji-after"),
        pytest.param(f"{FAMILY} Bob", "Bob", (6, 9), (9, 12), id="zwj-before"),
    ],
)
def test_utf16_offsets_count_astral_characters_twice(
    document: str, text: str, codepoints: tuple[int, int], utf16: tuple[int, int]
) -> None:
    assert document[slice(*codepoints)] == text
    assert utf16_offsets(document, *codepoints) == utf16
    assert codepoint_offsets(document, *utf16) == codepoints


@pytest.mark.parametrize(
    ("start16", "end16"),
    [
        pytest.param(1, 3, id="start-splits-pair"),
        pytest.param(0, 1, id="end-splits-pair"),
        pytest.param(-1, 2, id="negative"),
        pytest.param(0, 5, id="past-the-end"),
        pytest.param(3, 2, id="start-after-end"),
    ],
)
def test_codepoint_offsets_rejects_impossible_offsets(start16: int, end16: int) -> None:
    with pytest.raises(ValueError):
        codepoint_offsets("\U0001f600ab", start16, end16)


@pytest.mark.parametrize(
    ("start", "end"),
    [
        pytest.param(-1, 1, id="negative"),
        pytest.param(0, 4, id="past-the-end"),
        pytest.param(2, 1, id="start-after-end"),
    ],
)
def test_utf16_offsets_rejects_offsets_outside_the_document(start: int, end: int) -> None:
    with pytest.raises(ValueError):
        utf16_offsets("\U0001f600ab", start, end)


@pytest.mark.parametrize(
    ("document", "start", "end", "text", "expected"),
    [
        pytest.param("Hi Alice", 3, 8, "Alice", "codepoint", id="codepoints"),
        pytest.param("Alice \U0001f600", 0, 5, "Alice", "codepoint", id="both-agree"),
        pytest.param("\U0001f600 Alice", 3, 8, "Alice", "utf16", id="utf16"),
        pytest.param("\U0001f600 Alice", 2, 7, "Alice", "codepoint", id="codepoints-after-emoji"),
        pytest.param("Hi Alice", 0, 2, "Alice", None, id="neither"),
        pytest.param("Hi Alice", 3, 9, "Alice", None, id="out-of-range"),
        pytest.param("Hi Alice", 5, 3, "", None, id="reversed"),
        pytest.param("\U0001f600 Alice", 1, 3, "\U0001f600", None, id="splits-surrogate-pair"),
    ],
)
def test_span_unit_tells_which_offsets_cover_the_text(
    document: str, start: int, end: int, text: str, expected: str | None
) -> None:
    assert span_unit(document, start, end, text) == expected


# -- occurrence_of ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "start", "end", "expected"),
    [
        pytest.param("Paris, Paris, Paris", 7, 12, 2, id="second"),
        pytest.param("a party about art", 14, 17, 2, id="counts-matches-inside-words"),
        pytest.param("aaaa", 1, 3, 2, id="overlapping"),
        pytest.param(f"cafe{ACUTE} cafe", 6, 10, 1, id="skips-matches-cutting-a-character"),
    ],
)
def test_occurrence_of_is_the_occurrence_align_spans_needs(
    document: str, start: int, end: int, expected: int
) -> None:
    assert occurrence_of(document, start, end) == expected
    assert locate(document, document[start:end], expected) == (start, end)


@pytest.mark.parametrize(
    ("document", "start", "end"),
    [
        pytest.param("Paris", 0, 0, id="empty"),
        pytest.param("in Paris", 2, 8, id="leading-whitespace"),
        pytest.param("Paris is", 0, 6, id="trailing-whitespace"),
        pytest.param(f"cafe{ACUTE}", 0, 4, id="cuts-a-combining-sequence"),
        pytest.param("Paris", 0, 6, id="out-of-range"),
    ],
)
def test_occurrence_of_rejects_slices_align_spans_never_returns(
    document: str, start: int, end: int
) -> None:
    with pytest.raises(ValueError):
        occurrence_of(document, start, end)


# -- properties -------------------------------------------------------------------------------

PIECES = [
    "a",
    "b",
    "ab",
    "Paris",
    "PARIS",
    "art",
    "party",
    " ",
    "  ",
    "\n",
    "\t",
    "\r\n",
    "é",
    f"e{ACUTE}",
    ACUTE,
    "ß",
    "SS",
    "\U0001f600",
    FAMILY,
    "\U0001f44d\U0001f3fd",
    "\U0001f1eb\U0001f1f7",
    "北京",
    "工作",
    "ไทย",
    "שלום",
    "مرحبا",
    "क्ष",
    "\u1100\u1161",
]
documents = st.one_of(
    st.lists(st.sampled_from(PIECES), max_size=25).map("".join),
    st.text(max_size=40),
)
VARIANTS = {
    "same": lambda text: text,
    "upper": str.upper,
    "nfc": lambda text: unicodedata.normalize("NFC", text),
    "nfd": lambda text: unicodedata.normalize("NFD", text),
    "respaced": lambda text: " " + "  ".join(text.split()) + "\n",
}


def loosely(text: str) -> str:
    """Text as the loosest matcher compares it: NFC, case-folded, whitespace runs as one."""
    folded = unicodedata.normalize("NFC", unicodedata.normalize("NFC", text).casefold())
    return " ".join(folded.split())


@st.composite
def documents_with_requests(draw: st.DrawFn) -> tuple[str, list[SpanRequest]]:
    document = draw(documents)
    requests = []
    for _ in range(draw(st.integers(0, 6))):
        start = draw(st.integers(0, len(document)))
        end = draw(st.integers(start, len(document)))
        variant = VARIANTS[draw(st.sampled_from(sorted(VARIANTS)))]
        occurrence = draw(st.none() | st.integers(-1, 4))
        text = variant(document[start:end])
        requests.append(SpanRequest(text, str(len(requests)), occurrence))
    return document, requests


@given(documents_with_requests())
def test_align_spans_returns_exact_whole_character_slices_that_never_overlap(
    case: tuple[str, list[SpanRequest]],
) -> None:
    document, requests = case
    spans, unlocated = align_spans(document, requests)
    assert len(spans) + len(unlocated) == len(requests)
    for span in spans:
        assert document[span.start : span.end] == span.text
        assert loosely(span.text) == loosely(requests[int(span.label)].text)
        assert span.text and span.text == span.text.strip()
        assert not unicodedata.category(span.text[0]).startswith("M")
        assert span.end == len(document) or not unicodedata.category(document[span.end]).startswith(
            "M"
        )
    ordered = sorted(spans, key=lambda span: span.start)
    assert all(left.end <= right.start for left, right in zip(ordered, ordered[1:], strict=False))


# Only combining marks can cut these pieces, so the test can tell valid slices by itself.
SIMPLE_PIECES = ["a", "b", "ab", "aa", " ", "\n", "é", f"e{ACUTE}", "\U0001f600", "北京", "שלום"]


@given(st.lists(st.sampled_from(SIMPLE_PIECES), min_size=1, max_size=20).map("".join), st.data())
def test_occurrence_of_round_trips_through_align_spans(document: str, data: st.DataObject) -> None:
    start = data.draw(st.integers(0, len(document) - 1))
    end = data.draw(st.integers(start, len(document)))
    text = document[start:end]
    cuts = text.startswith(ACUTE) or document[end : end + 1] == ACUTE
    if not text.strip() or text != text.strip() or cuts:
        with pytest.raises(ValueError):
            occurrence_of(document, start, end)
        return
    occurrence = occurrence_of(document, start, end)
    spans, unlocated = align_spans(document, [SpanRequest(text, "X", occurrence)])
    assert (spans, unlocated) == ([Span(start, end, text, "X")], [])


@given(st.text(max_size=30), st.data())
def test_utf16_and_codepoint_offsets_round_trip(document: str, data: st.DataObject) -> None:
    start = data.draw(st.integers(0, len(document)))
    end = data.draw(st.integers(start, len(document)))
    start16, end16 = utf16_offsets(document, start, end)
    assert start16 == len(document[:start].encode("utf-16-le")) // 2
    assert end16 - start16 == len(document[start:end].encode("utf-16-le")) // 2
    assert codepoint_offsets(document, start16, end16) == (start, end)
    assert span_unit(document, start16, end16, document[start:end]) in ("codepoint", "utf16")
