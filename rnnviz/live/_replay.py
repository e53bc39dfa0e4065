"""The live dashboard on a static page: a recorded replay of the same run.

A static site (``python -m tests.site.build``) has no kernel, so a live widget would show as
an empty output. When the environment variable ``RNNVIZ_STATIC_SITE=1`` is set,
:func:`rnnviz.dashboard` returns a :class:`Replay` instead: a copy of the trainer (same
weights, optimizer state, seed and batch stream, so the same numbers ▶ would give) trains
headlessly for :data:`STEPS` steps, the probe batch is traced every ``STEPS // FRAMES``
steps, and the page shows the training curves plus one animation per view (slider and ▶ play
button, no kernel needed), each titled "Recorded replay". A view's animation is its live
figure moved by its live update (:func:`animate_view`), the numbers the dashboard shows.

The lesson's own trainer is left untouched, as it is after Run All in JupyterLab (nothing
trains until ▶ is pressed), so the cells below the dashboard show the same results.
"""

from __future__ import annotations

import copy
import os
import threading
from typing import Any

from rnnviz.i18n import _, ngettext
from rnnviz.live._registry import REGISTRY, VIEWS

ENV = "RNNVIZ_STATIC_SITE"
STEPS = 300  # training steps recorded per dashboard
FRAMES = 10  # snapshots after the first one (one every STEPS // FRAMES steps); each costs
# a view update to pack per view, the main cost of a replay is the tracing
DURATION = 400  # milliseconds per frame when playing

def enabled() -> bool:
    """Whether :func:`rnnviz.dashboard` should return a replay (``RNNVIZ_STATIC_SITE=1``)."""
    return os.environ.get(ENV, "") == "1"


class Replay:
    """What :func:`rnnviz.dashboard` returns in a static-site build: figures to display.

    Attributes:
        figures: the training curves, then one animation per view (:func:`animate_view`).
        steps: ``(first, last)`` training step of the recording.
        trainer: the copy that was trained (the original is untouched).
    """

    def __init__(self, figures: list[Any], steps: tuple[int, int], trainer: Any,
                 title: str) -> None:
        self.figures = figures
        self.steps = steps
        self.trainer = trainer
        self.title = title

    def __repr__(self) -> str:
        return f"rnnviz dashboard replay ({self.title})"

    def _ipython_display_(self) -> None:
        from IPython.display import Markdown, display

        first, last = self.steps
        note = "*" + _("Recorded replay of the live dashboard ({title}): a copy of this trainer "
                       "trained steps {first} to {last} when the page was built. In JupyterLab "
                       "the dashboard trains live; here, use each figure's slider or ▶ play."
                       ).format(title=self.title, first=first, last=last) + "*"
        if self.trainer.state == "diverged":
            note += f"\n\n**{self.trainer.message}**"
        display(Markdown(note))
        for fig in self.figures:
            display(fig)


def _copy(trainer: Any) -> Any:
    """A deep copy of ``trainer`` (its lock cannot be copied: the copy gets a new one)."""
    memo: dict[int, Any] = {}
    lock = getattr(trainer, "_lock", None)
    if lock is not None:
        memo[id(lock)] = threading.RLock()
    return copy.deepcopy(trainer, memo)


def replay(trainer: Any, views: tuple[str, ...] | None = None, *,
           theme: str = "auto", steps: int | None = None,
           frames: int | None = None) -> Replay:
    """Train a copy of ``trainer`` for ``steps`` steps (default :data:`STEPS`) and return the
    recorded :class:`Replay` with ``frames`` snapshots after the first (default :data:`FRAMES`).

    ``trainer``, ``views`` and ``theme`` come checked from :func:`rnnviz.dashboard`.
    """
    from rnnviz import _validate
    from rnnviz.live._registry import available_views, default_views, kind
    from rnnviz.trainer import Snapshot
    from rnnviz.views import plot_history

    chosen = views
    steps = _validate.positive_int("steps", STEPS if steps is None else steps)
    frames = _validate.positive_int("frames", FRAMES if frames is None else frames)
    every = max(1, steps // frames)

    run = _copy(trainer)
    run.snapshot_every = 0  # the copy's own snapshots are not needed: ours are below
    first = run.steps
    snaps = [Snapshot(first, run.probe_trace())]
    if run.state != "diverged":
        for k in range(1, steps + 1):
            result = run.step()
            if result.diverged:
                break
            if k % every == 0 or k == steps:
                snaps.append(Snapshot(run.steps, run.probe_trace()))
    last = run.steps
    if snaps[-1].step != last:
        snaps.append(Snapshot(last, run.probe_trace()))

    from rnnviz.live._describe import title as headline

    title = headline(run, snaps[0].trace)
    tag = ngettext("Recorded replay: {n} step", "Recorded replay: {n} steps",
                   last - first).format(n=last - first)
    hist = plot_history(run, theme=theme)
    if first > 0:  # the trainer had trained before the dashboard: mark where the replay starts
        hist.add_vline(x=first, line={"dash": "dot", "width": 1, "color": "grey"},
                       row="all", col="all")
        hist.update_layout(title_text=_("{tag} · training curves (the replay: steps {first} to "
                                        "{last}, right of the dotted line)").format(
            tag=tag, first=first, last=last))
    else:
        hist.update_layout(title_text=_("{tag} · training curves").format(tag=tag))
    figures = [hist]
    shown = (default_views(snaps[0].trace) if chosen is None
             else available_views(kind(snaps[0].trace), chosen))
    for view in (v for v in VIEWS if v in shown):  # as the dashboard lays them out
        figures.append(animate_view(snaps, view, theme=theme, tag=tag))
    return Replay(figures, (first, last), run, title)


def animate_view(snaps: list[Any], view: str, *, theme: str, tag: str) -> Any:
    """One registered live view as a plotly animation, one frame per snapshot: its figure
    at the first snapshot, and per frame the changes its ``update`` gives for that
    snapshot's trace (the dashboard's sample 0, colour ranges exact)."""
    import plotly.graph_objects as go

    from rnnviz.views._live import layout_of, merged
    from rnnviz.views.animate import _controls

    entry = REGISTRY[view]
    fig = entry.build(snaps[0].trace, sample=0, theme=theme).figure
    changes = [entry.update(snap.trace, 0) for snap in snaps]
    datas = [merged(c) for c in changes]
    # e.g. a shared colour axis (the title is ours); paths into a list (a shape's or an
    # annotation's place: "shapes.0.x0") move only with the sample shown, here always 0
    layouts = [layout_of([x for x in c if not any(k.isdigit() for k in x.key.split("."))])
               for c in changes]
    moving = sorted({k for d in datas for k in d})
    head = fig.layout.title.text or ""
    subtitle = fig.layout.title.subtitle.text

    def title(step: int) -> dict[str, Any]:
        out: dict[str, Any] = {"text": _("{tag} · {title} · training step {step}").format(
            tag=tag, title=head, step=step)}
        if subtitle:
            out["subtitle"] = {"text": subtitle}
        return out

    frames = [go.Frame(name=f"s{snap.step}", traces=moving,
                       layout={**lay, "title": title(snap.step)},
                       data=[{"type": fig.data[k].type, **_small(d.get(k, {}))}
                             for k in moving])
              for snap, d, lay in zip(snaps, datas, layouts, strict=True)]
    fig.update_layout(title=title(snaps[0].step))
    return _controls(fig, frames, [str(snap.step) for snap in snaps],
                     prefix=_("training step "), duration=DURATION)


def _small(update: dict[str, Any]) -> dict[str, Any]:
    """Arrays as float32: half the bytes on the page, the precision of a live frame."""
    import numpy as np

    return {k: v.astype(np.float32) if isinstance(v, np.ndarray) else v
            for k, v in update.items()}
