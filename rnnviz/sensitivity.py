r"""Connectivity (Madsen 2019, "Visualizing memorization in RNNs", Distill): how strongly
each input step moves each hidden state, as the norms of the exact Jacobians.

.. math::
    C_{b,t,s} = \left\lVert \frac{\partial h^{(l)}_t}{\partial x_s} \right\rVert_F
    \qquad (H \times I \text{ Jacobian of sample } b)

``h^{(l)}_t`` is what step ``t`` of layer ``l`` (one direction) computes, ``x_s`` the core's
input at step ``s`` (for a sequence model: the encoded input, one-hot or embedding rows). In
a forward-direction layer of a one-directional model ``C_{t,s} = 0`` for ``s > t``.

How it is computed: forward-mode differentiation written out by hand. One forward pass keeps
every state and gate (``rnnviz._bptt.run_layer``); then tangents, one per input step ``s``
and input direction, go forward through the linearised cell equations of every layer, all of
them at once as one array. Only the directions that can matter are carried: ``s <= t`` in a
forward layer (``s >= t`` in a reverse one), and at most ``min(I, D * G)`` input directions
(an orthonormal basis of the rows of the first layer's ``W_ih``: the Frobenius norm does not
see the directions ``W_ih`` ignores). That is one pass over the steps instead of ``T`` (or
``T * H``) autograd passes; ``benchmarks/bench_connectivity.py`` measures the ratio, and
``tests/test_connectivity.py`` checks the numbers against ``torch.autograd.functional.jacobian``.

(The module is ``rnnviz.sensitivity`` so that ``rnnviz.connectivity`` stays the function.)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from rnnviz._bptt import LayerRun, forward_core, to_torch
from rnnviz.i18n import _, ngettext
from rnnviz.models import State, _Core
from rnnviz.tracing import _eval_mode, _prepare, _resolve

__all__ = ["connectivity"]

_CHUNK_BYTES = 64 * 2**20  # tangents of one chunk of input steps stay below this


def _check_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(_("{name} must be an int, got {value!r} ({type})").format(
            name=name, value=value, type=type(value).__name__))
    return int(value)


def connectivity(
    model: Any,
    x: Tensor,
    *,
    lengths: Any = None,
    h0: State | None = None,
    layer: int = -1,
    direction: int = 0,
) -> Tensor:
    r"""Norms of the Jacobians of every hidden state w.r.t. every input step.

    .. math::
        C_{b,t,s} = \lVert \partial h^{(l)}_t / \partial x_s \rVert_F

    Exact (no sampling, no finite differences), in eval mode (no dropout); the model and its
    gradients are not touched.

    Args:
        model: an rnnviz core (``Elman``, ``LSTM``, ``GRU``, dilated ones too) or a sequence
            model (``SequenceModel``); its input ``x_s`` is then the encoded input.
        x: as ``rnnviz.trace``: ``(B, T, I)`` floats for a batch-first core (``(T, B, I)``
            otherwise), or the task input a sequence model encodes (e.g. ``(B, T)`` ids).
        lengths: ``(B,)`` real lengths, or ``None``.
        h0: initial state ``(L*D, B, H)`` (LSTM: pair ``(h_0, c_0)``), zeros if ``None``.
        layer: which layer's ``h_t`` (negative counts from the top; default the top one).
        direction: 0 forward, 1 reverse (bidirectional models).

    Shapes:
        returns ``(B, T, T)``: ``[b, t, s]`` = output step ``t``, input step ``s``.

    Returns:
        A float tensor on the CPU in the model's dtype. Zero where ``t`` or ``s`` is a padded
        step (``>= lengths[b]``), and where ``x_s`` cannot reach ``h_t`` (``s > t`` in a
        forward layer of a one-directional model).

    Example:
        >>> from rnnviz.models import LSTM
        >>> lstm = LSTM(3, 8, batch_first=True, seed=0)
        >>> C = connectivity(lstm, torch.randn(2, 5, 3))
        >>> C.shape, bool((C[:, 0, 1:] == 0).all())
        (torch.Size([2, 5, 5]), True)
    """
    core, seq = _resolve(model)
    L, D = core.num_layers, core.num_directions
    layer = _check_int("layer", layer)
    if not -L <= layer < L:
        raise ValueError(ngettext(
            "layer must be in [{low}, {n}) because the model has {n} layer(s), got {value}",
            "layer must be in [{low}, {n}) because the model has {n} layer(s), got {value}", L
        ).format(low=-L, n=L, value=layer))
    layer %= L
    direction = _check_int("direction", direction)
    if direction not in range(D):
        raise ValueError(ngettext(
            "direction must be in [0, {n}) because the model has {n} direction(s), got {value}",
            "direction must be in [0, {n}) because the model has {n} direction(s), got {value}", D
        ).format(n=D, value=direction))
    with _eval_mode(model), torch.no_grad():
        enc, lengths, h0, _prepared = _prepare(core, seq, x, lengths, h0)
        enc = enc.detach()  # (B, T, I)
        if type(core)._explicit is _Core._explicit:
            with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
                runs, _h_n = forward_core(core, enc.cpu(), h0, lengths)
                C = to_torch(_by_tangents(core, runs, enc.shape[-1], layer, direction))
        else:  # a core with its own recurrence: autograd through its explicit loop
            C = _by_autograd(core, enc, h0, lengths, layer, direction)
    if lengths is not None:
        T = C.shape[1]
        real = torch.arange(T)[None, :] < lengths[:, None]  # (B, T)
        C = C * (real[:, :, None] & real[:, None, :])  # (B, T, T)
    return C.to(core.weight_ih_l0.dtype).cpu()


# ---------------------------------------------------------------------------------------------
# forward-mode tangents through the linearised cells


def _input_basis(core: Any, I: int) -> np.ndarray:
    """``(I, k)`` orthonormal basis of the first layer's input directions that matter."""
    w = np.concatenate([core.layer_weights(0, d)[0].detach().cpu().numpy()
                        for d in range(core.num_directions)])  # (D*G, I)
    if I <= w.shape[0]:
        return np.eye(I, dtype=w.dtype)
    q, _r = np.linalg.qr(w.T.astype(np.float64))  # (I, D*G)
    return q.astype(w.dtype)


def _by_tangents(core: Any, runs: list[LayerRun], I: int, layer: int, direction: int) -> np.ndarray:
    """``(B, T, T)`` connectivity from the recorded runs, input steps in memory-sized chunks."""
    D, H = core.num_directions, core.hidden_size
    B, T, _width = runs[0].hidden.shape
    dtype = runs[0].hidden.dtype
    basis = _input_basis(core, I)  # (I, k)
    k = basis.shape[1]
    inject = [runs[d].w_ih @ basis for d in range(D)]  # each (G, k): x_s -> pre-activation
    # bytes per input step: the tangents of the outputs of the layers below (kept for all T
    # steps, twice: per direction and concatenated) and a few (B, k, G) temporaries
    kept = 2 * T * H * D if layer > 0 else 0
    per_step = B * k * dtype.itemsize * (kept + 6 * runs[0].w_hh.shape[0])
    n_s = int(np.clip(_CHUNK_BYTES // max(per_step, 1), 1, T))
    C = np.zeros((B, T, T), dtype)
    for s0 in range(0, T, n_s):
        s1 = min(T, s0 + n_s)
        below: list[np.ndarray] | None = None  # (B, n, k, D*H) tangents of the layer input
        for lay in range(layer + 1):
            outs = []
            for d in range(D):
                if lay == layer and d != direction:
                    continue
                dense = lay > 0 and D == 2  # a bidirectional layer below reaches every step
                out = _propagate(runs[lay * D + d], s0, s1, k, inject[d] if lay == 0
                                 else None, below, dense,
                                 norms=C[:, :, s0:s1] if lay == layer else None)
                outs.append(out)
            if lay < layer:
                below = [np.concatenate([o[t] for o in outs], axis=-1) if D == 2 else outs[0][t]
                         for t in range(T)]
    return C


def _propagate(run: LayerRun, s0: int, s1: int, k: int, inject: np.ndarray | None,
               below: list[np.ndarray] | None, dense: bool, *, norms: np.ndarray | None
               ) -> list[np.ndarray] | None:
    """Tangents of one layer and direction for input steps ``s0 <= s < s1``.

    With ``norms`` (a ``(B, T, n)`` view of the result), writes ``||dh_t / dx_s||_F`` over
    (input direction, unit) into it and returns ``None``; otherwise returns the tangents of
    the (masked) output per step ``t``, each ``(B, n, k, H)`` with ``n = s1 - s0``.
    """
    B, T, H = run.hidden.shape
    n = s1 - s0
    dtype = run.hidden.dtype
    kind, reverse, back = run.cell_type, run.reverse, run.lookback
    w_hh_t = run.w_hh.T  # (H, G)
    w_ih_t = run.w_ih.T  # (I_l, G)
    zero = np.zeros((B, n, k, H), dtype)
    after_h: dict[int, np.ndarray] = {}  # step -> tangent of the state after it (kept while needed)
    after_c: dict[int, np.ndarray] = {}
    out: list[np.ndarray] | None = [zero] * T if norms is None else None
    for t in range(T - 1, -1, -1) if reverse else range(T):
        # 1. which input steps can reach this step: s <= t forward, s >= t reverse
        if dense:
            lo, hi = 0, n
        elif reverse:
            lo, hi = max(t, s0) - s0, n
        else:
            lo, hi = 0, min(t + 1, s1) - s0
        p = t + back if reverse else t - back
        dh = after_h.pop(p, zero) if 0 <= p < T else zero  # (B, n, k, H) entering step t
        dc = (after_c.pop(p, zero) if 0 <= p < T else zero) if kind == "lstm" else None
        if hi <= lo:
            new_h, new_c = zero, (zero if kind == "lstm" else None)
        else:
            sl = slice(lo, hi)
            # 2. tangents of the pre-activation (B, m, k, G): recurrent half dh W_hh^T and
            #    input half (layer 0: only x_t enters step t; above: the layer below's)
            h_t = dh[:, sl]
            rec = h_t @ w_hh_t  # (B, m, k, G)
            if inject is not None:
                u = _Inject(inject.T, t - s0 - lo if s0 <= t < s1 and lo <= t - s0 < hi
                            else None)
            else:
                u = below[t][:, sl] @ w_ih_t  # (B, m, k, G)
            new_h = np.zeros_like(zero)
            new_c = np.zeros_like(zero) if kind == "lstm" else None
            new_h[:, sl], c_sl = _cell_tangent(run, t, u, rec, h_t, None if dc is None else
                                               dc[:, sl])
            if kind == "lstm":
                new_c[:, sl] = c_sl
        if norms is not None and hi > lo:
            norms[:, t, lo:hi] = np.sqrt(np.einsum("bnkh,bnkh->bn", new_h[:, lo:hi],
                                                   new_h[:, lo:hi]))
        # 3. padded steps keep the state and give a zero output
        if run.mask is not None:
            m = run.mask[:, t, :, None, None]  # (B, 1, 1, 1)
            if out is not None:
                out[t] = new_h * m
            after_h[t] = new_h * m + dh * (1.0 - m)
            if kind == "lstm":
                after_c[t] = new_c * m + dc * (1.0 - m)
        else:
            if out is not None:
                out[t] = new_h
            after_h[t] = new_h
            if kind == "lstm":
                after_c[t] = new_c
    return out


class _Inject:
    """The input half of layer 0's pre-activation tangent: ``rows`` (k, G) at one input
    step of the slice (``at``), zero elsewhere; added in place instead of built in full."""

    def __init__(self, rows: np.ndarray, at: int | None) -> None:
        self.rows, self.at = rows, at

    def add_to(self, a: np.ndarray, cols: slice = slice(None)) -> np.ndarray:
        if self.at is not None:
            a[:, self.at] += self.rows[:, cols]
        return a


def _add(a: np.ndarray, u: np.ndarray | _Inject, cols: slice = slice(None)) -> np.ndarray:
    """``a += u[..., cols]`` in place (``a`` is a fresh array) and return it."""
    if isinstance(u, _Inject):
        return u.add_to(a, cols)
    a += u[..., cols]
    return a


def _cell_tangent(run: LayerRun, t: int, u: np.ndarray | _Inject, rec: np.ndarray,
                  dh: np.ndarray, dc: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
    """One step of the linearised cell: ``u`` input-side and ``rec = dh W_hh^T`` recurrent-side
    tangents of the pre-activation ``(B, m, k, G)`` (``rec`` is overwritten); returns the
    tangents of ``h_t`` (and ``c_t``), ``(B, m, k, H)``."""
    H = run.hidden.shape[-1]
    ex = (slice(None), None, None)  # (B, .) -> (B, 1, 1, .)
    if run.cell_type == "elman":
        a = run.act[:, t]  # (B, H)
        slope = 1.0 - run.hidden[:, t] ** 2 if run.nonlinearity == "tanh" else \
            (a > 0).astype(rec.dtype)
        da = _add(rec, u)
        da *= slope[ex]
        return da, None
    if run.cell_type == "lstm":
        act = run.act[:, t]  # (B, 4H) [i f g o]
        i, f, g, o = (act[:, j * H : (j + 1) * H] for j in range(4))
        c_prev, tc = run.c_prev[:, t], np.tanh(run.cell[:, t])  # (B, H)
        # each gate's slope times what multiplies it: dc = di g + i dg + df c_prev + f dc_prev
        coef = np.concatenate([i * (1 - i) * g, f * (1 - f) * c_prev, (1 - g * g) * i,
                               o * (1 - o) * tc], axis=-1)  # (B, 4H)
        da = _add(rec, u)
        da *= coef[ex]  # (B, m, k, 4H)
        dc_new = da[..., :H] + da[..., H : 2 * H]
        dc_new += da[..., 2 * H : 3 * H]
        dc_new += f[ex] * dc
        dh_new = (o * (1 - tc * tc))[ex] * dc_new
        dh_new += da[..., 3 * H :]
        return dh_new, dc_new
    act = run.act[:, t]  # (B, 3H) [r z n]
    r, z, n = (act[:, j * H : (j + 1) * H] for j in range(3))
    rz = _add(rec[..., : 2 * H].copy(), u, slice(0, 2 * H))  # (B, m, k, 2H)
    rz *= np.concatenate([r * (1 - r), z * (1 - z)], axis=-1)[ex]
    dr, dz = rz[..., :H], rz[..., H:]
    dn = rec[..., 2 * H :]
    dn *= r[ex]
    dn += dr * run.hh_n[:, t][ex]
    dn = _add(dn, u, slice(2 * H, 3 * H))
    dn *= ((1 - n * n) * (1 - z))[ex]  # through tanh, then h = (1 - z) n + ...
    dn += dz * (run.h_prev[:, t] - n)[ex]
    dn += z[ex] * dh
    return dn, None


# ---------------------------------------------------------------------------------------------
# reference path for cores with their own recurrence


def _by_autograd(core: Any, enc: Tensor, h0: Any, lengths: Tensor | None, layer: int,
                 direction: int) -> Tensor:
    """``torch.autograd.functional.jacobian`` through the core's explicit loop (slow)."""
    k = layer * core.num_directions + direction

    def hidden(e: Tensor) -> Tensor:
        _out, _h_n, rec = core._explicit(e, h0, lengths, record=True, training=False)
        return torch.stack(rec.hidden[k], dim=1)  # (B, T, H)

    with torch.enable_grad():
        J = torch.autograd.functional.jacobian(hidden, enc)  # (B, T, H, B, T, I)
    B = enc.shape[0]
    J = J[torch.arange(B), :, :, torch.arange(B)]  # (B, T, H, T, I) within each sample
    return J.pow(2).sum(dim=(2, 4)).sqrt()  # (B, T, T)
