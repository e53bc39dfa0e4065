"""Trained checkpoints of named presets (issue #10 §3): save and load, never pickled objects.

A checkpoint ``NAME`` is three files in ``assets/checkpoints/``:

- ``NAME.pt``: the model's ``state_dict`` (a plain dict of tensors, saved with ``torch.save``
  and loaded with ``torch.load(weights_only=True)``);
- ``NAME.json``: the preset string, the number of steps, the recorded history (step, loss,
  metric, grad_norm), the metric measured on fresh probe data after training, and how it was
  measured;
- ``NAME.npz``: a handful of probe snapshots (the model's ``state_dict`` at a few steps, as
  float32 arrays named ``"<step>/<parameter>"``), so the dashboard can scrub through training.

Snapshots are stored as weights, not traces: :func:`load_checkpoint` re-traces the trainer's
probe batch with them (the same numbers a live run records, in far fewer bytes).
``assets/checkpoints/make_checkpoints.py`` writes them; ``rnnviz.presets.load(name)`` reads.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rnnviz import _validate
from rnnviz.evaluation import evaluate
from rnnviz.i18n import _

__all__ = ["checkpoint_dir", "available", "save_checkpoint", "load_checkpoint", "fresh_metric"]

FORMAT = 1
EVAL_SEED = 10**9 + 7  # batch seed of the fresh probe data (the training batches use 1, 2, ...)


def checkpoint_dir() -> Path:
    """``assets/checkpoints`` of the data folder (``$RNNVIZ_ASSETS`` if set, else the repo's)."""
    from rnnviz.tasks._base import assets_dir

    return assets_dir() / "checkpoints"


def _dir(directory: Path | str | None) -> Path:
    return checkpoint_dir() if directory is None else Path(directory)


def available(directory: Path | None = None) -> list[str]:
    """Names of the named presets that ship a checkpoint, sorted."""
    try:
        directory = _dir(directory)
    except FileNotFoundError:
        return []
    if not directory.is_dir():
        return []
    return sorted(p.stem for p in directory.glob("*.json")
                  if (p.with_suffix(".pt")).exists())


def fresh_metric(trainer: Any, size: int = 1000, seed: int = EVAL_SEED) -> float:
    """The task's metric of ``trainer.model`` on ``size`` fresh sequences (batch seed ``seed``,
    never drawn in training): :func:`rnnviz.evaluate`."""
    return evaluate(trainer.model, trainer.task, batch_size=size, seed=seed)


def save_checkpoint(trainer: Any, name: str, *, snapshots: dict[int, dict[str, torch.Tensor]],
                    directory: Path | None = None, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Write ``name``'s three files for a trained ``trainer`` (built from a preset).

    Args:
        trainer: a trained :class:`rnnviz.Trainer` with a ``.preset``.
        name: the file stem (a key of ``rnnviz.presets.PRESETS``).
        snapshots: ``{step: state_dict}`` copies of the weights taken during training.
        directory: where to write (default: ``assets/checkpoints``).
        extra: more JSON-able facts to record (e.g. how many sequences it took).

    Returns:
        The JSON record that was written.
    """
    directory = _dir(directory)
    directory.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().clone().contiguous() for k, v in trainer.model.state_dict().items()}
    torch.save(state, directory / f"{name}.pt")
    arrays = {f"{step}/{k}": v.detach().cpu().numpy().astype(np.float32)
              for step, sd in snapshots.items() for k, v in sd.items()}
    np.savez_compressed(directory / f"{name}.npz", **arrays)
    h = trainer.history

    def short(values: list[float]) -> list[float]:  # 9 digits keep every float32 exactly
        return [float(f"{v:.9g}") for v in values]

    record = {
        "format": FORMAT,
        "name": name,
        "preset": str(trainer.preset),
        "steps": trainer.steps,
        "sequences": trainer.steps * trainer.batch_size,
        "metric_name": trainer.task.metric_name,
        "metric": fresh_metric(trainer),
        "eval": {"size": 1000, "seed": EVAL_SEED},
        "baseline": trainer.task.baseline().metric,
        "snapshot_steps": sorted(snapshots),
        **(extra or {}),
        "history": {"step": list(h.step), "loss": short(h.loss), "metric": short(h.metric),
                    "grad_norm": short(h.grad_norm)},
    }
    # readable, except the long history lists (one line each)
    text = json.dumps({**record, "history": "HISTORY"}, indent=1, allow_nan=True).replace(
        '"HISTORY"', json.dumps(record["history"], separators=(",", ":"), allow_nan=True))
    (directory / f"{name}.json").write_text(text + "\n", encoding="utf-8")
    return record


def read_record(name: str, directory: Path | None = None) -> dict[str, Any]:
    """The JSON record of checkpoint ``name``."""
    names = available(directory)
    if not isinstance(name, str) or name not in names:
        raise ValueError(_("name must be a named preset with a checkpoint, one of {names}, got "
                           "{value}").format(names=names, value=_validate._describe(name)))
    return json.loads((_dir(directory) / f"{name}.json").read_text(encoding="utf-8"))


def load_checkpoint(name: str, directory: Path | None = None) -> Any:
    """The :class:`rnnviz.Trainer` of checkpoint ``name``: trained weights, history, snapshots.

    The trainer is built from the recorded preset (``record["preset"]``), so its task, probe
    and batch stream are the preset's; its weights are the checkpoint's, its history the
    recorded one, and its step counter continues from the recorded number of steps (the next
    batch is the one training would have drawn next). Its :attr:`~rnnviz.Trainer.snapshots`
    are traces of the probe with the stored weights of each snapshot step, plus the final
    weights. ``trainer.checkpoint`` holds the JSON record. Adam's moments are not stored:
    the optimizer starts fresh. ``trainer.reset()`` goes back to the untrained weights.

    Raises:
        ValueError: no checkpoint called ``name``.
    """
    from rnnviz.presets import Preset
    from rnnviz.tracing import trace
    from rnnviz.trainer import Snapshot

    record = read_record(name, directory)
    directory = _dir(directory)
    preset = Preset.parse(record["preset"])
    trainer = preset.build()
    model = trainer.model
    final = torch.load(directory / f"{name}.pt", weights_only=True)
    with np.load(directory / f"{name}.npz", allow_pickle=False) as arrays:
        stored: dict[int, dict[str, torch.Tensor]] = {}
        for key in arrays.files:
            step, _sep, param = key.partition("/")
            stored.setdefault(int(step), {})[param] = torch.from_numpy(arrays[key].copy())
    trainer.snapshots.clear()
    x, y, lengths = trainer.probe
    for step in sorted(stored):
        model.load_state_dict(stored[step])
        trainer.snapshots.append(Snapshot(step, trace(model, x, y, lengths=lengths,
                                                      loss_fn=trainer.loss_fn)))
    model.load_state_dict(final)
    steps = int(record["steps"])
    if not trainer.snapshots or trainer.snapshots[-1].step != steps:
        trainer.snapshots.append(Snapshot(steps, trace(model, x, y, lengths=lengths,
                                                       loss_fn=trainer.loss_fn)))
    h = record["history"]
    for values in zip(h["step"], h["loss"], h["metric"], h["grad_norm"], strict=True):
        trainer.history._append(*values)
    trainer._step = steps
    trainer._backup_valid = False
    trainer.checkpoint = record
    return trainer
