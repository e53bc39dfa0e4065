"""The dashboard's figures: each view's live figure sent once, then fed its changes.

Every view (:mod:`rnnviz.live._registry`) is built once by its ``live_<name>`` builder, and
sent to the browser as plotly JSON (layout, styling, first data) with the dashboard's layout
finishing (:func:`_finish`, :func:`narrow_variant`). A frame then carries only what the
views' ``update`` functions say changed, packed as ``parts``::

    {"fig": "history", "trace": 0, "key": "y", "shape": [n], "buffer": 0}     # float32 bytes
    {"fig": "hidden", "trace": 0, "key": "z", "shape": [H, T], "buffer": 1,
     "codes": [-1.0, 1.0]}                       # a heatmap: colour codes, 1 byte a cell
    {"fig": "gates", "trace": 4, "key": "zmax", "value": 1.7}                 # small JSON

(colour codes and their mask of missing cells: :mod:`rnnviz.live._wire`).

Nothing is computed here: the numbers come from the view modules, the ones their static
``plot_*`` figures are drawn from (tests/test_live_views.py checks that they agree). A
frame costs the kernel about a millisecond plus the trace.
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
from rnnviz.live._registry import REGISTRY, VIEWS, available_views, left_out_note
from rnnviz.views import _data as D
from rnnviz.views._live import Change
from rnnviz.views.history import BASELINE_NAME, _decimate, live_history, update_history
from rnnviz.views.history import MAX_LIVE_POINTS as MAX_HISTORY_POINTS

__all__ = ["VIEWS", "BASELINE_NAME", "MAX_HISTORY_POINTS", "Frame", "available_views",
           "build_figures", "build_frame", "left_out_note", "probe_trace", "readout",
           "_decimate"]

SHRINK_AFTER_S = 3.0  # a colour range shrinks once its values stayed small this long (Frame)

HISTORY_HEIGHT = 330  # the training curves' height in the dashboard


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
        for other in self.parts:  # parts that share the buffer (same) read it the same way
            if other is not part and other.get("buffer") == part["buffer"]:
                for extra in ("codes", "missing"):
                    other.pop(extra, None)
                    if extra in part:
                        other[extra] = part[extra]

    def same(self, fig: str, trace: int, key: str, like: int) -> None:
        """Point ``key`` at the buffer of part ``like`` (one copy of an x shared by curves)."""
        part = self.parts[like]
        self.parts.append({k: v for k, v in part.items() if k in ("shape", "buffer", "codes",
                                                                  "missing")}
                          | {"fig": fig, "trace": trace, "key": key})

    def value(self, fig: str, trace: int, key: str, value: Any, *, encode: bool = True) -> None:
        """A small JSON value; a new ``zmin`` / ``zmax`` recodes the heatmap's ``z`` (unless
        ``encode`` is false: the other end follows)."""
        self.parts.append({"fig": fig, "trace": trace, "key": key, "value": value})
        if key in ("zmin", "zmax"):
            self._zrange.setdefault((fig, trace), {})[key] = value
            if encode and (fig, trace) in self._heat:
                self._encode(fig, trace)

    def add(self, fig: str, changes: list[Change]) -> None:
        """Pack a view's changes: arrays as float32 buffers (an array object that appears
        twice is sent once), values as JSON, symmetric ranges through :meth:`symmetric`."""
        sent: dict[int, int] = {}  # id(array) -> its part
        for c in changes:
            if c.symmetric is not None:
                self.symmetric(fig, c.trace, c.symmetric)
            elif c.array is not None:
                if id(c.array) in sent:
                    self.same(fig, c.trace, c.key, sent[id(c.array)])
                else:
                    sent[id(c.array)] = len(self.parts)
                    self.array(fig, c.trace, c.key, c.array)
            else:
                self.value(fig, c.trace, c.key, _json(c.value))

    @property
    def nbytes(self) -> int:
        return sum(len(b) for b in self.buffers) + len(json.dumps(self.parts))


def _json(value: Any) -> Any:
    """Plain JSON for a small value (numpy scalars and arrays become floats and lists)."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [_json(v) for v in value]
    return value


# ----------------------------------------------------------------------------- traces


def probe_trace(trainer: Any) -> Trace:
    """The trace of the trainer's fixed probe batch at its current step (``Trainer.probe_trace``)."""
    return trainer.probe_trace()


# ----------------------------------------------------------------------------- figures


def build_figures(trainer: Any, trace: Trace, views: tuple[str, ...], sample: int,
                  theme: str) -> dict[str, dict[str, Any]]:
    """Plotly JSON of every figure, keyed by name, plus dashboard metadata.

    Each value is ``{"data", "layout", "time_axes", "grid", "highlight", ...}``; ``history``
    first, then the views in the registry's order.
    """
    figures: dict[str, dict[str, Any]] = {}
    hist = live_history(trainer, theme=theme).figure
    hist.layout.annotations = [a for a in hist.layout.annotations
                               if a.text != "no training steps yet"]
    fixed = []
    if getattr(trainer.task, "metric_name", "") == "accuracy":  # a known range: never regrow it
        hist.update_yaxes(range=[0, 1.02], autorange=False, row=1, col=2)
        fixed = ["yaxis2"]
    figures["history"] = _finish(hist, "history", [], None, HISTORY_HEIGHT, "wide",
                                 _history_layout)
    figures["history"]["fixed_axes"] = fixed
    shown = [v for v in VIEWS if v in views]
    built = {name: REGISTRY[name].build(trace, sample=sample, theme=theme) for name in shown}
    grids = _grids([built[name].grid for name in shown])
    for (name, lv), grid in zip(built.items(), grids, strict=True):
        figures[name] = _finish(lv.figure, name, lv.time_axes, lv.highlight, lv.height, grid,
                                lv.dashboard_layout)
    return figures


def _grids(wanted: list[str]) -> list[str]:
    """Half views share a row two by two, in order; a half view without a half-view
    neighbour to pair with takes the whole row (no empty half slot)."""
    out = list(wanted)
    k = 0
    while k < len(out):
        if out[k] == "half" and k + 1 < len(out) and out[k + 1] == "half":
            k += 2
            continue
        out[k] = "wide"
        k += 1
    return out


def _history_layout(fig: Any) -> None:
    fig.update_layout(legend={"orientation": "h", "y": -0.3, "x": 0}, margin={"b": 95})
    for ann in fig.layout.annotations:  # short subplot titles: three fit side by side
        if ann.xref == "paper" and ann.text and " (" in ann.text:
            ann.text = ann.text.split(" (")[0]


def _finish(fig: Any, name: str, time_axes: list, highlight: dict | None, height: int,
            grid: str, dashboard_layout: Any = None) -> dict[str, Any]:
    fig.update_layout(height=height, autosize=True, width=None,
                      margin={"l": 70, "r": 30, "t": 80, "b": 60}, uirevision="rnnviz")
    fig.update_xaxes(fixedrange=True)  # no zoom: a projector audience needs a stable picture
    fig.update_yaxes(fixedrange=True)
    fig.update_yaxes(dtick=1, selector={"type": "log"})  # decades: axes grow over many of them
    if dashboard_layout is not None:  # the view's own changes for a dashboard slot
        dashboard_layout(fig)
    spec = _plain(json.loads(fig.to_json()))
    baselines = [k for k, tr in enumerate(spec["data"]) if tr.get("name") == BASELINE_NAME]
    return {"data": spec["data"], "layout": spec["layout"], "time_axes": time_axes,
            "grid": grid, "highlight": highlight, "baselines": baselines,
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


def build_frame(trainer: Any, trace: Trace, views: tuple[str, ...], sample: int,
                baselines: list[int] = (), bounds: dict | None = None) -> Frame:
    """Every changing number of every figure for the current state.

    ``baselines``: the history's baseline lines (``build_figures(...)["history"]
    ["baselines"]``); ``bounds``: the colour ranges of the previous frame (updated in place).
    """
    frame = Frame(bounds=bounds if bounds is not None else {})
    frame.add("history", update_history(trainer, baselines))
    for name in VIEWS:
        if name in views:
            frame.add(name, REGISTRY[name].update(trace, sample))
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
    # plain lists first: iterating a tensor makes a tensor of every element (~1 ms a frame)
    ins = ([_label(task.vocab, int(v)) for v in x.tolist()] if x.dim() == 1
           else [", ".join(f"{v:.2f}" for v in row) for row in x[:, :3].tolist()])
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
