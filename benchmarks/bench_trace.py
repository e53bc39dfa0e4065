"""What a snapshot costs: ``rnnviz.trace`` of the probe batch against one fast training step.

The trainer traces its fixed probe batch (``probe_size=4``) every ``snapshot_every`` steps
through the explicit per-step path, with the BPTT adjoints. Reported: median seconds of one
trace and of one fast ``Trainer.step`` (``B=32``, snapshots off), their ratio
``trace / step``, and the resulting overhead of the default ``snapshot_every=10``:
``ratio / 10`` extra time per step (goal: <= 0.5, i.e. snapshots add at most half again).
"""

from __future__ import annotations

from typing import Any

from benchmarks._timing import interleaved
from rnnviz import tasks
from rnnviz.sequence_model import SequenceModel
from rnnviz.tracing import trace
from rnnviz.trainer import Trainer

SNAPSHOT_EVERY = 10
GOAL = 0.5


def run(*, hidden_size: int = 32, batch_size: int = 32, probe_size: int = 4, reps: int = 15,
        block: int = 5, quick: bool = False) -> list[dict[str, Any]]:
    if quick:
        reps, block = 3, 2
    rows = []
    for cell in ("lstm", "gru", "elman"):
        task = tasks.Echo(delay=2, seq_len=20, seed=0)
        model = SequenceModel.from_task(task, cell=cell, hidden_size=hidden_size, seed=0)
        trainer = Trainer(model, task, lr=1e-3, batch_size=batch_size, snapshot_every=0,
                          probe_size=probe_size)
        x, y, lengths = trainer.probe

        def snapshot(x=x, y=y, lengths=lengths, model=model) -> None:
            trace(model, x, y, lengths=lengths)

        t = interleaved({"trace": snapshot, "step": trainer.step}, reps=reps, block=block)
        ratio = t["trace"] / t["step"]
        rows.append({
            "benchmark": f"trace (probe B={probe_size}) vs train step (B={batch_size}), "
                         f"{cell.upper()} H={hidden_size} T={task.seq_len}",
            "times_ms": {"trace": 1e3 * t["trace"], "step": 1e3 * t["step"]},
            "ratio": ratio,
            "ratio_name": "trace / step",
            "goal": f"/ {SNAPSHOT_EVERY} <= {GOAL}",
            "ok": ratio / SNAPSHOT_EVERY <= GOAL,
        })
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
