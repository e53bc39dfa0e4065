"""Two long-time-lag problems from Hochreiter & Schmidhuber (1997), "Long Short-Term Memory".

Experiment 4 (the adding problem) and experiment 6a (temporal order), with one change made
for batching: the paper draws each sequence length from [T, T + T/10]; here every sequence
has exactly ``seq_len`` steps (the jitter only stops a network from counting steps).
"""

from __future__ import annotations

import math

import torch

from rnnviz import _validate
from rnnviz._types import Baseline, Batch
from rnnviz.i18n import _
from rnnviz.tasks._base import Task, chance_baseline


class Adding(Task):
    """The adding problem: add the two marked numbers and report the sum at the end.

    Each step is a pair (value, marker). ``variant="hochreiter1997"`` (default) follows
    experiment 4 of the LSTM paper exactly:

    1. values are uniform in [-1, 1];
    2. X1 is marked (marker 1.0) at a random one of the first 10 steps;
    3. X2 is marked at a random one of the first ``seq_len // 2 - 1`` still unmarked steps;
    4. all other markers are 0.0, except the first and the last step whose marker is -1.0;
       if the first step was chosen for X1 its marker is 1.0 and its value is set to 0;
    5. target = 0.5 + (X1 + X2) / 4.0, in [0, 1]; a sequence counts as solved when
       |output - target| < 0.04 (see `solved_fraction`).

    ``variant="uniform"`` is the later, common form (Le et al. 2015; Arjovsky et al. 2016):
    values uniform in [0, 1], one marker in each half, no -1 markers, target = X1 + X2.

    Args:
        seq_len: T (>= 11 so the first 10 steps never include the last one).
        variant: ``"hochreiter1997"`` or ``"uniform"``.
        seed: task seed.

    Shapes:
        x: ``(B, T, 2)`` float32, channel 0 = value, channel 1 = marker. y: ``(B, 1)`` float32.
        output: ``(B, 1)``.
    """

    name = "adding"
    tolerance = 0.04  # |error| below this counts as solved (Hochreiter & Schmidhuber 1997)

    def __init__(self, seq_len: int = 20, *, variant: str = "hochreiter1997", seed: int = 0):
        super().__init__(seed)
        self.seq_len = _validate.steps("seq_len", seq_len)
        if seq_len < 11:
            raise ValueError(_("seq_len must be at least 11 for the adding problem, got {value}")
                             .format(value=seq_len))
        self.variant = _validate.choice("variant", variant, ["hochreiter1997", "uniform"])
        self.kind, self.input_kind = "many_to_one", "real"
        self.input_size, self.output_size = 2, 1
        self.feature_names = ["value", "marker"]
        self.loss_name, self.metric_name, self.higher_is_better = "mse", "mse", False
        self._params = {"seq_len": seq_len, "variant": self.variant}

    def _summary(self) -> str:
        return _("output the sum of the two marked values at the end")

    def _make(self, batch_size: int, generator: torch.Generator) -> Batch:
        B, T = batch_size, self.seq_len
        rows = torch.arange(B)
        u = torch.rand(B, T, generator=generator)  # (B, T)
        marker = torch.zeros(B, T)  # (B, T)
        if self.variant == "hochreiter1997":
            value = 2 * u - 1  # (B, T) in [-1, 1]
            p1 = torch.randint(0, 10, (B,), generator=generator)  # (B,)
            k = torch.randint(0, T // 2 - 1, (B,), generator=generator)  # k-th unmarked step
            p2 = k + (k >= p1).long()  # (B,) skips p1
            marker[:, 0] = -1.0
            marker[:, T - 1] = -1.0
            marker[rows, p1] = 1.0
            marker[rows, p2] = 1.0
            value[rows[p1 == 0], 0] = 0.0  # "X1 is set to zero if the first pair got marked"
            y = 0.5 + (value[rows, p1] + value[rows, p2]) / 4.0  # (B,)
        else:
            value = u
            p1 = torch.randint(0, T // 2, (B,), generator=generator)
            p2 = torch.randint(T // 2, T, (B,), generator=generator)
            marker[rows, p1] = 1.0
            marker[rows, p2] = 1.0
            y = value[rows, p1] + value[rows, p2]  # (B,)
        x = torch.stack([value, marker], dim=-1)  # (B, T, 2)
        return Batch(x, y[:, None])  # y: (B, 1)

    @torch.no_grad()
    def solved_fraction(self, output: torch.Tensor, y: torch.Tensor) -> float:
        """Fraction of sequences with |output - target| < 0.04, the paper's success test."""
        output, y = self._check(output, y)
        return float(((output - y).abs() < self.tolerance).float().mean())

    def baseline(self) -> Baseline:
        if self.variant == "hochreiter1997":
            # Var(0.5 + (X1 + X2) / 4) with X ~ U[-1, 1] (variance 1/3), except X1 = 0 when
            # the first pair is marked (probability 1/10): (1/16) * (1/3) * (2 - 1/10).
            var = (2.0 - 0.1) / 48.0
            # P(|X1 + X2| / 4 < 0.04): triangular sum (0.9) or a single uniform X2 (0.1).
            solved = 0.9 * (1 - (2 - 0.16) ** 2 / 4) + 0.1 * 0.16
            what = "0.5"
        else:
            var = 2.0 / 12.0  # Var(U1 + U2), U ~ U[0, 1]
            solved = 1 - (1 - 0.04) ** 2
            what = "1.0"
        return Baseline(
            loss=var,
            metric=var,
            description=_(
                "A network without memory sees only the last step, which is never marked, so "
                "its best guess is the mean target {mean}. Its MSE is the variance of the "
                "target, computed exactly: {var}. It solves (|error| < 0.04) only "
                "{solved} of sequences."
            ).format(mean=what, var=f"{var:.4f}", solved=f"{solved:.1%}"),
        )

    def describe(self) -> str:
        if self.variant == "hochreiter1997":
            return _(
                "Adding problem: each of the {seq_len} steps brings a random number between "
                "-1 and 1 and a marker. Exactly two steps are marked with 1. At the end the "
                "network must output 0.5 + (sum) / 4 of the two marked numbers. It has to notice "
                "the markers, store the numbers precisely and ignore everything else for many "
                "steps.").format(seq_len=self.seq_len)
        return _(
            "Adding problem: each of the {seq_len} steps brings a random number between "
            "0 and 1 and a marker. Exactly two steps are marked with 1. At the end the "
            "network must output the sum of the two marked numbers. It has to notice the "
            "markers, store the numbers precisely and ignore everything else for many "
            "steps.").format(seq_len=self.seq_len)


class TemporalOrder(Task):
    """Temporal order (Hochreiter & Schmidhuber 1997, experiment 6a): which came first, X or Y?

    A sequence starts with ``E``, ends with the trigger ``B``, and is otherwise random
    distractors from {a, b, c, d}, except two steps t1 < t2 that hold X or Y. The class is
    the ordered pair: XX=0, XY=1, YX=2, YY=3 (the paper's Q, R, S, U).

    The paper uses T = 100..110 with t1 in [10, 20] and t2 in [50, 60]. Here T is fixed and
    the ranges scale with it: t1 in [0.1 T, 0.2 T] and t2 in [0.5 T, 0.6 T] (rounded), which
    gives the paper's ranges at T = 100.

    Args:
        seq_len: T (>= 8).
        seed: task seed.

    Shapes:
        x: ``(B, T)`` long ids of ``vocab = [E, B, a, b, c, d, X, Y]``. y: ``(B,)`` long in
        [0, 4). output: ``(B, 4)``.
    """

    name = "temporal_order"

    def __init__(self, seq_len: int = 30, *, seed: int = 0) -> None:
        super().__init__(seed)
        self.seq_len = _validate.steps("seq_len", seq_len)
        if seq_len < 8:
            raise ValueError(_("seq_len must be at least 8 for temporal order, got {value}")
                             .format(value=seq_len))

        def rnd(v: float) -> int:
            return int(math.floor(v + 0.5))

        T = seq_len
        lo1 = max(1, rnd(0.1 * T))
        hi1 = max(lo1, rnd(0.2 * T))
        lo2 = max(hi1 + 1, rnd(0.5 * T))
        hi2 = min(T - 2, max(lo2, rnd(0.6 * T)))
        self.first_range, self.second_range = (lo1, hi1), (lo2, hi2)  # inclusive, 0-based
        self.vocab = ["E", "B", "a", "b", "c", "d", "X", "Y"]
        self.output_vocab = ["XX", "XY", "YX", "YY"]
        self.kind, self.input_kind = "many_to_one", "symbols"
        self.input_size, self.output_size = 8, 4
        self.loss_name, self.metric_name, self.higher_is_better = "cross_entropy", "accuracy", True
        self._params = {"seq_len": seq_len}

    def _summary(self) -> str:
        return _("say in which order X and Y appeared among distractors")

    def _make(self, batch_size: int, generator: torch.Generator) -> Batch:
        B, T = batch_size, self.seq_len
        rows = torch.arange(B)
        x = torch.randint(2, 6, (B, T), generator=generator)  # (B, T) distractors a..d
        x[:, 0], x[:, T - 1] = 0, 1  # E ... B
        (lo1, hi1), (lo2, hi2) = self.first_range, self.second_range
        t1 = torch.randint(lo1, hi1 + 1, (B,), generator=generator)  # (B,)
        t2 = torch.randint(lo2, hi2 + 1, (B,), generator=generator)  # (B,)
        s1 = torch.randint(0, 2, (B,), generator=generator)  # 0 = X, 1 = Y
        s2 = torch.randint(0, 2, (B,), generator=generator)
        x[rows, t1] = 6 + s1
        x[rows, t2] = 6 + s2
        return Batch(x, 2 * s1 + s2)

    def baseline(self) -> Baseline:
        return chance_baseline(
            4,
            _("A network without memory sees only the last input, always the trigger B: it can "
              "only guess one of the 4 classes, so accuracy 1/4 and loss ln 4."),
        )

    def describe(self) -> str:
        (lo1, hi1), (lo2, hi2) = self.first_range, self.second_range
        return _(
            "Temporal order: {seq_len} symbols, mostly random distractors a-d. Somewhere "
            "in steps {lo1}-{hi1} an X or Y appears, and again in steps {lo2}-{hi2}. At the "
            "final trigger B the network must say the order: XX, XY, YX or YY. It must store "
            "the first symbol, keep it through the distractors, and combine it with the second."
        ).format(seq_len=self.seq_len, lo1=lo1, hi1=hi1, lo2=lo2, hi2=hi2)
