"""The browser side's files: one ES module joined from the JS parts, the CSS, and plotly.js
from the installed plotly package (served to the browser on request, no network)."""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).parent
# One ES module, in this order: each part uses only what the parts above it define (see
# the header of each file); the last one exports the widget's ``render``.
ESM_PARTS = ("plotly_adapter.js", "paint.js", "in_place.js", "ui.js", "figures.js", "frames.js",
             "dashboard.js")
CSS = HERE / "dashboard.css"
_PLOTLY_JS: bytes | None = None


def esm() -> str:
    """The widget's ES module: the JS parts joined in :data:`ESM_PARTS` order."""
    return "\n".join((HERE / name).read_text(encoding="utf-8") for name in ESM_PARTS)


def plotly_js() -> bytes:
    """plotly.min.js from the installed plotly package (read once)."""
    global _PLOTLY_JS
    if _PLOTLY_JS is None:
        import plotly

        _PLOTLY_JS = (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_bytes()
    return _PLOTLY_JS
