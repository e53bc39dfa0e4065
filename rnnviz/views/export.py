"""Write a figure as one self-contained, deterministic HTML file (works with no kernel)."""

from __future__ import annotations

import os
from pathlib import Path

import plotly.graph_objects as go
import plotly.io as pio

DIV_ID = "rnnviz-figure"


def export_html(figure: go.Figure, path: str | os.PathLike) -> Path:
    """Write ``figure`` to ``path`` as a full HTML page with plotly.js inlined.

    The file needs no network and no kernel (animations are plain plotly frames), and the
    same figure always gives the same bytes (fixed div id, no timestamps).

    Returns:
        The path written.
    """
    if not isinstance(figure, go.Figure):
        raise TypeError(f"figure must be a plotly.graph_objects.Figure, got "
                        f"{type(figure).__name__}")
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    out = Path(path)
    if out.is_dir():
        raise ValueError(f"path must be a file, got the directory {str(out)!r}")
    if not out.parent.is_dir():
        raise ValueError(f"path's folder must exist, got {str(out.parent)!r} which does not")
    text = pio.to_html(figure, include_plotlyjs=True, full_html=True, div_id=DIV_ID,
                       auto_play=False, validate=True,
                       config={"responsive": True, "displaylogo": False})
    out.write_text(text, encoding="utf-8", newline="\n")
    return out
