"""IN lists padded to a few lengths keep every value and add none."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from prelabel.store.in_lists import padded


@given(st.lists(st.integers(), max_size=3000))
def test_padding_keeps_the_values_in_order_and_adds_only_copies_of_the_last(
    values: list[int],
) -> None:
    result = padded(values)

    assert result[: len(values)] == values
    assert set(result) == set(values)
    assert len(result) < 2 * len(values) or len(values) <= 1


def test_a_run_of_batches_of_every_size_up_to_a_thousand_makes_eleven_lengths() -> None:
    assert len({len(padded(list(range(n)))) for n in range(1, 1001)}) == 11
