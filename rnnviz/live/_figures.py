"""The dashboard's figures: built once by the views' builders, then fed arrays frame by frame.

Each figure is sent to the browser once as plotly JSON (layout, styling, first data). A frame
then carries only the numbers that change, as ``parts``::

    {"fig": "hidden", "trace": 0, "key": "z", "shape": [H, T], "buffer": 0}   # float32 bytes
    {"fig": "gates", "trace": 4, "key": "zmax", "value": 1.7}                 # small JSON

The per-frame extractors below compute exactly what ``rnnviz.views`` puts in the same trace
of the same figure (tests/test_dashboard.py checks that they agree), with plain numpy and no
plotly object in the loop, so a frame costs the kernel about a millisecond plus the trace.
"""

from __future__ import annotations

import base64
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from rnnviz._types import Trace
from rnnviz.live import _wire as W
from rnnviz.views import _data as D

VIEWS = ("hidden", "gates", "grad_flow", "unrolled")
BASELINE_NAME = "chance / no memory"  # the name plot_history gives its baseline lines
MAX_HISTORY_POINTS = 1500  # loss curves are decimated to this many points per frame
SHRINK_AFTER_S = 3.0  # a colour range shrinks once its values stayed small this long (Frame)

# Figure heights in the dashboard (the views' own heights are for a full-width notebook cell).
_HEIGHTS = {"history": 330, "hidden": 380, "grad_flow": 400, "gates": 620, "unrolled": 380}
_GRID = {"history": "wide", "hidden": "half", "grad_flow": "half", "gates": "wide",
         "unrolled": "wide"}


@dataclass
class Frame:
    """One frame: JSON ``parts`` and the buffers they point to.

    A curve goes as float32; a heatmap's ``z`` goes as colour codes at the colour scale's
    resolution when its colour range is known (see ``_wire``): set in this frame (``zmin`` /
    ``zmax`` values, :meth:`symmetric`, before or after the array) or else the figure's own
    range (``bounds.fixed``). ``bounds`` remembers the colour ranges of earlier frames (see
    :meth:`symmetric`).
    """

    parts: list[dict[str, Any]] = field(default_factory=list)
    buffers: list[bytes] = field(default_factory=list)
    bounds: dict[tuple, float] = field(default_factory=dict)
    # heatmaps of this frame: (fig, trace) -> (part, float32 z); zmin / zmax values set
    _heat: dict[tuple[str, int], tuple[dict, np.ndarray]] = field(default_factory=dict,
                                                                  repr=False)
    _zrange: dict[tuple[str, int], dict[str, float]] = field(default_factory=dict, repr=False)
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)

    def symmetric(self, fig: str, trace: int, big: float) -> None:
        """Colour range [-b, b] covering ``big``; b is a 1-2-5 value kept until ``big``
        leaves [b / 5, b], so the colour bar stays put while values drift. It grows at once
        (no value is clipped), and shrinks only once ``big`` has stayed below b / 5 for
        ``SHRINK_AFTER_S`` seconds: a new colour range costs the browser a full redraw, and
        early in training the gradients swing by decades within a second."""
        old = self.bounds.get((fig, trace))
        low_since = ("low since", fig, trace)
        now = self.clock()
        if old is None or big > old:
            b = nice_bound(big)
        elif big >= old / 5:
            b = old
        else:
            since = self.bounds.setdefault(low_since, now)
            b = nice_bound(big) if now - since >= SHRINK_AFTER_S else old
        if b != old or big >= old / 5:
            self.bounds.pop(low_since, None)
        self.bounds[(fig, trace)] = b
        self.value(fig, trace, "zmin", -b, encode=False)
        self.value(fig, trace, "zmax", b)

    def array(self, fig: str, trace: int, key: str, value: Any) -> None:
        a = np.ascontiguousarray(D.as_numpy(value), dtype=np.float32)
        part = {"fig": fig, "trace": trace, "key": key, "shape": list(a.shape),
                "buffer": len(self.buffers)}
        self.parts.append(part)
        self.buffers.append(a.tobytes())
        if key == "z" and a.ndim == 2:
            self._heat[(fig, trace)] = (part, a)
            self._encode(fig, trace)

    def _encode(self, fig: str, trace: int) -> None:
        """(Re)write the heatmap's buffer: colour codes if its colour range is known and
        covers every value, float32 otherwise (see ``_wire``)."""
        part, a = self._heat[(fig, trace)]
        lo, hi = getattr(self.bounds, "fixed", {}).get((fig, trace), (None, None))
        given = self._zrange.get((fig, trace), {})
        lo, hi = given.get("zmin", lo), given.get("zmax", hi)
        old_mask = part.pop("missing", None)  # the same cells are missing whatever the range
        part.pop("codes", None)
        coded = W.encode(a, lo, hi)
        if coded is None:
            self.buffers[part["buffer"]] = a.tobytes()
            if old_mask is not None:
                self.buffers[old_mask] = b""
            return
        codes, mask = coded
        self.buffers[part["buffer"]] = codes.tobytes()
        part["codes"] = [float(lo), float(hi)]
        if mask is not None:
            if old_mask is None:
                old_mask = len(self.buffers)
                self.buffers.append(b"")
            part["missing"] = old_mask
            self.buffers[old_mask] = mask

    def same(self, fig: str, trace: int, key: str, like: int) -> None:
        """Point ``key`` at the buffer of part ``like`` (one copy of an x shared by curves)."""
        part = self.parts[like]
        self.parts.append({"fig": fig, "trace": trace, "key": key, "shape": part["shape"],
                           "buffer": part["buffer"]})

    def value(self, fig: str, trace: int, key: str, value: Any, *, encode: bool = True) -> None:
        """A small JSON value; a new ``zmin`` / ``zmax`` recodes the heatmap's ``z`` (unless
        ``encode`` is false: the other end follows)."""
        self.parts.append({"fig": fig, "trace": trace, "key": key, "value": value})
        if key in ("zmin", "zmax"):
            self._zrange.setdefault((fig, trace), {})[key] = value
            if encode and (fig, trace) in self._heat:
                self._encode(fig, trace)

    @property
    def nbytes(self) -> int:
        return sum(len(b) for b in self.buffers) + len(json.dumps(self.parts))


# ----------------------------------------------------------------------------- traces


def probe_trace(trainer: Any) -> Trace:
    """The trace of the trainer's fixed probe batch at its current step.

    Reuses the trainer's latest snapshot when it was taken at the current step.
    """
    snaps = getattr(trainer, "snapshots", None)
    if snaps and snaps[-1].step == trainer.steps:
        return snaps[-1].trace
    from rnnviz.tracing import trace

    x, y, lengths = trainer.probe
    return trace(trainer.model, x, y, lengths=lengths, loss_fn=trainer.loss_fn)


def available_views(cell_type: str, views: tuple[str, ...]) -> tuple[str, ...]:
    """``views`` minus those the model cannot show (an Elman RNN has no gates)."""
    return tuple(v for v in views if not (v == "gates" and cell_type == "elman"))


def left_out_note(cell_type: str, views: tuple[str, ...]) -> str:
    """What the status line says about requested views that do not apply ('' if none)."""
    if "gates" in views and cell_type == "elman":
        return "no gates view: an Elman RNN has no gates (try cell='lstm' or 'gru')"
    return ""


# ----------------------------------------------------------------------------- figures


def _builder(name: str):
    from rnnviz.views import gradients, heatmaps, unrolled

    return {
        "hidden": lambda tr, s, th: heatmaps.build_hidden(tr, s, -1, th),
        "gates": lambda tr, s, th: heatmaps.build_gates(tr, s, -1, 0, th),
        "grad_flow": lambda tr, s, th: gradients.build_grad_flow(tr, None, -1, th),
        "unrolled": lambda tr, s, th: unrolled.build_unrolled(tr, s, -1, False, None, th),
    }[name]


def _time_axes(fig: Any, name: str, extra: Any) -> list[list[str]]:
    """[xref, yref] of every subplot whose x axis is the time step t."""
    if name in ("hidden", "gates"):
        return [[p.xref, p.yref] for p in extra]
    if name == "grad_flow":
        return [["x", "y"]] + [[p.xref, p.yref] for p in extra.panels]
    return []


def build_figures(trainer: Any, trace: Trace, views: tuple[str, ...], sample: int,
                  theme: str) -> dict[str, dict[str, Any]]:
    """Plotly JSON of every figure, keyed by name, plus dashboard metadata.

    Each value is ``{"data", "layout", "time_axes", "grid", "highlight"}``; ``history`` first.
    """
    from rnnviz.views.history import plot_history

    figures: dict[str, dict[str, Any]] = {}
    hist = plot_history(trainer, theme=theme)
    hist.layout.annotations = [a for a in hist.layout.annotations
                               if a.text != "no training steps yet"]
    fixed = []
    if getattr(trainer.task, "metric_name", "") == "accuracy":  # a known range: never regrow it
        hist.update_yaxes(range=[0, 1.02], autorange=False, row=1, col=2)
        fixed = ["yaxis2"]
    figures["history"] = _finish(hist, "history", [], None)
    figures["history"]["fixed_axes"] = fixed
    order = ("hidden", "grad_flow", "gates", "unrolled")  # hidden and grad flow side by side
    halves = [v for v in views if _GRID[v] == "half"]
    for name in sorted(views, key=order.index):
        fig, extra = _builder(name)(trace, sample, theme)
        highlight = None
        if name == "unrolled":
            highlight = {"trace": extra.i_highlight, "width": extra.width,
                         "y_low": extra.y_low, "y_top": extra.y_top}
        figures[name] = _finish(fig, name, _time_axes(fig, name, extra), highlight)
        if len(halves) == 1 and name in halves:  # alone it takes the whole row
            figures[name]["grid"] = "wide"
    return figures


def _finish(fig: Any, name: str, time_axes: list, highlight: dict | None) -> dict[str, Any]:
    fig.update_layout(height=_HEIGHTS[name], autosize=True, width=None,
                      margin={"l": 70, "r": 30, "t": 80, "b": 60}, uirevision="rnnviz")
    fig.update_xaxes(fixedrange=True)  # no zoom: a projector audience needs a stable picture
    fig.update_yaxes(fixedrange=True)
    fig.update_yaxes(dtick=1, selector={"type": "log"})  # decades: axes grow over many of them
    if name == "history":
        fig.update_layout(legend={"orientation": "h", "y": -0.3, "x": 0}, margin={"b": 95})
        for ann in fig.layout.annotations:  # short subplot titles: three fit side by side
            if ann.xref == "paper" and ann.text and " (" in ann.text:
                ann.text = ann.text.split(" (")[0]
    if name == "gates":  # two gate titles side by side in a 1280 x 720 projector's notebook
        fig.update_annotations(font_size=14)
    if name == "grad_flow":  # half a dashboard: no subtitle, decade ticks, no "unit" title
        fig.update_layout(legend={"orientation": "h", "y": -0.22, "x": 0},
                          margin={"b": 110, "t": 80}, title_subtitle_text=None)
        for _, yref in time_axes[1:]:  # the heatmaps' y title would run into the curves
            fig.layout[f"yaxis{yref[1:]}"].title.text = None
    spec = _plain(json.loads(fig.to_json()))
    baselines = [k for k, tr in enumerate(spec["data"]) if tr.get("name") == BASELINE_NAME]
    return {"data": spec["data"], "layout": spec["layout"], "time_axes": time_axes,
            "grid": _GRID[name], "highlight": highlight, "baselines": baselines,
            "grow": "x" if name == "history" else "",
            "narrow": narrow_variant(spec["data"], spec["layout"],
                                     panel_min=LINE_PANEL_MIN_PX if name == "history"
                                     else PANEL_MIN_PX)}


# ----------------------------------------------------------------------------- narrow slots

CHAR_PX = 0.52  # the width of one character, in font sizes (Arial / Open Sans: ~0.5)
PANEL_MIN_PX = 240  # a heatmap subplot narrower than this piles up its ticks and titles
LINE_PANEL_MIN_PX = 180  # curves against the training step need less
NARROW_GAP_PX = 95  # between stacked panels: x ticks, x title and the next subplot title
TITLE_LINE_PX = 27  # one more line of title


def _text_px(text: str | None, size: float) -> float:
    """A generous estimate of the drawn width of plotly text (tags stripped, <br> lines)."""
    import re

    if not text:
        return 0.0
    lines = re.sub(r"<(?!br)[^>]*>", "", text).split("<br>")
    return max(len(line) for line in lines) * size * CHAR_PX


def _wrap(text: str, seps: tuple[str, ...]) -> str:
    """Break a long title at its first separator, keeping the separator's words."""
    for sep in seps:
        if sep in text:
            head, tail = text.split(sep, 1)
            keep = "" if sep.strip() in ("—", "·") else sep.rstrip()
            return f"{head}{keep}<br>{tail}"
    return text


def _panels(layout: dict) -> list[dict]:
    """Every subplot: its axis names and domains, in reading order (top row first, then left)."""
    out = []
    for key, ax in layout.items():
        if not (key.startswith("xaxis") and isinstance(ax, dict) and "domain" in ax):
            continue
        yname = "yaxis" + str(ax.get("anchor", "y"))[1:]
        yax = layout.get(yname)
        if not isinstance(yax, dict) or "domain" not in yax:
            continue
        out.append({"x": key, "y": yname, "xd": list(ax["domain"]), "yd": list(yax["domain"])})
    out.sort(key=lambda p: (-round(p["yd"][1], 3), round(p["xd"][0], 3)))
    return out


def narrow_variant(data: list[dict], layout: dict, *,
                   panel_min: float = PANEL_MIN_PX) -> dict[str, Any]:
    """How a figure is laid out in a slot narrower than ``below`` px.

    Side-by-side subplots are stacked (one per row, in reading order, each as tall as it was,
    subplot titles and colour bars moved with them) and long titles break into two lines, so
    no title, tick label or axis title overlaps another down to a 320 px slot. The browser
    swaps it in and out as its slot is resized.

    Returns ``{"below", "height", "layout", "annotations", "colorbars"}``: ``layout`` holds
    top-level keys to merge into the layout, ``annotations`` replaces the annotations,
    ``colorbars`` maps trace index -> colorbar keys to merge.
    """
    margin = dict(layout.get("margin") or {})
    height = float(layout.get("height") or 400)
    t, b = float(margin.get("t", 80)), float(margin.get("b", 60))
    l_, r = float(margin.get("l", 70)), float(margin.get("r", 30))
    font = float((layout.get("font") or {}).get("size", 16))
    title = dict(layout.get("title") or {})
    tsize = float((title.get("font") or {}).get("size", font))
    subtitle = dict(title.get("subtitle") or {})
    panels = _panels(layout)
    cols = len({round(p["xd"][0], 3) for p in panels}) or 1
    # below this slot width, side-by-side panels get narrower than PANEL_MIN_PX, or the
    # title no longer fits on one line
    below = max(cols * panel_min + l_ + r + 60 * (cols - 1) if cols > 1 else 0,
                _text_px(title.get("text"), tsize) + 30,
                _text_px(subtitle.get("text"), font) + 30)
    for ann in layout.get("annotations") or []:  # a subplot title must fit over its panel
        if cols > 1 and ann.get("xref") == "paper" and ann.get("yref") == "paper":
            size = float((ann.get("font") or {}).get("size", font))
            share = min((p["xd"][1] - p["xd"][0] for p in panels
                         if abs((p["xd"][0] + p["xd"][1]) / 2 - float(ann.get("x", -9))) < 1e-3),
                        default=1.0)
            below = max(below, _text_px(ann.get("text"), size) / max(share, 0.05) + l_ + r)
    extra = 0.0
    new_title = dict(title)
    if title.get("text"):
        wrapped = _wrap(title["text"], (" — ", " · "))
        if wrapped != title["text"]:
            new_title["text"] = wrapped
            extra += TITLE_LINE_PX
    if subtitle.get("text"):
        wrapped = _wrap(subtitle["text"], (": ", "; ", ", "))
        if wrapped != subtitle["text"]:
            new_title["subtitle"] = dict(subtitle, text=wrapped)
            extra += TITLE_LINE_PX - 6
    new_margin = dict(margin, t=t + extra)
    area = height - t - b
    out_layout: dict[str, Any] = {"title": new_title, "margin": new_margin}
    annotations = [dict(a) for a in layout.get("annotations") or []]
    colorbars: dict[str, dict] = {}
    if cols == 1:
        return {"below": round(below), "height": round(height + extra), "layout": out_layout,
                "annotations": annotations, "colorbars": colorbars}
    # stacked: every panel keeps its height in px, gaps between them
    bands = [max(140.0, (p["yd"][1] - p["yd"][0]) * area) for p in panels]
    new_area = sum(bands) + NARROW_GAP_PX * (len(panels) - 1)
    top = new_area
    placed = {}
    for p, band in zip(panels, bands, strict=True):
        y1, y0 = top / new_area, (top - band) / new_area
        placed[p["x"]] = (p, [round(y0, 4), round(y1, 4)])
        out_layout[p["x"]] = {"domain": [0.0, 1.0]}
        out_layout[p["y"]] = {"domain": [round(y0, 4), round(y1, 4)]}
        top -= band + NARROW_GAP_PX
    for ann in annotations:  # subplot titles sit on top of their panel's domain
        if ann.get("xref") != "paper" or ann.get("yref") != "paper":
            continue
        for p, (_, y1) in placed.values():
            xc = (p["xd"][0] + p["xd"][1]) / 2
            if abs(float(ann.get("x", -9)) - xc) < 1e-3 and \
                    abs(float(ann.get("y", -9)) - p["yd"][1]) < 1e-3:
                ann["x"], ann["y"] = 0.5, y1
                break
    for k, trace in enumerate(data):
        if "colorbar" not in trace or trace.get("showscale") is False:
            continue
        xname = "xaxis" + str(trace.get("xaxis", "x"))[1:]
        if xname in placed:
            y0, y1 = placed[xname][1]
            colorbars[str(k)] = {"y": round((y0 + y1) / 2, 4), "len": round(0.9 * (y1 - y0), 4),
                                 "yanchor": "middle", "yref": "paper"}
    legend = layout.get("legend") or {}
    if legend and legend.get("yref", "paper") == "paper" and "y" in legend:
        out_layout["legend"] = dict(legend, y=round(float(legend["y"]) * area / new_area, 4))
    return {"below": round(below), "height": round(new_area + t + extra + b),
            "layout": out_layout, "annotations": annotations, "colorbars": colorbars}


def _plain(value: Any) -> Any:
    """plotly's JSON with its base64 typed arrays ({"dtype", "bdata"}) turned into lists,
    so the browser code can read every trace's x / y / z directly."""
    if isinstance(value, dict):
        if set(value) >= {"dtype", "bdata"} and set(value) <= {"dtype", "bdata", "shape"}:
            a = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
            if "shape" in value:
                shape = value["shape"]
                shape = [int(n) for n in shape.split(",")] if isinstance(shape, str) else shape
                a = a.reshape(shape)
            a = a.astype(np.float64) if a.dtype.kind == "f" else a
            return json.loads(json.dumps(a.tolist()).replace("NaN", "null"))
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


# ----------------------------------------------------------------------------- frames


def nice_bound(value: float) -> float:
    """The smallest 1, 2 or 5 x 10^k >= ``value``: a colour range that rarely changes.

    The views scale some colour bars to the data's exact maximum; a live dashboard rounds it
    up so that frames keep the same colour bar (and can repaint the cells only).
    """
    if not value > 0 or not math.isfinite(value):
        return 1.0
    exp = math.floor(math.log10(value))
    for mant in (1.0, 2.0, 5.0, 10.0):
        bound = mant * 10.0**exp
        if bound >= value * (1 - 1e-9):
            return float(f"{bound:.3g}")
    return 10.0 ** (exp + 1)


def _decimate(n: int, limit: int = MAX_HISTORY_POINTS) -> np.ndarray:
    """Indices of at most ``limit`` evenly spread points out of ``n`` (always the last)."""
    if n <= limit:
        return np.arange(n)
    idx = np.linspace(0, n - 1, limit).round().astype(np.int64)
    return np.unique(idx)


def history_frame(frame: Frame, trainer: Any, baselines: list[int] = ()) -> None:
    """Loss, metric and gradient norm curves (traces 0-2) and the baseline lines' x range."""
    h = trainer.history
    idx = _decimate(len(h.step))
    step = np.asarray(h.step, dtype=np.float64)
    x_part = len(frame.parts)
    frame.array("history", 0, "x", step[idx])
    for k, key in enumerate(("loss", "metric", "grad_norm")):
        y = np.asarray(getattr(h, key), dtype=np.float64)[idx]
        frame.array("history", k, "y", np.where(np.isfinite(y), y, np.nan))
        if k:
            frame.same("history", k, "x", x_part)
    ends = [float(step[0]), float(step[-1])] if step.size else [0.0, 1.0]
    for k in baselines:  # the dashed "chance / no memory" lines span the steps so far
        frame.value("history", k, "x", ends)


def hidden_frame(frame: Frame, trace: Trace, sample: int) -> None:
    relu = trace.cell_type == "elman" and trace.nonlinearity == "relu"
    for k, (row, _, _) in enumerate(D.rows(trace, -1)):
        z = D.state(trace, trace.hidden, row, sample)
        frame.array("hidden", k, "z", z)
        if relu:
            top = float(np.nanmax(z)) if np.isfinite(z).any() else 0.0
            frame.value("hidden", k, "zmax", top if top > 0 else 1.0)


def gates_frame(frame: Frame, trace: Trace, sample: int) -> None:
    from rnnviz.views.heatmaps import gate_panels

    row = trace.index(-1, 0)
    for k, (key, *_rest) in enumerate(gate_panels(trace)):
        source = trace.cell if key == "c" else trace.gates[key]
        z = D.state(trace, source, row, sample)
        frame.array("gates", k, "z", z)
        if key == "c":
            big = float(np.nanmax(np.abs(z))) if np.isfinite(z).any() else 1.0
            frame.symmetric("gates", k, max(1.0, big))


def grad_flow_frame(frame: Frame, trace: Trace) -> None:
    from rnnviz.views.gradients import _heat, _norms, _positive

    sel = D.rows(trace, -1)
    heats = [_heat(trace, row, None) for row, _, _ in sel]
    big = max(float(np.nanmax(np.abs(h))) if np.isfinite(h).any() else 0.0 for h in heats)
    big = big if big > 0 else 1.0
    i = 0
    for k, (row, _, _) in enumerate(sel):
        tensors = [trace.grad_hidden] + ([trace.grad_cell] if trace.grad_cell is not None else [])
        for tensor in tensors:
            frame.array("grad_flow", i, "y", D.sig_rounded(_positive(_norms(trace, tensor, row,
                                                                              None))))
            i += 1
        frame.array("grad_flow", i, "z", D.sig_rounded(heats[k]))
        frame.symmetric("grad_flow", i, big)
        i += 1


def unrolled_frame(frame: Frame, trace: Trace, sample: int) -> None:
    H, T = trace.hidden_size, trace.seq_len
    for k, (row, _, _) in enumerate(D.rows(trace, -1)):
        z = D.state(trace, trace.hidden, row, sample)
        zz = np.full((H, 2 * T - 1), np.nan)
        zz[:, ::2] = z
        frame.array("unrolled", k, "z", zz)


def build_frame(trainer: Any, trace: Trace, views: tuple[str, ...], sample: int,
                baselines: list[int] = (), bounds: dict | None = None) -> Frame:
    """Every changing number of every figure for the current state.

    ``bounds``: the colour ranges of the previous frame (updated in place).
    """
    frame = Frame(bounds=bounds if bounds is not None else {})
    history_frame(frame, trainer, baselines)
    if "hidden" in views:
        hidden_frame(frame, trace, sample)
    if "gates" in views:
        gates_frame(frame, trace, sample)
    if "grad_flow" in views and trace.grad_hidden is not None:
        grad_flow_frame(frame, trace)
    if "unrolled" in views:
        unrolled_frame(frame, trace, sample)
    return frame


# ----------------------------------------------------------------------------- readout


def _label(vocab: list[str] | None, value: int) -> str:
    if vocab is not None and 0 <= value < len(vocab):
        return vocab[value]
    return str(value)


def readout(trainer: Any, trace: Trace, sample: int) -> list[str]:
    """Per time step of ``sample``: what went in, the target and what the model says."""
    task = trainer.task
    T = trace.seq_len
    x = trace.inputs[sample]
    ins = ([_label(task.vocab, int(v)) for v in x] if x.dim() == 1
           else [", ".join(f"{float(v):.2f}" for v in x[t][:3]) for t in range(T)])
    out = trace.output[sample] if trace.output is not None else None
    y = trace.target[sample] if trace.target is not None else None
    lines = [f"input {ins[t]}" for t in range(T)]
    if out is not None and out.dim() == 2 and y is not None:  # a prediction at every step
        said = _says_all(task, out, y)
        lines = [f"{line} · {s}" for line, s in zip(lines, said, strict=True)]
    elif out is not None and out.dim() == 1:
        last = D.length_of(trace, sample) - 1
        lines[last] += " · " + _says(task, out, y)
    return lines


def _says_all(task: Any, out: torch.Tensor, y: torch.Tensor) -> list[str]:
    """:func:`_says` for every step of ``out`` (T, O) against ``y`` (T, ...), vectorised."""
    if getattr(task, "loss_name", "") != "cross_entropy":
        return [_says(task, out[t], y[t]) for t in range(out.shape[0])]
    p = torch.softmax(out.float(), dim=-1)  # (T, O)
    conf, k = p.max(dim=-1)  # (T,)
    vocab = getattr(task, "output_vocab", None)
    lines = []
    for kt, ct, yt in zip(k.tolist(), conf.tolist(), y.tolist(), strict=True):
        said = f"says {_label(vocab, kt)} ({ct:.0%})"
        if yt < 0:
            lines.append(said + " · not scored")
        else:
            lines.append(f"target {_label(vocab, yt)} · {said} {'✓' if kt == yt else '✗'}")
    return lines


def _says(task: Any, out: torch.Tensor, y: torch.Tensor | None) -> str:
    if getattr(task, "loss_name", "") == "cross_entropy":
        p = torch.softmax(out.float(), dim=-1)
        k = int(p.argmax())
        vocab = getattr(task, "output_vocab", None)
        said = f"says {_label(vocab, k)} ({float(p[k]):.0%})"
        if y is None or int(y) < 0:
            return said + " · not scored"
        ok = "✓" if k == int(y) else "✗"
        return f"target {_label(vocab, int(y))} · {said} {ok}"
    vals = ", ".join(f"{float(v):.2f}" for v in out.flatten()[:3])
    if y is None:
        return f"says {vals}"
    want = ", ".join(f"{float(v):.2f}" for v in y.flatten()[:3])
    return f"target {want} · says {vals}"


def finite_or_none(value: Any) -> float | None:
    """A float for a status line, or ``None`` for missing / non-finite values."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None
