"""Tasks whose answer at step t needs the future: what bidirectional (and deep) RNNs are for.

Both are synchronised many-to-many tasks (a target at every step) over random symbols::

    Lookahead:     y_t = x_{t + ahead}                      ("echo with a negative delay")
    NeighbourXor:  y_t = x_{t - distance} XOR x_{t + distance}   (bits)

A forward-only RNN reads x_0 .. x_t before it answers at step t, so however good its memory
it cannot know x_{t + ahead}: on these tasks it scores no better than a network without
memory. A bidirectional RNN also runs a second, reverse direction over x_{T-1} .. x_t, whose
state at step t has seen the future. `NeighbourXor` needs one thing more. A one-layer
bidirectional RNN with a linear readout adds a score computed from the past (forward state)
to a score computed from the future (reverse state): ``logit = f(x_0..x_t) + g(x_t..x_{T-1})``.
No such sum computes XOR: the best one is right in 3 of the 4 cases (75 %), and the one with
the lowest cross-entropy is a constant, so training leaves it at chance. A second layer reads
both directions' states at every step and can combine them.
"""

from __future__ import annotations

import torch

from rnnviz import _validate
from rnnviz._types import Baseline, Batch
from rnnviz.i18n import _
from rnnviz.tasks._base import IGNORE_INDEX, Task, chance_baseline, letters, n_steps

__all__ = ["Lookahead", "NeighbourXor"]


class Lookahead(Task):
    """Lookahead: output the symbol that will arrive ``ahead`` steps later.

        y_t = x_{t + ahead}   for t < T - ahead;   y_t = -100 (not scored) for the last ``ahead`` steps

    The mirror image of `Echo` (``y_t = x_{t - delay}``): an echo with a negative delay.
    Symbols are drawn uniformly and independently from ``num_symbols`` letters A, B, ...

    Args:
        ahead: how many steps ahead to look (1 <= ahead < seq_len).
        num_symbols: K, the number of symbols (2..26).
        seq_len: T.
        seed: task seed.

    Shapes:
        x: ``(B, T)`` long ids in [0, K). y: ``(B, T)`` long, ``-100`` on the last ``ahead``
        steps. output: ``(B, T, K)``.

    Example:
        >>> task = Lookahead(ahead=2, seed=0)
        >>> x, y, _ = task.batch(4, seed=1)
        >>> bool((y[:, :-2] == x[:, 2:]).all())
        True
    """

    name = "lookahead"

    def __init__(self, ahead: int = 2, num_symbols: int = 4, seq_len: int = 12, *, seed: int = 0) -> None:
        super().__init__(seed)
        self.ahead = _validate.steps("ahead", ahead)
        self.num_symbols = _validate.positive_int("num_symbols", num_symbols)
        self.seq_len = _validate.steps("seq_len", seq_len)
        if num_symbols < 2:
            raise ValueError(_("{name} must be at least 2, got {value}").format(
                name="num_symbols", value=num_symbols))
        if ahead >= seq_len:
            raise ValueError(_("{arg} must be smaller than seq_len={seq_len}, got {value}").format(
                arg="ahead", seq_len=seq_len, value=ahead))
        self.vocab = letters(num_symbols)
        self.output_vocab = list(self.vocab)
        self.kind, self.input_kind = "synced", "symbols"
        self.input_size = self.output_size = num_symbols
        self.loss_name, self.metric_name, self.higher_is_better = "cross_entropy", "accuracy", True
        self._params = {"ahead": ahead, "num_symbols": num_symbols, "seq_len": seq_len}

    def _summary(self) -> str:
        n = self.ahead
        return _("output the symbol that comes {steps} later").format(steps=n_steps(n))

    def _make(self, batch_size: int, generator: torch.Generator) -> Batch:
        B, T, k = batch_size, self.seq_len, self.ahead
        x = torch.randint(0, self.num_symbols, (B, T), generator=generator)  # (B, T)
        y = torch.full((B, T), IGNORE_INDEX, dtype=torch.long)  # (B, T)
        y[:, : T - k] = x[:, k:]
        return Batch(x, y)

    def baseline(self) -> Baseline:
        return chance_baseline(
            self.num_symbols,
            _("A network without memory sees only x_t, which is independent of x_(t+{ahead}): "
              "it can only guess, so accuracy 1/{k} and loss ln {k}. A forward-only RNN does no "
              "better, however much it remembers: the answer has not arrived yet. Only a "
              "bidirectional RNN can beat this bar.").format(ahead=self.ahead, k=self.num_symbols),
        )

    def describe(self) -> str:
        n = self.ahead
        return _("Lookahead: a stream of random letters ({letters}) comes in, one per step. At "
                 "every step the network must say the letter that will arrive {steps} later "
                 "(the last {steps} are not scored). A network that reads only forwards can "
                 "only guess; a bidirectional one reads the sequence backwards as well, and its "
                 "reverse state at step t has already seen the answer.").format(
            letters="".join(self.vocab), steps=n_steps(n))


class NeighbourXor(Task):
    """Neighbour XOR: is the bit ``distance`` steps before different from the one after?

        y_t = x_{t - distance} XOR x_{t + distance}   for distance <= t < T - distance

    Bits are fair coin flips; the first and last ``distance`` steps are not scored (-100).
    The answer needs one bit from the past and one from the future:

    - no memory, or a forward-only RNN: 50 % (the future bit is a coin flip);
    - a one-layer bidirectional RNN with a linear readout: its logits are a sum
      ``f(x_0..x_t) + g(x_t..x_{T-1})``, and no such sum computes XOR: at most 75 % correct,
      and the cross-entropy is lowest for a constant, so in training it stays at 50 %;
    - two bidirectional layers: up to 100 %, the second layer combines the two directions.

    Args:
        distance: d, how far to look back and ahead (1 <= d and 2 d < seq_len).
        seq_len: T.
        seed: task seed.

    Shapes:
        x: ``(B, T)`` long bits (vocab ``["0", "1"]``). y: ``(B, T)`` long, 0 = same,
        1 = different, ``-100`` on the first and last d steps. output: ``(B, T, 2)``.

    Example:
        >>> task = NeighbourXor(distance=1, seed=0)
        >>> x, y, _ = task.batch(4, seed=1)
        >>> bool((y[:, 1:-1] == (x[:, :-2] ^ x[:, 2:])).all())
        True
    """

    name = "neighbour_xor"

    def __init__(self, distance: int = 1, seq_len: int = 12, *, seed: int = 0) -> None:
        super().__init__(seed)
        self.distance = _validate.steps("distance", distance)
        self.seq_len = _validate.steps("seq_len", seq_len)
        if 2 * distance >= seq_len:
            raise ValueError(_(
                 "distance must be smaller than seq_len / 2 = {half} so that some step has both "
                 "neighbours, got {distance}").format(half=seq_len / 2, distance=distance))
        self.vocab, self.output_vocab = ["0", "1"], ["same", "different"]
        self.kind, self.input_kind = "synced", "symbols"
        self.input_size = self.output_size = 2
        self.loss_name, self.metric_name, self.higher_is_better = "cross_entropy", "accuracy", True
        self._params = {"distance": distance, "seq_len": seq_len}

    def _summary(self) -> str:
        n = self.distance
        return _("say whether the bits {steps} before and after differ").format(steps=n_steps(n))

    def _make(self, batch_size: int, generator: torch.Generator) -> Batch:
        B, T, d = batch_size, self.seq_len, self.distance
        x = torch.randint(0, 2, (B, T), generator=generator)  # (B, T)
        y = torch.full((B, T), IGNORE_INDEX, dtype=torch.long)  # (B, T)
        y[:, d : T - d] = x[:, : T - 2 * d] ^ x[:, 2 * d :]
        return Batch(x, y)

    def baseline(self) -> Baseline:
        return chance_baseline(
            2,
            _("A network without memory sees only x_t, which says nothing about x_(t-{d}) XOR "
              "x_(t+{d}): it can only guess, so accuracy 1/2 and loss ln 2. A forward-only RNN "
              "also guesses (the future bit is a coin flip), and so, after training, does a "
              "one-layer bidirectional RNN with a linear readout (it adds a score of the past to "
              "a score of the future, and no such sum computes XOR).").format(d=self.distance),
        )

    def describe(self) -> str:
        n = self.distance
        return _("Neighbour XOR: {seq_len} random bits. At every step the network must say "
                 "whether the bit {steps} before and the bit {steps} after are different. "
                 "It needs the past and the future, so only a bidirectional RNN can beat guessing; "
                 "and it must combine the two, which one bidirectional layer with a linear readout "
                 "cannot do, but two stacked layers can.").format(
            seq_len=self.seq_len, steps=n_steps(n))
