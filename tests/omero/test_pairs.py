"""The key-value rules: lists as repeated keys, the 1 KiB split and its inverse."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from metafold_widgets.adapters.omero_pairs import (
    MAX_VALUE_BYTES,
    join_continuations,
    split_long_values,
    split_value,
    to_pairs,
)


def test_lists_become_repeated_keys_and_blanks_are_left_out() -> None:
    assert to_pairs({"Tags": ["a", "b"], "Empty": "", "None": None, "Flag": True, "Off": False, "N": 3}) == [
        ("Tags", "a"), ("Tags", "b"), ("Flag", "yes"), ("Off", "no"), ("N", "3")]
    assert to_pairs([("k", "1"), ("k", "2")]) == [("k", "1"), ("k", "2")]


def test_values_up_to_1_kib_stay_whole() -> None:
    exact = "a" * MAX_VALUE_BYTES
    assert split_long_values([("Notes", exact)]) == [("Notes", exact)]


def test_longer_values_get_numbered_continuation_keys() -> None:
    value = "a" * 1024 + "b" * 1024 + "c" * 10
    assert split_long_values([("Notes", value), ("Next", "x")]) == [
        ("Notes", "a" * 1024), ("Notes (2)", "b" * 1024), ("Notes (3)", "c" * 10), ("Next", "x")]


def test_splitting_never_cuts_a_character() -> None:
    value = "é" * 700  # two bytes each: 1400 bytes
    chunks = split_value(value)
    assert [len(c.encode()) for c in chunks] == [1024, 376]
    assert "".join(chunks) == value
    emoji = "🔬" * 300  # four bytes each
    assert all(len(c.encode()) <= 1024 for c in split_value(emoji)) and "".join(split_value(emoji)) == emoji


def test_a_key_typed_like_a_continuation_after_a_short_value_stays_a_pair() -> None:
    pairs = [("Notes", "short"), ("Notes (2)", "a person's own key")]
    assert join_continuations(pairs) == pairs


def test_the_documented_ambiguity_a_continuation_shaped_key_after_a_full_chunk() -> None:
    full = "a" * 1021
    assert join_continuations([("Notes", full), ("Notes (2)", "typed by a person")]) == [
        ("Notes", full + "typed by a person")]


def test_keys_over_1_kib_are_refused() -> None:
    with pytest.raises(ValueError, match="longer than 1 KiB"):
        split_long_values([("k" * 1025, "v")])


texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=3000)


@given(st.lists(st.tuples(st.sampled_from(["A", "B", "Notes", "A(2)", "B (x)"]), texts), max_size=6))
def test_join_undoes_split(pairs: list[tuple[str, str]]) -> None:
    stored = split_long_values(pairs)
    assert all(len(v.encode()) <= MAX_VALUE_BYTES for _, v in stored)
    assert join_continuations(stored) == pairs
