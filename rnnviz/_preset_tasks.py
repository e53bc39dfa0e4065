"""The Playground's tasks and controls: each task's main knob and its values (see
:mod:`rnnviz.presets`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rnnviz.i18n import N_


@dataclass(frozen=True)
class TaskSpec:
    """A task of the Playground: its main knob and the values the knob may take.

    Attributes:
        name: the registry name (``rnnviz.tasks.names()``), e.g. ``"echo"``.
        knob: the task's keyword argument the Playground offers (``"delay"``, ``"lag"``,
            ``"seq_len"``, ``"max_depth"``...), or ``None`` for a task without one.
        values: the knob's allowed values, in order (ints, or strs for a choice).
        default: the knob's value when a preset names the task alone.
        fixed: other keyword arguments the task is always built with.
        seq2seq: the task needs an encoder-decoder (:class:`rnnviz.Seq2Seq`), not a
            :class:`rnnviz.SequenceModel`.
        label: a short English label (marked for translation: show it as ``_(spec.label)``).
    """

    name: str
    knob: str | None
    values: tuple[Any, ...]
    default: Any
    fixed: dict[str, Any] = field(default_factory=dict)
    seq2seq: bool = False
    label: str = ""

    def make(self, knob: Any = None, seed: int = 0) -> Any:
        """The task with ``knob`` (default: :attr:`default`) and ``seed``."""
        from rnnviz import tasks

        kwargs = dict(self.fixed)
        if self.knob is not None:
            kwargs[self.knob] = self.default if knob is None else knob
        return tasks.get(self.name, **kwargs, seed=seed)


#: Every task of :mod:`rnnviz.tasks` that trains with :class:`rnnviz.Trainer`, by registry name.
TASKS: dict[str, TaskSpec] = {s.name: s for s in (
    TaskSpec("echo", "delay", (1, 2, 3, 4, 5, 6, 8, 10), 2, label=N_("echo a symbol")),
    TaskSpec("delayed_recall", "lag", (2, 5, 10, 20, 30, 40, 60, 100), 10,
             label=N_("delayed recall")),
    TaskSpec("copy", "delay", (2, 5, 10, 20, 40), 10, label=N_("copy a string")),
    TaskSpec("adding", "seq_len", (20, 30, 50, 100, 200), 50, label=N_("adding problem")),
    TaskSpec("temporal_order", "seq_len", (10, 20, 30, 40, 60, 80, 100), 40,
             label=N_("temporal order")),
    TaskSpec("parity", "seq_len", (5, 10, 20, 40), 10, label=N_("parity")),
    TaskSpec("brackets", "max_depth", (2, 3, 4, 6, 8), 4, {"seq_len": 30},
             label=N_("bracket depth")),
    TaskSpec("sine", "seq_len", (20, 40, 80), 40, label=N_("sine wave")),
    TaskSpec("char_text", "seq_len", (16, 32, 48, 64, 100), 48, label=N_("character language model")),
    TaskSpec("names", None, (), None, label=N_("language of a surname")),
    TaskSpec("reverse", "max_len", (3, 5, 8, 10, 12), 8, {"num_symbols": 8}, seq2seq=True,
             label=N_("reverse a string (encoder-decoder)")),
    TaskSpec("lookahead", "ahead", (1, 2, 3, 4, 6), 3, {"seq_len": 16}, label=N_("look ahead")),
    TaskSpec("neighbour_xor", "distance", (1, 2, 3, 4), 2, {"seq_len": 16},
             label=N_("XOR of neighbours")),
    TaskSpec("sine_from_frequency", "seq_len", (12, 24, 48), 24,
             label=N_("generate a sine from its period")),
    TaskSpec("sentiment", "seq_len", (4, 5, 6, 8, 10), 6, label=N_("sentiment with negation")),
)}

#: The Playground's controls, by the :class:`Preset` field they set (``"knob"``: the task's
#: main knob). ``Preset.controls`` and ``playground(controls=...)`` choose among these.
CONTROLS = ("task", "knob", "cell", "hidden_size", "num_layers", "bidirectional", "nonlinearity",
            "dilations", "optimizer", "lr", "batch_size", "clip", "init", "forget_bias", "tbptt",
            "views", "seed")

#: Fields a running trainer takes without a rebuild (``trainer.lr``, ``.clip``, ``.tbptt``;
#: views and controls are the widget's). Any other change rebuilds task, model and trainer.
LIVE_FIELDS = frozenset({"lr", "clip", "tbptt", "views", "controls"})


def views() -> tuple[str, ...]:
    """The dashboard's views (``rnnviz.live.VIEWS``, its registry): what ``Preset.views`` may
    name. Imported when first asked (the registry imports every view module)."""
    from rnnviz.live._registry import VIEWS

    return VIEWS


def view_kind(spec: TaskSpec, cell: str) -> str:
    """What the live registry matches a view's cells against for a model of this task and
    cell (``rnnviz.live._registry.kind`` of its trace): ``"seq2seq"`` or the cell type."""
    return "seq2seq" if spec.seq2seq else cell


def __getattr__(name: str) -> object:
    if name == "VIEWS":  # the registry's, imported lazily (see views())
        return views()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")  # i18n-ignore
