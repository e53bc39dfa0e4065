r"""Sequence to sequence: an encoder RNN reads the source, a decoder RNN writes the target
(Sutskever, Vinyals & Le 2014; Cho et al. 2014).

.. math::
    \begin{array}{ll}
    h_s = \mathrm{enc}(x_s,\, h_{s-1}) & \text{encoder, } s = 0 \dots S-1 \\
    c = h_{S-1} & \text{the context: the encoder's last real state, every layer} \\
    z_{-1} = c,\quad z_t = \mathrm{dec}(y_{t-1},\, z_{t-1}) & \text{decoder, } y_{-1} = \langle go\rangle \\
    p(y_t \mid y_{<t}, x) = \mathrm{softmax}(W z_t + b) &
    \end{array}

Training feeds the decoder the *true* previous word ``y_{t-1}`` (**teacher forcing**,
:meth:`Seq2Seq.forward`); at test time it feeds its own previous guess (**greedy decoding**,
:meth:`Seq2Seq.greedy`). Everything the decoder knows about the source passes through the
single vector ``c``: the bottleneck that attention (Bahdanau et al. 2015) removes.

Example:
    >>> import rnnviz
    >>> task = rnnviz.tasks.Reverse(num_symbols=4, max_len=5, seed=0)
    >>> model = rnnviz.Seq2Seq.from_task(task, hidden_size=16, seed=0)
    >>> x, y, lengths = task.batch(8, seed=0)
    >>> model(x, y, lengths).shape                    # teacher forcing: (B, T, O)
    torch.Size([8, 6, 5])
    >>> model.greedy(x, lengths).shape                # its own guesses: (B, T)
    torch.Size([8, 6])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnviz import _validate
from rnnviz.models import GRU, LSTM, Elman, State, check_lengths
from rnnviz.tasks._base import IGNORE_INDEX

__all__ = ["Seq2Seq", "Translation"]

CELLS: dict[str, type[nn.RNNBase]] = {"elman": Elman, "lstm": LSTM, "gru": GRU}


@dataclass(frozen=True)
class Translation:
    """One greedy translation of a batch, with the states behind it (top layer, detached).

    Attributes:
        source: ``(B, S)`` source ids. lengths: ``(B,)`` real source lengths.
        tokens: ``(B, T)`` the decoder's greedy output ids.
        encoder: ``(B, S, H)`` encoder states h_s (zero on padding).
        context: ``(B, H)`` the context vector c (the encoder's last real state).
        decoder: ``(B, T, H)`` decoder states z_t.
        target: ``(B, T)`` the reference ids (``-100`` = not scored) or ``None``.
        vocab, output_vocab: names of the source and output ids, or ``None``.
    """

    source: Tensor
    lengths: Tensor
    tokens: Tensor
    encoder: Tensor
    context: Tensor
    decoder: Tensor
    target: Tensor | None = None
    vocab: list[str] | None = None
    output_vocab: list[str] | None = None


class Seq2Seq(nn.Module):
    """An encoder-decoder of two rnnviz cores and a linear readout (see the module docstring).

    Inputs are symbol ids, one-hot encoded: the encoder reads ``input_size`` symbols, the
    decoder reads the ``output_size`` output symbols plus ``<go>`` (id ``output_size``), the
    start signal. Encoder and decoder have the same cell, size and number of layers, so the
    encoder's final state of every layer initialises the decoder's.

    Args:
        input_size: source vocabulary size.
        output_size: target vocabulary size (classes of the readout).
        cell: ``"elman"``, ``"lstm"`` or ``"gru"``. Default: ``"gru"``.
        hidden_size: H, also the size of the context vector. Default: 32.
        num_layers: stacked layers in the encoder and in the decoder. Default: 1.
        seed: seed of the weight initialisation (the global RNG is left untouched).

    Shapes:
        x: ``(B, S)`` long source ids; lengths: ``(B,)`` real source lengths or ``None``.
        y: ``(B, T)`` long target ids (``-100`` = padding, never fed to the decoder).
        output of ``forward``: ``(B, T, output_size)`` logits.

    Attributes:
        encoder, decoder: the cores (``batch_first=True``). linear: the readout.
        start: the id of ``<go>`` in the decoder's input. task, loss_fn: set by ``from_task``.
    """

    def __init__(
        self,
        input_size: int,
        output_size: int,
        *,
        cell: str = "gru",
        hidden_size: int = 32,
        num_layers: int = 1,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.input_size = _validate.positive_int("input_size", input_size)
        self.output_size = _validate.positive_int("output_size", output_size)
        self.cell_type = _validate.choice("cell", cell, CELLS)
        self.hidden_size = _validate.positive_int("hidden_size", hidden_size)
        _validate.elements("the decoder (hidden_size, output_size)", 3 * hidden_size, output_size + 1)
        self.num_layers = _validate.positive_int("num_layers", num_layers)
        self.seed = _validate.seed("seed", seed)
        self.start = output_size
        core = CELLS[self.cell_type]
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.encoder = core(input_size, hidden_size, num_layers=num_layers, batch_first=True)
            self.decoder = core(output_size + 1, hidden_size, num_layers=num_layers, batch_first=True)
            self.linear = nn.Linear(hidden_size, output_size)
        self.task: Any = None
        self.loss_fn: Any = None

    @classmethod
    def from_task(cls, task: Any, **kwargs: Any) -> Seq2Seq:
        """The model for a symbol-to-symbol task (sizes from the task; ``loss_fn = task.loss``)."""
        _validate.task(task, ("input_size", "output_size", "input_kind", "loss"))
        if task.input_kind != "symbols" or getattr(task, "loss_name", None) != "cross_entropy":
            raise ValueError(
                "task must have symbol inputs and class targets (e.g. tasks.Reverse), got "
                f"input_kind={task.input_kind!r}, loss_name={getattr(task, 'loss_name', None)!r}"
            )
        model = cls(task.input_size, task.output_size, **kwargs)
        model.task, model.loss_fn = task, task.loss
        return model

    @property
    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters() if p.requires_grad)

    def extra_repr(self) -> str:
        return f"start=<go> (id {self.start}), seed={self.seed}"

    # ------------------------------------------------------------------ checks
    def _ids(self, name: str, value: Any, size: int, *, allow_ignore: bool = False) -> Tensor:
        _validate.tensor(name, value, ndim=2, integer=True)
        if value.shape[0] < 1 or value.shape[1] < 1:
            raise ValueError(f"{name} must have B >= 1 and T >= 1, got shape {tuple(value.shape)}")
        ids = value[value != IGNORE_INDEX] if allow_ignore else value
        if ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= size):
            extra = " or -100" if allow_ignore else ""
            raise ValueError(
                f"{name} must hold ids in [0, {size}){extra}, got values from {int(ids.min())} "
                f"to {int(ids.max())}"
            )
        return value.long()

    def _source(self, x: Any, lengths: Any) -> tuple[Tensor, Tensor | None]:
        x = self._ids("x", x, self.input_size)
        if lengths is not None:
            lengths = check_lengths(lengths, x.shape[0], x.shape[1])
        return x, lengths

    # ------------------------------------------------------------------ the two halves
    def encode(self, x: Tensor, lengths: Tensor | None = None) -> tuple[Tensor, State]:
        """Read the source: encoder outputs ``(B, S, H)`` and the context (the final state of
        every layer at each sequence's last real step, ``(L, B, H)``; LSTM: a pair)."""
        x, lengths = self._source(x, lengths)
        e = F.one_hot(x, self.input_size).to(self.linear.weight.dtype)  # (B, S, V_in)
        return self.encoder(e, lengths=lengths)

    def _decoder_step_input(self, ids: Tensor) -> Tensor:
        return F.one_hot(ids, self.output_size + 1).to(self.linear.weight.dtype)  # (B, T, V_out+1)

    def forward(self, x: Tensor, y: Tensor, lengths: Tensor | None = None) -> Tensor:
        """Teacher forcing: logits ``(B, T, O)`` for every target step, the decoder reading
        ``<go>, y_0, ..., y_{T-2}`` (the true previous words) from the context of ``x``."""
        _, context = self.encode(x, lengths)
        y = self._ids("y", y, self.output_size, allow_ignore=True)
        if y.shape[0] != x.shape[0]:
            raise ValueError(f"y must have the batch size of x ({x.shape[0]}), got {y.shape[0]}")
        prev = torch.cat([torch.full_like(y[:, :1], self.start), y[:, :-1]], dim=1)  # (B, T)
        prev = torch.where(prev == IGNORE_INDEX, self.start, prev)  # padding: never scored
        out, _ = self.decoder(self._decoder_step_input(prev), context)  # (B, T, H)
        return self.linear(out)  # (B, T, O)

    @torch.no_grad()
    def decode(self, context: State, steps: int) -> tuple[Tensor, Tensor]:
        """Greedy decoding from a given context: feed ``<go>``, then each step's own argmax.

        Args:
            context: the decoder's initial state ``(L, B, H)`` (LSTM: a pair), e.g. the second
                value :meth:`encode` returns. steps: how many words to write.

        Returns:
            ``(ids (B, steps), top-layer decoder states (B, steps, H))``.
        """
        steps = _validate.steps("steps", steps)
        first = context[0] if isinstance(context, (tuple, list)) else context
        _validate.tensor("context", first, ndim=3, floating=True)
        self.decoder._check_hx(context, first.shape[1], self.linear.weight.dtype, "context")
        B = first.shape[1]
        state = context
        prev = torch.full((B, 1), self.start, dtype=torch.long)  # (B, 1) <go>
        tokens, states = [], []
        for _ in range(steps):
            out, state = self.decoder(self._decoder_step_input(prev), state)  # (B, 1, H)
            prev = self.linear(out).argmax(dim=-1)  # (B, 1) the greedy choice
            tokens.append(prev[:, 0])
            states.append(out[:, 0])
        return torch.stack(tokens, dim=1), torch.stack(states, dim=1).detach()  # (B, T), (B, T, H)

    @torch.no_grad()
    def translate(
        self,
        x: Tensor,
        lengths: Tensor | None = None,
        *,
        steps: int | None = None,
        target: Tensor | None = None,
    ) -> Translation:
        """Greedy decoding with every state recorded: feed ``<go>``, then each step's argmax.

        Args:
            x, lengths: the source. steps: output steps (default: the source length S).
            target: optional reference ``(B, T)`` kept in the result (for the views).
        """
        x, lengths = self._source(x, lengths)
        steps = _validate.steps("steps", x.shape[1] if steps is None else steps)
        if target is not None:
            target = self._ids("target", target, self.output_size, allow_ignore=True)
            _validate.size("target", target.shape[0], x.shape[0], "batch size (x's batch size B)")
        enc_out, state = self.encode(x, lengths)  # (B, S, H)
        B = enc_out.shape[0]
        context = (state[0] if self.cell_type == "lstm" else state)[-1]  # (B, H) top layer
        tokens, states = self.decode(state, steps)  # (B, T), (B, T, H)
        S = enc_out.shape[1]
        lengths = torch.full((B,), S) if lengths is None else check_lengths(lengths, B, S)
        task = self.task
        return Translation(
            source=x.detach().cpu().long(),
            lengths=lengths,
            tokens=tokens,
            encoder=enc_out.detach().cpu(),
            context=context.detach().cpu(),
            decoder=states.cpu(),
            target=None if target is None else target.cpu(),
            vocab=getattr(task, "vocab", None),
            output_vocab=getattr(task, "output_vocab", None),
        )

    def greedy(self, x: Tensor, lengths: Tensor | None = None, *, steps: int | None = None) -> Tensor:
        """Greedy decoding: output ids ``(B, steps)`` (default ``steps`` = the source length S)."""
        return self.translate(x, lengths, steps=steps).tokens
