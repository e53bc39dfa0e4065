"""How long each lesson takes to execute headless (kernel start and imports included).

Usage: ``.venv/bin/python -m benchmarks.bench_lessons`` — prints a markdown table against the
20 s budget. Each lesson (both editions) runs once in a fresh kernel, exactly as nbval runs it
in ``make test`` (solutions included).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from tests.strip_notebooks import execute

ROOT = Path(__file__).resolve().parents[1]
BUDGET_S = 20.0


def run() -> list[tuple[str, float]]:
    rows = []
    lessons = ROOT / "lessons"
    paths = sorted(lessons.glob("[0-9][0-9]_*.ipynb")) + sorted(lessons.glob("ru/[0-9][0-9]_*.ipynb"))
    for path in paths:  # the English edition, then the Russian one
        nb = json.loads(path.read_text(encoding="utf-8"))
        start = time.perf_counter()
        execute(nb, path.parent)
        rows.append((str(path.relative_to(lessons)), time.perf_counter() - start))
    return rows


def main() -> None:
    threads = os.environ.get("OMP_NUM_THREADS", "default")
    print(f"OMP_NUM_THREADS={threads}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    print()
    print("| lesson | seconds (wall) | budget | ok |")
    print("|---|---:|---:|---|")
    for name, seconds in run():
        ok = "yes" if seconds < BUDGET_S else "NO"
        print(f"| {name} | {seconds:.1f} | {BUDGET_S:.0f} | {ok} |")


if __name__ == "__main__":
    main()
