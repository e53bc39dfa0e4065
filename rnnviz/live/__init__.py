"""Live dashboard: train a model in the background of the kernel and watch it learn.

One widget: play / pause, one batch, one time step, reset, speed, learning rate, gradient
clipping, a time cursor over every heatmap, and a status line. Frames are drawn by plotly.js
in the browser from small binary arrays, paced by what the browser has actually drawn.
"""

from __future__ import annotations

from typing import Any

from rnnviz import _validate
from rnnviz.i18n import _, uses_language
from rnnviz.live import _replay
from rnnviz.live._registry import VIEWS
from rnnviz.live._widget import Dashboard
from rnnviz.views._style import THEMES

__all__ = ["dashboard", "Dashboard", "VIEWS"]


@uses_language
def dashboard(
    trainer: Any,
    views: tuple[str, ...] | list[str] | None = None,
    *,
    fps: int = 32,
    theme: str = "auto",
    lang: str | None = None,
) -> Dashboard:
    """A live dashboard of ``trainer``: training curves plus the chosen views of its probe.

    Nothing trains until ▶ is pressed (or :meth:`Dashboard.play` is called); ``trainer.run(n)``
    in a later cell works as usual and the dashboard shows the result when the cell ends.
    Training runs as a task on the kernel's event loop, so other cells can run meanwhile;
    ❚❚ stops it after the current step. Divergence stops training and shows the trainer's
    message and which control to use. The views show the trainer's fixed probe batch
    (``rnnviz.trace(model, *trainer.probe)``) at the latest step; an Elman model has no gates,
    so the views of gates are left out for it and the status line says so. A
    :class:`rnnviz.Seq2Seq` trainer shows the ``"seq2seq"`` view (encoder states, the context
    and decoder states, with attention the alignment; teacher forcing, as it trains) and,
    per decoder step, what it read, the target and what it wrote.

    Every figure fills its slot: it is laid out again when it is first shown and whenever its
    slot's width changes (JupyterLab's sidebar, a window resize, zoom); in a narrow slot
    side-by-side subplots are stacked and long titles wrap. Half-width views (``"hidden"``,
    ``"grad_flow"``, ``"cell"``) share a row two by two; one without a half-width neighbour
    takes the full width. With ``theme="auto"`` the figures follow JupyterLab's light / dark
    theme live. ``"cell"`` (:func:`rnnviz.plot_cell` of the last layer) shows one step: the
    one under the time cursor, and it follows the cursor as it moves and the training.

    Args:
        trainer: an :class:`rnnviz.Trainer`.
        views: names from :data:`rnnviz.live.VIEWS` (the registry in
            ``rnnviz/live/_registry.py``, in the dashboard's order): {views}. Default
            (``None``): ``"hidden"``, ``"gates"`` (gated cells) and ``"grad_flow"``;
            ``"seq2seq"`` for a Seq2Seq.
        fps: frames per second while training (1 to 60); the default, 32, keeps about 30
            on a 2-core machine, and leaves most of the kernel to training.
        theme: ``"auto"`` (follows JupyterLab), ``"light"`` or ``"dark"``.
        lang: ``"en"`` or ``"ru"`` for this dashboard (its figures, controls, status line and
            messages); default: :func:`rnnviz.set_language`, fixed when it is built.

    Returns:
        The widget; leave it as the cell's last value to display it.

    Example:
        >>> import rnnviz
        >>> task = rnnviz.tasks.Echo(delay=2, seed=0)  # doctest: +SKIP
        >>> model = rnnviz.SequenceModel.from_task(task, cell="lstm", hidden_size=32)  # doctest: +SKIP
        >>> trainer = rnnviz.Trainer(model, task, lr=1e-2)  # doctest: +SKIP
        >>> rnnviz.dashboard(trainer)  # doctest: +SKIP
    """
    for attr in ("step", "history", "probe", "model", "task", "state", "reset"):
        if not hasattr(trainer, attr):
            raise TypeError(_("trainer must be an rnnviz.Trainer (with .{attr}), got {type}")
                            .format(attr=attr, type=type(trainer).__name__))
    if isinstance(views, str):
        views = (views,)
    if views is not None and not isinstance(views, (tuple, list)):
        raise TypeError(_("views must be a tuple of view names or None, got {type}").format(
            type=type(views).__name__))
    chosen = None if views is None else tuple(_validate.choice("views", v, VIEWS) for v in views)
    if chosen is not None and len(set(chosen)) != len(chosen):
        raise ValueError(_("views must not repeat a view, got {views}").format(views=list(views)))
    fps = _validate.positive_int("fps", fps)
    if fps > 60:
        raise ValueError(_("fps must be at most 60, got {value}").format(value=fps))
    theme = _validate.choice("theme", theme, THEMES)
    if _replay.enabled():  # static-site build (RNNVIZ_STATIC_SITE=1): a recorded replay
        return _replay.replay(trainer, chosen, theme=theme)  # type: ignore[return-value]
    return Dashboard(trainer, chosen, fps=fps, theme=theme)


if dashboard.__doc__:  # the list of views comes from the registry
    dashboard.__doc__ = dashboard.__doc__.replace(
        "{views}", ", ".join(f"``{v!r}``".replace("'", '"') for v in VIEWS))
