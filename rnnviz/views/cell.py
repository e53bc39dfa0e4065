r"""One step of the cell, drawn as in Olah's "Understanding LSTM Networks" (2015), with the
numbers of a real run on every wire.

Each wire is a strip of its units coloured by their values at step ``t`` (or one unit's
scalar, written on it, when ``unit`` is given); gates are boxes with their non-linearity;
``⊙`` (circle with a dot) multiplies element-wise and ``⊕`` adds. Hover on a wire or a box
shows its equation and its numbers. The strip heatmaps carry their wire's name in ``meta``
(see ``WIRES``), so the numbers can be read back from the figure. The words (titles, what
each wire carries, colour bars) are in the language in force (``rnnviz.set_language`` or
``lang=``); the equations and symbols are the same in every language.

Live (in :func:`rnnviz.dashboard`, view ``"cell"``): :func:`live_cell` / :func:`update_cell`
draw the last layer's cell at the dashboard's time cursor t, from the numbers of
:func:`cell_numbers`, the ones :func:`plot_cell` draws.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import plotly.graph_objects as go

from rnnviz._types import Trace
from rnnviz.i18n import N_, _, uses_language
from rnnviz.views import _data as D
from rnnviz.views import _live as L
from rnnviz.views import _style as S
from rnnviz.views.animate import _controls

# wire name -> its equation (symbols: the same in every language); "{p}" is the previous step
WIRES: dict[str, dict[str, str]] = {
    "lstm": {
        "x": "x<sub>t</sub>",
        "h_prev": "h<sub>{p}</sub>",
        "c_prev": "c<sub>{p}</sub>",
        "f": "f<sub>t</sub> = σ(W<sub>if</sub> x<sub>t</sub> + b<sub>if</sub> + W<sub>hf</sub> "
             "h<sub>{p}</sub> + b<sub>hf</sub>)",
        "i": "i<sub>t</sub> = σ(W<sub>ii</sub> x<sub>t</sub> + b<sub>ii</sub> + W<sub>hi</sub> "
             "h<sub>{p}</sub> + b<sub>hi</sub>)",
        "g": "g<sub>t</sub> = tanh(W<sub>ig</sub> x<sub>t</sub> + b<sub>ig</sub> + W<sub>hg</sub> "
             "h<sub>{p}</sub> + b<sub>hg</sub>)",
        "o": "o<sub>t</sub> = σ(W<sub>io</sub> x<sub>t</sub> + b<sub>io</sub> + W<sub>ho</sub> "
             "h<sub>{p}</sub> + b<sub>ho</sub>)",
        "f*c_prev": "f<sub>t</sub> ⊙ c<sub>{p}</sub>",
        "i*g": "i<sub>t</sub> ⊙ g<sub>t</sub>",
        "c": "c<sub>t</sub> = f<sub>t</sub> ⊙ c<sub>{p}</sub> + i<sub>t</sub> ⊙ g<sub>t</sub>",
        "tanh(c)": "tanh(c<sub>t</sub>)",
        "h": "h<sub>t</sub> = o<sub>t</sub> ⊙ tanh(c<sub>t</sub>)",
    },
    "gru": {
        "x": "x<sub>t</sub>",
        "h_prev": "h<sub>{p}</sub>",
        "r": "r<sub>t</sub> = σ(W<sub>ir</sub> x<sub>t</sub> + b<sub>ir</sub> + W<sub>hr</sub> "
             "h<sub>{p}</sub> + b<sub>hr</sub>)",
        "z": "z<sub>t</sub> = σ(W<sub>iz</sub> x<sub>t</sub> + b<sub>iz</sub> + W<sub>hz</sub> "
             "h<sub>{p}</sub> + b<sub>hz</sub>)",
        "n": "n<sub>t</sub> = tanh(W<sub>in</sub> x<sub>t</sub> + b<sub>in</sub> + r<sub>t</sub> "
             "⊙ (W<sub>hn</sub> h<sub>{p}</sub> + b<sub>hn</sub>))",
        "1-z": "1 − z<sub>t</sub>",
        "z*h_prev": "z<sub>t</sub> ⊙ h<sub>{p}</sub>",
        "(1-z)*n": "(1 − z<sub>t</sub>) ⊙ n<sub>t</sub>",
        "h": "h<sub>t</sub> = (1 − z<sub>t</sub>) ⊙ n<sub>t</sub> + z<sub>t</sub> ⊙ h<sub>{p}</sub>",
    },
    "elman": {
        "x": "x<sub>t</sub>",
        "h_prev": "h<sub>{p}</sub>",
        "a": "a<sub>t</sub> = W<sub>ih</sub> x<sub>t</sub> + b<sub>ih</sub> + W<sub>hh</sub> "
             "h<sub>{p}</sub> + b<sub>hh</sub>",
        "h": "h<sub>t</sub> = {phi}(a<sub>t</sub>)",
    },
}

# wire name -> what it carries, in words (the hover's first line after the equation), marked
# for the catalogue and translated where it is shown
WHAT: dict[str, dict[str, str]] = {
    "lstm": {
        "x": N_("the input"),
        "h_prev": N_("the previous hidden state"),
        "c_prev": N_("the previous cell state (the long-term memory)"),
        "f": N_("forget gate: what to keep"),
        "i": N_("input gate: what to write"),
        "g": N_("candidate: what could be written"),
        "o": N_("output gate: what to show"),
        "f*c_prev": N_("the memory kept"),
        "i*g": N_("what is written"),
    },
    "gru": {
        "x": N_("the input"),
        "h_prev": N_("the previous hidden state"),
        "r": N_("reset gate: how much of the past to use"),
        "z": N_("update gate: keep the old state or take the new"),
        "n": N_("candidate state"),
        "1-z": N_("how much of the candidate to take"),
        "z*h_prev": N_("the old state kept"),
        "(1-z)*n": N_("what is written"),
    },
    "elman": {
        "x": N_("the input"),
        "h_prev": N_("the previous hidden state"),
        "a": N_("the pre-activation"),
    },
}


def equation(cell: str, wire: str, p: str, phi: str) -> str:
    """A wire's hover line: its equation, then what it carries in the language in force."""
    eq = WIRES[cell][wire].format(p=p, phi=phi)
    what = WHAT[cell].get(wire)
    return _("{equation} — {meaning}").format(equation=eq, meaning=_(what)) if what else eq


# the short label drawn next to each wire
LABELS = {"x": "x<sub>t</sub>", "h_prev": "h<sub>{p}</sub>", "c_prev": "c<sub>{p}</sub>",
          "f": "f<sub>t</sub>", "i": "i<sub>t</sub>", "g": "g<sub>t</sub>", "o": "o<sub>t</sub>",
          "f*c_prev": "f⊙c", "i*g": "i⊙g", "c": "c<sub>t</sub>", "tanh(c)": "tanh c<sub>t</sub>",
          "h": "h<sub>t</sub>", "r": "r<sub>t</sub>", "z": "z<sub>t</sub>", "n": "n<sub>t</sub>",
          "1-z": "1−z<sub>t</sub>", "z*h_prev": "z⊙h", "(1-z)*n": "(1−z)⊙n", "a": "a<sub>t</sub>"}


# ---------------------------------------------------------------------------------------------
# the numbers


@dataclass
class Step:
    """Every wire's values at one step: ``values[name]`` is ``(n,)``; symbol ids are ``None``."""

    t: int
    values: dict[str, np.ndarray | None]
    symbol: int | None = None  # layer 0 with symbol-id inputs: the id read at t


def _prev(trace: Trace, t: int, direction: int, length: int) -> int | None:
    """The step whose state step ``t`` continues, or ``None`` (the initial state)."""
    p = t - 1 if direction == 0 else t + 1
    return p if 0 <= p < length else None


def step_values(trace: Trace, t: int, row: int, layer: int, direction: int,
                sample: int) -> Step:
    """The numbers on every wire of the cell at step ``t`` (real step of ``sample``)."""
    H = trace.hidden_size
    length = D.length_of(trace, sample)
    p = _prev(trace, t, direction, length)

    def at(tensor, step):  # (H,) of this row and sample, zeros for the initial state
        return np.zeros(H) if step is None else D.as_numpy(tensor[row, sample, step])

    v: dict[str, np.ndarray | None] = {}
    symbol = None
    if layer == 0:
        x = trace.inputs[sample, t]
        if x.dim() == 0:
            symbol, v["x"] = int(x), None
        else:
            v["x"] = D.as_numpy(x).ravel()
    else:
        below = [trace.index(layer - 1, d) for d in range(trace.num_directions)]
        v["x"] = np.concatenate([D.as_numpy(trace.hidden[k, sample, t]) for k in below])
    h_prev, h = at(trace.hidden, p), at(trace.hidden, t)
    v["h_prev"] = h_prev
    kind = trace.cell_type
    if kind == "lstm":
        i, f, g, o = (at(trace.gates[k], t) for k in "ifgo")
        c_prev, c = at(trace.cell, p), at(trace.cell, t)
        v.update({"c_prev": c_prev, "f": f, "i": i, "g": g, "o": o, "f*c_prev": f * c_prev,
                  "i*g": i * g, "c": c, "tanh(c)": np.tanh(c), "h": h})
    elif kind == "gru":
        r, z, n = (at(trace.gates[k], t) for k in "rzn")
        v.update({"r": r, "z": z, "n": n, "1-z": 1.0 - z, "z*h_prev": z * h_prev,
                  "(1-z)*n": (1.0 - z) * n, "h": h})
    else:
        v.update({"a": at(trace.preact, t), "h": h})
    return Step(t, v, symbol)


# ---------------------------------------------------------------------------------------------
# the drawing: where every wire, box and node is (data coordinates)

# wire -> (x0, y0, x1, y1) of its coloured strip (horizontal or vertical)
STRIPS: dict[str, dict[str, tuple[float, float, float, float]]] = {
    "lstm": {
        "c_prev": (-1.6, 7.6, 0.9, 7.6), "h_prev": (-1.6, 1.4, 0.9, 1.4),
        "x": (1.5, -1.0, 1.5, 0.95),
        "f": (2.4, 3.85, 2.4, 7.15), "i": (4.0, 3.85, 4.0, 5.2), "g": (5.6, 3.85, 5.6, 5.2),
        "f*c_prev": (2.85, 7.6, 4.35, 7.6), "i*g": (4.8, 5.85, 4.8, 7.15),
        "c": (5.25, 7.6, 9.15, 7.6), "o": (7.85, 3.2, 9.15, 3.2),
        "tanh(c)": (9.6, 3.65, 9.6, 5.1), "h": (10.0, 1.4, 12.3, 1.4),
    },
    "gru": {
        "h_prev": (-1.6, 7.6, 0.9, 7.6), "x": (2.1, -1.0, 2.1, 0.95),
        "z": (3.0, 3.85, 3.0, 4.95), "r": (4.85, 4.3, 6.35, 4.3), "n": (8.2, 3.45, 8.2, 4.75),
        "1-z": (4.55, 5.4, 7.75, 5.4), "z*h_prev": (3.45, 7.6, 7.75, 7.6),
        "(1-z)*n": (8.2, 5.85, 8.2, 7.15), "h": (8.65, 7.6, 12.3, 7.6),
    },
    "elman": {
        "h_prev": (-1.6, 1.4, 0.9, 1.4), "x": (1.5, -1.0, 1.5, 0.95),
        "a": (5.0, 1.85, 5.0, 2.95), "h": (6.3, 3.6, 11.8, 3.6),
    },
}

# plain connecting lines (no values): lists of (x, y) points; arrows mark the ends that enter
LINES: dict[str, list[list[tuple[float, float]]]] = {
    "lstm": [
        [(-1.9, 7.6), (2.15, 7.6)], [(2.65, 7.6), (4.55, 7.6)], [(5.05, 7.6), (12.6, 7.6)],
        [(-1.9, 1.4), (7.2, 1.4)], [(1.5, -1.3), (1.5, 1.4)],
        [(2.4, 1.4), (2.4, 2.8)], [(4.0, 1.4), (4.0, 2.8)], [(5.6, 1.4), (5.6, 2.8)],
        [(7.2, 1.4), (7.2, 2.8)],
        [(2.4, 3.6), (2.4, 7.35)], [(4.0, 3.6), (4.0, 5.4), (4.55, 5.4)],
        [(5.6, 3.6), (5.6, 5.4), (5.05, 5.4)], [(4.8, 5.65), (4.8, 7.35)],
        [(7.7, 3.2), (9.35, 3.2)], [(9.6, 7.6), (9.6, 5.95)], [(9.6, 5.25), (9.6, 3.45)],
        [(9.6, 2.95), (9.6, 1.4), (12.6, 1.4)],
    ],
    "gru": [
        [(-1.9, 7.6), (2.75, 7.6)], [(3.25, 7.6), (7.95, 7.6)], [(8.45, 7.6), (12.6, 7.6)],
        [(1.4, 7.6), (1.4, 1.4), (6.6, 1.4)], [(2.1, -1.3), (2.1, 1.4)],
        [(3.0, 1.4), (3.0, 2.8)], [(4.6, 1.4), (4.6, 2.8)], [(6.6, 1.4), (6.6, 2.8)],
        [(3.0, 3.6), (3.0, 7.35)], [(3.0, 5.4), (3.49, 5.4)], [(4.41, 5.4), (7.95, 5.4)],
        [(4.6, 3.6), (4.6, 4.3), (6.6, 4.3), (6.6, 3.6)],
        [(7.15, 3.2), (8.2, 3.2), (8.2, 5.15)], [(8.2, 5.65), (8.2, 7.35)],
    ],
    "elman": [
        [(-1.9, 1.4), (5.0, 1.4)], [(1.5, -1.3), (1.5, 1.4)], [(5.0, 1.4), (5.0, 3.2)],
        [(5.55, 3.6), (12.6, 3.6)],
    ],
}

# gate boxes: name -> (x centre, y centre, text)
BOXES: dict[str, dict[str, tuple[float, float, str]]] = {
    "lstm": {"f": (2.4, 3.2, "σ"), "i": (4.0, 3.2, "σ"), "g": (5.6, 3.2, "tanh"),
             "o": (7.2, 3.2, "σ")},
    "gru": {"z": (3.0, 3.2, "σ"), "r": (4.6, 3.2, "σ"), "n": (6.6, 3.2, "tanh")},
    "elman": {"h": (5.0, 3.6, "{phi}")},
}

# pointwise nodes: name -> (x, y, "mul" | "add" | "tanh" | "one_minus", the wire it makes)
NODES: dict[str, list[tuple[float, float, str, str]]] = {
    "lstm": [(2.4, 7.6, "mul", "f*c_prev"), (4.8, 7.6, "add", "c"), (4.8, 5.4, "mul", "i*g"),
             (9.6, 3.2, "mul", "h"), (9.6, 5.6, "tanh", "tanh(c)")],
    "gru": [(3.0, 7.6, "mul", "z*h_prev"), (8.2, 7.6, "add", "h"), (8.2, 5.4, "mul", "(1-z)*n"),
            (3.95, 5.4, "one_minus", "1-z")],
    "elman": [],
}
NODE_EQ = {"mul": N_("element-wise product"), "add": N_("element-wise sum"),
           "tanh": N_("tanh, element-wise"), "one_minus": "1 − z"}

# what each wire's colour means: "state" [-1, 1], "gate" [0, 1], "wide" symmetric ±max
KIND = {"f": "gate", "i": "gate", "o": "gate", "r": "gate", "z": "gate", "1-z": "gate",
        "c_prev": "wide", "f*c_prev": "wide", "c": "wide", "a": "wide"}
AXES = {"state": "coloraxis", "gate": "coloraxis2", "wide": "coloraxis3"}

Y_RANGE = {"lstm": (-1.5, 8.5), "gru": (-1.5, 8.5), "elman": (-1.5, 4.8)}
X_RANGE = (-2.2, 12.8)


@dataclass
class Built:
    """What the animation updates: the strip traces and the node-hover trace."""

    strips: dict[str, int] = field(default_factory=dict)  # wire -> trace index
    hover: int = -1
    labels: int = -1


def _kind(trace: Trace, wire: str, x_wide: bool) -> str:
    if wire == "x":
        return "wide" if x_wide else "state"
    if trace.cell_type == "elman" and trace.nonlinearity == "relu" and wire in ("h", "h_prev"):
        return "wide"
    return KIND.get(wire, "state")


def _fmt(values: np.ndarray, unit: int | None) -> str:
    if unit is not None:
        return f"{values[0]:.4f}"
    shown = ", ".join(f"{v:.3f}" for v in values[:6])
    more = f", … ({values.size} units)" if values.size > 6 else ""
    return f"[{shown}{more}]"


def _strip_data(values: np.ndarray, seg: tuple[float, float, float, float],
                width: float) -> dict[str, Any]:
    """Heatmap geometry and z for a strip of ``n`` cells along a segment."""
    x0, y0, x1, y1 = seg
    n = values.size
    if y0 == y1:  # horizontal: unit 0 on the left
        dx = (x1 - x0) / n
        return {"z": values[None, :], "x0": x0 + dx / 2, "dx": dx, "y0": y0, "dy": width}
    dy = (y1 - y0) / n  # vertical: unit 0 at the bottom
    return {"z": values[:, None], "x0": x0, "dx": width, "y0": y0 + dy / 2, "dy": dy}


# where each wire's label goes: "left" / "right" of a vertical strip, "above" / "below" a
# horizontal one (default: left and above)
LABEL_SIDE = {"lstm": {"g": "right", "tanh(c)": "right", "o": "below"},
              "gru": {"n": "right", "(1-z)*n": "right"},
              "elman": {"a": "right"}}


def _label(seg: tuple[float, float, float, float], side: str) -> tuple[float, float, str]:
    """(x, y, textposition) of a wire's label."""
    x0, y0, x1, y1 = seg
    if y0 == y1:
        if side == "below":
            return (x0 + x1) / 2, y0 - 0.3, "bottom center"
        return (x0 + x1) / 2, y0 + 0.3, "top center"
    if side == "right":
        return x0 + 0.3, (y0 + y1) / 2, "middle right"
    return x0 - 0.3, (y0 + y1) / 2, "middle left"


def _label_text(label: str, values: np.ndarray | None, unit: int | None, vertical: bool,
                wire: str) -> str:
    if unit is None or values is None or wire == "x":
        return label
    return f"{label}{'<br>' if vertical else ' = '}{values[0]:.2f}"


def _cut(lines: list[list[tuple[float, float]]],
         strips: dict[str, tuple[float, float, float, float]]) -> tuple[list, list]:
    """The plain wires as x, y lists, without the stretches the coloured strips cover."""
    xs: list = []
    ys: list = []
    for pts in lines:
        for (ax, ay), (bx, by) in zip(pts[:-1], pts[1:], strict=True):
            horizontal = ay == by
            lo, hi = sorted((ax, bx) if horizontal else (ay, by))
            pieces = [(lo, hi)]
            for x0, y0, x1, y1 in strips.values():
                same = (horizontal and y0 == y1 == ay) or (not horizontal and x0 == x1 == ax)
                if not same:
                    continue
                a, b = sorted((x0, x1) if horizontal else (y0, y1))
                pieces = [q for p0, p1 in pieces for q in ((p0, min(p1, a)), (max(p0, b), p1))
                          if q[1] - q[0] > 1e-9]
            for p0, p1 in pieces:
                if horizontal:
                    xs += [p0, p1, None]
                    ys += [ay, ay, None]
                else:
                    xs += [ax, ax, None]
                    ys += [p0, p1, None]
    return xs, ys


def _labels(cell: str, step: Step, unit: int | None, p: str
            ) -> tuple[list[float], list[float], list[str], list[str]]:
    """Every wire's label: position, text (``x_t = id k`` for a symbol input) and anchor."""
    xs, ys, texts, where = [], [], [], []
    for wire, seg in STRIPS[cell].items():
        x, y, pos = _label(seg, "left" if wire == "x" else LABEL_SIDE[cell].get(wire, ""))
        label = LABELS[wire].format(p=p)
        values = step.values.get(wire)
        if values is None:  # a symbol id: written, not coloured
            text = f"{label} = id {step.symbol}"
        else:
            two_lines = seg[0] == seg[2] or LABEL_SIDE[cell].get(wire) == "below"
            text = _label_text(label, _pick(values, unit, wire), unit, two_lines, wire)
        xs.append(x)
        ys.append(y)
        texts.append(text)
        where.append(pos)
    return xs, ys, texts, where


def _check_unit(trace: Trace, unit: Any) -> int | None:
    if unit is None:
        return None
    return D.check_index("unit", unit, trace.hidden_size, "cell has hidden units")


def _check_t(trace: Trace, t: Any, sample: int) -> int:
    t = D.check_index("t", t, trace.seq_len, "sequence has steps")
    length = D.length_of(trace, sample)
    if t >= length:
        raise ValueError(_("t must be a real step of sample {sample} (its length is {length}), "
                           "got t = {t}, a padded step").format(sample=sample, length=length, t=t))
    return t


def _ranges(trace: Trace, row: int, layer: int, sample: int) -> tuple[float, bool]:
    """(the ±max of the "wide" colour axis, whether x_t goes on it) over the sample's steps."""
    n = D.length_of(trace, sample)
    wide = [1.0]
    x_wide = False
    if layer == 0:
        x = trace.inputs[sample, :n]
        if x.is_floating_point():
            big = float(D.finite_max([x], absolute=True))
            x_wide = big > 1.0
            if x_wide:
                wide.append(big)
    else:
        below = [trace.index(layer - 1, d) for d in range(trace.num_directions)]
        big = D.finite_max([trace.hidden[k, sample, :n] for k in below], absolute=True)
        x_wide = big > 1.0
        if x_wide:
            wide.append(big)
    if trace.cell_type == "lstm":
        wide.append(D.finite_max([trace.cell[row, sample, :n]], absolute=True))
    elif trace.cell_type == "elman":
        wide.append(D.finite_max([trace.preact[row, sample, :n]], absolute=True))
        if trace.nonlinearity == "relu":
            wide.append(D.finite_max([trace.hidden[row, sample, :n]], absolute=True))
    return max(wide), x_wide


def _node_hover(step: Step, cell: str, unit: int | None, p: str, phi: str
                ) -> tuple[list[float], list[float], list[str]]:
    """Invisible hover points on every box and node: the equation and its numbers."""
    xs, ys, texts = [], [], []
    boxes = BOXES[cell]
    for name, (x, y, _text) in boxes.items():
        wire = "h" if cell == "elman" else name
        eq = equation(cell, wire, p, phi)
        xs.append(x)
        ys.append(y)
        texts.append(f"{eq}<br>= {_fmt(_pick(step.values[wire], unit), unit)}")
    for x, y, op, wire in NODES[cell]:
        eq = equation(cell, wire, p, phi)
        xs.append(x)
        ys.append(y)
        texts.append(f"{_(NODE_EQ[op])}: {eq}<br>= {_fmt(_pick(step.values[wire], unit), unit)}")
    return xs, ys, texts


def _pick(values: np.ndarray, unit: int | None, wire: str = "") -> np.ndarray:
    return values if unit is None or wire == "x" else values[unit : unit + 1]


DIRECTIONS = (N_("forward →"), N_("reverse ←"))  # as rnnviz.views._style.DIRECTION_NAMES


def _where(trace: Trace, layer: int, direction: int) -> str:
    """``layer 0`` (``layer 0 · reverse ←`` in a bidirectional model), translated."""
    name = _("layer {layer}").format(layer=layer)
    if trace.num_directions == 2:
        name += f" · {_(DIRECTIONS[direction])}"
    return name


def _title(trace: Trace, t: int, layer: int, direction: int, sample: int,
           unit: int | None) -> str:
    where = _where(trace, layer, direction)
    cell = trace.cell_type.upper()
    if cell == "ELMAN":  # a name, not an acronym: "Elman cell", «ячейка Элмана»
        if unit is None:
            return _("Elman cell at t = {t} — {where} · sample {sample}").format(
                t=t, where=where, sample=sample)
        return _("Elman cell at t = {t} — {where} · sample {sample} · unit {unit}").format(
            t=t, where=where, sample=sample, unit=unit)
    if unit is None:
        return _("{cell} cell at t = {t} — {where} · sample {sample}").format(
            cell=cell, t=t, where=where, sample=sample)
    return _("{cell} cell at t = {t} — {where} · sample {sample} · unit {unit}").format(
        cell=cell, t=t, where=where, sample=sample, unit=unit)


@dataclass
class CellNumbers:
    """Everything of the figure that depends on the trace and ``t``: each strip's ``z``
    (``(1, n)`` horizontal, ``(n, 1)`` vertical), its colour axis kind, the labels' and the
    hover points' texts, the title, and the colour bars (``bars``: kind -> (title, lo, hi),
    ``order``: the kinds drawn, left to right)."""

    step: Step
    z: dict[str, np.ndarray]
    kinds: dict[str, str]
    labels: list[str]
    hover: list[str]
    title: str
    bars: dict[str, tuple[str, float, float]]
    order: list[str]


def cell_numbers(trace: Trace, t: int, row: int, layer: int, direction: int, sample: int,
                 unit: int | None) -> CellNumbers:
    """The numbers :func:`plot_cell` draws (and :func:`update_cell` sends) for step ``t``."""
    cell = trace.cell_type
    p = "t−1" if direction == 0 else "t+1"
    phi = "ReLU" if cell == "elman" and trace.nonlinearity == "relu" else "tanh"
    step = step_values(trace, t, row, layer, direction, sample)
    wide, x_wide = _ranges(trace, row, layer, sample)
    z, kinds = {}, {}
    for wire, (_x0, y0, _x1, y1) in STRIPS[cell].items():
        if step.values.get(wire) is None:
            continue
        shown = _pick(step.values[wire], unit, wire)
        z[wire] = D.rounded(shown[None, :] if y0 == y1 else shown[:, None], 6)
        kinds[wire] = _kind(trace, wire, x_wide)
    state_title = {"lstm": "h, g, tanh c", "gru": "h, n", "elman": "h"}[cell]
    bars = {"state": (f"{state_title}: −1 … 1", -1.0, 1.0),
            "gate": (_("gates: 0 closed … 1 open"), 0.0, 1.0),
            "wide": (_wide_title(cell, x_wide, phi), -wide, wide)}
    order = [k for k in ("state", "gate", "wide") if k in kinds.values()]
    return CellNumbers(step, z, kinds, _labels(cell, step, unit, p)[2],
                       _node_hover(step, cell, unit, p, phi)[2],
                       _title(trace, t, layer, direction, sample, unit), bars, order)


def _bar_place(j: int, n: int) -> tuple[float, float]:
    """(x, len) of the j-th of n colour bars side by side under the drawing."""
    return (j + 0.5) / n, 0.9 / n


def build_cell(trace: Trace, t: int, layer: int, direction: int, sample: int, unit: Any,
               theme: str) -> tuple[go.Figure, Built, dict[str, Any]]:
    trace = D.check_trace(trace)
    S.check_theme(theme)
    s = D.check_sample(trace, sample)
    [(row, lay, d)] = D.rows(trace, layer, direction)
    t = _check_t(trace, t, s)
    u = _check_unit(trace, unit)
    cell = trace.cell_type
    pal = S.palette(theme)
    p = "t−1" if d == 0 else "t+1"
    phi = "ReLU" if cell == "elman" and trace.nonlinearity == "relu" else "tanh"
    num = cell_numbers(trace, t, row, lay, d, s, u)
    step = num.step
    width = 0.42
    traces: list = []  # built in lists and set at once: plotly validates every update
    shapes: list[dict] = []
    box_text: list[tuple[float, float, str, int]] = []
    built = Built()
    strips = {w: seg for w, seg in STRIPS[cell].items() if step.values.get(w) is not None}
    # 1. the plain wires (under everything)
    xs, ys = _cut(LINES[cell], strips)
    traces.append(go.Scatter(x=xs, y=ys, mode="lines", hoverinfo="skip", showlegend=False,
                             line={"color": pal.fg, "width": 2}, name="wires"))  # i18n-ignore
    # 2. the coloured strips, one heatmap per wire, outlined
    for wire, seg in strips.items():
        shown = _pick(step.values[wire], u, wire)
        kind = num.kinds[wire]
        units = np.arange(shown.size) if u is None or wire == "x" else np.array([u])
        data = _strip_data(shown, seg, width)
        custom = units[None, :] if data["z"].shape[0] == 1 else units[:, None]
        eq = equation(cell, wire, p, phi)
        value = _("unit {unit} = {value}").format(unit="%{customdata}", value="%{z:.4f}")
        built.strips[wire] = len(traces)
        traces.append(go.Heatmap(
            **{k: v for k, v in data.items() if k != "z"}, z=num.z[wire],
            customdata=custom, coloraxis=AXES[kind], name=wire, meta=wire, xgap=0, ygap=0,
            hoverongaps=False,
            hovertemplate=f"{eq}<br>{value}<extra></extra>"))
        x0, y0, x1, y1 = seg
        hx, hy = (0, width / 2) if y0 == y1 else (width / 2, 0)
        shapes.append(dict(type="rect", x0=min(x0, x1) - hx, x1=max(x0, x1) + hx,
                      y0=min(y0, y1) - hy, y1=max(y0, y1) + hy,
                      line={"color": pal.fg, "width": 1}, fillcolor="rgba(0,0,0,0)", opacity=1,
                      layer="above"))
    # labels (with the unit's value when following one unit), one text trace
    lx, ly, _texts, lp = _labels(cell, step, u, p)
    built.labels = len(traces)
    traces.append(go.Scatter(x=lx, y=ly, text=num.labels, textposition=lp, mode="text",
                             hoverinfo="skip", showlegend=False, name="labels",  # i18n-ignore
                             textfont={"size": S.FONT_SIZE - 1, "color": [
                                 S.GATES[w].color if w in S.GATES and w != "h" else pal.fg
                                 for w in STRIPS[cell]]}))
    # 3. gate boxes, coloured by the gate
    for name, (x, y, text) in BOXES[cell].items():
        color = S.GATES[name].color if name in S.GATES else pal.fg
        shapes.append(dict(type="rect", x0=x - 0.55, x1=x + 0.55, y0=y - 0.4, y1=y + 0.4,
                      line={"color": color, "width": 3}, fillcolor=_box_fill(theme),
                      opacity=1, layer="above"))
        box_text.append((x, y, text.format(phi=phi), S.FONT_SIZE))
    # 4. pointwise nodes: ⊙ (circle-dot), ⊕ (circle-cross), tanh, 1−
    for x, y, op, _wire in NODES[cell]:
        if op in ("mul", "add"):
            traces.append(go.Scatter(
                x=[x], y=[y], mode="markers", hoverinfo="skip", showlegend=False, name=op,
                marker={"symbol": "circle-dot" if op == "mul" else "circle-cross", "size": 24,
                        "color": _box_fill(theme, solid=True),
                        "line": {"color": pal.fg, "width": 2}}))
        else:
            text = "tanh" if op == "tanh" else "1−"
            shapes.append(dict(type="rect", x0=x - 0.46, x1=x + 0.46, y0=y - 0.3, y1=y + 0.3,
                          line={"color": pal.fg, "width": 2}, fillcolor=_box_fill(theme),
                          opacity=1, layer="above"))
            box_text.append((x, y, text, S.FONT_SIZE - 2))
    # 5. hover points on boxes and nodes
    hx, hy, _texts = _node_hover(step, cell, u, p, phi)
    built.hover = len(traces)
    traces.append(go.Scatter(x=hx, y=hy, mode="markers", text=num.hover, showlegend=False,
                             name="equations", marker={"size": 30, "opacity": 0},  # i18n-ignore
                             hovertemplate="%{text}<extra></extra>"))
    traces.append(go.Scatter(x=[b[0] for b in box_text], y=[b[1] for b in box_text],
                             text=[b[2] for b in box_text], mode="text", hoverinfo="skip",
                             showlegend=False, name="box text",  # i18n-ignore
                             textfont={"size": [b[3] for b in box_text], "color": pal.fg}))
    # 6. colour axes (bars side by side under the drawing), axes, title
    scales = {"state": S.STATE_SCALE, "gate": S.GATE_SCALE, "wide": S.STATE_SCALE}
    layout: dict[str, Any] = {"shapes": shapes}
    for j, kind in enumerate(num.order):
        (title, lo, hi), scale = num.bars[kind], scales[kind]
        x, length = _bar_place(j, len(num.order))
        bar = {"orientation": "h", "x": x, "xanchor": "center", "y": -0.04, "yanchor": "top",
               "len": length, "thickness": 12, "outlinewidth": 0,
               "title": {"text": title, "side": "top", "font": {"size": S.FONT_SIZE - 3}},
               "tickfont": {"size": S.FONT_SIZE - 4}, "nticks": 5}
        layout[AXES[kind]] = {"colorscale": scale, "cmin": lo, "cmax": hi, "colorbar": bar}
    layout["xaxis"] = {"visible": False, "range": list(X_RANGE), "fixedrange": True}
    layout["yaxis"] = {"visible": False, "range": list(Y_RANGE[cell]), "fixedrange": True,
                       "scaleanchor": "x", "scaleratio": 1}
    fig = go.Figure(data=traces, layout=layout)
    S.apply_theme(fig, theme, title=num.title)
    subtitle = (_("colour = value of each unit; hover for the equation and the numbers")
                if u is None else _("each wire shows this unit's value; hover for the equation"))
    if cell == "gru":
        subtitle = _("torch's GRU: z keeps the old state (Olah's z is 1 − z); hover for numbers")
    y0, y1 = Y_RANGE[cell]
    fig.update_layout(title_subtitle_text=subtitle, width=600,
                      height=int(175 + 580 * (y1 - y0) / (X_RANGE[1] - X_RANGE[0])),
                      margin={"l": 10, "r": 10, "t": 85, "b": 90}, showlegend=False)
    info = {"p": p, "phi": phi, "row": row, "layer": lay, "direction": d, "sample": s, "unit": u}
    return fig, built, info


def _wide_title(cell: str, x_wide: bool, phi: str) -> str:
    parts = {"lstm": ["c"], "gru": [], "elman": ["a"] + (["h"] if phi == "ReLU" else [])}[cell]
    if x_wide:
        parts.append("x")
    return _("{symbols}: ± largest value").format(symbols=", ".join(parts))


def _box_fill(theme: str, *, solid: bool = False) -> str:
    if theme == "dark":
        return "#222222" if solid else "rgba(255,255,255,0.06)"
    if theme == "light":
        return "#ffffff" if solid else "rgba(0,0,0,0.03)"
    return "#dddddd" if solid else "rgba(128,128,128,0.12)"


@uses_language
def plot_cell(trace: Trace, t: int, *, layer: int = 0, direction: int = 0, sample: int = 0,
              unit: int | None = None, theme: str = "auto", lang: str | None = None) -> go.Figure:
    r"""One step of the cell, wired as in Olah's diagrams, every wire coloured by its value.

    .. math::
        \text{LSTM: } c_t = f_t \odot c_{t-1} + i_t \odot g_t, \quad h_t = o_t \odot \tanh(c_t)

        \text{GRU: } h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}, \quad
        n_t = \tanh(W_{in} x_t + b_{in} + r_t \odot (W_{hn} h_{t-1} + b_{hn}))

        \text{Elman: } h_t = \tanh(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh})

    Inputs ``x_t``, ``h_{t-1}`` (and ``c_{t-1}``) come in on the left and bottom; each gate
    (LSTM ``i, f, g, o``; GRU ``r, z, n``) is a box with its non-linearity, in the gate's
    colour of every other view; ``⊙`` multiplies, ``⊕`` adds; ``h_t`` (and ``c_t``) leave on
    the right. Every wire is a strip of its units coloured by their values at step ``t``
    (gates on ``[0, 1]``, states on ``[-1, 1]``, the cell state on ``± its largest value``
    over the sequence), or, with ``unit``, that unit's scalar written on the wire. Hover on a
    wire or a box for its equation and numbers.

    The GRU follows torch (and Cho et al. 2014): ``z`` keeps the old state. Olah's post (and
    Chung et al. 2014) write ``h_t = (1 - z_t) h_{t-1} + z_t \tilde h_t``, so their ``z`` is
    torch's ``1 - z``; and torch's reset gate multiplies ``W_{hn} h_{t-1} + b_{hn}`` (inside the
    ``n`` box), not ``h_{t-1}``.

    The trace does not record ``h0``: the state before the first step (``t = 0``, or the last
    real step in the reverse direction) is drawn as zeros, as ``rnnviz.trace`` uses by default.
    In layer 0, symbol-id inputs are written as their id (the encoding is the model's).

    Args:
        trace: from ``rnnviz.trace``.
        t: the time step (negative ok); must be a real step of ``sample``.
        layer, direction: which cell (negative layer ok).
        sample: which sequence of the batch.
        unit: one hidden unit to follow (its scalar on every wire), or ``None`` for all units.
            ``x_t`` is always drawn whole.
        theme: ``"light"``, ``"dark"`` or ``"auto"``.
        lang: ``"en"`` or ``"ru"`` for this figure only (default: :func:`rnnviz.set_language`);
            the equations and symbols are the same in every language.

    Shapes:
        trace tensors ``(L*D, B, T, H)``; each strip holds ``H`` values (1 with ``unit``),
        ``x_t`` holds ``I`` (layer 0) or ``D*H`` (the layer below).

    Returns:
        A plotly figure; each strip is a heatmap whose ``meta`` is the wire's name (``WIRES``).

    Example:
        >>> import rnnviz, torch
        >>> lstm = rnnviz.LSTM(2, 6, batch_first=True, seed=0)
        >>> fig = rnnviz.plot_cell(rnnviz.trace(lstm, torch.randn(1, 5, 2)), t=3)
        >>> sorted(d.meta for d in fig.data if d.type == "heatmap")[:3]
        ['c', 'c_prev', 'f']
    """
    return build_cell(trace, t, layer, direction, sample, unit, theme)[0]


@uses_language
def animate_cell(trace: Trace, *, layer: int = 0, direction: int = 0, sample: int = 0,
                 unit: int | None = None, theme: str = "auto", duration: int = 600,
                 lang: str | None = None) -> go.Figure:
    r"""``plot_cell`` stepping through the sequence: one frame per real step ``t`` (in the
    direction's order), with a slider and play / pause buttons; works with no kernel (e.g.
    in a file written by ``rnnviz.export_html``).

    .. math::
        h_t = \mathrm{cell}(x_t, h_{t-1}) \quad (t = 0, 1, \dots, \text{or } T-1, \dots, 0
        \text{ in reverse})

    Args:
        trace, layer, direction, sample, unit, theme, lang: as ``plot_cell``.
        duration: milliseconds per frame when playing.

    Returns:
        The figure of ``plot_cell`` at the first step, with one frame per step (frames carry
        only the strips, labels and hover texts).

    Example:
        >>> import rnnviz, torch
        >>> gru = rnnviz.GRU(2, 4, batch_first=True, seed=0)
        >>> len(rnnviz.animate_cell(rnnviz.trace(gru, torch.randn(1, 6, 2)), unit=0).frames)
        6
    """
    trace = D.check_trace(trace)
    s = D.check_sample(trace, sample)
    [(_row, _layer, d)] = D.rows(trace, layer, direction)
    length = D.length_of(trace, s)
    steps = list(range(length)) if d == 0 else list(range(length - 1, -1, -1))
    fig, built, info = build_cell(trace, steps[0], layer, direction, s, unit, theme)
    u = info["unit"]
    idx = [*built.strips.values(), built.hover, built.labels]
    frames = []
    for t in steps:
        num = cell_numbers(trace, t, info["row"], info["layer"], info["direction"], s, u)
        data: list[dict] = [{"type": "heatmap", "z": num.z[wire]} for wire in built.strips]
        data.append({"type": "scatter", "text": num.hover})
        data.append({"type": "scatter", "text": num.labels})
        frames.append(go.Frame(name=f"t{t}", data=data, traces=idx,
                               layout={"title": {"text": num.title}}))
    # the colour bars hang under the drawing (in its 90 px bottom margin): controls go below them
    return _controls(fig, frames, [str(t) for t in steps], prefix="t = ", duration=duration,
                     below=80)


# ---------------------------------------------------------------------------------------------
# live, in the dashboard: the last layer's cell (first direction) at the time cursor t

LIVE_LAYER = -1


def _live_t(trace: Trace, sample: int, t: int) -> int:
    """The dashboard's cursor as a real step of ``sample``: past its end, its last step."""
    return min(max(int(t), 0), D.length_of(trace, sample) - 1)


def update_cell(trace: Trace, sample: int, t: int = 0) -> list[L.Change]:
    """What changes in :func:`live_cell`'s figure for ``trace`` at cursor ``t``: every
    strip, the labels and hover texts, the title (it names t) and the colour bars (the
    shared ``± largest value`` axis follows the trace)."""
    s = min(sample, trace.batch_size - 1)
    [(row, lay, d)] = D.rows(trace, LIVE_LAYER, 0)
    num = cell_numbers(trace, _live_t(trace, s, t), row, lay, d, s, None)
    built = _built(trace)
    out = []
    for wire, k in built.strips.items():
        out.append(L.array(k, "z", num.z[wire]))
        if wire == "x":  # an input beyond ±1 moves to the "± largest value" axis
            out.append(L.value(k, "coloraxis", AXES[num.kinds[wire]]))
    out += [L.value(built.labels, "text", num.labels), L.value(built.hover, "text", num.hover),
            L.layout("title.text", num.title)]
    for j, kind in enumerate(num.order):
        (title, lo, hi), (x, length) = num.bars[kind], _bar_place(j, len(num.order))
        axis = AXES[kind]
        out += [L.layout(f"{axis}.cmin", lo), L.layout(f"{axis}.cmax", hi),
                L.layout(f"{axis}.colorbar.x", x), L.layout(f"{axis}.colorbar.len", length),
                L.layout(f"{axis}.colorbar.title.text", title)]
    return out


def _built(trace: Trace) -> Built:
    """Which trace of the figure is which (the same for every trace of one model)."""
    cell = trace.cell_type
    symbol = LIVE_LAYER % trace.num_layers == 0 and trace.inputs.dim() == 2
    wires = [w for w in STRIPS[cell] if not (w == "x" and symbol)]
    strips = {w: 1 + k for k, w in enumerate(wires)}
    adds = sum(op in ("mul", "add") for _x, _y, op, _wire in NODES[cell])
    labels = 1 + len(wires)
    return Built(strips, hover=labels + 1 + adds, labels=labels)


def _cell_dashboard(fig: go.Figure) -> None:
    # the colour bars hang in the bottom margin; the drawing keeps its aspect ratio
    fig.update_layout(margin={"l": 10, "r": 10, "t": 85, "b": 90})


def live_cell(trace: Trace, *, sample: int, theme: str, t: int = 0) -> L.LiveView:
    """:func:`plot_cell` of the last layer's cell at the dashboard's cursor ``t``, live
    (:func:`update_cell`, which also follows the cursor)."""
    s = D.check_sample(trace, min(sample, trace.batch_size - 1))
    fig, built, _info = build_cell(trace, _live_t(trace, s, t), LIVE_LAYER, 0, s, None, theme)
    assert built == _built(trace), (built, _built(trace))
    return L.LiveView(fig, update_cell, grid="half", height=int(fig.layout.height or 560),
                      dashboard_layout=_cell_dashboard)
