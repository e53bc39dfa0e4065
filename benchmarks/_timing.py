"""Interleaved timing: alternate the contenders block by block and report medians."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

# Wall time by default; ``run.py --clock cpu`` switches to the main thread's CPU time, which a
# loaded machine disturbs far less (meaningful with ``--threads 1``: all work on this thread).
CLOCKS: dict[str, Callable[[], float]] = {"wall": time.perf_counter, "cpu": time.thread_time}
clock: Callable[[], float] = time.perf_counter


def interleaved(
    contenders: dict[str, Callable[[], object]], *, reps: int, block: int, warmup: int = 3
) -> dict[str, float]:
    """Median seconds per call of each contender.

    Each repetition times ``block`` calls of every contender in turn; the order is reversed
    on every other repetition so that neither side always runs first (caches, turbo, load).
    """
    names = list(contenders)
    for name in names:
        for _ in range(warmup):
            contenders[name]()
    times: dict[str, list[float]] = {name: [] for name in names}
    for rep in range(reps):
        for name in names if rep % 2 == 0 else reversed(names):
            fn = contenders[name]
            start = clock()
            for _ in range(block):
                fn()
            times[name].append((clock() - start) / block)
    return {name: statistics.median(values) for name, values in times.items()}
