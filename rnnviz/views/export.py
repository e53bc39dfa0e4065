"""Write a figure as one self-contained, deterministic HTML file (works with no kernel)."""

from __future__ import annotations

import os
from pathlib import Path

import plotly.graph_objects as go
import plotly.io as pio

from rnnviz.i18n import _

DIV_ID = "rnnviz-figure"


def export_html(figure: go.Figure, path: str | os.PathLike) -> Path:
    """Write ``figure`` to ``path`` as a full HTML page with plotly.js inlined.

    The file needs no network and no kernel (animations are plain plotly frames), and the
    same figure always gives the same bytes (fixed div id, no timestamps).

    Returns:
        The path written.
    """
    if not isinstance(figure, go.Figure):
        raise TypeError(_("figure must be a plotly.graph_objects.Figure, got {type}").format(
            type=type(figure).__name__))
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(_("path must be a str or os.PathLike, got {type}").format(
            type=type(path).__name__))
    out = Path(path)
    if out.is_dir():
        raise ValueError(_("path must be a file, got the directory {path!r}").format(
            path=str(out)))
    if not out.parent.is_dir():
        raise ValueError(_("path's folder must exist, got {path!r} which does not").format(
            path=str(out.parent)))
    text = pio.to_html(figure, include_plotlyjs=True, full_html=True, div_id=DIV_ID,
                       auto_play=False, validate=True,
                       config={"responsive": True, "displaylogo": False})
    out.write_text(text, encoding="utf-8", newline="\n")
    return out
