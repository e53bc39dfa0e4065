"""The five kinds of sequence task as box diagrams (after Karpathy 2015, "The Unreasonable
Effectiveness of Recurrent Neural Networks")."""

from __future__ import annotations

import re

import plotly.graph_objects as go

from rnnviz.i18n import N_, _, uses_language
from rnnviz.views import _style as S

INPUT, RNN, OUTPUT = "#E69F00", "#009E73", "#56B4E9"  # Okabe-Ito orange, green, sky blue
# Spacing: panels sit at least GAP boxes apart, and further when their labels (longer in
# Russian) would otherwise touch in a plot area PLOT_PX wide (the ~850 px notebook column of a
# 1280x720 projector with the sidebar open), a letter being CHAR_EM wide.
GAP, PLOT_PX, CHAR_EM = 3.0, 780.0, 0.56
HEIGHT = 560

# (title, example, number of RNN steps, steps with an input, steps with an output); the
# English text, translated when drawn
TASKS: tuple[tuple[str, str, int, tuple[int, ...], tuple[int, ...]], ...] = (
    (N_("one-to-one"), N_("plain network<br>(no recurrence)"), 1, (0,), (0,)),
    (N_("one-to-many"), N_("image captioning<br>(image → words)"), 3, (0,), (0, 1, 2)),
    (N_("many-to-one"), N_("sentiment classification<br>(words → label)"), 3, (0, 1, 2), (2,)),
    (N_("many-to-many"), N_("translation<br>(words → words)"), 5, (0, 1, 2), (3, 4)),
    (N_("synchronised<br>many-to-many"), N_("labelling every<br>video frame"), 4, (0, 1, 2, 3),
     (0, 1, 2, 3)),
)


@uses_language
def plot_task_shapes(theme: str = "auto", *, lang: str | None = None) -> go.Figure:
    """The five sequence-task shapes side by side: input boxes (orange, bottom), RNN boxes
    (green, with recurrent arrows), output boxes (blue, top), with the course's examples.
    ``lang`` (``"en"``, ``"ru"``) overrides :func:`rnnviz.set_language` for this figure."""
    S.check_theme(theme)
    pal = S.palette(theme)
    fig = go.Figure()
    shapes: list[dict] = []
    notes: list[dict] = []
    box = 0.72
    y_in, y_rnn, y_out = 0.0, 1.4, 2.8
    labels = [(_(task[0]), _(task[1])) for task in TASKS]  # in the language in force
    mids, (x_lo, x_hi) = _centres([task[2] for task in TASKS], labels, y_out - y_in + 3.4)
    for (title, example), (_t, _e, n, ins, outs), mid in zip(labels, TASKS, mids, strict=True):
        xs = [mid - (n - 1) / 2 + t for t in range(n)]
        for t, x in enumerate(xs):
            cells = [(y_rnn, RNN, "h")]
            cells += [(y_in, INPUT, "x")] if t in ins else []
            cells += [(y_out, OUTPUT, "y")] if t in outs else []
            for y, color, label in cells:
                shapes.append({"type": "rect", "x0": x - box / 2, "x1": x + box / 2,
                               "y0": y - box / 2, "y1": y + box / 2, "fillcolor": color,
                               "line": {"color": pal.fg, "width": 1}})
                notes.append({"x": x, "y": y, "text": f"<b>{label}</b>", "showarrow": False,
                              "font": {"color": "#1a1a1a", "size": S.FONT_SIZE}})
            if t in ins:
                _arrow(notes, x, y_in + box / 2, x, y_rnn - box / 2, pal.fg)
            if t in outs:
                _arrow(notes, x, y_rnn + box / 2, x, y_out - box / 2, pal.fg)
            if t > 0:
                _arrow(notes, x - 1 + box / 2, y_rnn, x - box / 2, y_rnn, pal.fg)
        notes.append({"x": mid, "y": y_out + 0.75, "text": f"<b>{title}</b>",
                      "showarrow": False, "yanchor": "bottom", "font": {"size": S.FONT_SIZE + 2}})
        notes.append({"x": mid, "y": y_in - 0.6, "text": example, "showarrow": False,
                      "yanchor": "top", "font": {"size": S.FONT_SIZE}})
    # an invisible trace so the axes span the drawing and hover says what colours mean
    fig.add_trace(go.Scatter(x=[x_lo, x_hi], y=[y_in - 1.9, y_out + 1.5],
                             mode="markers", marker={"opacity": 0}, hoverinfo="skip",
                             showlegend=False))
    for name, color in ((_("input x"), INPUT), (_("RNN step h"), RNN), (_("output y"), OUTPUT)):
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=name,
                                 marker={"symbol": "square", "size": 16, "color": color}))
    fig.update_layout(shapes=shapes, annotations=notes)
    fig.update_xaxes(visible=False, range=[x_lo, x_hi])  # not autorange: it pads for the text
    fig.update_yaxes(visible=False, scaleanchor="x", scaleratio=1)
    S.apply_theme(fig, theme, title=_("Five shapes of sequence task"))
    fig.update_layout(height=HEIGHT, legend={"orientation": "h", "y": 1.0, "x": 1,
                                          "xanchor": "right", "yanchor": "bottom"})
    return fig


def _centres(ns: list[int], labels: list[tuple[str, str]],
             y_span: float) -> tuple[list[float], tuple[float, float]]:
    """Centre of each panel (in box widths) and the x range of the drawing, so that
    neighbouring panels' title and example lines do not overlap. The scale (pixels per box)
    depends on the total width, so it is refined a few times; it is capped by the height."""
    px = [max(_text_px(t, bold=True), _text_px(e)) for t, e in labels]
    per_box = 45.0
    for _round in range(5):
        half = [p / per_box / 2 + 0.3 for p in px]
        mids = [(ns[0] - 1) / 2]
        for k in range(1, len(ns)):
            mids.append(mids[-1] + max((ns[k - 1] - 1) / 2 + GAP + (ns[k] - 1) / 2,
                                       half[k - 1] + half[k]))
        lo = min(-0.6, mids[0] - half[0])
        hi = max(mids[-1] + (ns[-1] - 1) / 2 + 0.6, mids[-1] + half[-1])
        per_box = min(PLOT_PX / (hi - lo), (HEIGHT - 160) / y_span)  # margins 90 + 70
    return mids, (lo, hi)


def _text_px(text: str, bold: bool = False) -> float:
    """Estimated width in pixels of an annotation's longest line."""
    lines = re.sub(r"<(?!br>)[^>]*>", "", text).split("<br>")
    return max(len(line) for line in lines) * CHAR_EM * (S.FONT_SIZE + 1) * (1.1 if bold else 1)


def _arrow(notes: list[dict], x0: float, y0: float, x1: float, y1: float, color: str) -> None:
    notes.append({"x": x1, "y": y1, "ax": x0, "ay": y0, "xref": "x", "yref": "y", "axref": "x",
                  "ayref": "y", "showarrow": True, "arrowhead": 2, "arrowsize": 1.2,
                  "arrowwidth": 2, "arrowcolor": color, "text": ""})
