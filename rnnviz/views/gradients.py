"""Gradients through time: the BPTT adjoint ||dL/dh_t|| and the Jacobian norms ||dh_T/dh_t||."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from rnnviz._types import Trace
from rnnviz.i18n import _, uses_language
from rnnviz.views import _data as D
from rnnviz.views import _live as L
from rnnviz.views import _style as S
from rnnviz.views.heatmaps import Panel, axis_refs, heatmap, pad_shape


@runtime_checkable
class JacobianNormsLike(Protocol):
    """What ``plot_jacobian`` reads (``rnnviz.JacobianNorms`` has it)."""

    norms: Any  # (T,) ||dh_T/dh_t||
    distance: Any  # (T,) T - t
    spectral_radius: float | None


@dataclass
class GradInfo:
    """Which traces the grad-flow animation updates, with their full data."""

    lines: list[tuple[int, np.ndarray, np.ndarray]] = field(default_factory=list)
    panels: list[Panel] = field(default_factory=list)


def _norms(trace: Trace, tensor, row: int, sample: int | None) -> np.ndarray:
    """(T,) ||grad_t|| for one sample, or its mean over the batch (real steps only)."""
    n = np.linalg.norm(D.as_numpy(tensor[row]), axis=-1)  # (B, T)
    mask = D.real_mask(trace)
    n = np.where(mask, n, np.nan)
    if sample is not None:
        return n[sample]
    return _mean_over_batch(n)


def _mean_over_batch(n: np.ndarray) -> np.ndarray:
    """(B, T) -> (T,) mean of the finite entries per step (NaN if none)."""
    ok = np.isfinite(n)  # (B, T)
    count = ok.sum(axis=0)  # (T,)
    total = np.where(ok, n, 0.0).sum(axis=0)  # (T,)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def _heat(trace: Trace, row: int, sample: int | None) -> np.ndarray:
    """(H, T) dL/dh_t for one sample, or the batch mean over real steps."""
    g = D.as_numpy(trace.grad_hidden[row])  # (B, T, H)
    mask = D.real_mask(trace)
    if sample is not None:
        return D.state(trace, trace.grad_hidden, row, sample)
    g = np.where(mask[:, :, None], g, 0.0).sum(axis=0)  # (T, H)
    count = mask.sum(axis=0)[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, g / count, np.nan).T


def _log_range(ys: list[np.ndarray]) -> list[float] | None:
    """A fixed log10 axis range that holds every finite value (so animations do not jump)."""
    v = np.concatenate([y[np.isfinite(y)] for y in ys]) if ys else np.array([])
    if not v.size:
        return None
    lo, hi = np.log10(v.min()), np.log10(v.max())
    pad = max(0.1, 0.05 * (hi - lo))
    return [float(lo - pad), float(hi + pad)]


def _positive(a: np.ndarray) -> np.ndarray:
    """Log axes cannot show 0: make it a gap."""
    return np.where(a > 0, a, np.nan)


def _grad_numbers(trace: Trace, sample: int | None, sel: list[tuple[int, int, int]]
                  ) -> tuple[list[list[np.ndarray]], list[np.ndarray], float]:
    """The numbers of the gradient-flow figure, per row of ``sel``: the (T,) norms
    ||dL/dh_t|| (and ||dL/dc_t||), 0 as NaN for the log axis; the (H, T) heatmap of dL/dh_t;
    and b = max |dL/dh_t| over all heatmaps (their colour range is [-b, b])."""
    tensors = [trace.grad_hidden] + ([trace.grad_cell] if trace.grad_cell is not None else [])
    lines = [[_positive(_norms(trace, tensor, row, sample)) for tensor in tensors]
             for row, _u, _u in sel]
    heats = [_heat(trace, row, sample) for row, _u, _u in sel]
    return lines, heats, D.finite_max(heats, absolute=True)


def build_grad_flow(trace: Trace, sample, layer, theme: str) -> tuple[go.Figure, GradInfo]:
    trace = D.check_trace(trace)
    S.check_theme(theme)
    D.require_grads(trace, "plot_grad_flow")
    s = D.check_sample(trace, sample, allow_none=True)
    sel = D.rows(trace, layer)
    T, H, n = trace.seq_len, trace.hidden_size, len(sel)
    specs = [[{"rowspan": n}, {}]] + [[None, {}] for _u in range(n - 1)]
    titles = [_("‖dL/dh_t‖ through time")] + [f"dL/dh_t · {D.row_name(trace, lay, d)}"
                                              for _row, lay, d in sel]
    fig = make_subplots(rows=n, cols=2, specs=specs, column_widths=[0.44, 0.56],
                        horizontal_spacing=0.1, vertical_spacing=0.3 / n, subplot_titles=titles)
    info = GradInfo()
    lines, heats, big = _grad_numbers(trace, s, sel)
    t = np.arange(T)
    length = T if s is None else D.length_of(trace, s)
    for k, (_row, lay, d) in enumerate(sel):
        color = S.OKABE_ITO[k % 6]
        where = D.row_name(trace, lay, d)
        series = [("h", "solid")] + ([("c", "dash")] if trace.grad_cell is not None else [])
        for (sym, dash), y in zip(series, lines[k], strict=True):
            info.lines.append((len(fig.data), t, y))
            fig.add_trace(go.Scatter(
                x=t, y=D.sig_rounded(y), mode="lines+markers", name=f"‖dL/d{sym}_t‖ {where}",
                line={"color": color, "dash": dash, "width": 3}, marker={"size": 7},
                hovertemplate=f"{where}<br>t = %{{x}}<br>‖dL/d{sym}_t‖ = %{{y:.4g}}"
                "<extra></extra>"), row=1, col=1)
        fig.add_trace(heatmap(D.sig_rounded(heats[k]), where=where, symbol="dL/dh",
                              scale=S.GRAD_SCALE, zmin=-big, zmax=big, fmt=".3e",
                              showscale=k == 0, colorbar=S.colorbar("dL/dh_t", length=0.8)),
                      row=k + 1, col=2)
        xref, yref = axis_refs(fig, k + 1, 2)
        pad_shape(fig, xref, yref, length, T, theme)
        info.panels.append(Panel(xref, yref, H, d, length))
        fig.update_yaxes(title_text=_("unit"), row=k + 1, col=2, showgrid=False, zeroline=False,
                         range=[-0.5, H - 0.5])
        fig.update_xaxes(showgrid=False, zeroline=False, row=k + 1, col=2, range=[-0.5, T - 0.5])
    y_range = _log_range([y for _u, _u, y in info.lines])
    fig.update_yaxes(type="log", title_text=_("gradient norm (log)"), tickformat=".2~g", row=1, col=1,
                     range=y_range, dtick=S.log_dtick(*y_range) if y_range else None)
    fig.update_xaxes(title_text=_("time step t"), row=1, col=1, range=[-0.5, T - 0.5])
    fig.update_xaxes(title_text=_("time step t"), row=n, col=2)
    who = _("mean over the batch") if s is None else _("sample {s}").format(s=s)
    S.apply_theme(fig, theme, title=_("Gradient flow (BPTT) — {cell} · {who}").format(
        cell=trace.cell_type.upper(), who=who))
    fig.update_layout(height=240 + n * 280, legend={"orientation": "h", "y": 0, "x": 0, "yref": "container",
                                                    "yanchor": "bottom"},
                      title_subtitle_text=_("the loss gradient flows from late steps back to "
                                            "early ones; it shrinks (vanishes) or grows "
                                            "(explodes) on the way"))
    fig.update_layout(margin={"t": 130, "b": 120})
    return fig, info


@uses_language
def plot_grad_flow(trace: Trace, *, sample: int | None = None, layer: int | None = None,
                   theme: str = "auto", lang: str | None = None) -> go.Figure:
    """Left: ||dL/dh_t|| (and ||dL/dc_t|| for an LSTM, dashed) against t on a log scale.
    Right: units x time heatmap of dL/dh_t with a symmetric diverging scale.

    Args:
        trace: a Trace with gradients (``rnnviz.trace(model, x, target)``).
        sample: one sequence, or ``None`` for the mean over the batch (real steps only).
        layer: one layer or ``None`` for all.
        lang: ``"en"`` or ``"ru"`` for this figure only (default: :func:`rnnviz.set_language`).
    """
    return build_grad_flow(trace, sample, layer, theme)[0]


# ----------------------------------------------------------------------------- live view
# The dashboard shows the last layer, averaged over the probe batch.
LIVE_LAYER = -1


def update_grad_flow(trace: Trace, sample: int | None = None) -> list[L.Change]:
    """What changes in :func:`live_grad_flow`'s figure: the norm curves, the heatmaps and
    their shared colour range (nothing for a trace without gradients). ``sample`` is
    ignored: the live figure is the batch mean."""
    if trace.grad_hidden is None:
        return []
    lines, heats, big = _grad_numbers(trace, None, D.rows(trace, LIVE_LAYER))
    out: list[L.Change] = []
    k = 0
    for ys, heat in zip(lines, heats, strict=True):  # per row: its curves, then its heatmap
        for y in ys:
            out.append(L.array(k, "y", D.sig_rounded(y)))
            k += 1
        out += [L.array(k, "z", D.sig_rounded(heat)), L.symmetric(k, big)]
        k += 1
    return out


def live_grad_flow(trace: Trace, *, sample: int | None = None, theme: str) -> L.LiveView:
    """:func:`plot_grad_flow` of the last layer, batch mean, live (:func:`update_grad_flow`)."""
    fig, info = build_grad_flow(trace, None, LIVE_LAYER, theme)

    def dashboard_layout(fig: go.Figure) -> None:
        """Half a dashboard: no subtitle, legend below, no "unit" title by the heatmaps
        (it would run into the curves)."""
        fig.update_layout(legend={"orientation": "h", "y": -0.22, "x": 0},
                          margin={"b": 110, "t": 80}, title_subtitle_text=None)
        for p in info.panels:
            fig.layout[f"yaxis{p.yref[1:]}"].title.text = None

    time_axes = [["x", "y"]] + [[p.xref, p.yref] for p in info.panels]
    return L.LiveView(fig, update_grad_flow, time_axes=time_axes, grid="half", height=400,
                      dashboard_layout=dashboard_layout)


def _as_series(norms: Any) -> list[tuple[str, JacobianNormsLike]]:
    if isinstance(norms, JacobianNormsLike):
        return [("", norms)]
    if isinstance(norms, Mapping):
        items = [(str(k), v) for k, v in norms.items()]
    elif isinstance(norms, Sequence) and not isinstance(norms, str):
        items = [(_("run {i}").format(i=i), v) for i, v in enumerate(norms)]
    else:
        items = [("", norms)]
    if not items:
        raise ValueError(_("norms must hold at least one JacobianNorms, got an empty "
                           "collection"))
    for label, v in items:
        if not isinstance(v, JacobianNormsLike):
            raise TypeError(_(
                "norms must be a JacobianNorms (from rnnviz.jacobian_norms) or a list / dict "
                "of them; {label} is {type}, which has no .norms, .distance and "
                ".spectral_radius").format(label=label or _("the value"), type=type(v).__name__))
    return items


@uses_language
def plot_jacobian(norms: Any, *, theme: str = "auto", lang: str | None = None) -> go.Figure:
    """||dh_T/dh_t|| against the distance T - t on a log scale, with the spectral radius.

    Args:
        norms: a ``JacobianNorms`` (fields ``norms`` (T,), ``distance`` (T,),
            ``spectral_radius``), or a list or ``{label: JacobianNorms}`` dict to compare.
        lang: ``"en"`` or ``"ru"`` for this figure only (default: :func:`rnnviz.set_language`).
    A dotted guide rho^(T-t) shows how the norm would fall with the spectral radius rho of
    W_hh alone: rho < 1 -> gradients vanish; rho > 1 -> they can explode.
    """
    S.check_theme(theme)
    series = _as_series(norms)
    fig = go.Figure()
    notes = []
    for k, (raw_label, jn) in enumerate(series):
        label = S.escape(raw_label)  # user text: shown, never markup
        y = D.as_numpy(jn.norms).ravel()
        x = D.as_numpy(jn.distance).ravel()
        if x.shape != y.shape:
            raise ValueError(_("norms.norms and norms.distance must have the same length, "
                               "got {a} and {b}").format(a=y.size, b=x.size))
        order = np.argsort(x)
        x, y = x[order], y[order]
        color = S.OKABE_ITO[k % 6]
        rho = jn.spectral_radius
        name = label or "‖dh_T/dh_t‖"
        if rho is not None:
            name += f" (ρ = {float(rho):.3g})"
            radius = _("spectral radius ρ(W_hh) = {rho}").format(rho=f"{float(rho):.3g}")
            notes.append(f"{label}: {radius}" if label else radius)
        fig.add_trace(go.Scatter(
            x=x, y=D.sig_rounded(_positive(y)), mode="lines+markers", name=name,
            line={"color": color, "width": 3}, marker={"size": 8},
            hovertemplate=f"{label or _('run')}<br>T − t = %{{x}}<br>‖dh_T/dh_t‖ = %{{y:.4g}}"
            "<extra></extra>"))
        ok = np.isfinite(_positive(y))
        if rho is not None and float(rho) > 0 and ok.any():
            x0, y0 = x[ok][0], y[ok][0]
            fig.add_trace(go.Scatter(
                x=x, y=D.sig_rounded(_positive(y0 * float(rho) ** (x - x0))), mode="lines",
                line={"color": color, "dash": "dot", "width": 2}, name=f"ρ^(T−t) {label}",
                hoverinfo="skip"))
    fig.update_xaxes(title_text=_("distance T − t (steps back in time)"))
    fig.update_yaxes(type="log", title_text="‖dh_T/dh_t‖ (log)")
    shown = _log_range([_positive(np.asarray(tr.y, dtype=float)) for tr in fig.data])  # guides too
    fig.update_yaxes(tickformat=".2~g", dtick=S.log_dtick(*shown) if shown else None)
    S.apply_theme(fig, theme, title=_("How far back can the gradient reach?"))
    # two short lines (a half-width or projector slot is ~600 px): the radii of several runs
    # are in the legend names
    if len(notes) > 1:
        notes = [_("ρ (in the legend): the spectral radius of each run's W_hh")]
    sub = "<br>".join(notes + [_("ρ < 1: the gradient vanishes") + "; "
                               + _("ρ > 1: it can explode")])
    fig.update_layout(height=580, legend={"orientation": "h", "y": 0, "x": 0, "yref": "container",
                                        "yanchor": "bottom"},
                      margin={"b": 130, "t": 120 + 20 * (len(notes) > 0)},
                      title_subtitle_text=sub)
    return fig
