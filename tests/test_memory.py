"""Peak memory per cell: what the cell added to the process's resident memory at its peak,
even when an earlier cell in the same process freed as much before it."""

import subprocess
import sys
import textwrap

import pandas as pd
import pytest

from recframe.cli import main

HUNGRY = textwrap.dedent(
    """
    import numpy as np
    import recframe


    class Hungry(recframe.Model):
        # holds a 200 MB array while fitting

        capabilities = frozenset({"rating"})
        personalized = False

        def fit(self, train):
            block = np.ones(25 * 2**20)
            self.mean_ = float(train.values.mean()) + 0 * float(block[-1])
            return self

        def predict(self, users, items):
            return np.full(len(users), self.mean_)


    @recframe.hookimpl
    def recframe_register_models(register):
        register("hungry", Hungry)
    """
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="peak memory is measured on Linux only")
def test_each_cell_reports_what_it_allocated(tmp_path, write_yaml, small_config):
    (tmp_path / "hungry.py").write_text(HUNGRY)
    small_config.update(
        plugins=["hungry.py"], models=["hungry"], metrics=["rmse"], selection="none", execution={"jobs": 1}
    )
    small_config["split"]["params"]["n_folds"] = 4
    results = tmp_path / "results"
    assert main(["run", str(write_yaml(small_config)), "--quiet", "--results-dir", str(results)]) == 0
    peaks = pd.read_csv(results / "small" / "cells.csv")["peak_memory_mb"]
    assert len(peaks) == 4 and (peaks >= 150).all() and (peaks < 400).all(), peaks.tolist()


# glibc told to serve blocks up to 64 MB from its heap and never to trim it on free: what
# it does by itself once large blocks were freed (its thresholds adapt), here for certain
HEAP_REUSE = """
import ctypes, numpy as np
from recframe.memory import PeakMemory
libc = ctypes.CDLL(None)
libc.mallopt(-3, 64 * 2**20)  # M_MMAP_THRESHOLD
libc.mallopt(-1, 2**30)  # M_TRIM_THRESHOLD
peaks = []
for _ in range(3):
    meter = PeakMemory.start()
    blocks = [np.ones(2**20) for _ in range(25)]  # 200 MB in 8 MB blocks
    del blocks
    peaks.append(meter.stop())
print(*peaks)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="peak memory is measured on Linux only")
def test_memory_freed_by_an_earlier_cell_does_not_hide_the_next_ones():
    done = subprocess.run([sys.executable, "-c", HEAP_REUSE], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    peaks = [float(value) for value in done.stdout.split()]
    assert len(peaks) == 3 and all(150 <= peak < 400 for peak in peaks), peaks


FROZEN = textwrap.dedent(
    """
    import gc
    import weakref

    import sklearn.decomposition  # a worker's libraries: objects a full collection walks every time
    from recframe.memory import PeakMemory, collect_only_new_objects

    class Node:
        pass

    imported = len(gc.get_objects())
    collect_only_new_objects()
    print(gc.get_freeze_count() > imported // 2)  # what survived the collection
    freed = []
    for cell in range(3):
        node = Node()
        node.self = node  # cyclic garbage a cell leaves behind: only a collection frees it
        weakref.finalize(node, freed.append, cell)
        del node
        PeakMemory.start().stop()
        print(len(freed) == cell + 1, len(gc.get_objects()) < imported // 10)
    """
)


def test_a_worker_collects_each_cells_garbage_without_walking_its_libraries_again():
    """Before each cell a worker collects garbage (so that the memory baseline is honest);
    walking every object of scikit-learn, pandas, Optuna... each time cost 0.13 s per cell,
    30x a small cell's work. Frozen once imported, only what cells left behind is walked,
    and their cyclic garbage is still freed."""
    done = subprocess.run([sys.executable, "-c", FROZEN], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True"] * 7
