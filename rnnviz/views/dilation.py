"""Dilation and stride in time: the unrolled graph of a stack, and how far each input is from
the output (in recurrent steps)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from rnnviz import _validate
from rnnviz.dilation import Paths, path_lengths
from rnnviz.i18n import _, ngettext, uses_language
from rnnviz.views import _style as S

INPUT_COLOR = "#E69F00"  # as plot_task_shapes / plot_unrolled: input orange,
NODE_COLOR = "#009E73"  # RNN step green,
OUTPUT_COLOR = "#56B4E9"  # output sky blue
ROW_GAP = 1.0  # vertical distance between rows (input, layer 0, layer 1, ...)


def _arc(x0: float, x1: float, y: float, height: float, n: int = 13) -> tuple[list[float], list[float]]:
    """Points of an arc above the row from x0 to x1 (a straight line when height is 0)."""
    if height == 0:
        return [x0, x1], [y, y]
    u = np.linspace(0.0, 1.0, n)
    return list(x0 + (x1 - x0) * u), list(y + height * np.sin(np.pi * u))


def _height(dilation: int) -> float:
    """Arc height of a skip of ``dilation`` steps: 0 for neighbours, higher for longer skips."""
    return 0.0 if dilation == 1 else min(0.42, 0.16 + 0.08 * np.log2(dilation))


@uses_language
def plot_dilation(
    dilations: Sequence[int],
    seq_len: int,
    *,
    strides: Sequence[int] | None = None,
    source: int = 0,
    theme: str = "auto",
    lang: str | None = None,
) -> go.Figure:
    """The unrolled graph of a recurrent stack with dilations (and strides), and path lengths.

    Top: one row of nodes per layer (inputs ``x_t`` below, the output above the top layer's
    last node). Layer ``l`` joins step ``t`` to ``t + d_l`` (an arc: a skip connection of
    length ``d_l``); with strides, a layer only has nodes at the steps it runs. The shortest
    path from ``x_source`` to the output is drawn thick in the accent colour; grey nodes and
    inputs cannot reach the output at all (outside the receptive field).

    Bottom: for every input step ``t``, the number of recurrent steps on the shortest path
    from ``x_t`` to the output (bars), against a plain RNN's ``T - 1 - t`` (dashed); ``×``
    marks inputs that never reach the output.

    Args:
        dilations: one positive int per layer, e.g. ``(1, 2, 4, 8)``.
        seq_len: T, the number of time steps drawn.
        strides: one positive int per layer (default all 1).
        source: the input step whose path is highlighted.
        theme: ``"auto"``, ``"light"`` or ``"dark"``.
        lang: ``"en"`` or ``"ru"`` for this figure only (default: :func:`rnnviz.set_language`).

    Returns:
        A plotly figure (nothing is displayed).

    Example:
        >>> import rnnviz
        >>> fig = rnnviz.plot_dilation((1, 2, 4), 16)
    """
    S.check_theme(theme)
    _validate.at_most("seq_len", _validate.positive_int("seq_len", seq_len), "max_drawn")
    paths: Paths = path_lengths(dilations, seq_len, strides=strides)
    T = paths.seq_len
    if isinstance(source, bool) or not isinstance(source, (int, np.integer)) or not 0 <= source < T:
        raise ValueError(_("source must be an int in [0, {T}) (an input step), got {value!r}").format(
            T=T, value=source))
    source = int(source)
    never_word = _("never")  # hover: an input that never reaches the output
    never_name = _("never reaches")
    pal = S.palette(theme)
    L = len(paths.dilations)
    period = [int(np.prod(paths.strides[: k + 1])) for k in range(L)]
    reach = set(paths.next_hop) | {paths.output}  # nodes from which the output is reachable

    def y_of(layer: int) -> float:
        return ROW_GAP * (layer + 1)

    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.62, 0.38], vertical_spacing=0.08)
    # 1. edges: inputs up, layer to layer, recurrent arcs
    xs: list[float | None] = []
    ys: list[float | None] = []
    for t in paths.nodes[0]:
        xs += [t, t, None]
        ys += [0.12, y_of(0) - 0.12, None]
    for k in range(1, L):
        for t in paths.nodes[k]:
            xs += [t, t, None]
            ys += [y_of(k - 1) + 0.12, y_of(k) - 0.12, None]
    out_t = paths.output[1]
    xs += [out_t, out_t, None]
    ys += [y_of(L - 1) + 0.12, y_of(L - 1) + 0.66, None]
    for k in range(L):
        step = paths.dilations[k] * period[k]
        nodes = set(paths.nodes[k])
        for t in paths.nodes[k]:
            if t + step in nodes:
                ax, ay = _arc(t + 0.12, t + step - 0.12, y_of(k), _height(paths.dilations[k]))
                xs += [*ax, None]
                ys += [*ay, None]
    fig.add_trace(
        go.Scatter(
            x=xs,
            y=ys,
            mode="lines",
            line={"color": pal.grid, "width": 1.6},
            hoverinfo="skip",
            showlegend=False,
            name=_("connections"),
        ),
        row=1,
        col=1,
    )
    # 2. the shortest path from x_source
    route = paths.path(source)
    if route:
        px, py = [source, source], [0.0, y_of(0)]
        for (k0, t0), (k1, t1) in zip(route[:-1], route[1:], strict=True):
            if k1 != k0:  # up one layer
                px += [t1]
                py += [y_of(k1)]
            else:  # along a (dilated) recurrent edge
                ax, ay = _arc(t0, t1, y_of(k0), _height(paths.dilations[k0]))
                px += ax[1:]
                py += ay[1:]
        px += [route[-1][1]]
        py += [y_of(L - 1) + 0.75]
        fig.add_trace(
            go.Scatter(
                x=px,
                y=py,
                mode="lines",
                line={"color": pal.accent, "width": 5},
                name=_("shortest path from x_{source}").format(source=source),
                hoverinfo="skip",
            ),
            row=1,
            col=1,
        )
    # 3. nodes: inputs, cells (green if they reach the output), the output
    t_all = np.arange(T)
    in_field = [paths.length[t] is not None for t in range(T)]
    fig.add_trace(
        go.Scatter(
            x=t_all,
            y=np.zeros(T),
            mode="markers",
            showlegend=False,
            name="x_t",  # i18n-ignore (a symbol)
            marker={
                "symbol": "square",
                "size": float(np.clip(500 / T, 7, 18)),
                "color": [INPUT_COLOR if ok else pal.muted for ok in in_field],
                "line": {"width": 0},
            },
            customdata=[paths.length[t] if paths.length[t] is not None else never_word for t in range(T)],
            hovertemplate="x_%{x}<br>"
            + _("recurrent steps to the output: {n}").format(n="%{customdata}")
            + "<extra></extra>",
        ),
        row=1,
        col=1,
    )
    for k in range(L):
        nodes = paths.nodes[k]
        fig.add_trace(
            go.Scatter(
                x=nodes,
                y=[y_of(k)] * len(nodes),
                mode="markers",
                showlegend=False,
                name=_("layer {layer}").format(layer=k),
                marker={
                    "symbol": "circle",
                    "size": float(np.clip(420 / T, 6, 15)),
                    "color": [NODE_COLOR if (k, t) in reach else pal.muted for t in nodes],
                    "line": {"color": pal.fg, "width": 1},
                },
                hovertemplate=_("layer {layer} (dilation {dilation}, stride {stride})").format(
                    layer=k, dilation=paths.dilations[k], stride=paths.strides[k])
                + "<br>t = %{x}<extra></extra>",
            ),
            row=1,
            col=1,
        )
    fig.add_trace(
        go.Scatter(
            x=[paths.output[1]],
            y=[y_of(L - 1) + 0.75],
            mode="markers",
            showlegend=False,
            name=_("output"),
            marker={"symbol": "diamond", "size": 16, "color": OUTPUT_COLOR},
            hovertemplate=_("the output, read at t = {t}").format(t="%{x}") + "<extra></extra>",
        ),
        row=1,
        col=1,
    )
    # 4. bottom: recurrent steps per input, against a plain RNN
    lengths = [np.nan if v is None else v for v in paths.length]
    fig.add_trace(
        go.Bar(
            x=t_all,
            y=lengths,
            name=_("recurrent steps to the output"),
            marker={"color": NODE_COLOR},
            hovertemplate="x_%{x}: " + _("recurrent steps: {n}").format(n="%{y}")
            + "<extra></extra>",
        ),
        row=2,
        col=1,
    )
    plain = T - 1 - t_all
    fig.add_trace(
        go.Scatter(
            x=t_all,
            y=plain,
            mode="lines",
            name=_("plain RNN: T − 1 − t"),
            line={"color": pal.fg, "dash": "dash", "width": 2},
            hovertemplate=_("plain RNN, recurrent steps: {n}").format(n="%{y}") + "<extra></extra>",
        ),
        row=2,
        col=1,
    )
    never = [t for t in range(T) if paths.length[t] is None]
    if never:
        fig.add_trace(
            go.Scatter(
                x=never,
                y=[0] * len(never),
                mode="markers",
                name=never_name,
                marker={"symbol": "x", "size": 10, "color": pal.muted},
                hoverinfo="skip",
            ),
            row=2,
            col=1,
        )
    # 5. axes, title
    ticks = [0.0] + [y_of(k) for k in range(L)] + [y_of(L - 1) + 0.75]
    labels = (
        [_("input x_t")]
        + [
            _("layer {layer}").format(layer=k) + f" · d={paths.dilations[k]}"
            + (f" · s={paths.strides[k]}" if paths.strides[k] > 1 else "")
            for k in range(L)
        ]
        + [_("output")]
    )
    fig.update_yaxes(
        tickvals=ticks,
        ticktext=labels,
        showgrid=False,
        zeroline=False,
        range=[-0.4, y_of(L - 1) + 1.1],
        row=1,
        col=1,
    )
    fig.update_yaxes(title_text=_("recurrent steps"), rangemode="tozero", row=2, col=1)
    fig.update_xaxes(showgrid=False, zeroline=False, range=[-0.8, T - 0.2], row=1, col=1)
    fig.update_xaxes(title_text=_("input step t"), row=2, col=1)
    dilations = ", ".join(map(str, paths.dilations))
    if any(s > 1 for s in paths.strides):
        title = _("Unrolled in time — dilations ({dilations}), strides ({strides})").format(
            dilations=dilations, strides=", ".join(map(str, paths.strides)))
    else:
        title = _("Unrolled in time — dilations ({dilations})").format(dilations=dilations)
    k = paths.length[source]
    first = (
        ngettext("x_{source} reaches the output in {n} recurrent step (plain RNN: {plain})",
                 "x_{source} reaches the output in {n} recurrent steps (plain RNN: {plain})",
                 k).format(source=source, n=k, plain=T - 1 - source)
        if k is not None
        else _("x_{source} never reaches the output").format(source=source)
    )
    field = ngettext("receptive field {n} of {T} step", "receptive field {n} of {T} steps",
                     T).format(n=paths.receptive_field, T=T)
    updates = ngettext("{n} cell update", "{n} cell updates", sum(paths.updates)).format(
        n=sum(paths.updates))
    S.apply_theme(fig, theme, title=title)
    fig.update_layout(
        # two lines: the path, then the totals (one line outgrew a projector's notebook column)
        title_subtitle_text=f"{first}<br>{field} · {updates}",
        height=460 + 70 * L,
        margin={"t": 130, "b": 110},
        bargap=0.25,
        legend={"orientation": "h", "y": 0, "x": 0, "yref": "container", "yanchor": "bottom"},
    )
    return fig
