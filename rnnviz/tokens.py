"""Token representations from lesson 01: one-hot vectors, ids, and hashed character n-grams."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from rnnviz import _validate
from rnnviz.i18n import _

__all__ = ["char_ngrams", "hash_bucket", "one_hot", "NgramEncoding", "encode_ngrams"]


def char_ngrams(word: str, n: int = 3, *, boundary: str = "#") -> list[str]:
    """Character n-grams of ``word`` with boundary markers, as in the course slides.

    Args:
        word: a single word (non-empty string).
        n: n-gram length (>= 1).
        boundary: the marker put at both ends.

    Returns:
        The n-grams of ``boundary + word + boundary`` in order.

    Example:
        >>> char_ngrams("word")
        ['#wo', 'wor', 'ord', 'rd#']
    """
    if not isinstance(word, str) or not word:
        raise ValueError(_("word must be a non-empty string, got {value!r}").format(value=word))
    _validate.positive_int("n", n)
    _validate.text("boundary", boundary)
    marked = f"{boundary}{word}{boundary}"
    if len(marked) < n:
        return [marked]
    return [marked[i : i + n] for i in range(len(marked) - n + 1)]


def hash_bucket(token: str, buckets: int) -> int:
    """A stable hash of ``token`` into ``[0, buckets)`` (CRC32; Python's ``hash`` is salted).

    Example:
        >>> hash_bucket("#wo", 1000) == hash_bucket("#wo", 1000)
        True
    """
    _validate.text("token", token)
    _validate.positive_int("buckets", buckets)
    return zlib.crc32(token.encode("utf-8")) % buckets


def one_hot(ids: torch.Tensor | Sequence[int], vocab_size: int) -> torch.Tensor:
    """One-hot rows for token ``ids``: shape ``(len(ids), vocab_size)``, float32.

    Example:
        >>> one_hot([2, 0], 3).tolist()
        [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
    """
    _validate.positive_int("vocab_size", vocab_size)
    ids = torch.as_tensor(_validate.int_ids("ids", ids), dtype=torch.long)  # (N,)
    _validate.elements(_("ids x vocab_size"), ids.numel(), vocab_size)
    if ids.dim() != 1:
        raise ValueError(_("ids must be 1-D, got shape {shape}").format(shape=tuple(ids.shape)))
    if ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= vocab_size):
        raise ValueError(_("ids must lie in [0, {n}), got values from {low} to {high}").format(
            n=vocab_size, low=int(ids.min()), high=int(ids.max())))
    return torch.nn.functional.one_hot(ids, vocab_size).float()  # (N, V)


@dataclass(frozen=True)
class NgramEncoding:
    """A word as hashed n-grams: the n-grams, their buckets, and the bag-of-buckets vector."""

    word: str
    ngrams: list[str]
    buckets: list[int]
    vector: torch.Tensor  # (num_buckets,) counts


def encode_ngrams(word: str, *, n: int = 3, buckets: int = 1000) -> NgramEncoding:
    """Encode ``word`` as a bag of hashed character n-grams (fastText-style).

    Example:
        >>> enc = encode_ngrams("word", buckets=50)
        >>> enc.ngrams, int(enc.vector.sum())
        (['#wo', 'wor', 'ord', 'rd#'], 4)
    """
    grams = char_ngrams(word, n)
    _validate.elements("buckets", _validate.positive_int("buckets", buckets))
    ids = [hash_bucket(g, buckets) for g in grams]
    vector = torch.zeros(buckets)  # (num_buckets,)
    for i in ids:
        vector[i] += 1
    return NgramEncoding(word, grams, ids, vector)
