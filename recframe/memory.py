"""Peak resident memory of one cell, from the kernel's own high-water mark.

On Linux the process's peak resident set size (``VmHWM`` in ``/proc/self/status``)
can be reset by writing ``5`` to ``/proc/self/clear_refs``. Resetting it when a cell
starts and reading it when the cell ends gives the cell's true peak, including memory
that numpy, numba and C++ extensions allocate outside Python's allocator, at no cost
while the cell runs. The value reported is that peak minus the resident memory at the
start: how much the cell (fit and evaluation) added on top of what the process already
held. Before that resident memory is read, memory freed by earlier cells is handed back
to the kernel (``malloc_trim``): otherwise a cell reusing it reads 0, as most ML-100K
cells did. Side effect: the process's ``ru_maxrss`` restarts from the cell's peak too.

Elsewhere (macOS, Windows, a kernel that forbids the reset) the result is NaN: the
leaderboard shows n/a rather than a number that measures something else. Cells running
concurrently in one process would share the mark; recframe runs cells one at a time.
"""

from __future__ import annotations

import ctypes
import functools
import gc
import math
import re
from collections.abc import Callable
from pathlib import Path

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


def _status_kib(field: str) -> int | None:
    try:
        match = re.search(rf"^{field}:\s+(\d+) kB", _STATUS.read_text(), flags=re.M)
    except OSError:
        return None
    return int(match.group(1)) if match else None


def _release_free_memory() -> None:
    """Hand the memory freed by earlier cells back to the kernel before a baseline is taken.

    glibc's malloc keeps freed heap pages resident (and, having freed a large block, serves
    blocks of up to 32 MB from that heap rather than fresh mappings): a cell reusing them
    would add nothing to the resident size, and read 0 MiB however much it allocated.
    ``malloc_trim(0)`` returns every free page; elsewhere (not glibc) this does nothing.

    In a worker (:func:`collect_only_new_objects`) every object that survives the collection
    is then frozen: the next cell's collection walks only what was made since. A full
    collection over the libraries a worker imports took 0.13 s, 30x a small cell's work."""
    gc.collect()
    if _FREEZE_SURVIVORS[0]:
        gc.freeze()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


_FREEZE_SURVIVORS = [False]


def collect_only_new_objects(every_cell: bool = True) -> None:
    """For a worker, once its imports are done: freeze what survives a collection now
    (``gc.freeze``) and, with ``every_cell``, before each cell too, so that cyclic garbage
    is still freed but long-lived objects are not walked again. Not in a notebook's or
    caller's process, whose frozen cyclic garbage would never be freed; and only once in a
    Dask worker, whose scheduler traffic between cells would be frozen with the rest."""
    gc.collect()
    gc.freeze()
    _FREEZE_SURVIVORS[0] = every_cell


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        return ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None


class PeakMemory:
    """``meter = PeakMemory.start(); ...; meter.stop()`` -> MiB added at the peak, or NaN."""

    def __init__(self, baseline_kib: int | None) -> None:
        self._baseline_kib = baseline_kib

    @classmethod
    def start(cls) -> PeakMemory:
        _release_free_memory()
        baseline = _status_kib("VmRSS")
        try:
            _CLEAR_REFS.write_text("5")
        except OSError:
            baseline = None
        return cls(baseline)

    def stop(self) -> float:
        peak = _status_kib("VmHWM")
        if self._baseline_kib is None or peak is None:
            return math.nan
        return max(0, peak - self._baseline_kib) / 1024


MEMORY_FALLBACK = 8 * 2**30  # bytes assumed available where the kernel does not say


def available_memory() -> int:
    """Bytes of memory available to a new allocation: the kernel's MemAvailable estimate,
    or MEMORY_FALLBACK where /proc/meminfo cannot be read (not Linux)."""
    try:
        found = re.search(r"^MemAvailable:\s+(\d+) kB", Path("/proc/meminfo").read_text(), flags=re.M)
    except OSError:
        found = None
    return int(found.group(1)) * 1024 if found else MEMORY_FALLBACK
