from __future__ import annotations

import zlib

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from rnnviz.tokens import char_ngrams, encode_ngrams, hash_bucket, one_hot


@given(st.text(alphabet="abcdefghij", min_size=1, max_size=12), st.integers(1, 5))
def test_ngrams_cover_the_marked_word(word: str, n: int) -> None:
    grams = char_ngrams(word, n)
    marked = f"#{word}#"
    assert all(len(g) == min(n, len(marked)) for g in grams)
    # Overlapping n-grams spell the marked word back.
    rebuilt = grams[0] + "".join(g[-1] for g in grams[1:])
    assert rebuilt == marked


def test_hash_is_stable_and_in_range() -> None:
    for token in ["#wo", "wor", "ord", "rd#"]:
        b = hash_bucket(token, 97)
        assert 0 <= b < 97
        assert b == zlib.crc32(token.encode()) % 97


def test_encode_counts_every_ngram() -> None:
    enc = encode_ngrams("recurrent", buckets=7)
    assert int(enc.vector.sum()) == len(enc.ngrams) == len("recurrent") + 2 - 2
    assert enc.vector.shape == (7,)
    # With 9 n-grams in 7 buckets, at least one bucket holds two: a collision.
    assert int(enc.vector.max()) >= 2


def test_one_hot_matches_torch() -> None:
    ids = torch.tensor([3, 1, 0])
    assert torch.equal(one_hot(ids, 5), torch.eye(5)[ids])


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: char_ngrams("", 3), "word"),
        (lambda: char_ngrams("a", 0), "n must be"),
        (lambda: hash_bucket("a", 0), "buckets"),
        (lambda: one_hot([5], 3), r"ids must lie in \[0, 3\)"),
        (lambda: one_hot([[1]], 3), "ids must be 1-D"),
    ],
)
def test_bad_input_names_the_argument(call, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()
