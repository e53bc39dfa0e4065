r"""Backpropagation through time written out by hand: the fast engine behind ``rnnviz.trace``.

The forward pass runs the cell equations step by step and keeps every state and gate; the
backward pass walks the same steps in reverse and applies the chain rule to each equation,
so it yields the *total* adjoints ``dL/dh_t`` and ``dL/dc_t`` (direct gradient from above
plus everything flowing back through the recurrence) with no autograd graph. In numpy that is
three to five times faster than autograd over ~10 recorded operations per step, which matters
for a dashboard that traces while it trains. ``tests/test_trace.py`` checks it against autograd.

For one layer and direction, with ``m_t`` the real-step mask (1 on real steps, 0 on padding)
and ``g_t = dL/dout_t`` the gradient arriving from above (the readout or the next layer):

.. math::
    \bar h_t = m_t (g_t + \bar s_t), \qquad
    \bar s_{t-1} = (1 - m_t)\, \bar s_t + (\partial h_t / \partial h_{t-1})^\top \bar h_t

where ``\bar s_t`` is the gradient w.r.t. the state carried out of step ``t`` (LSTM: the
same for ``c``). The cell-specific parts (``sigma' = sigma (1 - sigma)``,
``tanh' = 1 - tanh^2``):

- Elman: ``a_t = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh``, ``\bar a = \bar h\, phi'(a)``.
- LSTM: ``\bar c_t = m_t \bar s^c_t + \bar h_t o_t tanh'(c_t)``; ``\bar o = \bar h tanh(c)``,
  ``\bar i = \bar c g``, ``\bar f = \bar c c_{t-1}``, ``\bar g = \bar c i``.
- GRU: ``h_t = (1 - z) n + z h_{t-1}``; ``\bar n = \bar h (1 - z)``,
  ``\bar z = \bar h (h_{t-1} - n)``, ``\bar a_n = \bar n tanh'(n)``, ``\bar r = \bar a_n
  (W_hn h_{t-1} + b_hn)``.

Then ``\bar h_{t-1} \mathrel{+}= \bar a^{hh} W_hh`` and the input gradient of the whole
layer is one product ``\bar A W_ih`` over all steps.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import Tensor

from rnnviz import _validate
from rnnviz._types import GATE_NAMES

__all__ = ["LayerRun", "run_layer", "backward_layer", "backward_layer_state", "forward_core",
           "backward_core", "record", "by_hand", "head"]

# The loops below do a dozen tiny operations per step on (B, H) arrays. numpy does each in
# about a microsecond, torch in several; that is where the speed comes from.


@dataclass
class LayerRun:
    """What one layer and direction computed; per-step arrays are ``(B, T, .)`` by real ``t``."""

    cell_type: str
    w_ih: np.ndarray  # (G, I)
    w_hh: np.ndarray  # (G, H)
    nonlinearity: str
    mask: np.ndarray | None  # (B, T, 1) 1.0 on real steps, or None
    reverse: bool
    lookback: int  # step t continues step t - lookback (t + lookback in reverse)
    h_prev: np.ndarray = field(default_factory=lambda: np.zeros(0))  # state entering step t
    c_prev: np.ndarray | None = None  # LSTM
    hidden: np.ndarray = field(default_factory=lambda: np.zeros(0))  # h_t computed at step t
    cell: np.ndarray | None = None  # c_t (LSTM)
    act: np.ndarray = field(default_factory=lambda: np.zeros(0))  # Elman a; LSTM ifgo; GRU rzn
    hh_n: np.ndarray | None = None  # GRU: W_hn h_{t-1} + b_hn
    output: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (B, T, H), 0 on padding


def _order(T: int, reverse: bool) -> range:
    return range(T - 1, -1, -1) if reverse else range(T)


def _np(value: Tensor | None) -> np.ndarray | None:
    return None if value is None else value.detach().cpu().numpy()


def run_layer(
    cell_type: str,
    x: np.ndarray,
    weights: tuple[Tensor | None, ...],
    h0: Tensor,
    c0: Tensor | None,
    mask: np.ndarray | None,
    *,
    reverse: bool = False,
    nonlinearity: str = "tanh",
    lookback: int = 1,
) -> LayerRun:
    """Forward pass of one layer and direction, keeping every step.

    Args:
        cell_type: ``"elman"``, ``"lstm"`` or ``"gru"``.
        x: ``(B, T, I)`` input of the layer. weights: ``(w_ih, w_hh, b_ih, b_hh)`` tensors.
        h0, c0: ``(B, H)`` initial state (``c0`` LSTM only). mask: ``(B, T, 1)`` real steps.
        reverse: run from ``t = T - 1`` down to 0.
        lookback: step ``t`` continues the state of step ``t - lookback`` (``t + lookback``
            in reverse); 1 for a plain RNN, ``d`` for a dilated layer (``rnnviz.dilation``).

    Returns:
        A :class:`LayerRun`.
    """
    w_ih, w_hh, b_ih, b_hh = (_np(w) for w in weights)
    B, T, _ = x.shape
    H = w_hh.shape[1]
    dtype = x.dtype
    zero = np.zeros(w_hh.shape[0], dtype)
    b_ih = zero if b_ih is None else b_ih
    b_hh = zero if b_hh is None else b_hh
    run = LayerRun(cell_type, w_ih, w_hh, nonlinearity, mask, reverse, lookback)
    # 1. the input half of every pre-activation at once (one product for all steps);
    #    the recurrent bias joins it, except GRU's b_hn, which r multiplies
    a_in = x @ w_ih.T + b_ih  # (B, T, G)
    if cell_type != "gru":
        a_in = a_in + b_hh
    whh_t = w_hh.T  # (H, G)
    h_init = _np(h0).astype(dtype, copy=True)  # (B, H)
    c_init = _np(c0).astype(dtype, copy=True) if cell_type == "lstm" else None
    sig = np.ones(4 * H, dtype)  # LSTM: sigmoid(a) = (1 + tanh(a / 2)) / 2 on i, f, o
    sig[2 * H : 3 * H] = 0.0  # ... and plain tanh on g
    scale, shift = 1.0 - sig / 2, sig / 2  # act = tanh(a * scale) * scale + shift
    hs, cs, prev_h, prev_c, acts, hhn, outs, after_h, after_c = ([None] * T for _ in range(9))
    for t in _order(T, reverse):
        # 2. one step of the cell equations, from the state of step t -/+ lookback
        p = t + lookback if reverse else t - lookback
        h = after_h[p] if 0 <= p < T else h_init
        c = (after_c[p] if 0 <= p < T else c_init) if cell_type == "lstm" else None
        prev_h[t] = h
        if cell_type == "elman":
            a = a_in[:, t] + h @ whh_t  # (B, H)
            h_new = np.tanh(a) if nonlinearity == "tanh" else np.maximum(a, 0.0)
            acts[t] = a
        elif cell_type == "lstm":
            prev_c[t] = c
            act = np.tanh((a_in[:, t] + h @ whh_t) * scale) * scale + shift  # (B, 4H) [i f g o]
            i, f, g, o = act[:, :H], act[:, H : 2 * H], act[:, 2 * H : 3 * H], act[:, 3 * H :]
            c_new = f * c + i * g  # (B, H)
            h_new = o * np.tanh(c_new)  # (B, H)
            acts[t], cs[t] = act, c_new
        else:
            a_hh = h @ whh_t + b_hh  # (B, 3H)
            rz = 0.5 + 0.5 * np.tanh(0.5 * (a_in[:, t, : 2 * H] + a_hh[:, : 2 * H]))  # [r z]
            r, z = rz[:, :H], rz[:, H:]
            n = np.tanh(a_in[:, t, 2 * H :] + r * a_hh[:, 2 * H :])  # (B, H)
            h_new = n + z * (h - n)  # (1 - z) n + z h
            acts[t], hhn[t] = np.concatenate([rz, n], axis=-1), a_hh[:, 2 * H :]
        hs[t] = h_new
        # 3. padded steps keep the state and output zero
        if mask is None:
            outs[t] = after_h[t] = h_new
            if cell_type == "lstm":
                after_c[t] = c_new
        else:
            m = mask[:, t]  # (B, 1)
            outs[t] = h_new * m
            after_h[t] = np.where(m > 0, h_new, h)
            if cell_type == "lstm":
                after_c[t] = np.where(m > 0, c_new, c)
    # 4. every step as one (B, T, .) array
    stack = lambda values: np.stack(values, axis=1)  # noqa: E731
    run.h_prev, run.hidden, run.act, run.output = stack(prev_h), stack(hs), stack(acts), stack(outs)
    if cell_type == "lstm":
        run.c_prev, run.cell = stack(prev_c), stack(cs)
    if cell_type == "gru":
        run.hh_n = stack(hhn)
    return run


def backward_layer(
    run: LayerRun, grad_out: np.ndarray
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """BPTT through one layer and direction.

    Args:
        run: the forward record. grad_out: ``(B, T, H)`` dL/d(output) from above.

    Returns:
        ``(grad_hidden (B, T, H), grad_cell (B, T, H) or None, grad_input (B, T, I))``: the
        total adjoints of every computed ``h_t`` (and ``c_t``) and the layer input's gradient.
    """
    return backward_layer_state(run, grad_out)[:3]


def backward_layer_state(
    run: LayerRun,
    grad_out: np.ndarray,
    grad_final: tuple[np.ndarray, np.ndarray | None] | None = None,
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray, np.ndarray, np.ndarray | None]:
    r""":func:`backward_layer` with the final state as an output and the initial state as an input.

    .. math::
        \bar s_{\text{last}} = \partial L / \partial h_n, \qquad
        \partial L / \partial h_0 = \textstyle\sum_{t:\ t - \text{lookback} < 0} \bar s_{t-1}

    An encoder's final state ``h_n`` feeds a decoder, so the gradient enters the encoder at
    its last step (and padded steps carry it back to each sequence's last real step); a
    decoder starts from a given state, so the gradient w.r.t. that initial state is an output.

    Args:
        run: the forward record. grad_out: ``(B, T, H)`` dL/d(output) from above.
        grad_final: ``(dL/dh_n (B, H), dL/dc_n (B, H) or None)``, the gradient w.r.t. the state
            carried out of the last step (``t = T - 1``; ``t = 0`` in reverse), or ``None``.
            Only for ``lookback == 1`` (a dilated layer has several final chains).

    Returns:
        ``(grad_hidden, grad_cell, grad_input, grad_h0 (B, H), grad_c0 (B, H) or None)``.
    """
    B, T, H = grad_out.shape
    kind = run.cell_type
    # 1. every local derivative that does not depend on the recurrence, for all steps at once
    if kind == "elman":
        k_a = 1.0 - run.hidden**2 if run.nonlinearity == "tanh" else (run.act > 0).astype(
            grad_out.dtype)  # (B, T, H)
    elif kind == "lstm":
        i, f, g, o = (run.act[..., j * H : (j + 1) * H] for j in range(4))
        tc = np.tanh(run.cell)  # (B, T, H)
        k_c = o * (1.0 - tc * tc)  # dh/dc through h = o tanh(c)
        k_gates = np.concatenate([g * i * (1.0 - i), run.c_prev * f * (1.0 - f),
                                  i * (1.0 - g * g), tc * o * (1.0 - o)], axis=-1)  # (B, T, 4H)
    else:
        r, z, n = (run.act[..., j * H : (j + 1) * H] for j in range(3))
        k_n = (1.0 - z) * (1.0 - n * n)  # dh/d(pre-activation of n)
        k_r = run.hh_n * r * (1.0 - r)
        k_z = (run.h_prev - n) * z * (1.0 - z)
    mask = run.mask
    keep = None if mask is None else 1.0 - mask  # (B, T, 1)
    carry_h = np.zeros((B, T, H), grad_out.dtype)  # dL/d(state after step t), filled by later steps
    carry_c = np.zeros((B, T, H), grad_out.dtype)
    grad_h0 = np.zeros((B, H), grad_out.dtype)  # dL/d(initial state), from the first step(s)
    grad_c0 = np.zeros((B, H), grad_out.dtype)
    if grad_final is not None:
        if run.lookback != 1:
            raise ValueError(f"grad_final needs lookback 1, got {run.lookback}")  # i18n-ignore: internal
        last = 0 if run.reverse else T - 1
        carry_h[:, last] += grad_final[0]
        if kind == "lstm" and grad_final[1] is not None:
            carry_c[:, last] += grad_final[1]
    gh_all, gc_all, da_all = ([None] * T for _ in range(3))
    for t in _order(T, not run.reverse):
        # 2. gradient w.r.t. the computed h_t (and c_t); padded steps pass the state through
        s_h, s_c = carry_h[:, t], carry_c[:, t]  # (B, H)
        gh = grad_out[:, t] + s_h  # (B, H)
        if mask is not None:
            gh = gh * mask[:, t]
        gh_all[t] = gh
        # 3. through the cell equations
        if kind == "elman":
            da = da_hh = gh * k_a[:, t]  # (B, H)
            direct = None
        elif kind == "lstm":
            gc = gh * k_c[:, t] + (s_c if mask is None else s_c * mask[:, t])  # (B, H)
            gc_all[t] = gc
            da = da_hh = np.concatenate([gc, gc, gc, gh], axis=-1) * k_gates[:, t]  # (B, 4H)
            s_c = gc * f[:, t] if keep is None else gc * f[:, t] + s_c * keep[:, t]
            direct = None
        else:
            dan = gh * k_n[:, t]  # (B, H)
            dar, daz = dan * k_r[:, t], gh * k_z[:, t]
            da = np.concatenate([dar, daz, dan], axis=-1)  # (B, 3H) input side
            da_hh = np.concatenate([dar, daz, dan * r[:, t]], axis=-1)  # (B, 3H) recurrent side
            direct = gh * z[:, t]
        da_all[t] = da
        # 4. to the state this step continued: through W_hh, plus what padded steps passed on
        s_new = da_hh @ run.w_hh  # (B, H)
        if direct is not None:
            s_new = s_new + direct
        if keep is not None:
            s_new = s_new + s_h * keep[:, t]
        p = t + run.lookback if run.reverse else t - run.lookback
        if 0 <= p < T:
            carry_h[:, p] += s_new
            if kind == "lstm":
                carry_c[:, p] += s_c
        else:  # this step continued the initial state
            grad_h0 += s_new
            if kind == "lstm":
                grad_c0 += s_c
    grad_h = np.stack(gh_all, axis=1)  # (B, T, H)
    grad_c = np.stack(gc_all, axis=1) if kind == "lstm" else None
    grad_input = np.stack(da_all, axis=1) @ run.w_ih  # (B, T, I)
    return grad_h, grad_c, grad_input, grad_h0, (grad_c0 if kind == "lstm" else None)


def to_torch(value: np.ndarray | None) -> Tensor | None:
    """An array from this module as a tensor (shares memory)."""
    return None if value is None else torch.from_numpy(np.ascontiguousarray(value))


# ---------------------------------------------------------------------------------------------
# a whole core: what rnnviz.trace needs


def head(core: Any, seq: Any, out: Tensor, lengths: Tensor | None, target: Any,
         loss_fn: Callable[[Tensor, Tensor], Tensor] | None) -> tuple[Tensor, Tensor | None]:
    """The model's output from the core output ``out`` (B, T, D*H): the core's own layout, or
    a sequence model's readout; and with a target, the scalar ``loss_fn(output, target)``."""
    core_out = out if core.batch_first else out.transpose(0, 1)
    output = core_out if seq is None else seq.readout(core_out, lengths)
    if target is None:
        return output, None
    return output, _validate.scalar_loss(loss_fn(output, target))


def by_hand(core: Any, seq: Any, enc: Tensor, h0: Any, lengths: Tensor | None,
             target: Any, loss_fn: Any) -> dict[str, Any]:
    """Forward keeping every step, autograd through the readout only, BPTT by hand.

    Overflow gives ``inf``/``nan`` silently, as torch does (exploding gradients are a lesson,
    not a warning)."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        return _by_hand(core, seq, enc, h0, lengths, target, loss_fn)


def _by_hand(core: Any, seq: Any, enc: Tensor, h0: Any, lengths: Tensor | None,
             target: Any, loss_fn: Any) -> dict[str, Any]:
    # 1. forward, layer by layer, keeping every step (rnnviz._bptt)
    runs, out = forward_core(core, enc, h0, lengths)  # out: (B, T, D*H)
    # 2. the loss, and its gradient w.r.t. the core output
    p: dict[str, Any] = {"out": out, "loss": None, "grad_hidden": None, "grad_cell": None,
                         "grad_input": None}
    with torch.enable_grad():
        leaf = out.detach().requires_grad_(target is not None)  # (B, T, D*H)
        p["output"], loss = head(core, seq, leaf, lengths, target, loss_fn)
        if loss is not None:
            p["loss"] = float(loss.detach())
            grad = torch.autograd.grad(loss, leaf, allow_unused=True)[0] \
                if loss.requires_grad else None
    # 3. BPTT by hand, from the top layer down: the total adjoints dL/dh_t, dL/dc_t
    if target is not None:
        grad = np.zeros(out.shape, runs[0].w_hh.dtype) if grad is None else \
            grad.detach().cpu().numpy()  # (B, T, D*H)
        p.update(backward_core(core, runs, grad))
    # 4. every recorded step as (L*D, B, T, .)
    p.update(record(core, runs))
    return p


def backward_core(core: Any, runs: list[LayerRun], grad: np.ndarray,
                  grad_final: tuple[np.ndarray, np.ndarray | None] | None = None
                  ) -> dict[str, Any]:
    """BPTT by hand through every layer of ``core``, top layer first.

    Args:
        core, runs: the core and its forward record (:func:`forward_core`).
        grad: ``(B, T, D*H)`` dL/d(core output).
        grad_final: ``(dL/dh_n (L*D, B, H), dL/dc_n or None)``, gradient w.r.t. the final
            state of every layer (an encoder's context), or ``None``.

    Returns:
        ``grad_hidden``, ``grad_cell`` ``(L*D, B, T, H)``, ``grad_input`` ``(B, T, I)`` and
        ``grad_h0``, ``grad_c0`` ``(L*D, B, H)`` (the initial state's gradient), as tensors.
    """
    L, D, H = core.num_layers, core.num_directions, core.hidden_size
    lstm = core.cell_type == "lstm"
    K = L * D
    gh, gc, g0h, g0c = [None] * K, [None] * K, [None] * K, [None] * K
    for layer in reversed(range(L)):
        below = None
        for d in range(D):
            k = layer * D + d
            final = None if grad_final is None else (
                grad_final[0][k], None if grad_final[1] is None else grad_final[1][k])
            gh[k], gc[k], gx, g0h[k], g0c[k] = backward_layer_state(
                runs[k], grad[..., d * H : (d + 1) * H], final)
            below = gx if below is None else below + gx
        grad = below  # (B, T, D*H) of the layer below, or (B, T, I) at the bottom
    return {
        "grad_hidden": to_torch(np.stack(gh)),  # (L*D, B, T, H)
        "grad_cell": to_torch(np.stack(gc)) if lstm else None,
        "grad_input": to_torch(grad),  # (B, T, I)
        "grad_h0": to_torch(np.stack(g0h)),  # (L*D, B, H)
        "grad_c0": to_torch(np.stack(g0c)) if lstm else None,
    }


def record(core: Any, runs: list[LayerRun]) -> dict[str, Any]:
    """Every recorded step of the forward pass as ``(L*D, B, T, .)`` tensors: ``hidden``,
    ``cell`` (LSTM), ``gates`` (by name) and ``preact`` (Elman)."""

    def per_step(name: str) -> Tensor:
        return to_torch(np.stack([getattr(r, name) for r in runs]))

    lstm = core.cell_type == "lstm"
    act = per_step("act")  # Elman preact (H); LSTM [i f g o] (4H); GRU [r z n] (3H)
    names = GATE_NAMES[core.cell_type]
    chunks = act.chunk(len(names), dim=-1) if names else ()
    return {
        "gates": {n: v.contiguous() for n, v in zip(names, chunks, strict=True)},
        "hidden": per_step("hidden"),
        "cell": per_step("cell") if lstm else None,
        "preact": act if core.cell_type == "elman" else None,
    }


def forward_core(
    core: Any, enc: Tensor, h0: Any, lengths: Tensor | None
) -> tuple[list[LayerRun], Tensor]:
    """Every layer and direction of ``core`` on ``enc`` (B, T, I); eval mode (no dropout)."""
    lstm = core.cell_type == "lstm"
    B, T, _ = enc.shape
    h0 = core._zero_state(enc) if h0 is None else h0
    h_init, c_init = h0 if lstm else (h0, None)
    mask = None
    if lengths is not None and int(lengths.min()) < T:
        mask = (np.arange(T)[None, :] < lengths.numpy()[:, None])[..., None].astype(
            enc.numpy().dtype)  # (B, T, 1)
    runs: list[LayerRun] = []
    layer_in = enc.numpy()  # (B, T, I)
    for layer in range(core.num_layers):
        outs = []
        for d in range(core.num_directions):
            k = layer * core.num_directions + d
            run = run_layer(core.cell_type, layer_in, core.layer_weights(layer, d), h_init[k],
                            c_init[k] if lstm else None, mask, reverse=d == 1,
                            nonlinearity=getattr(core, "nonlinearity", "tanh"),
                            lookback=core._lookback(layer))
            runs.append(run)
            outs.append(run.output)
        layer_in = np.concatenate(outs, axis=-1) if len(outs) > 1 else outs[0]  # (B, T, D*H)
    return runs, to_torch(layer_in)
