"""One time step of an Elman RNN, an LSTM and a GRU, written out from the equations.

Two layers of API:

* pure step functions ``elman_step``, ``lstm_step``, ``gru_step`` that take the weights as
  arguments and also return the intermediate values the views show (pre-activation, gates);
  the multi-layer models' explicit path (``rnnviz.models``) is a loop over these;
* ``ElmanCell``, ``LSTMCell``, ``GRUCell``: ``torch.nn.Module`` s with the same constructor
  arguments, parameter names, initialisation and ``forward`` as ``torch.nn.RNNCell``,
  ``torch.nn.LSTMCell`` and ``torch.nn.GRUCell``.

Gate order in the stacked weights is torch's: LSTM ``i, f, g, o``; GRU ``r, z, n``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnviz import _validate
from rnnviz.i18n import _

NONLINEARITIES = ("tanh", "relu")


# ---------------------------------------------------------------------------------------------
# pure step functions


def elman_step(
    x: Tensor,
    h: Tensor,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
    nonlinearity: str = "tanh",
) -> tuple[Tensor, dict[str, Tensor]]:
    r"""One Elman step.

    .. math::
        a = W_{ih} x + b_{ih} + W_{hh} h + b_{hh}, \qquad h' = \tanh(a) \text{ (or ReLU)}

    Args:
        x: ``(B, I)`` input. h: ``(B, H)`` previous hidden state.
        w_ih: ``(H, I)``; w_hh: ``(H, H)``; b_ih, b_hh: ``(H,)`` or ``None``.
        nonlinearity: ``"tanh"`` or ``"relu"``.

    Returns:
        ``(h', {"preact": a})``, both ``(B, H)``.
    """
    preact = F.linear(x, w_ih, b_ih) + F.linear(h, w_hh, b_hh)  # (B, H)
    h_new = torch.tanh(preact) if nonlinearity == "tanh" else torch.relu(preact)  # (B, H)
    return h_new, {"preact": preact}


def lstm_step(
    x: Tensor,
    h: Tensor,
    c: Tensor,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
) -> tuple[Tensor, Tensor, dict[str, Tensor]]:
    r"""One LSTM step.

    .. math::
        \begin{array}{ll}
        i = \sigma(W_{ii} x + b_{ii} + W_{hi} h + b_{hi}) \\
        f = \sigma(W_{if} x + b_{if} + W_{hf} h + b_{hf}) \\
        g = \tanh(W_{ig} x + b_{ig} + W_{hg} h + b_{hg}) \\
        o = \sigma(W_{io} x + b_{io} + W_{ho} h + b_{ho}) \\
        c' = f \odot c + i \odot g \\
        h' = o \odot \tanh(c')
        \end{array}

    Args:
        x: ``(B, I)``; h, c: ``(B, H)``; w_ih: ``(4H, I)``; w_hh: ``(4H, H)``;
        b_ih, b_hh: ``(4H,)`` or ``None``. Rows stacked as ``i, f, g, o``.

    Returns:
        ``(h', c', {"i", "f", "g", "o"})``, all ``(B, H)``.
    """
    gates = F.linear(x, w_ih, b_ih) + F.linear(h, w_hh, b_hh)  # (B, 4H)
    a_i, a_f, a_g, a_o = gates.chunk(4, dim=-1)  # each (B, H)
    i = torch.sigmoid(a_i)
    f = torch.sigmoid(a_f)
    g = torch.tanh(a_g)
    o = torch.sigmoid(a_o)
    c_new = f * c + i * g  # (B, H)
    h_new = o * torch.tanh(c_new)  # (B, H)
    return h_new, c_new, {"i": i, "f": f, "g": g, "o": o}


def gru_step(
    x: Tensor,
    h: Tensor,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
) -> tuple[Tensor, dict[str, Tensor]]:
    r"""One GRU step (torch's convention: ``z`` keeps the old state).

    .. math::
        \begin{array}{ll}
        r = \sigma(W_{ir} x + b_{ir} + W_{hr} h + b_{hr}) \\
        z = \sigma(W_{iz} x + b_{iz} + W_{hz} h + b_{hz}) \\
        n = \tanh(W_{in} x + b_{in} + r \odot (W_{hn} h + b_{hn})) \\
        h' = (1 - z) \odot n + z \odot h
        \end{array}

    Args:
        x: ``(B, I)``; h: ``(B, H)``; w_ih: ``(3H, I)``; w_hh: ``(3H, H)``;
        b_ih, b_hh: ``(3H,)`` or ``None``. Rows stacked as ``r, z, n``.

    Returns:
        ``(h', {"r", "z", "n"})``, all ``(B, H)``.
    """
    gi = F.linear(x, w_ih, b_ih)  # (B, 3H)
    gh = F.linear(h, w_hh, b_hh)  # (B, 3H)
    i_r, i_z, i_n = gi.chunk(3, dim=-1)
    h_r, h_z, h_n = gh.chunk(3, dim=-1)
    r = torch.sigmoid(i_r + h_r)
    z = torch.sigmoid(i_z + h_z)
    n = torch.tanh(i_n + r * h_n)
    h_new = (1 - z) * n + z * h  # (B, H)
    return h_new, {"r": r, "z": z, "n": n}


# ---------------------------------------------------------------------------------------------
# modules


@contextmanager
def seeded(seed: int | None) -> Iterator[None]:
    """Context in which torch's global CPU generator is seeded with ``seed`` (then restored)."""
    if seed is None:
        yield
        return
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(_("seed must be an int or None, got {value!r} ({type})").format(
            value=seed, type=type(seed).__name__))
    _validate.seed("seed", seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


class _CellBase(nn.Module):
    """Parameters and initialisation shared by the cells (as ``torch.nn.RNNCellBase``)."""

    cell_type: str = ""
    num_chunks: int = 1
    _torch_class: type[nn.Module] = nn.Module

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        device=None,
        dtype=None,
        *,
        seed: int | None = None,
    ) -> None:
        super().__init__()
        _validate.positive_int("input_size", input_size)
        _validate.positive_int("hidden_size", hidden_size)
        _validate.elements(_("the weights of input_size={input_size}, hidden_size={hidden_size}")
                           .format(input_size=input_size, hidden_size=hidden_size),
                           4 * hidden_size, max(input_size, hidden_size))
        if not isinstance(bias, bool):
            raise TypeError(_("bias must be a bool, got {value!r} ({type})").format(
                value=bias, type=type(bias).__name__))
        _validate.float_dtype("dtype", dtype)
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        kw = {"device": device, "dtype": dtype}
        rows = self.num_chunks * hidden_size
        self.weight_ih = nn.Parameter(torch.empty(rows, input_size, **kw))  # (G, I)
        self.weight_hh = nn.Parameter(torch.empty(rows, hidden_size, **kw))  # (G, H)
        if bias:
            self.bias_ih = nn.Parameter(torch.empty(rows, **kw))  # (G,)
            self.bias_hh = nn.Parameter(torch.empty(rows, **kw))  # (G,)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        with seeded(seed):
            self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every parameter from U(-1/sqrt(H), 1/sqrt(H)), in torch's order."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            nn.init.uniform_(weight, -bound, bound)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            s += ", bias=False"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity!r}"
        return s

    def _check(self, input: Tensor, hx: Tensor | None, name: str = "hx") -> bool:
        """Validate and return whether ``input`` is batched."""
        _validate.tensor("input", input, ndim=(1, 2), floating=True)
        _validate.size("input", input.shape[-1], self.input_size, _("last dimension (input_size)"))
        if input.dtype != self.weight_ih.dtype:
            raise TypeError(_("input must have the cell's dtype {dtype}, got {got}").format(
                dtype=self.weight_ih.dtype, got=input.dtype))
        if hx is not None:
            _validate.tensor(name, hx, floating=True)
            _validate.same_dtype(name, hx, self.weight_ih.dtype, "cell")
            want = (input.shape[0], self.hidden_size) if input.dim() == 2 else (self.hidden_size,)
            if tuple(hx.shape) != want:
                raise ValueError(_("{name} must have shape {want}, got {got}").format(
                    name=name, want=want, got=tuple(hx.shape)))
        return input.dim() == 2

    def _zeros(self, input: Tensor) -> Tensor:
        return input.new_zeros(input.shape[0], self.hidden_size)  # (B, H)

    def _weights(self) -> tuple[Tensor, Tensor, Tensor | None, Tensor | None]:
        return self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh

    def _config(self) -> dict:
        return {"input_size": self.input_size, "hidden_size": self.hidden_size, "bias": self.bias}

    @classmethod
    def from_torch(cls, module: nn.Module):
        """A cell with the same configuration and (copied) weights as a torch cell."""
        if not isinstance(module, cls._torch_class):
            raise TypeError(_("module must be a {want}, got {type}").format(
                want=cls._torch_class.__name__, type=type(module).__name__))
        extra = {"nonlinearity": module.nonlinearity} if cls.cell_type == "elman" else {}
        w = module.weight_ih
        cell = cls(module.input_size, module.hidden_size, module.bias, **extra,
                   device=w.device, dtype=w.dtype)
        cell.load_state_dict(module.state_dict())
        cell.train(module.training)
        return cell

    def to_torch(self) -> nn.Module:
        """The equivalent plain torch cell, with a copy of these weights."""
        w = self.weight_ih
        module = self._torch_class(**self._config(), device=w.device, dtype=w.dtype)
        module.load_state_dict(self.state_dict())
        module.train(self.training)
        return module


class ElmanCell(_CellBase):
    r"""An Elman RNN cell with tanh or ReLU non-linearity.

    .. math::
        h' = \tanh(W_{ih} x + b_{ih} + W_{hh} h + b_{hh})

    Same arguments, parameters and results as ``torch.nn.RNNCell``. NaN or inf input flows
    through as in torch (no check).

    Args:
        input_size: features in the input ``x``. hidden_size: features in ``h``.
        bias: if ``False``, no ``bias_ih`` / ``bias_hh``. nonlinearity: ``"tanh"`` or ``"relu"``.
        seed: if given, the initial weights are drawn from ``torch.manual_seed(seed)``.

    Shapes:
        input ``(B, I)`` or ``(I,)``; hx ``(B, H)`` or ``(H,)`` (zeros if ``None``).

    Returns:
        h' ``(B, H)`` or ``(H,)``.

    Example:
        >>> cell = ElmanCell(3, 5, seed=0)
        >>> cell(torch.randn(2, 3)).shape
        torch.Size([2, 5])
    """

    cell_type = "elman"
    num_chunks = 1
    _torch_class = nn.RNNCell

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        device=None,
        dtype=None,
        *,
        seed: int | None = None,
    ) -> None:
        self.nonlinearity = _validate.choice("nonlinearity", nonlinearity, NONLINEARITIES)
        super().__init__(input_size, hidden_size, bias, device, dtype, seed=seed)

    def _config(self) -> dict:
        return {**super()._config(), "nonlinearity": self.nonlinearity}

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        batched = self._check(input, hx)
        x = input if batched else input.unsqueeze(0)  # (B, I)
        h = self._zeros(x) if hx is None else (hx if batched else hx.unsqueeze(0))  # (B, H)
        h_new, _pre = elman_step(x, h, *self._weights(), self.nonlinearity)
        return h_new if batched else h_new.squeeze(0)


class LSTMCell(_CellBase):
    r"""A long short-term memory (LSTM) cell.

    .. math::
        \begin{array}{ll}
        i = \sigma(W_{ii} x + b_{ii} + W_{hi} h + b_{hi}) \\
        f = \sigma(W_{if} x + b_{if} + W_{hf} h + b_{hf}) \\
        g = \tanh(W_{ig} x + b_{ig} + W_{hg} h + b_{hg}) \\
        o = \sigma(W_{io} x + b_{io} + W_{ho} h + b_{ho}) \\
        c' = f \odot c + i \odot g \\
        h' = o \odot \tanh(c')
        \end{array}

    Same arguments, parameters and results as ``torch.nn.LSTMCell``; weight rows are stacked
    as ``i, f, g, o``. NaN or inf input flows through as in torch (no check).

    Args:
        input_size, hidden_size, bias, seed: as ``ElmanCell``.

    Shapes:
        input ``(B, I)`` or ``(I,)``; hx a pair ``(h, c)`` of ``(B, H)`` or ``(H,)`` (zeros if
        ``None``).

    Returns:
        ``(h', c')``, each ``(B, H)`` or ``(H,)``.

    Example:
        >>> h, c = LSTMCell(3, 5, seed=0)(torch.randn(2, 3))
        >>> c.shape
        torch.Size([2, 5])
    """

    cell_type = "lstm"
    num_chunks = 4
    _torch_class = nn.LSTMCell

    def forward(
        self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None
    ) -> tuple[Tensor, Tensor]:
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise TypeError(_("hx must be a pair (h, c) of tensors or None, got {type}").format(
                type=type(hx).__name__))
        batched = self._check(input, None if hx is None else hx[0], "hx[0]")
        if hx is not None:
            self._check(input, hx[1], "hx[1]")
        x = input if batched else input.unsqueeze(0)  # (B, I)
        if hx is None:
            h, c = self._zeros(x), self._zeros(x)  # (B, H)
        else:
            h, c = (hx[0], hx[1]) if batched else (hx[0].unsqueeze(0), hx[1].unsqueeze(0))
        h_new, c_new, _gates = lstm_step(x, h, c, *self._weights())
        if not batched:
            return h_new.squeeze(0), c_new.squeeze(0)
        return h_new, c_new


class GRUCell(_CellBase):
    r"""A gated recurrent unit (GRU) cell.

    .. math::
        \begin{array}{ll}
        r = \sigma(W_{ir} x + b_{ir} + W_{hr} h + b_{hr}) \\
        z = \sigma(W_{iz} x + b_{iz} + W_{hz} h + b_{hz}) \\
        n = \tanh(W_{in} x + b_{in} + r \odot (W_{hn} h + b_{hn})) \\
        h' = (1 - z) \odot n + z \odot h
        \end{array}

    Same arguments, parameters and results as ``torch.nn.GRUCell``; weight rows are stacked
    as ``r, z, n``. NaN or inf input flows through as in torch (no check).

    Args:
        input_size, hidden_size, bias, seed: as ``ElmanCell``.

    Shapes:
        input ``(B, I)`` or ``(I,)``; hx ``(B, H)`` or ``(H,)`` (zeros if ``None``).

    Returns:
        h' ``(B, H)`` or ``(H,)``.

    Example:
        >>> GRUCell(3, 5, seed=0)(torch.randn(3)).shape
        torch.Size([5])
    """

    cell_type = "gru"
    num_chunks = 3
    _torch_class = nn.GRUCell

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        batched = self._check(input, hx)
        x = input if batched else input.unsqueeze(0)  # (B, I)
        h = self._zeros(x) if hx is None else (hx if batched else hx.unsqueeze(0))  # (B, H)
        h_new, _gates = gru_step(x, h, *self._weights())
        return h_new if batched else h_new.squeeze(0)
