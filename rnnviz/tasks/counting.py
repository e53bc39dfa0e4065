"""Counting tasks: running parity of bits and the nesting depth of brackets."""

from __future__ import annotations

import torch

from rnnviz import _validate
from rnnviz._types import Baseline, Batch
from rnnviz.i18n import _
from rnnviz.tasks._base import IGNORE_INDEX, Task, baseline_from_joint


class Parity(Task):
    """Running parity: after each bit, is the number of 1s so far even or odd?

        y_t = (x_0 + x_1 + ... + x_t) mod 2

    Bits are fair coin flips. With ``variable_length=True`` each sequence has a length drawn
    uniformly from 1..seq_len; steps past it hold bit 0, target -100, and ``lengths`` is given.

    Args:
        seq_len: T.
        variable_length: draw a length per sequence.
        seed: task seed.

    Shapes:
        x: ``(B, T)`` long bits (vocab ``["0", "1"]``). y: ``(B, T)`` long, 0 = even, 1 = odd.
        lengths: ``(B,)`` long or ``None``. output: ``(B, T, 2)``.
    """

    name = "parity"

    def __init__(self, seq_len: int = 10, *, variable_length: bool = False, seed: int = 0) -> None:
        super().__init__(seed)
        self.seq_len = _validate.steps("seq_len", seq_len)
        if not isinstance(variable_length, bool):
            raise TypeError(_("variable_length must be a bool, got {value!r}").format(
                value=variable_length))
        self.variable_length = variable_length
        self.vocab, self.output_vocab = ["0", "1"], ["even", "odd"]
        self.kind, self.input_kind = "synced", "symbols"
        self.input_size = self.output_size = 2
        self.loss_name, self.metric_name, self.higher_is_better = "cross_entropy", "accuracy", True
        self._params = {"seq_len": seq_len, "variable_length": variable_length}

    def _summary(self) -> str:
        return _("after each bit, say whether the count of 1s so far is even or odd")

    def _make(self, batch_size: int, generator: torch.Generator) -> Batch:
        B, T = batch_size, self.seq_len
        x = torch.randint(0, 2, (B, T), generator=generator)  # (B, T)
        lengths = None
        if self.variable_length:
            lengths = torch.randint(1, T + 1, (B,), generator=generator)  # (B,)
            x = x.masked_fill(torch.arange(T)[None, :] >= lengths[:, None], 0)
        y = x.cumsum(dim=1) % 2  # (B, T)
        if lengths is not None:
            y = y.masked_fill(torch.arange(T)[None, :] >= lengths[:, None], IGNORE_INDEX)
        return Batch(x, y, lengths)

    def baseline(self) -> Baseline:
        # Only at t = 0 does the input alone decide the target (y_0 = x_0); later the parity
        # so far is a fair coin independent of x_t. w = share of scored steps that are t = 0.
        T = self.seq_len
        w = 2.0 / (T + 1) if self.variable_length else 1.0 / T
        same, diff = w / 2 + (1 - w) / 4, (1 - w) / 4
        result = baseline_from_joint(torch.tensor([[same, diff], [diff, same]], dtype=torch.float64), "")
        return Baseline(
            result.loss,
            result.metric,
            _("A network without memory sees one bit. After the first step the parity so far "
              "is a coin flip independent of that bit, so it can only guess (50%); at the first "
              "step (a share {share} of the scored steps) the bit itself is the answer. "
              "Computed exactly: accuracy {accuracy}, loss {loss}.").format(
                share=f"{w:.3f}", accuracy=f"{result.metric:.3f}", loss=f"{result.loss:.3f}"),
        )

    def describe(self) -> str:
        return _(
            "Parity: {seq_len} random bits arrive one by one. After each bit the network "
            "says whether it has seen an even or odd number of 1s so far. One flip-flop of "
            "memory is enough, but the answer depends on every bit, so a single mistake in the "
            "state spoils everything after it."
        ).format(seq_len=self.seq_len)


class Brackets(Task):
    """Bracket depth: count how deeply nested you are in ``(`` and ``)``.

    A random walk on the depth: at each step, with probability ``filler`` the symbol is the
    neutral ``a``; otherwise ``(`` or ``)`` with probability 1/2 each, except that at depth 0
    it must be ``(`` and at ``max_depth`` it must be ``)``. The target after each symbol is the
    current depth, a class in 0..max_depth. Trained networks often grow a "counter" unit whose
    activation steps up and down with the depth.

    Args:
        max_depth: deepest nesting (>= 1).
        seq_len: T.
        filler: probability of the neutral symbol ``a``, in [0, 1).
        seed: task seed.

    Shapes:
        x: ``(B, T)`` long ids of ``vocab = ["(", ")", "a"]``. y: ``(B, T)`` long depth.
        output: ``(B, T, max_depth + 1)``.
    """

    name = "brackets"

    def __init__(self, max_depth: int = 4, seq_len: int = 20, *, filler: float = 0.2, seed: int = 0) -> None:
        super().__init__(seed)
        self.max_depth = _validate.steps("max_depth", max_depth)
        self.seq_len = _validate.steps("seq_len", seq_len)
        ok = isinstance(filler, (int, float)) and not isinstance(filler, bool)
        if not ok or not 0.0 <= float(filler) < 1.0:
            raise ValueError(_("filler must be a probability in [0, 1), got {value!r}").format(
                value=filler))
        self.filler = float(filler)
        self.vocab = ["(", ")", "a"]
        self.output_vocab = [str(d) for d in range(max_depth + 1)]
        self.kind, self.input_kind = "synced", "symbols"
        self.input_size, self.output_size = 3, max_depth + 1
        self.loss_name, self.metric_name, self.higher_is_better = "cross_entropy", "accuracy", True
        self._params = {"max_depth": max_depth, "seq_len": seq_len, "filler": self.filler}

    def _summary(self) -> str:
        return _("after each symbol, say the current bracket nesting depth")

    def _make(self, batch_size: int, generator: torch.Generator) -> Batch:
        B, T, D = batch_size, self.seq_len, self.max_depth
        depth = torch.zeros(B, dtype=torch.long)  # (B,)
        x = torch.empty(B, T, dtype=torch.long)  # (B, T)
        y = torch.empty(B, T, dtype=torch.long)  # (B, T)
        for t in range(T):
            fill = torch.rand(B, generator=generator) < self.filler  # (B,)
            up = torch.rand(B, generator=generator) < 0.5  # (B,)
            up = torch.where(depth == 0, True, torch.where(depth == D, False, up))
            x[:, t] = torch.where(fill, 2, torch.where(up, 0, 1))
            depth = depth + torch.where(fill, 0, torch.where(up, 1, -1))
            y[:, t] = depth
        return Batch(x, y)

    def _joint(self) -> torch.Tensor:
        """Exact P(x_t, depth_t) pooled over the T steps, by propagating the depth law."""
        D, f = self.max_depth, self.filler
        dist = torch.zeros(D + 1, dtype=torch.float64)  # depth before the step
        dist[0] = 1.0
        joint = torch.zeros(3, D + 1, dtype=torch.float64)  # (symbol, depth after)
        for _step in range(self.seq_len):
            new = torch.zeros_like(dist)
            for d in range(D + 1):
                p_up = 1.0 if d == 0 else 0.0 if d == D else 0.5
                for sym, prob, nd in (
                    (2, f, d),
                    (0, (1 - f) * p_up, d + 1),
                    (1, (1 - f) * (1 - p_up), d - 1),
                ):
                    if prob > 0:
                        joint[sym, nd] += dist[d] * prob
                        new[nd] += dist[d] * prob
            dist = new
        return joint / self.seq_len

    def baseline(self) -> Baseline:
        joint = self._joint()
        result = baseline_from_joint(joint, "")
        majority = float(joint.sum(dim=0).max())
        return Baseline(
            result.loss,
            result.metric,
            _("A network without memory sees one symbol: '(' means depth >= 1, ')' means depth "
              "< max, 'a' says nothing; the best it can do is guess the likeliest depth for that "
              "symbol. Computed exactly from the generator: accuracy {accuracy}, loss {loss} "
              "(always guessing the most common depth: {majority}).").format(
                accuracy=f"{result.metric:.3f}", loss=f"{result.loss:.3f}",
                majority=f"{majority:.3f}"),
        )

    def describe(self) -> str:
        return _(
            "Brackets: a stream of '(' , ')' and filler 'a', never nested deeper than "
            "{max_depth}. After every symbol the network says how deep it is now (0 to "
            "{max_depth}). It has to count: add one for '(', subtract one for ')'. Look "
            "for a hidden unit that climbs and falls with the depth."
        ).format(max_depth=self.max_depth)
