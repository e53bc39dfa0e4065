"""Training curves: loss, metric and gradient norm against step, with the no-memory bar."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from rnnviz.i18n import N_, _, uses_language
from rnnviz.views import _live as L
from rnnviz.views import _style as S

FIELDS = ("step", "loss", "metric", "grad_norm")
CURVES = ("loss", "metric", "grad_norm")  # traces 0, 1, 2
BASELINE_NAME = N_("chance / no memory")  # the (translated) name of the dashed baseline lines
# How code finds those lines and the "no steps yet" note, in any language: the trace's
# ``meta`` and the annotation's ``name``.
BASELINE_META = "rnnviz-baseline"
NO_STEPS_NAME = "rnnviz-no-steps"
# The tasks' metric_name (an identifier) as shown; translated where shown
METRIC_LABELS = {"accuracy": N_("accuracy"), "mse": N_("mse")}
MAX_LIVE_POINTS = 1500  # a live figure's curves are decimated to this many points


def metric_label(name: str) -> str:
    """A task's ``metric_name`` as a student reads it, in the language in force (escaped)."""
    return _(METRIC_LABELS[name]) if name in METRIC_LABELS else S.escape(name)


def _history_of(obj: Any) -> tuple[Any, Any]:
    """(history, task or None) from a Trainer (duck typed) or a History."""
    if all(hasattr(obj, f) for f in FIELDS):
        return obj, getattr(obj, "task", None)
    if hasattr(obj, "history") and all(hasattr(obj.history, f) for f in FIELDS):
        return obj.history, getattr(obj, "task", None)
    raise TypeError(_(
        "trainer_or_history must be a Trainer (with .history) or a History (with lists "
        ".step, .loss, .metric, .grad_norm), got {type}").format(type=type(obj).__name__))


def _columns(history: Any) -> dict[str, np.ndarray]:
    cols = {f: np.asarray(list(getattr(history, f)), dtype=np.float64) for f in FIELDS}
    sizes = {f: c.size for f, c in cols.items()}
    if len(set(sizes.values())) != 1:
        raise ValueError(_("history lists must have equal lengths, got {sizes}").format(
            sizes=sizes))
    return cols


def _decimate(n: int, limit: int = MAX_LIVE_POINTS) -> np.ndarray:
    """Indices of at most ``limit`` evenly spread points out of ``n`` (always the last)."""
    if n <= limit:
        return np.arange(n)
    idx = np.linspace(0, n - 1, limit).round().astype(np.int64)
    return np.unique(idx)


def _history_numbers(cols: dict[str, np.ndarray], limit: int | None = None
                     ) -> tuple[np.ndarray, list[np.ndarray]]:
    """The numbers of the curves: the steps and, per curve of :data:`CURVES`, its values
    (non-finite ones as NaN gaps); at most ``limit`` evenly spread points if given."""
    idx = _decimate(cols["step"].size, limit) if limit else slice(None)
    ys = [np.where(np.isfinite(cols[key]), cols[key], np.nan)[idx] for key in CURVES]
    return cols["step"][idx], ys


@uses_language
def plot_history(trainer_or_history: Any, *, baseline: Any = None,
                 theme: str = "auto", lang: str | None = None) -> go.Figure:
    """Loss, metric and gradient-norm curves in three panels.

    Args:
        trainer_or_history: a ``Trainer`` (uses ``.history`` and ``.task``) or a ``History``.
        baseline: a ``Baseline`` (``.loss``, ``.metric``, ``.description``); by default
            ``trainer.task.baseline()``. Drawn dashed as "chance / no memory".
        lang: ``"en"`` or ``"ru"`` for this figure only (default: :func:`rnnviz.set_language`).
    Non-finite losses (divergence) are marked with the step where training diverged.
    """
    S.check_theme(theme)
    history, task = _history_of(trainer_or_history)
    cols = _columns(history)
    if baseline is None and task is not None and hasattr(task, "baseline"):
        baseline = task.baseline()
    if baseline is not None and not all(hasattr(baseline, a) for a in ("loss", "metric")):
        raise TypeError(_("baseline must have .loss and .metric, got {type}").format(
            type=type(baseline).__name__))
    metric = metric_label(getattr(task, "metric_name", None) or _("metric"))
    better = getattr(task, "higher_is_better", None)
    metric_title = metric if better is None else (
        _("{metric} (higher is better)") if better else _("{metric} (lower is better)")
    ).format(metric=metric)
    pal = S.palette(theme)
    loss = _("loss")
    fig = make_subplots(rows=1, cols=3, horizontal_spacing=0.08,
                        subplot_titles=[loss, metric_title, _("gradient norm (before clipping)")])
    step = cols["step"]
    _u, ys = _history_numbers(cols)
    colors = (S.OKABE_ITO[0], S.OKABE_ITO[2], S.OKABE_ITO[3])
    names = (loss, metric, _("gradient norm"))
    for k, (name, color, y) in enumerate(zip(names, colors, ys, strict=True)):
        fig.add_trace(go.Scatter(x=step, y=y, mode="lines", name=name,
                                 line={"color": color, "width": 3}, showlegend=False,
                                 hovertemplate=_("step {step}<br>{name} = {value}").format(
                                     step="%{x}", name=name, value="%{y:.4g}")
                                 + "<extra></extra>"),
                      row=1, col=k + 1)
        fig.update_xaxes(title_text=_("training step"), row=1, col=k + 1)
    if baseline is not None:
        desc = S.escape(getattr(baseline, "description", ""))
        for col, value in ((1, baseline.loss), (2, baseline.metric)):
            if value is None or not math.isfinite(float(value)):
                continue
            x = [step[0], step[-1]] if step.size else [0, 1]
            fig.add_trace(go.Scatter(
                x=x, y=[float(value)] * 2, mode="lines", name=_(BASELINE_NAME),
                meta=BASELINE_META,
                line={"color": pal.fg, "dash": "dash", "width": 2}, showlegend=False,
                hovertemplate=f"{_(BASELINE_NAME)}: %{{y:.4g}}<br>{desc}<extra></extra>"),
                row=1, col=col)
            fig.add_annotation(x=1, y=float(value), xref=f"x{col if col > 1 else ''} domain",
                               yref=f"y{col if col > 1 else ''}", text=_(BASELINE_NAME),
                               showarrow=False, xanchor="right",
                               # an untrained loss starts at its baseline, near the panel's top
                               # (under the subplot title): that label goes below its line
                               yanchor="top" if col == 1 else "bottom",
                               font={"color": pal.fg, "size": S.FONT_SIZE - 2})
    bad = ~np.isfinite(cols["loss"])
    state = getattr(trainer_or_history, "state", None)
    if bad.any() or state == "diverged":
        at = int(step[np.argmax(bad)]) if bad.any() else (int(step[-1]) if step.size else 0)
        for col in (1, 2, 3):
            fig.add_vline(x=at, line={"color": "#D55E00", "width": 2, "dash": "dot"},
                          row=1, col=col)
        fig.add_annotation(x=at, y=1, xref="x", yref="y domain",
                           text=_("diverged at step {step}").format(step=at),
                           showarrow=False, xanchor="right", yanchor="top",
                           font={"color": "#D55E00"})
    if not step.size:
        fig.add_annotation(xref="paper", yref="paper", x=0.5, y=0.5, showarrow=False,
                           text=_("no training steps yet"), name=NO_STEPS_NAME)
    g = np.asarray(cols["grad_norm"], dtype=float)
    g = g[np.isfinite(g) & (g > 0)]
    dtick = S.log_dtick(float(np.log10(g.min())), float(np.log10(g.max()))) if g.size else 1
    fig.update_yaxes(type="log", dtick=dtick, tickformat=".2~g", row=1, col=3)
    message = getattr(trainer_or_history, "message", "") if state in ("diverged",
                                                                       "interrupted") else ""
    S.apply_theme(fig, theme, title=_("Training history"))
    fig.update_layout(height=430, legend={"orientation": "h", "y": 0, "x": 0, "yref": "container",
                                        "yanchor": "bottom"},
                      margin={"b": 110})
    if message:  # wrapped: a long message must not run out of a ~600 px figure
        import textwrap

        # the trainer's message says what happened ("Training diverged: ...") in the
        # language it was made in
        lines = textwrap.wrap(S.escape(message), 80) or [S.escape(message)]
        # room for the title, the lines, and the subplot titles above the panels
        # (the title hangs from the top: plotly centres it in the margin otherwise)
        fig.update_layout(title_subtitle_text="<br>".join(lines), height=430 + 21 * len(lines),
                          margin={"t": 115 + 21 * len(lines)}, title_y=1, title_yref="container",
                          title_yanchor="top", title_pad_t=18)
    return fig


# ----------------------------------------------------------------------------- live view


def update_history(trainer: Any, baselines: tuple[int, ...] | list[int] = ()
                   ) -> list[L.Change]:
    """What changes in :func:`live_history`'s figure as ``trainer`` trains: the curves (one
    x shared by the three, at most :data:`MAX_LIVE_POINTS` points each) and the x range of
    the baseline lines (trace indices ``baselines``)."""
    history, _task = _history_of(trainer)
    step, ys = _history_numbers(_columns(history), MAX_LIVE_POINTS)
    out = []
    for k, y in enumerate(ys):
        out += [L.array(k, "x", step), L.array(k, "y", y)]  # one x array: sent once
    ends = [float(step[0]), float(step[-1])] if step.size else [0.0, 1.0]
    out += [L.value(k, "x", ends) for k in baselines]
    return out


def live_history(trainer: Any, *, theme: str) -> L.LiveView:
    """:func:`plot_history` of ``trainer``, live: ``update(trainer)`` is
    :func:`update_history` for its baseline lines."""
    fig = plot_history(trainer, theme=theme)
    baselines = [k for k, tr in enumerate(fig.data) if tr.meta == BASELINE_META]

    def update(trainer: Any, sample: int | None = None) -> list[L.Change]:
        return update_history(trainer, baselines)

    return L.LiveView(fig, update, grid="wide", height=330)
