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

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnviz import _validate
from rnnviz._types import Seq2SeqTrace
from rnnviz.models import GRU, LSTM, Elman, State, check_lengths
from rnnviz.tasks._base import IGNORE_INDEX

__all__ = ["Seq2Seq", "Seq2SeqTrace", "Translation"]

CELLS: dict[str, type[nn.RNNBase]] = {"elman": Elman, "lstm": LSTM, "gru": GRU}


# The record of a greedy translation is the record of any seq2seq run (one record type).
Translation = Seq2SeqTrace


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

    It is :class:`rnnviz.Trainable`: ``rnnviz.Trainer(model, tasks.Reverse(...))`` trains it
    by teacher forcing, and ``rnnviz.trace(model, x, y, lengths=lengths)`` records a run
    (a :class:`rnnviz.Seq2SeqTrace`).

    Example:
        >>> import rnnviz
        >>> task = rnnviz.tasks.Reverse(num_symbols=4, max_len=5, seed=0)
        >>> model = Seq2Seq.from_task(task, hidden_size=8, seed=0)
        >>> trainer = rnnviz.Trainer(model, task, batch_size=16, seed=0)
        >>> trainer.run(3, progress=False).step
        [1, 2, 3]
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
        self.num_layers = _validate.positive_int("num_layers", num_layers)
        self.seed = _validate.positive_int("seed", seed, allow_zero=True)
        self.start = output_size
        core = CELLS[self.cell_type]
        with torch.random.fork_rng(devices=[]):
            self.encoder = core(input_size, hidden_size, num_layers=num_layers, batch_first=True)
            self.decoder = core(output_size + 1, hidden_size, num_layers=num_layers, batch_first=True)
            self.linear = nn.Linear(hidden_size, output_size)
        self.task: Any = None
        self.loss_fn: Any = None
        self.reset_parameters()  # seeded weights, global RNG untouched

    @classmethod
    def from_task(cls, task: Any, **kwargs: Any) -> Seq2Seq:
        """The model for a symbol-to-symbol task (sizes from the task; ``loss_fn = task.loss``)."""
        _validate.task(task, ("input_size", "output_size", "input_kind", "kind", "loss"))
        _check_kind(task)
        model = cls(task.input_size, task.output_size, **kwargs)
        model.task, model.loss_fn = task, task.loss
        return model

    @torch.no_grad()
    def reset_parameters(self) -> None:
        """Re-initialise every weight from ``self.seed`` (global torch RNG untouched)."""
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            self.encoder.reset_parameters()
            self.decoder.reset_parameters()
            self.linear.reset_parameters()

    def check_task(self, task: Any) -> None:
        """Raise ``ValueError`` unless ``task`` is one this model can train on: symbol inputs,
        a class target at every step, and the model's vocabulary sizes."""
        hint = "; build it with Seq2Seq.from_task(task)"
        _check_kind(task)
        for name in ("input_size", "output_size"):
            if getattr(self, name) != getattr(task, name):
                raise ValueError(
                    f"model.{name} must equal task.{name} = {getattr(task, name)}, "
                    f"got {getattr(self, name)}{hint}"
                )

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

    def batch_output(
        self, x: Tensor, y: Tensor, lengths: Tensor | None = None, *, check: bool = True
    ) -> Tensor:
        """What the loss scores on a training batch: the teacher-forced logits ``(B, T, O)``.

        ``check=False`` skips the input checks (the trainer's hot path, for batches of a task
        whose first batch passed them); same numbers as :meth:`forward`.
        """
        if check:
            return self(x, y, lengths)
        dtype = self.linear.weight.dtype
        e = F.one_hot(x, self.input_size).to(dtype)  # (B, S, V_in)
        _, context = self.encoder._fused(e, None, lengths)  # (L, B, H)
        prev = torch.cat([torch.full_like(y[:, :1], self.start), y[:, :-1]], dim=1)  # (B, T)
        prev = torch.where(prev == IGNORE_INDEX, self.start, prev)
        out, _ = self.decoder._fused(self._decoder_step_input(prev), context, None)  # (B, T, H)
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
        steps = _validate.positive_int("steps", steps)
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
    ) -> Seq2SeqTrace:
        """Greedy decoding with every state recorded: feed ``<go>``, then each step's argmax.

        The words are those of :meth:`greedy`; the record is the same type as
        ``rnnviz.trace(model, x, y)`` gives for a teacher-forced run (with
        ``teacher_forcing=False`` and no loss), so :func:`rnnviz.plot_seq2seq` draws either.

        Args:
            x, lengths: the source ``(B, S)`` and its real lengths ``(B,)`` or ``None``.
            steps: output steps (default: the source length S).
            target: optional reference ``(B, T)`` kept as ``decoder.target`` (for the views).

        Returns:
            A :class:`rnnviz.Seq2SeqTrace`: ``tokens (B, steps)``, ``context (L, B, H)``,
            ``encoder.hidden (L, B, S, H)``, ``decoder.hidden (L, B, steps, H)``.
        """
        from rnnviz.tracing import trace_seq2seq

        return trace_seq2seq(self, x, None, lengths=lengths, steps=steps, reference=target)

    @torch.no_grad()
    def greedy(self, x: Tensor, lengths: Tensor | None = None, *, steps: int | None = None) -> Tensor:
        """Greedy decoding: output ids ``(B, steps)`` (default ``steps`` = the source length S)."""
        x, lengths = self._source(x, lengths)
        steps = _validate.positive_int("steps", x.shape[1] if steps is None else steps)
        _, state = self.encode(x, lengths)
        return self.decode(state, steps)[0]


def _check_kind(task: Any) -> None:
    """A task a Seq2Seq can learn: symbol inputs and a class target at every step."""
    if task.input_kind != "symbols" or getattr(task, "loss_name", None) != "cross_entropy" \
            or task.kind == "many_to_one":
        raise ValueError(
            "task must have symbol inputs and a class target at every step (e.g. "
            f"tasks.Reverse), got input_kind={task.input_kind!r}, kind={task.kind!r}, "
            f"loss_name={getattr(task, 'loss_name', None)!r}"
        )
