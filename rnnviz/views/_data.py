"""Small helpers shared by the views: argument checks and Trace -> numpy slices."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from rnnviz import _validate
from rnnviz._types import Seq2SeqTrace, Trace
from rnnviz.i18n import N_, _
from rnnviz.views._style import DIRECTION_NAMES


def as_numpy(value: Any) -> np.ndarray:
    """A float64 numpy array from a tensor, array or list."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().to(torch.float64).numpy()
    return np.asarray(value, dtype=np.float64)


def numbers(name: str, value: Any) -> np.ndarray:
    """:func:`as_numpy` for a user argument: a clear error naming ``name`` if it is not numbers."""
    try:
        return as_numpy(value)
    except (ValueError, TypeError, RuntimeError) as err:
        raise TypeError(_("{name} must be numbers (a list, array or tensor), got {type}: {err}")
                        .format(name=name, type=type(value).__name__, err=err)) from None


def rounded(a: Any, decimals: int = 4) -> np.ndarray:
    """``a`` rounded for a small figure: float32 with ``decimals`` decimals (NaN kept)."""
    return np.round(as_numpy(a), decimals).astype(np.float32)


def sig_rounded(a: Any, digits: int = 4) -> np.ndarray:
    """``a`` rounded to ``digits`` significant digits (for gradients that span decades)."""
    a = as_numpy(a)
    with np.errstate(divide="ignore", invalid="ignore"):
        mag = np.floor(np.log10(np.abs(a)))
    mag = np.where(np.isfinite(mag), mag, 0.0)
    scale = 10.0 ** (digits - 1 - mag)
    return (np.round(a * scale) / scale).astype(np.float32)


def finite_max(arrays: Any, *, absolute: bool = False, default: float = 1.0) -> float:
    """Largest finite (absolute) value over ``arrays``; ``default`` if none is finite or > 0."""
    best = 0.0
    for a in arrays:
        a = np.abs(as_numpy(a)) if absolute else as_numpy(a)
        a = a[np.isfinite(a)]
        if a.size:
            best = max(best, float(a.max()))
    return best if best > 0 else default


def check_trace(trace: Any, name: str = "trace") -> Trace:
    if isinstance(trace, Seq2SeqTrace):
        raise TypeError(_(
            "{name} must be an rnnviz Trace of one core, got a Seq2SeqTrace: pass its "
            "{name}.encoder or {name}.decoder (or draw the whole run with rnnviz.plot_seq2seq)"
        ).format(name=name))
    if not isinstance(trace, Trace):
        raise TypeError(_("{name} must be an rnnviz Trace (from rnnviz.trace(model, x)), got {type}")
                        .format(name=name, type=type(trace).__name__))
    _validate.at_most(f"{name}'s time steps T", trace.seq_len, "max_drawn")
    return trace


def check_sample(trace: Trace, sample: Any, *, allow_none: bool = False) -> int | None:
    """Return a valid batch index (negative ok), or ``None`` if allowed."""
    if sample is None and allow_none:
        return None
    if isinstance(sample, bool) or not isinstance(sample, (int, np.integer)):
        raise TypeError(_("sample must be an int, got {value!r} ({type})").format(
            value=sample, type=type(sample).__name__))
    b = trace.batch_size
    if not -b <= sample < b:
        raise ValueError(_("sample must be in [0, {b}) for this batch of {b}, got {value}").format(
            b=b, value=sample))
    return int(sample) % b


def check_index(name: str, value: Any, size: int, what: str) -> int:
    """Validate an int index into ``size`` items (negative ok) and return it non-negative."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(_("{name} must be an int, got {value!r} ({type})").format(
            name=name, value=value, type=type(value).__name__))
    if not -size <= value < size:
        raise ValueError(_("{name} must be in [0, {size}) because the {what} {size}, got {value}")
                         .format(name=name, size=size, what=_(what), value=value))
    return int(value) % size


def rows(trace: Trace, layer: Any = None, direction: Any = None) -> list[tuple[int, int, int]]:
    """``(row, layer, direction)`` for the chosen layer(s) and direction(s) (``None`` = all)."""
    L, D = trace.num_layers, trace.num_directions
    layers = range(L) if layer is None else [check_index("layer", layer, L, N_("model has layers"))]
    dirs = range(D) if direction is None else [
        check_index("direction", direction, D, N_("model has directions"))]
    return [(trace.index(lay, d), lay, d) for lay in layers for d in dirs]


def row_name(trace: Trace, layer: int, direction: int) -> str:
    if trace.num_directions == 2:
        return _("layer {layer} · {direction}").format(layer=layer,
                                                       direction=_(DIRECTION_NAMES[direction]))
    return _("layer {layer}").format(layer=layer)


def length_of(trace: Trace, sample: int) -> int:
    """Real length of ``sample`` (T when the batch has no padding)."""
    if trace.lengths is None:
        return trace.seq_len
    return int(min(int(trace.lengths[sample]), trace.seq_len))


def real_mask(trace: Trace) -> np.ndarray:
    """(B, T) booleans: True for real (not padded) steps."""
    t = np.arange(trace.seq_len)
    if trace.lengths is None:
        return np.ones((trace.batch_size, trace.seq_len), dtype=bool)
    return t[None, :] < as_numpy(trace.lengths)[:, None]


def state(trace: Trace, tensor: torch.Tensor, row: int, sample: int) -> np.ndarray:
    """(H, T) units x time for one row and sample, NaN on padded steps."""
    z = as_numpy(tensor[row, sample]).T.copy()  # (H, T)
    z[:, length_of(trace, sample):] = np.nan
    return z


def require_grads(trace: Trace, what: str) -> torch.Tensor:
    if trace.grad_hidden is None:
        raise ValueError(_(
            "{what} needs gradients, but this trace has none (grad_hidden is None). "
            "Pass a target to rnnviz.trace(model, x, target) so it runs the backward pass."
        ).format(what=what))
    return trace.grad_hidden


def require_gates(trace: Trace, what: str) -> None:
    if trace.cell_type == "elman" or not trace.gates:
        raise ValueError(_(
            "{what} needs gates, but this is an Elman trace: an Elman RNN has no gates "
            "(h_t = tanh(W_ih x_t + W_hh h_(t-1) + b)). Use an 'lstm' or 'gru' model."
        ).format(what=what))


def model_of(trace: Trace) -> str:
    """What must agree between traces shown together: the model's shape and the batch's."""
    return (f"{trace.cell_type.upper()} with {trace.num_layers} layer(s) x {trace.num_directions} "
            f"direction(s) of H={trace.hidden_size} on a batch of shape {tuple(trace.hidden.shape[1:3])}")


def input_labels(trace: Trace, sample: int) -> tuple[list[str], list[str]]:
    """Short text shown in each input box and a longer hover text, per step."""
    x = trace.inputs[sample]
    short, hover = [], []
    for t in range(trace.seq_len):
        if x.dim() == 1:
            v = int(x[t])
            short.append(str(v))
            hover.append(_("symbol id {id}").format(id=v))
        else:
            vals = as_numpy(x[t])
            short.append(f"{vals[0]:.2g}" if vals.size == 1 else "")
            shown = ", ".join(f"{v:.3f}" for v in vals[:6]) + (", …" if vals.size > 6 else "")
            hover.append(f"[{shown}]")
    return short, hover
