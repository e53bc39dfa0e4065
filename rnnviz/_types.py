"""The data contracts every part of rnnviz shares: a `Trace` of one run and a task `Batch`."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

GATE_NAMES: dict[str, tuple[str, ...]] = {
    "elman": (),
    "lstm": ("i", "f", "g", "o"),
    "gru": ("r", "z", "n"),
}


@dataclass
class Trace:
    """Every number the views show for one forward (and backward) pass.

    All tensors are detached, on the CPU, and batch-first. The per-state tensors have
    shape ``(num_layers * num_directions, B, T, H)``: layer-major, forward before reverse
    (as torch orders ``h_n``), and indexed by real time ``t`` in both directions.

    Attributes:
        cell_type: ``"elman"``, ``"lstm"`` or ``"gru"``.
        num_layers, num_directions, hidden_size: the core's sizes.
        hidden: h_t for every layer, direction and step.
        cell: c_t (LSTM only, else ``None``).
        gates: LSTM ``i, f, g, o``; GRU ``r, z, n``; Elman ``{}``.
        preact: Elman pre-activation ``W_ih x_t + b_ih + W_hh h_{t-1} + b_hh`` (else ``None``).
        inputs: the input as given: ``(B, T)`` symbol ids or ``(B, T, F)`` values.
        output: the model's output (core output ``(B, T, D*H)`` or a SequenceModel's logits).
        target, loss: when a target was given.
        lengths: ``(B,)`` real lengths, or ``None`` when every sequence has length T.
        grad_hidden: total dL/dh_t through the recurrence (the BPTT adjoint), with target only.
        grad_cell: total dL/dc_t (LSTM, with target only).
        grad_input: dL/dx_t ``(B, T, I)`` w.r.t. the (encoded) core input, with target only.
        nonlinearity: Elman's ``"tanh"`` or ``"relu"``; ``"tanh"`` for gated cells.
    """

    cell_type: str
    num_layers: int
    num_directions: int
    hidden_size: int
    hidden: torch.Tensor  # (L*D, B, T, H)
    inputs: torch.Tensor  # (B, T) or (B, T, F)
    output: torch.Tensor  # (B, T, D*H) | (B, O) | (B, T, O)
    cell: torch.Tensor | None = None  # (L*D, B, T, H)
    gates: dict[str, torch.Tensor] = field(default_factory=dict)  # each (L*D, B, T, H)
    preact: torch.Tensor | None = None  # (L*D, B, T, H)
    target: torch.Tensor | None = None
    loss: float | None = None
    lengths: torch.Tensor | None = None  # (B,)
    grad_hidden: torch.Tensor | None = None  # (L*D, B, T, H)
    grad_cell: torch.Tensor | None = None  # (L*D, B, T, H)
    grad_input: torch.Tensor | None = None  # (B, T, I)
    nonlinearity: str = "tanh"

    @property
    def batch_size(self) -> int:
        return int(self.hidden.shape[1])

    @property
    def seq_len(self) -> int:
        return int(self.hidden.shape[2])

    def index(self, layer: int = 0, direction: int = 0) -> int:
        """Row of the first axis that holds ``layer`` (0-based, negative ok) and ``direction``."""
        if layer < 0:
            layer += self.num_layers
        if not 0 <= layer < self.num_layers:
            raise ValueError(f"layer must be in [0, {self.num_layers}), got {layer}")
        if direction not in range(self.num_directions):
            raise ValueError(f"direction must be in [0, {self.num_directions}), got {direction}")
        return layer * self.num_directions + direction


@dataclass(frozen=True)
class Batch:
    """One batch of a task.

    Attributes:
        x: ``(B, T)`` long symbol ids, or ``(B, T, F)`` float values.
        y: many-to-one ``(B,)`` long classes or ``(B, O)`` floats; per step ``(B, T)`` long
            (``-100`` marks a step that is not scored) or ``(B, T, O)`` floats.
        lengths: ``(B,)`` long real lengths, or ``None`` when all have length T.
    """

    x: torch.Tensor
    y: torch.Tensor
    lengths: torch.Tensor | None = None

    def __iter__(self):  # allows ``x, y, lengths = batch``
        return iter((self.x, self.y, self.lengths))


@dataclass(frozen=True)
class Baseline:
    """What a model with no memory (or chance) scores on a task: the bar to beat."""

    loss: float
    metric: float
    description: str
