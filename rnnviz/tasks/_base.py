"""The `Task` base class: one interface for every demonstration task.

A task makes seeded batches (`Batch(x, y, lengths)`), scores a model's output with `loss` and
`metric`, and says what a model *without memory* would score with `baseline`.

"No memory" means: a predictor that sees only the current input ``x_t`` (per-step tasks) or
only the last real input (many-to-one tasks), and never anything earlier. An RNN whose
recurrent weights are all zero is such a predictor, so beating the baseline is the evidence
that the network uses its hidden state.
"""

from __future__ import annotations

import math
import os
import string
from pathlib import Path
from typing import Any, ClassVar

import torch
import torch.nn.functional as F

from rnnviz import _validate
from rnnviz._types import Baseline, Batch
from rnnviz.i18n import _, ngettext

IGNORE_INDEX = -100  # per-step targets with this value are not scored (cross-entropy ignore_index)
_MASK63 = (1 << 63) - 1


def letters(n: int, name: str = "num_symbols") -> list[str]:
    """The first ``n`` upper-case letters, used as symbol names (``n`` <= 26)."""
    _validate.positive_int(name, n)
    if n > 26:
        raise ValueError(_("{name} must be at most 26 (symbols are named A-Z), got {n}").format(
            name=name, n=n))
    return list(string.ascii_uppercase[:n])


def n_steps(n: int) -> str:
    """``"3 step(s)"``: a number of steps, in the plural form the language in force needs."""
    # TRANSLATORS: English keeps "step(s)" for every n; give the three Russian forms
    return ngettext("{n} step(s)", "{n} step(s)", n).format(n=n)


def n_steps_plural(n: int) -> str:
    """``"3 steps"`` (English always says "steps" here), in the form the language needs."""
    return ngettext("{n} steps", "{n} steps", n).format(n=n)


def mix_seed(task_seed: int, batch_seed: int) -> int:
    """A 63-bit generator seed from the task seed and a batch seed (splitmix64 finaliser)."""
    z = (task_seed * 0x9E3779B97F4A7C15 + batch_seed + 0x632BE59BD9B4E019) & ((1 << 64) - 1)
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & ((1 << 64) - 1)
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & ((1 << 64) - 1)
    return (z ^ (z >> 31)) & _MASK63


def baseline_from_joint(joint: torch.Tensor, description: str) -> Baseline:
    """Best memoryless classifier from the joint table ``P(x, y)`` of (input seen, target).

    Accuracy = sum over x of max_y P(x, y) (predict the likeliest target for each input);
    loss = H(Y | X) in nats (predict P(y | x) exactly): both are the best any no-memory
    predictor can do when it sees x and nothing else.
    """
    p = joint.double() / joint.double().sum()  # (X, Y)
    px = p.sum(dim=1, keepdim=True)  # (X, 1)
    cond = torch.where(p > 0, p / px.clamp_min(1e-300), torch.ones_like(p))
    loss = float(-(p * cond.log()).sum())
    accuracy = float(p.max(dim=1).values.sum())
    return Baseline(loss=loss, metric=accuracy, description=description)


def assets_dir() -> Path:
    """The folder of data files: ``$RNNVIZ_ASSETS`` if set, else ``<repo>/assets``."""
    env = os.environ.get("RNNVIZ_ASSETS")
    path = Path(env) if env else Path(__file__).resolve().parents[2] / "assets"
    if not path.is_dir():
        where = "RNNVIZ_ASSETS" if env else _("the repository's assets/ folder")
        raise FileNotFoundError(_(
            "rnnviz data files not found at {path} ({where}); set the RNNVIZ_ASSETS "
            "environment variable to the folder that holds tiny_corpus.txt and names.csv"
        ).format(path=path, where=where))
    return path


def asset(filename: str) -> Path:
    """Path of one data file in `assets_dir()`, with a clear error when it is missing."""
    path = assets_dir() / filename
    if not path.is_file():
        raise FileNotFoundError(_(
            "rnnviz data file {filename!r} is missing from {folder}; set RNNVIZ_ASSETS "
            "to a folder that has it"
        ).format(filename=filename, folder=path.parent))
    return path


class Task:
    """Base class of every task: seeded batches, loss, metric and the no-memory baseline.

    Subclasses set the attributes below in ``__init__`` and implement ``_make(batch_size,
    generator) -> Batch``, ``baseline()`` and ``describe()``.

    Attributes:
        name: registry name, e.g. ``"echo"``.
        kind: ``"many_to_one"`` (one target per sequence), ``"many_to_many"`` (targets after
            the whole input was read), ``"synced"`` (a target at every step) or
            ``"one_to_many"`` (an input at step 0 only, a target at every step).
        input_kind: ``"symbols"`` (x is ``(B, T)`` long ids) or ``"real"`` (``(B, T, F)``).
        input_size: number of input symbols, or features F.
        output_size: number of classes, or real outputs.
        seq_len: T, the time length of every batch (padded length for variable lengths).
        seed: the task's seed.
        vocab: names of input symbols (index = id) or ``None`` for real inputs.
        output_vocab: names of the output classes or ``None`` for real outputs.
        loss_name: ``"cross_entropy"`` or ``"mse"``.
        metric_name: ``"accuracy"`` or ``"mse"``.
        higher_is_better: whether a larger metric is better.

    Shapes:
        x: ``(B, T)`` long or ``(B, T, F)`` float32. y: many-to-one ``(B,)`` long or
        ``(B, O)`` float32; per-step ``(B, T)`` long (``-100`` = not scored) or ``(B, T, O)``.
        output (what a model gives ``loss``/``metric``): many-to-one ``(B, O)``, else
        ``(B, T, O)``.
    """

    name: ClassVar[str] = "task"
    kind: str
    input_kind: str
    input_size: int
    output_size: int
    seq_len: int
    seed: int
    vocab: list[str] | None = None
    output_vocab: list[str] | None = None
    feature_names: list[str] | None = None
    loss_name: str
    metric_name: str
    higher_is_better: bool

    def __init__(self, seed: int = 0) -> None:
        self.seed = _validate.seed("seed", seed)
        self._generator = torch.Generator().manual_seed(mix_seed(self.seed, -1))
        self._params: dict[str, Any] = {}

    @property
    def summary(self) -> str:
        """One line for ``__repr__``, in the language in force."""
        return self._summary()

    def _summary(self) -> str:
        return ""

    # -- batches ------------------------------------------------------------------------
    def batch(self, batch_size: int, *, seed: int | None = None) -> Batch:
        """A batch of ``batch_size`` sequences.

        With ``seed`` the batch depends only on (task seed, seed); without, it comes from the
        task's own generator: successive calls differ, and the sequence of batches repeats
        for a task built with the same seed.
        """
        _validate.positive_int("batch_size", batch_size)
        _validate.elements("batch_size", batch_size, self.seq_len, max(self.input_size, self.output_size))
        if seed is None:
            generator = self._generator
        else:
            _validate.seed("seed", seed)
            generator = torch.Generator().manual_seed(mix_seed(self.seed, seed))
        return self._make(batch_size, generator)

    def _make(self, batch_size: int, generator: torch.Generator) -> Batch:
        raise NotImplementedError

    def reset(self) -> None:
        """Restart the task's own generator: the next unseeded batches repeat from the start."""
        self._generator.manual_seed(mix_seed(self.seed, -1))

    # -- scoring ------------------------------------------------------------------------
    def _check(self, output: Any, y: Any) -> tuple[torch.Tensor, torch.Tensor]:
        output = _validate.tensor("output", output, floating=True)
        y = _validate.tensor("y", y)
        per_step = self.kind != "many_to_one"
        if self.loss_name == "cross_entropy":
            want_y, want_out = (2, 3) if per_step else (1, 2)
            _validate.tensor("y", y, ndim=want_y, integer=True)
            if output.dim() != want_out:
                shape = "(B, T, O)" if per_step else "(B, O)"
                raise ValueError(_("output must have shape {shape} for a {kind} task, got {got}")
                                 .format(shape=shape, kind=self.kind, got=tuple(output.shape)))
            if tuple(output.shape[:-1]) != tuple(y.shape):
                raise ValueError(_(
                    "output shape {got} does not match y shape {y_shape} (expected output = y "
                    "shape + (O,))").format(got=tuple(output.shape), y_shape=tuple(y.shape)))
            _validate.size("output", output.shape[-1], self.output_size, _("last dimension O"))
            _validate.class_targets("y", y, self.output_size, ignore=IGNORE_INDEX if per_step else None)
        elif tuple(output.shape) != tuple(y.shape):
            raise ValueError(_("output must have the shape of y {y_shape}, got {got}").format(
                y_shape=tuple(y.shape), got=tuple(output.shape)))
        else:
            _validate.finite("y", y)
        return output, y

    def loss(self, output: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Scalar training loss: cross entropy over scored steps (``y != -100``), or MSE."""
        return self._loss(*self._check(output, y))

    def _loss(self, output: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if self.loss_name == "mse":
            return F.mse_loss(output, y.to(output.dtype))
        return F.cross_entropy(output.reshape(-1, output.shape[-1]), y.reshape(-1), ignore_index=IGNORE_INDEX)

    @torch.no_grad()
    def metric(self, output: torch.Tensor, y: torch.Tensor) -> float:
        """Accuracy over scored steps (fraction of argmax == y), or mean squared error.

        A non-finite output (a diverged model) scores ``nan``, as its loss does.
        """
        output, y = self._check(output, y)
        return self._metric(output, y) if bool(torch.isfinite(output).all()) else float("nan")

    @torch.no_grad()
    def _metric(self, output: torch.Tensor, y: torch.Tensor) -> float:
        if self.metric_name == "mse":
            return float(F.mse_loss(output.float(), y.float()))
        count = int((y != IGNORE_INDEX).sum())
        if count == 0:
            return float("nan")
        # argmax is never IGNORE_INDEX (< 0), so unscored steps never count as hits
        return int((output.argmax(dim=-1) == y).sum()) / count

    def baseline(self) -> Baseline:
        """What a model with no memory scores (loss, metric) and why."""
        raise NotImplementedError

    def describe(self) -> str:
        """A short plain-language explanation of the task for students, in the language in force."""
        raise NotImplementedError

    # -- symbols ------------------------------------------------------------------------
    def encode(self, text: str) -> torch.Tensor:
        """Symbol ids ``(T,)`` of a string whose characters are vocab entries."""
        if self.vocab is None:
            raise TypeError(_("{task} has real-valued inputs, nothing to encode").format(
                task=type(self).__name__))
        if not isinstance(text, str):
            raise TypeError(_("text must be a str, got {type}").format(type=type(text).__name__))
        index = {s: i for i, s in enumerate(self.vocab)}
        unknown = sorted({c for c in text if c not in index})
        if unknown:
            raise ValueError(_("text has characters not in the vocab {vocab}: {unknown}").format(
                vocab=self.vocab, unknown=unknown))
        return torch.tensor([index[c] for c in text], dtype=torch.long)

    def decode(self, ids: torch.Tensor | list[int]) -> str:
        """The string of symbol names for ids ``(T,)`` (inverse of `encode`)."""
        if self.vocab is None:
            raise TypeError(_("{task} has real-valued inputs, nothing to decode").format(
                task=type(self).__name__))
        values = _validate.int_ids("ids", ids)
        bad = [v for v in values if not 0 <= int(v) < len(self.vocab)]
        if bad:
            raise ValueError(_("ids must be in [0, {n}), got {bad}").format(n=len(self.vocab),
                                                                              bad=bad[:5]))
        return "".join(self.vocab[int(v)] for v in values)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in {**self._params, "seed": self.seed}.items())
        return f"{type(self).__name__}({args})  # {self.kind}: {self.summary}"


def chance_baseline(num_classes: int, why: str) -> Baseline:
    """Uniform guessing over ``num_classes``: loss ln K, accuracy 1/K."""
    return Baseline(loss=math.log(num_classes), metric=1.0 / num_classes, description=why)
