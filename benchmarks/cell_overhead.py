"""What a worker pays per cell before the cell starts: the garbage collection that makes
the cell's peak-memory baseline honest (``recframe.memory``).

    python benchmarks/cell_overhead.py [repeats]

Each repeat is a fresh process that imports what a worker imports (``recframe.pool.PRELOAD``:
pandas, scikit-learn, Surprise, implicit, Optuna...), then times 50 cell starts
(``PeakMemory.start()``) as a worker did before (a full collection walking every object
of those libraries) and as it does now (survivors frozen once, ``collect_only_new_objects``),
each after a cell's worth of garbage. Prints the median over the repeats of each, and the
ratio. No data needed.
"""

from __future__ import annotations

import statistics
import subprocess
import sys

PROBE = """
import importlib, time
from recframe.memory import PeakMemory, collect_only_new_objects
from recframe.pool import PRELOAD

for module in PRELOAD:
    importlib.import_module(module)
if {frozen}:
    collect_only_new_objects()

def cell_garbage():
    nodes = [dict(i=i) for i in range(2000)]
    for a, b in zip(nodes, nodes[1:]):
        a["next"], b["previous"] = b, a  # cycles: only a collection frees them

times = []
for _ in range(50):
    cell_garbage()
    start = time.perf_counter()
    PeakMemory.start().stop()
    times.append(time.perf_counter() - start)
print(sorted(times)[len(times) // 2])
"""


def per_cell_seconds(frozen: bool) -> float:
    done = subprocess.run([sys.executable, "-c", PROBE.format(frozen=frozen)], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    return float(done.stdout)


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    full, frozen = [], []
    for _ in range(repeats):  # interleaved: the machine's load falls on both alike
        full.append(per_cell_seconds(False))
        frozen.append(per_cell_seconds(True))
    before, after = statistics.median(full), statistics.median(frozen)
    print(f"per cell start, median of {repeats} processes x 50 cells:")
    print(f"  full collection (before): {before * 1000:.1f} ms")
    print(f"  survivors frozen (now):   {after * 1000:.2f} ms")
    print(f"  ratio: {before / after:.0f}x")


if __name__ == "__main__":
    main()
