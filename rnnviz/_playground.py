"""The Playground: every choice of a demo (task, model, training, views) as controls, no code.

One widget: a narrow column of controls, the current preset as text (copy it, or paste one),
a status line, and the live dashboard (:func:`rnnviz.dashboard`) of the trainer those choices
build. A structural change (task, knob, cell, sizes, initialisation, optimizer, batch size,
seed) pauses training, builds a new trainer from the preset and puts a new dashboard in place
of the old one, which is closed; learning rate, clipping and truncated BPTT apply live to the
running trainer. "trained" loads a named preset's checkpoint.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import traitlets as tl

from rnnviz import _presets_standin as presets
from rnnviz import _validate
from rnnviz.i18n import N_, _

__all__ = ["playground", "Playground", "CONTROLS"]

_HERE = Path(__file__).parent

#: Every control, in the order of the column; ``controls=`` picks some of them.
CONTROLS: tuple[str, ...] = (
    "task", "knob", "cell", "hidden_size", "num_layers", "bidirectional", "nonlinearity",
    "init", "radius", "forget_bias", "optimizer", "lr", "batch_size", "clip", "tbptt", "seed",
    "views", "preset", "trained",
)  # fmt: skip
#: Choices that need a new model and trainer.
STRUCTURAL: tuple[str, ...] = (
    "task", "knob", "cell", "hidden_size", "num_layers", "bidirectional", "nonlinearity",
    "init", "radius", "forget_bias", "optimizer", "batch_size", "seed",
)  # fmt: skip
#: Choices applied to the running trainer.
LIVE: tuple[str, ...] = ("lr", "clip", "tbptt")
VIEW_NAMES: tuple[str, ...] = ("hidden", "gates", "grad_flow", "unrolled")

# the labels of the controls (short: the column is narrow); symbols stay as they are
_LABELS = {
    "task": N_("task"), "cell": N_("cell"), "hidden_size": N_("hidden"),
    "num_layers": N_("layers"), "bidirectional": N_("bidirectional"),
    "nonlinearity": N_("nonlinearity"), "init": N_("W_hh init"),
    "radius": N_("radius"), "forget_bias": N_("forget bias"), "optimizer": N_("optimizer"),
    "lr": N_("lr"), "batch_size": N_("batch"), "clip": N_("clip"), "tbptt": N_("TBPTT"),
    "seed": N_("seed"), "views": N_("views"), "preset": N_("preset"), "trained": N_("trained"),
}  # fmt: skip
_VIEW_LABELS = {"hidden": N_("hidden"), "gates": N_("gates"), "grad_flow": N_("grad flow"),
                "unrolled": N_("unrolled")}
_HIDDEN = (2, 4, 8, 16, 32, 64, 128, 256)
_LAYERS = (1, 2, 3, 4)
_BATCH = (1, 4, 8, 16, 32, 64, 128)
_LR = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0, 10.0, 1e3)
_CLIP = (None, 0.1, 0.5, 1.0, 5.0)
_TBPTT = (None, 2, 5, 10, 20, 50)
# Figure heights inside the playground: history and the first view share one 720-px screen.
_HEIGHTS = {"history": 200, "hidden": 235, "grad_flow": 270, "gates": 420, "unrolled": 260}
_MARGINS = {"history": {"l": 60, "r": 20, "t": 52, "b": 40}}
_MARGIN = {"l": 60, "r": 20, "t": 56, "b": 46}


class Playground(widgets.HBox):
    """The playground widget; build it with :func:`rnnviz.playground`."""

    CONTROLS: tuple[str, ...] = CONTROLS  # every control, for ``controls=``

    # the choices: one trait per control, together the preset
    task = tl.Unicode("echo", help="Task name (rnnviz.tasks.names()).")
    knob = tl.Any(None, allow_none=True, help="The task's main knob (None: its default).")
    cell = tl.Unicode("lstm", help="'elman', 'lstm' or 'gru'.")
    hidden_size = tl.Int(32, help="Hidden units per layer and direction.")
    num_layers = tl.Int(1, help="Stacked recurrent layers.")
    bidirectional = tl.Bool(False, help="Read the sequence in both directions.")
    nonlinearity = tl.Unicode("tanh", help="Elman's nonlinearity: 'tanh' or 'relu'.")
    init = tl.Unicode("default", help="Initialisation of W_hh.")
    radius = tl.Float(1.0, help="Spectral radius of W_hh when init is 'radius'.")
    forget_bias = tl.Float(0.0, help="LSTM forget-gate bias at initialisation.")
    optimizer = tl.Unicode("adam", help="'adam', 'sgd' or 'rmsprop'.")
    lr = tl.Float(1e-2, help="Learning rate (applies live).")
    batch_size = tl.Int(32, help="Sequences per training step.")
    clip = tl.Float(None, allow_none=True, help="Gradient-norm clipping (None: off; live).")
    tbptt = tl.Int(None, allow_none=True, help="Truncated-BPTT window (None: off; live).")
    seed = tl.Int(0, help="Seed of the weights and the data.")
    views = tl.Tuple(help="Views shown besides the history.")
    # what the playground shows
    controls = tl.Tuple(help="Names of the visible controls (see CONTROLS).")
    preset = tl.Unicode(help="The current choices as a preset string (copy it to restore them).")
    status = tl.Unicode(help="What the playground did last: rebuilt, loaded, or an error.")
    rebuilds = tl.Int(0, help="New trainers built since the playground opened.")

    def __init__(self, preset: Any, *, controls: tuple[str, ...] | None, theme: str) -> None:
        super().__init__()
        self._theme = theme
        self._quiet = True  # set while traits are written together (one rebuild, not one per trait)
        self._good = preset  # the last preset that built
        self._name = ""  # the named preset the current choices came from, if any
        self._widgets: dict[str, widgets.Widget] = {}
        self._set_choices(preset)
        self.controls = tuple(controls if controls is not None
                              else getattr(preset, "controls", None) or CONTROLS)
        self.preset = str(preset)
        self._trainer = preset.build()
        self.dashboard = self._new_dashboard()
        self._status_html = widgets.HTML(layout=widgets.Layout(width="100%"))
        self._status_html.add_class("rnnviz-pg-status")
        column = widgets.VBox(self._make_controls())
        column.add_class("rnnviz-pg-controls")
        css = (_HERE / "_playground.css").read_text(encoding="utf-8")
        style = widgets.HTML(f"<style>{css}</style>", layout=widgets.Layout(display="none"))
        self._right = widgets.VBox([self._status_html, self.dashboard])
        self._right.add_class("rnnviz-pg-main")
        self.children = (style, column, self._right)
        self.add_class("rnnviz-playground")
        self._quiet = False
        self._show_choices()
        self._show_controls()
        self._say(_("Ready: press ▶ play. Change any control; the preset string records them all."))

    def __repr__(self) -> str:  # stable text/plain for nbval (no ids)
        return f"rnnviz playground ({self.dashboard.title})"

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

    def load_trained(self) -> None:
        """Load the current named preset's checkpoint: its trained weights and history."""
        name = self._checkpoint_name()
        if name is None:
            self._say(_("This preset has no trained checkpoint."), error=True)
            return
        self.pause()
        try:
            trainer = presets.load(name)
        except Exception as err:  # noqa: BLE001 - a lecture goes on: say what failed
            self._say(_("Could not load the checkpoint: {error}").format(error=err), error=True)
            return
        self._swap(trainer)
        self._say(_("Loaded the trained checkpoint of {name}: step {step}. Press ▶ to train on.")
                  .format(name=name, step=trainer.steps))

    def close(self) -> None:
        self.pause()
        _close(self.dashboard)
        for w in self._widgets.values():
            for child in getattr(w, "children", ()):
                _close(child)
            _close(w)
        _close(self._status_html)
        for child in self.children:
            _close(child)
        super().close()
        if self.layout is not None:
            self.layout.close()

    # ------------------------------------------------------------------ presets <-> traits
    def _current(self) -> Any:
        """The preset of the current choices (raises ValueError for a bad combination)."""
        fields = {name: getattr(self, name) for name in STRUCTURAL + LIVE}
        fields["views"] = tuple(self.views)
        fields["controls"] = tuple(self.controls) if tuple(self.controls) != CONTROLS else None
        return type(self._good)(**fields)

    def _set_choices(self, preset: Any) -> None:
        for name in STRUCTURAL + LIVE:
            setattr(self, name, getattr(preset, name))
        self.views = tuple(preset.views)

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """Write several traits without a rebuild for each (the caller applies them once)."""
        quiet, self._quiet = self._quiet, True
        try:
            yield
        finally:
            self._quiet = quiet
            self._show_choices()

    def apply_preset(self, preset: Any) -> None:
        """Restore every choice of ``preset`` (a name, a preset string or a Preset)."""
        try:
            chosen = presets.get(preset) if isinstance(preset, str) else preset
        except (TypeError, ValueError) as err:
            self._say(str(err), error=True)
            self._show_choices()
            return
        self._name = preset if isinstance(preset, str) and preset in presets.PRESETS else ""
        with self._writing():
            self._set_choices(chosen)
            if chosen.controls:
                self.controls = tuple(chosen.controls)
        self._rebuild(_("preset"))
        self._show_controls()

    # ------------------------------------------------------------------ observers
    @tl.observe(*STRUCTURAL)
    def _on_structure(self, change: dict) -> None:
        if self._quiet:
            return
        if change["name"] == "task":
            with self._writing():
                self.knob = None  # the new task's own default
        self._name = ""
        self._rebuild(_(_LABELS.get(change["name"], change["name"])) if change["name"] != "knob"
                      else _("knob"))

    @tl.observe("lr", "clip", "tbptt")
    def _on_live(self, change: dict) -> None:
        if self._quiet:
            return
        name, value = change["name"], change["new"]
        try:
            if name == "lr":
                self._trainer.lr = value
                self.dashboard.lr = float(value)
            elif name == "clip":
                self._trainer.clip = value
                with self.dashboard.hold_trait_notifications():
                    if value is not None:
                        self.dashboard.clip_value = float(value)
                    self.dashboard.clip_enabled = value is not None
            elif hasattr(self._trainer, "tbptt"):
                self._trainer.tbptt = value
        except (TypeError, ValueError) as err:
            self._say(str(err), error=True)
            with self._writing():
                self.set_trait(name, change["old"])
            return
        self._after_change()
        self._say(_("{what} is now {value}: applied to the running trainer.").format(
            what=_(_LABELS[name]), value=_fmt(value)))

    @tl.observe("views")
    def _on_views(self, change: dict) -> None:
        if self._quiet:
            return
        self.pause()
        self._swap(self._trainer)
        self._after_change()
        self._say(_("Views changed; training paused."))

    @tl.observe("controls")
    def _on_controls(self, change: dict) -> None:
        unknown = [c for c in change["new"] if c not in CONTROLS]
        if unknown:
            self.controls = change["old"] if isinstance(change["old"], tuple) else CONTROLS
            raise ValueError(_("controls must be names from {choices}, got {bad}").format(
                choices=list(CONTROLS), bad=unknown))
        if not self._quiet:
            self._show_controls()
            self._after_change()

    # ------------------------------------------------------------------ rebuilding
    def _rebuild(self, what: str) -> None:
        """Pause, build the trainer of the current choices and show its new dashboard."""
        self.pause()
        try:
            preset = self._current()
            trainer = preset.build()
        except (TypeError, ValueError, RuntimeError) as err:
            with self._writing():  # back to the choices that built
                self._set_choices(self._good)
            self._say(_("Not applied ({what}): {error}").format(what=what, error=err), error=True)
            return
        self._good = preset
        self._swap(trainer)
        self.rebuilds += 1
        self.preset = str(preset)
        self._say(_("Rebuilt: {what} changed, so a new model and trainer ({title}); training "
                    "paused.").format(what=what, title=self.dashboard.title))

    def _swap(self, trainer: Any) -> None:
        """Close the old dashboard and show a new one of ``trainer``."""
        old = self.dashboard
        old.pause()
        self._trainer = trainer
        self.dashboard = self._new_dashboard()
        self._right.children = (self._status_html, self.dashboard)
        _close(old)
        self._show_controls()

    def _new_dashboard(self) -> Any:
        from rnnviz.live import dashboard

        views = tuple(self.views) or ("hidden",)
        dash = dashboard(self._trainer, views, theme=self._theme)
        if hasattr(dash, "figures"):  # a live dashboard (not the static site's replay)
            figures = {}
            for name, spec in dash.figures.items():
                layout = dict(spec["layout"], height=_HEIGHTS.get(name, spec["layout"].get("height")),
                              margin=dict(spec["layout"].get("margin", {}), **_MARGINS.get(name, _MARGIN)))
                if name == "history":
                    layout["showlegend"] = False
                figures[name] = dict(spec, layout=layout)
            dash.figures = figures
            dash.add_class("rnnviz-pg-dashboard")
            dash.observe(self._on_dashboard_lr, names=["lr"])
        return dash

    def _on_dashboard_lr(self, change: dict) -> None:
        if change["owner"] is self.dashboard and change["new"] != self.lr:
            with self._writing():
                self.lr = change["new"]
            self._after_change()

    def _after_change(self) -> None:
        try:
            self._good = self._current()
        except (TypeError, ValueError):
            return
        self.preset = str(self._good)

    def _checkpoint_name(self) -> str | None:
        """The named preset whose checkpoint matches the current choices, if any."""
        if self._name and self._name in presets.PRESETS:
            return self._name
        here = self._good
        for name, p in presets.PRESETS.items():
            if all(getattr(p, f) == getattr(here, f) for f in STRUCTURAL):
                return name
        return None

    def _say(self, text: str, *, error: bool = False) -> None:
        self.status = text
        import html

        kind = "error" if error else "ok"
        self._status_html.value = f'<span data-kind="{kind}">{html.escape(text)}</span>'

    # ------------------------------------------------------------------ the controls
    def _make_controls(self) -> list[widgets.Widget]:
        def lay(width: str = "100%") -> widgets.Layout:
            return widgets.Layout(width=width)

        def dropdown(name: str, options: Iterable[Any]) -> widgets.Dropdown:
            return widgets.Dropdown(options=list(options), description=_(_LABELS[name]), layout=lay())

        from rnnviz import tasks

        w = self._widgets
        w["task"] = dropdown("task", tasks.names())
        w["knob"] = widgets.Text(description=_("knob"), placeholder=_("default"),
                                 continuous_update=False, layout=lay())
        w["cell"] = dropdown("cell", [("Elman", "elman"), ("LSTM", "lstm"), ("GRU", "gru")])
        w["hidden_size"] = dropdown("hidden_size", _HIDDEN)
        w["num_layers"] = dropdown("num_layers", _LAYERS)
        w["bidirectional"] = widgets.Checkbox(description=_(_LABELS["bidirectional"]),
                                              indent=False, layout=lay())
        w["nonlinearity"] = dropdown("nonlinearity", ["tanh", "relu"])
        w["init"] = dropdown("init", [(_("torch default"), "default"), (_("orthogonal"), "orthogonal"),
                                      (_("identity"), "identity"), (_("spectral radius"), "radius")])
        w["radius"] = widgets.BoundedFloatText(min=0.0, max=10.0, step=0.1,
                                               description=_(_LABELS["radius"]), layout=lay())
        w["forget_bias"] = widgets.BoundedFloatText(min=-10.0, max=10.0, step=0.5,
                                                    description=_(_LABELS["forget_bias"]), layout=lay())
        w["optimizer"] = dropdown("optimizer", [("Adam", "adam"), ("SGD", "sgd"), ("RMSprop", "rmsprop")])
        w["lr"] = dropdown("lr", [(_fmt(v), v) for v in _LR])
        w["batch_size"] = dropdown("batch_size", _BATCH)
        w["clip"] = dropdown("clip", [(_fmt(v), v) for v in _CLIP])
        w["tbptt"] = dropdown("tbptt", [(_fmt(v), v) for v in _TBPTT])
        w["seed"] = widgets.BoundedIntText(min=0, max=2**31 - 1, description=_(_LABELS["seed"]),
                                           layout=lay())
        w["views"] = widgets.HBox([widgets.ToggleButton(description=_(_VIEW_LABELS[v]),
                                                        tooltip=v, layout=widgets.Layout(width="auto"))
                                   for v in VIEW_NAMES], layout=lay())
        w["preset"] = widgets.Textarea(continuous_update=False, rows=4, layout=lay(),
                                       placeholder=_("paste a preset, then click outside"))
        w["trained"] = widgets.Button(description=_("⤓ trained"), tooltip=_(
            "Load this preset's trained checkpoint"), layout=lay())
        for name, widget in w.items():
            widget.add_class(f"rnnviz-pg-{name.replace('_', '-')}")
            if name == "views":
                for box in widget.children:
                    box.observe(self._from_views, names=["value"])
            elif name == "trained":
                widget.on_click(lambda _button: self.load_trained())
            elif name == "preset":
                widget.observe(self._from_preset_text, names=["value"])
            else:
                widget.observe(self._from_widget, names=["value"])
                widget.style.description_width = "initial"
        return [w[name] for name in CONTROLS]

    def _from_widget(self, change: dict) -> None:
        if self._quiet:
            return
        name = next(k for k, v in self._widgets.items() if v is change["owner"])
        value = change["new"]
        if name == "knob":
            value = _knob_value(value)
        try:
            setattr(self, name, value)
        except tl.TraitError as err:
            self._say(str(err), error=True)
            self._show_choices()

    def _from_views(self, change: dict) -> None:
        if self._quiet:
            return
        boxes = self._widgets["views"].children
        self.views = tuple(v for v, b in zip(VIEW_NAMES, boxes, strict=True) if b.value)

    def _from_preset_text(self, change: dict) -> None:
        if self._quiet or change["new"].strip() == self.preset:
            return
        self.apply_preset(change["new"].strip())

    def _show_choices(self) -> None:
        """Show the current traits in the widgets (no observer reacts)."""
        quiet, self._quiet = self._quiet, True
        try:
            w = self._widgets
            for name in STRUCTURAL + LIVE:
                value = getattr(self, name)
                if name == "knob":
                    w[name].value = "" if value is None else str(value)
                    continue
                if isinstance(w[name], widgets.Dropdown):
                    pairs = [o if isinstance(o, tuple) else (str(o), o) for o in w[name].options]
                    if name != "task" and value not in [v for _label, v in pairs]:  # hidden_size=24
                        w[name].options = [*pairs, (_fmt(value), value)]
                with contextlib.suppress(tl.TraitError, ValueError, TypeError):
                    w[name].value = value
            for v, box in zip(VIEW_NAMES, w["views"].children, strict=True):
                box.value = v in self.views
            w["preset"].value = self.preset
        finally:
            self._quiet = quiet

    @tl.observe("preset")
    def _on_preset(self, change: dict) -> None:
        if "preset" in self._widgets:
            quiet, self._quiet = self._quiet, True
            self._widgets["preset"].value = change["new"]
            self._quiet = quiet

    def _show_controls(self) -> None:
        """Show the chosen controls; grey out those that do not apply to this model."""
        if not self._widgets:
            return
        for name, widget in self._widgets.items():
            widget.layout.display = None if name in self.controls else "none"
        w = self._widgets
        w["nonlinearity"].disabled = self.cell != "elman"
        w["forget_bias"].disabled = self.cell != "lstm"
        w["radius"].disabled = self.init != "radius"
        w["trained"].disabled = self._checkpoint_name() is None


def _close(widget: Any) -> None:
    """Close a widget and its layout and style (ipywidgets leaves those open), and let go of it."""
    widget.close()
    for part in ("layout", "style"):
        child = getattr(widget, part, None)
        if isinstance(child, widgets.Widget):
            child.close()
    _unwatch_css(widget)


def _unwatch_css(widget: Any) -> None:
    """Drop the strong reference anywidget's file watcher keeps to every instance.

    anywidget turns a class's ``_css = Path(...)`` into a watched file and connects a lambda
    that holds the instance to the file's ``changed`` signal, for good: without this every
    dashboard ever built (its trainer, model and traces) stays in memory.
    """
    for key in ("_css", "_esm"):
        # add_traits made a subclass whose _css is a trait: the watched file is further up
        found = [k.__dict__[key] for k in type(widget).__mro__ if hasattr(k.__dict__.get(key), "changed")]
        changed = found[0].changed if found else None
        for slot in list(getattr(changed, "_slots", ())):
            fn = slot.dereference() if hasattr(slot, "dereference") else None
            cells = getattr(fn, "__closure__", None) or ()
            if any(c.cell_contents is widget for c in cells):
                with contextlib.suppress(Exception):
                    changed.disconnect(fn)


def _fmt(value: Any) -> str:
    if value is None:
        return _("off")
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _knob_value(text: str) -> Any:
    text = text.strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text


def playground(preset: Any = None, *, controls: Iterable[str] | None = None,
               theme: str = "auto") -> Playground:
    """A code-free demo: every choice of task, model and training as a control, and its dashboard.

    The column on the left holds the controls; the preset box shows the current choices as a
    short string (copy it into a lesson, or paste one and press Enter to restore it). Changing
    the task, its knob, the cell, the sizes, the initialisation, the optimizer, the batch size
    or the seed pauses training and rebuilds the model and trainer (the status line says so);
    the learning rate, clipping and truncated BPTT apply to the running trainer. "⤓ trained"
    loads a named preset's checkpoint: its trained weights and recorded history, ready to
    train on.

    Args:
        preset: a preset name (see ``rnnviz.presets.PRESETS``), a preset string, a
            ``Preset``, or ``None`` for the default demo.
        controls: names of the controls to show (see ``rnnviz.Playground.CONTROLS``);
            ``None`` shows those the preset names, or all of them.
        theme: ``"auto"`` (follows JupyterLab), ``"light"`` or ``"dark"``.

    Returns:
        The widget; leave it as the cell's last value to display it.

    Example:
        >>> import rnnviz
        >>> rnnviz.playground("echo", controls=["cell", "hidden_size"])  # doctest: +SKIP
    """
    from rnnviz.views._style import THEMES

    theme = _validate.choice("theme", theme, THEMES)
    if preset is None:
        chosen = presets.Preset()
    elif isinstance(preset, str):
        chosen = presets.get(preset)
    elif isinstance(preset, presets.Preset):
        chosen = preset
    else:
        raise TypeError(_("preset must be a preset name, a preset string or a Preset, got {type}")
                        .format(type=type(preset).__name__))
    shown: tuple[str, ...] | None = None
    if controls is not None:
        if isinstance(controls, str):
            controls = (controls,)
        items = _validate.iterable("controls", controls)
        shown = tuple(_validate.choice("controls", c, CONTROLS) for c in items)
    pg = Playground(chosen, controls=shown, theme=theme)
    if isinstance(preset, str) and preset in presets.PRESETS:
        pg._name = preset
        pg._show_controls()
    return pg
