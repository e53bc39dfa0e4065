"""The Playground app: every choice of a demo (task, model, training, views) as controls, no code.

One widget: a narrow column of controls, the current preset as text (copy it, or paste one),
a status line, and the live dashboard (:func:`rnnviz.dashboard`) of the trainer that preset
builds. A structural change (task, knob, cell, sizes, initialisation, optimizer, batch size,
seed) pauses training, builds a new trainer from the preset and puts a new dashboard in place
of the old one, which is closed; learning rate, clipping and truncated BPTT apply live to the
running trainer. "trained" loads a named preset's checkpoint.
"""

from __future__ import annotations

import contextlib
import html
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import traitlets as tl

from rnnviz import _validate, presets
from rnnviz.app import _controls as C
from rnnviz.app._controls import CONTROLS
from rnnviz.i18n import _

__all__ = ["playground", "Playground", "CONTROLS"]

_CSS = Path(__file__).with_name("playground.css")
#: The preset's fields, one trait of the widget each.
FIELDS: tuple[str, ...] = (
    "task", "knob", "cell", "hidden_size", "num_layers", "bidirectional", "nonlinearity",
    "dilations", "optimizer", "lr", "batch_size", "clip", "init", "radius", "forget_bias",
    "tbptt", "views", "seed",
)  # fmt: skip
# Figure heights inside the playground: history and the first view share one 720-px screen.
_HEIGHTS = {"history": 220, "hidden": 210, "grad_flow": 260, "gates": 420, "unrolled": 250}
_MARGINS = {"history": {"l": 60, "r": 20, "t": 52, "b": 40}}
_MARGIN = {"l": 60, "r": 20, "t": 56, "b": 46}
# the history's three curves stay side by side down to 3 x 130 px (the column of controls
# leaves the dashboard ~600 px at 1280 x 720 with JupyterLab's sidebar open)
_PANEL_MIN = {"history": 130}


class Playground(widgets.HBox):
    """The playground widget; build it with :func:`rnnviz.playground`.

    Each choice is a trait (``pg.cell = "gru"`` does what the cell control does); ``preset``
    is the current choices as a string, ``status`` what happened last.
    """

    CONTROLS: tuple[str, ...] = CONTROLS  # every control, for ``controls=``

    # the choices: the fields of rnnviz.Preset
    task = tl.Unicode("echo", help="Task name (a key of rnnviz.presets.TASKS).")
    knob = tl.Any(None, allow_none=True, help="The task's main knob (TASKS[task].knob).")
    cell = tl.Unicode("lstm", help="'elman', 'lstm' or 'gru'.")
    hidden_size = tl.Int(32, help="Hidden units per layer and direction.")
    num_layers = tl.Int(1, help="Stacked recurrent layers.")
    bidirectional = tl.Bool(False, help="Read the sequence in both directions.")
    nonlinearity = tl.Unicode("tanh", help="Elman's nonlinearity: 'tanh' or 'relu'.")
    dilations = tl.Tuple(None, allow_none=True, help="One dilation per layer, or None.")
    optimizer = tl.Unicode("adam", help="'adam', 'sgd' or 'rmsprop'.")
    lr = tl.Float(1e-2, help="Learning rate (applies live).")
    batch_size = tl.Int(32, help="Sequences per training step.")
    clip = tl.Float(None, allow_none=True, help="Gradient-norm clipping, None: off (live).")
    init = tl.Unicode("default", help="W_hh initialisation: default, orthogonal, identity, radius.")
    radius = tl.Float(None, allow_none=True, help="Spectral radius (init 'radius') or gain.")
    forget_bias = tl.Float(None, allow_none=True, help="LSTM forget-gate bias; None: torch's.")
    tbptt = tl.Int(None, allow_none=True, help="Truncated-BPTT window, None: off (live).")
    views = tl.Tuple(help="Views shown besides the history.")
    seed = tl.Int(0, help="Seed of the task, the weights and the batches.")
    # what the playground shows
    controls = tl.Tuple(help="Names of the visible controls (see Playground.CONTROLS).")
    preset = tl.Unicode(help="The current choices as a preset string (paste it to restore them).")
    status = tl.Unicode(help="What the playground did last: rebuilt, applied, loaded, an error.")
    rebuilds = tl.Int(0, help="New trainers built since the playground opened.")

    def __init__(self, preset: Any, *, controls: tuple[str, ...], theme: str,
                 name: str = "") -> None:
        super().__init__()
        self._theme = theme
        self._quiet = True  # traits and widgets are being written: no observer reacts
        self._good = preset  # the preset in force (the last one that built)
        self._name = name  # the named preset the choices came from, if any
        self._trained = set(presets.trained())
        self._trainer = preset.build()
        self.dashboard = self._new_dashboard()
        self._w = C.make(self._from_widget, self._from_views, self._from_preset_text,
                         lambda _button: self.load_trained())
        # tooltip "": ipywidgets shows a missing one as the hover text "null"
        self._status_html = widgets.HTML(layout=widgets.Layout(width="100%"), tooltip="")
        self._status_html.add_class("rnnviz-pg-status")
        column = widgets.VBox(C.column(self._w))
        column.add_class("rnnviz-pg-controls")
        style = widgets.HTML(f"<style>{_CSS.read_text(encoding='utf-8')}</style>", tooltip="",
                             layout=widgets.Layout(display="none"))
        self._right = widgets.VBox([self._status_html, self.dashboard])
        self._right.add_class("rnnviz-pg-main")
        self.children = (style, column, self._right)
        self.add_class("rnnviz-playground")
        self._parts = [style, column, self._right, self._status_html,
                       *column.children, *self._w.values(), *self._w["views"].children]
        self.controls = controls
        self._write(preset)
        self._quiet = False
        self._say(_("Ready: press ▶ play. Change any control; the preset records every choice."))

    def __repr__(self) -> str:  # stable text/plain for nbval (no ids)
        return f"rnnviz playground ({self.preset})"

    # ------------------------------------------------------------------ public
    @property
    def trainer(self) -> Any:
        """The trainer the dashboard shows now (a new one after every structural change)."""
        return self._trainer

    def play(self) -> None:
        """Start training (same as ▶)."""
        self.dashboard.play()

    def pause(self) -> None:
        """Stop training after the current step (same as ❚❚)."""
        self.dashboard.pause()

    def apply(self, preset: Any) -> None:
        """Restore every choice of ``preset`` (a name, a preset string or a ``Preset``)."""
        try:
            chosen = presets.get(preset)
        except (TypeError, ValueError) as err:
            self._say(str(err), error=True)
            self._write(self._good)
            return
        if chosen.controls is None:  # a preset without controls keeps those shown now
            chosen = chosen.replace(controls=self._good.controls)
        self._apply(chosen, _("preset"))
        self._name = preset if isinstance(preset, str) and preset in presets.PRESETS else ""
        self._show()

    def load_trained(self) -> None:
        """Load the named preset's checkpoint: its trained weights and recorded history."""
        name = self._checkpoint()
        if name is None:
            self._say(_("This preset has no trained checkpoint."), error=True)
            return
        self.pause()
        try:
            trainer = presets.load(name)
        except (OSError, TypeError, ValueError, RuntimeError) as err:
            self._say(_("Could not load the checkpoint: {error}").format(error=err), error=True)
            return
        recorded = getattr(trainer, "preset", presets.PRESETS[name])
        self._apply(recorded.replace(views=self._good.views, controls=self._good.controls),
                    _("checkpoint"), trainer=trainer)
        self._name = name
        self._show()
        self._say(_("Loaded the trained checkpoint {name} at step {step}; ▶ trains on.").format(
            name=name, step=trainer.steps))

    def close(self) -> None:
        self.pause()
        _close(self.dashboard)
        for part in self._parts:
            _close(part)
        super().close()
        if self.layout is not None:
            self.layout.close()

    # ------------------------------------------------------------------ choosing
    @tl.observe(*FIELDS)
    def _on_choice(self, change: dict) -> None:
        if self._quiet:
            return
        name, value = change["name"], change["new"]
        changes = {name: value}
        if name == "init" and value == "radius" and self._good.radius is None:
            changes["radius"] = 1.0  # a radius is needed: start at the edge of chaos
        if name == "num_layers" and self._good.dilations is not None:
            changes["dilations"] = tuple(2**i for i in range(value))  # one per layer
        if name == "views":
            changes["views"] = tuple(value)
        try:
            new = self._good.replace(**changes)
            if name == "views" and not set(new.views) & set(new.available_views):
                raise ValueError(_("views must include one of {options} for this model, got "
                                   "{value}").format(options=list(new.available_views),
                                                     value=list(new.views)))
        except (TypeError, ValueError) as err:
            self._say(_("Not applied: {error}").format(error=err), error=True)
            self._write(self._good)
            return
        self._apply(new, _(C.LABELS.get(name, name)))

    def _apply(self, new: Any, what: str, *, trainer: Any = None) -> None:
        """Make ``new`` the preset in force: rebuild if it needs it, else apply it live."""
        old = self._good
        if trainer is not None or old.needs_rebuild(new):
            self.pause()  # first: nothing trains while the trainer is replaced
            try:
                trainer = new.build() if trainer is None else trainer
            except (TypeError, ValueError, RuntimeError) as err:
                self._say(_("Not applied ({what}): {error}").format(what=what, error=err),
                          error=True)
                self._write(old)
                return
            self._good = new
            self._swap(trainer)
            self.rebuilds += 1
            self._name = ""
            self._say(_("Rebuilt: {what} changed, so a new model and trainer ({title}); "
                        "training paused.").format(what=what, title=self.dashboard.title))
        else:
            self._good = new
            if new.views != old.views:
                self.pause()
                self._swap(self._trainer)
                self._say(_("Views changed; training paused."))
            changed = [f for f in ("lr", "clip", "tbptt") if getattr(new, f) != getattr(old, f)]
            self._live(new)
            if changed:
                self._say(_("{what} is now {value}: applied to the running trainer.").format(
                    what=", ".join(_(C.LABELS[f]) for f in changed),
                    value=", ".join(C.fmt(getattr(new, f)) for f in changed)))
        self._write(new)

    def _live(self, p: Any) -> None:
        """lr, clip and tbptt of ``p`` to the running trainer (and the dashboard's traits)."""
        tr, dash = self._trainer, self.dashboard
        tr.lr, tr.clip, tr.tbptt = p.lr, p.clip, p.tbptt
        with dash.hold_trait_notifications():
            dash.lr = float(p.lr)
            if p.clip is not None:
                dash.clip_value = float(p.clip)
            dash.clip_enabled = p.clip is not None

    def _checkpoint(self) -> str | None:
        """The named preset with a checkpoint that the current choices are, if any."""
        if self._name in self._trained:
            return self._name
        for name in sorted(self._trained):
            p = presets.PRESETS.get(name)
            if p is not None and not p.needs_rebuild(self._good):
                return name
        return None

    # ------------------------------------------------------------------ the dashboard
    def _swap(self, trainer: Any) -> None:
        """Close the old dashboard and show a new one of ``trainer``."""
        old = self.dashboard
        old.pause()
        self._trainer = trainer
        self.dashboard = self._new_dashboard()
        self._right.children = (self._status_html, self.dashboard)
        _close(old)

    def _new_dashboard(self) -> Any:
        from rnnviz.live import dashboard

        dash = dashboard(self._trainer, tuple(self._good.views) or ("hidden",), theme=self._theme)
        if hasattr(dash, "resize_figure"):  # a live dashboard (not the static site's replay)
            for name in dash.figures:
                two = name == "hidden" and self._good.bidirectional  # two panels: full height
                dash.resize_figure(name, height=None if two else _HEIGHTS.get(name),
                                   margin=_MARGINS.get(name, _MARGIN),
                                   showlegend=False if name == "history" else None,
                                   panel_min=_PANEL_MIN.get(name))
            dash.add_class("rnnviz-pg-dashboard")
            dash.observe(self._on_dashboard_lr, names=["lr"])
        return dash

    def _on_dashboard_lr(self, change: dict) -> None:
        if change["owner"] is self.dashboard and change["new"] != self.lr and not self._quiet:
            self.lr = change["new"]

    # ------------------------------------------------------------------ traits <-> widgets
    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        quiet, self._quiet = self._quiet, True
        try:
            yield
        finally:
            self._quiet = quiet

    def _write(self, p: Any) -> None:
        """Show preset ``p`` in the traits, the widgets and the preset text."""
        with self._writing():
            for name in FIELDS:
                setattr(self, name, getattr(p, name))
            if p.controls is not None:
                self.controls = (*p.controls, *(c for c in ("preset", "trained")
                                                if c in self.controls))
            self.preset = str(p)
            self._show()

    def _show(self) -> None:
        with self._writing():
            C.show(self._w, self._good)
            for name, widget in self._w.items():
                shown = name in self.controls or (name == "radius" and "init" in self.controls)
                widget.layout.display = None if shown else "none"
            self._w["trained"].disabled = self._checkpoint() is None

    def _from_widget(self, change: dict) -> None:
        if self._quiet:
            return
        name = next(k for k, v in self._w.items() if v is change["owner"])
        setattr(self, name, C.value_of(change["new"]))

    def _from_views(self, change: dict) -> None:
        if self._quiet:
            return
        boxes = self._w["views"].children
        chosen = tuple(v for v, b in zip(presets.VIEWS, boxes, strict=True) if b.value)
        if not chosen:  # the history alone is no demo: keep the one just unticked
            with self._writing():
                change["owner"].value = True
            return
        self.views = chosen

    def _from_preset_text(self, change: dict) -> None:
        if self._quiet or change["new"].strip() in ("", self.preset):
            return
        self.apply(change["new"].strip())

    @tl.observe("controls")
    def _on_controls(self, change: dict) -> None:
        unknown = [c for c in change["new"] if c not in CONTROLS]
        if unknown:
            self.controls = change["old"] if isinstance(change["old"], tuple) else CONTROLS
            raise ValueError(_("controls must be names from {choices}, got {bad}").format(
                choices=list(CONTROLS), bad=unknown))
        if self._quiet or not hasattr(self, "_w"):
            return
        own = tuple(c for c in change["new"] if c in presets.CONTROLS)
        self._good = self._good.replace(controls=None if set(own) == set(presets.CONTROLS) else own)
        self.preset = str(self._good)
        self._show()

    def _say(self, text: str, *, error: bool = False) -> None:
        self.status = text
        kind = "error" if error else "ok"
        self._status_html.value = f'<span data-kind="{kind}">{html.escape(text)}</span>'


def _close(widget: Any) -> None:
    """Close a widget and its layout and style (ipywidgets leaves those open), and let go of it."""
    widget.close()
    for part in ("layout", "style"):
        child = getattr(widget, part, None)
        if isinstance(child, widgets.Widget):
            child.close()


def playground(preset: Any = None, *, controls: Iterable[str] | None = None,
               theme: str = "auto") -> Playground:
    """A code-free demo: every choice of task, model and training as a control, and its dashboard.

    The column on the left holds the controls; the preset box shows the current choices as
    one line (copy it into a lesson, or paste one, or a preset's name, and click outside the
    box). Changing the task, its knob, the cell, the sizes, the initialisation, the optimizer,
    the batch size or the seed pauses training and rebuilds the model and trainer (the status
    line says so); the learning rate, clipping and truncated BPTT apply to the running
    trainer. "⤓ trained" loads a named preset's checkpoint: its trained weights and recorded
    history, ready to train on.

    Args:
        preset: a preset name (a key of ``rnnviz.presets.PRESETS``), a preset string, an
            ``rnnviz.Preset``, or ``None`` for the default one.
        controls: names of the controls to show (``rnnviz.Playground.CONTROLS``); ``None``
            shows those the preset names, or all of them.
        theme: ``"auto"`` (follows JupyterLab), ``"light"`` or ``"dark"``.

    Returns:
        The widget; leave it as the cell's last value to display it. (When the static site is
        built, ``RNNVIZ_STATIC_SITE=1``, the recorded replay of its dashboard.)

    Example:
        >>> import rnnviz
        >>> rnnviz.playground("temporal_order_lstm", controls=["cell", "lr"])  # doctest: +SKIP
    """
    from rnnviz.views._style import THEMES

    theme = _validate.choice("theme", theme, THEMES)
    chosen = presets.Preset() if preset is None else presets.get(preset)
    if controls is None:
        shown = CONTROLS if chosen.controls is None else tuple(chosen.controls)
    else:
        if isinstance(controls, str):
            controls = (controls,)
        items = _validate.iterable("controls", controls)
        shown = tuple(_validate.choice("controls", c, CONTROLS) for c in items)
        own = tuple(c for c in shown if c in presets.CONTROLS)
        chosen = chosen.replace(controls=None if set(own) == set(presets.CONTROLS) else own)
    name = preset if isinstance(preset, str) and preset in presets.PRESETS else ""
    from rnnviz.live import _replay, dashboard

    if _replay.enabled():  # the static site: no kernel behind the controls, the dashboard's replay
        return dashboard(chosen.build(), tuple(chosen.views) or None, theme=theme)
    return Playground(chosen, controls=shown, theme=theme, name=name)
