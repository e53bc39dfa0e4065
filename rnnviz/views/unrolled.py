"""The network unrolled in time: one box per step, its hidden units as a coloured strip."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import plotly.graph_objects as go

from rnnviz._types import Trace
from rnnviz.i18n import N_, _, uses_language
from rnnviz.views import _data as D
from rnnviz.views import _live as L
from rnnviz.views import _style as S
from rnnviz.views.heatmaps import sample_name

INPUT_COLOR = "#E69F00"  # the same colours as plot_task_shapes: input orange,
OUTPUT_COLOR = "#56B4E9"  # output sky blue
GRAD_COLOR = "#D55E00"  # BPTT adjoints: vermillion
# Up to this many steps every step is its own box with its own arrows. Beyond, boxes and
# arrows would overlap (at T = 100 a step gets ~9 px of a projector-wide figure), so each
# layer becomes one outlined band of strips with one "time flows" arrow, and the vertical
# arrows (and BPTT arrows) are drawn every ``stride(T)``-th step only.
MAX_BOXES = 32


def stride(T: int) -> int:
    """Every how many steps arrows are drawn: 1 up to MAX_BOXES steps, then T / MAX_BOXES."""
    return 1 if T <= MAX_BOXES else -(-T // MAX_BOXES)


@dataclass
class Strip:
    """One (layer, direction) row of boxes."""

    row: int
    layer: int
    direction: int
    y0: float
    y1: float

    @property
    def yc(self) -> float:
        return (self.y0 + self.y1) / 2


@dataclass
class Geometry:
    """Where everything is, and which trace holds what (used by the animations)."""

    T: int
    width: float
    length: int
    y_low: float
    y_top: float
    strips: list[Strip] = field(default_factory=list)
    norms: dict[int, np.ndarray] = field(default_factory=dict)  # row -> (T,) ||dL/dh_t||
    n_max: float = 1.0
    i_highlight: int = -1
    i_grad: int = -1
    i_grad_hover: int = -1


def _arrow_trace(segments: list[tuple[float, float, float, float]], *, color: str, size: float,
                 width: float, name: str, opacity: float = 1.0) -> go.Scatter:
    """Many arrows in one trace: None-separated segments, an arrow marker at each end."""
    xs, ys, sizes = [], [], []
    for x0, y0, x1, y1 in segments:
        xs += [x0, x1, None]
        ys += [y0, y1, None]
        sizes += [0, size, 0]
    return go.Scatter(x=xs, y=ys, mode="lines+markers", name=name, hoverinfo="skip",
                      showlegend=False, opacity=opacity, line={"color": color, "width": width},
                      marker={"symbol": "arrow", "angleref": "previous", "size": sizes,
                              "color": color})


def highlight_xy(geom: Geometry, t: int | None) -> tuple[list, list]:
    if t is None:
        return [], []
    x0, x1 = t - geom.width / 2 - 0.08, t + geom.width / 2 + 0.08
    y0, y1 = geom.y_low - 0.1, geom.y_top + 0.1
    return [x0, x1, x1, x0, x0], [y0, y0, y1, y1, y0]


def grad_arrows(geom: Geometry, shown: dict[int, range]) -> tuple[list, list, list, list, list]:
    """Polygons for the adjoint arrows t+1 -> t (forward rows) or t-1 -> t (reverse rows),
    thickness proportional to ||dL/dh_t||; plus hover points at their middles."""
    xs, ys, hx, hy, htext = [], [], [], [], []
    w, hl = geom.width, 0.1
    for st in geom.strips:
        norms = geom.norms[st.row]
        half = (st.y1 - st.y0) / 2
        for t in shown.get(st.row, range(0)):
            src = t + 1 if st.direction == 0 else t - 1
            if not (0 <= src < geom.length and t < geom.length):
                continue
            hw = half * (0.06 + 0.6 * float(norms[t]) / geom.n_max)
            hh = min(hw + 0.05, half * 0.95)
            sgn = 1 if st.direction == 0 else -1  # arrow points left for forward rows
            xs_, xe = src - sgn * w / 2, t + sgn * w / 2
            xh, y = xe + sgn * hl, st.yc
            xs += [xs_, xh, xh, xe, xh, xh, xs_, xs_, None]
            ys += [y + hw, y + hw, y + hh, y, y - hh, y - hw, y - hw, y + hw, None]
            hx.append((xs_ + xe) / 2)
            hy.append(y)
            htext.append(f"{_strip_name(st)}<br>t = {t}<br>‖dL/dh_t‖ = {float(norms[t]):.4g}")
    return xs, ys, hx, hy, htext


def _strip_name(st: Strip) -> str:
    """``"layer 0 forward →"``, in the language in force."""
    return _("layer {layer} {direction}").format(layer=st.layer,
                                                 direction=_(S.DIRECTION_NAMES[st.direction]))


def _relu(trace: Trace) -> bool:
    return trace.cell_type == "elman" and trace.nonlinearity == "relu"


def _strip_numbers(trace: Trace, sample: int, rows: list[int],
                   by_grad: bool) -> tuple[list[np.ndarray], float, float]:
    """The numbers of the state strips, per row: (H, 2T - 1) values with a NaN gap column
    between the steps (h_t, or dL/dh_t if ``by_grad``), and their colour range:
    [-b, b] with b = max |dL/dh_t|, [0, max h_t] for a ReLU Elman, else [-1, 1]."""
    source = trace.grad_hidden if by_grad else trace.hidden
    zs = [D.state(trace, source, row, sample) for row in rows]  # (H, T) each
    H, T = trace.hidden_size, trace.seq_len
    zzs = []
    for z in zs:
        zz = np.full((H, 2 * T - 1), np.nan)
        zz[:, ::2] = z
        zzs.append(zz)
    if by_grad:
        big = D.finite_max(zs, absolute=True)
        return zzs, -big, big
    if _relu(trace):
        return zzs, 0.0, D.finite_max(zs)
    return zzs, -1.0, 1.0


def build_unrolled(trace: Trace, sample: int, layer: int | None, backward: bool, step,
                   theme: str, *, grad_arrows_shown: bool = True,
                   color_by_grad: bool | None = None) -> tuple[go.Figure, Geometry]:
    trace = D.check_trace(trace)
    pal = S.palette(theme)
    s = D.check_sample(trace, sample)
    if backward:
        D.require_grads(trace, "plot_unrolled(backward=True)")
    T, H = trace.seq_len, trace.hidden_size
    if step is not None:
        step = D.check_index("step", step, T, N_("sequence has steps"))
    sel = D.rows(trace, layer)
    layers = sorted({lay for _u, lay, _u in sel})
    Dn = trace.num_directions
    width = 0.62 if T <= 24 else (0.7 if T <= MAX_BOXES else 0.8)
    every = stride(T)
    length = D.length_of(trace, s)
    by_grad = backward if color_by_grad is None else color_by_grad
    geom = Geometry(T=T, width=width, length=length, y_low=-0.35 if layers[0] == 0 else 0.6,
                    y_top=1.6 * len(layers) + 0.9)
    for k, lay in enumerate(layers):
        yc = 1.5 + 1.6 * k
        for d in range(Dn):
            y0, y1 = (yc - 0.5, yc + 0.5) if Dn == 1 else (
                (yc + 0.03, yc + 0.5) if d == 0 else (yc - 0.5, yc - 0.03))
            geom.strips.append(Strip(trace.index(lay, d), lay, d, y0, y1))
    fig = go.Figure()
    # 1. the state strips: one heatmap per (layer, direction), gaps between the steps
    zzs, lo, hi = _strip_numbers(trace, s, [st.row for st in geom.strips], by_grad)
    if by_grad:
        scale, sym, fmt = S.GRAD_SCALE, "dL/dh", ".3e"
    elif _relu(trace):
        scale, sym, fmt = S.RELU_SCALE, "h", ".4f"
    else:
        scale, sym, fmt = S.STATE_SCALE, "h", ".4f"
    xe = np.ravel([[t - width / 2, t + width / 2] for t in range(T)])
    for k, (st, zz) in enumerate(zip(geom.strips, zzs, strict=True)):
        cd = np.zeros((H, 2 * T - 1, 2), dtype=np.int32)
        cd[:, :, 0] = np.arange(2 * T - 1)[None, :] // 2
        cd[:, :, 1] = np.arange(H)[:, None]
        fig.add_trace(go.Heatmap(
            z=zz, x=xe, y=np.linspace(st.y0, st.y1, H + 1), customdata=cd, colorscale=scale,
            zmin=lo, zmax=hi, showscale=k == 0, hoverongaps=False, name=f"{sym} strip",  # i18n-ignore: an id
            colorbar=S.colorbar(_("dL/dh_t (adjoint)") if by_grad else _("h_t (hidden state)"),
                                length=0.8),
            hovertemplate=_("{where}<br>unit {unit}<br>t = {t}<br>{symbol} = {value}").format(
                where=_strip_name(st), unit="%{customdata[1]}", t="%{customdata[0]}",
                symbol=sym, value=f"%{{z:{fmt}}}") + "<extra></extra>"))
    # 2. box outlines (one trace): a box per step, or one band per layer for long sequences
    bx, by = [], []
    for k in range(len(layers)):
        yc = 1.5 + 1.6 * k
        for t in range(T) if every == 1 else [None]:
            x0, x1 = (t - width / 2, t + width / 2) if t is not None else \
                (-width / 2, T - 1 + width / 2)
            bx += [x0, x1, x1, x0, x0, None]
            by += [yc - 0.5, yc - 0.5, yc + 0.5, yc + 0.5, yc - 0.5, None]
    fig.add_trace(go.Scatter(x=bx, y=by, mode="lines", line={"color": pal.fg, "width": 1.5},
                             hoverinfo="skip", showlegend=False, name="cells"))  # i18n-ignore: an id
    # 3. recurrent arrows (reverse rows point left) and vertical arrows
    size = float(np.clip(260 / T, 6, 13))
    rec = []
    for st in geom.strips:
        if every > 1:  # one arrow along the band, just above it: h_t feeds step t + 1
            y = st.y1 + 0.13 if st.direction == 0 else st.y0 - 0.13
            a, b = -width / 2, T - 1 + width / 2
            rec.append((a, y, b, y) if st.direction == 0 else (b, y, a, y))
            continue
        for t in range(T - 1):
            a, b = t + width / 2, t + 1 - width / 2
            rec.append((a, st.yc, b, st.yc) if st.direction == 0 else (b, st.yc, a, st.yc))
    fig.add_trace(_arrow_trace(rec, color=pal.fg, size=size if every == 1 else 11,
                               width=1.5, name="recurrence",  # i18n-ignore: an id
                               opacity=0.35 if backward else 1.0))
    ups = []
    for t in range(0, T, every):
        if layers[0] == 0:
            ups.append((t, 0.25, t, 0.98))
        for k in range(len(layers)):
            yc = 1.5 + 1.6 * k
            top = yc + 1.08 if k < len(layers) - 1 else geom.y_top - 0.3
            ups.append((t, yc + 0.5, t, top))
    fig.add_trace(_arrow_trace(ups, color=pal.fg, size=size, width=1.2,
                               name="layer to layer"))  # i18n-ignore: an id
    # 4. inputs below, outputs on top
    short, hover = D.input_labels(trace, s)
    show_text = T <= 30
    if layers[0] == 0:
        fig.add_trace(go.Scatter(
            x=np.arange(T), y=np.zeros(T), mode="markers+text" if show_text else "markers",
            text=short, textfont={"size": S.FONT_SIZE - 2, "color": "#1a1a1a"},
            customdata=hover, name="x_t", showlegend=False,
            marker={"symbol": "square", "size": float(np.clip(900 / T if every == 1 else 450 / T,
                                                              4, 30)),
                    "color": INPUT_COLOR, "line": {"width": 0}},
            hovertemplate=_("x_t at t = {t}").format(t="%{x}")
            + "<br>%{customdata}<extra></extra>"))
    fig.add_trace(go.Scatter(
        x=np.arange(T), y=np.full(T, geom.y_top - 0.15), mode="markers", name="h_t out",  # i18n-ignore: an id
        marker={"symbol": "circle", "size": float(np.clip(600 / T if every == 1 else 400 / T,
                                                          4, 18)),
                "color": OUTPUT_COLOR}, showlegend=False,
        hovertemplate=_("top layer output h_t at t = {t}").format(t="%{x}")
        + "<extra></extra>"))
    # 5. padded steps greyed out
    if length < T:
        x0, x1 = length - 0.5, T - 0.5
        fig.add_trace(go.Scatter(x=[x0, x1, x1, x0, x0],
                                 y=[geom.y_low, geom.y_low, geom.y_top, geom.y_top, geom.y_low],
                                 fill="toself", fillcolor=pal.muted, line={"width": 0},
                                 mode="lines", name="padding", showlegend=False,  # i18n-ignore: an id
                                 hovertemplate=_("padding (t ≥ length)") + "<extra></extra>"))
    # 6. backward pass: arrows scaled by ||dL/dh_t||
    if trace.grad_hidden is not None:
        for st in geom.strips:
            g = D.as_numpy(trace.grad_hidden[st.row, s])  # (T, H)
            geom.norms[st.row] = np.linalg.norm(g, axis=-1)
        geom.n_max = D.finite_max([n[:length] for n in geom.norms.values()], default=1e-30)
    shown = {st.row: range(0, T, every) for st in geom.strips} \
        if backward and grad_arrows_shown else {}
    gx, gy, hx, hy, ht = grad_arrows(geom, shown) if geom.norms else ([], [], [], [], [])
    geom.i_grad = len(fig.data)
    fig.add_trace(go.Scatter(x=gx, y=gy, fill="toself", fillcolor=GRAD_COLOR, mode="lines",
                             line={"width": 0, "color": GRAD_COLOR}, hoverinfo="skip",
                             name="dL/dh_t flowing back", showlegend=False))  # i18n-ignore: an id
    geom.i_grad_hover = len(fig.data)
    fig.add_trace(go.Scatter(x=hx, y=hy, mode="markers", text=ht, showlegend=False,
                             marker={"size": 10, "color": GRAD_COLOR, "opacity": 0},
                             hovertemplate="%{text}<extra></extra>", name="‖dL/dh_t‖"))
    # 7. the highlighted step
    geom.i_highlight = len(fig.data)
    hx_, hy_ = highlight_xy(geom, step)
    fig.add_trace(go.Scatter(x=hx_, y=hy_, mode="lines", hoverinfo="skip", showlegend=False,
                             line={"color": pal.accent, "width": 4}, name="step"))  # i18n-ignore: an id
    # 8. axes and title
    ticks, labels = [], []
    if layers[0] == 0:
        ticks, labels = [0.0], [_("input x_t")]
    for st in geom.strips:
        ticks.append(st.yc)
        arrow = "" if Dn == 1 else (" →" if st.direction == 0 else " ←")
        labels.append(_("layer {layer}").format(layer=st.layer) + arrow)
    ticks.append(geom.y_top - 0.15)
    labels.append(_("output h_t"))
    fig.update_yaxes(tickvals=ticks, ticktext=labels, showgrid=False, zeroline=False,
                     range=[geom.y_low - 0.3, geom.y_top + 0.3])
    fig.update_xaxes(title_text=_("time step t"), showgrid=False, zeroline=False,
                     range=[-0.7, T - 0.3])
    what = _("backward pass: dL/dh_t flows right to left") if backward else \
        _("forward pass: each box is one step, its stripes the hidden units") if every == 1 else \
        _("forward pass: each column is one step ({T} steps, arrows every {every}), its "
          "stripes the hidden units").format(T=T, every=every)
    S.apply_theme(fig, theme, title=_("{cell} unrolled in time — {sample}").format(
        cell=trace.cell_type.upper(), sample=sample_name(s, length, T)))
    fig.update_layout(title_subtitle_text=what, height=230 + 190 * len(layers),
                      margin={"t": 110})
    return fig, geom


@uses_language
def plot_unrolled(trace: Trace, *, sample: int = 0, step: int | None = None,
                  backward: bool = False, layer: int | None = None,
                  theme: str = "auto", lang: str | None = None) -> go.Figure:
    """The recurrent network unrolled in time.

    One box per step and layer (layers stacked, x_t below, h_t above); inside each box a
    strip of the hidden units coloured by h_t. Recurrent arrows join step t to t+1
    (reverse-direction rows point left). ``step`` outlines one step.

    Long sequences stay readable (up to T = 100 and beyond) by drawing fewer marks, never
    fewer steps: past ``MAX_BOXES`` (32) steps each layer is one outlined band of per-step
    strips with one recurrence arrow along it (instead of a box and an arrow per step, which
    would overlap), the vertical arrows, and the BPTT arrows, are drawn every
    ``stride(T)``-th step, and the input and output markers shrink to fit their steps. ``backward=True``
    colours the strips by dL/dh_t and draws the BPTT arrows t+1 -> t with thickness
    proportional to ||dL/dh_t|| (the trace needs gradients: trace with a target).
    Padded steps (t >= lengths[sample]) are greyed out. ``lang`` (``"en"``, ``"ru"``)
    overrides :func:`rnnviz.set_language` for this figure.
    """
    S.check_theme(theme)
    if not isinstance(backward, bool):
        raise TypeError(_("backward must be a bool, got {value!r}").format(value=backward))
    return build_unrolled(trace, sample, layer, backward, step, theme)[0]


# ----------------------------------------------------------------------------- live view
# The dashboard shows the last layer's forward pass for one sample; the time cursor
# outlines its step (the "highlight" trace).
LIVE_LAYER = -1


def update_unrolled(trace: Trace, sample: int) -> list[L.Change]:
    """What changes in :func:`live_unrolled`'s figure: the strips' h_t (and the colour
    range's top for a ReLU Elman)."""
    rows = [row for row, _u, _u in D.rows(trace, LIVE_LAYER)]
    zzs, _lo, hi = _strip_numbers(trace, sample, rows, False)
    out = [L.array(k, "z", zz) for k, zz in enumerate(zzs)]  # the strips are traces 0..
    if _relu(trace):
        out += [L.value(k, "zmax", hi) for k in range(len(zzs))]
    return out


def live_unrolled(trace: Trace, *, sample: int, theme: str) -> L.LiveView:
    """:func:`plot_unrolled` of the last layer, live (:func:`update_unrolled`)."""
    fig, geom = build_unrolled(trace, sample, LIVE_LAYER, False, None, theme)
    highlight = {"trace": geom.i_highlight, "width": geom.width, "y_low": geom.y_low,
                 "y_top": geom.y_top}
    return L.LiveView(fig, update_unrolled, grid="wide", height=380, highlight=highlight)
