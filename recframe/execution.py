"""Run one cell anywhere: the same :func:`execute_cell` in every backend, under the
same thread budget, so a cell's numbers never depend on where or beside what it ran.

The thread budget is ``execution.threads`` (default 1), applied to BLAS, OpenMP and
numba in every process that runs cells. It is fixed by the config, not derived from
``jobs`` or the machine's cores: a BLAS product split over more threads sums in
another order and gives other last bits, so a budget that followed ``jobs`` would
make ``--jobs 2`` disagree with ``--jobs 1``. ``jobs`` only says how many cells run
at once (by default as many as fill the cores).
"""

from __future__ import annotations

import os
import signal
import threading
import traceback
from dataclasses import dataclass
from types import FrameType
from typing import TYPE_CHECKING, Any, Protocol

import pandas as pd

from recframe import interrupts
from recframe.errors import clip
from recframe.limits import MAX_REASON

if TYPE_CHECKING:
    from recframe.cells import Cell
    from recframe.config import ExperimentConfig
    from recframe.data import Split


#: the data cells run on, by (stage, fold): ("test", f) is fold f; ("validation", f) is
#: fold f's training data split into a training and a validation part
Folds = dict[tuple[str, int], "Split"]


class CellSource(Protocol):
    """What a backend runs: the next runnable cell, or None when there is none right now
    (a source may have more once it hears how the cells in flight ended)."""

    def take(self) -> Cell | None: ...


class Queue:
    """A fixed list of cells as a source, in order."""

    def __init__(self, cells: list[Cell]) -> None:
        self.cells = list(cells)

    def take(self) -> Cell | None:
        return self.cells.pop(0) if self.cells else None


class CellTimeout(Exception):
    """The cell ran longer than ``execution.timeout_s``."""


@dataclass
class CellOutcome:
    """What one cell produced: result rows and per-user values, or the error that stopped it."""

    cell: Cell
    rows: list[dict[str, Any]]
    per_user: pd.DataFrame | None
    error: str | None = None
    traceback: str = ""
    cached: bool = False


def _alarm(signum: int, frame: FrameType | None) -> None:
    raise CellTimeout


def execute_cell(config: ExperimentConfig, cell: Cell, split: Split, timeout_s: float | None) -> CellOutcome:
    """Run one cell, turning whatever the model's code raises into a failed outcome:
    exceptions, ``SystemExit`` and a ``KeyboardInterrupt`` that is not the user's.

    The time limit is a SIGALRM in the thread running the cell (the main thread of a
    local worker); it interrupts Python code, so a compiled routine (one BLAS call, one
    numba epoch) finishes before the cell stops.
    """
    from recframe.cells import failed_rows, run_cell

    use_alarm = timeout_s is not None and hasattr(signal, "setitimer") and _in_main_thread()
    if use_alarm:
        previous = signal.signal(signal.SIGALRM, _alarm)
        signal.setitimer(signal.ITIMER_REAL, float(timeout_s))  # type: ignore[arg-type]
    try:
        rows, per_user = run_cell(config, cell, split)
        return CellOutcome(cell, rows, per_user)
    except BaseException as error:
        if interrupts.is_user_interrupt(error) or isinstance(error, GeneratorExit):
            raise
        message = clip(_reason(error, timeout_s), MAX_REASON)
        return CellOutcome(cell, failed_rows(config, cell, message), None, message, traceback.format_exc())
    finally:
        if use_alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)


def _reason(error: BaseException, timeout_s: float | None) -> str:
    if isinstance(error, CellTimeout):
        return f"timed out after {timeout_s:g} s (execution.timeout_s)"
    if isinstance(error, MemoryError):
        return "out of memory (MemoryError); lower k or the evaluation's memory_budget_mb, or use fewer jobs"
    exited = interrupts.describe_exit(error)
    if exited is not None:
        return f"the model's code {exited}"
    return f"{type(error).__name__}: {error}"


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def cores() -> int:
    """Cores this process may run on (its CPU affinity, else the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def default_jobs(threads: int) -> int:
    """Cells at once when the config does not say: as many as fill the cores."""
    return max(1, cores() // threads)


def resolve_jobs(config: ExperimentConfig, jobs: int | None = None) -> int:
    """Cells at once: ``jobs`` (``--jobs``), else ``execution.jobs``, else :func:`default_jobs`."""
    return jobs or config.execution.jobs or default_jobs(config.execution.threads)


def limit_threads(threads: int) -> None:
    """Cap BLAS/OpenMP (threadpoolctl) and numba at ``threads`` in this process, for good."""
    import numba
    from threadpoolctl import threadpool_limits

    threadpool_limits(threads)  # stays in force: only a context exit or restore would undo it
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))  # type: ignore[attr-defined]
    _BUDGET[0] = threads


_BUDGET = [0]


def cell_threads() -> int:
    """The threads a cell may use here: a model whose library takes a thread count
    (``num_threads=0`` meaning "all cores") passes this instead, so it keeps to the budget."""
    return _BUDGET[0] or cores()
