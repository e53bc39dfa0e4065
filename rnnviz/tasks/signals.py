"""A real-valued task: predict the next value of a sine wave."""

from __future__ import annotations

import math

import torch

from rnnviz import _validate
from rnnviz._types import Baseline, Batch
from rnnviz.i18n import _
from rnnviz.tasks._base import Task


class Sine(Task):
    """Next-step prediction of a sine wave with random phase and frequency.

        s_t = sin(phi + omega * t),   x_t = s_t,   y_t = s_{t+1}

    phi ~ U[0, 2 pi) and omega ~ U[2 pi / max_period, 2 pi / min_period] per sequence (the
    period is in steps). One value says where the wave is but not whether it is going up or
    down, nor how fast: two or more steps of memory are needed.

    Args:
        seq_len: T.
        min_period, max_period: range of the period in steps (2 < min_period <= max_period).
        seed: task seed.

    Shapes:
        x: ``(B, T, 1)`` float32. y: ``(B, T, 1)`` float32. output: ``(B, T, 1)``.
    """

    name = "sine"

    def __init__(
        self,
        seq_len: int = 40,
        *,
        min_period: float = 8.0,
        max_period: float = 24.0,
        seed: int = 0,
    ) -> None:
        super().__init__(seed)
        self.seq_len = _validate.steps("seq_len", seq_len)
        self.min_period = _validate.positive_float("min_period", min_period)
        self.max_period = _validate.positive_float("max_period", max_period)
        if self.min_period <= 2.0:
            raise ValueError(_("min_period must be greater than 2 steps, got {value}").format(
                value=min_period))
        if self.max_period < self.min_period:
            raise ValueError(_("max_period must be >= min_period={low}, got {value}").format(
                low=min_period, value=max_period))
        self.kind, self.input_kind = "synced", "real"
        self.input_size = self.output_size = 1
        self.feature_names = ["x"]
        self.loss_name, self.metric_name, self.higher_is_better = "mse", "mse", False
        self._params = {"seq_len": seq_len, "min_period": self.min_period, "max_period": self.max_period}

    @property
    def omega_range(self) -> tuple[float, float]:
        """(lowest, highest) angular frequency in radians per step."""
        return 2 * math.pi / self.max_period, 2 * math.pi / self.min_period

    def _summary(self) -> str:
        return _("predict the next value of a sine wave")

    def _make(self, batch_size: int, generator: torch.Generator) -> Batch:
        B, T = batch_size, self.seq_len
        lo, hi = self.omega_range
        phi = 2 * math.pi * torch.rand(B, 1, generator=generator, dtype=torch.float64)  # (B, 1)
        omega = lo + (hi - lo) * torch.rand(B, 1, generator=generator, dtype=torch.float64)
        t = torch.arange(T + 1, dtype=torch.float64)[None, :]  # (1, T+1)
        s = torch.sin(phi + omega * t).float()  # (B, T+1)
        return Batch(s[:, :T, None], s[:, 1:, None])  # (B, T, 1) each

    def mean_cos_omega(self) -> float:
        """E[cos omega] over the frequency range: the slope of the best memoryless guess."""
        lo, hi = self.omega_range
        if hi - lo < 1e-12:
            return math.cos(lo)
        return (math.sin(hi) - math.sin(lo)) / (hi - lo)

    def baseline(self) -> Baseline:
        # x_{t+1} = x_t cos(omega) + c_t sin(omega), with c_t = cos(phase) = +-sqrt(1 - x_t^2)
        # equally likely either sign. So E[x_{t+1} | x_t] = m x_t with m = E[cos omega], and
        # the error of that best guess is E[x^2] Var(cos w) + E[c^2] E[sin^2 w] = (1 - m^2) / 2.
        m = self.mean_cos_omega()
        mse = 0.5 * (1.0 - m * m)
        repeat = 1.0 - m  # E[(x_{t+1} - x_t)^2]
        return Baseline(
            loss=mse,
            metric=mse,
            description=_(
                "A network without memory sees one value x_t, not the direction or speed of "
                "the wave. Its best guess is {m} * x_t, with MSE (1 - m^2)/2 = {mse} "
                "(exact). For reference: repeating the last value gives {repeat}, "
                "predicting 0 gives 0.5."
            ).format(m=f"{m:.3f}", mse=f"{mse:.4f}", repeat=f"{repeat:.4f}"),
        )

    def describe(self) -> str:
        return _(
            "Sine: the network sees a sine wave one value at a time ({seq_len} steps) and "
            "predicts the next value. Each sequence has its own phase and a period between "
            "{low} and {high} steps. From one value alone you can't "
            "tell if the wave is rising or falling; the network must remember the recent past."
        ).format(seq_len=self.seq_len, low=f"{self.min_period:g}", high=f"{self.max_period:g}")
