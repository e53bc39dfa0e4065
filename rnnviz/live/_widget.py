"""The dashboard widget: one anywidget, its synced traits, and how it is put together.

Kernel -> browser: the figures once (trait ``figures``, each with its narrow-slot variant),
the status line in one trait (``status``), then binary frames paced by the browser's acks
(``_sender``, ``_loop.FramePacer``). plotly.js comes from the installed plotly package, once
per page, on request (``_assets``). Browser -> kernel: trait changes (play, speed, learning
rate, clipping, time cursor, sample) and messages (``drawn`` acks, ``hello``, ``plotly.js?``,
``step``, ``reset``), handled in ``_controls``. After every cell, a dashboard whose trainer
moved shows it (``_hooks``).
"""

from __future__ import annotations

from typing import Any

import anywidget
import traitlets as tl

from rnnviz import _validate
from rnnviz.i18n import _, get_language
from rnnviz.live import _assets, _describe, _hooks
from rnnviz.live import _figures as F
from rnnviz.live import _wire as W
from rnnviz.live._controls import Controls
from rnnviz.live._labels import labels
from rnnviz.live._loop import FramePacer, TrainingLoop
from rnnviz.live._registry import available_views, default_views, kind, left_out_note
from rnnviz.live._sender import FrameSender, window
from rnnviz.live._status import START
from rnnviz.views.history import metric_label

__all__ = ["Dashboard"]


class Dashboard(Controls, FrameSender, anywidget.AnyWidget):
    """Live training dashboard; build it with :func:`rnnviz.dashboard`."""

    _esm = _assets.esm()
    # a string, not a Path: anywidget watches a Path for edits and keeps every instance alive
    _css = _assets.CSS.read_text(encoding="utf-8")

    # controls (browser <-> kernel)
    playing = tl.Bool(False, help="Training runs in the background while True.").tag(sync=True)
    steps_per_frame = tl.Int(
        0, help="Slow motion: train this many steps per drawn frame; 0 = as fast as possible."
    ).tag(sync=True)
    lr = tl.Float(1e-2, help="Learning rate of the trainer's optimizer.").tag(sync=True)
    clip_enabled = tl.Bool(False, help="Clip the total gradient norm.").tag(sync=True)
    clip_value = tl.Float(1.0, help="Gradient-norm threshold when clipping.").tag(sync=True)
    t = tl.Int(0, help="Time cursor: the step t highlighted in every time axis.").tag(sync=True)
    sample = tl.Int(0, help="Which sequence of the probe batch the heatmaps show.").tag(
        sync=True)
    # status (kernel -> browser): one trait, the only channel of the status line
    status = tl.Dict(
        dict(START),
        help="The status line: state ('ready', 'training', 'paused' or 'diverged'), step "
        "(completed steps), loss and metric (of the last step, or None), steps_per_s (while "
        "playing) and message (why training stopped, and what to do; else '').",
    ).tag(sync=True)
    note = tl.Unicode("", help="Requested views that do not apply to this model, and why.").tag(
        sync=True)
    metric_name = tl.Unicode("metric", help="Name of the task's metric, as the status line "
                             "shows it.").tag(sync=True)
    # fixed at construction
    title = tl.Unicode("", help="Headline: model and task.").tag(sync=True)
    seq_len = tl.Int(1, help="T, the probe's number of time steps.").tag(sync=True)
    probe_size = tl.Int(1, help="Sequences in the probe batch.").tag(sync=True)
    views = tl.List(tl.Unicode(), help="Figures shown besides the history.").tag(sync=True)
    theme = tl.Unicode("auto", help="'auto', 'light' or 'dark'.").tag(sync=True)
    fps = tl.Int(32, help="At most this many frames per second.").tag(sync=True)
    figures = tl.Dict(help="Plotly JSON of every figure, sent once; frames update them.").tag(
        sync=True)
    figure_order = tl.List(tl.Unicode(), help="Names of the figures, top to bottom.").tag(
        sync=True)
    labels = tl.Dict(help="The words of the controls and the status line, in the language "
                     "rnnviz spoke when the dashboard was built (see _labels.py).").tag(sync=True)

    def __init__(self, trainer: Any, views: tuple[str, ...] | None, *, fps: int,
                 theme: str) -> None:
        self.trainer = trainer
        self._lang = get_language()  # its status, messages and readout keep speaking it
        self.pacer = FramePacer(self._send_frame, fps=fps, max_in_flight=window(fps))
        # 40 ms chunks: they end early whenever a frame is due, so in practice training
        # yields once per frame; a pause or an ack waits at most one chunk
        self.loop = TrainingLoop(trainer, self._on_chunk, self.pacer, budget=0.04)
        self.loop.on_stop = self._on_loop_stop
        trace = trainer.probe_trace()
        if views is None:  # the model's own: hidden, gates, grad_flow; seq2seq for a Seq2Seq
            shown, note = default_views(trace), ""
        else:
            shown = available_views(kind(trace), tuple(views))
            note = left_out_note(kind(trace), tuple(views))
        figures = F.build_figures(trainer, trace, shown, 0, theme)
        super().__init__(
            lr=float(trainer.lr),
            clip_enabled=trainer.clip is not None,
            clip_value=float(trainer.clip) if trainer.clip is not None else 1.0,
            title=_describe.title(trainer, trace),
            seq_len=_describe.seq_len(trace),
            probe_size=trace.batch_size,
            views=list(shown),
            note=note,
            theme=theme,
            fps=int(fps),
            figures=figures,
            figure_order=list(figures),
            metric_name=metric_label(str(getattr(trainer.task, "metric_name", "metric"))),
            labels=labels(),
        )
        self._init_sender(figures["history"]["baselines"])
        self._bounds = W.Bounds(figures)  # and the figures' own colour ranges (_wire)
        self._sync_status()
        self.on_msg(self._on_message)
        _hooks.watch(self)

    def __repr__(self) -> str:  # stable text/plain for nbval (no ids)
        return f"rnnviz dashboard ({self.title})"

    def resize_figure(self, name: str, *, height: int | None = None,
                      margin: dict[str, int] | None = None, showlegend: bool | None = None,
                      panel_min: int | None = None) -> None:
        """Give figure ``name`` (``"history"`` or a view) another height, margins (px) or
        legend, e.g. to fit a smaller page; its narrow-slot layout is computed again for them.

        Args:
            name: a key of :attr:`figures`.
            height: the figure's height in px (its narrow variant grows from it).
            margin: margins to change, e.g. ``{"t": 50, "b": 40}``.
            showlegend: show or hide the figure's legend.
            panel_min: side-by-side subplots are stacked when they would get narrower than
                this (px); default: the dashboard's (180 for the history, 240 for views).
        """
        name = _validate.choice("name", name, list(self.figures))
        spec = dict(self.figures[name])
        layout = dict(spec["layout"])
        if height is not None:
            layout["height"] = _validate.positive_int("height", height)
        if margin is not None:
            if not isinstance(margin, dict):
                raise TypeError(_("margin must be a dict like {{'t': 50}}, got {type}").format(
                    type=type(margin).__name__))
            layout["margin"] = {**(layout.get("margin") or {}), **margin}
        if showlegend is not None:
            layout["showlegend"] = _validate.flag("showlegend", showlegend)
        if panel_min is not None:
            panel_min = _validate.positive_int("panel_min", panel_min)
        spec["layout"] = layout
        spec["narrow"] = F.narrow_of(name, spec["data"], layout, panel_min)
        self.figures = {**self.figures, name: spec}

    def close(self) -> None:
        self.playing = False
        self.loop.stop()
        self.pacer.cancel()
        _hooks.forget(self)
        super().close()

