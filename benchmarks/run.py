"""Run every benchmark and print one markdown table: ``python -m benchmarks.run [--quick]``."""

from __future__ import annotations

import argparse
import platform

import torch

from benchmarks import _timing, bench_connectivity, bench_trace, bench_train


def table(rows: list[dict]) -> str:
    lines = [
        "| benchmark | median ms per call | ratio | value | goal | ok |",
        "|---|---|---|---:|---|---|",
    ]
    for r in rows:
        times = ", ".join(f"{name} {ms:.2f}" for name, ms in r["times_ms"].items())
        ok = "yes" if r["ok"] else "NO"
        lines.append(
            f"| {r['benchmark']} | {times} | {r['ratio_name']} | {r['ratio']:.2f} "
            f"| {r['goal']} | {ok} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="few repetitions (smoke test)")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads(N)")
    parser.add_argument("--clock", choices=list(_timing.CLOCKS), default="wall",
                        help="wall time, or the main thread's CPU time (use with --threads 1)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    _timing.clock = _timing.CLOCKS[args.clock]
    rows = [*bench_train.run(quick=args.quick), *bench_trace.run(quick=args.quick),
            *bench_connectivity.run(quick=args.quick)]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {args.clock} clock, "
          f"{platform.processor() or platform.machine()}, Python {platform.python_version()}")
    print()
    print(table(rows))


if __name__ == "__main__":
    main()
