"""The :class:`Preset` record and its string form (see :mod:`rnnviz.presets` for the keys)."""

from __future__ import annotations

import dataclasses
import difflib
import math
from dataclasses import dataclass
from typing import Any

import torch

from rnnviz import _validate
from rnnviz._preset_tasks import CONTROLS, LIVE_FIELDS, TASKS, TaskSpec, view_kind, views
from rnnviz.i18n import _

CELLS = ("elman", "lstm", "gru")
OPTIMIZERS = ("adam", "sgd", "rmsprop")
INITS = ("default", "orthogonal", "identity", "radius")
ENCODINGS = ("onehot", "embedding")  # of symbol ids (SequenceModel(encoding=...))
MAX_HIDDEN, MAX_LAYERS, MAX_BATCH = 1024, 8, 4096
MAX_LR = float(torch.finfo(torch.float32).max)  # as rnnviz.Trainer

_KEYS = ("task", "cell", "h", "layers", "bi", "act", "enc", "dilations", "opt", "lr", "batch",
         "clip", "init", "forget_bias", "tbptt", "views", "controls", "seed")
_ALWAYS = ("task", "cell", "h", "lr", "seed")
_ALIASES = {"hidden_size": "h", "hidden": "h", "num_layers": "layers", "bidirectional": "bi",
            "nonlinearity": "act", "optimizer": "opt", "batch_size": "batch", "fb": "forget_bias",
            "view": "views", "dilation": "dilations", "encoding": "enc"}
_FIELD_OF_KEY = {"task": "task", "cell": "cell", "h": "hidden_size", "layers": "num_layers",
                 "bi": "bidirectional", "act": "nonlinearity", "enc": "encoding",
                 "dilations": "dilations",
                 "opt": "optimizer", "lr": "lr", "batch": "batch_size", "clip": "clip",
                 "init": "init", "forget_bias": "forget_bias", "tbptt": "tbptt",
                 "views": "views", "controls": "controls", "seed": "seed"}
_YES, _NO = ("yes", "true", "1", "on"), ("no", "false", "0", "off")


def _task_key(name: str) -> str:
    return name.lower().replace("_", "").replace("-", "").replace(" ", "")


def _names(name: str, values: Any, allowed: tuple[str, ...], *, allow_none: bool) -> Any:
    """A tuple of distinct names from ``allowed`` (lower-cased), or ``None``."""
    if values is None and allow_none:
        return None
    if isinstance(values, str) or not isinstance(values, (tuple, list)):
        raise TypeError(_("{name} must be a tuple of names from {options}, got {value}").format(
            name=name, options=list(allowed), value=_validate._describe(values)))
    out = tuple(_validate.choice(name, v, allowed) for v in values)
    if len(set(out)) != len(out):
        raise ValueError(_("{name} must not repeat a name, got {value}").format(
            name=name, value=list(values)))
    return out


@dataclass(frozen=True)
class Preset:
    """Every choice of the Playground, and the seed: a recipe for a :class:`rnnviz.Trainer`.

    Build one with keywords (``Preset(task="adding", knob=100, cell="lstm")``), from a string
    (:meth:`parse`), by name (:func:`get`), or from another (:meth:`replace`). The values are
    checked and normalised at construction (``knob=None`` becomes the task's default, names
    are lower-cased, lists become tuples), so two equal presets print the same string.

    Args:
        task: a task name of :data:`TASKS` (the class name works too: ``"TemporalOrder"``).
        knob: the task's main knob (``TASKS[task].knob``), one of ``TASKS[task].values``;
            ``None``: the task's default.
        cell: ``"elman"``, ``"lstm"`` or ``"gru"``.
        hidden_size: H (1 to 1024). num_layers: stacked layers (1 to 8).
        bidirectional: a forward and a backward direction (not for ``"reverse"``).
        nonlinearity: Elman's ``"tanh"`` or ``"relu"``.
        encoding: how symbol ids enter the model, ``"onehot"`` or ``"embedding"`` (a learned
            ``nn.Embedding``), or ``None``: the task's own (one-hot for symbols). Symbol tasks
            with a :class:`rnnviz.SequenceModel` only.
        dilations: one dilation per layer (:func:`rnnviz.dilate`), or ``None``.
        optimizer: ``"adam"``, ``"sgd"`` or ``"rmsprop"``. lr: learning rate.
        batch_size: sequences per step (1 to 4096). clip: gradient-norm clipping or ``None``.
        init: W_hh initialisation: ``"default"``, ``"orthogonal"``, ``"identity"`` or
            ``"radius"`` (:func:`rnnviz.init_recurrent`); radius: its spectral radius (required
            for ``"radius"``, the gain of ``"orthogonal"`` / ``"identity"``, ``None`` otherwise).
        forget_bias: the LSTM forget-gate bias (:func:`rnnviz.set_forget_bias`), or ``None``
            for torch's draw. LSTM only.
        tbptt: truncated-BPTT window in steps (``Trainer(tbptt=...)``), or ``None`` (full BPTT).
        views: the dashboard views, any of :data:`rnnviz.live.VIEWS` (the live registry's:
            ``"hidden"``, ``"gates"``, ``"seq2seq"``...), in order. Those that do not apply
            to the model (:attr:`available_views`) are left out by the dashboard, which says
            so; :meth:`replace` with another task or cell keeps those that apply.
        controls: the visible controls, a tuple from :data:`CONTROLS`; ``None``: all.
        seed: seeds the task, the model's weights, the initialisation and the batch stream.

    Raises:
        ValueError / TypeError: a bad value, naming the field and what it must be.

    Example:
        >>> p = Preset(task="temporal_order", knob=40, cell="gru", hidden_size=16)
        >>> str(p)
        'task=temporal_order:40 cell=gru h=16 lr=0.01 seed=0'
        >>> p.replace(cell="lstm").cell
        'lstm'
    """

    task: str = "echo"
    knob: Any = None
    cell: str = "lstm"
    hidden_size: int = 32
    num_layers: int = 1
    bidirectional: bool = False
    nonlinearity: str = "tanh"
    encoding: str | None = None
    dilations: tuple[int, ...] | None = None
    optimizer: str = "adam"
    lr: float = 1e-2
    batch_size: int = 32
    clip: float | None = None
    init: str = "default"
    radius: float | None = None
    forget_bias: float | None = None
    tbptt: int | None = None
    views: tuple[str, ...] = ("hidden", "gates", "grad_flow")
    controls: tuple[str, ...] | None = None
    seed: int = 0

    # ------------------------------------------------------------------ checks
    def __post_init__(self) -> None:
        def put(name: str, value: Any) -> None:
            object.__setattr__(self, name, value)

        # 1. the task and its knob
        if not isinstance(self.task, str):
            raise TypeError(_("task must be a task name (str), got {value}").format(
                value=_validate._describe(self.task)))
        by_key = {_task_key(k): k for k in TASKS}
        name = by_key.get(_task_key(self.task))
        if name is None:
            close = difflib.get_close_matches(self.task.lower(), list(TASKS), n=1)
            message = _("task must be one of {options}, got {value!r}.").format(
                options=list(TASKS), value=self.task)
            if close:
                message += " " + _("Did you mean {close!r}?").format(close=close[0])
            raise ValueError(message)
        spec = TASKS[name]
        put("task", name)
        if spec.knob is None:
            if self.knob is not None:
                raise ValueError(_("knob must be None for task {task!r} (it has no knob), got "
                                   "{value}").format(task=name, value=_validate._describe(self.knob)))
        else:
            knob = spec.default if self.knob is None else self.knob
            kind = type(spec.values[0])  # 2.0 is not the knob value 2: it would print as 2.0
            if isinstance(knob, bool) or not isinstance(knob, kind) or knob not in spec.values:
                raise ValueError(_("knob ({knob} of task {task!r}) must be one of {options}, got "
                                   "{value}").format(knob=spec.knob, task=name,
                                                     options=list(spec.values),
                                                     value=_validate._describe(knob)))
            put("knob", knob)
        # 2. the model
        put("cell", _validate.choice("cell", self.cell, CELLS))
        put("hidden_size", _at_most("hidden_size", self.hidden_size, MAX_HIDDEN))
        put("num_layers", _at_most("num_layers", self.num_layers, MAX_LAYERS))
        put("bidirectional", _validate.flag("bidirectional", self.bidirectional))
        put("nonlinearity", _validate.choice("nonlinearity", self.nonlinearity, ("tanh", "relu")))
        if self.nonlinearity == "relu" and self.cell != "elman":
            raise ValueError(_("nonlinearity='relu' applies to cell='elman' only, got cell={cell!r}")
                             .format(cell=self.cell))
        if spec.seq2seq and self.bidirectional:
            raise ValueError(_("bidirectional must be False for task {task!r} (an encoder-decoder)")
                             .format(task=name))
        if spec.seq2seq and self.nonlinearity != "tanh":
            raise ValueError(_("nonlinearity must be 'tanh' for task {task!r} (an encoder-decoder)")
                             .format(task=name))
        if self.encoding is not None:
            put("encoding", _validate.choice("encoding", self.encoding, ENCODINGS))
            if spec.seq2seq or spec.make(self.knob).input_kind != "symbols":
                raise ValueError(_("encoding={value!r} needs a SequenceModel on a task of symbols, "
                                   "not task {task!r}").format(value=self.encoding, task=name))
        if self.dilations is not None:
            if isinstance(self.dilations, (str, bytes)) or not isinstance(self.dilations,
                                                                          (tuple, list)):
                raise TypeError(_("dilations must be a tuple of positive ints or None, got "
                                  "{value}").format(value=_validate._describe(self.dilations)))
            dil = tuple(_at_most(f"dilations[{i}]", d, 1024) for i, d in enumerate(self.dilations))
            if len(dil) != self.num_layers:
                raise ValueError(_("dilations must have one entry per layer (num_layers = "
                                   "{layers}), got {value}").format(layers=self.num_layers,
                                                                    value=list(dil)))
            if self.bidirectional or spec.seq2seq:
                raise ValueError(_("dilations need a unidirectional SequenceModel: use "
                                   "bidirectional=False and a task other than {task!r}").format(
                                       task="reverse"))
            put("dilations", dil)
        # 3. training
        put("optimizer", _validate.choice("optimizer", self.optimizer, OPTIMIZERS))
        put("lr", _validate.positive_float("lr", self.lr, high=MAX_LR))
        put("batch_size", _at_most("batch_size", self.batch_size, MAX_BATCH))
        put("clip", _validate.positive_float("clip", self.clip, allow_none=True))
        put("init", _validate.choice("init", self.init, INITS))
        if self.init == "radius" and self.radius is None:
            raise ValueError(_("radius is required for init='radius' (e.g. radius=0.9)"))
        if self.init == "default" and self.radius is not None:
            raise ValueError(_("radius must be None for init='default', got {value}").format(
                value=_validate._describe(self.radius)))
        put("radius", _validate.positive_float("radius", self.radius, allow_none=True))
        if self.forget_bias is not None:
            if not math.isfinite(_validate.number(self.forget_bias)):
                raise ValueError(_("forget_bias must be a finite number or None, got {value}")
                                 .format(value=_validate._describe(self.forget_bias)))
            if self.cell != "lstm":
                raise ValueError(_("forget_bias applies to cell='lstm' only, got cell={cell!r}")
                                 .format(cell=self.cell))
            put("forget_bias", float(self.forget_bias))
        if self.tbptt is not None:
            put("tbptt", _at_most("tbptt", self.tbptt, 10**6))
            if self.bidirectional or self.dilations is not None or spec.seq2seq:
                raise ValueError(_("tbptt needs a unidirectional, undilated SequenceModel: use "
                                   "tbptt=None with bidirectional, dilations or task {task!r}")
                                 .format(task="reverse"))
        # 4. what is shown, and the seed
        put("views", _names("views", self.views, views(), allow_none=False))
        put("controls", _names("controls", self.controls, CONTROLS, allow_none=True))
        put("seed", _validate.seed("seed", self.seed))

    # ------------------------------------------------------------------ the string
    @classmethod
    def parse(cls, text: str) -> Preset:
        """The preset of a string such as ``"task=echo:2 cell=lstm h=32 lr=0.01 seed=0"``.

        Items are ``key=value``, separated by spaces, in any order (keys and aliases: see
        :mod:`rnnviz.presets`); missing keys take the defaults of :class:`Preset`.

        Raises:
            ValueError: an item that is not ``key=value``, an unknown or repeated key, or a
                bad value. The message names the item and says what was expected.
            TypeError: ``text`` is not a str.
        """
        if not isinstance(text, str):
            raise TypeError(_("text must be a preset string, got {value}").format(
                value=_validate._describe(text)))
        values: dict[str, Any] = {}
        seen: set[str] = set()
        for item in text.split():
            key, sep, raw = item.partition("=")
            if not sep or not key:
                raise ValueError(_("preset item {item!r} must be key=value, with a key from "
                                   "{keys}").format(item=item, keys=list(_KEYS)))
            key = _ALIASES.get(key.lower(), key.lower())
            if key not in _FIELD_OF_KEY:
                close = difflib.get_close_matches(key, [*_KEYS, *_ALIASES], n=1)
                message = _("unknown preset key {key!r} in {item!r}; known keys: {keys}.").format(
                    key=item.partition("=")[0], item=item, keys=list(_KEYS))
                if close:
                    message += " " + _("Did you mean {close!r}?").format(close=close[0])
                raise ValueError(message)
            if key in seen:
                raise ValueError(_("preset key {key!r} is given twice").format(key=key))
            seen.add(key)
            try:
                values.update(_parse_value(key, raw))
            except (ValueError, TypeError) as err:
                raise ValueError(_("bad preset value {item!r}: {error}").format(
                    item=item, error=err)) from None
        try:
            return cls(**values)
        except (ValueError, TypeError) as err:
            raise ValueError(_("bad preset {text!r}: {error}").format(text=text, error=err)) from None

    def __str__(self) -> str:
        default = _DEFAULT_ITEMS
        items = []
        for key in _KEYS:
            value = self._format(key)
            if key in _ALWAYS or value != default[key]:
                items.append(f"{key}={value}")
        return " ".join(items)

    def _format(self, key: str) -> str:
        if key == "task":
            return self.task if self.knob is None else f"{self.task}:{self.knob}"
        if key == "init":
            if self.radius is None:
                return self.init
            text = repr(self.radius)
            return f"{self.init}:{text[:-2] if text.endswith('.0') else text}"
        value = getattr(self, _FIELD_OF_KEY[key])
        if value is None:
            return "all" if key == "controls" else "none"
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, tuple):
            return ",".join(str(v) for v in value) if value else "none"
        if isinstance(value, float):
            text = repr(value)
            return text[:-2] if text.endswith(".0") else text  # "clip=1", parsed back as 1.0
        return str(value)

    # ------------------------------------------------------------------ building
    def replace(self, **changes: Any) -> Preset:
        """A copy with some fields changed (checked again), e.g. ``p.replace(lr=1e-3)``.

        Changing ``task`` without ``knob`` takes the new task's default knob (and its own
        encoding, unless ``encoding`` is given too); changing ``init`` without ``radius``
        drops the radius (except for ``init="radius"``). If none of :attr:`views` applies to
        the new model (``"seq2seq"`` after an encoder-decoder task, ``"hidden"`` after
        another), it shows the dashboard's default views for it.
        """
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise TypeError(_("replace() got unknown fields {names}; fields: {fields}").format(
                names=sorted(unknown), fields=[f.name for f in dataclasses.fields(self)]))
        if "task" in changes and "knob" not in changes:
            changes["knob"] = None
        if "task" in changes and "encoding" not in changes:
            changes["encoding"] = None  # the new task's own
        if "init" in changes and "radius" not in changes and changes["init"] != "radius":
            changes["radius"] = None
        if changes.get("cell", self.cell) != "lstm" and "forget_bias" not in changes:
            changes["forget_bias"] = None
        if changes.get("cell", self.cell) != "elman" and "nonlinearity" not in changes:
            changes["nonlinearity"] = "tanh"
        new = dataclasses.replace(self, **changes)
        if "views" not in changes and new.views and not set(new.views) & set(new.available_views):
            from rnnviz.live._registry import default_views_of

            new = dataclasses.replace(new, views=default_views_of(new.kind))
        return new

    def needs_rebuild(self, other: Preset) -> bool:
        """Whether going from ``self`` to ``other`` needs a new task, model and trainer (any
        change outside :data:`LIVE_FIELDS`)."""
        return any(getattr(self, f.name) != getattr(other, f.name)
                   for f in dataclasses.fields(self) if f.name not in LIVE_FIELDS)

    @property
    def kind(self) -> str:
        """What the dashboard's views are matched against: ``"seq2seq"`` for an
        encoder-decoder task, else the cell type (``rnnviz.live._registry.kind``)."""
        return view_kind(self.spec, self.cell)

    @property
    def available_views(self) -> tuple[str, ...]:
        """The views of the live registry that apply to this preset's model, in its order."""
        from rnnviz.live._registry import REGISTRY

        return tuple(v for v in views() if self.kind in REGISTRY[v].cells)

    @property
    def spec(self) -> TaskSpec:
        """The :class:`TaskSpec` of :attr:`task`."""
        return TASKS[self.task]

    def make_task(self) -> Any:
        """The task, seeded by :attr:`seed`."""
        return self.spec.make(self.knob, seed=self.seed)

    def make_model(self, task: Any | None = None) -> Any:
        """The model for ``task`` (default: :meth:`make_task`): a :class:`rnnviz.SequenceModel`
        (dilated by :func:`rnnviz.dilate` if :attr:`dilations` is set) or, for ``"reverse"``,
        a :class:`rnnviz.Seq2Seq`; then :attr:`init` and :attr:`forget_bias` are applied."""
        from rnnviz.initialization import init_recurrent, set_forget_bias

        task = self.make_task() if task is None else task
        if self.spec.seq2seq:
            from rnnviz.seq2seq import Seq2Seq

            model: Any = Seq2Seq.from_task(task, cell=self.cell, hidden_size=self.hidden_size,
                                           num_layers=self.num_layers, seed=self.seed)
        else:
            from rnnviz.sequence_model import SequenceModel

            extra = {"nonlinearity": self.nonlinearity} if self.cell == "elman" else {}
            if self.encoding is not None:
                extra["encoding"] = self.encoding
            model = SequenceModel.from_task(task, cell=self.cell, hidden_size=self.hidden_size,
                                            num_layers=self.num_layers,
                                            bidirectional=self.bidirectional, seed=self.seed,
                                            **extra)
            if self.dilations is not None:
                from rnnviz.dilation import dilate

                model = dilate(model, self.dilations)
        if self.init != "default":
            init_recurrent(model, self.init, self.radius, seed=self.seed)
        if self.forget_bias is not None:
            set_forget_bias(model, self.forget_bias)
        return model

    def build(self, **trainer_kwargs: Any) -> Any:
        """Task, model and :class:`rnnviz.Trainer`, all seeded by :attr:`seed`.

        Deterministic: the same preset gives the same weights, the same probe and batches, and
        (for the same number of steps) the same history. The trainer keeps the preset it was
        built from as ``trainer.preset`` (later live changes of ``lr`` / ``clip`` / ``tbptt``
        are the trainer's; ``trainer.reset()`` returns to the preset's initial weights). For
        another seed build ``preset.replace(seed=s)``: ``trainer.reset(seed=s)`` re-draws
        torch's default weights and so drops :attr:`init` and :attr:`forget_bias`.

        Args:
            trainer_kwargs: other :class:`rnnviz.Trainer` arguments, e.g.
                ``snapshot_every=5`` or ``max_snapshots=100`` (not those the preset sets).

        Example:
            >>> t = Preset.parse("task=adding:100 cell=lstm h=8 lr=0.001 forget_bias=3").build()
            >>> t.run(2, progress=False).step
            [1, 2]
        """
        from rnnviz.trainer import Trainer

        own = {"lr", "optimizer", "clip", "batch_size", "seed", "tbptt"} & set(trainer_kwargs)
        if own:
            raise TypeError(_("build() got {names}, which the preset sets; use "
                              "preset.replace(...) instead").format(names=sorted(own)))
        task = self.make_task()
        model = self.make_model(task)
        trainer = Trainer(model, task, lr=self.lr, optimizer=self.optimizer, clip=self.clip,
                          batch_size=self.batch_size, seed=self.seed, tbptt=self.tbptt,
                          **trainer_kwargs)
        trainer.preset = self
        return trainer


def _at_most(name: str, value: Any, high: int) -> int:
    value = _validate.positive_int(name, value)
    if value > high:
        raise ValueError(_("{name} must be at most {high}, got {value}").format(
            name=name, high=high, value=value))
    return value


def _parse_int(raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise ValueError(_("expected an integer, got {value!r}").format(value=raw)) from None


def _parse_float(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(_("expected a number, got {value!r}").format(value=raw)) from None
    if not math.isfinite(value):
        raise ValueError(_("expected a finite number, got {value!r}").format(value=raw))
    return value


def _parse_names(raw: str) -> tuple[str, ...]:
    return () if raw.lower() == "none" else tuple(v for v in raw.split(",") if v)


def _parse_value(key: str, raw: str) -> dict[str, Any]:
    """The :class:`Preset` fields set by one ``key=raw`` item (checked later, by Preset)."""
    low = raw.lower()
    if key == "task":
        name, sep, knob = raw.partition(":")
        if not sep:
            return {"task": name}
        spec = TASKS.get(next((k for k in TASKS if _task_key(k) == _task_key(name)), ""), None)
        if spec is not None and spec.values and isinstance(spec.values[0], str):
            return {"task": name, "knob": knob}
        return {"task": name, "knob": _parse_int(knob)}
    if key == "init":
        scheme, sep, radius = raw.partition(":")
        return {"init": scheme, "radius": _parse_float(radius) if sep else None}
    if key in ("h", "layers", "batch", "seed"):
        return {_FIELD_OF_KEY[key]: _parse_int(raw)}
    if key == "enc":
        return {"encoding": None if low == "none" else raw}
    if key in ("tbptt",):
        return {"tbptt": None if low == "none" else _parse_int(raw)}
    if key == "lr":
        return {"lr": _parse_float(raw)}
    if key in ("clip", "forget_bias"):
        return {key: None if low == "none" else _parse_float(raw)}
    if key == "bi":
        if low not in _YES + _NO:
            raise ValueError(_("expected yes or no, got {value!r}").format(value=raw))
        return {"bidirectional": low in _YES}
    if key == "dilations":
        return {"dilations": None if low == "none" else tuple(
            _parse_int(v) for v in raw.split(","))}
    if key == "views":
        return {"views": _parse_names(raw)}
    if key == "controls":
        return {"controls": None if low == "all" else _parse_names(raw)}
    return {_FIELD_OF_KEY[key]: raw}  # cell, act, opt: names, checked by Preset


_DEFAULT_ITEMS = {key: Preset()._format(key) for key in _KEYS}
