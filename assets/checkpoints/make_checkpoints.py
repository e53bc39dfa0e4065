"""Train named presets and save their checkpoints here (issue #10 §3).

    PYTHONPATH=. python assets/checkpoints/make_checkpoints.py            # all of PLANS
    PYTHONPATH=. python assets/checkpoints/make_checkpoints.py adding     # some

Deterministic: each preset is built by ``rnnviz.presets.PRESETS[name].build()`` (seeded by
the preset), trained for a fixed number of steps on one CPU thread, and saved by
``rnnviz.checkpoints.save_checkpoint``: ``NAME.pt`` (state_dict), ``NAME.json`` (preset,
history, metric on fresh data, when it was first solved), ``NAME.npz`` (weights at a few
steps). See README.md next to this file for the exact command and the numbers.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))  # the repository's rnnviz, also without PYTHONPATH

from rnnviz.checkpoints import EVAL_SEED, fresh_metric, save_checkpoint  # noqa: E402
from rnnviz.presets import PRESETS  # noqa: E402

CHECK_SEED = EVAL_SEED + 1  # the batch seed of the "solved yet?" checks during training


@dataclass(frozen=True)
class Plan:
    """How long to train a preset, and when it counts as solved (on 500 fresh sequences)."""

    steps: int
    solved: str | None  # "mse<0.1*baseline", "accuracy>=0.99" or None (no such test)
    check_every: int = 50
    snapshots: int = 10  # stored weights at 0, steps/snapshots, ..., steps


PLANS: dict[str, Plan] = {
    "adding": Plan(2500, "mse<0.1*baseline"),
    "temporal_order_lstm": Plan(600, "accuracy>=0.99", check_every=10),
    "temporal_order_gru": Plan(600, "accuracy>=0.99", check_every=10),
    "temporal_order_elman": Plan(600, "accuracy>=0.99", check_every=10),
    "echo": Plan(300, "accuracy>=0.99", check_every=10),
    "brackets": Plan(400, "accuracy>=0.99", check_every=10),
    "dilation": Plan(600, "accuracy>=0.99", check_every=10),
    "reverse": Plan(1000, "accuracy>=0.99"),
    "char_lm": Plan(1500, None),  # next-character accuracy: no "solved"
}


def is_solved(plan: Plan, metric: float, baseline: float) -> bool:
    if plan.solved == "mse<0.1*baseline":
        return metric < 0.1 * baseline
    return metric >= 0.99


def make(name: str, directory: Path) -> dict:
    plan = PLANS[name]
    trainer = PRESETS[name].build(snapshot_every=0)
    baseline = trainer.task.baseline().metric
    every = max(1, plan.steps // plan.snapshots)
    snapshots = {0: {k: v.clone() for k, v in trainer.model.state_dict().items()}}
    solved_at = None
    start = time.perf_counter()
    for _step in range(plan.steps):
        result = trainer.step()
        if result.diverged:
            raise RuntimeError(f"{name}: {trainer.message}")
        k = trainer.steps
        if k % every == 0 or k == plan.steps:
            snapshots[k] = {n: v.clone() for n, v in trainer.model.state_dict().items()}
        if plan.solved and solved_at is None and k % plan.check_every == 0:
            if is_solved(plan, fresh_metric(trainer, size=500, seed=CHECK_SEED), baseline):
                solved_at = k
    seconds = time.perf_counter() - start
    extra = {
        "solved": plan.solved,
        "solved_at_step": solved_at,
        "solved_at_sequences": None if solved_at is None else solved_at * trainer.batch_size,
        "check": {"every": plan.check_every, "size": 500, "seed": CHECK_SEED},
        "torch": torch.__version__,
        "command": "PYTHONPATH=. python assets/checkpoints/make_checkpoints.py " + name,
    }
    record = save_checkpoint(trainer, name, snapshots=snapshots, directory=directory, extra=extra)
    print(f"{name}: {plan.steps} steps in {seconds:.0f} s, {record['metric_name']} "
          f"{record['metric']:.4g} (baseline {baseline:.4g}), solved at step {solved_at}",
          flush=True)
    return record


def table(directory: Path) -> str:
    """The README's table of the checkpoints in ``directory``."""
    import json

    rows = []
    for path in sorted(directory.glob("*.json")):
        r = json.loads(path.read_text(encoding="utf-8"))
        solved = "—" if r["solved"] is None else "not solved" if r["solved_at_step"] is None \
            else f"{r['solved_at_step']:,} ({r['solved_at_sequences']:,})"
        rows.append(f"| `{r['name']}` | `{r['preset']}` | {r['steps']:,} ({r['sequences']:,}) | "
                    f"{r['metric_name']} {r['metric']:.4g} | {r['baseline']:.4g} | {solved} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"presets to train (default: all of {list(PLANS)})")
    parser.add_argument("--out", type=Path, default=HERE, help="output folder (default: here)")
    parser.add_argument("--table", action="store_true", help="print the README's table and stop")
    args = parser.parse_args(argv)
    if args.table:
        print(table(args.out))
        return
    torch.set_num_threads(1)  # the same numbers on every run of one machine
    for name in args.names or list(PLANS):
        if name not in PLANS:
            parser.error(f"no plan for {name!r}; plans: {list(PLANS)}")
        make(name, args.out)


if __name__ == "__main__":
    main()
