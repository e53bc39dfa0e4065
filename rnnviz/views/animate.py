"""Animations: plain plotly frames + a slider + play/pause buttons (no kernel needed).

Frames carry only what changes (a grey "not computed yet" cover, the highlighted step,
the gradient arrows or lines), rounded, so a 60-step animation stays small.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import plotly.graph_objects as go

from rnnviz import _validate
from rnnviz._types import Seq2SeqTrace, Trace
from rnnviz.i18n import _, uses_language
from rnnviz.views import _data as D
from rnnviz.views import _style as S
from rnnviz.views.gradients import build_grad_flow, plot_grad_flow
from rnnviz.views.heatmaps import (
    Panel,
    build_gates,
    build_hidden,
    plot_gate_saturation,
    plot_gates,
    plot_hidden,
)
from rnnviz.views.seq2seq import plot_seq2seq
from rnnviz.views.unrolled import build_unrolled, grad_arrows, highlight_xy, plot_unrolled

COVER = "rgb(150,150,150)"  # opaque: the future is hidden


def _controls(fig: go.Figure, frames: list[go.Frame], labels: list[str], *, prefix: str,
              duration: int, below: int = 0) -> go.Figure:
    """Attach ``frames`` with a slider (one step per frame) and play / pause buttons.

    ``below``: pixels already used under the plot area (e.g. horizontal colour bars); the
    controls go beneath them."""
    if isinstance(duration, bool) or not isinstance(duration, int) or duration < 0:
        raise ValueError(_("duration must be a non-negative int (milliseconds), got {value!r}")
                         .format(value=duration))
    fig.frames = frames
    now = {"mode": "immediate", "frame": {"duration": 0, "redraw": True},
           "transition": {"duration": 0}}
    steps = [{"method": "animate", "label": lab, "args": [[f.name], now]}
             for f, lab in zip(frames, labels, strict=True)]
    legend = fig.layout.legend
    extra = 40 if legend.yref == "container" and legend.y == 0 else 0  # legend at the bottom
    extra += below
    play = {"frame": {"duration": duration, "redraw": True}, "fromcurrent": True,
            "transition": {"duration": 0}, "mode": "immediate"}
    # the slider starts right of the ~190 px of buttons (22 % of a wide figure, more of a narrow one)
    margin = fig.layout.margin
    plot_px = (fig.layout.width or 0) - (margin.l if margin.l is not None else 80) - (
        margin.r if margin.r is not None else 80)
    x0 = min(0.5, max(0.22, 190 / plot_px)) if plot_px > 0 else 0.22
    fig.update_layout(
        sliders=[{"active": 0, "steps": steps, "x": x0, "len": 1 - x0, "y": 0,
                  "yanchor": "top", "pad": {"t": 60 + below, "b": 10},
                  "currentvalue": {"prefix": prefix, "font": {"size": S.FONT_SIZE + 1}},
                  "font": {"size": S.FONT_SIZE - 4}}],
        updatemenus=[{"type": "buttons", "direction": "left", "showactive": False,
                      "x": 0, "y": 0, "xanchor": "left", "yanchor": "top",
                      "pad": {"t": 68 + below, "r": 10}, "font": {"size": S.FONT_SIZE},
                      "buttons": [{"label": _("▶ play"), "method": "animate",
                                   "args": [None, play]},
                                  {"label": _("❚❚ pause"), "method": "animate",
                                   "args": [[None], {**now, "frame": {"duration": 0,
                                                                      "redraw": False}}]}]}],
    )
    fig.update_layout(height=fig.layout.height + 120 + extra, margin={"b": 170 + extra})
    return fig


def _poly(x0: float, x1: float, y0: float, y1: float) -> tuple[list, list]:
    """A closed rectangle, or nothing when it has no width."""
    if x1 <= x0:
        return [], []
    return [round(v, 3) for v in (x0, x1, x1, x0, x0)], [round(v, 3) for v in (y0, y0, y1, y1,
                                                                              y0)]


def _add_overlays(fig: go.Figure, panels: list[Panel], theme: str) -> list[int]:
    """A cover and a step outline per heatmap panel; returns their trace indices."""
    idx = []
    for p in panels:
        for kind in ("cover", "step"):
            idx.append(len(fig.data))
            style = ({"fill": "toself", "fillcolor": COVER, "line": {"width": 0}} if kind ==
                     "cover" else {"line": {"color": S.palette(theme).accent, "width": 4}})
            fig.add_trace(go.Scatter(x=[], y=[], mode="lines", hoverinfo="skip", name=kind,
                                     showlegend=False, xaxis=p.xref, yaxis=p.yref, **style))
    return idx


def _panel_frame(panels: list[Panel], idx: list[int], T: int, k: int, *,
                 backward: bool = False) -> list[dict]:
    """Cover + outline data of every panel at animation step k."""
    data = []
    for p in panels:
        top = p.height - 0.5
        if not backward:  # forward rows compute t = 0, 1, ...; reverse rows t = L-1, L-2, ...
            t = min(k, T - 1) if p.direction == 0 else max(p.length - 1 - k, 0)
            span = (t + 0.5, p.length - 0.5) if p.direction == 0 else (-0.5, t - 0.5)
        else:  # the adjoint runs the other way
            t = max(T - 1 - k, 0) if p.direction == 0 else min(k, T - 1)
            span = (-0.5, t - 0.5) if p.direction == 0 else (t + 0.5, T - 0.5)
        cx, cy = _poly(span[0], span[1], -0.52, top + 0.02)  # a hair past the edges
        sx, sy = _poly(t - 0.5, t + 0.5, -0.5, top)
        data += [{"type": "scatter", "x": cx, "y": cy}, {"type": "scatter", "x": sx, "y": sy}]
    return data


def _frames(data: Callable[[int], list[dict]], idx: list[int], n: int, prefix: str,
            start: int = 0) -> list[go.Frame]:
    return [go.Frame(name=f"{prefix}{start + k}", data=data(k), traces=idx) for k in range(n)]


def _apply_first(fig: go.Figure, frame: go.Frame) -> None:
    """Make the figure's initial state the first frame."""
    for i, d in zip(frame.traces, frame.data, strict=True):
        fig.data[i].update(x=d.x, y=d.y)


def _reveal_forward(fig: go.Figure, panels, T: int, theme: str, duration: int) -> go.Figure:
    """Heatmap panels revealed step by step (grey covers the steps not computed yet)."""
    idx = _add_overlays(fig, panels, theme)
    frames = _frames(lambda k: _panel_frame(panels, idx, T, k), idx, T, "f")
    _apply_first(fig, frames[0])
    # the subtitle's 20 px on top of the figure's own room (two-line gate titles need more),
    # the title hung from the top (plotly centres it in the margin, next to the subplot titles)
    fig.update_layout(title_subtitle_text=_("grey = not computed yet"),
                      margin_t=max(110, (fig.layout.margin.t or 90) + 20))
    if fig.layout.height:
        fig.update_layout(title_yref="container", title_yanchor="top",
                          title_y=round(1 - 14 / fig.layout.height, 4))
    return _controls(fig, frames, [str(t) for t in range(T)], prefix="t = ", duration=duration)


@uses_language
def animate_hidden(trace: Trace, *, sample: int = 0, layer: int | None = None,
                   theme: str = "auto", duration: int = 300,
                   lang: str | None = None) -> go.Figure:
    """``plot_hidden`` revealed step by step (forward pass t = 0 .. T-1); T frames.
    ``lang`` (``"en"``, ``"ru"``) overrides :func:`rnnviz.set_language` for this figure."""
    fig, panels = build_hidden(trace, sample, layer, theme)
    return _reveal_forward(fig, panels, trace.seq_len, theme, duration)


@uses_language
def animate_gates(trace: Trace, *, sample: int = 0, layer: int = 0, direction: int = 0,
                  theme: str = "auto", duration: int = 300,
                  lang: str | None = None) -> go.Figure:
    """``plot_gates`` revealed step by step (forward pass); T frames. ``lang`` as in
    :func:`animate_hidden`."""
    fig, panels = build_gates(trace, sample, layer, direction, theme)
    return _reveal_forward(fig, panels, trace.seq_len, theme, duration)


@uses_language
def animate_grad_flow(trace: Trace, *, sample: int | None = None, layer: int | None = None,
                      theme: str = "auto", duration: int = 300,
                      lang: str | None = None) -> go.Figure:
    """``plot_grad_flow`` revealed as BPTT computes it: t = T-1 down to 0; T frames.
    ``lang`` as in :func:`animate_hidden`."""
    fig, info = build_grad_flow(trace, sample, layer, theme)
    idx_cover = _add_overlays(fig, info.panels, theme)
    T = trace.seq_len
    idx = [i for i, _u, _u in info.lines] + idx_cover
    sel = D.rows(trace, layer)
    dirs = [d for _u, _u, d in sel for _u in range(len(info.lines) // len(sel))]

    def data(k: int) -> list[dict]:
        out = []
        for (_u, x, y), d in zip(info.lines, dirs, strict=True):
            keep = x >= T - 1 - k if d == 0 else x <= k
            out.append({"type": "scatter", "x": x[keep], "y": D.sig_rounded(y[keep])})
        return out + _panel_frame(info.panels, idx_cover, T, k, backward=True)

    frames = _frames(data, idx, T, "b")
    _apply_first(fig, frames[0])
    fig.update_layout(title_subtitle_text=_("backward pass: the adjoint dL/dh_t is computed "
                                            "from the last step back to the first (grey = "
                                            "not yet)"))
    return _controls(fig, frames, [str(T - 1 - k) for k in range(T)],
                     prefix=_("backward t = "), duration=duration)


@uses_language
def animate_unrolled(trace: Trace, *, sample: int = 0, layer: int | None = None,
                     theme: str = "auto", duration: int = 350,
                     lang: str | None = None) -> go.Figure:
    """``plot_unrolled`` animated: the forward pass t = 0 .. T-1 fills the boxes, then (if the
    trace has gradients) the backward pass t = T-1 .. 0 draws the dL/dh_t arrows.
    T frames, or 2T with gradients. ``lang`` as in :func:`animate_hidden`."""
    S.check_theme(theme)
    fig, geom = build_unrolled(trace, sample, layer, False, 0, theme, grad_arrows_shown=False)
    T, w = geom.T, geom.width
    covers = []
    for _u in geom.strips:
        covers.append(len(fig.data))
        fig.add_trace(go.Scatter(x=[], y=[], mode="lines", fill="toself", fillcolor=COVER,
                                 line={"width": 0}, hoverinfo="skip", showlegend=False,
                                 name="not computed yet"))  # i18n-ignore: an id
    idx = covers + [geom.i_highlight, geom.i_grad, geom.i_grad_hover]
    lo, hi = -w / 2 - 0.05, T - 1 + w / 2 + 0.05

    def forward(k: int) -> list[dict]:
        out = []
        for st in geom.strips:
            t_rev = T - 1 - k
            span = (k + 0.5, hi) if st.direction == 0 else (lo, t_rev - 0.5)
            x, y = _poly(span[0], span[1], st.y0 - 0.01, st.y1 + 0.01)
            out.append({"type": "scatter", "x": x, "y": y})
        hx, hy = highlight_xy(geom, k)
        return out + [{"type": "scatter", "x": hx, "y": hy}, {"type": "scatter", "x": [],
                      "y": []}, {"type": "scatter", "x": [], "y": [], "text": []}]

    def backward(k: int) -> list[dict]:
        t = T - 1 - k
        shown = {st.row: (range(t, T) if st.direction == 0 else range(0, k + 1))
                 for st in geom.strips}
        gx, gy, px, py, pt = grad_arrows(geom, shown)
        hx, hy = highlight_xy(geom, t)
        r3 = [None if v is None else round(v, 3) for v in gx]
        return [{"type": "scatter", "x": [], "y": []} for _u in covers] + [
            {"type": "scatter", "x": hx, "y": hy},
            {"type": "scatter", "x": r3, "y": [None if v is None else round(v, 3) for v in gy]},
            {"type": "scatter", "x": np.round(px, 3), "y": np.round(py, 3), "text": pt}]

    frames = _frames(forward, idx, T, "f")
    labels = [f"→ {t}" for t in range(T)]
    if trace.grad_hidden is not None:
        frames += _frames(backward, idx, T, "b")
        labels += [f"← {T - 1 - k}" for k in range(T)]
    _apply_first(fig, frames[0])
    fig.update_layout(title_subtitle_text=_(
        "forward pass fills the boxes (grey = not computed yet); then the backward pass sends "
        "dL/dh_t back (arrow width = ‖dL/dh_t‖)") if trace.grad_hidden is not None else _(
        "forward pass fills the boxes (grey = not computed yet)"))
    return _controls(fig, frames, labels, prefix="t ", duration=duration)


_VIEWS: dict[str, Callable[..., go.Figure]] = {
    "hidden": plot_hidden, "gates": plot_gates, "unrolled": plot_unrolled,
    "grad_flow": plot_grad_flow, "saturation": plot_gate_saturation,
}
PARTS = ("encoder", "decoder")


def _check_record(record: Any, name: str) -> Trace | Seq2SeqTrace:
    return record if isinstance(record, Seq2SeqTrace) else D.check_trace(record, name)


def _snapshot(s: Any) -> tuple[int, Trace | Seq2SeqTrace]:
    if hasattr(s, "step") and hasattr(s, "trace"):
        step = _validate.positive_int("snapshot.step", s.step, allow_zero=True)
        return step, _check_record(s.trace, "snapshot.trace")
    if isinstance(s, tuple) and len(s) == 2:
        step = _validate.positive_int("snapshot step", s[0], allow_zero=True)
        return step, _check_record(s[1], "snapshot trace")
    raise TypeError(_("each snapshot must have .step and .trace, got {type}").format(
        type=type(s).__name__))


def _changing(trace: Any) -> dict:
    """The data of one trace that can change between snapshots, rounded."""
    if trace.type == "heatmap":
        return {"type": "heatmap", "z": D.sig_rounded(trace.z), "zmin": trace.zmin,
                "zmax": trace.zmax}
    out = {"type": trace.type}
    for key in ("x", "y"):
        v = getattr(trace, key)
        out[key] = None if v is None else D.sig_rounded(np.asarray(v, dtype=float))
    if trace.type == "scatter" and trace.text is not None:  # words, e.g. what a decoder wrote
        out["text"] = list(trace.text) if not isinstance(trace.text, str) else trace.text
        out["textfont"] = trace.textfont.to_plotly_json()
    return out


def _title(fig: go.Figure, step: int) -> dict:
    """The frame's title: the view's own (it may name the run's words) and its subtitle."""
    title = {"text": _("{title} · training step {step}").format(
        title=fig.layout.title.text or "", step=step)}
    subtitle = fig.layout.title.subtitle.text
    if subtitle:
        title["subtitle"] = {"text": subtitle}
    return title


@uses_language
def animate_training(snapshots: Iterable[Any], view: str | None = None, *,
                     part: str | None = None, theme: str = "auto", duration: int = 500,
                     lang: str | None = None, **view_args: Any) -> go.Figure:
    """One frame per training snapshot of a view: how the probe batch changes as training goes.

    Args:
        snapshots: a ``Trainer`` (its ``.snapshots``), or snapshots (objects with ``.step``
            and ``.trace``, or ``(step, trace)`` pairs).
        view: ``"hidden"``, ``"gates"``, ``"unrolled"``, ``"grad_flow"`` or ``"saturation"``
            of a ``Trace``; ``"seq2seq"`` (:func:`rnnviz.plot_seq2seq`) for the
            ``Seq2SeqTrace`` snapshots of a ``Seq2Seq``. Default: ``"hidden"``, or
            ``"seq2seq"`` for a seq2seq run.
        part: for a core view of seq2seq snapshots, which half: ``"encoder"`` or
            ``"decoder"``.
        theme, duration: colour theme; milliseconds per frame when playing.
        lang: ``"en"`` or ``"ru"`` for this figure only (default: :func:`rnnviz.set_language`).
        view_args: go to the view (e.g. ``sample=0``, ``layer=0``).

    Returns:
        A plotly figure with one frame per snapshot, a slider and play / pause buttons.

    Example:
        >>> fig = animate_training(trainer, "hidden")  # doctest: +SKIP
        >>> fig = animate_training(seq2seq_trainer)  # "seq2seq"  # doctest: +SKIP
        >>> fig = animate_training(seq2seq_trainer, "hidden", part="encoder")  # doctest: +SKIP
    """
    views = [*_VIEWS, "seq2seq"]
    if view is not None and (not isinstance(view, str) or view not in views):
        raise ValueError(_("view must be one of {views}, got {value!r}").format(views=views,
                                                                                 value=view))
    if hasattr(snapshots, "snapshots") and hasattr(snapshots, "history"):  # a Trainer
        snapshots = snapshots.snapshots
    snaps = [_snapshot(s) for s in _validate.iterable("snapshots", snapshots)]
    if not snaps:
        raise ValueError(_("snapshots is empty: train first (trainer.run) so there is "
                           "something to animate"))
    seq = isinstance(snaps[0][1], Seq2SeqTrace)
    if any(isinstance(tr, Seq2SeqTrace) != seq for _u, tr in snaps):
        raise ValueError(_("all snapshots must come from the same model (traces of two "
                           "kinds)"))
    view = ("seq2seq" if seq else "hidden") if view is None else view
    if view == "seq2seq":
        if not seq:
            raise ValueError(_("view='seq2seq' needs the snapshots of a Seq2Seq, got Trace "
                               "snapshots (use 'hidden', 'gates', ...)"))
        if part is not None:
            raise ValueError(_("part is for core views of seq2seq snapshots, got {value!r} "
                               "with view='seq2seq'").format(value=part))
        records = [tr for _u, tr in snaps]
        draw = plot_seq2seq
    elif seq:
        if part not in PARTS:
            raise ValueError(_("part must be 'encoder' or 'decoder' to draw view={view!r} of "
                               "seq2seq snapshots, got {value!r}").format(view=view, value=part))
        records = [getattr(tr, part) for _u, tr in snaps]
        draw = _VIEWS[view]
    else:
        if part is not None:
            raise ValueError(_("part is only for seq2seq snapshots, got {value!r}").format(
                value=part))
        records = [tr for _u, tr in snaps]
        draw = _VIEWS[view]
    _validate.same("snapshots", [D.model_of(tr.encoder if seq else tr) for _u, tr in snaps],
                   _("model and probe batch"))
    figs = [draw(tr, theme=theme, **view_args) for tr in records]
    base = figs[0]
    shapes = [tuple(t.type for t in f.data) for f in figs]
    if len(set(shapes)) != 1:
        raise ValueError(_("all snapshots must come from the same model (their views "
                           "differ)"))
    datas = [[_changing(t) for t in f.data] for f in figs]
    moving = [i for i in range(len(base.data))
              if any(_differs(d[i], datas[0][i]) for d in datas[1:])]
    frames = [go.Frame(name=f"s{step}", traces=moving, data=[d[i] for i in moving],
                       layout={"title": _title(fig, step)})
              for (step, _u), d, fig in zip(snaps, datas, figs, strict=True)]
    base.update_layout(title=_title(base, snaps[0][0]))
    return _controls(base, frames, [str(s) for s, _tr in snaps], prefix=_("training step "),
                     duration=duration)


def _differs(a: dict, b: dict) -> bool:
    for key, v in a.items():
        w = b.get(key)
        if isinstance(v, np.ndarray) or isinstance(w, np.ndarray):
            if v is None or w is None or np.shape(v) != np.shape(w):
                return True
            if not np.array_equal(v, w, equal_nan=True):
                return True
        elif v != w:
            return True
    return False
