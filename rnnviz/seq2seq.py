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
single vector ``c``: the bottleneck that attention removes. ``Seq2Seq(..., attention="dot")``
(Luong, Pham & Manning 2015) or ``attention="additive"`` (the score of Bahdanau, Cho & Bengio
2015) lets every output step look back at every encoder output (:class:`Attention`).

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
from rnnviz.i18n import _
from rnnviz.models import GRU, LSTM, Elman, State, check_lengths
from rnnviz.tasks._base import IGNORE_INDEX

__all__ = ["Attention", "Seq2Seq", "Seq2SeqTrace", "Translation"]

CELLS: dict[str, type[nn.RNNBase]] = {"elman": Elman, "lstm": LSTM, "gru": GRU}
SCORES = ("dot", "additive")


# The record of a greedy translation is the record of any seq2seq run (one record type).
Translation = Seq2SeqTrace


class Attention(nn.Module):
    r"""Global attention over the encoder outputs (Luong, Pham & Manning 2015), dot or additive.

    .. math::
        \begin{array}{ll}
        \mathrm{score}(z_t, e_s) = z_t^\top e_s & \text{dot (Luong)} \\
        \mathrm{score}(z_t, e_s) = v^\top \tanh(W_h z_t + W_e e_s) &
            \text{additive (Bahdanau)} \\
        a_{ts} = \mathrm{softmax}_s\, \mathrm{score}(z_t, e_s), \quad a_{ts} = 0
            \text{ for } s \ge \mathrm{length} & \text{the alignment} \\
        c_t = \textstyle\sum_s a_{ts}\, e_s & \text{a context for every output step} \\
        \tilde z_t = \tanh(W_c\, [c_t; z_t] + b_c) & \text{what the readout reads}
        \end{array}

    ``z_t`` is the decoder's top-layer output at step ``t`` (its current state, the query) and
    ``e_s`` the encoder's top-layer output at source step ``s``. Both scores are used in
    Luong's framework: the current decoder state asks, and ``c_t`` joins the readout, not the
    decoder's input (Bahdanau's original model scores ``z_{t-1}`` and feeds ``c_t`` back into
    the recurrence). So the decoder recurrence is unchanged; attention is a layer between the
    decoder and the readout, computed for all steps at once under teacher forcing.

    Args:
        hidden_size: H, the size of ``z_t`` and ``e_s``.
        score: ``"dot"`` or ``"additive"``.

    Attributes (parameters, ``torch.nn.Linear``):
        query: ``W_h`` ``(H, H)``, no bias (additive only). key: ``W_e`` ``(H, H)``, no bias
        (additive only). v: ``v`` ``(1, H)``, no bias (additive only).
        combine: ``W_c`` ``(H, 2H)`` and ``b_c`` ``(H,)``, reading ``[c_t; z_t]``.

    Shapes:
        query states ``(B, T, H)``, memory ``(B, S, H)``, mask ``(B, S)`` bool (``True`` = a
        real source step) or ``None`` -> attended ``(B, T, H)`` and alignment ``(B, T, S)``.

    Example:
        >>> att = Attention(4, "dot")
        >>> z, e = torch.randn(2, 3, 4), torch.randn(2, 5, 4)
        >>> out, a = att(z, e, torch.tensor([[True] * 5, [True] * 2 + [False] * 3]))
        >>> out.shape, a.shape, bool(a[1, :, 2:].eq(0).all())
        (torch.Size([2, 3, 4]), torch.Size([2, 3, 5]), True)
    """

    def __init__(self, hidden_size: int, score: str = "dot") -> None:
        super().__init__()
        self.hidden_size = _validate.positive_int("hidden_size", hidden_size)
        self.score = _validate.choice("attention", score, SCORES)
        H = hidden_size
        if self.score == "additive":
            self.query = nn.Linear(H, H, bias=False)  # W_h
            self.key = nn.Linear(H, H, bias=False)  # W_e
            self.v = nn.Linear(H, 1, bias=False)  # v
        self.combine = nn.Linear(2 * H, H)  # W_c, b_c

    def extra_repr(self) -> str:
        return f"score={self.score!r}"

    @torch.no_grad()
    def reset_parameters(self) -> None:
        """torch's default initialisation of every ``Linear`` (uses the global RNG)."""
        for m in self.children():
            m.reset_parameters()

    def scores(self, query: Tensor, memory: Tensor) -> Tensor:
        """``score(z_t, e_s)`` ``(B, T, S)`` before masking and softmax."""
        if self.score == "dot":
            return query @ memory.transpose(1, 2)  # (B, T, H) @ (B, H, S) -> (B, T, S)
        keys = self.key(memory)[:, None]  # (B, 1, S, H)
        asks = self.query(query)[:, :, None]  # (B, T, 1, H)
        return self.v(torch.tanh(asks + keys))[..., 0]  # (B, T, S, 1) -> (B, T, S)

    def forward(self, query: Tensor, memory: Tensor, mask: Tensor | None = None
                ) -> tuple[Tensor, Tensor]:
        """``(attended (B, T, H), alignment (B, T, S))`` (see the class docstring)."""
        scores = self.scores(query, memory)  # (B, T, S)
        if mask is not None:
            scores = scores.masked_fill(~mask[:, None, :], float("-inf"))  # padding: weight 0
        alignment = torch.softmax(scores, dim=-1)  # (B, T, S), rows sum to 1
        context = alignment @ memory  # (B, T, S) @ (B, S, H) -> (B, T, H)
        attended = torch.tanh(self.combine(torch.cat([context, query], dim=-1)))  # (B, T, H)
        return attended, alignment


def source_mask(lengths: Tensor | None, S: int) -> Tensor | None:
    """``(B, S)`` bool, ``True`` on real source steps; ``None`` when every step is real."""
    if lengths is None:
        return None
    return torch.arange(S)[None, :] < lengths[:, None]  # (B, S)


class Seq2Seq(nn.Module):
    """An encoder-decoder of two rnnviz cores and a linear readout (see the module docstring).

    Inputs are symbol ids, one-hot encoded: the encoder reads ``input_size`` symbols, the
    decoder reads the ``output_size`` output symbols plus ``<go>`` (id ``output_size``), the
    start signal. Encoder and decoder have the same cell, size and number of layers, so the
    encoder's final state of every layer initialises the decoder's.

    With ``attention="dot"`` or ``"additive"`` an :class:`Attention` layer sits between the
    decoder and the readout: at every output step ``t`` the decoder's top-layer state ``z_t``
    scores the encoder's top-layer outputs ``e_s`` (real source steps only), and the readout
    reads ``z~_t = tanh(W_c [c_t; z_t] + b_c)`` with ``c_t = sum_s a_ts e_s`` instead of
    ``z_t``. The decoder still starts from the context ``c``. ``attention=None`` (the default)
    is the plain model, with the same weights from the same seed.

    Args:
        input_size: source vocabulary size.
        output_size: target vocabulary size (classes of the readout).
        cell: ``"elman"``, ``"lstm"`` or ``"gru"``. Default: ``"gru"``.
        hidden_size: H, also the size of the context vector. Default: 32.
        num_layers: stacked layers in the encoder and in the decoder. Default: 1.
        attention: ``None`` (no attention), ``"dot"`` (Luong) or ``"additive"`` (Bahdanau's
            score); see :class:`Attention`. Default: ``None``.
        seed: seed of the weight initialisation (the global RNG is left untouched).

    Shapes:
        x: ``(B, S)`` long source ids; lengths: ``(B,)`` real source lengths or ``None``.
        y: ``(B, T)`` long target ids (``-100`` = padding, never fed to the decoder).
        output of ``forward``: ``(B, T, output_size)`` logits.
        alignment (with attention, :meth:`align`, ``trace(...).alignment``): ``(B, T, S)``.

    Attributes:
        encoder, decoder: the cores (``batch_first=True``). linear: the readout.
        attention: the :class:`Attention` layer, or ``None``.
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
        >>> attentive = Seq2Seq.from_task(task, hidden_size=8, seed=0, attention="dot")
        >>> x, y, lengths = task.batch(2, seed=0)
        >>> attentive.align(x, y, lengths).shape         # (B, T, S): where each output looks
        torch.Size([2, 6, 6])
        >>> rnnviz.trace(attentive, x, y, lengths=lengths).alignment.shape
        torch.Size([2, 6, 6])
    """

    def __init__(
        self,
        input_size: int,
        output_size: int,
        *,
        cell: str = "gru",
        hidden_size: int = 32,
        num_layers: int = 1,
        attention: str | None = None,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.input_size = _validate.positive_int("input_size", input_size)
        self.output_size = _validate.positive_int("output_size", output_size)
        self.cell_type = _validate.choice("cell", cell, CELLS)
        self.hidden_size = _validate.positive_int("hidden_size", hidden_size)
        _validate.elements(_("the decoder (hidden_size, output_size)"), 3 * hidden_size, output_size + 1)
        self.num_layers = _validate.positive_int("num_layers", num_layers)
        self.seed = _validate.seed("seed", seed)
        if attention is not None and (not isinstance(attention, str)
                                      or attention.lower() not in SCORES):
            raise ValueError(_("attention must be None, 'dot' or 'additive', got {value}").format(
                value=_validate._describe(attention)))
        self.attention_type = None if attention is None else attention.lower()
        self.start = output_size
        core = CELLS[self.cell_type]
        with torch.random.fork_rng(devices=[]):
            self.encoder = core(input_size, hidden_size, num_layers=num_layers, batch_first=True)
            self.decoder = core(output_size + 1, hidden_size, num_layers=num_layers, batch_first=True)
            self.linear = nn.Linear(hidden_size, output_size)
            self.attention = None if attention is None else Attention(hidden_size,
                                                                      self.attention_type)
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
            if self.attention is not None:  # after the rest: their weights stay the same
                self.attention.reset_parameters()

    def check_task(self, task: Any) -> None:
        """Raise ``ValueError`` unless ``task`` is one this model can train on: symbol inputs,
        a class target at every step, and the model's vocabulary sizes."""
        _check_kind(task)
        for name in ("input_size", "output_size"):
            if getattr(self, name) != getattr(task, name):
                raise ValueError(_(
                    "model.{name} must equal task.{name} = {want}, got {got}; build it with "
                    "Seq2Seq.from_task(task)"
                ).format(name=name, want=getattr(task, name), got=getattr(self, name)))

    @property
    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters() if p.requires_grad)

    def extra_repr(self) -> str:
        att = "" if self.attention is None else f", attention={self.attention_type!r}"
        return f"start=<go> (id {self.start}){att}, seed={self.seed}"

    # ------------------------------------------------------------------ checks
    def _ids(self, name: str, value: Any, size: int, *, allow_ignore: bool = False) -> Tensor:
        _validate.tensor(name, value, ndim=2, integer=True)
        if value.shape[0] < 1 or value.shape[1] < 1:
            raise ValueError(_("{name} must have B >= 1 and T >= 1, got shape {shape}").format(
                name=name, shape=tuple(value.shape)))
        ids = value[value != IGNORE_INDEX] if allow_ignore else value
        if ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= size):
            if allow_ignore:
                message = _("{name} must hold ids in [0, {n}) or -100, got values from {low} to "
                            "{high}")
            else:
                message = _("{name} must hold ids in [0, {n}), got values from {low} to {high}")
            raise ValueError(message.format(name=name, n=size, low=int(ids.min()),
                                            high=int(ids.max())))
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
        return self._forced(x, y, lengths)[0]

    def align(self, x: Tensor, y: Tensor, lengths: Tensor | None = None) -> Tensor:
        """The alignment ``a`` ``(B, T, S)`` of the teacher-forced run (attention only): row
        ``t`` is where output step ``t`` looks in the source (sums to 1, 0 on padding)."""
        if self.attention is None:
            raise ValueError(_("align needs a Seq2Seq with attention='dot' or 'additive', "
                               "got attention=None"))
        return self._forced(x, y, lengths)[1]

    def _forced(self, x: Tensor, y: Tensor, lengths: Tensor | None) -> tuple[Tensor, Tensor | None]:
        x, lengths = self._source(x, lengths)
        memory, context = self.encode(x, lengths)  # (B, S, H), (L, B, H)
        y = self._ids("y", y, self.output_size, allow_ignore=True)
        if y.shape[0] != x.shape[0]:
            raise ValueError(_("y must have the batch size of x ({B}), got {got}").format(
                B=x.shape[0], got=y.shape[0]))
        prev = torch.cat([torch.full_like(y[:, :1], self.start), y[:, :-1]], dim=1)  # (B, T)
        prev = torch.where(prev == IGNORE_INDEX, self.start, prev)  # padding: never scored
        out, _state = self.decoder(self._decoder_step_input(prev), context)  # (B, T, H)
        return self._readout(out, memory, lengths)

    def _readout(self, out: Tensor, memory: Tensor, lengths: Tensor | None
                 ) -> tuple[Tensor, Tensor | None]:
        """Logits ``(B, T, O)`` from the decoder's outputs ``(B, T, H)`` (through attention
        over ``memory`` ``(B, S, H)`` when the model has it), and the alignment or ``None``."""
        if self.attention is None:
            return self.linear(out), None  # (B, T, O)
        attended, alignment = self.attention(out, memory, source_mask(lengths, memory.shape[1]))
        return self.linear(attended), alignment  # (B, T, O), (B, T, S)

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
        memory, context = self.encoder._fused(e, None, lengths)  # (B, S, H), (L, B, H)
        prev = torch.cat([torch.full_like(y[:, :1], self.start), y[:, :-1]], dim=1)  # (B, T)
        prev = torch.where(prev == IGNORE_INDEX, self.start, prev)
        out, _state = self.decoder._fused(self._decoder_step_input(prev), context, None)  # (B, T, H)
        return self._readout(out, memory, lengths)[0]  # (B, T, O)

    @torch.no_grad()
    def decode(self, context: State, steps: int, *, memory: Tensor | None = None,
               lengths: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Greedy decoding from a given context: feed ``<go>``, then each step's own argmax.

        Args:
            context: the decoder's initial state ``(L, B, H)`` (LSTM: a pair), e.g. the second
                value :meth:`encode` returns. steps: how many words to write.
            memory: with attention (required): the encoder outputs ``(B, S, H)`` it looks at,
                the first value :meth:`encode` returns; lengths: their real lengths ``(B,)``.

        Returns:
            ``(ids (B, steps), top-layer decoder states (B, steps, H))``.
        """
        steps = _validate.steps("steps", steps)
        first = context[0] if isinstance(context, (tuple, list)) else context
        _validate.tensor("context", first, ndim=3, floating=True)
        self.decoder._check_hx(context, first.shape[1], self.linear.weight.dtype, "context")
        B = first.shape[1]
        mask = None
        if self.attention is None:
            if memory is not None or lengths is not None:
                raise ValueError(_("memory and lengths are for a Seq2Seq with attention, "
                                   "got attention=None"))
        else:
            if memory is None:
                raise ValueError(_("memory (the encoder outputs (B, S, H), the first value "
                                   "encode returns) is required with attention, got None"))
            _validate.tensor("memory", memory, ndim=3, floating=True)
            if memory.shape[0] != B or memory.shape[2] != self.hidden_size:
                raise ValueError(_("memory must have shape (B={B}, S, H={H}), got {shape}").format(
                    B=B, H=self.hidden_size, shape=tuple(memory.shape)))
            if lengths is not None:
                lengths = check_lengths(lengths, B, memory.shape[1])
            mask = source_mask(lengths, memory.shape[1])  # (B, S)
        state = context
        prev = torch.full((B, 1), self.start, dtype=torch.long)  # (B, 1) <go>
        tokens, states = [], []
        for _step in range(steps):
            out, state = self.decoder(self._decoder_step_input(prev), state)  # (B, 1, H)
            read = out if self.attention is None else self.attention(out, memory, mask)[0]
            prev = self.linear(read).argmax(dim=-1)  # (B, 1) the greedy choice
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
            ``encoder.hidden (L, B, S, H)``, ``decoder.hidden (L, B, steps, H)``; with
            attention, ``alignment (B, steps, S)``.
        """
        from rnnviz.tracing import trace_seq2seq

        x, lengths = self._source(x, lengths)
        steps = _validate.steps("steps", x.shape[1] if steps is None else steps)
        if target is not None:
            target = self._ids("target", target, self.output_size, allow_ignore=True)
            _validate.size("target", target.shape[0], x.shape[0], _("batch size (x's batch size B)"))
        return trace_seq2seq(self, x, None, lengths=lengths, steps=steps, reference=target)

    @torch.no_grad()
    def greedy(self, x: Tensor, lengths: Tensor | None = None, *, steps: int | None = None) -> Tensor:
        """Greedy decoding: output ids ``(B, steps)`` (default ``steps`` = the source length S)."""
        x, lengths = self._source(x, lengths)
        steps = _validate.positive_int("steps", x.shape[1] if steps is None else steps)
        memory, state = self.encode(x, lengths)  # (B, S, H), (L, B, H)
        if self.attention is None:
            return self.decode(state, steps)[0]
        return self.decode(state, steps, memory=memory, lengths=lengths)[0]


def _check_kind(task: Any) -> None:
    """A task a Seq2Seq can learn: symbol inputs and a class target at every step."""
    if task.input_kind != "symbols" or getattr(task, "loss_name", None) != "cross_entropy" \
            or task.kind == "many_to_one":
        raise ValueError(_(
            "task must have symbol inputs and a class target at every step (e.g. "
            "tasks.Reverse), got input_kind={input_kind!r}, kind={kind!r}, loss_name={loss!r}"
        ).format(input_kind=task.input_kind, kind=task.kind, loss=getattr(task, "loss_name", None)))
