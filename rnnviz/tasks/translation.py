"""A toy translation task for encoder-decoder models: reverse a string."""

from __future__ import annotations

import torch

from rnnviz import _validate
from rnnviz._types import Baseline, Batch
from rnnviz.i18n import _
from rnnviz.tasks._base import IGNORE_INDEX, Task, baseline_from_joint, letters


class Reverse(Task):
    """Reverse a string: a toy "translation" into a language with the opposite word order.

    Layout of one pair (length L = 4), padded to T = max_len + 1::

        x:  A C B D . . .      (the source, its end marker '.', then padding '.')
        y:  D B C A . - -      (the source reversed, the end marker, '-' = -100 not scored)

    Lengths L are uniform in ``[min_len, max_len]``; ``lengths = L + 1`` counts the source
    with its end marker. The target is not aligned with the input: the first output is the
    *last* source letter, so a model must read the whole source before it can answer (an
    encoder-decoder, :class:`rnnviz.Seq2Seq`; a synchronised RNN can only get the second half).

    Args:
        num_symbols: K letters (2..26).
        min_len: shortest source (>= 1).
        max_len: longest source (>= min_len).
        seed: task seed.

    Shapes:
        x: ``(B, T)`` long ids of ``vocab = [A, B, ..., "."]``. y: ``(B, T)`` long ids of
        ``output_vocab = [A, B, ..., "."]`` (the same symbols), ``-100`` after the end.
        lengths: ``(B,)`` long, ``L + 1``. output: ``(B, T, K + 1)``.

    Example:
        >>> task = Reverse(num_symbols=4, min_len=3, max_len=3, seed=0)
        >>> x, y, lengths = task.batch(1, seed=0)
        >>> task.decode(x[0]), task.decode(y[0]), int(lengths[0])  # doctest: +SKIP
        ('CAB.', 'BAC.', 4)
    """

    name = "reverse"

    def __init__(self, num_symbols: int = 8, min_len: int = 1, max_len: int = 8, *, seed: int = 0) -> None:
        super().__init__(seed)
        self.num_symbols = _validate.positive_int("num_symbols", num_symbols)
        if num_symbols < 2:
            raise ValueError(_("{name} must be at least 2, got {value}").format(
                name="num_symbols", value=num_symbols))
        self.min_len = _validate.steps("min_len", min_len)
        self.max_len = _validate.steps("max_len", max_len)
        if max_len < min_len:
            raise ValueError(_("max_len must be at least min_len = {low}, got {value}").format(
                low=min_len, value=max_len))
        self.seq_len = max_len + 1
        self.vocab = letters(num_symbols) + ["."]
        self.output_vocab = list(self.vocab)
        self.end = num_symbols  # id of '.' in both vocabularies
        self.kind, self.input_kind = "many_to_many", "symbols"
        self.input_size = self.output_size = num_symbols + 1
        self.loss_name, self.metric_name, self.higher_is_better = "cross_entropy", "accuracy", True
        self._params = {"num_symbols": num_symbols, "min_len": min_len, "max_len": max_len}

    def _summary(self) -> str:
        return _("read a string, then write it backwards")

    def _make(self, batch_size: int, generator: torch.Generator) -> Batch:
        B, T, K = batch_size, self.seq_len, self.num_symbols
        L = torch.randint(self.min_len, self.max_len + 1, (B,), generator=generator)  # (B,)
        letters_ = torch.randint(0, K, (B, T), generator=generator)  # (B, T)
        t = torch.arange(T)[None, :]  # (1, T)
        x = torch.where(t < L[:, None], letters_, self.end)  # (B, T) letters, then '.'
        src = (L[:, None] - 1 - t).clamp_min(0)  # (B, T) position read backwards
        y = torch.where(t < L[:, None], x.gather(1, src), self.end)  # (B, T)
        y = torch.where(t <= L[:, None], y, IGNORE_INDEX)
        return Batch(x, y, L + 1)

    def _joint(self) -> torch.Tensor:
        """Exact P(x_t, y_t) over scored steps: independent letters, except the end marker and
        the middle letter of an odd-length string (its own reverse)."""
        K = self.num_symbols
        joint = torch.zeros(K + 1, K + 1, dtype=torch.float64)
        uniform = torch.full((K, K), 1.0 / K**2, dtype=torch.float64)
        for L in range(self.min_len, self.max_len + 1):
            joint[K, K] += 1.0  # the end marker: x_L = '.', y_L = '.'
            for t in range(L):
                if 2 * t == L - 1:
                    joint[:K, :K] += torch.eye(K, dtype=torch.float64) / K
                else:
                    joint[:K, :K] += uniform
        return joint / joint.sum()

    def baseline(self) -> Baseline:
        result = baseline_from_joint(self._joint(), "")
        return Baseline(
            result.loss,
            result.metric,
            _("A network without memory sees one source symbol per output step, which says "
              "nothing about the letter it must write (guessing: 1/{k}), except that '.' is "
              "answered by '.' and the middle letter of an odd-length string is its own "
              "reverse. Computed exactly: accuracy {accuracy}, loss {loss}.").format(
                k=self.num_symbols, accuracy=f"{result.metric:.3f}", loss=f"{result.loss:.3f}"),
        )

    def describe(self) -> str:
        return _(
            "Reverse: a string of {low} to {high} letters ({letters}) ends with '.'. The "
            "network must write it backwards, then '.': 'ACBD.' becomes 'DBCA.'. Think of a toy "
            "translation into a language with the opposite word order. The first word to write "
            "is the last one read, so the whole source must be read (and remembered) before the "
            "answer starts."
        ).format(low=self.min_len, high=self.max_len, letters="".join(self.vocab[:-1]))
