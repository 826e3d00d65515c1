"""The benchmark's reference points, measured on the same machine as the
engine bench: how long NumPy takes merely to sort the 40 numeric columns
(20 a side, 1M rows each), and how long SciPy takes for only Wasserstein,
energy distance and KS on the 20 numeric column pairs.

Run: python3 crates/core/benches/scipy_floor.py [ROWS]
Needs numpy and scipy (for this comparison only; tidewatch never uses them).
"""
import sys
import time

import numpy as np
from scipy import stats

rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
rng = np.random.default_rng(1)
base = [rng.normal(0, 1, rows) * (c + 1) for c in range(20)]
target = [(rng.normal(0.5 if c < 3 else 0, 1.5 if c == 3 else 1, rows)) * (c + 1) for c in range(20)]

best = float("inf")
for _ in range(3):
    t = time.perf_counter()
    for col in base + target:
        np.sort(col)
    best = min(best, time.perf_counter() - t)
print(f"rows {rows}: numpy sort of 40 columns: {best:.3f} s (best of 3)")

t = time.perf_counter()
for b, x in zip(base, target):
    stats.wasserstein_distance(b, x)
    stats.energy_distance(b, x)
    stats.ks_2samp(b, x)
print(f"rows {rows}: scipy wasserstein + energy + ks_2samp on 20 column pairs: {time.perf_counter() - t:.2f} s")
