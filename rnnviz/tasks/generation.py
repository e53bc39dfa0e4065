"""A one-to-many task: generate a whole sine wave from its frequency, given once at step 0."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from rnnviz import _validate
from rnnviz._types import Baseline, Batch
from rnnviz.i18n import _
from rnnviz.tasks._base import Task


class SineFromFrequency(Task):
    """One-to-many: see a frequency class at step 0, then draw its sine wave step by step.

        x_0 = k (one of K periods),   x_t = "." (no input) for t >= 1
        y_t = sin(2 pi (t + 1) / P_k)   for every t = 0 .. T-1

    The class k is drawn uniformly per sequence; every step is scored (mean squared error).
    After step 0 the input says nothing, so the wave must come from the hidden state alone:
    the network has to turn one input into a clock that runs at the right speed.

    Args:
        periods: the K periods in steps, each > 2 and all different. Default: ``(6, 10, 16)``.
        seq_len: T, steps to generate (any T >= 1: train at T, test at 2T).
        seed: task seed.

    Shapes:
        x: ``(B, T)`` long ids, ``k`` at t = 0 and ``K`` (the symbol ``"."``) after.
        y: ``(B, T, 1)`` float32. output: ``(B, T, 1)``.

    Example:
        >>> task = SineFromFrequency(periods=(6, 10), seq_len=8, seed=0)
        >>> x, y, _ = task.batch(2, seed=1)
        >>> x.shape, y.shape
        (torch.Size([2, 8]), torch.Size([2, 8, 1]))
        >>> task.decode(task.encode_period(10, 4))
        'P10...'
    """

    name = "sine_from_frequency"

    def __init__(
        self, periods: Sequence[float] = (6, 10, 16), seq_len: int = 24, *, seed: int = 0
    ) -> None:
        super().__init__(seed)
        if isinstance(periods, (str, bytes)) or not isinstance(periods, Sequence) or not periods:
            raise ValueError(_("periods must be a non-empty sequence of numbers, got {value!r}")
                             .format(value=periods))
        values = tuple(_validate.positive_float("periods", p) for p in periods)
        if min(values) <= 2.0:
            raise ValueError(_("periods must all be greater than 2 steps, got {value}").format(
                value=list(periods)))
        if len(set(values)) != len(values):
            raise ValueError(_("periods must all be different, got {value}").format(
                value=list(periods)))
        self.periods: tuple[float, ...] = values  # type: ignore[assignment]
        self.seq_len = _validate.positive_int("seq_len", seq_len)
        self.vocab = [f"P{p:g}" for p in values] + ["."]
        self.none = len(values)  # id of "." (no input)
        self.kind, self.input_kind = "one_to_many", "symbols"
        self.input_size, self.output_size = len(self.vocab), 1
        self.loss_name, self.metric_name, self.higher_is_better = "mse", "mse", False
        self._params = {"periods": values, "seq_len": seq_len}

    def _summary(self) -> str:
        return _("from a period given at step 0, generate the sine wave")

    def waves(self, seq_len: int | None = None) -> torch.Tensor:
        """The target wave of every class: ``(K, T)`` float64, ``sin(2 pi (t + 1) / P_k)``."""
        T = self.seq_len if seq_len is None else _validate.positive_int("seq_len", seq_len)
        t = torch.arange(1, T + 1, dtype=torch.float64)[None, :]  # (1, T)
        p = torch.tensor(self.periods, dtype=torch.float64)[:, None]  # (K, 1)
        return torch.sin(2 * math.pi * t / p)  # (K, T)

    def encode_period(self, period: float, seq_len: int | None = None) -> torch.Tensor:
        """The input ``(T,)`` for one of the task's periods: its id, then ``"."``."""
        if period not in self.periods:
            raise ValueError(_("period must be one of {periods}, got {value!r}").format(
                periods=list(self.periods), value=period))
        T = self.seq_len if seq_len is None else _validate.positive_int("seq_len", seq_len)
        x = torch.full((T,), self.none, dtype=torch.long)
        x[0] = self.periods.index(period)
        return x

    def _make(self, batch_size: int, generator: torch.Generator) -> Batch:
        B, T = batch_size, self.seq_len
        k = torch.randint(0, len(self.periods), (B,), generator=generator)  # (B,)
        x = torch.full((B, T), self.none, dtype=torch.long)  # (B, T)
        x[:, 0] = k
        y = self.waves()[k].float()[..., None]  # (B, T, 1)
        return Batch(x, y)

    def baseline(self) -> Baseline:
        # No memory: at t = 0 the class is in view, so y_0 is known exactly (error 0). At t >= 1
        # the input is always "." and even the step t is unknown, so the best guess is one
        # constant: the mean of y over classes and steps t >= 1; its error is their variance.
        waves, T = self.waves(), self.seq_len
        rest = waves[:, 1:]  # (K, T-1), classes equally likely
        if rest.numel() == 0:
            mse = 0.0
        else:
            mse = float(((rest - rest.mean()) ** 2).sum()) / (len(self.periods) * T)
        zero = float((waves**2).mean())
        return Baseline(
            loss=mse,
            metric=mse,
            description=_(
                "A network without memory sees the period only at step 0 (where it can give "
                "the first value exactly). Afterwards every input is '.', and it cannot even "
                "tell which step it is at, so its best answer is one constant: the mean of the "
                "waves. Computed exactly: MSE {mse} (predicting 0 everywhere: {zero})."
            ).format(mse=f"{mse:.4f}", zero=f"{zero:.4f}"),
        )

    def describe(self) -> str:
        periods = ", ".join(f"{p:g}" for p in self.periods)
        return _(
            "Sine from frequency (one-to-many): at the first step the network is told a period "
            "({periods} steps); after that it gets no input at all ('.'). At every one of the "
            "{seq_len} steps it must output the next value of that sine wave. It has to "
            "start an oscillation in its hidden state and keep it running at the right speed."
        ).format(periods=periods, seq_len=self.seq_len)
