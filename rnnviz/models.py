"""Multi-layer Elman RNN, LSTM and GRU: torch's modules plus an explicit, inspectable path.

``Elman``, ``LSTM`` and ``GRU`` subclass ``torch.nn.RNN``, ``torch.nn.LSTM`` and
``torch.nn.GRU``: same constructor arguments and defaults, parameter names, ``state_dict``
layout and return values. ``forward`` adds two keyword arguments:

* ``lengths``: real length of each sequence in a padded batch (packing under the hood);
* ``explicit=True``: run a Python loop over layers, directions and steps built from the cell
  equations in ``rnnviz.cells`` instead of torch's fused kernel. Same numbers, and every
  intermediate value is a tensor in the autograd graph (``rnnviz.trace`` records them).

Padded steps (``t >= lengths[b]``) behave as packing does: the state is frozen, the output is
zero, the reverse direction starts at each sequence's last real step, and padded inputs get no
gradient.

Non-finite values: as drop-in torch modules, these behave as torch does on NaN or inf input
or state (the NaN flows through to the output, no error). The rnnviz functions around them
(``SequenceModel``, ``rnnviz.trace``, ``jacobian_norms``) reject non-finite inputs with a
message that says where the first one is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from rnnviz import _validate
from rnnviz._types import GATE_NAMES
from rnnviz.cells import NONLINEARITIES, elman_step, gru_step, lstm_step, seeded
from rnnviz.i18n import _

State = Tensor | tuple[Tensor, Tensor]


@dataclass
class Record:
    """Per-step tensors of one explicit run, still in the autograd graph.

    Each list is indexed ``[layer * num_directions + direction][t]`` (real time ``t``) and holds
    ``(B, H)`` tensors. ``hidden[k][t]`` / ``cell[k][t]`` are what step ``t`` computed: every
    later use (the output, the next step, ``h_n``) reads these very tensors, so their gradient
    is the total BPTT adjoint. On padded steps (``t >= lengths[b]``) they are computed from the
    frozen state but masked out of every use, so they are meaningless and get no gradient.
    """

    hidden: list[list[Tensor]] = field(default_factory=list)
    cell: list[list[Tensor]] | None = None
    gates: dict[str, list[list[Tensor]]] = field(default_factory=dict)
    preact: list[list[Tensor]] | None = None


def check_lengths(lengths: Any, batch_size: int, seq_len: int) -> Tensor:
    """Return ``lengths`` as a ``(B,)`` int64 CPU tensor after checking size and range."""
    if not isinstance(lengths, Tensor):
        if not isinstance(lengths, Sequence) or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in lengths
        ):
            raise TypeError(_(
                "lengths must be a 1-D integer tensor or a sequence of ints, got {value}"
            ).format(value=_validate._describe(lengths)))
        lengths = torch.tensor(list(lengths), dtype=torch.long)
    _validate.tensor("lengths", lengths, ndim=1, integer=True)
    _validate.size("lengths", lengths.shape[0], batch_size, _("size (the batch size B)"))
    lengths = lengths.detach().to("cpu", torch.long)
    low, high = int(lengths.min()), int(lengths.max())
    if low < 1 or high > seq_len:
        raise ValueError(_(
            "lengths must have values in [1, {T}] (the sequence length T), got values in "
            "[{low}, {high}]"
        ).format(T=seq_len, low=low, high=high))
    return lengths


def _torch_config(module: nn.RNNBase) -> dict[str, Any]:
    """Constructor arguments (without device/dtype) of a torch RNN/LSTM/GRU."""
    config = dict(
        input_size=module.input_size, hidden_size=module.hidden_size,
        num_layers=module.num_layers, bias=module.bias, batch_first=module.batch_first,
        dropout=module.dropout, bidirectional=module.bidirectional,
    )
    if isinstance(module, nn.RNN):
        config["nonlinearity"] = module.nonlinearity
    return config


class _Core:
    """What Elman, LSTM and GRU add to their torch base class."""

    cell_type: str
    _torch_class: type[nn.RNNBase]
    # torch's own forward computes this network, so packed and plain unbatched inputs can go
    # to it directly (not so for a dilated core, rnnviz.dilation)
    _torch_computes = True

    # -- construction -------------------------------------------------------------------------

    @staticmethod
    def _check_config(input_size, hidden_size, num_layers, dropout, bidirectional, bias=True,
                      batch_first=False, dtype=None) -> None:
        _validate.positive_int("input_size", input_size)
        _validate.positive_int("hidden_size", hidden_size)
        _validate.positive_int("num_layers", num_layers)
        _validate.elements(_("the weights of input_size={input_size}, hidden_size={hidden_size}, "
                             "num_layers={num_layers}").format(
                               input_size=input_size, hidden_size=hidden_size, num_layers=num_layers),
                           4 * hidden_size, max(input_size, hidden_size), num_layers)
        _validate.flag("bias", bias)
        _validate.flag("batch_first", batch_first)
        _validate.float_dtype("dtype", dtype)
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)):
            raise TypeError(_("dropout must be a number in [0, 1], got {value!r}").format(value=dropout))
        if not 0 <= dropout <= 1:
            raise ValueError(_("dropout must be a number in [0, 1], got {value!r}").format(value=dropout))
        if not isinstance(bidirectional, bool):
            raise TypeError(_("bidirectional must be a bool, got {value!r}").format(value=bidirectional))

    def _config(self) -> dict[str, Any]:
        return _torch_config(self)

    @classmethod
    def from_torch(cls, module: nn.RNNBase):
        """A copy of a ``torch.nn`` RNN/LSTM/GRU (same configuration and weights) as this class."""
        if not isinstance(module, cls._torch_class):
            raise TypeError(_("module must be a torch.nn.{want}, got {type}").format(
                want=cls._torch_class.__name__, type=type(module).__name__))
        if getattr(module, "proj_size", 0):
            raise ValueError(_("module must have proj_size = 0, got {value}").format(
                value=module.proj_size))
        w = module.weight_ih_l0
        core = cls(**_torch_config(module), device=w.device, dtype=w.dtype)
        core.load_state_dict(module.state_dict())
        core.train(module.training)
        return core

    def to_torch(self) -> nn.RNNBase:
        """A plain ``torch.nn`` module with the same configuration and a copy of the weights."""
        w = self.weight_ih_l0
        module = self._torch_class(**self._config(), device=w.device, dtype=w.dtype)
        module.load_state_dict(self.state_dict())
        module.train(self.training)
        return module

    # -- helpers --------------------------------------------------------------------------------

    @property
    def num_directions(self) -> int:
        return 2 if self.bidirectional else 1

    def layer_weights(self, layer: int, direction: int = 0) -> tuple[Tensor, ...]:
        """``(w_ih, w_hh, b_ih, b_hh)`` of one layer and direction (biases ``None`` if no bias)."""
        s = f"l{layer}" + ("_reverse" if direction == 1 else "")
        return tuple(getattr(self, f"{n}_{s}", None)
                     for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))

    def _check_input(self, input: Any, name: str = "input") -> None:
        _validate.tensor(name, input, ndim=(2, 3), floating=True)
        _validate.size(name, input.shape[-1], self.input_size, _("last dimension (input_size)"))
        dtype = self.weight_ih_l0.dtype
        if input.dtype != dtype:
            raise TypeError(_("{name} must have the model's dtype {dtype}, got {got}").format(
                name=name, dtype=dtype, got=input.dtype))
        if input.shape[-2 if input.dim() == 2 or self.batch_first else 0] == 0:
            raise ValueError(_("{name} must have at least one time step, got shape {shape}")
                             .format(name=name, shape=tuple(input.shape)))

    def _check_hx(self, hx: Any, batch: int | None, dtype: torch.dtype, arg: str = "hx") -> None:
        want = (self.num_layers * self.num_directions,) + (() if batch is None else (batch,))
        want += (self.hidden_size,)
        what = "(num_layers * num_directions, " + ("" if batch is None else "B, ") + "hidden_size)"
        if self.cell_type == "lstm":
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise TypeError(_("{arg} must be a pair (h_0, c_0) of tensors or None, got {value}")
                                .format(arg=arg, value=_validate._describe(hx)))
            pairs = [(f"{arg}[0]", hx[0]), (f"{arg}[1]", hx[1])]
        else:
            pairs = [(arg, hx)]
        for name, value in pairs:
            _validate.tensor(name, value, floating=True)
            if tuple(value.shape) != want:
                raise ValueError(_("{name} must have shape {want} {what}, got {got}").format(
                    name=name, want=want, what=what, got=tuple(value.shape)))
            if value.dtype != dtype:
                raise TypeError(_("{name} must have dtype {dtype}, got {got}").format(
                    name=name, dtype=dtype, got=value.dtype))

    def _zero_state(self, x: Tensor) -> State:
        h0 = x.new_zeros(self.num_layers * self.num_directions, x.shape[0], self.hidden_size)
        return (h0, h0.clone()) if self.cell_type == "lstm" else h0  # (L*D, B, H)

    # -- forward ------------------------------------------------------------------------------

    def forward(self, input, hx=None, *, lengths=None, explicit: bool = False):
        """Run the network; same arguments and results as torch, plus ``lengths``/``explicit``.

        Args:
            input: ``(T, B, I)`` (``(B, T, I)`` if ``batch_first``) or unbatched ``(T, I)``;
                a ``PackedSequence`` is passed to torch unchanged.
            hx: initial state ``(L*D, B, H)`` (LSTM: a pair ``(h_0, c_0)``), zeros if ``None``.
            lengths: ``(B,)`` real lengths in ``[1, T]`` of a padded batch, or ``None``.
            explicit: run the per-step loop of ``rnnviz.cells`` instead of the fused kernel.

        Returns:
            ``(output, h_n)`` (LSTM: ``(output, (h_n, c_n))``); output is zero on padded steps.
        """
        if isinstance(input, PackedSequence):
            if not self._torch_computes:
                raise TypeError(_("input must be a padded tensor, not a PackedSequence (pass "
                                  "lengths instead)"))
            if explicit or lengths is not None:
                raise ValueError(_("input must be a padded tensor (not a PackedSequence) when "
                                   "explicit=True or lengths is given"))
            return super().forward(input, hx)
        self._check_input(input)
        _validate.flag("explicit", explicit)
        batched = input.dim() == 3
        if self._torch_computes and not batched and hx is None and lengths is None \
                and not explicit:
            return super().forward(input, hx)
        # 1. canonical layout: x (B, T, I), state (L*D, B, H)
        x = input if not batched else (input if self.batch_first else input.transpose(0, 1))
        x = x if batched else x.unsqueeze(0)  # (B, T, I)
        B, T, _width = x.shape
        if hx is not None:
            self._check_hx(hx, B if batched else None, input.dtype)
            if not batched:
                hx = tuple(v.unsqueeze(1) for v in hx) if self.cell_type == "lstm" else \
                    hx.unsqueeze(1)
        if lengths is not None:
            lengths = check_lengths(lengths, B, T)
        # 2. run
        if explicit:
            _validate.at_most(_("the time steps T of input (explicit=True)"), T, "max_steps")
            output, h_n, _record = self._explicit(x, hx, lengths)  # (B, T, D*H)
        else:
            output, h_n = self._fused(x, hx, lengths)  # (B, T, D*H)
        # 3. back to the caller's layout
        if not batched:
            output = output.squeeze(0)  # (T, D*H)
            h_n = tuple(v.squeeze(1) for v in h_n) if self.cell_type == "lstm" else h_n.squeeze(1)
        elif not self.batch_first:
            output = output.transpose(0, 1)  # (T, B, D*H)
        return output, h_n

    def _fused(self, x: Tensor, hx: State | None, lengths: Tensor | None) -> tuple[Tensor, State]:
        """torch's fused kernel on canonical tensors (no validation): ``x`` is ``(B, T, I)``."""
        layout = x if self.batch_first else x.transpose(0, 1)
        if lengths is None:
            output, h_n = super().forward(layout, hx)
        else:
            packed = pack_padded_sequence(layout, lengths, self.batch_first, enforce_sorted=False)
            out_packed, h_n = super().forward(packed, hx)
            output, _lengths = pad_packed_sequence(out_packed, self.batch_first, total_length=x.shape[1])
        return (output if self.batch_first else output.transpose(0, 1)), h_n  # (B, T, D*H)

    def _lookback(self, layer: int) -> int:
        """Step ``t`` of layer ``layer`` continues the state of step ``t - lookback``: 1 here,
        ``d`` in a dilated core (``rnnviz.dilation``)."""
        return 1

    def _explicit(
        self,
        x: Tensor,
        hx: State | None = None,
        lengths: Tensor | None = None,
        *,
        record: bool = False,
        training: bool | None = None,
    ) -> tuple[Tensor, State, Record | None]:
        """The per-step loop, on canonical tensors (no validation).

        Args:
            x: ``(B, T, I)`` batch-first input. hx: ``(L*D, B, H)`` or LSTM pair, or ``None``.
            lengths: ``(B,)`` int64 CPU tensor or ``None``.
            record: also return a ``Record`` of every per-step tensor.
            training: apply inter-layer dropout (default: ``self.training``).

        Returns:
            ``(output (B, T, D*H), h_n, record or None)``.
        """
        training = self.training if training is None else training
        lstm = self.cell_type == "lstm"
        B, T, _width = x.shape
        hx = self._zero_state(x) if hx is None else hx
        h0, c0 = hx if lstm else (hx, None)
        mask = None
        if lengths is not None and int(lengths.min()) < T:
            steps = torch.arange(T, device=x.device)
            mask = (steps[None, :] < lengths.to(x.device)[:, None]).unsqueeze(-1)  # (B, T, 1)
        rec = Record() if record else None
        if rec is not None:
            rec.cell = [] if lstm else None
            rec.preact = [] if self.cell_type == "elman" else None
            rec.gates = {name: [] for name in GATE_NAMES[self.cell_type]}
        layer_in, h_n, c_n = x, [], []
        for layer in range(self.num_layers):
            outs = []
            back = self._lookback(layer)
            for d in range(self.num_directions):
                k = layer * self.num_directions + d
                w = self.layer_weights(layer, d)
                out: list[Tensor | None] = [None] * T
                hs, cs = [None] * T, [None] * T  # what each step computed
                after_h, after_c = [None] * T, [None] * T  # the state after each step
                extras: dict[str, list] = {}
                for t in range(T) if d == 0 else range(T - 1, -1, -1):
                    # 1. one step of the cell equations, from the state of step t -/+ lookback
                    p = t - back if d == 0 else t + back
                    h = after_h[p] if 0 <= p < T else h0[k]  # (B, H)
                    c = (after_c[p] if 0 <= p < T else c0[k]) if lstm else None
                    x_t = layer_in[:, t]  # (B, I_l)
                    if self.cell_type == "elman":
                        h_new, ex = elman_step(x_t, h, *w, self.nonlinearity)
                    elif lstm:
                        h_new, c_new, ex = lstm_step(x_t, h, c, *w)
                    else:
                        h_new, ex = gru_step(x_t, h, *w)
                    if rec is not None:
                        hs[t], cs[t] = h_new, (c_new if lstm else None)
                        for name, value in ex.items():
                            extras.setdefault(name, [None] * T)[t] = value
                    # 2. padded steps keep the state and output zero
                    if mask is not None:
                        m = mask[:, t]  # (B, 1)
                        out[t] = torch.where(m, h_new, torch.zeros_like(h_new))
                        after_h[t] = torch.where(m, h_new, h)
                        if lstm:
                            after_c[t] = torch.where(m, c_new, c)
                    else:
                        out[t] = after_h[t] = h_new
                        if lstm:
                            after_c[t] = c_new
                outs.append(torch.stack(out, dim=1))  # (B, T, H)
                # 3. the final state: after the last real step (t = 0 in reverse)
                if d == 1 or back == 1:  # padded steps carried it to the end
                    h_n.append(after_h[0 if d == 1 else T - 1])
                    c_n.append(after_c[0 if d == 1 else T - 1])
                else:  # a dilated chain: the one that holds each sequence's last real step
                    last = torch.full((B,), T - 1) if lengths is None else lengths - 1  # (B,)
                    rows = torch.arange(B)
                    h_n.append(torch.stack(after_h, dim=1)[rows, last])  # (B, H)
                    c_n.append(torch.stack(after_c, dim=1)[rows, last] if lstm else None)
                if rec is not None:
                    rec.hidden.append(hs)
                    if lstm:
                        rec.cell.append(cs)
                    if rec.preact is not None:
                        rec.preact.append(extras["preact"])
                    for name in rec.gates:
                        rec.gates[name].append(extras[name])
            layer_out = torch.cat(outs, dim=-1) if len(outs) > 1 else outs[0]  # (B, T, D*H)
            # 4. dropout between layers, as torch does
            if layer < self.num_layers - 1 and self.dropout > 0 and training:
                layer_in = F.dropout(layer_out, self.dropout, training=True)
            else:
                layer_in = layer_out
        h_n_t = torch.stack(h_n)  # (L*D, B, H)
        state = (h_n_t, torch.stack(c_n)) if lstm else h_n_t
        return layer_out, state, rec


class Elman(_Core, nn.RNN):
    r"""A multi-layer Elman RNN with tanh or ReLU non-linearity.

    .. math::
        h_t = \tanh(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh})

    A ``torch.nn.RNN`` (same arguments, defaults, parameters, results) whose ``forward`` also
    takes ``lengths`` and ``explicit`` (see the module docstring). NaN or inf input flows
    through as in torch (no check).

    Args:
        input_size, hidden_size, num_layers, nonlinearity, bias, batch_first, dropout,
        bidirectional, device, dtype: as ``torch.nn.RNN``.
        seed: if given, the initial weights come from ``torch.manual_seed(seed)``.

    Shapes:
        input ``(T, B, I)`` or ``(B, T, I)`` (batch_first) or ``(T, I)``; hx ``(L*D, B, H)``.

    Returns:
        ``(output (T, B, D*H), h_n (L*D, B, H))`` like torch.

    Example:
        >>> rnn = Elman(3, 8, batch_first=True, seed=0)
        >>> out, h_n = rnn(torch.randn(2, 5, 3), lengths=[5, 2], explicit=True)
        >>> out.shape, h_n.shape
        (torch.Size([2, 5, 8]), torch.Size([1, 2, 8]))
    """

    cell_type = "elman"
    _torch_class = nn.RNN

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device=None,
        dtype=None,
        *,
        seed: int | None = None,
    ) -> None:
        self._check_config(input_size, hidden_size, num_layers, dropout, bidirectional, bias, batch_first,
                           dtype)
        nonlinearity = _validate.choice("nonlinearity", nonlinearity, NONLINEARITIES)
        with seeded(seed):
            super().__init__(input_size, hidden_size, num_layers, nonlinearity, bias,
                             batch_first, dropout, bidirectional, device=device, dtype=dtype)


class LSTM(_Core, nn.LSTM):
    r"""A multi-layer long short-term memory (LSTM) network.

    .. math::
        \begin{array}{ll}
        i_t = \sigma(W_{ii} x_t + b_{ii} + W_{hi} h_{t-1} + b_{hi}) \\
        f_t = \sigma(W_{if} x_t + b_{if} + W_{hf} h_{t-1} + b_{hf}) \\
        g_t = \tanh(W_{ig} x_t + b_{ig} + W_{hg} h_{t-1} + b_{hg}) \\
        o_t = \sigma(W_{io} x_t + b_{io} + W_{ho} h_{t-1} + b_{ho}) \\
        c_t = f_t \odot c_{t-1} + i_t \odot g_t \\
        h_t = o_t \odot \tanh(c_t)
        \end{array}

    NaN or inf input flows through as in torch (no check).

    A ``torch.nn.LSTM`` (without projections: ``proj_size`` must be 0) whose ``forward`` also
    takes ``lengths`` and ``explicit``.

    Args:
        input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
        proj_size (must be 0), device, dtype: as ``torch.nn.LSTM``. seed: as ``Elman``.

    Returns:
        ``(output, (h_n, c_n))`` like torch.

    Example:
        >>> lstm = LSTM(3, 8, num_layers=2, batch_first=True, seed=0)
        >>> out, (h_n, c_n) = lstm(torch.randn(2, 5, 3), explicit=True)
        >>> c_n.shape
        torch.Size([2, 2, 8])
    """

    cell_type = "lstm"
    _torch_class = nn.LSTM

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device=None,
        dtype=None,
        *,
        seed: int | None = None,
    ) -> None:
        self._check_config(input_size, hidden_size, num_layers, dropout, bidirectional, bias, batch_first,
                           dtype)
        if proj_size != 0:
            raise ValueError(_(
                "proj_size must be 0 (rnnviz's LSTM has no projections), got {value!r}"
            ).format(value=proj_size))
        with seeded(seed):
            super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                             bidirectional, 0, device=device, dtype=dtype)


class GRU(_Core, nn.GRU):
    r"""A multi-layer gated recurrent unit (GRU) network.

    .. math::
        \begin{array}{ll}
        r_t = \sigma(W_{ir} x_t + b_{ir} + W_{hr} h_{t-1} + b_{hr}) \\
        z_t = \sigma(W_{iz} x_t + b_{iz} + W_{hz} h_{t-1} + b_{hz}) \\
        n_t = \tanh(W_{in} x_t + b_{in} + r_t \odot (W_{hn} h_{t-1} + b_{hn})) \\
        h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}
        \end{array}

    NaN or inf input flows through as in torch (no check).

    A ``torch.nn.GRU`` whose ``forward`` also takes ``lengths`` and ``explicit``.

    Args:
        input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
        device, dtype: as ``torch.nn.GRU``. seed: as ``Elman``.

    Returns:
        ``(output, h_n)`` like torch.

    Example:
        >>> gru = GRU(3, 8, bidirectional=True, seed=0)
        >>> out, h_n = gru(torch.randn(5, 2, 3))
        >>> out.shape
        torch.Size([5, 2, 16])
    """

    cell_type = "gru"
    _torch_class = nn.GRU

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device=None,
        dtype=None,
        *,
        seed: int | None = None,
    ) -> None:
        self._check_config(input_size, hidden_size, num_layers, dropout, bidirectional, bias, batch_first,
                           dtype)
        with seeded(seed):
            super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                             bidirectional, device=device, dtype=dtype)


CORES: dict[str, type[nn.Module]] = {"elman": Elman, "lstm": LSTM, "gru": GRU}


def is_core(model: Any) -> bool:
    """Whether ``model`` is an rnnviz Elman / LSTM / GRU."""
    return isinstance(model, _Core)
