"""``rnnviz.connectivity`` against the naive autograd loop that computes the same numbers.

Both give ``||dh_t/dx_s||_F`` for every pair of steps of a batch. The naive loop is what one
writes first: for each output step ``t``, ``torch.autograd.functional.jacobian`` of ``h_t``
w.r.t. the encoded input, through torch's fused kernel (one forward and ``H`` backward
passes per step: ``T`` jacobian calls, ``T * H`` backward passes). ``rnnviz.connectivity``
runs one forward pass and pushes forward-mode tangents through the linearised cells by hand
(``rnnviz/sensitivity.py``). Reported: median seconds of each and the ratio
``naive / rnnviz`` (goal: >= 5, i.e. at least five times faster). For the LSTM also
against the vectorised Jacobian: one ``jacobian(..., vectorize=True)`` call for all ``h_t``
(vmap over the ``T * H`` backward passes). The results are checked to agree before timing.
"""

from __future__ import annotations

from typing import Any

import torch

from benchmarks._timing import interleaved
from rnnviz import tasks
from rnnviz.sensitivity import connectivity
from rnnviz.sequence_model import SequenceModel

GOAL = 5.0


def naive(core: Any, enc: torch.Tensor) -> torch.Tensor:
    """T autograd jacobians, one per output step, of the top layer's forward h_t."""
    B, T, _ = enc.shape
    H = core.hidden_size
    out = torch.zeros(B, T, T, dtype=enc.dtype)
    rows = torch.arange(B)
    for t in range(T):
        J = torch.autograd.functional.jacobian(lambda e, t=t: core(e)[0][:, t, :H], enc)
        J = J[rows, :, rows]  # (B, H, T, I): each sample's own inputs
        out[:, t] = J.pow(2).sum(dim=(1, 3)).sqrt()
    return out  # (B, T, T)


def vectorised(core: Any, enc: torch.Tensor) -> torch.Tensor:
    """One vmapped autograd jacobian of every h_t of the top layer's forward direction."""
    B, _, _ = enc.shape
    H = core.hidden_size
    J = torch.autograd.functional.jacobian(lambda e: core(e)[0][..., :H], enc, vectorize=True)
    rows = torch.arange(B)
    return J[rows, :, :, rows].pow(2).sum(dim=(2, 4)).sqrt()  # (B, T, T)


def run(*, hidden_size: int = 32, batch_size: int = 4, seq_len: int = 32, reps: int = 5,
        block: int = 1, quick: bool = False) -> list[dict[str, Any]]:
    if quick:
        reps, seq_len = 1, 12
    rows = []
    task = tasks.CharText(seq_len=seq_len, seed=0)
    x = task.batch(batch_size, seed=0).x
    for cell in ("lstm", "gru", "elman"):
        model = SequenceModel.from_task(task, cell=cell, hidden_size=hidden_size, seed=0)
        model.eval()
        core = model.core
        with torch.no_grad():
            enc = model.encode(x)  # (B, T, V) one-hot

        def ours(model=model) -> None:
            connectivity(model, x)

        def theirs(core=core, enc=enc) -> None:
            naive(core, enc)

        torch.testing.assert_close(connectivity(model, x), naive(core, enc), rtol=1e-4,
                                   atol=1e-6)
        t = interleaved({"rnnviz": ours, "naive": theirs}, reps=reps, block=block, warmup=1)
        ratio = t["naive"] / t["rnnviz"]
        rows.append({
            "benchmark": f"connectivity, {cell.upper()} H={hidden_size} B={batch_size} "
                         f"T={seq_len} I={enc.shape[-1]} (char text)",
            "times_ms": {"rnnviz": 1e3 * t["rnnviz"], "naive": 1e3 * t["naive"]},
            "ratio": ratio,
            "ratio_name": "naive / rnnviz",
            "goal": f">= {GOAL:g}",
            "ok": ratio >= GOAL,
        })
        if cell != "lstm":
            continue

        def vmapped(core=core, enc=enc) -> None:
            vectorised(core, enc)

        torch.testing.assert_close(connectivity(model, x), vectorised(core, enc), rtol=1e-4,
                                   atol=1e-6)
        t = interleaved({"rnnviz": ours, "vectorised": vmapped}, reps=max(1, reps - 2),
                        block=block, warmup=1)
        ratio = t["vectorised"] / t["rnnviz"]
        rows.append({
            "benchmark": f"connectivity vs one vectorised jacobian, {cell.upper()} "
                         f"H={hidden_size} B={batch_size} T={seq_len}",
            "times_ms": {"rnnviz": 1e3 * t["rnnviz"], "vectorised": 1e3 * t["vectorised"]},
            "ratio": ratio,
            "ratio_name": "vectorised / rnnviz",
            "goal": f">= {GOAL:g}",
            "ok": ratio >= GOAL,
        })
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
