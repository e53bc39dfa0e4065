"""One look for every view: gate names and roles, colour-blind-safe colours, fonts, themes.

Every view takes ``theme="light" | "dark" | "auto"``. ``"auto"`` has a transparent
background and mid-grey text and grid, so the same figure reads on a light or a dark
JupyterLab (and on a projector), and keeps reading after the theme is switched either way:
JupyterLab's plotly renderer (jupyterlab-plotly) has no theme hook, and plotly parses its
colours itself (no CSS variables), so a static figure cannot swap palettes; being readable on
both (contrast >= 4:1 on JupyterLab's light and dark backgrounds, checked by the browser
tests) is how it follows the theme. The live dashboard, which runs its own code in the
page, recolours its text to the theme's near-black or near-white on every switch.
Colours come from Okabe & Ito (2008) for categories, ``RdBu`` for signed states, ``PuOr``
for signed gradients and ``Viridis`` for [0, 1] gates.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from rnnviz.i18n import N_, _

# Okabe-Ito: distinguishable with every common colour-vision deficiency.
OKABE_ITO: tuple[str, ...] = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#F0E442",  # yellow (never on white text)
    "#000000",
)

STATE_SCALE = "RdBu_r"  # signed states in [-1, 1]: blue < 0 < red
GRAD_SCALE = "PuOr_r"  # signed gradients: purple < 0 < orange
GATE_SCALE = "Viridis"  # [0, 1] gates: dark = closed, yellow = open
RELU_SCALE = "Cividis"  # non-negative (ReLU) states

FONT_SIZE = 16
TITLE_SIZE = 21
FONT_FAMILY = "Open Sans, Helvetica Neue, Arial, sans-serif"
MONO_FAMILY = "DejaVu Sans Mono, Menlo, Consolas, monospace"


@dataclass(frozen=True)
class GateStyle:
    """How one gate looks everywhere: letter, plain-words role, colour, marker and glyph."""

    letter: str
    name: str  # English (N_), translated when shown: see label
    role: str
    color: str
    symbol: str  # plotly marker symbol
    glyph: str  # the same shape as a text character, for titles
    low: float  # colour-scale range
    high: float

    @property
    def label(self) -> str:
        """E.g. ``"f — forget gate: what to keep"``, in the language in force."""
        # TRANSLATORS: a gate's legend, e.g. "f — forget gate: what to keep"
        return _("{letter} — {name}: {role}").format(letter=self.letter, name=_(self.name),
                                                     role=_(self.role))

    @property
    def title(self) -> str:
        """The label led by the gate's glyph in its colour (plotly's HTML subset)."""
        return f"<span style='color:{self.color}'>{self.glyph}</span> {self.label}"


GATES: dict[str, GateStyle] = {
    "i": GateStyle("i", N_("input gate"), N_("what to write"), "#0072B2", "circle", "●", 0.0,
                   1.0),
    "f": GateStyle("f", N_("forget gate"), N_("what to keep"), "#D55E00", "square", "■", 0.0,
                   1.0),
    "g": GateStyle("g", N_("candidate"), N_("what could be written"), "#009E73", "diamond", "◆",
                   -1, 1),
    "o": GateStyle("o", N_("output gate"), N_("what to show"), "#CC79A7", "triangle-up", "▲",
                   0.0, 1.0),
    "r": GateStyle("r", N_("reset gate"), N_("how much past to use"), "#E69F00", "circle", "●",
                   0.0, 1.0),
    "z": GateStyle("z", N_("update gate"), N_("keep old vs take new"), "#56B4E9", "square", "■",
                   0.0, 1.0),
    "n": GateStyle("n", N_("candidate state"), N_("what could be written"), "#009E73", "diamond",
                   "◆", -1.0, 1.0),
}
CELL_LABEL = N_("c — cell state: the long-term memory")  # translated where shown: _(CELL_LABEL)
SIGMOID_GATES: dict[str, tuple[str, ...]] = {"lstm": ("i", "f", "o"), "gru": ("r", "z")}
DIRECTION_NAMES = (N_("forward →"), N_("reverse ←"))  # translated where shown

THEMES = ("light", "dark", "auto")


@dataclass(frozen=True)
class Palette:
    """Colours that depend on the theme."""

    fg: str  # text and outlines
    bg: str  # paper (may be transparent)
    grid: str
    muted: str  # padding, not-yet-computed
    accent: str  # the highlighted step


_PALETTES = {
    "light": Palette("#1a1a1a", "#ffffff", "rgba(0,0,0,0.12)", "rgba(150,150,150,0.55)",
                     "#E69F00"),
    "dark": Palette("#f0f0f0", "#111111", "rgba(255,255,255,0.15)", "rgba(120,120,120,0.6)",
                    "#E69F00"),
    "auto": Palette("#777777", "rgba(0,0,0,0)", "rgba(128,128,128,0.3)",
                    "rgba(128,128,128,0.55)", "#E69F00"),
}


def escape(value: object) -> str:
    """User text as plotly must show it: literally, never as markup or a template field.

    HTML-escaped (``<a href=x>``, ``<b>``, ``<script>`` show as typed), and ``%`` as the
    entity ``&#37;`` so ``%{x}`` in a label is not read as a hovertemplate field. Plotly
    turns both back into the typed characters on screen.
    """
    return html.escape(str(value), quote=True).replace("%", "&#37;")


def check_theme(theme: object) -> str:
    """Return ``theme`` if it is one of ``"light"``, ``"dark"``, ``"auto"``."""
    if not isinstance(theme, str) or theme not in THEMES:
        raise ValueError(_("theme must be one of {choices}, got {value!r}").format(
            choices=list(THEMES), value=theme))
    return theme


def palette(theme: str) -> Palette:
    return _PALETTES[check_theme(theme)]


def apply_theme(fig: go.Figure, theme: str, *, title: str | None = None) -> go.Figure:
    """Set the template, fonts, background and title for ``theme`` and return ``fig``."""
    pal = palette(theme)
    template = {"light": "plotly_white", "dark": "plotly_dark", "auto": "simple_white"}[theme]
    fig.update_layout(
        template=template,
        font={"family": FONT_FAMILY, "size": FONT_SIZE, "color": pal.fg},
        paper_bgcolor=pal.bg,
        plot_bgcolor=pal.bg,
        hoverlabel={"font": {"size": FONT_SIZE, "family": FONT_FAMILY}},
        margin={"l": 80, "r": 40, "t": 90 if title else 50, "b": 70},
    )
    if title is not None:
        fig.update_layout(title={"text": title, "font": {"size": TITLE_SIZE}, "x": 0.01})
    axis = {"gridcolor": pal.grid, "zerolinecolor": pal.grid, "linecolor": pal.grid,
            "tickfont": {"size": FONT_SIZE}, "title": {"font": {"size": FONT_SIZE + 1}}}
    if theme == "auto":
        axis.update(color=pal.fg, showgrid=True)
    fig.update_xaxes(**axis)
    fig.update_yaxes(**axis)
    fig.update_annotations(font_size=FONT_SIZE + 1)
    return fig


def log_dtick(lo: float, hi: float) -> str | int:
    """Tick spacing of a log axis over [lo, hi] (log10 units) whose labels never pile up:
    1, 2 and 5 of each decade over a short range, every decade, or every k-th decade (at
    most ~7 labels)."""
    span = hi - lo
    return "D2" if span <= 2.5 else (1 if span <= 7 else int(np.ceil(span / 6)))


def colorbar(title: str, *, y: float = 0.5, length: float = 1.0, x: float = 1.02) -> dict:
    """A readable colour bar dict."""
    return {"title": {"text": title, "side": "right", "font": {"size": FONT_SIZE}},
            "tickfont": {"size": FONT_SIZE - 1}, "y": y, "len": length, "x": x,
            "thickness": 18, "outlinewidth": 0}
