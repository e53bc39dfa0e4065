"""The live dashboard on a static page: a recorded replay of the same run.

A static site (``python -m tests.site.build``) has no kernel, so a live widget would show as
an empty output. When the environment variable ``RNNVIZ_STATIC_SITE=1`` is set,
:func:`rnnviz.dashboard` returns a :class:`Replay` instead: a copy of the trainer (same
weights, optimizer state, seed and batch stream, so the same numbers ▶ would give) trains
headlessly for :data:`STEPS` steps, the probe batch is traced every ``STEPS // FRAMES``
steps, and the page shows the training curves plus one ``animate_training`` figure per view
(slider and ▶ play button, no kernel needed), each titled "Recorded replay".

The lesson's own trainer is left untouched, as it is after Run All in JupyterLab (nothing
trains until ▶ is pressed), so the cells below the dashboard show the same results.
"""

from __future__ import annotations

import copy
import os
import threading
from typing import Any

ENV = "RNNVIZ_STATIC_SITE"
STEPS = 300  # training steps recorded per dashboard
FRAMES = 10  # snapshots after the first one (one every STEPS // FRAMES steps); each costs
# a figure per view to build (animate_training), the main cost of a replay
DURATION = 400  # milliseconds per frame when playing

# The dashboard's own view arguments (rnnviz/live/_figures.py: _builder): last layer, sample 0.
_VIEW_ARGS: dict[str, dict[str, Any]] = {
    "hidden": {"sample": 0, "layer": -1},
    "gates": {"sample": 0, "layer": -1, "direction": 0},
    "grad_flow": {"sample": None, "layer": -1},
    "unrolled": {"sample": 0, "layer": -1},
}
_ORDER = ("hidden", "grad_flow", "gates", "unrolled")  # as the dashboard lays them out


def enabled() -> bool:
    """Whether :func:`rnnviz.dashboard` should return a replay (``RNNVIZ_STATIC_SITE=1``)."""
    return os.environ.get(ENV, "") == "1"


class Replay:
    """What :func:`rnnviz.dashboard` returns in a static-site build: figures to display.

    Attributes:
        figures: the training curves, then one ``animate_training`` figure per view.
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
        note = (f"*Recorded replay of the live dashboard ({self.title}): a copy of this trainer "
                f"trained steps {first} to {last} when the page was built. In JupyterLab the "
                "dashboard trains live; here, use each figure's slider or ▶ play.*")
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


def replay(trainer: Any, views: tuple[str, ...] = ("hidden", "gates", "grad_flow"), *,
           theme: str = "auto", steps: int | None = None,
           frames: int | None = None) -> Replay:
    """Train a copy of ``trainer`` for ``steps`` steps (default :data:`STEPS`) and return the
    recorded :class:`Replay` with ``frames`` snapshots after the first (default :data:`FRAMES`).

    ``trainer``, ``views`` and ``theme`` come checked from :func:`rnnviz.dashboard`.
    """
    from rnnviz import _validate
    from rnnviz.live._figures import available_views
    from rnnviz.trainer import Snapshot
    from rnnviz.views import animate_training, plot_history

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

    core = run.model.core
    name = getattr(run.task, "name", type(run.task).__name__)
    title = (f"{snaps[0].trace.cell_type.upper()} · hidden {core.hidden_size} · "
             f"{core.num_layers} layer{'s' if core.num_layers > 1 else ''} · task {name}")
    tag = f"Recorded replay: {last - first} steps"
    hist = plot_history(run, theme=theme)
    if first > 0:  # the trainer had trained before the dashboard: mark where the replay starts
        hist.add_vline(x=first, line={"dash": "dot", "width": 1, "color": "grey"},
                       row="all", col="all")
        hist.update_layout(title_text=f"{tag} · training curves (the replay: steps {first} to "
                           f"{last}, right of the dotted line)")
    else:
        hist.update_layout(title_text=f"{tag} · training curves")
    figures = [hist]
    shown = available_views(snaps[0].trace.cell_type, chosen)
    for view in sorted(shown, key=_ORDER.index):
        fig = animate_training(snaps, view, theme=theme, duration=DURATION, **_VIEW_ARGS[view])
        fig.update_layout(title_text=f"{tag} · {fig.layout.title.text}")
        for frame in fig.frames:
            frame.layout.title.text = f"{tag} · {frame.layout.title.text}"
        figures.append(fig)
    return Replay(figures, (first, last), run, title)
