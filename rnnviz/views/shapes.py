"""The five kinds of sequence task as box diagrams (after Karpathy 2015, "The Unreasonable
Effectiveness of Recurrent Neural Networks")."""

from __future__ import annotations

import plotly.graph_objects as go

from rnnviz.views import _style as S

INPUT, RNN, OUTPUT = "#E69F00", "#009E73", "#56B4E9"  # Okabe-Ito orange, green, sky blue

# (title, example, number of RNN steps, steps with an input, steps with an output)
TASKS: tuple[tuple[str, str, int, tuple[int, ...], tuple[int, ...]], ...] = (
    ("one-to-one", "plain network<br>(no recurrence)", 1, (0,), (0,)),
    ("one-to-many", "image captioning<br>(image → words)", 3, (0,), (0, 1, 2)),
    ("many-to-one", "sentiment<br>classification<br>(words → label)", 3, (0, 1, 2), (2,)),
    ("many-to-many", "translation<br>(words → words)", 5, (0, 1, 2), (3, 4)),
    ("synchronised<br>many-to-many", "labelling every<br>video frame", 4, (0, 1, 2, 3),
     (0, 1, 2, 3)),
)


def plot_task_shapes(theme: str = "auto") -> go.Figure:
    """The five sequence-task shapes side by side: input boxes (orange, bottom), RNN boxes
    (green, with recurrent arrows), output boxes (blue, top), with the course's examples."""
    S.check_theme(theme)
    pal = S.palette(theme)
    fig = go.Figure()
    shapes: list[dict] = []
    notes: list[dict] = []
    box, gap = 0.72, 4.0  # room for the examples under each shape in a ~850 px notebook
    y_in, y_rnn, y_out = 0.0, 1.4, 2.8
    x0 = 0.0
    for title, example, n, ins, outs in TASKS:
        xs = [x0 + t for t in range(n)]
        mid = (xs[0] + xs[-1]) / 2
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
                      "yanchor": "top", "font": {"size": S.FONT_SIZE - 2}})
        x0 += n - 1 + gap + (1.2 if n == 1 else 0.0)  # a lone box: its example is wider
    # an invisible trace so the axes span the drawing and hover says what colours mean
    fig.add_trace(go.Scatter(x=[-0.6, x0 - gap + 0.6], y=[y_in - 1.9, y_out + 1.5],
                             mode="markers", marker={"opacity": 0}, hoverinfo="skip",
                             showlegend=False))
    for name, color in (("input x", INPUT), ("RNN step h", RNN), ("output y", OUTPUT)):
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=name,
                                 marker={"symbol": "square", "size": 16, "color": color}))
    fig.update_layout(shapes=shapes, annotations=notes)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, scaleanchor="x", scaleratio=1)
    S.apply_theme(fig, theme, title="Five shapes of sequence task")
    fig.update_layout(height=560, legend={"orientation": "h", "y": 1.0, "x": 1,
                                          "xanchor": "right", "yanchor": "bottom"})
    return fig


def _arrow(notes: list[dict], x0: float, y0: float, x1: float, y1: float, color: str) -> None:
    notes.append({"x": x1, "y": y1, "ax": x0, "ay": y0, "xref": "x", "yref": "y", "axref": "x",
                  "ayref": "y", "showarrow": True, "arrowhead": 2, "arrowsize": 1.2,
                  "arrowwidth": 2, "arrowcolor": color, "text": ""})
