"""Connectivity ``||dh_t/dx_s||`` (Madsen 2019, Distill) as a heatmap and as coloured text."""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from rnnviz.i18n import _, uses_language
from rnnviz.views import _data as D
from rnnviz.views import _style as S
from rnnviz.views.text import _cell

# magnitudes of gradients: the orange half of the gradient colours, stopping short of dark
# so that black characters stay readable on every cell
CONN_SCALE = [[0.0, "#fff5eb"], [0.35, "#fdd0a2"], [0.7, "#fd8d3c"], [1.0, "#d94801"]]


def _as_array(connectivity: Any) -> np.ndarray:
    try:
        c = D.as_numpy(connectivity)
    except (TypeError, ValueError):
        raise TypeError(_("connectivity must be a (B, T, T) tensor from rnnviz.connectivity, "
                          "got {type}").format(type=type(connectivity).__name__)) from None
    if c.ndim == 2:
        c = c[None]
    if c.ndim != 3 or c.shape[1] != c.shape[2] or c.shape[1] == 0:
        raise ValueError(_("connectivity must have shape (B, T, T) (or (T, T)), got {shape}")
                         .format(shape=tuple(c.shape)))
    bad = ~np.isfinite(c) | (c < 0)
    if bad.any():
        b, t, s = (int(i) for i in np.argwhere(bad)[0])
        raise ValueError(_("connectivity must hold finite norms >= 0 (from rnnviz.connectivity), "
                           "got {value} at (sample {b}, t {t}, s {s})").format(
                               value=c[b, t, s], b=b, t=t, s=s))
    return c


def _log(c: np.ndarray) -> np.ndarray:
    """log10 of the positive entries, NaN where x_s does not reach h_t (0) or not finite."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.log10(c)
    return np.where(np.isfinite(out) & (c > 0), out, np.nan)


def _bar_ticks(lo: float, hi: float) -> dict[str, Any]:
    ticks = np.arange(np.floor(lo), np.ceil(hi) + 1)
    if ticks.size > 7:
        ticks = ticks[:: int(np.ceil(ticks.size / 6))]
    return {"tickvals": ticks.tolist(), "ticktext": [f"1e{int(v)}" if v not in (0, 1) else
                                                     ("1" if v == 0 else "10") for v in ticks]}


@uses_language
def plot_connectivity(connectivity: Any, *, sample: int = 0, text: str | None = None,
                      step: int | None = None, theme: str = "auto",
                      wrap: int = 36, lang: str | None = None) -> go.Figure:
    r"""How strongly each input step moves each hidden state (Madsen 2019, Distill).

    .. math::
        C_{t,s} = \lVert \partial h_t / \partial x_s \rVert_F

    Two views of ``rnnviz.connectivity(model, x)``: a heatmap of output step ``t`` (rows)
    against input step ``s`` (columns), colour on a log scale (blank: ``x_s`` does not reach
    ``h_t``); and, with ``text``, the characters read, each coloured by its influence on the
    output step ``step`` (outlined), as in the Distill figure. Characters are HTML-escaped.

    Args:
        connectivity: ``(B, T, T)`` from ``rnnviz.connectivity`` (or ``(T, T)``).
        sample: which sequence of the batch.
        text: the ``T`` characters the model read (e.g. ``task.decode(x[sample])``); adds the
            coloured text and labels the heatmap's axes with the characters.
        step: the output step whose inputs are coloured in the text (default: the last step
            with any connectivity); outlined in the heatmap too.
        theme: ``"light"``, ``"dark"`` or ``"auto"``.
        wrap: characters per line of the text.
        lang: ``"en"`` or ``"ru"`` for this figure only (default: :func:`rnnviz.set_language`).

    Shapes:
        connectivity ``(B, T, T)``, ``[b, t, s]``.

    Returns:
        A plotly figure: one heatmap ``z = log10 C[sample]`` (``customdata`` holds ``C``),
        and with ``text`` a second one for the characters.

    Example:
        >>> import rnnviz, torch
        >>> task = rnnviz.tasks.CharText(seq_len=24)
        >>> model = rnnviz.SequenceModel.from_task(task, cell="lstm", hidden_size=16, seed=0)
        >>> x = task.batch(1, seed=0).x
        >>> fig = plot_connectivity(rnnviz.connectivity(model, x), text=task.decode(x[0]))
    """
    S.check_theme(theme)
    c_all = _as_array(connectivity)
    B, T = c_all.shape[:2]
    s = D.check_index("sample", sample, B, "batch has samples")
    c = c_all[s]  # (T, T)
    z = _log(c)  # (T, T)
    reach = np.isfinite(z).any(axis=1)
    if step is None:
        step = int(np.nonzero(reach)[0][-1]) if reach.any() else T - 1
    else:
        step = D.check_index("step", step, T, "sequence has steps")
    if text is not None:
        if not isinstance(text, str):
            raise TypeError(_("text must be a str, got {type}").format(type=type(text).__name__))
        if len(text) != T:
            raise ValueError(_("text must have one character per step: T = {T}, got {n} "
                               "characters").format(T=T, n=len(text)))
    if isinstance(wrap, bool) or not isinstance(wrap, int) or wrap < 1:
        raise ValueError(_("wrap must be a positive int, got {value!r}").format(value=wrap))
    finite = z[np.isfinite(z)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (-1.0, 0.0)
    if hi - lo < 1e-6:
        lo -= 0.5
    pal = S.palette(theme)
    cells = [_cell(ch) for ch in text] if text is not None else []
    n_rows = 0
    heat_px = int(np.clip(14 * T, 320, 460))  # pixel heights: square-ish cells, readable ticks
    text_px, gap = 0, 0
    if text is not None:
        n_rows = (T + wrap - 1) // wrap
        text_px, gap = 34 * n_rows, 110
        fig = make_subplots(rows=2, cols=1)
    else:
        fig = go.Figure()
    plot_px = heat_px + gap + text_px
    # 1. the heatmap: rows t, columns s
    steps = np.arange(T)
    hover_c = D.sig_rounded(c)
    heat = go.Heatmap(
        z=D.rounded(z), x=steps, y=steps, customdata=hover_c, coloraxis="coloraxis",
        hoverongaps=False, name="connectivity",  # i18n-ignore (a heatmap's name is not shown)
        hovertemplate=_("output step t = {t}<br>input step s = {s}").format(t="%{y}", s="%{x}")
        + "<br>‖∂h_t/∂x_s‖ = %{customdata:.4g}<extra></extra>")
    if text is not None:
        fig.add_trace(heat, row=1, col=1)
    else:
        fig.add_trace(heat)
    row_box = {"type": "rect", "x0": -0.5, "x1": T - 0.5, "y0": step - 0.5, "y1": step + 0.5,
               "line": {"color": pal.fg, "width": 2.5}, "fillcolor": "rgba(0,0,0,0)",
               "xref": "x", "yref": "y"}
    fig.add_shape(**row_box)
    axis_font = {"size": S.FONT_SIZE - 2}
    if text is not None and T <= 48:
        labels = [shown if shown.strip() else "␣" for shown, _hover in cells]
        size = 12 if T > 24 else S.FONT_SIZE - 2
        every = int(np.ceil(T * (size + 4) / heat_px))  # thinned: labels never touch (y pitch)
        tick = {"tickvals": steps[::every].tolist(), "ticktext": labels[::every],
                "tickfont": {"family": S.MONO_FAMILY, "size": size}}
    else:
        tick = {"tickfont": axis_font}
    fig.update_xaxes(title_text=_("input step s (x_s)"), range=[-0.5, T - 0.5], showgrid=False,
                     zeroline=False, row=1 if text is not None else None,
                     col=1 if text is not None else None, **tick)
    fig.update_yaxes(title_text=_("output step t (h_t)"), range=[T - 0.5, -0.5], showgrid=False,
                     zeroline=False, row=1 if text is not None else None,
                     col=1 if text is not None else None, **tick)
    # 2. the text, coloured by the influence of each character on h_step
    if text is not None:
        zr = np.full((n_rows, wrap), np.nan)
        cr = np.full((n_rows, wrap), np.nan)
        shown = np.full((n_rows, wrap), "", dtype=object)
        hover = np.full((n_rows, wrap, 2), "", dtype=object)
        for k in range(T):
            r, col = divmod(k, wrap)
            zr[r, col], cr[r, col] = z[step, k], c[step, k]
            shown[r, col] = cells[k][0] if cells[k][0].strip() else "␣"
            hover[r, col] = (cells[k][1], str(k))
        fig.add_trace(go.Heatmap(
            z=D.rounded(zr), text=shown, texttemplate="%{text}", customdata=hover,
            coloraxis="coloraxis", xgap=1, ygap=3, hoverongaps=False,
            name="text",  # i18n-ignore (a heatmap's name is not shown)
            textfont={"family": S.MONO_FAMILY, "size": S.FONT_SIZE},
            hovertemplate=_("'{char}' (input step {s})").format(
                char="%{customdata[0]}", s="%{customdata[1]}")
            + f"<br>log10 ‖∂h_{step}/∂x_s‖ = %{{z:.3f}}<extra></extra>"), row=2, col=1)
        r, col = divmod(step, wrap)
        fig.add_shape(type="rect", x0=col - 0.5, x1=col + 0.5, y0=r - 0.5, y1=r + 0.5,
                      line={"color": pal.fg, "width": 2.5}, fillcolor="rgba(0,0,0,0)",
                      xref="x2", yref="y2")
        fig.update_xaxes(visible=False, range=[-0.5, wrap - 0.5], row=2, col=1)
        fig.update_yaxes(visible=False, range=[n_rows - 0.5, -0.5], row=2, col=1,
                         domain=[0, text_px / plot_px])
        fig.update_yaxes(domain=[(text_px + gap) / plot_px, 1], row=1, col=1)
        ch = cells[step][0] if cells[step][0].strip() else "␣"
        fig.add_annotation(text=_("each character coloured by its influence on h at step {step} "
                                  "('{char}', outlined)").format(step=step, char=ch),
                           xref="paper", yref="y2 domain", x=0, y=1.0, xanchor="left",
                           yanchor="bottom", showarrow=False, yshift=6, font={"size": S.FONT_SIZE - 2})
    heat_lo = (text_px + gap) / plot_px
    bar = S.colorbar("‖∂h_t/∂x_s‖ (log)", length=1 - heat_lo, y=(1 + heat_lo) / 2)
    bar.update(_bar_ticks(lo, hi))
    fig.update_layout(coloraxis={"colorscale": CONN_SCALE, "cmin": lo, "cmax": hi,
                                 "colorbar": bar})
    S.apply_theme(fig, theme, title=_("Connectivity ‖∂h_t/∂x_s‖ — sample {sample}").format(
        sample=s))
    fig.update_annotations(font_size=S.FONT_SIZE - 2)
    fig.update_xaxes(showgrid=False)
    fig.update_yaxes(showgrid=False)
    fig.update_layout(title_subtitle_text=_("how much each input step moves each hidden state "
                                            "(blank: cannot reach)"), width=600,
                      height=plot_px + 100 + (20 if text is not None else 70),
                      margin={"l": 70, "r": 20, "t": 100, "b": 20 if text is not None else 70})
    return fig
