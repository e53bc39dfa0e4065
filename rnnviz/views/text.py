"""Text coloured per character by one unit's activation (Karpathy, Johnson & Fei-Fei 2015)."""

from __future__ import annotations

import html
from typing import Any

import numpy as np
import plotly.graph_objects as go

from rnnviz import _validate
from rnnviz.i18n import _, uses_language
from rnnviz.views import _data as D
from rnnviz.views import _style as S

_VISIBLE = {"\n": "↵", "\t": "⇥", "\r": "␍", " ": "␣"}


def _cell(ch: str) -> tuple[str, str]:
    """(shown in the cell, shown in the hover), both HTML-escaped: text is never markup."""
    shown = " " if ch == " " else _VISIBLE.get(ch, ch)
    if not ch.isprintable() and ch not in _VISIBLE:
        shown = f"U+{ord(ch):04X}"
    return html.escape(shown, quote=True), html.escape(_VISIBLE.get(ch, shown), quote=True)


@uses_language
def plot_text_activation(text: str, values: Any, *, unit_name: str | None = None,
                         theme: str = "auto", wrap: int = 60,
                         lang: str | None = None) -> go.Figure:
    """Each character of ``text`` on a cell coloured by ``values[k]`` (the unit's activation
    after reading that character), wrapped at newlines and at ``wrap`` characters.

    Every character is HTML-escaped (``<script>`` is shown, never run). Hover shows the
    character, its position and the exact value.

    Args:
        text: the characters read.
        values: ``len(text)`` numbers (list, array or tensor), e.g. ``trace.hidden[l, b, :, u]``.
        unit_name: shown in the title, e.g. ``"layer 0 unit 7"``.
        wrap: characters per line.
        lang: ``"en"`` or ``"ru"`` for this figure only (default: :func:`rnnviz.set_language`).
    """
    S.check_theme(theme)
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    if not text:
        raise ValueError("text must not be empty")
    _validate.at_most("text's length", len(text), "max_drawn")
    if isinstance(wrap, bool) or not isinstance(wrap, int) or wrap < 1:
        raise ValueError(f"wrap must be a positive int, got {wrap!r}")
    v = D.numbers("values", values).ravel()
    if v.size != len(text):
        raise ValueError(f"values must have one number per character: len(text) = {len(text)}"
                         f", got {v.size} values")
    # 1. lay the characters out on a grid: new line after '\n' or every `wrap` characters
    pos: list[tuple[int, int]] = []
    r = c = 0
    for ch in text:
        if c >= wrap:
            r, c = r + 1, 0
        pos.append((r, c))
        c += 1
        if ch == "\n":
            r, c = r + 1, 0
    n_rows, n_cols = pos[-1][0] + 1, max(p[1] for p in pos) + 1
    z = np.full((n_rows, n_cols), np.nan)
    shown = np.full((n_rows, n_cols), "", dtype=object)
    hover_data = np.full((n_rows, n_cols, 2), "", dtype=object)
    for k, (ch, (r, c)) in enumerate(zip(text, pos, strict=True)):
        z[r, c] = v[k]
        shown[r, c], hover_data[r, c, 0] = _cell(ch)
        hover_data[r, c, 1] = str(k)
    # 2. colour: signed diverging scale, [-1, 1] for tanh-range values
    finite = v[np.isfinite(v)]
    big = max(1.0, float(np.abs(finite).max())) if finite.size else 1.0
    if not _validate.text("unit_name", unit_name, allow_none=True):
        name, title = _("unit"), _("Text coloured by unit")
    else:
        name = S.escape(unit_name)
        # TRANSLATORS: {name} is the student's own label for the unit, e.g. "layer 0 unit 7"
        title = _("Text coloured by {name}").format(name=name)
    # plotly's placeholders go in through .format, so the catalogue holds none of them
    # TRANSLATORS: hover on one character; {value} is its unit's activation
    hover = _("'{char}' (character {index})<br>{name} = {value}").format(
        char="%{customdata[0]}", index="%{customdata[1]}", name=name, value="%{z:.4f}")
    fig = go.Figure(go.Heatmap(
        z=D.rounded(z), text=shown, texttemplate="%{text}", customdata=hover_data,
        textfont={"family": S.MONO_FAMILY, "size": S.FONT_SIZE + 2}, colorscale=S.STATE_SCALE,
        zmin=-big, zmax=big, xgap=1, ygap=3, hoverongaps=False,
        # short, and on top: a one-line text's colour bar is too short for a title beside it
        colorbar={**S.colorbar(_("activation")), "title": {
            "text": _("activation"), "side": "top", "font": {"size": S.FONT_SIZE - 1}}},
        hovertemplate=hover + "<extra></extra>"))
    fig.update_xaxes(visible=False, range=[-0.5, n_cols - 0.5])
    fig.update_yaxes(visible=False, autorange="reversed")
    S.apply_theme(fig, theme, title=title)
    # no fixed width: the strip fills its slot (a fixed one was clipped in a narrow notebook
    # and left half a projector-wide one empty)
    fig.update_layout(height=150 + 38 * n_rows, margin={"l": 20, "r": 20, "t": 80, "b": 20})
    return fig
