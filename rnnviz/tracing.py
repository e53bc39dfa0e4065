"""The numbers behind the views: a full ``Trace`` of one run, BPTT Jacobian norms, spectral radii.

``model`` everywhere is an rnnviz core (``Elman``, ``LSTM``, ``GRU``) or a sequence model
(anything with ``.core``, ``.encode(x) -> (B, T, I)``, ``.readout(core_output, lengths)`` and
``.loss_fn``); ``trace`` also takes an :class:`rnnviz.Seq2Seq` (and returns a
``Seq2SeqTrace``). Nothing here changes the model: its train/eval modes are restored, its
parameters' ``.grad`` are untouched (gradients come from ``torch.autograd.grad``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from rnnviz import _validate
from rnnviz._bptt import backward_core, by_hand, forward_core, head, record, to_torch
from rnnviz._types import Seq2SeqTrace, Trace
from rnnviz.i18n import _
from rnnviz.models import State, _Core, check_lengths, is_core


@dataclass
class JacobianNorms:
    """How fast the BPTT signal fades with distance, for one layer's forward direction.

    Attributes:
        norms: ``(T,)`` mean over the batch of ``||dh_last / dh_t||_F``, where ``h_last`` is a
            sequence's last real state; position ``t`` is at distance ``T - 1 - t`` from it
            (with ``lengths``, each sequence is aligned at its own last step; distances no
            sequence reaches are ``nan``).
        distance: ``(T,)`` the distance ``T - 1 - t``.
        spectral_radius: of the layer's recurrent matrix (Elman ``W_hh``, LSTM ``W_hg``,
            GRU ``W_hn``).
    """

    norms: Tensor  # (T,)
    distance: Tensor  # (T,)
    spectral_radius: float | None


# ---------------------------------------------------------------------------------------------
# shared plumbing


def _resolve(model: Any) -> tuple[Any, Any]:
    """Return ``(core, sequence_model or None)``."""
    if is_core(model):
        return model, None
    if is_core(getattr(model, "core", None)):
        return model.core, model
    if _is_seq2seq(model):
        raise TypeError(_(
            "model must be an rnnviz Elman / LSTM / GRU or a sequence model with a .core, "
            "got {type} (for a Seq2Seq, pass model.encoder or model.decoder)"
        ).format(type=type(model).__name__))
    raise TypeError(_(
        "model must be an rnnviz Elman / LSTM / GRU or a sequence model with a .core, got {type}"
    ).format(type=type(model).__name__))


@contextmanager
def _eval_mode(model: Any) -> Iterator[None]:
    """Eval mode (no dropout) inside; every submodule's own mode restored afterwards."""
    modules = list(model.modules()) if hasattr(model, "modules") else []
    modes = [m.training for m in modules]
    try:
        for m in modules:
            m.training = False
        yield
    finally:
        for m, mode in zip(modules, modes, strict=True):
            m.training = mode


def _prepare(
    core: Any, seq: Any, x: Any, lengths: Any, h0: Any
) -> tuple[Tensor, Tensor | None, State | None, Tensor]:
    """Return ``(core input (B, T, I) batch-first, lengths, h0, inputs as given batch-first)``."""
    if seq is None:
        _validate.tensor("x", x, ndim=3, floating=True)
        core._check_input(x, "x")
        _validate.finite("x", x, dims=("batch", "step") if core.batch_first else ("step", "batch"))
        enc = x if core.batch_first else x.transpose(0, 1)  # (B, T, I)
        shown = enc
    else:
        enc = seq.encode(x)
        if not isinstance(enc, Tensor) or enc.dim() != 3 or not enc.is_floating_point():
            raise ValueError(_("model.encode(x) must return a (B, T, I) float tensor, got {value}")
                             .format(value=_validate._describe(enc)))
        core._check_input(enc, "model.encode(x)")
        shown = x
    B, T, _width = enc.shape
    _validate.at_most(_("the time steps T of x"), T, "max_steps")
    _validate.elements(_("the trace of x (B x T x layers x H x ~8 recorded values)"), B, T,
                       core.num_layers * core.num_directions, core.hidden_size, 8)
    if lengths is not None:
        lengths = check_lengths(lengths, B, T)
    if h0 is not None:
        core._check_hx(h0, B, enc.dtype, "h0")
        _validate.state_finite("h0", h0)
    return enc, lengths, h0, shown


# ---------------------------------------------------------------------------------------------
# trace


def trace(
    model: Any,
    x: Tensor,
    target: Tensor | None = None,
    *,
    lengths: Any = None,
    h0: State | None = None,
    loss_fn: Callable[[Tensor, Tensor], Tensor] | None = None,
) -> Trace | Seq2SeqTrace:
    """Run ``model`` once through the explicit path and record every state, gate and adjoint.

    Steps: 1. encode and validate; 2. run the cell equations step by step in eval mode,
    keeping every state and gate; 3. with a target, ``loss_fn(output, target)`` and its
    gradient w.r.t. the core output (autograd through the readout only); 4. backpropagation
    through time written out by hand (``rnnviz._bptt``), top layer first, which gives the
    total adjoints ``dL/dh_t``, ``dL/dc_t`` and ``dL/dx_t`` (equal to autograd's, 3-5x
    faster); 5. stack, zero padded steps.

    An :class:`rnnviz.Seq2Seq` gives a :class:`rnnviz.Seq2SeqTrace` (the encoder's and the
    decoder's ``Trace`` joined by the context): with a ``target``, the teacher-forced run the
    ``Trainer`` trains (the decoder reads ``<go>, y_0 .. y_{T-2}``), with the loss and the
    adjoints of both halves (``dL/dh_s`` reaches the encoder through the context, and with
    attention also through the attention layer; the alignment is recorded);
    without one, greedy decoding for ``S`` steps (as :meth:`rnnviz.Seq2Seq.translate`).

    Args:
        model: a core, a sequence model (see the module docstring) or a ``Seq2Seq``.
        x: core: ``(B, T, I)`` float (``(T, B, I)`` if the core is not batch-first); sequence
            model: the task input it encodes; Seq2Seq: ``(B, S)`` source ids.
        target: optional target for the loss (Seq2Seq: ``(B, T)`` ids, ``-100`` = not scored).
        lengths: ``(B,)`` real lengths (Seq2Seq: of the source), or ``None``.
        h0: initial state ``(L*D, B, H)`` (LSTM: pair ``(h_0, c_0)``), zeros if ``None``
            (Seq2Seq: the encoder's).
        loss_fn: ``loss_fn(output, target) -> scalar``; defaults to ``model.loss_fn`` for a
            sequence model (Seq2Seq: else cross entropy over the scored steps); required for a
            bare core with a target. ``output`` is what the model returns: the core's output
            tensor (in its own layout) or the logits.

    Returns:
        A ``Trace`` (all tensors detached, CPU, batch-first, zero on padded steps), or a
        ``Seq2SeqTrace`` for a ``Seq2Seq``.

    Example:
        >>> from rnnviz.models import LSTM
        >>> lstm = LSTM(2, 4, batch_first=True, seed=0)
        >>> tr = trace(lstm, torch.randn(3, 6, 2), torch.zeros(3, 6, 4),
        ...            loss_fn=torch.nn.functional.mse_loss)
        >>> tr.gates["f"].shape, tr.grad_hidden.shape
        (torch.Size([1, 3, 6, 4]), torch.Size([1, 3, 6, 4]))
    """
    if _is_seq2seq(model):
        return trace_seq2seq(model, x, target, lengths=lengths, h0=h0, loss_fn=loss_fn)
    core, seq = _resolve(model)
    if loss_fn is None and seq is not None:
        loss_fn = getattr(seq, "loss_fn", None)
    if target is not None and loss_fn is None:
        raise ValueError(_(
            "loss_fn is required to trace gradients of a bare core with a target "
            "(e.g. loss_fn=torch.nn.functional.mse_loss), got None"
        ))
    if loss_fn is not None and not callable(loss_fn):
        raise TypeError(_("loss_fn must be callable, got {value}").format(
            value=_validate._describe(loss_fn)))
    _validate.finite("target", target)
    with _eval_mode(model):
        # 1. encode and validate
        enc, lengths, h0, shown = _prepare(core, seq, x, lengths, h0)
        enc = enc.detach()  # (B, T, I)
        # 2-4. the standard cells: forward and BPTT by hand; a subclass with its own
        #      recurrence (its own _explicit): autograd through that loop
        hand = type(core)._explicit is _Core._explicit
        p = (by_hand if hand else _by_autograd)(core, seq, enc, h0, lengths, target, loss_fn)
    # 5. zero padded steps
    output = p["out"] if seq is None else p["output"]  # batch-first
    return _as_trace(core, p, inputs=shown, output=output, target=target, lengths=lengths)


def _as_trace(core: Any, p: dict[str, Any], *, inputs: Tensor, output: Tensor, target: Any,
              lengths: Tensor | None) -> Trace:
    """A ``Trace`` from a run's record ``p`` (detached, CPU, zero on padded steps)."""
    T = p["hidden"].shape[2]
    mask = None
    if lengths is not None:
        mask = (torch.arange(T)[None, :] < lengths[:, None])[None, :, :, None]  # (1, B, T, 1)

    def clean(value: Tensor | None) -> Tensor | None:
        if value is None:
            return None
        value = value.detach().cpu()
        return value if mask is None else torch.where(mask, value, torch.zeros_like(value))

    return Trace(
        cell_type=core.cell_type,
        num_layers=core.num_layers,
        num_directions=core.num_directions,
        hidden_size=core.hidden_size,
        hidden=clean(p["hidden"]),
        inputs=inputs.detach().cpu(),
        output=output.detach().cpu(),
        cell=clean(p["cell"]),
        gates={name: clean(v) for name, v in p["gates"].items()},
        preact=clean(p["preact"]),
        target=target.detach().cpu() if isinstance(target, Tensor) else target,
        loss=p["loss"],
        lengths=lengths,
        grad_hidden=clean(p["grad_hidden"]),
        grad_cell=clean(p["grad_cell"]),
        grad_input=None if p["grad_input"] is None else p["grad_input"].detach().cpu(),
        nonlinearity=getattr(core, "nonlinearity", "tanh"),
    )


# ---------------------------------------------------------------------------------------------
# an encoder-decoder


def _is_seq2seq(model: Any) -> bool:
    from rnnviz.seq2seq import Seq2Seq

    return isinstance(model, Seq2Seq)


def _scored_cross_entropy(logits: Tensor, target: Tensor) -> Tensor:
    """Cross entropy over the scored steps (``target != -100``)."""
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1),
                           ignore_index=-100)


def trace_seq2seq(
    model: Any,
    x: Tensor,
    target: Tensor | None = None,
    *,
    lengths: Any = None,
    h0: Any = None,
    loss_fn: Callable[[Tensor, Tensor], Tensor] | None = None,
    steps: int | None = None,
    reference: Tensor | None = None,
) -> Seq2SeqTrace:
    r"""One encoder-decoder run recorded: ``rnnviz.trace(seq2seq, ...)`` and ``translate``.

    .. math::
        \bar z_t = \partial L / \partial z_t \text{ (decoder BPTT)}, \qquad
        \bar c = \partial L / \partial z_{-1}, \qquad
        \bar h_s = \partial L / \partial h_s \text{ (encoder BPTT from } \bar h_{\mathrm{last}} = \bar c)

    Steps: 1. check; 2. the encoder's cell equations step by step (``rnnviz._bptt``), the
    context ``c`` = its state at each last real step; 3. the decoder's inputs: ``<go>`` then
    the target's previous words (teacher forcing), or the words of greedy decoding (torch's
    fused path, exactly :meth:`rnnviz.Seq2Seq.greedy`); 4. the decoder from ``c``, the readout
    and, with a target, the loss and its gradient w.r.t. the decoder output (autograd through
    the readout only); 5. BPTT by hand through the decoder, which gives ``dL/dc``, then through
    the encoder, entering at its final state.

    With attention (``model.attention``), step 4's readout is the attention layer and the
    readout, on the decoder's and the encoder's top-layer outputs; autograd through that
    (non-recurrent) head gives ``dL/dz_t`` and ``dL/de_s``, and step 5's encoder BPTT takes
    ``dL/de_s`` as the gradient from above at every source step (plus ``dL/dc`` at the final
    state). The alignment ``(B, T, S)`` is recorded.

    Args:
        model: a :class:`rnnviz.Seq2Seq`.
        x: ``(B, S)`` source ids. target: ``(B, T)`` ids (``-100`` = not scored) for teacher
            forcing, or ``None`` for greedy decoding.
        lengths: ``(B,)`` real source lengths, or ``None``. h0: the encoder's initial state.
        loss_fn: ``loss_fn(logits (B, T, O), target) -> scalar``; default ``model.loss_fn``,
            else cross entropy over the scored steps.
        steps: greedy steps (default ``S``); only without ``target``.
        reference: greedy only: ``(B, T)`` ids kept as ``decoder.target`` for the views.

    Returns:
        A :class:`rnnviz.Seq2SeqTrace`.
    """
    # 1. check
    x, lengths = model._source(x, lengths)  # (B, S), (B,) or None
    B, S = x.shape
    forced = target is not None
    if forced:
        target = model._ids("target", target, model.output_size, allow_ignore=True)  # (B, T)
        if target.shape[0] != B:
            raise ValueError(_("target must have the batch size of x ({B}), got {got}").format(
                B=B, got=target.shape[0]))
        if steps is not None or reference is not None:
            raise ValueError(_("steps and reference are for greedy decoding (no target)"))
        if loss_fn is None:
            loss_fn = getattr(model, "loss_fn", None) or _scored_cross_entropy
        if not callable(loss_fn):
            raise TypeError(_("loss_fn must be callable, got {value}").format(
            value=_validate._describe(loss_fn)))
    else:
        steps = _validate.positive_int("steps", S if steps is None else steps)
        if reference is not None:
            reference = model._ids("target", reference, model.output_size, allow_ignore=True)
    dtype = model.linear.weight.dtype
    lstm = model.cell_type == "lstm"
    attention = getattr(model, "attention", None)
    if h0 is not None:
        model.encoder._check_hx(h0, B, dtype, "h0")
    with _eval_mode(model), np.errstate(over="ignore", invalid="ignore", divide="ignore",
                                        under="ignore"):
        # 2. the encoder, and the context: its state at each last real step, every layer
        e = F.one_hot(x, model.input_size).to(dtype)  # (B, S, V_in)
        runs_e, out_e = forward_core(model.encoder, e, h0, lengths)  # (B, S, H)
        rows = torch.arange(B)
        last = torch.full((B,), S - 1) if lengths is None else lengths - 1  # (B,)
        ctx_h = torch.stack([to_torch(r.hidden)[rows, last] for r in runs_e])  # (L, B, H)
        ctx = (ctx_h, torch.stack([to_torch(r.cell)[rows, last] for r in runs_e])) if lstm \
            else ctx_h
        # 3. what the decoder reads: <go>, then the previous true word or its own guess
        if forced:
            prev = torch.cat([torch.full_like(target[:, :1], model.start), target[:, :-1]], 1)
            prev = torch.where(prev == -100, model.start, prev)  # (B, T) padding: never scored
        else:
            with torch.no_grad():
                memory, state = model.encode(x, lengths)  # (B, S, H), (L, B, H)
                look = {} if attention is None else {"memory": memory, "lengths": lengths}
                tokens, _steps = model.decode(state, steps, **look)  # (B, T)
            prev = torch.cat([torch.full_like(tokens[:, :1], model.start), tokens[:, :-1]], 1)
        # 4. the decoder from the context, the readout, the loss
        u = F.one_hot(prev, model.output_size + 1).to(dtype)  # (B, T, V_out+1)
        runs_d, out_d = forward_core(model.decoder, u, ctx, None)  # (B, T, H)
        pe: dict[str, Any] = {"loss": None, "grad_hidden": None, "grad_cell": None,
                              "grad_input": None}
        pd = dict(pe)
        grad = grad_memory = alignment = None
        with torch.enable_grad():
            leaf = out_d.detach().requires_grad_(forced)  # (B, T, H)
            memory = out_e.detach().requires_grad_(forced and attention is not None)  # (B, S, H)
            logits, alignment = model._readout(leaf, memory, lengths)  # (B, T, O), (B, T, S)
            if forced:
                loss = loss_fn(logits, target)
                if not isinstance(loss, Tensor) or loss.numel() != 1:
                    raise ValueError(_("loss_fn must return a scalar tensor, got {value}").format(
                        value=_validate._describe(loss)))
                pd["loss"] = pe["loss"] = float(loss.detach())
                if loss.requires_grad:
                    wrt = [leaf] if attention is None else [leaf, memory]
                    grad, *rest = torch.autograd.grad(loss, wrt, allow_unused=True)
                    grad_memory = rest[0] if rest else None  # (B, S, H) via attention
        logits = logits.detach()
        if forced:
            tokens = logits.argmax(dim=-1)  # (B, T)
        # 5. BPTT by hand: the decoder (which gives dL/dc), then the encoder from its final state
        grad_ctx = grad_ctx_cell = None
        if forced:
            g = np.zeros(out_d.shape, runs_d[0].w_hh.dtype) if grad is None else grad.numpy()
            pd.update(backward_core(model.decoder, runs_d, g))  # g: (B, T, H)
            grad_ctx, grad_ctx_cell = pd["grad_h0"], pd["grad_c0"]  # (L, B, H)
            final = (grad_ctx.numpy(), None if grad_ctx_cell is None else grad_ctx_cell.numpy())
            # the encoder's outputs: unused without attention, else what attention sends back
            g_e = np.zeros(out_e.shape, g.dtype) if grad_memory is None else \
                grad_memory.detach().numpy()  # (B, S, H)
            pe.update(backward_core(model.encoder, runs_e, g_e, grad_final=final))
        pe.update(record(model.encoder, runs_e))
        pd.update(record(model.decoder, runs_d))
    task = getattr(model, "task", None)
    return Seq2SeqTrace(
        encoder=_as_trace(model.encoder, pe, inputs=x, output=out_e, target=None,
                          lengths=lengths),
        decoder=_as_trace(model.decoder, pd, inputs=prev, output=logits,
                          target=target if forced else reference, lengths=None),
        tokens=tokens.detach().cpu(),
        teacher_forcing=forced,
        start=model.start,
        grad_context=None if grad_ctx is None else grad_ctx.clone(),
        grad_context_cell=None if grad_ctx_cell is None else grad_ctx_cell.clone(),
        vocab=getattr(task, "vocab", None),
        output_vocab=getattr(task, "output_vocab", None),
        alignment=None if alignment is None else alignment.detach().cpu(),
    )


def _by_autograd(core: Any, seq: Any, enc: Tensor, h0: State | None, lengths: Tensor | None,
                 target: Any, loss_fn: Any) -> dict[str, Any]:
    """The core's own explicit loop, recorded, and ``torch.autograd.grad`` w.r.t. each step."""
    lstm = core.cell_type == "lstm"
    T = enc.shape[1]
    p: dict[str, Any] = {"loss": None, "grad_hidden": None, "grad_cell": None, "grad_input": None}
    with torch.enable_grad():
        enc = enc.requires_grad_(target is not None)  # (B, T, I)
        out, _h_n, rec = core._explicit(enc, h0, lengths, record=True, training=False)  # (B,T,DH)
        p["out"] = out
        p["output"], loss = head(core, seq, out, lengths, target, loss_fn)
        if loss is not None:
            p["loss"] = float(loss.detach())
            hs = [h for steps in rec.hidden for h in steps]
            cs = [c for steps in rec.cell for c in steps] if lstm else []
            wrt = [*hs, *cs, enc]
            grads = torch.autograd.grad(loss, wrt, allow_unused=True) if loss.requires_grad \
                else [None] * len(wrt)
            grads = [torch.zeros_like(w) if g is None else g for w, g in zip(wrt, grads,
                                                                                strict=True)]
            n = len(hs)
            p["grad_hidden"] = _regroup(grads[:n], T)
            p["grad_cell"] = _regroup(grads[n:-1], T) if lstm else None
            p["grad_input"] = grads[-1]  # (B, T, I)
    p["hidden"] = _stack(rec.hidden)
    p["cell"] = _stack(rec.cell) if lstm else None
    p["gates"] = {name: _stack(v) for name, v in rec.gates.items()}
    p["preact"] = _stack(rec.preact) if rec.preact is not None else None
    return p


def _stack(per_step: list[list[Tensor]]) -> Tensor:
    return torch.stack([torch.stack(steps, dim=1) for steps in per_step]).detach()  # (L*D,B,T,H)


def _regroup(flat: list[Tensor], T: int) -> Tensor:
    """``[k * T + t] -> (K, B, T, H)``."""
    return _stack([flat[i : i + T] for i in range(0, len(flat), T)])


# ---------------------------------------------------------------------------------------------
# Jacobians and spectral radius


def jacobian_norms(
    model: Any, x: Tensor, *, lengths: Any = None, h0: State | None = None, layer: int = -1
) -> JacobianNorms:
    """Frobenius norms of ``dh_last / dh_t`` through one layer's forward recurrence.

    Steps: 1. run the explicit path (eval mode) with the state graph recorded; 2. one backward
    pass per unit ``j`` of ``h_last`` gives row ``j`` of every ``dh_last / dh_t`` (``H``
    passes); 3. squared norms per sequence, aligned at each sequence's last real
    step, averaged over the batch.

    Args:
        model, x, lengths, h0: as ``trace``.
        layer: which layer (negative counts from the top).

    Returns:
        ``JacobianNorms`` with ``norms`` and ``distance`` of shape ``(T,)``.
    """
    core, seq = _resolve(model)
    if isinstance(layer, bool) or not isinstance(layer, int):
        raise TypeError(_("layer must be an int, got {value}").format(value=_validate._describe(layer)))
    L, D = core.num_layers, core.num_directions
    if not -L <= layer < L:
        raise ValueError(_("layer must be in [{low}, {high}), got {value}").format(
            low=-L, high=L, value=layer))
    layer %= L
    with _eval_mode(model), torch.enable_grad():
        # 1. run
        enc, lengths, h0, _prepared = _prepare(core, seq, x, lengths, h0)
        enc = enc.detach()  # (B, T, I)
        B, T, _width = enc.shape
        h0 = core._zero_state(enc) if h0 is None else h0
        # a state that requires grad keeps every h_t in the graph even with frozen weights
        h0 = tuple(v.detach().requires_grad_() for v in h0) if core.cell_type == "lstm" \
            else h0.detach().requires_grad_()
        _out, h_n, rec = core._explicit(enc, h0, lengths, record=True, training=False)
        k = layer * D
        h_last = (h_n[0] if core.cell_type == "lstm" else h_n)[k]  # (B, H) last real state
        hs = rec.hidden[k]  # T tensors (B, H); zero gradient from h_last on padded steps
        H = core.hidden_size
        # 2. one backward pass per unit j gives row j of every dh_last/dh_t (sequences are
        #    independent, so summing over the batch keeps them apart)
        sq = torch.zeros(T, B, dtype=torch.float64)
        for j in range(H):
            rows = torch.autograd.grad(h_last[:, j].sum(), hs, retain_graph=j < H - 1,
                                       allow_unused=True)
            for t, g in enumerate(rows):
                if g is not None:
                    sq[t] += g.detach().double().pow(2).sum(dim=-1).cpu()  # (B,)
    # 3. align at each sequence's last real step and average
    ends = torch.full((B,), T - 1) if lengths is None else lengths - 1  # (B,)
    norms = torch.full((T,), float("nan"), dtype=torch.float64)
    for d in range(T):
        ok = ends >= d  # sequences long enough for distance d
        if ok.any():
            norms[T - 1 - d] = sq[ends[ok] - d, ok.nonzero().squeeze(1)].sqrt().mean()
    rho = spectral_radius(core)[layer * D]
    return JacobianNorms(
        norms=norms.float(),
        distance=torch.arange(T - 1, -1, -1),
        spectral_radius=float(rho),
    )


def _recurrent_blocks(core: Any) -> list[Tensor]:
    """Views of W_hh (Elman) / W_hg (LSTM) / W_hn (GRU) for every layer and direction."""
    H = core.hidden_size
    blocks = []
    for layer in range(core.num_layers):
        for d in range(core.num_directions):
            w_hh = core.layer_weights(layer, d)[1]
            blocks.append(w_hh if core.cell_type == "elman" else w_hh[2 * H : 3 * H])  # (H, H)
    return blocks


def spectral_radius(model: Any) -> Tensor:
    """Max |eigenvalue| of each layer's and direction's recurrent matrix, ``(L*D,)``.

    The matrix is ``W_hh`` for Elman, its candidate block ``W_hg`` (LSTM) or ``W_hn`` (GRU).
    """
    core, _seq = _resolve(model)
    _validate.finite_weights("model", core)
    radii = [torch.linalg.eigvals(w.detach().double()).abs().max() for w in _recurrent_blocks(core)]
    return torch.stack(radii).to(core.weight_hh_l0.dtype).cpu()  # (L*D,)


def set_spectral_radius(model: Any, rho: float, layer: int | None = None) -> Any:
    """Rescale the recurrent matrices (see ``spectral_radius``) in place to radius ``rho``.

    Args:
        model: a core or sequence model.
        rho: the target spectral radius, a finite number >= 0.
        layer: only this layer (both directions); ``None`` for all layers.

    Returns:
        ``model`` (for chaining).
    """
    core, _seq = _resolve(model)
    if not 0 <= _validate.number(rho) < float("inf"):
        raise ValueError(_("rho must be a finite number >= 0, got {value}").format(
            value=_validate._describe(rho)))
    L, D = core.num_layers, core.num_directions
    if layer is not None:
        if isinstance(layer, bool) or not isinstance(layer, int) or not -L <= layer < L:
            raise ValueError(_("layer must be None or an int in [{low}, {high}), got {value!r}")
                             .format(low=-L, high=L, value=layer))
        layer %= L
    blocks = _recurrent_blocks(core)
    current = spectral_radius(core)
    _validate.rescalable("rho", blocks, [rho / max(float(c), 1e-300) for c in current])
    with torch.no_grad():
        for k, block in enumerate(blocks):
            if layer is not None and k // D != layer:
                continue
            if float(current[k]) == 0.0:
                raise ValueError(_(
                    "cannot rescale layer {layer}: its recurrent matrix has spectral radius 0"
                ).format(layer=k // D))
            block.mul_(rho / float(current[k]))
    return model
