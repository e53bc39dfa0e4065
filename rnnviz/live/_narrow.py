"""The dashboard in a narrow slot: side-by-side subplots stacked, long titles wrapped.

:func:`narrow_variant` computes, once per figure, the layout the browser swaps in when the
figure's slot gets narrower than a width it also computes (a 1280 x 720 projector with
JupyterLab's sidebar open leaves ~330 px to a half-width view).
"""

from __future__ import annotations

import re
from typing import Any

CHAR_PX = 0.52  # the width of one character, in font sizes (Arial / Open Sans: ~0.5)
PANEL_MIN_PX = 240  # a heatmap subplot narrower than this piles up its ticks and titles
LINE_PANEL_MIN_PX = 180  # curves against the training step need less
NARROW_GAP_PX = 95  # between stacked panels: x ticks, x title and the next subplot title
TITLE_LINE_PX = 27  # one more line of title
TITLE_TOP_PX = 22  # a title with a subtitle: its first line's top this far below the figure's


def _text_px(text: str | None, size: float) -> float:
    """A generous estimate of the drawn width of plotly text (tags stripped, <br> lines)."""
    if not text:
        return 0.0
    lines = re.sub(r"<(?!br)[^>]*>", "", text).split("<br>")
    return max(len(line) for line in lines) * size * CHAR_PX


def _wrap(text: str, seps: tuple[str, ...]) -> str:
    """Break a long title at its first separator, keeping the separator's words."""
    for sep in seps:
        if sep in text:
            head, tail = text.split(sep, 1)
            keep = "" if sep.strip() in ("—", "·") else sep.rstrip()
            return f"{head}{keep}<br>{tail}"
    return text


def _pin_title(title: dict, height: float) -> None:
    """A wrapped title, or one with a subtitle, hangs from the top of the figure (plotly's
    automatic place centres it in the top margin: its lines then reach into the subplot
    titles or the plot)."""
    title.update(yref="container", yanchor="top", y=round(1 - TITLE_TOP_PX / height, 4))


def _top_annotations(layout: dict) -> bool:
    """Whether a subplot title sits on the top of the highest panel."""
    tops = [p["yd"][1] for p in _panels(layout)]
    return bool(tops) and any(
        a.get("xref") == "paper" and a.get("yref") == "paper"
        and abs(float(a.get("y", -9)) - max(tops)) < 1e-3 for a in layout.get("annotations") or [])


def _panels(layout: dict) -> list[dict]:
    """Every subplot: its axis names and domains, in reading order (top row first, then left)."""
    out = []
    for key, ax in layout.items():
        if not (key.startswith("xaxis") and isinstance(ax, dict) and "domain" in ax):
            continue
        yname = "yaxis" + str(ax.get("anchor", "y"))[1:]
        yax = layout.get(yname)
        if not isinstance(yax, dict) or "domain" not in yax:
            continue
        out.append({"x": key, "y": yname, "xd": list(ax["domain"]), "yd": list(yax["domain"])})
    out.sort(key=lambda p: (-round(p["yd"][1], 3), round(p["xd"][0], 3)))
    return out


def narrow_variant(data: list[dict], layout: dict, *,
                   panel_min: float = PANEL_MIN_PX) -> dict[str, Any]:
    """How a figure is laid out in a slot narrower than ``below`` px.

    Side-by-side subplots are stacked (one per row, in reading order, each as tall as it was,
    subplot titles and colour bars moved with them) and long titles break into two lines, so
    no title, tick label or axis title overlaps another down to a 320 px slot. The browser
    swaps it in and out as its slot is resized.

    Returns ``{"below", "height", "layout", "annotations", "colorbars"}``: ``layout`` holds
    top-level keys to merge into the layout, ``annotations`` replaces the annotations,
    ``colorbars`` maps trace index -> colorbar keys to merge.
    """
    margin = dict(layout.get("margin") or {})
    height = float(layout.get("height") or 400)
    t, b = float(margin.get("t", 80)), float(margin.get("b", 60))
    l_, r = float(margin.get("l", 70)), float(margin.get("r", 30))
    font = float((layout.get("font") or {}).get("size", 16))
    title = dict(layout.get("title") or {})
    tsize = float((title.get("font") or {}).get("size", font))
    subtitle = dict(title.get("subtitle") or {})
    panels = _panels(layout)
    cols = len({round(p["xd"][0], 3) for p in panels}) or 1
    # below this slot width, side-by-side panels get narrower than PANEL_MIN_PX, or the
    # title no longer fits on one line
    below = max(cols * panel_min + l_ + r + 60 * (cols - 1) if cols > 1 else 0,
                _text_px(title.get("text"), tsize) + 30,
                _text_px(subtitle.get("text"), font) + 30)
    for ann in layout.get("annotations") or []:  # a subplot title must fit over its panel
        if cols > 1 and ann.get("xref") == "paper" and ann.get("yref") == "paper":
            size = float((ann.get("font") or {}).get("size", font))
            share = min((p["xd"][1] - p["xd"][0] for p in panels
                         if abs((p["xd"][0] + p["xd"][1]) / 2 - float(ann.get("x", -9))) < 1e-3),
                        default=1.0)
            below = max(below, _text_px(ann.get("text"), size) / max(share, 0.05) + l_ + r)
    extra = 0.0
    new_title = dict(title)
    if title.get("text"):
        wrapped = _wrap(title["text"], (" — ", " · "))
        if wrapped != title["text"]:
            new_title["text"] = wrapped
            extra += TITLE_LINE_PX
    if subtitle.get("text"):
        wrapped = _wrap(subtitle["text"], (": ", "; ", ", "))
        if wrapped != subtitle["text"]:
            new_title["subtitle"] = dict(subtitle, text=wrapped)
            extra += TITLE_LINE_PX - 6
    pinned = bool(extra or subtitle.get("text"))
    if pinned:  # the title hangs from the top (_pin_title): the margin holds all its lines
        need = TITLE_TOP_PX + (new_title.get("text") or "").count("<br>") * TITLE_LINE_PX \
            + TITLE_LINE_PX + 8
        if subtitle.get("text"):
            sub_lines = new_title.get("subtitle", subtitle)["text"].count("<br>") + 1
            need += 10 + sub_lines * (TITLE_LINE_PX - 6)
        if _top_annotations(layout):  # subplot titles over the top panel
            need += TITLE_LINE_PX - 3
        extra = max(extra, need - t)
    new_margin = dict(margin, t=t + extra)
    area = height - t - b
    out_layout: dict[str, Any] = {"title": new_title, "margin": new_margin}
    annotations = [dict(a) for a in layout.get("annotations") or []]
    colorbars: dict[str, dict] = {}
    if cols == 1:
        if pinned:
            _pin_title(new_title, height + extra)
        return {"below": round(below), "height": round(height + extra), "layout": out_layout,
                "annotations": annotations, "colorbars": colorbars}
    # stacked: every panel keeps its height in px, gaps between them
    bands = [max(140.0, (p["yd"][1] - p["yd"][0]) * area) for p in panels]
    new_area = sum(bands) + NARROW_GAP_PX * (len(panels) - 1)
    top = new_area
    placed = {}
    for p, band in zip(panels, bands, strict=True):
        y1, y0 = top / new_area, (top - band) / new_area
        placed[p["x"]] = (p, [round(y0, 4), round(y1, 4)])
        out_layout[p["x"]] = {"domain": [0.0, 1.0]}
        out_layout[p["y"]] = {"domain": [round(y0, 4), round(y1, 4)]}
        top -= band + NARROW_GAP_PX
    for ann in annotations:  # subplot titles sit on top of their panel's domain
        if ann.get("xref") != "paper" or ann.get("yref") != "paper":
            continue
        for p, (_, y1) in placed.values():
            xc = (p["xd"][0] + p["xd"][1]) / 2
            if abs(float(ann.get("x", -9)) - xc) < 1e-3 and \
                    abs(float(ann.get("y", -9)) - p["yd"][1]) < 1e-3:
                ann["x"], ann["y"] = 0.5, y1
                break
    for k, trace in enumerate(data):
        if "colorbar" not in trace or trace.get("showscale") is False:
            continue
        xname = "xaxis" + str(trace.get("xaxis", "x"))[1:]
        if xname in placed:
            y0, y1 = placed[xname][1]
            colorbars[str(k)] = {"y": round((y0 + y1) / 2, 4), "len": round(0.9 * (y1 - y0), 4),
                                 "yanchor": "middle", "yref": "paper"}
    legend = layout.get("legend") or {}
    if legend and legend.get("yref", "paper") == "paper" and "y" in legend:
        out_layout["legend"] = dict(legend, y=round(float(legend["y"]) * area / new_area, 4))
    if pinned:
        _pin_title(new_title, new_area + t + extra + b)
    return {"below": round(below), "height": round(new_area + t + extra + b),
            "layout": out_layout, "annotations": annotations, "colorbars": colorbars}
