"""One training step: rnnviz's ``Trainer.step`` (fast path) against a plain torch.nn loop.

Both sides train the same architecture from the same initial weights on the same task, batch
size and batch stream (``task.batch(B, seed=...)``), with Adam. The plain loop is the
textbook step: one-hot, ``nn.LSTM``/``nn.GRU``/``nn.RNN``, ``nn.Linear``, cross entropy,
``zero_grad``, ``backward``, ``step``, ``loss.item()``. rnnviz's step also measures the
metric and gradient norm, keeps a copy of the weights for divergence recovery and checks
every value for NaN/inf (snapshots off: ``snapshot_every=0``; see ``bench_trace``).

Reported: median seconds per step of each, and ``speed = torch_time / rnnviz_time``
(goal >= 0.9: rnnviz at most ~10% slower than plain torch).
"""

from __future__ import annotations

import copy
from typing import Any

import torch
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from benchmarks._timing import interleaved
from rnnviz import tasks
from rnnviz.sequence_model import SequenceModel
from rnnviz.trainer import Trainer

GOAL = 0.9
CASES: list[dict[str, Any]] = [
    {"cell": "lstm", "task": lambda: tasks.Echo(delay=2, seq_len=20, seed=0)},
    {"cell": "gru", "task": lambda: tasks.Echo(delay=2, seq_len=20, seed=0)},
    {"cell": "elman", "task": lambda: tasks.Echo(delay=2, seq_len=20, seed=0)},
    {"cell": "lstm", "task": lambda: tasks.Parity(seq_len=20, variable_length=True, seed=0)},
]


class PlainTorch:
    """The same model and step written with torch.nn only."""

    def __init__(self, model: SequenceModel, task: Any, batch_size: int, lr: float) -> None:
        self.core = model.core.to_torch()  # nn.LSTM / nn.GRU / nn.RNN, same weights
        self.linear = copy.deepcopy(model.linear)
        self.vocab = model.input_size
        self.task, self.batch_size = task, batch_size
        params = [*self.core.parameters(), *self.linear.parameters()]
        self.optimizer = torch.optim.Adam(params, lr=lr)
        self.k = 0

    def step(self) -> float:
        self.k += 1
        x, y, lengths = self.task.batch(self.batch_size, seed=self.k)
        e = F.one_hot(x, self.vocab).float()  # (B, T, V)
        if lengths is None:
            out, _ = self.core(e)  # (B, T, H)
        else:
            packed = pack_padded_sequence(e, lengths, batch_first=True, enforce_sorted=False)
            out, _ = self.core(packed)
            out, _ = pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
        logits = self.linear(out)  # (B, T, O)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1),
                               ignore_index=-100)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return loss.item()


def run(*, hidden_size: int = 32, batch_size: int = 32, reps: int = 30, block: int = 10,
        quick: bool = False) -> list[dict[str, Any]]:
    if quick:
        reps, block = 3, 3
    rows = []
    for case in CASES:
        task = case["task"]()
        model = SequenceModel.from_task(task, cell=case["cell"], hidden_size=hidden_size, seed=0)
        plain = PlainTorch(model, task, batch_size, lr=1e-3)
        trainer = Trainer(model, task, lr=1e-3, batch_size=batch_size, snapshot_every=0)
        # warm-up: Adam state, allocator caches and the first (checked) step on both sides
        t = interleaved({"rnnviz": trainer.step, "torch": plain.step}, reps=reps, block=block,
                        warmup=3 if quick else 20)
        variable = " (variable lengths)" if task.batch(1, seed=0).lengths is not None else ""
        rows.append({
            "benchmark": f"train step, {case['cell'].upper()} H={hidden_size} B={batch_size} "
                         f"T={task.seq_len}, {task.name}{variable}",
            "times_ms": {"rnnviz": 1e3 * t["rnnviz"], "torch": 1e3 * t["torch"]},
            "ratio": t["torch"] / t["rnnviz"],
            "ratio_name": "torch / rnnviz",
            "goal": f">= {GOAL}",
            "ok": t["torch"] / t["rnnviz"] >= GOAL,
        })
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
