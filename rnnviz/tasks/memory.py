"""Pure memory tasks: repeat what you saw ``delay`` steps ago, recall a cue, copy a string."""

from __future__ import annotations

import torch

from rnnviz import _validate
from rnnviz._types import Baseline, Batch
from rnnviz.i18n import _, ngettext
from rnnviz.tasks._base import IGNORE_INDEX, Task, chance_baseline, letters, n_steps, n_steps_plural


class Echo(Task):
    """Echo: output the symbol seen ``delay`` steps earlier.

        y_t = x_{t - delay}   for t >= delay;   y_t = -100 (not scored) for t < delay

    Symbols are drawn uniformly and independently from ``num_symbols`` letters A, B, ...

    Args:
        delay: how many steps back to look (1 <= delay < seq_len).
        num_symbols: K, the number of symbols (2..26).
        seq_len: T.
        seed: task seed.

    Shapes:
        x: ``(B, T)`` long ids in [0, K). y: ``(B, T)`` long, ``-100`` on the first ``delay``
        steps.

    Example:
        >>> task = Echo(delay=2, seed=0)
        >>> x, y, _ = task.batch(4, seed=1)
        >>> bool((y[:, 2:] == x[:, :-2]).all())
        True
    """

    name = "echo"

    def __init__(self, delay: int = 2, num_symbols: int = 4, seq_len: int = 12, *, seed: int = 0) -> None:
        super().__init__(seed)
        self.delay = _validate.steps("delay", delay)
        self.num_symbols = _validate.positive_int("num_symbols", num_symbols)
        self.seq_len = _validate.steps("seq_len", seq_len)
        if num_symbols < 2:
            raise ValueError(_("{name} must be at least 2, got {value}").format(
                name="num_symbols", value=num_symbols))
        if delay >= seq_len:
            raise ValueError(_("{arg} must be smaller than seq_len={seq_len}, got {value}").format(
                arg="delay", seq_len=seq_len, value=delay))
        self.vocab = letters(num_symbols)
        self.output_vocab = list(self.vocab)
        self.kind, self.input_kind = "synced", "symbols"
        self.input_size = self.output_size = num_symbols
        self.loss_name, self.metric_name, self.higher_is_better = "cross_entropy", "accuracy", True
        self._params = {"delay": delay, "num_symbols": num_symbols, "seq_len": seq_len}

    def _summary(self) -> str:
        n = self.delay
        return _("output the symbol seen {steps} earlier").format(steps=n_steps(n))

    def _make(self, batch_size: int, generator: torch.Generator) -> Batch:
        B, T, d = batch_size, self.seq_len, self.delay
        x = torch.randint(0, self.num_symbols, (B, T), generator=generator)  # (B, T)
        y = torch.full((B, T), IGNORE_INDEX, dtype=torch.long)  # (B, T)
        y[:, d:] = x[:, :-d]
        return Batch(x, y)

    def baseline(self) -> Baseline:
        return chance_baseline(
            self.num_symbols,
            _("A network without memory sees only x_t, which is independent of x_(t-{delay}): "
              "it can only guess, so accuracy 1/{k} and loss ln {k}.").format(
                delay=self.delay, k=self.num_symbols),
        )

    def describe(self) -> str:
        n = self.delay
        return _("Echo: a stream of random letters ({letters}) comes in, one per step. At every "
                 "step the network must say the letter it saw {steps} ago. The first {steps} "
                 "are not scored. To succeed it has to keep the last {n} letters in its "
                 "hidden state, like a shift register.").format(
            letters="".join(self.vocab), steps=n_steps(n), n=n)


class DelayedRecall(Task):
    """Delayed recall: remember the first symbol through ``lag`` distractor steps.

        x = (cue, d_1, ..., d_lag),   y = cue   (one class per sequence)

    The cue is one of ``num_symbols`` letters. With ``distractors="same"`` (default) the
    distractors are random letters from the same set, so the network must also learn to
    *ignore* inputs after the first; with ``distractors="blank"`` every distractor is the
    extra symbol ``"."`` and the task only tests holding a value.

    Args:
        lag: number of distractor steps after the cue (seq_len = lag + 1).
        num_symbols: K cue symbols (2..26).
        distractors: ``"same"`` or ``"blank"``.
        seed: task seed.

    Shapes:
        x: ``(B, lag + 1)`` long. y: ``(B,)`` long in [0, K). output: ``(B, K)``.
    """

    name = "delayed_recall"

    def __init__(
        self, lag: int = 10, num_symbols: int = 4, *, distractors: str = "same", seed: int = 0
    ) -> None:
        super().__init__(seed)
        self.lag = _validate.steps("lag", lag)
        self.num_symbols = _validate.positive_int("num_symbols", num_symbols)
        if num_symbols < 2:
            raise ValueError(_("{name} must be at least 2, got {value}").format(
                name="num_symbols", value=num_symbols))
        self.distractors = _validate.choice("distractors", distractors, ["same", "blank"])
        self.seq_len = lag + 1
        self.output_vocab = letters(num_symbols)
        self.vocab = self.output_vocab + (["."] if self.distractors == "blank" else [])
        self.kind, self.input_kind = "many_to_one", "symbols"
        self.input_size, self.output_size = len(self.vocab), num_symbols
        self.loss_name, self.metric_name, self.higher_is_better = "cross_entropy", "accuracy", True
        self._params = {"lag": lag, "num_symbols": num_symbols, "distractors": self.distractors}

    def _summary(self) -> str:
        n = self.lag
        return ngettext("after {n} distractor step(s), name the first symbol",
                        "after {n} distractor step(s), name the first symbol", n).format(n=n)

    def _make(self, batch_size: int, generator: torch.Generator) -> Batch:
        B, K = batch_size, self.num_symbols
        cue = torch.randint(0, K, (B,), generator=generator)  # (B,)
        if self.distractors == "same":
            rest = torch.randint(0, K, (B, self.lag), generator=generator)  # (B, lag)
        else:
            rest = torch.full((B, self.lag), K, dtype=torch.long)  # (B, lag)
        x = torch.cat([cue[:, None], rest], dim=1)  # (B, T)
        return Batch(x, cue)

    def baseline(self) -> Baseline:
        return chance_baseline(
            self.num_symbols,
            _("A network without memory sees only the last input, a distractor that says "
              "nothing about the cue: it can only guess, so accuracy 1/{k} and loss ln {k}.")
            .format(k=self.num_symbols),
        )

    def describe(self) -> str:
        # TRANSLATORS: {what} is "random letters" or "blanks '.'" (the distractors)
        what = _("random letters") if self.distractors == "same" else _("blanks '.'")
        n = self.lag
        return _("Delayed recall: the first step shows one of the letters {letters}. Then come "
                 "{steps} of {what}. Only at the end is the network asked: which letter came "
                 "first? It must store the cue in its hidden state and protect it from everything "
                 "that follows. Long lags make the gradient vanish for a plain RNN; an LSTM can "
                 "learn to close its input gate and keep its forget gate near 1.").format(
            letters="".join(self.output_vocab), steps=n_steps_plural(n), what=what)


class Copy(Task):
    """Copy memory task: read ``length`` symbols, wait, then write them back in order.

    Layout of one sequence (T = 2 * length + delay), for length=3, delay=4::

        x:  A C B _ _ _ : _ _ _        (data, delay-1 blanks, the delimiter ':', blanks)
        y:  . . . . . . . A C B        ('.' = -100, not scored)

    The data symbols are uniform over ``num_symbols`` letters; ``"_"`` is the blank and ``":"``
    the delimiter that says "start writing now". Unlike Arjovsky et al. (2016), only the
    ``length`` recall steps are scored, so chance is 1/K rather than a blank-dominated number.

    Args:
        num_symbols: K data symbols (2..26).
        length: how many symbols to copy.
        delay: waiting steps between the data and the recall: ``delay - 1`` blanks, then the
            delimiter (>= 1).
        seed: task seed.

    Shapes:
        x: ``(B, T)`` long in [0, K + 2). y: ``(B, T)`` long, the data on the last ``length``
        steps and ``-100`` elsewhere. output: ``(B, T, K)``.
    """

    name = "copy"

    def __init__(self, num_symbols: int = 8, length: int = 5, delay: int = 10, *, seed: int = 0) -> None:
        super().__init__(seed)
        self.num_symbols = _validate.positive_int("num_symbols", num_symbols)
        if num_symbols < 2:
            raise ValueError(_("{name} must be at least 2, got {value}").format(
                name="num_symbols", value=num_symbols))
        self.length = _validate.steps("length", length)
        self.delay = _validate.steps("delay", delay)
        self.seq_len = 2 * length + delay
        self.output_vocab = letters(num_symbols)
        self.vocab = self.output_vocab + ["_", ":"]
        self.blank, self.delimiter = num_symbols, num_symbols + 1
        self.kind, self.input_kind = "many_to_many", "symbols"
        self.input_size, self.output_size = num_symbols + 2, num_symbols
        self.loss_name, self.metric_name, self.higher_is_better = "cross_entropy", "accuracy", True
        self._params = {"num_symbols": num_symbols, "length": length, "delay": delay}

    def _summary(self) -> str:
        return _("read {length} symbols, wait {delay} steps, write them back").format(
            length=self.length, delay=self.delay)

    def _make(self, batch_size: int, generator: torch.Generator) -> Batch:
        B, L, T = batch_size, self.length, self.seq_len
        data = torch.randint(0, self.num_symbols, (B, L), generator=generator)  # (B, L)
        x = torch.full((B, T), self.blank, dtype=torch.long)  # (B, T)
        x[:, :L] = data
        x[:, L + self.delay - 1] = self.delimiter
        y = torch.full((B, T), IGNORE_INDEX, dtype=torch.long)  # (B, T)
        y[:, T - L :] = data
        return Batch(x, y)

    def baseline(self) -> Baseline:
        return chance_baseline(
            self.num_symbols,
            _("On the scored steps the input is a blank, so a network without memory can only "
              "guess: accuracy 1/{k} and loss ln {k}.").format(k=self.num_symbols),
        )

    def describe(self) -> str:
        return _(
            "Copy: the network reads {length} random letters, then sees blanks '_' for a "
            "while. When the delimiter ':' appears it must write the {length} letters "
            "back in the same order ({delay} waiting steps after the letters, the last "
            "one showing ':'). Only those answers are scored. It needs to store a whole "
            "sequence, not just one value."
        ).format(length=self.length, delay=self.delay)
