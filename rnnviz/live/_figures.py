"""The dashboard's figures: each view's live figure sent once, then fed its changes.

Every view (:mod:`rnnviz.live._registry`) is built once by its ``live_<name>`` builder, and
sent to the browser as plotly JSON (layout, styling, first data) with the dashboard's layout
finishing (:func:`_finish`, :func:`narrow_variant`). A frame then carries only what the
views' ``update`` functions say changed, packed as ``parts``::

    {"fig": "history", "trace": 0, "key": "y", "shape": [n], "buffer": 0}     # float32 bytes
    {"fig": "hidden", "trace": 0, "key": "z", "shape": [H, T], "buffer": 1,
     "codes": [-1.0, 1.0]}                       # a heatmap: colour codes, 1 byte a cell
    {"fig": "gates", "trace": 4, "key": "zmax", "value": 1.7}                 # small JSON
    {"fig": "cell", "layout": {"title.text": "LSTM cell at t = 3 …"}}          # layout paths

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

from rnnviz._types import Trace
from rnnviz.live import _wire as W
from rnnviz.live._narrow import (
    LINE_PANEL_MIN_PX,
    PANEL_MIN_PX,
    _text_px,
    narrow_variant,
)
from rnnviz.live._readout import readout
from rnnviz.live._registry import REGISTRY, VIEWS, available_views, left_out_note
from rnnviz.live._status import finite_or_none
from rnnviz.views import _data as D
from rnnviz.views._live import LAYOUT, Change
from rnnviz.views.history import (
    BASELINE_META,
    NO_STEPS_NAME,
    _decimate,
    live_history,
    update_history,
)
from rnnviz.views.history import MAX_LIVE_POINTS as MAX_HISTORY_POINTS

# the dashboard widget's façade, and what the tests read
__all__ = ["VIEWS", "BASELINE_META", "MAX_HISTORY_POINTS", "PANEL_MIN_PX", "LINE_PANEL_MIN_PX",
           "Frame", "available_views", "build_figures", "build_frame", "finite_or_none",
           "left_out_note", "narrow_of", "narrow_variant", "nice_bound", "probe_trace", "readout",
           "_decimate", "_text_px"]

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

    def layout(self, fig: str, key: str, value: Any) -> None:
        """A small JSON value at the dotted path ``key`` of the figure's layout (one part
        per figure holds them all)."""
        for part in self.parts:
            if part["fig"] == fig and "layout" in part:
                part["layout"][key] = value
                return
        self.parts.append({"fig": fig, "layout": {key: value}})

    def add(self, fig: str, changes: list[Change]) -> None:
        """Pack a view's changes: arrays as float32 buffers (an array object that appears
        twice is sent once), values as JSON, symmetric ranges through :meth:`symmetric`,
        layout changes through :meth:`layout`."""
        sent: dict[int, int] = {}  # id(array) -> its part
        for c in changes:
            if c.trace == LAYOUT:
                self.layout(fig, c.key, _json(c.value))
            elif c.symmetric is not None:
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
                  theme: str, t: int = 0) -> dict[str, dict[str, Any]]:
    """Plotly JSON of every figure, keyed by name, plus dashboard metadata.

    Each value is ``{"data", "layout", "time_axes", "grid", "highlight", ...}``; ``history``
    first, then the views in the registry's order; ``t``: the time cursor (for the views
    that follow it).
    """
    figures: dict[str, dict[str, Any]] = {}
    hist = live_history(trainer, theme=theme).figure
    hist.layout.annotations = [a for a in hist.layout.annotations
                               if a.name != NO_STEPS_NAME]
    fixed = []
    if getattr(trainer.task, "metric_name", "") == "accuracy":  # a known range: never regrow it
        hist.update_yaxes(range=[0, 1.02], autorange=False, row=1, col=2)
        fixed = ["yaxis2"]
    figures["history"] = _finish(hist, "history", [], None, HISTORY_HEIGHT, "wide",
                                 _history_layout)
    figures["history"]["fixed_axes"] = fixed
    shown = [v for v in VIEWS if v in views]
    built = {name: REGISTRY[name].build(trace, sample=sample, theme=theme,
                                        **({"t": t} if REGISTRY[name].follows_t else {}))
             for name in shown}
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
    baselines = [k for k, tr in enumerate(spec["data"]) if tr.get("meta") == BASELINE_META]
    return {"data": spec["data"], "layout": spec["layout"], "time_axes": time_axes,
            "grid": grid, "highlight": highlight, "baselines": baselines,
            "grow": "x" if name == "history" else "",
            "narrow": narrow_of(name, spec["data"], spec["layout"])}


def narrow_of(name: str, data: list[dict], layout: dict,
              panel_min: float | None = None) -> dict[str, Any]:
    """Figure ``name``'s narrow-slot variant (:func:`narrow_variant`) for this layout."""
    if panel_min is None:
        panel_min = LINE_PANEL_MIN_PX if name == "history" else PANEL_MIN_PX
    return narrow_variant(data, layout, panel_min=panel_min)


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
                baselines: list[int] = (), bounds: dict | None = None, t: int = 0) -> Frame:
    """Every changing number of every figure for the current state.

    ``baselines``: the history's baseline lines (``build_figures(...)["history"]
    ["baselines"]``); ``bounds``: the colour ranges of the previous frame (updated in place);
    ``t``: the time cursor, passed to the views that follow it.
    """
    frame = Frame(bounds=bounds if bounds is not None else {})
    frame.add("history", update_history(trainer, baselines))
    for name in VIEWS:
        if name in views:
            entry = REGISTRY[name]
            frame.add(name, entry.update(trace, sample, t) if entry.follows_t
                      else entry.update(trace, sample))
    return frame
