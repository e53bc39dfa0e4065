"""A whole sequence model: input encoding -> recurrent core -> linear readout."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from rnnviz import _validate
from rnnviz.i18n import _, pgettext
from rnnviz.models import GRU, LSTM, Elman, check_lengths

__all__ = ["SequenceModel"]

CELLS: dict[str, type[nn.RNNBase]] = {"elman": Elman, "lstm": LSTM, "gru": GRU}
ENCODINGS = ("onehot", "embedding", "identity")
READOUTS = ("per_step", "last")
KINDS = ("many_to_one", "many_to_many", "synced", "one_to_many")  # task shapes a model reads


class SequenceModel(nn.Module):
    r"""Encoding, recurrent core and readout: the model a task trains.

    .. math::
        \begin{array}{ll}
        e_t = \mathrm{encode}(x_t) & \text{one-hot, embedding or the values themselves} \\
        h_t = \mathrm{core}(e_t, h_{t-1}) & \text{Elman RNN, LSTM or GRU} \\
        y_t = W_{hy} h_t + b_y & \text{per step, or once at the last real step}
        \end{array}

    With ``readout="last"`` the readout sees each sequence's state at its last *real* step
    ``lengths[b] - 1`` (padding is never read). For a bidirectional core it sees the forward
    state at the last real step and the backward state at ``t = 0`` (where the backward
    direction has read the whole sequence), concatenated as torch orders them.

    Weights are initialised from ``seed`` (in a forked RNG, so the global torch RNG is left
    untouched): the same seed gives the same weights; :meth:`reset_parameters` restores them.

    Args:
        input_size: vocabulary size for symbol inputs, feature count for real inputs.
        output_size: number of classes (or real outputs) of the readout.
        cell: ``"elman"``, ``"lstm"`` or ``"gru"``. Default: ``"lstm"``.
        hidden_size: features in the hidden state h. Default: 32.
        num_layers: stacked recurrent layers. Default: 1.
        bidirectional: a forward and a reverse direction. Default: ``False``.
        nonlinearity: Elman's ``"tanh"`` or ``"relu"`` (gated cells use ``"tanh"``).
        encoding: ``"onehot"`` (symbol ids -> one-hot rows of size ``input_size``),
            ``"embedding"`` (symbol ids -> learned ``nn.Embedding`` rows of size
            ``embedding_dim``) or ``"identity"`` (real ``(B, T, input_size)`` values).
        embedding_dim: size of the embedding rows. Default: ``hidden_size``.
        readout: ``"per_step"`` (logits at every step) or ``"last"`` (one per sequence).
        seed: seed of the weight initialisation. Default: 0.

    Shapes:
        - x: ``(B, T)`` long ids (one-hot / embedding) or ``(B, T, input_size)`` floats.
        - lengths: ``(B,)`` integers in ``[1, T]``, or ``None`` (every sequence has length T).
        - output: ``(B, T, output_size)`` for ``"per_step"``, ``(B, output_size)`` for ``"last"``.

    Attributes:
        encoder: the ``nn.Embedding`` (embedding encoding) or ``None``.
        core: the :class:`rnnviz.LSTM` / :class:`rnnviz.GRU` / :class:`rnnviz.Elman`
            (``batch_first=True``).
        linear: the readout ``nn.Linear(num_directions * hidden_size, output_size)``.
        task: the task the model was built for (:meth:`from_task`) or ``None``.
        loss_fn: ``task.loss`` (used by :func:`rnnviz.trace`) or ``None``.

    It is :class:`rnnviz.Trainable` (``check_task``, ``batch_output``, ``reset_parameters``):
    what :class:`rnnviz.Trainer` trains.

    Example:
        >>> import torch
        >>> model = SequenceModel(5, 3, cell="gru", hidden_size=8, readout="last", seed=0)
        >>> x = torch.tensor([[1, 2, 3, 0], [4, 4, 0, 0]])  # (B, T) symbol ids
        >>> model(x, lengths=torch.tensor([4, 2])).shape  # (B, O)
        torch.Size([2, 3])
        >>> model(x, explicit=True).shape  # explicit per-step loop, same numbers
        torch.Size([2, 3])
    """

    def __init__(
        self,
        input_size: int,
        output_size: int,
        *,
        cell: str = "lstm",
        hidden_size: int = 32,
        num_layers: int = 1,
        bidirectional: bool = False,
        nonlinearity: str = "tanh",
        encoding: str = "onehot",
        embedding_dim: int | None = None,
        readout: str = "per_step",
        seed: int = 0,
    ) -> None:
        super().__init__()
        # 1. check the arguments
        self.input_size = _validate.positive_int("input_size", input_size)
        self.output_size = _validate.positive_int("output_size", output_size)
        self.cell_type = _validate.choice("cell", cell, CELLS)
        self.hidden_size = _validate.positive_int("hidden_size", hidden_size)
        _validate.elements(_("the readout (hidden_size, output_size)"), 2 * hidden_size, output_size)
        self.num_layers = _validate.positive_int("num_layers", num_layers)
        self.bidirectional = _validate.flag("bidirectional", bidirectional)
        self.nonlinearity = _validate.choice("nonlinearity", nonlinearity, ("tanh", "relu"))
        if self.cell_type != "elman" and self.nonlinearity != "tanh":
            raise ValueError(_(
                "nonlinearity={nonlinearity!r} applies to cell='elman' only; "
                "cell={cell!r} uses its fixed gate functions"
            ).format(nonlinearity=nonlinearity, cell=self.cell_type))
        self.encoding = _validate.choice("encoding", encoding, ENCODINGS)
        if embedding_dim is not None and self.encoding != "embedding":
            raise ValueError(_(
                "embedding_dim is only used with encoding='embedding', got encoding={encoding!r}"
            ).format(encoding=encoding))
        self.readout_type = _validate.choice("readout", readout, READOUTS)
        self.seed = _validate.seed("seed", seed)
        # 2. build the three parts: encoding -> core -> readout (global RNG untouched)
        with torch.random.fork_rng(devices=[]):
            if self.encoding == "embedding":
                dim = hidden_size if embedding_dim is None else embedding_dim
                self.embedding_dim: int | None = _validate.positive_int("embedding_dim", dim)
                _validate.elements(_("the embedding (input_size, embedding_dim)"), input_size, dim)
                self.encoder: nn.Embedding | None = nn.Embedding(input_size, self.embedding_dim)
                core_input = self.embedding_dim
            else:
                self.embedding_dim = None
                self.encoder = None
                core_input = input_size
            elman = self.cell_type == "elman"
            kwargs: dict[str, Any] = {"nonlinearity": self.nonlinearity} if elman else {}
            self.core = CELLS[self.cell_type](
                core_input,
                hidden_size,
                num_layers=num_layers,
                batch_first=True,
                bidirectional=bidirectional,
                **kwargs,
            )
            self.linear = nn.Linear(self.num_directions * hidden_size, output_size)
        self.task: Any = None
        self.loss_fn: Any = None
        # 3. seeded weights, global RNG untouched
        self.reset_parameters()

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_task(
        cls,
        task: Any,
        *,
        cell: str = "lstm",
        hidden_size: int = 32,
        num_layers: int = 1,
        bidirectional: bool = False,
        seed: int = 0,
        **kwargs: Any,
    ) -> SequenceModel:
        """Build the model a task needs: sizes, encoding and readout come from the task.

        Symbol tasks get a one-hot encoding (pass ``encoding="embedding"`` for an embedding),
        real-valued tasks the identity; ``many_to_one`` tasks read out at the last real step,
        the others at every step. The model keeps ``task`` and uses ``task.loss`` as
        ``loss_fn``. Extra keyword arguments go to :class:`SequenceModel`.

        Example:
            >>> import rnnviz
            >>> task = rnnviz.tasks.Echo(delay=2, seed=0)  # doctest: +SKIP
            >>> model = SequenceModel.from_task(task, cell="gru", hidden_size=16)  # doctest: +SKIP
        """
        _validate.task(task, ("input_kind", "input_size", "output_size", "kind", "loss"))
        kind = _validate.choice("task.kind", task.kind, KINDS)
        input_kind = _validate.choice("task.input_kind", task.input_kind, ("symbols", "real"))
        kwargs.setdefault("encoding", "onehot" if input_kind == "symbols" else "identity")
        kwargs.setdefault("readout", "last" if kind == "many_to_one" else "per_step")
        model = cls(
            task.input_size,
            task.output_size,
            cell=cell,
            hidden_size=hidden_size,
            num_layers=num_layers,
            bidirectional=bidirectional,
            seed=seed,
            **kwargs,
        )
        model.task = task
        model.loss_fn = task.loss
        return model

    @torch.no_grad()
    def reset_parameters(self) -> None:
        """Re-initialise every weight from ``self.seed`` (global torch RNG untouched)."""
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            if self.encoder is not None:
                self.encoder.reset_parameters()
            self.core.reset_parameters()
            self.linear.reset_parameters()

    def check_task(self, task: Any) -> None:
        """Raise ``ValueError`` unless the model fits ``task``: its sizes, a readout for the
        task's kind (``"last"`` for many-to-one) and an encoding for its inputs."""
        for name in ("input_size", "output_size"):
            if getattr(self, name) != getattr(task, name):
                raise ValueError(_(
                    "model.{name} must equal task.{name} = {want}, got {got}; build it with "
                    "SequenceModel.from_task(task)"
                ).format(name=name, want=getattr(task, name), got=getattr(self, name)))
        want = "last" if task.kind == "many_to_one" else "per_step"
        if self.readout_type != want:
            raise ValueError(_(
                "model readout must be {want!r} for a {kind!r} task, got {got!r}; build it with "
                "SequenceModel.from_task(task)"
            ).format(want=want, kind=task.kind, got=self.readout_type))
        symbols = task.input_kind == "symbols"
        if symbols == (self.encoding == "identity"):
            need = pgettext("alternatives", " or ").join(["'onehot'", "'embedding'"]) if symbols \
                else "'identity'"
            raise ValueError(_(
                "model encoding must be {need} for {input_kind!r} inputs, got {got!r}; build it "
                "with SequenceModel.from_task(task)"
            ).format(need=need, input_kind=task.input_kind, got=self.encoding))

    # ------------------------------------------------------------------ properties
    @property
    def num_directions(self) -> int:
        return 2 if self.bidirectional else 1

    @property
    def num_parameters(self) -> int:
        """Number of trainable numbers in the model."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad)

    def extra_repr(self) -> str:
        return f"encoding={self.encoding!r}, readout={self.readout_type!r}, seed={self.seed}"

    # ------------------------------------------------------------------ the three parts
    def _check_x(self, x: Any) -> torch.Tensor:
        if self.encoding == "identity":
            _validate.tensor("x", x, ndim=3, floating=True)
            _validate.size("x", x.shape[-1], self.input_size, _("size(-1) (input_size)"))
            _validate.finite("x", x)
        else:
            if isinstance(x, torch.Tensor) and x.is_floating_point():
                raise TypeError(_(
                    "x must hold integer symbol ids for encoding={encoding!r}, got dtype "
                    "{dtype} (real-valued inputs need encoding='identity')"
                ).format(encoding=self.encoding, dtype=x.dtype))
            _validate.tensor("x", x, ndim=2, integer=True)
            if x.numel() and (int(x.min()) < 0 or int(x.max()) >= self.input_size):
                raise ValueError(_(
                    "x must hold symbol ids in [0, {n}) (input_size), got values from {low} to "
                    "{high}").format(n=self.input_size, low=int(x.min()), high=int(x.max())))
        if x.shape[0] < 1 or x.shape[1] < 1:
            raise ValueError(_("x must have B >= 1 and T >= 1, got shape {shape}").format(
                shape=tuple(x.shape)))
        return x

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The core's input ``(B, T, I)`` float: one-hot rows, embedding rows or ``x`` itself."""
        return self._encode(self._check_x(x))

    def _encode(self, x: torch.Tensor) -> torch.Tensor:
        dtype = self.linear.weight.dtype
        if self.encoding == "onehot":
            return F.one_hot(x.long(), self.input_size).to(dtype)  # (B, T, V)
        if self.encoding == "embedding":
            return self.encoder(x.long())  # (B, T, E)
        return x.to(dtype)  # (B, T, F)

    def readout(self, core_out: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Logits from the core output ``(B, T, D*H)``: per step, or at each last real step."""
        if self.readout_type == "per_step":
            return self.linear(core_out)  # (B, T, O)
        B, T, _width = core_out.shape
        H = self.hidden_size
        if lengths is None:
            last = core_out[:, -1]  # (B, D*H)
        else:
            index = (lengths.to(core_out.device, torch.long) - 1).view(B, 1, 1)  # (B, 1, 1)
            last = core_out.gather(1, index.expand(B, 1, core_out.shape[-1]))[:, 0]  # (B, D*H)
        if self.bidirectional:
            # forward state at the last real step, backward state at t = 0 (it read everything)
            last = torch.cat([last[:, :H], core_out[:, 0, H:]], dim=-1)  # (B, 2H)
        return self.linear(last)  # (B, O)

    def forward(
        self, x: torch.Tensor, lengths: torch.Tensor | None = None, *, explicit: bool = False
    ) -> torch.Tensor:
        """Logits for ``x``: ``(B, T, O)`` per step or ``(B, O)`` at the last real step.

        ``explicit=True`` runs the core's per-step loop from the cell equations instead of
        torch's fused kernel (same numbers, slower; what :func:`rnnviz.trace` records).
        """
        _validate.flag("explicit", explicit)
        e = self.encode(x)  # (B, T, I)
        if lengths is not None:
            lengths = check_lengths(lengths, e.shape[0], e.shape[1])  # (B,) CPU long
        out, _state = self.core(e, lengths=lengths, explicit=explicit)  # (B, T, D*H)
        return self.readout(out, lengths)

    def batch_output(
        self,
        x: torch.Tensor,
        y: torch.Tensor | None = None,
        lengths: torch.Tensor | None = None,
        *,
        check: bool = True,
    ) -> torch.Tensor:
        """What the loss scores on a training batch: :meth:`forward` (``y`` is not read).

        ``check=False`` runs the fused path without input checks (the trainer's hot path,
        for batches of a task whose first batch passed them); same numbers.
        """
        return self(x, lengths=lengths) if check else self._forward_unchecked(x, lengths)

    def _forward_unchecked(self, x: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
        """:meth:`forward` on the fused path without input checks, for batches already known
        to be valid (the trainer checks a task's first batch with :meth:`forward`)."""
        out, _state = self.core._fused(self._encode(x), None, lengths)  # (B, T, D*H)
        return self.readout(out, lengths)
