"""Heatmaps of a Trace: hidden states, gates, and gate saturation (Karpathy et al. 2015)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from rnnviz._types import Trace
from rnnviz.i18n import N_, _, uses_language
from rnnviz.views import _data as D
from rnnviz.views import _live as L
from rnnviz.views import _style as S


@dataclass
class Panel:
    """One heatmap subplot, so animations can cover its not-yet-computed steps."""

    xref: str
    yref: str
    height: int  # number of units H
    direction: int
    length: int  # real length of the sample


def axis_refs(fig: go.Figure, row: int, col: int) -> tuple[str, str]:
    sub = fig.get_subplot(row, col)
    return (sub.xaxis.plotly_name.replace("axis", ""), sub.yaxis.plotly_name.replace("axis", ""))


def heatmap(z: np.ndarray, *, where: str, symbol: str, scale: str, zmin: float, zmax: float,
            fmt: str = ".4f", showscale: bool = False, colorbar: dict | None = None) -> go.Heatmap:
    """Units x time heatmap; hover shows (layer, unit, t) and the exact value."""
    H, T = z.shape
    return go.Heatmap(
        z=z, x=np.arange(T), y=np.arange(H), colorscale=scale, zmin=zmin, zmax=zmax,
        showscale=showscale, colorbar=colorbar, hoverongaps=False, name=f"{symbol} · {where}",
        hovertemplate=_("{where}<br>unit {unit}<br>t = {t}<br>{symbol} = {value}").format(
            where=where, unit="%{y}", t="%{x}", symbol=symbol, value=f"%{{z:{fmt}}}")
        + "<extra></extra>",
    )


def pad_shape(fig: go.Figure, xref: str, yref: str, length: int, T: int, theme: str) -> None:
    """Grey the padded steps t >= length of a subplot (drawn under the NaN cells)."""
    if length < T:
        fig.add_shape(type="rect", xref=xref, yref=f"{yref} domain", x0=length - 0.5,
                      x1=T - 0.5, y0=0, y1=1, fillcolor=S.palette(theme).muted, line_width=0,
                      layer="below")


def _hidden_numbers(trace: Trace, sample: int,
                    sel: list[tuple[int, int, int]]) -> tuple[list[np.ndarray], float | None]:
    """The numbers of the hidden-state heatmaps: one (H, T) h_t per row of ``sel`` (NaN on
    padded steps), and the colour range's top for a ReLU Elman (``None``: fixed [-1, 1])."""
    zs = [D.state(trace, trace.hidden, row, sample) for row, _u, _u in sel]  # (H, T) each
    relu = trace.cell_type == "elman" and trace.nonlinearity == "relu"
    return zs, (D.finite_max(zs) if relu else None)


def build_hidden(trace: Trace, sample: int, layer, theme: str) -> tuple[go.Figure, list[Panel]]:
    trace = D.check_trace(trace)
    S.check_theme(theme)
    s = D.check_sample(trace, sample)
    sel = D.rows(trace, layer)
    T, H, n = trace.seq_len, trace.hidden_size, len(sel)
    length = D.length_of(trace, s)
    zs, top = _hidden_numbers(trace, s, sel)
    if top is not None:
        scale, lo, hi = S.RELU_SCALE, 0.0, top
    else:
        scale, lo, hi = S.STATE_SCALE, -1.0, 1.0
    titles = [D.row_name(trace, lay, d) for _u, lay, d in sel]
    fig = make_subplots(rows=n, cols=1, shared_xaxes=True, vertical_spacing=0.22 / max(n, 1),
                        subplot_titles=titles)
    panels = []
    for k, ((_u, lay, d), z) in enumerate(zip(sel, zs, strict=True)):
        where = D.row_name(trace, lay, d)
        fig.add_trace(heatmap(z, where=where, symbol="h", scale=scale, zmin=lo, zmax=hi,
                              showscale=k == 0, colorbar=S.colorbar(_("h_t (hidden state)"))),
                      row=k + 1, col=1)
        xref, yref = axis_refs(fig, k + 1, 1)
        pad_shape(fig, xref, yref, length, T, theme)
        panels.append(Panel(xref, yref, H, d, length))
        fig.update_yaxes(title_text=_("unit"), row=k + 1, col=1, range=[-0.5, H - 0.5])
        fig.update_xaxes(range=[-0.5, T - 0.5], row=k + 1, col=1)
    fig.update_xaxes(title_text=_("time step t"), row=n, col=1)
    S.apply_theme(fig, theme, title=_("Hidden states h_t — {cell} · {sample}").format(
        cell=trace.cell_type.upper(), sample=sample_name(s, length, T)))
    fig.update_layout(height=160 + n * max(220, min(360, 9 * H)))
    fig.update_xaxes(showgrid=False, zeroline=False)
    fig.update_yaxes(showgrid=False, zeroline=False)
    return fig, panels


def sample_name(s: int, length: int, T: int) -> str:
    """``"sample 3"``, with its real length if it is padded: ``"sample 3 · real length 5 of 8"``."""
    if length < T:
        return _("sample {s} · real length {length} of {T}").format(s=s, length=length, T=T)
    return _("sample {s}").format(s=s)


@uses_language
def plot_hidden(trace: Trace, *, sample: int = 0, layer: int | None = None,
                theme: str = "auto", lang: str | None = None) -> go.Figure:
    """Units x time heatmap of h_t, one panel per layer and direction.

    Colour: diverging and fixed at [-1, 1] for tanh states (white = 0), [0, max] for a
    ReLU Elman. Padded steps (t >= lengths[sample]) are grey.

    Args:
        trace: from ``rnnviz.trace``.
        sample: which sequence of the batch.
        layer: one layer (negative ok) or ``None`` for all.
        theme: ``"light"``, ``"dark"`` or ``"auto"``.
        lang: ``"en"`` or ``"ru"`` for this figure only (default: :func:`rnnviz.set_language`).
    """
    return build_hidden(trace, sample, layer, theme)[0]


def gate_panels(trace: Trace) -> list[tuple[str, str, str, float, float]]:
    """(key, title, scale, zmin, zmax) for each gate panel (and c for the LSTM)."""
    out = []
    for g in trace.gates:
        st = S.GATES[g]
        scale = S.GATE_SCALE if st.low == 0 else S.STATE_SCALE
        out.append((g, st.title, scale, st.low, st.high))
    if trace.cell_type == "lstm" and trace.cell is not None:
        out.append(("c", _(S.CELL_LABEL), S.STATE_SCALE, -1.0, 1.0))
    return out


BAR_TITLES = {"gate": N_("gate (0 closed, 1 open)"), "cand": N_("candidate"),
              "c": N_("c_t (cell state)")}  # translated where shown


def _gates_numbers(trace: Trace, sample: int, row: int) -> list[tuple[np.ndarray, float, float]]:
    """The numbers of the gate heatmaps, per panel of :func:`gate_panels`: the (H, T) values
    (NaN on padded steps) and their colour range; the LSTM's c_t gets [-b, b] with
    b = max(1, max |c_t|)."""
    out = []
    for key, _u, _u, lo, hi in gate_panels(trace):
        z = D.state(trace, trace.cell if key == "c" else trace.gates[key], row, sample)
        if key == "c":
            big = max(1.0, D.finite_max([z], absolute=True))
            lo, hi = -big, big
        out.append((z, lo, hi))
    return out


PAIR_CHARS = 80  # two gate titles side by side longer than this overlap (at ~850 px)


def build_gates(trace: Trace, sample: int, layer: int, direction: int,
                theme: str, wrap: bool = True) -> tuple[go.Figure, list[Panel]]:
    trace = D.check_trace(trace)
    S.check_theme(theme)
    D.require_gates(trace, "plot_gates")
    s = D.check_sample(trace, sample)
    [(row, lay, d)] = D.rows(trace, layer, direction)
    T, H = trace.seq_len, trace.hidden_size
    length = D.length_of(trace, s)
    specs = gate_panels(trace)
    n_rows = (len(specs) + 1) // 2
    titles = [p[1] for p in specs]
    # two gate titles share a row: a long pair (Russian) breaks each after its name
    chars = [len(re.sub(r"<[^>]*>", "", t)) for t in titles]
    wrap = wrap and any(sum(chars[k:k + 2]) > PAIR_CHARS for k in range(0, len(chars), 2))
    if wrap:
        titles = [t.replace(": ", ":<br>", 1) for t in titles]
    fig = make_subplots(rows=n_rows, cols=2, subplot_titles=titles, horizontal_spacing=0.07,
                        vertical_spacing=0.3 / n_rows + (0.05 if wrap else 0.0))
    bar_y = {"gate": 0.8, "cand": 0.45 if len(specs) > 3 else 0.2, "c": 0.12}
    where = D.row_name(trace, lay, d)
    shown: set[str] = set()
    panels = []
    numbers = _gates_numbers(trace, s, row)
    for k, ((key, _u, scale, lo, _hi), (z, lo, hi)) in enumerate(zip(specs, numbers,
                                                                      strict=True)):
        r, c = k // 2 + 1, k % 2 + 1
        kind = "gate" if lo == 0 else ("c" if key == "c" else "cand")
        bar = S.colorbar(_(BAR_TITLES[kind]), y=bar_y[kind], length=0.3)
        fig.add_trace(heatmap(z, where=where, symbol=key, scale=scale, zmin=lo, zmax=hi,
                              showscale=kind not in shown, colorbar=bar), row=r, col=c)
        shown.add(kind)
        xref, yref = axis_refs(fig, r, c)
        pad_shape(fig, xref, yref, length, T, theme)
        panels.append(Panel(xref, yref, H, d, length))
        fig.update_xaxes(range=[-0.5, T - 0.5], row=r, col=c)
        fig.update_yaxes(range=[-0.5, H - 0.5], row=r, col=c)
        if k + 2 >= len(specs):  # the last panel of each column
            fig.update_xaxes(title_text=_("time step t"), row=r, col=c)
        if c == 1:
            fig.update_yaxes(title_text=_("unit"), row=r, col=c)
    S.apply_theme(fig, theme, title=_("{cell} gates — {where} · {sample}").format(
        cell=trace.cell_type.upper(), where=where, sample=sample_name(s, length, T)))
    fig.update_layout(height=160 + n_rows * max(260, min(360, 8 * H)) + (30 if wrap else 0))
    if wrap:  # the first row's two-line titles need room under the figure's title
        fig.update_layout(margin_t=fig.layout.margin.t + 24)
    fig.update_xaxes(showgrid=False, zeroline=False)
    fig.update_yaxes(showgrid=False, zeroline=False)
    return fig, panels


@uses_language
def plot_gates(trace: Trace, *, sample: int = 0, layer: int = 0, direction: int = 0,
               theme: str = "auto", lang: str | None = None) -> go.Figure:
    """One units x time heatmap per gate, titled with the gate's letter and role.

    LSTM: i, f, o in [0, 1] (Viridis), g in [-1, 1], plus the cell state c_t.
    GRU: r, z in [0, 1], n in [-1, 1]. An Elman RNN has no gates (ValueError).
    ``lang`` (``"en"``, ``"ru"``) overrides :func:`rnnviz.set_language` for this figure.
    """
    return build_gates(trace, sample, layer, direction, theme)[0]


def saturation(trace: Trace, row: int, gate: str) -> tuple[np.ndarray, np.ndarray]:
    """Per unit: fraction of real steps (all samples) with gate < 0.1 and > 0.9."""
    v = D.as_numpy(trace.gates[gate][row])  # (B, T, H)
    mask = D.real_mask(trace)[:, :, None]  # (B, T, 1)
    count = max(int(mask.sum()), 1)
    low = ((v < 0.1) & mask).sum(axis=(0, 1)) / count
    high = ((v > 0.9) & mask).sum(axis=(0, 1)) / count
    return low, high


def _saturation_numbers(trace: Trace, row: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The numbers of the saturation plot, per sigmoid gate (LSTM i, f, o; GRU r, z): each
    unit's fraction of time closed (< 0.1) and open (> 0.9), rounded to 4 decimals."""
    return [tuple(D.rounded(a) for a in saturation(trace, row, g))
            for g in S.SIGMOID_GATES[trace.cell_type]]


@uses_language
def plot_gate_saturation(trace: Trace, *, layer: int = 0, direction: int = 0,
                         theme: str = "auto", lang: str | None = None) -> go.Figure:
    """Karpathy, Johnson & Fei-Fei (2015): how often each unit's gates are saturated.

    One dot per unit and sigmoid gate (LSTM i, f, o; GRU r, z): x = fraction of time the
    gate is below 0.1 (left-saturated, closed), y = fraction above 0.9 (right-saturated,
    open), over all samples and real steps. Dots lie in the triangle x + y <= 1.
    ``lang`` (``"en"``, ``"ru"``) overrides :func:`rnnviz.set_language` for this figure.
    """
    trace = D.check_trace(trace)
    S.check_theme(theme)
    D.require_gates(trace, "plot_gate_saturation")
    [(row, lay, d)] = D.rows(trace, layer, direction)
    pal = S.palette(theme)
    where = D.row_name(trace, lay, d)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, 1, 0, 0], y=[1, 0, 0, 1], mode="lines", hoverinfo="skip",
                             line={"color": pal.fg, "dash": "dash", "width": 1.5},
                             name="x + y = 1", showlegend=False))
    units = np.arange(trace.hidden_size)
    for g, (low, high) in zip(S.SIGMOID_GATES[trace.cell_type], _saturation_numbers(trace, row),
                              strict=True):
        st = S.GATES[g]
        fig.add_trace(go.Scatter(
            x=low, y=high, mode="markers", name=st.label,
            customdata=units, marker={"color": st.color, "symbol": st.symbol, "size": 13,
                                      "opacity": 0.85, "line": {"width": 1, "color": pal.fg}},
            hovertemplate=_("{gate}<br>{where}<br>unit {unit}<br>closed (< 0.1): {closed} of t"
                            "<br>open (> 0.9): {open} of t").format(
                gate=st.label, where=where, unit="%{customdata}", closed="%{x:.1%}",
                open="%{y:.1%}") + "<extra></extra>"))
    notes = [(0.03, 0.97, _("always open"), "left"), (0.97, 0.05, _("always closed"), "right"),
             (0.03, 0.03, _("never saturated"), "left")]
    for x, y, text, align in notes:
        fig.add_annotation(x=x, y=y, text=text, showarrow=False, xanchor=align,
                           font={"color": pal.fg}, opacity=0.8)
    # a square that shrinks its domain (not widens its range past 0 % and 100 %) to fit
    fig.update_xaxes(title_text=_("fraction of time closed (gate < 0.1)"), range=[-0.03, 1.03],
                     tickformat=".0%", constrain="domain")
    fig.update_yaxes(title_text=_("fraction of time open (gate > 0.9)"), range=[-0.03, 1.03],
                     tickformat=".0%", scaleanchor="x", scaleratio=1, constrain="domain")
    S.apply_theme(fig, theme, title=_("Gate saturation — {cell} {where}").format(
        cell=trace.cell_type.upper(), where=where))
    # square axes (scaleanchor) inside whatever width the slot has: no fixed width to clip
    fig.update_layout(height=640, legend={"title": {"text": _("gate")},
                                                     "font": {"size": S.FONT_SIZE}})
    return fig


# ----------------------------------------------------------------------------- live views
# The dashboard shows the last layer (all its directions), one sample of the probe batch.
LIVE_LAYER = -1


def update_hidden(trace: Trace, sample: int) -> list[L.Change]:
    """What changes in :func:`live_hidden`'s figure for ``trace``: every panel's h_t (and the
    colour range's top for a ReLU Elman)."""
    zs, top = _hidden_numbers(trace, sample, D.rows(trace, LIVE_LAYER))
    out = [L.array(k, "z", z) for k, z in enumerate(zs)]
    if top is not None:
        out += [L.value(k, "zmax", top) for k in range(len(zs))]
    return out


def live_hidden(trace: Trace, *, sample: int, theme: str) -> L.LiveView:
    """:func:`plot_hidden` of the last layer, live: updated by :func:`update_hidden`."""
    fig, panels = build_hidden(trace, sample, LIVE_LAYER, theme)
    return L.LiveView(fig, update_hidden, time_axes=[[p.xref, p.yref] for p in panels],
                      grid="half", height=380)


def update_gates(trace: Trace, sample: int) -> list[L.Change]:
    """What changes in :func:`live_gates`' figure: every gate's values, c_t's colour range."""
    out = []
    numbers = _gates_numbers(trace, sample, trace.index(LIVE_LAYER, 0))
    for k, ((key, *_rest), (z, _lo, hi)) in enumerate(zip(gate_panels(trace), numbers,
                                                           strict=True)):
        out.append(L.array(k, "z", z))
        if key == "c":  # c_t's colour range follows its values
            out.append(L.symmetric(k, hi))
    return out


def _gates_dashboard(fig: go.Figure) -> None:
    fig.update_annotations(font_size=14)  # two gate titles side by side on a projector


def live_gates(trace: Trace, *, sample: int, theme: str) -> L.LiveView:
    """:func:`plot_gates` of the last layer's first direction, live (:func:`update_gates`)."""
    fig, panels = build_gates(trace, sample, LIVE_LAYER, 0, theme, wrap=False)
    return L.LiveView(fig, update_gates, time_axes=[[p.xref, p.yref] for p in panels],
                      grid="wide", height=620, dashboard_layout=_gates_dashboard)


def update_gate_saturation(trace: Trace, sample: int | None = None) -> list[L.Change]:
    """What changes in :func:`live_gate_saturation`'s figure: every gate's dots (trace 0 is
    the x + y = 1 guide). ``sample`` is ignored: the plot covers the whole probe batch."""
    out = []
    for k, (low, high) in enumerate(_saturation_numbers(trace, trace.index(LIVE_LAYER, 0))):
        out += [L.array(k + 1, "x", low), L.array(k + 1, "y", high)]
    return out


def live_gate_saturation(trace: Trace, *, sample: int | None = None,
                         theme: str) -> L.LiveView:
    """:func:`plot_gate_saturation` of the last layer, live: watch the gates settle into
    saturation as training goes (Karpathy, Johnson & Fei-Fei 2015)."""
    fig = plot_gate_saturation(trace, layer=LIVE_LAYER, direction=0, theme=theme)

    def dashboard_layout(fig: go.Figure) -> None:
        """The legend under the square, so a half slot keeps its width for the dots."""
        fig.update_layout(legend={"orientation": "h", "x": 0, "y": -0.3, "yanchor": "top",
                                  "title": {"side": "left"}}, margin={"b": 150})

    return L.LiveView(fig, update_gate_saturation, grid="half", height=580,
                      dashboard_layout=dashboard_layout)
