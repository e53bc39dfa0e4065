"""Presets: every choice of the Playground (task, model, training, views) in one short string.

A :class:`Preset` is a frozen record of what a lecturer chooses: the task and its main knob,
the cell and its size, the optimizer and its settings, the W_hh initialisation, the LSTM
forget-gate bias, a truncated-BPTT window, the dashboard views, the visible controls and the
seed. Like TensorFlow Playground's URL hash it prints as one readable line and parses back:

    >>> import rnnviz
    >>> p = rnnviz.Preset.parse("task=echo:2 cell=lstm h=32 lr=0.01 clip=1 seed=0 views=hidden,gates")
    >>> str(p)
    'task=echo:2 cell=lstm h=32 lr=0.01 clip=1 views=hidden,gates seed=0'
    >>> trainer = p.build()            # task + model + Trainer, all seeded by p.seed
    >>> trainer.model.core.hidden_size
    32

Same preset, same everything: :meth:`Preset.build` gives the same weights, the same batches
and (played for the same number of steps) the same history. Named presets for the lessons'
demos are in :data:`PRESETS`; :func:`get` takes a name or a preset string; :func:`load` gives
a named preset's shipped checkpoint (trained weights, history, snapshots; :func:`trained`
lists which have one), see ``assets/checkpoints/README.md``.

For the Playground: :data:`TASKS` says which knob each task has and its values,
:data:`CONTROLS` names the controls, :data:`LIVE_FIELDS` the fields that apply to a running
trainer without a rebuild (:meth:`Preset.needs_rebuild`), and :meth:`Preset.replace` changes
one choice and keeps the rest consistent.

The string, key by key (``key=value`` items separated by spaces, in any order; the canonical
order is this table's; keys in the "always" column are always written, the others only when
they differ from the default):

==============  ===============  ==========================================================
key (aliases)   field            value
==============  ===============  ==========================================================
task            task, knob       ``name`` or ``name:knob`` (see :data:`TASKS`), always
cell            cell             ``elman``, ``lstm``, ``gru``; always
h (hidden_size) hidden_size      positive int; always
layers          num_layers       positive int (default 1)
bi              bidirectional    ``yes`` / ``no`` (default no)
act             nonlinearity     ``tanh`` / ``relu`` (Elman only; default tanh)
enc (encoding)  encoding         ``onehot``, ``embedding`` or ``none`` (default: the task's own)
dilations       dilations        ``1,2,4,8`` (one per layer) or ``none`` (default)
opt             optimizer        ``adam``, ``sgd``, ``rmsprop`` (default adam)
lr              lr               positive number; always
batch           batch_size       positive int (default 32)
clip            clip             positive number or ``none`` (default)
init            init, radius     ``default``, ``orthogonal[:gain]``, ``identity[:gain]``,
                                 ``radius:rho`` (see :func:`rnnviz.init_recurrent`)
forget_bias     forget_bias      a number or ``none`` (torch's draw; LSTM only)
tbptt           tbptt            positive int (truncated-BPTT window) or ``none`` (default)
views           views            comma list of :data:`VIEWS` (``hidden, gates, seq2seq``...)
                                 or ``none``
controls        controls         comma list of :data:`CONTROLS`, ``all`` (default) or ``none``
seed            seed             int >= 0; always
==============  ===============  ==========================================================
"""


from __future__ import annotations

import difflib
from typing import Any

from rnnviz import _validate
from rnnviz._preset import Preset
from rnnviz._preset_tasks import CONTROLS, LIVE_FIELDS, TASKS, TaskSpec
from rnnviz.i18n import _

__all__ = ["Preset", "TaskSpec", "TASKS", "PRESETS", "CONTROLS", "VIEWS", "LIVE_FIELDS",  # noqa: F822 (VIEWS: __getattr__)
           "get", "load", "trained"]

# ------------------------------------------------------------------------------ named presets
_NAMED = {
    # lessons 02-03: an Elman network echoes the symbol seen two steps ago
    "echo": "task=echo:2 cell=elman h=16 lr=0.01 seed=0 views=hidden,unrolled",
    # lesson 04: the same Elman network, W_hh scaled to spectral radius 0.5 or 1.5
    "vanishing": "task=temporal_order:30 cell=elman h=32 lr=0.01 init=radius:0.5 seed=0 "
                 "views=hidden,grad_flow controls=init,lr,clip",
    "exploding": "task=temporal_order:30 cell=elman h=32 lr=0.01 init=radius:1.5 seed=0 "
                 "views=hidden,grad_flow controls=init,lr,clip",
    # lessons 05-07: temporal order at T=40, where Elman fails and the gated cells succeed
    # (the LSTM with its forget gate opened to b_f = 1, as in lesson 06)
    "temporal_order_elman": "task=temporal_order:40 cell=elman h=16 lr=0.01 seed=0 "
                            "views=hidden,grad_flow",
    "temporal_order_lstm": "task=temporal_order:40 cell=lstm h=16 lr=0.01 forget_bias=1 seed=0 "
                           "views=gates,grad_flow",
    "temporal_order_gru": "task=temporal_order:40 cell=gru h=16 lr=0.01 seed=0 "
                          "views=gates,grad_flow",
    # Hochreiter & Schmidhuber (1997), experiment 4: the adding problem at T=100; the
    # forget gate opened to b_f = 3 is what makes it learnable in minutes (see
    # assets/checkpoints/README.md)
    "adding": "task=adding:100 cell=lstm h=64 lr=0.001 clip=1 forget_bias=3 seed=0 "
              "views=hidden,gates",
    # lesson 05: an LSTM tracks bracket depth with a counting unit
    "brackets": "task=brackets:4 cell=lstm h=8 lr=0.02 seed=0 views=hidden,gates",
    # lesson 10: a character language model
    "char_lm": "task=char_text:48 cell=lstm h=48 lr=0.01 seed=0 views=hidden,gates",
    # lesson 11: four dilated Elman layers on temporal order at T=80
    "dilation": "task=temporal_order:80 cell=elman h=16 layers=4 dilations=1,2,4,8 lr=0.01 "
                "seed=0 views=hidden,grad_flow",
    # lesson 12: an encoder-decoder reverses a string
    "reverse": "task=reverse:8 cell=gru h=32 lr=0.01 batch=64 seed=0 views=seq2seq",
    # ---- the live dashboards of the lessons, each the recipe its cell wrote out before it had
    # a preset (tests/test_lesson_presets.py checks them against it); lesson 05 uses
    # temporal_order_lstm and lesson 10 char_lm above
    "lesson02_echo": "task=echo:2 cell=elman h=16 lr=0.01 seed=1 views=hidden,unrolled",
    "lesson03_bptt": "task=echo:2 cell=elman h=16 lr=0.01 seed=0 views=unrolled,grad_flow",
    "lesson04_clipping": "task=sine:40 cell=elman h=32 opt=sgd lr=0.5 clip=1 seed=0 "
                         "views=hidden,grad_flow",
    "lesson06_gru": "task=temporal_order:40 cell=gru h=16 lr=0.01 seed=1 views=gates,grad_flow",
    "lesson07_race": "task=temporal_order:40 cell=gru h=16 lr=0.02 seed=0 views=gates,grad_flow",
    "lesson08_bidir": "task=lookahead:3 cell=elman h=16 bi=yes lr=0.01 seed=1 views=unrolled,hidden",
    "lesson09_names": "task=names cell=elman h=32 enc=embedding lr=0.005 seed=0 "
                      "views=hidden,unrolled",
    "lesson11_dilated": "task=temporal_order:40 cell=elman h=16 layers=4 dilations=1,2,4,8 "
                        "lr=0.01 seed=0 views=hidden,grad_flow",
}

#: Named presets for the lessons' demos, by name (see the comments in the source for which).
PRESETS: dict[str, Preset] = {name: Preset.parse(text) for name, text in _NAMED.items()}


def __getattr__(name: str) -> object:
    if name == "VIEWS":  # the live registry's views (rnnviz.live.VIEWS), imported lazily
        from rnnviz._preset_tasks import views

        return views()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")  # i18n-ignore


def get(preset: str | Preset) -> Preset:
    """A preset by name (a key of :data:`PRESETS`), from a preset string, or as given.

    Raises:
        ValueError: neither a known name nor a valid preset string (the message lists the
            names, or says what is wrong with the string).
        TypeError: not a str or :class:`Preset`.

    Example:
        >>> get("adding").knob
        100
        >>> get("task=parity:20 cell=gru h=8 lr=0.01 seed=1").seed
        1
    """
    if isinstance(preset, Preset):
        return preset
    if not isinstance(preset, str):
        raise TypeError(_("preset must be a preset name or string, got {value}").format(
            value=_validate._describe(preset)))
    if preset in PRESETS:
        return PRESETS[preset]
    if "=" not in preset:
        close = difflib.get_close_matches(preset, list(PRESETS), n=1)
        message = _("preset must be a named preset, one of {names}, or a preset string such as "
                    "'task=echo:2 cell=lstm h=16 lr=0.01 seed=0', got {value!r}").format(
                        names=list(PRESETS), value=preset)
        if close:
            message += " " + _("Did you mean {close!r}?").format(close=close[0])
        raise ValueError(message)
    return Preset.parse(preset)


def trained() -> list[str]:
    """Names of the named presets that ship a trained checkpoint (for :func:`load`), sorted."""
    from rnnviz.checkpoints import available

    return [name for name in available() if name in PRESETS]


def load(name: str) -> Any:
    """The trained :class:`rnnviz.Trainer` of a named preset's shipped checkpoint.

    Restores the weights, the recorded history and the probe snapshots, so the dashboard can
    scrub through the recorded training or go on training from there (see
    ``rnnviz/checkpoints.py`` and ``assets/checkpoints/README.md``).

    Raises:
        ValueError: ``name`` has no checkpoint (the message lists those that do).
    """
    from rnnviz.checkpoints import load_checkpoint

    return load_checkpoint(name)
