"""The data contracts every part of rnnviz shares: a `Trace` of one run (a `Seq2SeqTrace` for
an encoder-decoder), a task `Batch`, and `Trainable`, what a model offers the `Trainer`."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import torch

from rnnviz.i18n import _

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
            raise ValueError(_("layer must be in [0, {n}), got {value}").format(
                n=self.num_layers, value=layer))
        if direction not in range(self.num_directions):
            raise ValueError(_("direction must be in [0, {n}), got {value}").format(
                n=self.num_directions, value=direction))
        return layer * self.num_directions + direction


@dataclass
class Seq2SeqTrace:
    r"""Every number of one encoder-decoder run: two core traces joined by the context.

    .. math::
        h_s = \mathrm{enc}(x_s, h_{s-1}), \quad c = h_{\mathrm{last}}, \quad
        z_{-1} = c, \quad z_t = \mathrm{dec}(u_t, z_{t-1}), \quad
        \mathrm{logits}_t = W z_t + b

    where the decoder reads ``u_0 = <go>`` and then ``u_t = y_{t-1}``, the true previous word
    (**teacher forcing**, what ``rnnviz.trace(seq2seq, x, y)`` and the ``Trainer`` record), or
    its own previous guess (**greedy decoding**, what :meth:`rnnviz.Seq2Seq.translate` and
    ``rnnviz.trace(seq2seq, x)`` record). With teacher forcing and a target the trace also holds
    the loss and the BPTT adjoints of both halves: ``dL/dz_t`` in the decoder, ``dL/dc`` at the
    context, and ``dL/dh_s`` in the encoder, where the gradient arrives only through ``c``
    (with attention, also through the attention layer at every source step).

    With attention (``Seq2Seq(..., attention="dot" | "additive")``) the readout reads
    ``tanh(W_c [c_t; z_t] + b_c)`` with a context ``c_t = sum_s a_ts h_s`` per output step, and
    the trace records the alignment ``a`` (see :class:`rnnviz.seq2seq.Attention`).

    ``encoder`` and ``decoder`` are ordinary :class:`Trace` objects, so every core view
    (``plot_hidden``, ``plot_gates``, ``plot_grad_flow``, ``plot_unrolled``) draws either half.
    All tensors are detached, on the CPU and batch-first.

    Attributes:
        encoder: the encoder core's run over the source. ``inputs`` = source ids ``(B, S)``,
            ``lengths`` = real source lengths (or ``None``), ``hidden`` ``(L, B, S, H)`` (zero on
            padding), ``output`` = the encoder's output ``(B, S, H)``; with a loss, ``loss``
            and ``grad_hidden`` (``dL/dh_s``); its ``target`` is ``None``.
        decoder: the decoder core's run. ``inputs`` = the ids it read ``(B, T)`` (``start`` is
            ``<go>``), ``hidden`` ``(L, B, T, H)``, ``output`` = logits ``(B, T, O)``,
            ``target`` ``(B, T)`` (``-100`` = not scored) or ``None``, ``loss``,
            ``grad_hidden`` (``dL/dz_t``).
        grad_context: ``dL/dc`` ``(L, B, H)``, the gradient at the decoder's initial state
            (what flows back into the encoder), or ``None`` without a loss.
        grad_context_cell: the same for the LSTM cell state, else ``None``.
        tokens: ``(B, T)`` the words written: the argmax of the logits (teacher forcing) or
            the greedy words.
        teacher_forcing: which of the two runs this is (see above).
        start: the id of ``<go>`` in ``decoder.inputs``.
        vocab, output_vocab: names of the source and output ids, or ``None``.
        alignment: with attention, ``(B, T, S)`` the weights ``a_ts`` of output step ``t`` on
            source step ``s`` (each row sums to 1; 0 beyond the source's length); else ``None``.

    Shapes (properties):
        source ``(B, S)``; lengths ``(B,)`` (always a tensor); context ``(L, B, H)`` = the
        encoder's hidden state at each sequence's last real step (= ``z_{-1}``);
        context_cell ``(L, B, H)`` (LSTM) or ``None``; output ``(B, T, O)``; target ``(B, T)``.
    """

    encoder: Trace
    decoder: Trace
    tokens: torch.Tensor  # (B, T)
    teacher_forcing: bool
    start: int
    grad_context: torch.Tensor | None = None  # (L, B, H)
    grad_context_cell: torch.Tensor | None = None  # (L, B, H)
    vocab: list[str] | None = None
    output_vocab: list[str] | None = None
    alignment: torch.Tensor | None = None  # (B, T, S)

    # -- views of the parts: one source of truth, nothing stored twice --------------------
    @property
    def cell_type(self) -> str:
        return self.encoder.cell_type

    @property
    def num_layers(self) -> int:
        return self.encoder.num_layers

    @property
    def hidden_size(self) -> int:
        return self.encoder.hidden_size

    @property
    def batch_size(self) -> int:
        return self.encoder.batch_size

    @property
    def source(self) -> torch.Tensor:
        """Source ids ``(B, S)``."""
        return self.encoder.inputs

    @property
    def lengths(self) -> torch.Tensor:
        """Real source lengths ``(B,)`` (``S`` everywhere when the trace has no lengths)."""
        if self.encoder.lengths is not None:
            return self.encoder.lengths
        return torch.full((self.batch_size,), self.encoder.seq_len, dtype=torch.long)

    def _at_last(self, per_step: torch.Tensor) -> torch.Tensor:
        rows = torch.arange(self.batch_size)
        return per_step[:, rows, self.lengths - 1]  # (L, B, H)

    @property
    def context(self) -> torch.Tensor:
        """The context ``c`` ``(L, B, H)``: the encoder's state at each last real step."""
        return self._at_last(self.encoder.hidden)

    @property
    def context_cell(self) -> torch.Tensor | None:
        """The LSTM cell part of the context ``(L, B, H)``, else ``None``."""
        return None if self.encoder.cell is None else self._at_last(self.encoder.cell)

    @property
    def output(self) -> torch.Tensor:
        """Logits ``(B, T, O)``."""
        return self.decoder.output

    @property
    def target(self) -> torch.Tensor | None:
        """The reference ``(B, T)`` (``-100`` = not scored), or ``None``."""
        return self.decoder.target

    @property
    def loss(self) -> float | None:
        return self.decoder.loss


@runtime_checkable
class Trainable(Protocol):
    """What :class:`rnnviz.Trainer` (and the trace of its probe) needs from a model.

    :class:`rnnviz.SequenceModel` and :class:`rnnviz.Seq2Seq` implement it. ``parameters``,
    ``state_dict`` and ``load_state_dict`` come from ``torch.nn.Module``.

    Members:
        seed: seed of the weight initialisation; ``reset_parameters()`` re-initialises from it.
        cell_type, hidden_size, num_layers: the recurrent part (for titles and dashboards).
        check_task(task): raise ``ValueError`` (naming the mismatch) unless the model fits.
        batch_output(x, y, lengths, check=True): the output ``loss_fn(output, y)`` scores for
            one batch (a SequenceModel ignores ``y``; a Seq2Seq reads it by teacher forcing);
            ``check=False`` skips the input checks on the trainer's hot path.
    """

    seed: int
    cell_type: str
    hidden_size: int
    num_layers: int

    def parameters(self, recurse: bool = True) -> Iterator[torch.nn.Parameter]: ...

    def state_dict(self, *args: Any, **kwargs: Any) -> dict[str, Any]: ...

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True,
                        assign: bool = False) -> Any: ...

    def reset_parameters(self) -> None: ...

    def check_task(self, task: Any) -> None: ...

    def batch_output(self, x: torch.Tensor, y: torch.Tensor,
                     lengths: torch.Tensor | None = None, *, check: bool = True) -> torch.Tensor: ...


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
