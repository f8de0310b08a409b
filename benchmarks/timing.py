"""Timing shared by the benchmarks: paired, interleaved runs, so a noisy neighbour on a shared
machine slows both sides of a ratio alike."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def paired_median_us(
    ours: Callable[[], object], baseline: Callable[[], object], *, iterations: int, repeats: int = 9
) -> tuple[float, float]:
    """Median over ``repeats`` of the mean cost of one call, in µs, for both; runs alternate."""
    runs: dict[Callable[[], object], list[float]] = {ours: [], baseline: []}
    for _ in range(repeats):
        for fn, samples in runs.items():
            start = time.perf_counter()
            for _ in range(iterations):
                fn()
            samples.append((time.perf_counter() - start) / iterations * 1e6)
    return statistics.median(runs[ours]), statistics.median(runs[baseline])
