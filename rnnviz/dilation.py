r"""Dilation and stride over time: recurrent skip connections (Chang et al. 2017, "Dilated
Recurrent Neural Networks"; background: Koutník et al. 2014, "A Clockwork RNN").

.. math::
    \begin{array}{ll}
    h^{(l)}_t = f\big(h^{(l-1)}_t,\; h^{(l)}_{t - d_l}\big) & \text{dilated recurrence, } h^{(0)}_t = x_t \\
    h^{(l)}_t = h^{(l)}_0 \text{ (the initial state) for } t < d_l &
    \end{array}

A layer with dilation ``d`` is ``d`` independent chains: chain ``j`` sees the steps ``j, j + d,
j + 2d, ...``. So it is the plain layer run on the ``d`` interleaved subsequences
``x[:, j::d]`` *as one batch* of ``B * d`` sequences, which is how :meth:`Dilated.forward`
computes it (torch's fused kernel, one call per layer). Stacking dilations ``1, 2, 4, ...``
lets the signal from ``x_t`` reach the output in about ``log2`` of the distance recurrent
steps instead of the distance itself.

A layer with **stride** ``s`` reads only every ``s``-th step of the layer below (the last step
of each block of ``s``), so it runs ``T / s`` steps: fewer steps, shorter paths, coarser time.
:func:`path_lengths` counts the paths of any stack of dilations and strides.

Example:
    >>> import torch, rnnviz
    >>> plain = rnnviz.Elman(3, 8, num_layers=3, batch_first=True, seed=0)
    >>> core = rnnviz.dilate(plain, (1, 2, 4))           # same weights, skip connections
    >>> out, h_n = core(torch.randn(2, 16, 3))           # (B, T, H), (L, B, H)
    >>> rnnviz.path_lengths((1, 2, 4), 16).length[0]     # x_0 -> output at t = 15
    5
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from rnnviz import _validate
from rnnviz.i18n import _
from rnnviz.models import GRU, LSTM, Elman, State, is_core

__all__ = ["Dilated", "Paths", "dilate", "path_lengths"]

_FUSED = {"gru": torch.gru, "lstm": torch.lstm}


def _check_steps(name: str, values: Any, num_layers: int | None = None) -> tuple[int, ...]:
    """A tuple of positive ints (one per layer when ``num_layers`` is given)."""
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise TypeError(_("{name} must be a tuple of positive ints, got {value}").format(
            name=name, value=_validate._describe(values)))
    out = tuple(_validate.steps(f"{name}[{i}]", v) for i, v in enumerate(values))
    if not out:
        raise ValueError(_("{name} must have at least one entry, got {value!r}").format(
            name=name, value=values))
    if num_layers is not None and len(out) != num_layers:
        raise ValueError(_(
            "{name} must have one entry per layer (num_layers = {num_layers}), got {n}: {values}"
        ).format(name=name, num_layers=num_layers, n=len(out), values=out))
    return out


class Dilated:
    r"""An rnnviz core (Elman, LSTM or GRU) whose layer ``l`` has a recurrent skip of ``d_l``.

    Build one with :func:`dilate`. It keeps the plain core's parameters (same names, shapes
    and ``state_dict``); only the wiring in time changes: ``h_t`` of layer ``l`` comes from
    ``h_{t - d_l}`` instead of ``h_{t-1}``. Dilations ``(1, 1, ...)`` give the plain core back.
    It is still an rnnviz core, so ``rnnviz.trace``, ``jacobian_norms``, ``SequenceModel``,
    ``Trainer`` and ``dashboard`` work with it unchanged.

    Attributes:
        dilations: one positive int per layer.

    Shapes:
        input ``(B, T, I)`` (batch_first) or ``(T, B, I)``, or unbatched ``(T, I)``;
        ``hx`` ``(L, B, H)`` (LSTM: a pair), used as the state "before" the first ``d_l`` steps.

    Returns:
        ``(output, h_n)`` like torch: output ``(B, T, H)`` (zero on padded steps), ``h_n`` the
        state of every layer at each sequence's last real step (LSTM: ``(h_n, c_n)``).
    """

    dilations: tuple[int, ...]

    # -- construction helpers -------------------------------------------------------------
    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, dilations={self.dilations}"  # type: ignore[misc]

    def to_torch(self) -> Any:
        raise TypeError(_(
            "a Dilated core has no single torch.nn equivalent; use layer_to_torch(layer) for "
            "one layer, and run it on the interleaved subsequences x[:, j::d]"
        ))

    def layer_to_torch(self, layer: int) -> Any:
        """A one-layer ``torch.nn`` RNN/LSTM/GRU with a copy of layer ``layer``'s weights."""
        core: Any = self
        if isinstance(layer, bool) or not isinstance(layer, int) or not 0 <= layer < core.num_layers:
            raise ValueError(_("layer must be an int in [0, {n}), got {value!r}").format(
                n=core.num_layers, value=layer))
        config = core._config()
        config.update(
            num_layers=1, dropout=0.0, input_size=core.input_size if layer == 0 else core.hidden_size
        )
        w = core.weight_ih_l0
        module = core._torch_class(**config, device=w.device, dtype=w.dtype)
        names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
        state = {f"{n}_l0": v for n, v in zip(names, core.layer_weights(layer), strict=True) if v is not None}
        module.load_state_dict({k: v.detach().clone() for k, v in state.items()})
        return module

    # -- forward: _Core.forward, with this class's _fused, _explicit lookback and no torch
    # shortcut (torch's own forward would run the plain, undilated network) ----------------
    _torch_computes = False

    def _fused(self, x: Tensor, hx: State | None, lengths: Tensor | None) -> tuple[Tensor, State]:
        """Each layer: interleave into ``B * d`` chains, one fused torch call, de-interleave."""
        core: Any = self
        lstm = core.cell_type == "lstm"
        B, T, _width = x.shape
        hx = core._zero_state(x) if hx is None else hx
        h0, c0 = hx if lstm else (hx, None)
        real = T if lengths is None else lengths  # (B,) or T
        last = (torch.as_tensor(real) - 1).expand(B)  # (B,) last real step
        layer_in, h_n, c_n = x, [], []
        for layer, d in enumerate(self.dilations):
            n = -(-T // d)  # steps per chain
            _validate.elements(_("the input padded for dilations[{layer}] = {d}").format(layer=layer, d=d),
                               B, n * d, layer_in.shape[-1])
            xi = F.pad(layer_in, (0, 0, 0, n * d - T))  # (B, n*d, I)
            xi = xi.reshape(B, n, d, -1).transpose(1, 2).reshape(B * d, n, -1)  # (B*d, n, I)
            state = [s[layer].repeat_interleave(d, dim=0)[None] for s in ((h0, c0) if lstm else (h0,))]
            weights = [w for w in core.layer_weights(layer) if w is not None]
            out, finals = self._run_chains(xi, state, weights, lengths, d, n)  # (B*d, n, H)
            out = out.reshape(B, d, n, -1).transpose(1, 2).reshape(B, n * d, -1)[:, :T]  # (B, T, H)
            if lengths is not None:
                mask = torch.arange(T)[None, :] < lengths[:, None]  # (B, T)
                out = out * mask[..., None].to(out.dtype)
            chain = (last % d).to(x.device)  # (B,) the chain holding the last real step
            rows = torch.arange(B, device=x.device) * d + chain
            h_n.append(finals[0][0, rows])  # (B, H)
            if lstm:
                c_n.append(finals[1][0, rows])
            if layer < core.num_layers - 1 and core.dropout > 0 and core.training:
                layer_in = F.dropout(out, core.dropout, training=True)
            else:
                layer_in = out
        h_stack = torch.stack(h_n)  # (L, B, H)
        return layer_in, ((h_stack, torch.stack(c_n)) if lstm else h_stack)

    def _run_chains(
        self, xi: Tensor, state: list[Tensor], weights: list[Tensor], lengths: Tensor | None, d: int, n: int
    ) -> tuple[Tensor, list[Tensor]]:
        """One fused torch call over the chains; with lengths, packed (chain j of sequence b
        has ceil((L_b - j) / d) real steps, at least 1: outputs past L_b are masked later)."""
        core: Any = self
        cell = core.cell_type
        fn = _FUSED.get(cell) or (torch.rnn_tanh if core.nonlinearity == "tanh" else torch.rnn_relu)
        hx = tuple(state) if cell == "lstm" else state[0]
        args = (core.bias, 1, 0.0, core.training, False)
        if lengths is None:
            res = fn(xi, hx, weights, *args, True)
            return res[0], list(res[1:])
        j = torch.arange(d)
        chain_len = ((lengths[:, None] - j[None, :] + d - 1) // d).clamp(1, n).reshape(-1)  # (B*d,)
        packed = pack_padded_sequence(xi, chain_len, batch_first=True, enforce_sorted=False)
        order, undo = packed.sorted_indices, packed.unsorted_indices
        hx = (
            tuple(s.index_select(1, order) for s in state)
            if cell == "lstm"
            else state[0].index_select(1, order)
        )
        res = fn(packed.data, packed.batch_sizes, hx, weights, *args)
        out = PackedSequence(res[0], packed.batch_sizes, order, undo)
        padded, _lengths = pad_packed_sequence(out, batch_first=True, total_length=n)  # (B*d, n, H)
        return padded, [s.index_select(1, undo) for s in res[1:]]

    def _lookback(self, layer: int) -> int:
        """Layer ``layer``'s step ``t`` continues the state of step ``t - d_l`` (used by the
        explicit loop of ``models._Core`` and by ``rnnviz.trace``)."""
        return self.dilations[layer]


class DilatedElman(Dilated, Elman):
    """An :class:`rnnviz.Elman` with dilations (build it with :func:`dilate`)."""

    def __init__(self, *args: Any, dilations: Sequence[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.dilations = _check_steps("dilations", dilations, self.num_layers)


class DilatedLSTM(Dilated, LSTM):
    """An :class:`rnnviz.LSTM` with dilations (build it with :func:`dilate`)."""

    def __init__(self, *args: Any, dilations: Sequence[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.dilations = _check_steps("dilations", dilations, self.num_layers)


class DilatedGRU(Dilated, GRU):
    """An :class:`rnnviz.GRU` with dilations (build it with :func:`dilate`)."""

    def __init__(self, *args: Any, dilations: Sequence[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.dilations = _check_steps("dilations", dilations, self.num_layers)


_CLASSES = {"elman": DilatedElman, "lstm": DilatedLSTM, "gru": DilatedGRU}


def _dilated_core(core: Any, dilations: tuple[int, ...]) -> Dilated:
    if core.bidirectional:
        raise ValueError(_("model must be unidirectional to be dilated, got bidirectional=True"))
    dilations = _check_steps("dilations", dilations, core.num_layers)
    w = core.weight_ih_l0
    new = _CLASSES[core.cell_type](**core._config(), dilations=dilations, device=w.device, dtype=w.dtype)
    new.load_state_dict(core.state_dict())
    new.train(core.training)
    return new


def dilate(model: Any, dilations: Sequence[int]) -> Any:
    """A copy of ``model`` whose recurrent layer ``l`` skips ``dilations[l]`` steps.

    Args:
        model: an rnnviz core (``Elman``, ``LSTM``, ``GRU``; unidirectional) or a sequence
            model with such a ``.core`` (e.g. :class:`rnnviz.SequenceModel`). It is not changed.
        dilations: one positive int per layer, e.g. ``(1, 2, 4, 8)`` for four layers.

    Returns:
        For a core: a :class:`Dilated` core with a copy of its weights. For a sequence model:
        a deep copy whose ``.core`` is that dilated core (same weights everywhere, so a plain
        and a dilated model can start from identical numbers).

    Raises:
        TypeError: ``model`` is neither; ``dilations`` is not a sequence of ints.
        ValueError: a dilation < 1, not one per layer, or a bidirectional core.

    Example:
        >>> import rnnviz
        >>> task = rnnviz.tasks.DelayedRecall(lag=30, seed=0)  # doctest: +SKIP
        >>> plain = rnnviz.SequenceModel.from_task(task, cell="elman", num_layers=4)  # doctest: +SKIP
        >>> dilated = rnnviz.dilate(plain, (1, 2, 4, 8))  # doctest: +SKIP
    """
    if is_core(model):
        return _dilated_core(model, dilations)
    if is_core(getattr(model, "core", None)):
        new_core = _dilated_core(model.core, dilations)
        clone = copy.deepcopy(model)
        clone.core = new_core
        return clone
    raise TypeError(_(
        "model must be an rnnviz Elman / LSTM / GRU or a sequence model with such a .core, "
        "got {type}"
    ).format(type=type(model).__name__))


# ---------------------------------------------------------------------------------------------
# paths in the unrolled graph


@dataclass(frozen=True)
class Paths:
    """Shortest paths from each input step to the output, in a stack with dilations and strides.

    The graph: layer ``l`` has a node at every step it runs (``t = k * S_l - 1`` for
    ``S_l`` = product of the strides up to ``l``); edges go up (layer ``l-1`` -> ``l`` at the
    same ``t``) and along (``t -> t + d_l * S_l``, one *recurrent step*). The output is the
    top layer's last node.

    Attributes:
        dilations, strides: per layer.
        seq_len: T.
        length: ``length[t]`` = fewest recurrent steps from ``x_t`` to the output, ``None``
            when ``x_t`` cannot reach it.
        receptive_field: how many input steps reach the output.
        updates: cell updates per layer (how many steps each layer runs).
        nodes: ``nodes[l]`` = the steps at which layer ``l`` runs.
        next_hop: ``{(l, t): (l', t')}`` the first edge of a shortest path from node ``(l, t)``.
    """

    dilations: tuple[int, ...]
    strides: tuple[int, ...]
    seq_len: int
    length: list[int | None]
    receptive_field: int
    updates: list[int]
    nodes: list[list[int]]
    next_hop: dict[tuple[int, int], tuple[int, int]]
    output: tuple[int, int]

    def path(self, t: int) -> list[tuple[int, int]]:
        """The nodes ``(layer, step)`` of a shortest path from ``x_t`` to the output (``[]`` if none)."""
        if isinstance(t, bool) or not isinstance(t, int) or not 0 <= t < self.seq_len:
            raise ValueError(_("t must be an int in [0, {n}), got {value!r}").format(
                n=self.seq_len, value=t))
        if self.length[t] is None:
            return []
        node, out = (0, t), [(0, t)]
        while node != self.output:
            node = self.next_hop[node]
            out.append(node)
        return out


def path_lengths(dilations: Sequence[int], seq_len: int, *, strides: Sequence[int] | None = None) -> Paths:
    """Count the recurrent steps between every input ``x_t`` and the output at the last step.

    Computed on the unrolled graph by dynamic programming from the output backwards, so it
    holds for any dilations and strides. For a plain RNN (dilations all 1) the answer for
    ``x_t`` is ``T - 1 - t``; for dilations ``1, 2, 4, ..., 2^(L-1)`` it is the distance's
    number of top-layer skips plus the binary digits of the remainder.

    Args:
        dilations: one positive int per layer.
        seq_len: T (>= 1).
        strides: one positive int per layer (default all 1): layer ``l`` reads every
            ``strides[l]``-th step of the layer below.

    Returns:
        A :class:`Paths`.

    Example:
        >>> p = path_lengths((1, 1, 1), 8)
        >>> p.length
        [7, 6, 5, 4, 3, 2, 1, 0]
        >>> path_lengths((1, 2), 8).length[0], path_lengths((1,), 8, strides=(2,)).receptive_field
        (4, 4)
    """
    dil = _check_steps("dilations", dilations)
    T = _validate.steps("seq_len", seq_len)
    st = (1,) * len(dil) if strides is None else _check_steps("strides", strides, len(dil))
    L = len(dil)
    period = [math.prod(st[: k + 1]) for k in range(L)]
    nodes = [[t for t in range(period[k] - 1, T, period[k])] for k in range(L)]
    if not nodes[-1]:
        raise ValueError(_(
            "seq_len = {T} is shorter than the top layer's total stride {stride}: the top "
            "layer never runs"
        ).format(T=T, stride=period[-1]))
    output = (L - 1, nodes[-1][-1])
    sets = [set(n) for n in nodes]
    inf = math.inf
    dist: dict[tuple[int, int], float] = {output: 0}
    hop: dict[tuple[int, int], tuple[int, int]] = {}
    for t in range(T - 1, -1, -1):
        for k in range(L - 1, -1, -1):
            if t not in sets[k] or (k, t) == output:
                continue
            best, nxt = inf, None
            up = (k + 1, t)
            if k + 1 < L and t in sets[k + 1] and dist.get(up, inf) < best:
                best, nxt = dist[up], up
            along = (k, t + dil[k] * period[k])
            if along[1] in sets[k] and dist.get(along, inf) + 1 < best:
                best, nxt = dist[along] + 1, along
            if nxt is not None:
                dist[(k, t)], hop[(k, t)] = best, nxt
    length: list[int | None] = [int(dist[(0, t)]) if (0, t) in dist else None for t in range(T)]
    return Paths(
        dilations=dil,
        strides=st,
        seq_len=T,
        length=length,
        receptive_field=sum(v is not None for v in length),
        updates=[len(n) for n in nodes],
        nodes=nodes,
        next_hop=hop,
        output=output,
    )
