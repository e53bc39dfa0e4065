"""TEMPORARY stand-in for rnnviz.presets (branch wip-presets); deleted after the merge."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import rnnviz
from rnnviz import tasks as T

KNOBS = {"echo": "delay", "temporal_order": "seq_len", "adding": "seq_len", "brackets": "max_depth",
         "parity": "seq_len", "delayed_recall": "lag", "sine": "seq_len"}


@dataclass(frozen=True)
class Preset:
    task: str = "echo"
    knob: Any = None
    cell: str = "lstm"
    hidden_size: int = 32
    num_layers: int = 1
    bidirectional: bool = False
    nonlinearity: str = "tanh"
    optimizer: str = "adam"
    lr: float = 1e-2
    batch_size: int = 32
    clip: float | None = 1.0
    init: str = "default"
    radius: float = 1.0
    forget_bias: float = 0.0
    tbptt: int | None = None
    views: tuple[str, ...] = ("hidden", "gates", "grad_flow")
    controls: tuple[str, ...] | None = None
    seed: int = 0

    @classmethod
    def parse(cls, text: str) -> Preset:
        kw: dict[str, Any] = {}
        names = {f.name: f for f in dataclasses.fields(cls)}
        for item in filter(None, (s.strip() for s in text.split(";"))):
            if "=" not in item:
                raise ValueError(f"preset: {item!r} is not key=value")
            k, v = (s.strip() for s in item.split("=", 1))
            if k not in names:
                raise ValueError(f"preset: unknown key {k!r}")
            default = getattr(cls(), k)
            if v == "none":
                kw[k] = None
            elif k in ("views", "controls"):
                kw[k] = tuple(filter(None, v.split(",")))
            elif v == "none":
                kw[k] = None
            elif isinstance(default, bool):
                kw[k] = v == "true"
            elif isinstance(default, int) or k in ("knob", "tbptt"):
                try:
                    kw[k] = int(v)
                except ValueError:
                    raise ValueError(f"preset: bad value {v!r} for {k!r}") from None
            elif isinstance(default, float) or k == "clip":
                kw[k] = float(v)
            else:
                kw[k] = v
        return cls(**kw)

    def __str__(self) -> str:
        out = []
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if isinstance(v, tuple):
                v = ",".join(v)
            elif v is None:
                v = "none"
            elif isinstance(v, bool):
                v = "true" if v else "false"
            out.append(f"{f.name}={v:g}" if isinstance(v, float) else f"{f.name}={v}")
        return "; ".join(out)

    def build(self) -> Any:
        kw = {KNOBS[self.task]: self.knob} if self.knob is not None and self.task in KNOBS else {}
        task = T.get(self.task, seed=self.seed, **kw)
        extra = {"nonlinearity": self.nonlinearity} if self.cell == "elman" else {}
        model = rnnviz.SequenceModel.from_task(task, cell=self.cell, hidden_size=self.hidden_size,
                                               num_layers=self.num_layers,
                                               bidirectional=self.bidirectional, seed=self.seed, **extra)
        if self.init == "radius":
            rnnviz.set_spectral_radius(model, self.radius)
        return rnnviz.Trainer(model, task, lr=self.lr, optimizer=self.optimizer, clip=self.clip,
                              batch_size=self.batch_size, seed=self.seed)


PRESETS = {"echo": Preset(), "temporal-order-lstm": Preset(task="temporal_order", knob=40)}


def get(name_or_string: str) -> Preset:
    if name_or_string in PRESETS:
        return PRESETS[name_or_string]
    return Preset.parse(name_or_string)


def load(name: str) -> Any:
    trainer = PRESETS[name].build()
    trainer.run(50, progress=False)
    return trainer
