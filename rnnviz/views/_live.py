"""One live-view interface: a view's figure together with how its numbers change.

A view module that can be shown live (in :func:`rnnviz.dashboard`) has, next to its static
``plot_<name>``, a ``live_<name>(trace, *, sample, theme) -> LiveView`` and an
``update_<name>(trace, sample) -> list[Change]``. Both take their numbers from the one
function that also feeds ``plot_<name>`` (e.g. ``heatmaps._hidden_numbers``), so the live
figure after an update is the static figure of the new trace (tests/test_live_views.py
checks it for every registered view). ``rnnviz/live`` only packs the changes into frames.

A :class:`Change` names one trace of the figure (its index in ``figure.data``), a key and
either new numbers (``array``, sent as float32), a small JSON ``value``, or a ``symmetric``
colour range [-b, b] covering the magnitude b (a live dashboard may round b up so that its
colour bar rarely moves; the static figure uses b itself). A change of the figure's layout
(:func:`layout`: a title that names the step, a shared colour axis) has ``trace`` ``LAYOUT``
and a dotted path as its key (``"title.text"``, ``"coloraxis3.cmax"``; a number indexes a
list: ``"annotations.2.x"``, the place of the figure's third annotation).

A view whose picture depends on the dashboard's time cursor ``t`` (the cell at step t) takes
it as a third argument: ``update_<name>(trace, sample, t)`` (registered with
``follows_t=True``); the dashboard sends it a frame when the cursor moves.

Example:
    >>> lv = heatmaps.live_hidden(trace_a, sample=0, theme="light")  # doctest: +SKIP
    >>> lv.update(trace_b, 0)  # doctest: +SKIP
    [Change(trace=0, key='z', array=array([[...]]))]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: ``Change.trace`` of a change to the figure's layout (``key`` is a dotted path).
LAYOUT = -1

#: The dashboard's grid: a "half" view sits beside another half view, a "wide" one takes a row.
GRIDS = ("half", "wide")


@dataclass(frozen=True)
class Change:
    """One change to trace ``trace`` (an index into ``figure.data``).

    Exactly one of ``array`` (numbers for ``key``), ``value`` (small JSON for ``key``) or
    ``symmetric`` (a magnitude b >= 0: ``zmin``, ``zmax`` become -b, b; ``key`` is "zrange").
    """

    trace: int
    key: str
    array: np.ndarray | None = None
    value: Any = None
    symmetric: float | None = None

    def __post_init__(self) -> None:
        given = (self.array is not None) + (self.value is not None) + (self.symmetric is not None)
        if given != 1:
            raise ValueError("a Change holds exactly one of array, value or symmetric, got "  # i18n-ignore
                             f"{given} for trace {self.trace} key {self.key!r}")  # i18n-ignore


def array(trace: int, key: str, a: Any) -> Change:
    """New numbers for ``key`` of trace ``trace`` (e.g. the z of a heatmap)."""
    return Change(trace, key, array=np.asarray(a))


def value(trace: int, key: str, v: Any) -> Change:
    """A small JSON value for ``key`` of trace ``trace`` (e.g. a heatmap's ``zmax``)."""
    return Change(trace, key, value=v)


def layout(key: str, v: Any) -> Change:
    """A small JSON value at the dotted path ``key`` of the layout (e.g. ``"title.text"``)."""
    return Change(LAYOUT, key, value=v)


def symmetric(trace: int, big: float) -> Change:
    """The colour range of trace ``trace`` becomes [-big, big]."""
    return Change(trace, "zrange", symmetric=float(big))


@dataclass
class LiveView:
    """A view's figure, its live update, and how the dashboard lays it out.

    Attributes:
        figure: the figure ``plot_<name>`` returns for the trace it was built from.
        update: ``update(trace, sample) -> list[Change]``; applied to ``figure`` it gives
            the figure of that trace (the history's update takes the trainer).
        time_axes: ``[xref, yref]`` of every subplot whose x axis is the time step t (the
            dashboard's time cursor is drawn there).
        grid: ``"half"`` (beside another half view) or ``"wide"`` (a row of its own).
        height: its height in the dashboard, in px.
        highlight: for the unrolled view, the trace that outlines the cursor's step
            (``{"trace", "width", "y_low", "y_top"}``), else ``None``.
        dashboard_layout: layout changes for a dashboard slot only (shorter titles, smaller
            fonts), applied to ``figure`` by the dashboard; ``None`` for none.
    """

    figure: Any
    update: Callable[..., list[Change]]
    time_axes: list[list[str]] = field(default_factory=list)
    grid: str = "wide"
    height: int = 400
    highlight: dict[str, Any] | None = None
    dashboard_layout: Callable[[Any], None] | None = None

    def __post_init__(self) -> None:
        if self.grid not in GRIDS:
            raise ValueError(f"grid must be one of {GRIDS}, got {self.grid!r}")  # i18n-ignore: for developers


def merged(changes: Sequence[Change]) -> dict[int, dict[str, Any]]:
    """The changes as plotly trace updates: ``{trace: {key: value}}``, colour ranges exact
    (layout changes are left out: :func:`layout_of`)."""
    out: dict[int, dict[str, Any]] = {}
    for c in changes:
        if c.trace == LAYOUT:
            continue
        d = out.setdefault(c.trace, {})
        if c.symmetric is not None:
            d["zmin"], d["zmax"] = -c.symmetric, c.symmetric
        elif c.array is not None:
            d[c.key] = c.array
        else:
            d[c.key] = c.value
    return out


def layout_of(changes: Sequence[Change]) -> dict[str, Any]:
    """The layout changes as a nested plotly layout update (``"a.b": v`` -> ``{"a": {"b": v}}``)."""
    out: dict[str, Any] = {}
    for c in changes:
        if c.trace != LAYOUT:
            continue
        *heads, last = c.key.split(".")
        d = out
        for k in heads:
            d = d.setdefault(k, {})
        d[last] = c.value
    return out
