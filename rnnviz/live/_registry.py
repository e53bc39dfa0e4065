"""The dashboard's views: one line per view, naming its live builder and update.

A view is made live in its own module (see :mod:`rnnviz.views._live`): ``live_<name>``
builds the figure with its dashboard metadata, ``update_<name>`` says what changes for a new
trace. Adding a view to the dashboard is one line in :data:`REGISTRY`; its order is the
dashboard's, top to bottom (two ``"half"`` views next to each other share a row). A view
that shows one step (the cell) has ``follows_t``: its build and update take the dashboard's
time cursor ``t`` too, and moving the cursor sends it a frame.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rnnviz._types import Seq2SeqTrace
from rnnviz.i18n import N_, _
from rnnviz.views import cell, gradients, heatmaps, seq2seq, unrolled
from rnnviz.views._live import Change, LiveView

ALL_CELLS = ("elman", "lstm", "gru")  # the cells of a SequenceModel (its trace is a Trace)
GATED = ("lstm", "gru")  # cells with gates
SEQ2SEQ = ("seq2seq",)  # an encoder-decoder (its trace is a Seq2SeqTrace), any cell

# Why a view is left out, by the cells it needs (shown in the dashboard's status line).
_WHY = {GATED: N_("no {view} view: an Elman RNN has no gates (try cell='lstm' or 'gru')")}
_WHY_OTHER = N_("no {view} view for a {cell} model")


@dataclass(frozen=True)
class Entry:
    """A live view: ``build(trace, *, sample, theme) -> LiveView``, ``update(trace, sample)
    -> list[Change]``, the cell types it applies to, and whether it follows the time cursor
    (then ``build(..., t=t)`` and ``update(trace, sample, t)``)."""

    build: Callable[..., LiveView]
    update: Callable[..., list[Change]]
    cells: tuple[str, ...] = ALL_CELLS
    follows_t: bool = False


REGISTRY: dict[str, Entry] = {
    "hidden": Entry(heatmaps.live_hidden, heatmaps.update_hidden),
    "grad_flow": Entry(gradients.live_grad_flow, gradients.update_grad_flow),
    "gates": Entry(heatmaps.live_gates, heatmaps.update_gates, GATED),
    "gate_saturation": Entry(heatmaps.live_gate_saturation, heatmaps.update_gate_saturation, GATED),
    "unrolled": Entry(unrolled.live_unrolled, unrolled.update_unrolled),
    "cell": Entry(cell.live_cell, cell.update_cell, follows_t=True),
    "seq2seq": Entry(seq2seq.live_seq2seq, seq2seq.update_seq2seq, SEQ2SEQ),
}

#: The names :func:`rnnviz.dashboard` accepts in ``views``.
VIEWS: tuple[str, ...] = tuple(REGISTRY)


def kind(trace: Any) -> str:
    """What :data:`REGISTRY`'s ``cells`` are matched against: the cell type of a sequence
    model's trace, ``"seq2seq"`` for an encoder-decoder's."""
    return "seq2seq" if isinstance(trace, Seq2SeqTrace) else trace.cell_type


def default_views(trace: Any) -> tuple[str, ...]:
    """The views a dashboard shows unless told otherwise: hidden states, gates (gated
    cells) and gradient flow; an encoder-decoder's seq2seq view."""
    return default_views_of(kind(trace))


def default_views_of(cell_type: str) -> tuple[str, ...]:
    """:func:`default_views` of a trace of this :func:`kind`."""
    wanted = SEQ2SEQ if cell_type == "seq2seq" else ("hidden", "gates", "grad_flow")
    return available_views(cell_type, wanted)


def available_views(cell_type: str, views: tuple[str, ...]) -> tuple[str, ...]:
    """``views`` minus those the model cannot show (an Elman RNN has no gates).

    ``cell_type``: the trace's :func:`kind` (a cell type, or ``"seq2seq"``)."""
    return tuple(v for v in views if cell_type in REGISTRY[v].cells)


def left_out_note(cell_type: str, views: tuple[str, ...]) -> str:
    """What the status line says about requested views that do not apply ('' if none)."""
    notes = []
    for v in views:
        cells = REGISTRY[v].cells
        if cell_type not in cells:
            why = _WHY.get(cells) if cell_type in ALL_CELLS else None
            notes.append(_(why).format(view=v) if why else
                         _(_WHY_OTHER).format(view=v, cell=cell_type.upper()))
    return "; ".join(notes)
