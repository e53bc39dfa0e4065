"""The Playground's control column: one small ipywidget per choice of a preset.

Every control offers only values a :class:`rnnviz.Preset` takes (drop-downs, not free text),
so a click can never type a bad value; combinations that do not go together (``relu`` with a
gated cell, dilations with a bidirectional model) are refused by the preset, and the
Playground says why.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from rnnviz import presets
from rnnviz.i18n import N_, _

#: Every control the Playground can show: the preset's own (``rnnviz.presets.CONTROLS``), the
#: preset text box and the "trained" button.
CONTROLS: tuple[str, ...] = (*presets.CONTROLS, "preset", "trained")

# short labels: the column is narrow (symbols and argument names stay as they are)
LABELS = {
    "task": N_("task"), "knob": N_("knob"), "cell": N_("cell"), "hidden_size": N_("hidden"),
    "num_layers": N_("layers"), "bidirectional": N_("bidirectional"),
    "nonlinearity": N_("nonlinearity"), "dilations": N_("dilations"),
    "optimizer": N_("optimizer"), "lr": N_("lr"), "batch_size": N_("batch"), "clip": N_("clip"),
    "init": N_("W_hh init"), "radius": N_("radius"), "forget_bias": N_("forget bias"),
    "tbptt": N_("TBPTT"), "views": N_("views"), "seed": N_("seed"), "preset": N_("preset"),
    "trained": N_("trained"),
}  # fmt: skip
# the views control: one toggle per view of the live registry (rnnviz.presets.VIEWS), those
# that apply to the model shown (Preset.available_views)
VIEW_LABELS = {"hidden": N_("hidden"), "gates": N_("gates"), "grad_flow": N_("grad flow"),
               "unrolled": N_("unrolled"), "gate_saturation": N_("saturation"),
               "cell": N_("cell"), "seq2seq": N_("seq2seq")}
VIEW_TIPS = {"hidden": N_("show the hidden states h_t (units × time)"),
             "gates": N_("show the gates (units × time; not for Elman)"),
             "grad_flow": N_("show the gradient flow ‖dL/dh_t‖ back through time"),
             "unrolled": N_("show the network unrolled in time"),
             "gate_saturation": N_("show how often each gate is saturated (not for Elman)"),
             "cell": N_("show one cell's wiring at the time cursor t"),
             "seq2seq": N_("show the encoder, the context and the decoder")}
#: The tasks' knobs (``TASKS[name].knob``: a keyword argument of the task) as labelled
KNOB_LABELS = {"delay": N_("delay"), "lag": N_("lag"), "seq_len": N_("length T"),
               "max_depth": N_("max depth"), "max_len": N_("max length"), "ahead": N_("ahead"),
               "distance": N_("distance")}
INIT_LABELS = {"default": N_("torch default"), "orthogonal": N_("orthogonal"),
               "identity": N_("identity"), "radius": N_("spectral radius")}
HIDDEN = (2, 4, 8, 16, 32, 48, 64, 128, 256)
LAYERS = (1, 2, 3, 4)
BATCH = (1, 4, 8, 16, 32, 64, 128, 256)
LR = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 2e-2, 3e-2, 0.1, 0.3, 1.0, 10.0, 1e3)
CLIP = (None, 0.1, 0.5, 1.0, 5.0)
TBPTT = (None, 2, 5, 10, 20, 50)
RADIUS = (None, 0.5, 0.9, 1.0, 1.1, 1.5, 2.0, 3.0)
FORGET_BIAS = (None, -1.0, 0.0, 1.0, 2.0, 3.0, 5.0)
SEEDS = tuple(range(10))


#: What a drop-down holds for ``None`` ("off", "torch's"): ipywidgets reads a None value as
#: "nothing selected" and would show an empty box.
NONE = "none"


def fmt(value: Any) -> str:
    """A control's value as shown: ``None`` is "off", floats in short form."""
    if value is None:
        return _("off")
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def pairs(values: Any) -> list[tuple[str, Any]]:
    return [(fmt(v), NONE if v is None else v) for v in values]


def value_of(widget_value: Any) -> Any:
    """A drop-down's value as the preset's (``NONE`` is ``None``)."""
    return None if widget_value == NONE else widget_value


def make(on_value: Callable[[dict], None], on_views: Callable[[dict], None],
         on_preset: Callable[[dict], None], on_trained: Callable[[Any], None],
         ) -> dict[str, widgets.Widget]:
    """The widgets of every control (and of the init's radius), wired to the callbacks."""

    def lay(width: str = "100%") -> widgets.Layout:
        return widgets.Layout(width=width)

    def dropdown(name: str, options: list, width: str = "100%") -> widgets.Dropdown:
        return widgets.Dropdown(options=options, description=_(LABELS[name]), layout=lay(width))

    w: dict[str, widgets.Widget] = {}
    w["task"] = dropdown("task", [(_(s.label) or s.name, s.name) for s in presets.TASKS.values()])
    w["knob"] = dropdown("knob", [])
    w["cell"] = dropdown("cell", [("Elman", "elman"), ("LSTM", "lstm"), ("GRU", "gru")])
    w["hidden_size"] = dropdown("hidden_size", pairs(HIDDEN))
    w["num_layers"] = dropdown("num_layers", pairs(LAYERS))
    w["bidirectional"] = widgets.Checkbox(description=_(LABELS["bidirectional"]), indent=False,
                                          layout=lay())
    w["nonlinearity"] = dropdown("nonlinearity", ["tanh", "relu"])
    w["dilations"] = dropdown("dilations", [(fmt(None), NONE)])
    w["optimizer"] = dropdown("optimizer", [("Adam", "adam"), ("SGD", "sgd"), ("RMSprop", "rmsprop")])
    w["lr"] = dropdown("lr", pairs(LR))
    w["batch_size"] = dropdown("batch_size", pairs(BATCH))
    w["clip"] = dropdown("clip", pairs(CLIP))
    w["init"] = dropdown("init", [(_(INIT_LABELS[k]), k) for k in INIT_LABELS])
    w["radius"] = dropdown("radius", pairs(RADIUS))
    w["radius"].tooltip = _("spectral radius (the gain of orthogonal / identity)")
    w["forget_bias"] = dropdown("forget_bias", [(_("torch"), NONE), *pairs(FORGET_BIAS[1:])])
    w["tbptt"] = dropdown("tbptt", pairs(TBPTT))
    w["views"] = widgets.HBox([widgets.ToggleButton(description=_(VIEW_LABELS.get(v, v)),
                                                    tooltip=_(VIEW_TIPS[v]) if v in VIEW_TIPS else v,
                                                    layout=widgets.Layout(width="auto"))
                               for v in presets.VIEWS], layout=lay())
    w["seed"] = dropdown("seed", pairs(SEEDS))
    w["preset"] = widgets.Textarea(continuous_update=False, rows=3, layout=lay(),
                                   placeholder=_("paste a preset or a preset name"))
    w["trained"] = widgets.Button(description=_("⤓ trained"), layout=lay(),
                                  tooltip=_("Load this preset's trained checkpoint"))
    w["preset"].tooltip = _("the current choices as a preset: copy it, or paste one")
    for name, widget in w.items():
        # ipywidgets shows a missing tooltip as the hover text "null": the label instead
        if getattr(widget, "tooltip", "") is None and hasattr(widget, "description"):
            widget.tooltip = getattr(widget, "description", "") or _(LABELS[name])
        widget.add_class(f"rnnviz-pg-{name.replace('_', '-')}")
        if name == "views":
            for box in widget.children:
                box.observe(on_views, names=["value"])
        elif name == "trained":
            widget.on_click(on_trained)
        elif name == "preset":
            widget.observe(on_preset, names=["value"])
        else:
            widget.observe(on_value, names=["value"])
            if hasattr(widget, "style") and hasattr(widget.style, "description_width"):
                widget.style.description_width = "84px"  # one column of labels
    return w


def column(w: dict[str, widgets.Widget]) -> list[widgets.Widget]:
    """The widgets in the column's order (the init's radius right below it)."""
    names = [n for name in CONTROLS for n in ((name, "radius") if name == "init" else (name,))]
    return [w[name] for name in names]


def set_options(widget: widgets.Dropdown, options: list[tuple[str, Any]], value: Any) -> None:
    """Give a drop-down these options (plus ``value`` if it is not one) and select ``value``."""
    value = NONE if value is None else value
    if value not in [v for _label, v in options]:
        options = [*options, (fmt(value), value)]
    if list(widget.options) != options:
        widget.options = options
    widget.value = value


def show(w: dict[str, widgets.Widget], p: Any) -> None:
    """Show preset ``p`` in the widgets (the caller keeps their observers quiet)."""
    spec = presets.TASKS[p.task]
    w["task"].value = p.task
    w["knob"].description = _(KNOB_LABELS.get(spec.knob, LABELS["knob"])) if spec.knob \
        else _(LABELS["knob"])
    w["knob"].tooltip = w["knob"].description
    set_options(w["knob"], pairs(spec.values) if spec.knob else [("–", NONE)], p.knob)
    w["knob"].disabled = spec.knob is None
    dil = tuple(2**i for i in range(p.num_layers))
    set_options(w["dilations"], [(fmt(None), NONE), (fmt(dil), dil)], p.dilations)
    for name in ("cell", "hidden_size", "num_layers", "nonlinearity", "optimizer", "lr",
                 "batch_size", "clip", "init", "radius", "forget_bias", "tbptt", "seed"):
        set_options(w[name], [(o, v) if isinstance(o, str) else (fmt(v), v) for o, v in
                              [(x if isinstance(x, tuple) else (fmt(x), x)) for x in w[name].options]],
                    getattr(p, name))
    w["bidirectional"].value = p.bidirectional
    offered = p.available_views
    for view, box in zip(presets.VIEWS, w["views"].children, strict=True):
        box.value = view in p.views
        box.layout.display = None if view in offered else "none"  # only what applies
    w["preset"].value = str(p)
    # what does not apply to this model is greyed out
    w["nonlinearity"].disabled = p.cell != "elman"
    w["forget_bias"].disabled = p.cell != "lstm"
    w["radius"].disabled = p.init == "default"
    w["dilations"].disabled = p.bidirectional or spec.seq2seq
    w["bidirectional"].disabled = spec.seq2seq
